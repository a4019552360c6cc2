-- One value per series (entity, entity_type, metric, powertrain) and calendar month: the single
-- month a source reports ('reported', a January year-to-date figure included), else the
-- difference of two year-to-date figures of the same year ending in consecutive months
-- ('derived': Jan-Nov less Jan-Oct). A derived month is published only when a qualifier follows
-- from its two figures and it is not negative (a year-to-date total below the previous one is a
-- nested_period_exceeds finding, not a month). With the same month a year earlier, the growth.

with

months as (

    select * from {{ ref('int_monthly_figures') }}

),

chosen as (

    select
        metric,
        entity,
        entity_type,
        powertrain,
        month,
        case when reported_units is not null then 'reported' else 'derived' end as derivation,
        coalesce(reported_units, derived_units) as units,
        case when reported_units is not null then reported_units_qualifier else derived_units_qualifier end as units_qualifier,
        case when reported_units is not null then reported_units_low else greatest(derived_units_low, 0) end as units_low,
        case when reported_units is not null then reported_units_high else derived_units_high end as units_high,
        -- the figures used: the reported month, or the two year-to-date figures
        coalesce(reported_figure_ref, year_to_date_figure_ref) as first_figure_ref,
        case when reported_units is null then previous_figure_ref end as second_figure_ref,
        coalesce(reported_source_id, year_to_date_source_id) as first_source_id,
        case when reported_units is null then previous_source_id end as second_source_id

    from months
    where reported_units is not null
        or (derived_units_qualifier is not null and derived_units >= 0)

),

-- each month beside the same month a year earlier: the months placed again a year later, grouped
-- (one aggregate rather than a self-join)
placed as (

    select 'current' as role, chosen.* from chosen

    union all

    select
        'prior_year' as role,
        metric, entity, entity_type, powertrain,
        cast({{ dbt.dateadd('year', 1, 'month') }} as date) as month,
        derivation, units, units_qualifier, units_low, units_high,
        first_figure_ref, second_figure_ref, first_source_id, second_source_id
    from chosen

),

paired as (

    select
        metric,
        entity,
        entity_type,
        powertrain,
        month,
        {%- set columns = [] %}
        {%- for column in ['derivation', 'units', 'units_qualifier', 'units_low', 'units_high', 'first_figure_ref', 'second_figure_ref', 'first_source_id', 'second_source_id'] %}
        {%- do columns.append("max(case when role = 'current' then " ~ column ~ " end) as " ~ column) %}
        {%- endfor %}
        {%- for column in ['units', 'first_figure_ref', 'second_figure_ref', 'first_source_id', 'second_source_id'] %}
        {%- do columns.append("max(case when role = 'prior_year' then " ~ column ~ " end) as prior_" ~ column) %}
        {%- endfor %}
        {{ columns | join(',\n        ') }}

    from placed
    group by metric, entity, entity_type, powertrain, month

),

final as (

    select
        entity,
        entity_type,
        metric,
        powertrain,
        month,
        units,
        units_qualifier,
        units_low,
        units_high,
        derivation,
        prior_units as prior_year_units,
        (cast(units as {{ type_double() }}) / nullif(prior_units, 0) - 1) * 100 as yoy_pct,
        {{ list_of(['first_source_id', 'second_source_id', 'prior_first_source_id', 'prior_second_source_id']) }} as source_ids,
        {{ list_of(['first_figure_ref', 'second_figure_ref', 'prior_first_figure_ref', 'prior_second_figure_ref']) }} as figure_refs,
        {{ run_id_stamp() }}

    from paired
    where derivation is not null

)

select * from final
