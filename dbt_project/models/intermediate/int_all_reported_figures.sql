-- Every reported sales and exports figure, stacked with a metric column and a figure_ref, as
-- the sources report them: several sources may report the same figure (key), even differently.

with

sales as (

    select * from {{ ref('stg_landing__sales') }}

),

exports as (

    select * from {{ ref('stg_landing__exports') }}

),

figures as (

    select 'sales' as metric, {{ figure_ref('sales') }} as figure_ref, sales.* from sales

    union all

    select 'exports' as metric, {{ figure_ref('exports') }} as figure_ref, exports.* from exports

)

select * from figures
