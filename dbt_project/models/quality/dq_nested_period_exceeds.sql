-- A figure for a period above the same series' figure for a longer period containing it
-- (a Jan-Nov figure above the same year's full-year figure, or above a cumulative total).

with

figures as (

    select * from {{ ref('int_reported_figures') }}
    where units is not null

),

findings as (

    select
        'nested_period_exceeds' as check_name,
        'warning' as severity,
        inner_figure.entity,
        inner_figure.period_start,
        inner_figure.period_end,
        {{ figure_subject_text('inner_figure') }} || ' of ' || {{ figure_units_text('inner_figure') }} || ' for '
            || {{ period_text('inner_figure.period_start', 'inner_figure.period_end') }}
            || ' are ' || {{ format_units('inner_figure.units - outer_figure.units') }} || ' more than the '
            || {{ figure_units_text('outer_figure') }} || ' reported for '
            || {{ period_text('outer_figure.period_start', 'outer_figure.period_end') }}
            || ', a longer period containing it (sources: '
            || {{ list_to_text(list_of(['inner_figure.source_id', 'outer_figure.source_id'])) }} || ').'
            as details,
        {{ list_of(['inner_figure.source_id', 'outer_figure.source_id']) }} as source_ids,
        {{ list_of(['inner_figure.figure_ref', 'outer_figure.figure_ref']) }} as figure_refs

    from figures as inner_figure
    inner join figures as outer_figure
        on {{ same_series('inner_figure', 'outer_figure') }}
    where {{ period_contains(
            'outer_figure.period_start', 'outer_figure.period_end',
            'inner_figure.period_start', 'inner_figure.period_end'
        ) }}
        and not {{ same_period(
            'outer_figure.period_start', 'outer_figure.period_end',
            'inner_figure.period_start', 'inner_figure.period_end'
        ) }}
        and inner_figure.units > outer_figure.units
        -- an 'at least' outer figure can be larger than stated
        and coalesce(outer_figure.units_qualifier, 'exact') <> 'at_least'

)

select * from findings
