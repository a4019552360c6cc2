-- Every series (metric, entity, entity_type, powertrain) of the reported figures, numbered:
-- series_id, the key the models join a series' figures on (one integer rather than four texts).
-- Incremental on DuckDB: a series keeps its number from build to build, so the figures kept from
-- earlier builds and those rebuilt now agree; a new series gets the next numbers. A series whose
-- figures are all gone keeps its row (it numbers nothing). Built whole, the numbers follow the texts.
{{ config(materialized=incremental_on_duckdb(), incremental_strategy='append') }}

with

{% if is_incremental() %}

new_series as (

    select distinct metric, entity, entity_type, powertrain
    from {{ changed_figures() }} as changed
    where not exists (
        select 1 from {{ this }} as known
        where {{ same_series('known', 'changed') }}
    )

),

numbered as (

    select
        metric,
        entity,
        entity_type,
        powertrain,
        (select coalesce(max(series_id), 0) from {{ this }})
            + row_number() over (order by metric, entity, entity_type, powertrain) as series_id

    from new_series

)

{% else %}

numbered as (

    select
        metric,
        entity,
        entity_type,
        powertrain,
        row_number() over (order by metric, entity, entity_type, powertrain) as series_id

    from {{ ref('int_all_reported_figures') }}
    group by metric, entity, entity_type, powertrain

)

{% endif %}

select * from numbered
