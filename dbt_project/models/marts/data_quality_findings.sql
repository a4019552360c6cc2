-- Where the sources contradict each other: every check's findings in one table. Findings are
-- warnings, never failures; each states the figures involved, their periods and sources.

-- Incremental on DuckDB (macros/incremental.sql, macros/findings_scope.sql): a run deletes the
-- findings its changed figures can change (same entity, or the group of a brand; the periods each
-- check compares) and inserts them anew, each check run over only the inputs those findings read;
-- every other finding stays as it was. A full build reads the checks' views whole.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ restamp_run_id() }}",
    pre_hook="{{ delete_changed_findings() }}"
) }}

-- The checks' inputs, which an incremental build reads directly (macros/findings_scope.sql):
-- depends_on: {{ ref('int_reported_figures') }}
-- depends_on: {{ ref('int_all_reported_figures') }}
-- depends_on: {{ ref('int_monthly_figures') }}
-- depends_on: {{ ref('growth_rates') }}
-- depends_on: {{ ref('stg_landing__brands') }}
-- depends_on: {{ ref('localization_timeline') }}

{% set checks = [
    'dq_brand_units_exceed_group',
    'dq_reported_yoy_mismatch',
    'dq_implied_prior_contradiction',
    'dq_nested_period_exceeds',
    'dq_conflicting_reports',
    'dq_milestones_out_of_order',
    'dq_non_comparable_growth',
    'dq_months_exceed_year_to_date',
    'dq_derived_month_conflicts',
] %}

with

findings as (

    {% for check in checks -%}
    select
        check_name,
        severity,
        entity,
        period_start,
        period_end,
        details,
        source_ids,
        figure_refs

    {% if is_incremental() -%}
    from (
        {{ rebuilt_findings(check) | indent(8) }}
    ) as {{ check }}
    {%- else -%}
    from {{ ref(check) }}
    {%- endif %}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

final as (

    select
        check_name,
        severity,
        entity,
        period_start,
        period_end,
        details,
        source_ids,
        figure_refs,
        {{ run_id_stamp() }}

    from findings
    {% if is_incremental() -%}
    -- the findings the pre-hook deleted, no others (a check's inputs may give more)
    where {{ findings_rebuilt('findings') }}
    {%- endif %}

)

select * from final
