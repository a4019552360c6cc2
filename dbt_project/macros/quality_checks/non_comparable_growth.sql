-- A growth rate computed across periods that are not comparable (growth_rates'
-- comparable_periods is false: the prior period differs in length or months). A notice, not a
-- contradiction.
-- The SQL of the view quality.dq_non_comparable_growth, over the inputs it is given: the view
-- gives it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql).

{% macro check_non_comparable_growth(growth) -%}

with

growth as (

    select * from {{ growth }}

),

findings as (

    select
        'non_comparable_growth' as check_name,
        'info' as severity,
        entity,
        period_start,
        period_end,
        {{ figure_subject_text() }} || ' of ' || {{ format_units('units') }} || ' for '
            || {{ period_text('period_start', 'period_end') }} || ' are compared with the ' || {{ format_units('prior_units') }}
            || ' reported for ' || {{ period_text('prior_period_start', 'prior_period_end') }}
            || ', which is not the same period a year earlier: the computed '
            || {{ format_pct('computed_yoy_pct') }} || ' is not a year-on-year growth rate (sources: '
            || {{ list_to_text('source_ids') }} || ').'
            as details,
        source_ids,
        figure_refs

    from growth
    where computed_yoy_pct is not null
        and not comparable_periods

)

select * from findings

{%- endmacro %}
