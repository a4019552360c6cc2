-- A figure for a period above the same series' figure for a longer period containing it
-- (a Jan-Nov figure above the same year's full-year figure, or above a cumulative total), each
-- figure as its range (macros/ranges.sql): flagged only when the inner figure's lowest value is
-- above the outer one's highest. A year-to-date total below the previous month's is one of these:
-- monthly_figures then derives no month from the two (it would be negative).
-- The SQL of the view quality.dq_nested_period_exceeds, over the inputs it is given: the view
-- gives it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql). `figures` are the inner figures checked,
-- `outer_figures` (by default the same) the longer periods they are checked against.

{% macro check_nested_period_exceeds(figures, outer_figures=none) -%}

{%- set inputs = [('figures', figures)] -%}
{%- if outer_figures is not none %}{% do inputs.append(('outer_figures', outer_figures)) %}{% endif %}

with
{% for name, relation in inputs %}
{{ name }} as (

    select
        *,
        -- short: at most 32 days (a month); its 32-day bucket, counted from a fixed day
        period_start is not null
            and {{ dbt.datediff('period_start', 'period_end', 'day') }} <= 31 as is_short,
        cast(floor({{ dbt.datediff("cast('1900-01-01' as date)", 'coalesce(period_start, period_end)', 'day') }} / 32.0)
            as {{ dbt.type_bigint() }}) as start_bucket

    from {{ relation }}
    where units is not null

),
{% endfor %}
-- A short period that contains another, different one: the two cannot both be whole calendar
-- months (a month within a month is that month), so their series has a short figure that is not
-- one. Series of whole months alone, as monthly feeds are, have no such pair: the short pairings
-- below look only at the few series that do (at ten million figures, two joins of every figure
-- with every other of its bucket that found nothing cost 25 s).
odd_series as (
    {% for name, relation in inputs %}
    select series_id
    from {{ name }}
    where is_short
        and not (
            extract(day from period_start) = 1
            and period_end = cast({{ dbt.last_day('period_start', 'month') }} as date)
        )
    {% if not loop.last %}
    union
    {% endif %}
    {% endfor %}
),

short_figures as (
    select * from figures
    where is_short and series_id in (select series_id from odd_series)
),

short_outer_figures as (
    select * from {{ 'figures' if outer_figures is none else 'outer_figures' }}
    where is_short and series_id in (select series_id from odd_series)
),

-- Comparing every pair of figures of a series costs its length squared (a decade of months:
-- 14,400 pairs a series). But a period of at most 32 days can only contain periods starting in
-- its own 32-day bucket or the next, which an equality join finds directly: only the longer
-- periods are compared with every figure of their series.
findings as (
    {% for pairing in ['longer_outer', 'same_bucket', 'next_bucket'] %}

    select
        'nested_period_exceeds' as check_name,
        'warning' as severity,
        inner_figure.entity,
        inner_figure.period_start,
        inner_figure.period_end,
        {{ figure_subject_text('inner_figure') }} || ' of ' || {{ figure_range_text('inner_figure') }} || ' for '
            || {{ period_text('inner_figure.period_start', 'inner_figure.period_end') }}
            || ' are ' || {{ format_units(units_low('inner_figure') ~ ' - ' ~ units_high('outer_figure')) }} || ' more than the '
            || {{ figure_range_text('outer_figure') }} || ' reported for '
            || {{ period_text('outer_figure.period_start', 'outer_figure.period_end') }}
            || ', a longer period containing it (sources: '
            || {{ list_to_text(list_of(['inner_figure.source_id', 'outer_figure.source_id'])) }} || ').'
            as details,
        {{ list_of(['inner_figure.source_id', 'outer_figure.source_id']) }} as source_ids,
        {{ list_of(['inner_figure.figure_ref', 'outer_figure.figure_ref']) }} as figure_refs

    {% if pairing == 'longer_outer' -%}
    from figures as inner_figure
    inner join {{ 'figures' if outer_figures is none else 'outer_figures' }} as outer_figure
    {%- else -%}
    from short_figures as inner_figure
    inner join short_outer_figures as outer_figure
    {%- endif %}
        on inner_figure.series_id = outer_figure.series_id
        {% if pairing == 'same_bucket' -%}
        and inner_figure.start_bucket = outer_figure.start_bucket
        {%- elif pairing == 'next_bucket' -%}
        and inner_figure.start_bucket = outer_figure.start_bucket + 1
        {%- endif %}
    where {{ 'not ' if pairing == 'longer_outer' }}outer_figure.is_short
        and {{ period_contains(
            'outer_figure.period_start', 'outer_figure.period_end',
            'inner_figure.period_start', 'inner_figure.period_end'
        ) }}
        and not {{ same_period(
            'outer_figure.period_start', 'outer_figure.period_end',
            'inner_figure.period_start', 'inner_figure.period_end'
        ) }}
        -- no value of the ranges agrees (an 'at least' outer figure has no upper bound: never)
        and {{ units_low('inner_figure') }} > {{ units_high('outer_figure') }}
    {% if not loop.last %}
    union all
    {% endif %}
    {% endfor %}

)

select * from findings

{%- endmacro %}
