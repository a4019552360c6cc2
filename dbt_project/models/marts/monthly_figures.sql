-- One value per series (entity, entity_type, metric, powertrain) and calendar month: the single
-- month a source reports ('reported', a January year-to-date figure included), else the
-- difference of two year-to-date figures of the same year ending in consecutive months
-- ('derived': Jan-Nov less Jan-Oct). A derived month is published only when a qualifier follows
-- from its two figures and it is not negative (a year-to-date total below the previous one is a
-- nested_period_exceeds finding, not a month). With the same month a year earlier, the growth.

-- Incremental on DuckDB (macros/incremental.sql): a changed figure ending in month M can change
-- the months M and M + 1 of its series (int_monthly_figures) and their growth a year on.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ restamp_run_id() }}",
    pre_hook="{{ delete_changed() }}",
    meta={'changed_since': 'month', 'changed_rows': in_changed_series(month_within('target.month', 'changed', [0, 1, 12, 13]))}
) }}

with

months as {{ inlined(filtered_when_incremental=true) }} (

    select * from {{ ref('int_monthly_figures') }} as months
    {% if is_incremental() -%}
    -- the months rebuilt, and the months a year before them that they are compared with
    where {{ rows_changed_by(
        in_changed_series(month_within('target.month', 'changed', [-12, -11, 0, 1, 12, 13])), 'months', since='month', months_before=12
    ) }}
    {%- endif %}

),

chosen as (

    select
        series_id,
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

-- each month beside the same month a year earlier (months are first days: a year earlier is exact)
paired as (

    select
        chosen.*,
        prior_year.units as prior_units,
        {%- for column in ['first_figure_ref', 'second_figure_ref', 'first_source_id', 'second_source_id'] %}
        prior_year.{{ column }} as prior_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from chosen
    left join chosen as prior_year
        on chosen.series_id = prior_year.series_id
        and chosen.month = cast({{ dbt.dateadd('year', 1, 'prior_year.month') }} as date)

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

)

select * from final
{% if is_incremental() -%}
where {{ changed_rows(config.get('meta'), 'final') }}
{%- endif %}
