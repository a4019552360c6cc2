-- One row per reported figure (metric, entity, entity_type, powertrain, period): when several
-- sources quote the same figure, keep the most exact one (exact > approx > at_least), then the
-- lowest source_id.
-- A table, not a view: the marts and several data tests read it, so it is computed once per build.
{{ config(materialized='table') }}

with

figures as (

    select * from {{ ref('int_all_reported_figures') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by metric, entity, entity_type, powertrain, period_start, period_end
            order by
                case units_qualifier
                    when 'exact' then 1
                    when 'approx' then 2
                    when 'at_least' then 3
                    else 4
                end,
                source_id
        ) as figure_rank

    from figures

),

deduplicated as (

    select
        metric,
        entity,
        entity_type,
        powertrain,
        period_start,
        period_end,
        units,
        units_qualifier,
        units_step,
        reported_yoy_pct,
        source_id,
        quote,
        figure_ref

    from ranked
    where figure_rank = 1

)

select * from deduplicated
