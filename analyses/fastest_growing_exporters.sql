-- Question: which exporters are growing their exports fastest?
--
-- One row per exporter (a country, group or brand, and powertrain: 'nev' counts new-energy
-- vehicles only) with its most recent year-on-year export growth, ranked fastest first. The
-- growth is the rate the source reports; where none is reported, the rate computed against the
-- prior figure, but only when the two periods are comparable (same months a year apart).
-- `basis` says which. Units can be null when a source gives only the growth rate.
--
-- Run: outbound sql -f analyses/fastest_growing_exporters.sql
with export_growth as (
    select
        entity,
        entity_type,
        powertrain,
        period_start,
        period_end,
        units,
        coalesce(reported_yoy_pct, case when comparable_periods then computed_yoy_pct end) as yoy_pct,
        case when reported_yoy_pct is not null then 'reported' else 'computed' end as basis
    from marts.growth_rates
    where metric = 'exports'
),

latest_growth as (
    select *
    from export_growth
    where yoy_pct is not null
    qualify row_number() over (partition by entity, entity_type, powertrain order by period_end desc, period_start desc) = 1
)

select
    rank() over (order by yoy_pct desc) as growth_rank,
    entity,
    entity_type,
    powertrain,
    period_start,
    period_end,
    units,
    round(yoy_pct, 1) as yoy_pct,
    basis
from latest_growth
order by growth_rank, entity, powertrain;
