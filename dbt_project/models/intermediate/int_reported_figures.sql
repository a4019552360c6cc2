-- One row per reported figure (metric, entity, entity_type, powertrain, period): when several
-- sources quote the same figure, keep the most exact one (exact > approx > at_least), then the
-- lowest source_id.
-- series_id is the series' number in int_series (stable from build to build): the models
-- downstream join figures of a series on it, a number, rather than on four texts;
-- reports is how many reports of the figure there are (conflicting_reports compares those).
-- The contracts reject two rows of one feed with the same figure and source, so only a series
-- quoted by several sources can hold a figure twice: only those are ranked, not every figure.
-- A table, not a view: the marts and several data tests read it, so it is computed once per build.
-- Incremental on DuckDB (macros/incremental.sql): a run rebuilds only the figures whose keys it
-- changed (a figure is its reports of one key, so nothing else can change).
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='append',
    pre_hook="{{ delete_changed() }}",
    meta={'changed_since': 'period_end', 'changed_rows': in_changed_series(same_period('target.period_start', 'target.period_end', 'changed.period_start', 'changed.period_end'))}
) }}

{% set columns = [
    'metric', 'entity', 'entity_type', 'powertrain', 'period_start', 'period_end', 'units',
    'units_qualifier', 'units_step', 'reported_yoy_pct', 'source_id', 'quote', 'figure_ref'
] %}

with

figures as {{ inlined(filtered_when_incremental=true) }} (

    select * from {{ ref('int_all_reported_figures') }} as figures
    {% if is_incremental() -%}
    where {{ changed_rows(config.get('meta'), 'figures') }}
    {%- endif %}

),

series_sources as (

    select
        metric,
        entity,
        entity_type,
        powertrain,
        count(distinct source_id) > 1 as has_several_sources

    from figures
    group by metric, entity, entity_type, powertrain

),

series as (

    select numbers.series_id, series_sources.*
    from series_sources
    inner join {{ ref('int_series') }} as numbers
        on {{ same_series('series_sources', 'numbers') }}

),

numbered as {{ inlined(filtered_when_incremental=true) }} (

    select
        {% for column in columns %}figures.{{ column }},{% endfor %}
        series.series_id,
        series.has_several_sources

    from figures
    inner join series
        on {{ same_series('figures', 'series') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by series_id, period_start, period_end
            order by
                case units_qualifier
                    when 'exact' then 1
                    when 'approx' then 2
                    when 'at_least' then 3
                    else 4
                end,
                source_id
        ) as figure_rank,
        count(*) over (partition by series_id, period_start, period_end) as reports

    from numbered
    where has_several_sources

),

deduplicated as (

    select {{ columns | join(', ') }}, series_id, 1 as reports
    from numbered
    where not has_several_sources

    union all

    select {{ columns | join(', ') }}, series_id, reports
    from ranked
    where figure_rank = 1

)

select * from deduplicated
