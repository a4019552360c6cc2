{#
    data_quality_findings built incrementally (issue 19; macros/incremental.sql). A finding names
    its check, entity and period, not its series, so what a run's changed figures can change is
    found per check by entity and period: `finding_depends_on` is, for each check, the findings a
    changed figure can add, change or remove (its figure, the figures compared with it). A run
    deletes those findings (pre-hook `delete_changed_findings`) and inserts them anew: each check's
    SQL (macros/quality_checks/) run over only the inputs those findings read (`rebuilt_findings`),
    its output kept where the same `findings_rebuilt` holds. So the delete and the insert agree by
    construction, and the inputs need only be enough, never exact.

    Each check's dependency, for a changed figure C of entity E:
    - non_comparable_growth, reported_yoy_mismatch: the growth rates of E that C can change
      (growth_depends_on: C's period, or starting within 13 months after it ends).
    - implied_prior_contradiction: E's findings for C's period (C implies a prior) and for the
      periods whose prior period (a year earlier) contains C's or lies within it (C is compared).
    - nested_period_exceeds: E's findings for C's period and for the periods within it (C as the
      inner or the outer figure).
    - conflicting_reports: E's findings for C's period (two reports of it), and for the single
      months C serves in int_monthly_figures (the month C ends in and the next: a month reported
      against the month two year-to-date figures derive).
    - months_exceed_year_to_date: E's findings for the years of those months (the months of a year
      add up to each year-to-date figure).
    - brand_units_exceed_group: for C's period, the group C is (a group total) or belongs to (a
      brand's sales, by stg_landing__brands; a run whose brands changed records every figure).
    - milestones_out_of_order: every finding (plant launches, few: rebuilt whole every run).
#}

{# The checks whose findings depend on the changed figures: check_name -> the changed periods it reads. #}
{% macro checks_of_changed_figures() -%}
    {{ return({
        'non_comparable_growth': changed_periods(),
        'reported_yoy_mismatch': changed_periods(),
        'implied_prior_contradiction': changed_periods(),
        'nested_period_exceeds': changed_periods(),
        'conflicting_reports': changed_periods(),
        'months_exceed_year_to_date': changed_periods(),
        'brand_units_exceed_group': changed_group_periods(),
    }) }}
{%- endmacro %}

{# The periods of the changed figures, per entity (every metric, entity type and powertrain). #}
{% macro changed_periods() -%}
    (
        select distinct entity, period_start, period_end
        from {{ changed_figures() }} as changed_figure
    )
{%- endmacro %}

{#
    The groups whose brands-exceed-their-group findings a changed sales figure can change, with
    its period: a group total's own entity, a brand's group.
#}
{% macro changed_group_periods() -%}
    (
        select entity, period_start, period_end
        from {{ changed_figures() }} as changed_figure
        where metric = 'sales'

        union

        select brands.group_name as entity, changed_figure.period_start, changed_figure.period_end
        from {{ changed_figures() }} as changed_figure
        inner join {{ ref('stg_landing__brands') }} as brands
            on changed_figure.entity = brands.brand
        where changed_figure.metric = 'sales'
            and changed_figure.entity_type = 'brand'
    )
{%- endmacro %}

{#
    Condition: a finding of `check_name` (`finding`: entity, period_start, period_end) that a
    changed period (`changed`, from checks_of_changed_figures) can change. Also the inputs' filter
    where a check's input row is the finding's own figure (growth rates, figures checked).
#}
{% macro finding_depends_on(check_name, finding, changed) -%}
    {%- set finding_start, finding_end = finding ~ '.period_start', finding ~ '.period_end' -%}
    {%- set changed_start, changed_end = changed ~ '.period_start', changed ~ '.period_end' -%}
    {%- set prior_start, prior_end = prior_period(finding) -%}
    {{ finding }}.entity = {{ changed }}.entity
    and
    {%- if check_name in ('non_comparable_growth', 'reported_yoy_mismatch') %}
    {{ growth_depends_on(finding, changed) }}
    {%- elif check_name == 'implied_prior_contradiction' %}
    (
        {{ same_period(finding_start, finding_end, changed_start, changed_end) }}
        or (
            {{ finding }}.period_start is not null
            and (
                {{ period_contains(prior_start, prior_end, changed_start, changed_end) }}
                or {{ period_contains(changed_start, changed_end, prior_start, prior_end) }}
            )
        )
    )
    {%- elif check_name == 'nested_period_exceeds' %}
    {{ period_contains(changed_start, changed_end, finding_start, finding_end) }}
    {%- elif check_name == 'conflicting_reports' %}
    (
        {{ same_period(finding_start, finding_end, changed_start, changed_end) }}
        or (
            {{ month_within(finding ~ '.period_start', changed, [0, 1]) }}
            and {{ finding }}.period_end = cast({{ dbt.last_day(finding ~ '.period_start', 'month') }} as date)
        )
    )
    {%- elif check_name == 'months_exceed_year_to_date' %}
    {{ year_of_changed_months(finding ~ '.period_start', changed) }}
    {%- elif check_name == 'brand_units_exceed_group' %}
    {{ same_period(finding_start, finding_end, changed_start, changed_end) }}
    {%- else %}
    {{ exceptions.raise_compiler_error('finding_depends_on: no dependency for the check ' ~ check_name) }}
    {%- endif %}
{%- endmacro %}

{# The same period one year earlier (start, end) of a figure's period, as the checks compute it. #}
{% macro prior_period(figure) -%}
    {{ return([
        'cast(' ~ dbt.dateadd('year', -1, figure ~ '.period_start') ~ ' as date)',
        year_earlier_period_end(figure ~ '.period_end'),
    ]) }}
{%- endmacro %}

{# Condition: two periods share a day (a null start is the beginning of time). #}
{% macro periods_overlap(first_start, first_end, second_start, second_end) -%}
    (
        ({{ first_start }} is null or {{ first_start }} <= {{ second_end }})
        and ({{ second_start }} is null or {{ second_start }} <= {{ first_end }})
    )
{%- endmacro %}

{# Condition: a date is in the year of a month a changed figure serves in int_monthly_figures (changed_month, the next). #}
{% macro year_of_changed_months(date, changed) -%}
    {{ year_start(date) }} in (
        {{ year_start(changed_month(changed)) }},
        {{ year_start(dbt.dateadd('month', 1, changed_month(changed))) }}
    )
{%- endmacro %}

{#
    Condition: a row of data_quality_findings this run rebuilds. The pre-hook deletes these rows,
    and the model inserts the rows of its checks' output that meet it: the same rows.
#}
{% macro findings_rebuilt(finding) -%}
    (
        {{ finding }}.check_name = 'milestones_out_of_order'
        {%- for check_name, changed in checks_of_changed_figures().items() %}
        or (
            {{ finding }}.check_name = '{{ check_name }}'
            and exists (
                select 1 from {{ changed }} as changed
                where {{ finding_depends_on(check_name, finding, 'changed') | indent(16) }}
            )
        )
        {%- endfor %}
    )
{%- endmacro %}

{# Pre-hook: delete the findings this run rebuilds. #}
{% macro delete_changed_findings() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as finding
    where {{ findings_rebuilt('finding') }}
    {%- endif -%}
{%- endmacro %}

{#
    A relation's rows (`candidate`) of the entities of the changed periods (`changed`) where
    `condition` holds. A semi join, not `where exists`: DuckDB hashes the entity and checks the
    condition per match, where it decorrelates an exists by every distinct entity and period of
    the relation first (15 times slower on a million figures).
#}
{% macro rows_near_changes(relation, condition, changed=none) -%}
    (
        select candidate.*
        from {{ relation }} as candidate
        semi join {{ changed if changed is not none else changed_periods() }} as changed
            on candidate.entity = changed.entity
            and ({{ condition }})
    )
{%- endmacro %}

{#
    The findings of one check (a dq_ view's name) that this run can change, and maybe others: the
    check's SQL over the inputs they read. The model keeps those that meet findings_rebuilt.
#}
{% macro rebuilt_findings(check) -%}
    {%- set reported_figures = ref('int_reported_figures') -%}
    {%- set monthly_figures = ref('int_monthly_figures') -%}

    {%- if check in ('dq_non_comparable_growth', 'dq_reported_yoy_mismatch') -%}
    {#- the growth rates the findings are: finding_depends_on holds for them (a growth rate is its finding's row) -#}
    {%- set growth = rows_near_changes(ref('growth_rates'), finding_depends_on('non_comparable_growth', 'candidate', 'changed')) -%}
    {%- if check == 'dq_non_comparable_growth' -%}
    {{ return(check_non_comparable_growth(growth=growth)) }}
    {%- else -%}
    {#- and the figures of those rates and of their comparable priors (the check looks the inexact ones up):
        a rate's own figure, its period starting as the changed one or after it, within 13 months of
        its end; and its prior, starting a year before the rate (so no earlier than a year before
        the changed period starts) -#}
    {%- set figures = rows_near_changes(reported_figures,
        null_safe_equals('candidate.period_start', 'changed.period_start')
        ~ ' or (candidate.period_start >= cast('
        ~ dbt.dateadd('year', -1, 'coalesce(changed.period_start, changed.period_end)') ~ ' as date)'
        ~ ' and candidate.period_start <= cast(' ~ dbt.dateadd('month', 13, 'changed.period_end') ~ ' as date))') -%}
    {{ return(check_reported_yoy_mismatch(growth=growth, reported_figures=figures)) }}
    {%- endif -%}

    {%- elif check == 'dq_implied_prior_contradiction' -%}
    {#- the figures whose findings change, and the figures of their series overlapping their prior periods -#}
    {%- set figures = rows_near_changes(reported_figures, finding_depends_on('implied_prior_contradiction', 'candidate', 'changed')) -%}
    {%- set others -%}
    (
        select other.*
        from {{ reported_figures }} as other
        semi join {{ figures }} as figure
            on other.series_id = figure.series_id
            and figure.period_start is not null
            and figure.reported_yoy_pct is not null
            and {{ periods_overlap('other.period_start', 'other.period_end', prior_period('figure')[0], prior_period('figure')[1]) }}
    )
    {%- endset -%}
    {{ return(check_implied_prior_contradiction(figures=figures, others=others)) }}

    {%- elif check == 'dq_nested_period_exceeds' -%}
    {#- the inner figures within a changed period, and the figures overlapping it (an outer one contains an inner one) -#}
    {{ return(check_nested_period_exceeds(
        figures=rows_near_changes(reported_figures, finding_depends_on('nested_period_exceeds', 'candidate', 'changed')),
        outer_figures=rows_near_changes(
            reported_figures,
            periods_overlap('candidate.period_start', 'candidate.period_end', 'changed.period_start', 'changed.period_end')
        )
    )) }}

    {%- elif check == 'dq_conflicting_reports' -%}
    {#- the figures whose findings change: the check compares their reports only (an inner join) -#}
    {{ return(check_conflicting_reports(
        reported_figures=rows_near_changes(reported_figures, finding_depends_on('conflicting_reports', 'candidate', 'changed')),
        all_reported_figures=ref('int_all_reported_figures')
    )) }}

    {%- elif check == 'dq_derived_month_conflicts' -%}
    {#- the months a changed figure serves: every finding of the check that findings_rebuilt holds for is one -#}
    {{ return(check_derived_month_conflicts(
        monthly_figures=rows_near_changes(monthly_figures, month_within('candidate.month', 'changed', [0, 1]))
    )) }}

    {%- elif check == 'dq_months_exceed_year_to_date' -%}
    {#- every month of the years of those months -#}
    {{ return(check_months_exceed_year_to_date(
        monthly_figures=rows_near_changes(monthly_figures, year_of_changed_months('candidate.month', 'changed'))
    )) }}

    {%- elif check == 'dq_brand_units_exceed_group' -%}
    {#- the figures, for the changed periods, of the groups changed and of all their brands -#}
    {%- set members -%}
    (
        select entity, period_start, period_end from {{ changed_group_periods() }} as changed_group

        union all

        select brands.brand as entity, changed_group.period_start, changed_group.period_end
        from {{ changed_group_periods() }} as changed_group
        inner join {{ ref('stg_landing__brands') }} as brands
            on changed_group.entity = brands.group_name
    )
    {%- endset -%}
    {{ return(check_brand_units_exceed_group(
        figures=rows_near_changes(
            reported_figures,
            same_period('candidate.period_start', 'candidate.period_end', 'changed.period_start', 'changed.period_end'),
            changed=members
        ),
        brands=ref('stg_landing__brands')
    )) }}

    {%- elif check == 'dq_milestones_out_of_order' -%}
    {{ return(check_milestones_out_of_order(timeline=ref('localization_timeline'))) }}

    {%- else -%}
    {{ exceptions.raise_compiler_error('rebuilt_findings: no inputs for the check ' ~ check) }}
    {%- endif -%}
{%- endmacro %}
