-- Every reported sales and exports figure, stacked with a metric column and a figure_ref, as
-- the sources report them: several sources may report the same figure (key), even differently.
-- units_step is how finely an approximate figure is written (flows/stages/precision.py): it stands for
-- units +/- units_step / 2 (macros/ranges.sql); null for exact and 'at least' figures.
-- A view: its rows of an unchanged figure key are those the last build tested, so an incremental
-- build's data tests read only the changed keys' (macros/incremental.sql, meta.changed_rows).
{{ config(meta={'changed_since': 'period_end', 'changed_rows': in_changed_series(same_period('target.period_start', 'target.period_end', 'changed.period_start', 'changed.period_end'))}) }}

with

sales as (

    select * from {{ ref('stg_landing__sales') }}

),

exports as (

    select * from {{ ref('stg_landing__exports') }}

),

sales_steps as (

    select * from {{ source('landing', 'sales_units_steps') }}

),

exports_steps as (

    select * from {{ source('landing', 'exports_units_steps') }}

),

figures as (

    select 'sales' as metric, {{ figure_ref('sales') }} as figure_ref, sales.*,
        cast(sales_steps.units_step as {{ dbt.type_bigint() }}) as units_step
    from sales
    left join sales_steps
        on sales.source_file = sales_steps._file
        and sales.source_line = sales_steps._line

    union all

    select 'exports' as metric, {{ figure_ref('exports') }} as figure_ref, exports.*,
        cast(exports_steps.units_step as {{ dbt.type_bigint() }}) as units_step
    from exports
    left join exports_steps
        on exports.source_file = exports_steps._file
        and exports.source_line = exports_steps._line

)

select * from figures
