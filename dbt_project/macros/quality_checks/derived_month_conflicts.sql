-- A single month as a source reports it against the same month derived from two year-to-date
-- figures (Jan-Nov less Jan-Oct), when their ranges cannot agree (macros/ranges.sql): a
-- conflicting_reports finding, as two reports of one figure that disagree are.
-- The SQL of the view quality.dq_derived_month_conflicts, over the inputs it is given: the view
-- gives it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql).

{% macro check_derived_month_conflicts(monthly_figures) -%}

with

months as (

    select * from {{ monthly_figures }}
    where reported_units is not null
        and derived_units_qualifier is not null

),

conflicts as (

    select
        *,
        case
            when reported_units_low > derived_units_high then reported_units_low - derived_units_high
            else derived_units_low - reported_units_high
        end as units_apart

    from months
    where reported_units_low > derived_units_high
        or derived_units_low > reported_units_high

),

findings as (

    select
        'conflicting_reports' as check_name,
        'warning' as severity,
        entity,
        month as period_start,
        reported_period_end as period_end,
        {{ figure_subject_text() }} || ' for ' || {{ period_text('month', 'reported_period_end') }} || ': '
            || reported_source_id || ' reports '
            || case reported_units_qualifier when 'approx' then 'about ' when 'at_least' then 'at least ' else '' end
            || {{ format_units('reported_units') }}
            || case when reported_units_qualifier = 'approx'
                then ' (' || {{ format_units('reported_units_low') }} || ' to ' || {{ format_units('reported_units_high') }} || ')'
                else '' end
            || ' units for the month, but the year-to-date figures give '
            || case derived_units_qualifier when 'approx' then 'about ' when 'at_least' then 'at least ' else '' end
            || {{ format_units('derived_units') }}
            || case when derived_units_qualifier = 'approx'
                then ' (' || {{ format_units('derived_units_low') }} || ' to ' || {{ format_units('derived_units_high') }} || ')'
                else '' end
            || ' (' || {{ format_units('year_to_date_units') }} || ' up to ' || cast(year_to_date_period_end as {{ dbt.type_string() }})
            || ' less ' || {{ format_units('previous_units') }} || ' up to ' || cast(previous_period_end as {{ dbt.type_string() }})
            || ', ' || {{ list_to_text(list_of(['year_to_date_source_id', 'previous_source_id'])) }} || '), '
            || {{ format_units('units_apart') }} || ' units apart.'
            as details,
        {{ list_of(['reported_source_id', 'year_to_date_source_id', 'previous_source_id']) }} as source_ids,
        {{ list_of(['reported_figure_ref', 'year_to_date_figure_ref', 'previous_figure_ref']) }} as figure_refs

    from conflicts

)

select * from findings

{%- endmacro %}
