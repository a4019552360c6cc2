-- How a group's sales total splits by brand, by powertrain (NEV / non-NEV) and by channel
-- (exports / domestic), for every period in which the group reports a sales total.
-- Each dimension has reported parts (brands, NEV, exports) and one remainder segment
-- (the group total minus the parts); shares are of the group total and never rescaled.

-- Incremental on DuckDB (macros/incremental.sql): a group's mix in a period reads only the
-- figures of that group and its brands in that period, so a run rebuilds the mix of the groups
-- and periods of the figures it changed, and keeps every other row.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ restamp_run_id() }}",
    pre_hook="{{ delete_changed() }}",
    meta={'changed_since': 'period_end', 'changed_rows_macro': 'in_changed_group_period'}
) }}

with

figures as {{ inlined() }} (

    select * from {{ ref('int_reported_figures') }}
    where units is not null

),

brands as (

    select * from {{ ref('stg_landing__brands') }}

),

group_totals as (

    select
        entity as group_name,
        period_start,
        period_end,
        units as group_units,
        figure_ref as total_figure_ref,
        source_id as total_source_id

    from figures
    where metric = 'sales'
        and entity_type = 'group'
        and powertrain = 'all'

),

{% if is_incremental() -%}
-- the groups and periods whose mix this run rebuilds: the other parts find no total to join
changed_group_totals as (

    select * from group_totals
    where {{ changed_rows(config.get('meta'), 'group_totals') }}

),
{%- endif %}

reported_parts as (

    select
        brands.group_name,
        figures.period_start,
        figures.period_end,
        'brand' as mix_dimension,
        figures.entity as segment,
        'Not broken out' as remainder_segment,
        figures.units,
        figures.figure_ref,
        figures.source_id

    from figures
    inner join brands
        on figures.entity = brands.brand
    where figures.metric = 'sales'
        and figures.entity_type = 'brand'
        and figures.powertrain = 'all'

    union all

    select
        entity as group_name,
        period_start,
        period_end,
        'powertrain' as mix_dimension,
        'NEV' as segment,
        'Non-NEV' as remainder_segment,
        units,
        figure_ref,
        source_id

    from figures
    where metric = 'sales'
        and entity_type = 'group'
        and powertrain = 'nev'

    union all

    select
        entity as group_name,
        period_start,
        period_end,
        'channel' as mix_dimension,
        'Exports' as segment,
        'Domestic' as remainder_segment,
        units,
        figure_ref,
        source_id

    from figures
    where metric = 'exports'
        and entity_type = 'group'
        and powertrain = 'all'

),

parts as (

    select
        group_totals.group_name,
        group_totals.period_start,
        group_totals.period_end,
        group_totals.group_units,
        reported_parts.mix_dimension,
        reported_parts.segment,
        reported_parts.remainder_segment,
        reported_parts.units,
        -- the lineage as the four texts: lists are built once per published row, below
        reported_parts.figure_ref as part_figure_ref,
        reported_parts.source_id as part_source_id,
        group_totals.total_figure_ref,
        group_totals.total_source_id

    from {{ 'changed_group_totals' if is_incremental() else 'group_totals' }} as group_totals
    inner join reported_parts
        on group_totals.group_name = reported_parts.group_name
        and {{ null_safe_equals('group_totals.period_start', 'reported_parts.period_start') }}
        and group_totals.period_end = reported_parts.period_end

),

remainders as (

    select
        group_name,
        period_start,
        period_end,
        group_units,
        mix_dimension,
        remainder_segment as segment,
        cast(group_units - sum(units) as {{ dbt.type_bigint() }}) as units,
        -- the total and every part subtracted from it
        {{ concat_lists(list_agg('part_figure_ref'), list_of(['total_figure_ref'])) }} as figure_refs,
        {{ concat_lists(list_agg('part_source_id'), list_of(['total_source_id'])) }} as source_ids

    from parts
    group by
        group_name,
        period_start,
        period_end,
        group_units,
        mix_dimension,
        remainder_segment,
        -- one total per group and period: these do not split the groups
        total_figure_ref,
        total_source_id

),

segments as (

    select
        group_name,
        period_start,
        period_end,
        group_units,
        mix_dimension,
        segment,
        units,
        {{ list_of(['part_figure_ref', 'total_figure_ref']) }} as figure_refs,
        {{ list_of(['part_source_id', 'total_source_id']) }} as source_ids

    from parts

    union all

    select
        group_name,
        period_start,
        period_end,
        group_units,
        mix_dimension,
        segment,
        units,
        figure_refs,
        source_ids

    from remainders
    -- brands not broken out only show when something is left over
    where mix_dimension <> 'brand'
        or units > 0

),

final as (

    select
        group_name,
        period_start,
        period_end,
        mix_dimension,
        segment,
        units,
        cast(units as {{ type_double() }}) / nullif(group_units, 0) as share_of_group,
        group_units,
        source_ids,
        figure_refs,
        {{ run_id_stamp() }}

    from segments

)

select * from final
