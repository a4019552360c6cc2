-- One row per reported figure (metric, entity, entity_type, powertrain, period): sales and
-- exports stacked with a metric column; when several sources quote the same figure, keep
-- the most exact one (exact > approx > at_least), then the lowest source_id.

with

sales as (

    select * from {{ ref('stg_landing__sales') }}

),

exports as (

    select * from {{ ref('stg_landing__exports') }}

),

figures as (

    select 'sales' as metric, sales.* from sales

    union all

    select 'exports' as metric, exports.* from exports

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
        reported_yoy_pct,
        source_id,
        quote

    from ranked
    where figure_rank = 1

)

select * from deduplicated
