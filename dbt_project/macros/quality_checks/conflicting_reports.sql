-- The same figure (entity, entity_type, metric, powertrain, period) reported differently by two
-- reports: units whose ranges cannot agree, or a different reported_yoy_pct. All reports, not the
-- deduplicated figures. Each figure is its range (macros/ranges.sql): 'about 1.2 million'
-- (1,150,000 to 1,250,000) agrees with 1,199,590; 'at least' X agrees with any units of X or more.
-- Also a single month as a source reports it against the same month derived from two
-- year-to-date figures (monthly_figures), when their ranges cannot agree.
-- The SQL of the view quality.dq_conflicting_reports, over the inputs it is given: the view gives
-- it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql).

{% macro check_conflicting_reports(reported_figures, all_reported_figures) -%}

with

-- only figures reported more than once can disagree: usually few, so the pairs below are found
-- among them rather than by joining every report with every other
reported_twice as (

    select metric, entity, entity_type, powertrain, period_start, period_end
    from {{ reported_figures }}
    where reports > 1

),

figures as (

    select reports.*
    from {{ all_reported_figures }} as reports
    inner join reported_twice
        on {{ same_series('reports', 'reported_twice') }}
        and {{ same_period(
            'reports.period_start', 'reports.period_end',
            'reported_twice.period_start', 'reported_twice.period_end'
        ) }}

),

pairs as (

    select
        first_report.entity,
        first_report.metric,
        first_report.powertrain,
        first_report.period_start,
        first_report.period_end,
        first_report.units as first_units,
        first_report.units_qualifier as first_units_qualifier,
        {{ units_low('first_report') }} as first_low,
        {{ units_high('first_report') }} as first_high,
        first_report.reported_yoy_pct as first_yoy_pct,
        first_report.source_id as first_source_id,
        first_report.figure_ref as first_figure_ref,
        second_report.units as second_units,
        second_report.units_qualifier as second_units_qualifier,
        {{ units_low('second_report') }} as second_low,
        {{ units_high('second_report') }} as second_high,
        second_report.reported_yoy_pct as second_yoy_pct,
        second_report.source_id as second_source_id,
        second_report.figure_ref as second_figure_ref

    from figures as first_report
    inner join figures as second_report
        on {{ same_series('first_report', 'second_report') }}
        and {{ same_period(
            'first_report.period_start', 'first_report.period_end',
            'second_report.period_start', 'second_report.period_end'
        ) }}
        and first_report.figure_ref < second_report.figure_ref

),

conflicts as (

    select * from pairs
    where first_low > second_high
        or second_low > first_high
        or first_yoy_pct <> second_yoy_pct

),

findings as (

    select
        'conflicting_reports' as check_name,
        'warning' as severity,
        entity,
        period_start,
        period_end,
        {{ figure_subject_text() }} || ' for ' || {{ period_text('period_start', 'period_end') }} || ': '
            || first_source_id || ' reports '
            || coalesce(
                case first_units_qualifier when 'approx' then 'about ' when 'at_least' then 'at least ' else '' end
                    || {{ format_units('first_units') }}
                    || case when first_units_qualifier = 'approx'
                        then ' (' || {{ format_units('first_low') }} || ' to ' || {{ format_units('first_high') }} || ')'
                        else '' end
                    || ' units',
                'no units'
            )
            || coalesce(' (' || {{ format_pct('first_yoy_pct') }} || ' year on year)', '')
            || ', ' || second_source_id || ' reports '
            || coalesce(
                case second_units_qualifier when 'approx' then 'about ' when 'at_least' then 'at least ' else '' end
                    || {{ format_units('second_units') }}
                    || case when second_units_qualifier = 'approx'
                        then ' (' || {{ format_units('second_low') }} || ' to ' || {{ format_units('second_high') }} || ')'
                        else '' end
                    || ' units',
                'no units'
            )
            || coalesce(' (' || {{ format_pct('second_yoy_pct') }} || ' year on year)', '')
            || coalesce(', ' || case
                when first_units_qualifier = 'approx' or second_units_qualifier = 'approx'
                    -- how far apart the ranges are
                    then {{ format_units('case when first_low > second_high then first_low - second_high when second_low > first_high then second_low - first_high else 0 end') }}
                else {{ format_units('abs(first_units - second_units)') }}
            end || ' units apart', '')
            || '.'
            as details,
        {{ list_of(['first_source_id', 'second_source_id']) }} as source_ids,
        {{ list_of(['first_figure_ref', 'second_figure_ref']) }} as figure_refs

    from conflicts

)

select * from findings

{%- endmacro %}
