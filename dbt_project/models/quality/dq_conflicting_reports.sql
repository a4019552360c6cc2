-- The same figure (entity, entity_type, metric, powertrain, period) reported differently by two
-- reports: different units, or a different reported_yoy_pct. All reports, not the deduplicated
-- figures. Units reported as 'at least' X agree with any units of X or more.

with

figures as (

    select * from {{ ref('int_all_reported_figures') }}

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
        first_report.reported_yoy_pct as first_yoy_pct,
        first_report.source_id as first_source_id,
        first_report.figure_ref as first_figure_ref,
        second_report.units as second_units,
        second_report.units_qualifier as second_units_qualifier,
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
    where (
            first_units <> second_units
            and not (coalesce(first_units_qualifier, 'exact') = 'at_least' and second_units >= first_units)
            and not (coalesce(second_units_qualifier, 'exact') = 'at_least' and first_units >= second_units)
        )
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
                    || {{ format_units('first_units') }} || ' units',
                'no units'
            )
            || coalesce(' (' || {{ format_pct('first_yoy_pct') }} || ' year on year)', '')
            || ', ' || second_source_id || ' reports '
            || coalesce(
                case second_units_qualifier when 'approx' then 'about ' when 'at_least' then 'at least ' else '' end
                    || {{ format_units('second_units') }} || ' units',
                'no units'
            )
            || coalesce(' (' || {{ format_pct('second_yoy_pct') }} || ' year on year)', '')
            || coalesce(', ' || {{ format_units('abs(first_units - second_units)') }} || ' units apart', '')
            || '.'
            as details,
        {{ list_of(['first_source_id', 'second_source_id']) }} as source_ids,
        {{ list_of(['first_figure_ref', 'second_figure_ref']) }} as figure_refs

    from conflicts

)

select * from findings
