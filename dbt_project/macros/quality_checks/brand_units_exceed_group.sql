-- A group's brands reporting more sales units, together, than the group's own total for the
-- same period and powertrain, each figure as its range (macros/ranges.sql): flagged only when the
-- brands' lowest values add up to more than the total's highest.
-- The SQL of the view quality.dq_brand_units_exceed_group, over the inputs it is given: the view
-- gives it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql).

{% macro check_brand_units_exceed_group(figures, brands) -%}

{#- The sales figures, written out where they are read rather than as a CTE: DuckDB materializes
    a CTE read more than once, every column of every figure. -#}
{%- set sales_figures -%}
    (select * from {{ figures }} as figures where metric = 'sales' and units is not null)
{%- endset %}

with

brands as (

    select * from {{ brands }}

),

-- The brands' sums are one aggregate over the figures; the brands' own figures are read again
-- only for the few sums that exceed their group's total.
brand_sums as (

    select
        brands.group_name,
        figures.powertrain,
        figures.period_start,
        figures.period_end,
        sum(figures.units) as brand_units,
        sum({{ units_low('figures') }}) as brand_units_low

    from {{ sales_figures }} as figures
    inner join brands
        on figures.entity = brands.brand
    where figures.entity_type = 'brand'
    group by brands.group_name, figures.powertrain, figures.period_start, figures.period_end

),

group_totals as (

    select * from {{ sales_figures }} as figures
    where entity_type = 'group'

),

-- The sums are compared first; the brands are listed (text, lists) only where a sum exceeds
-- its group, not for every group and period.
exceeding as (

    select
        brand_sums.*,
        group_totals.figure_ref as group_figure_ref

    from brand_sums
    inner join group_totals
        on brand_sums.group_name = group_totals.entity
        and brand_sums.powertrain = group_totals.powertrain
        and {{ same_period(
            'brand_sums.period_start', 'brand_sums.period_end',
            'group_totals.period_start', 'group_totals.period_end'
        ) }}
    -- an 'at least' total has no upper bound: exceeding it proves nothing
    where brand_sums.brand_units_low > {{ units_high('group_totals') }}

),

brand_totals as (

    select
        exceeding.group_name,
        exceeding.powertrain,
        exceeding.period_start,
        exceeding.period_end,
        exceeding.brand_units,
        exceeding.brand_units_low,
        exceeding.group_figure_ref,
        {{ ordered_text_agg(
            "brand_figures.entity || ' ' || " ~ figure_range_text('brand_figures'),
            "', '",
            ['-brand_figures.units', 'brand_figures.entity']
        ) }} as brand_breakdown,
        {{ list_agg('brand_figures.figure_ref') }} as figure_refs,
        {{ list_agg('brand_figures.source_id') }} as source_ids

    from exceeding
    inner join brands
        on exceeding.group_name = brands.group_name
    inner join {{ sales_figures }} as brand_figures
        on brands.brand = brand_figures.entity
        and brand_figures.entity_type = 'brand'
        and exceeding.powertrain = brand_figures.powertrain
        and {{ same_period(
            'exceeding.period_start', 'exceeding.period_end',
            'brand_figures.period_start', 'brand_figures.period_end'
        ) }}
    group by
        exceeding.group_name,
        exceeding.powertrain,
        exceeding.period_start,
        exceeding.period_end,
        exceeding.brand_units,
        exceeding.brand_units_low,
        exceeding.group_figure_ref

),

findings as (

    select
        'brand_units_exceed_group' as check_name,
        'warning' as severity,
        group_totals.entity,
        group_totals.period_start,
        group_totals.period_end,
        'The brands of ' || group_totals.entity || ' report ' || {{ format_units('brand_totals.brand_units') }}
            || ' sales (' || {{ powertrain_text('group_totals.powertrain') }} || ') together for '
            || {{ period_text('group_totals.period_start', 'group_totals.period_end') }}
            || ' (' || brand_totals.brand_breakdown || '), '
            || {{ format_units('brand_totals.brand_units_low - ' ~ units_high('group_totals')) }} || ' more than the group''s own total of '
            || {{ figure_range_text('group_totals') }} || ' (sources: '
            || {{ list_to_text(concat_lists('brand_totals.source_ids', list_of(['group_totals.source_id']))) }} || ').'
            as details,
        {{ concat_lists('brand_totals.source_ids', list_of(['group_totals.source_id'])) }} as source_ids,
        {{ concat_lists('brand_totals.figure_refs', list_of(['group_totals.figure_ref'])) }} as figure_refs

    from brand_totals
    inner join group_totals
        on brand_totals.group_figure_ref = group_totals.figure_ref

)

select * from findings

{%- endmacro %}
