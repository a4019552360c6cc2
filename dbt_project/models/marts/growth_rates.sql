-- Year-over-year growth of every reported sales and exports figure: the growth rate the
-- source reports (and the prior-year units it implies) next to the growth computed from the
-- prior period's figure when that figure is itself in the data.
-- Shaped for ten million figures (issue 19): one equality join finds the comparable prior of
-- nearly every figure, and only the figures left without one (a series' first year, mostly)
-- look further, for a month-end variant of the same period or the nearest earlier prior. Those
-- look by their keys alone (series, start, end), and one join fetches what their chosen prior
-- says: no intermediate carrying every column of every figure is read twice (DuckDB materializes
-- a CTE read twice; at 10M rows that was a third of the model's time). No window over every
-- figure, and the lineage lists are built once, in the last step.

-- Incremental on DuckDB (macros/incremental.sql): a run rebuilds the growth rates of the figures
-- it changed and of those a changed figure can be the prior of (same series, starting within a year
-- and a month after it ends); every other row stays as it was.
{{ config(
    materialized=incremental_on_duckdb(),
    incremental_strategy='append',
    on_schema_change='fail',
    post_hook="{{ restamp_run_id() }}",
    pre_hook="{{ delete_changed() }}",
    meta={'changed_since': 'period_start', 'changed_rows': in_changed_series(growth_depends_on('target', 'changed'))}
) }}

{#- The figures this build computes: every one, or on an incremental run those it can change.
    Written out where it is read rather than as a CTE: DuckDB materializes a CTE read twice,
    every column of every figure. -#}
{% set figures -%}
    (
        select * from {{ ref('int_reported_figures') }} as figures
        {% if is_incremental() -%}
        where {{ changed_rows(config.get('meta'), 'figures') }}
        {%- endif %}
    )
{%- endset %}


with

priors as {{ inlined(filtered_when_incremental=true) }} (

    -- figures that can serve as a prior: cumulative figures (null period_start) neither get nor
    -- serve as one, and growth-only figures have no units to compare
    select series_id, period_start, period_end, units, figure_ref, source_id
    from {{ ref('int_reported_figures') }}
    where period_start is not null
        and units is not null
        {% if is_incremental() -%}
        -- of the series rebuilt, ending at most a year and a month before the first figure rebuilt
        -- starts: no prior a growth rate may use is older (macros/incremental.sql, growth_depends_on)
        and series_id in (select series_id from {{ figures }} as rebuilt)
        and period_end >= cast({{ dbt.dateadd('month', -13, '(select min(period_start) from ' ~ figures ~ ' as rebuilt)') }} as date)
        {%- endif %}

),

-- The figures without the same months a year earlier (a series' first year, mostly), by their
-- key alone: only these look further, and only keys are carried until their prior is chosen.
without_comparable as (

    select figure.series_id, figure.period_start, figure.period_end
    from {{ figures }} as figure
    left join priors as prior_figure
        on {{ same_months_a_year_earlier('figure', 'prior_figure') }}
    where figure.period_start is not null
        and prior_figure.period_end is null

),

-- the other day a month-end period maps to (28 February after a leap year: Feb 2025 against 28
-- February 2024), when the preferred one is not in the data
month_end_variants as (

    select
        figure.series_id,
        figure.period_start,
        figure.period_end,
        prior_figure.period_start as prior_period_start,
        prior_figure.period_end as prior_period_end,
        true as comparable_periods

    from without_comparable as figure
    inner join priors as prior_figure
        on figure.series_id = prior_figure.series_id
        and prior_figure.period_start = cast({{ dbt.dateadd('year', -1, 'figure.period_start') }} as date)
        and prior_figure.period_end = cast({{ dbt.dateadd('year', -1, 'figure.period_end') }} as date)
        and prior_figure.period_end < figure.period_start
    where cast({{ dbt.dateadd('year', -1, 'figure.period_end') }} as date) <> {{ year_earlier_period_end('figure.period_end') }}

),

not_comparable as (

    select without_comparable.*
    from without_comparable
    left join month_end_variants
        on without_comparable.series_id = month_end_variants.series_id
        and without_comparable.period_start = month_end_variants.period_start
        and without_comparable.period_end = month_end_variants.period_end
    where month_end_variants.period_end is null

),

-- the rest: the latest-ending prior of the series that ends before the period starts, kept
-- when it ends within a year of the start (not comparable)
nearest_priors as (

    {{ nearest_earlier_priors('not_comparable', 'priors', 'series_id, period_start, period_end', payload=['period_start', 'period_end']) }}

),

-- the prior chosen for each figure without a comparable one, with what it says
fallback_priors as (

    select
        chosen.series_id,
        chosen.period_start,
        chosen.period_end,
        chosen.prior_period_start,
        chosen.prior_period_end,
        prior_figure.units as prior_units,
        prior_figure.figure_ref as prior_figure_ref,
        prior_figure.source_id as prior_source_id,
        chosen.comparable_periods

    from (
        select * from month_end_variants

        union all

        select
            series_id,
            period_start,
            period_end,
            prior_period_start,
            prior_period_end,
            case when prior_period_end is not null then false end as comparable_periods
        from nearest_priors
    ) as chosen
    left join priors as prior_figure
        on chosen.series_id = prior_figure.series_id
        and chosen.prior_period_start = prior_figure.period_start
        and chosen.prior_period_end = prior_figure.period_end

),

-- every figure with its prior: the same months a year earlier, else the one chosen above
-- (cumulative figures get none)
chosen as (

    select
        figure.*,
        case when comparable.period_end is not null then comparable.period_start else fallback.prior_period_start end as prior_period_start,
        case when comparable.period_end is not null then comparable.period_end else fallback.prior_period_end end as prior_period_end,
        case when comparable.period_end is not null then comparable.units else fallback.prior_units end as prior_units,
        case when comparable.period_end is not null then comparable.figure_ref else fallback.prior_figure_ref end as prior_figure_ref,
        case when comparable.period_end is not null then comparable.source_id else fallback.prior_source_id end as prior_source_id,
        case when comparable.period_end is not null then true else fallback.comparable_periods end as comparable_periods

    from {{ figures }} as figure
    left join fallback_priors as fallback
        on figure.series_id = fallback.series_id
        and figure.period_start = fallback.period_start
        and figure.period_end = fallback.period_end
    left join priors as comparable
        on {{ same_months_a_year_earlier('figure', 'comparable') }}

),

final as (

    select
        entity,
        entity_type,
        metric,
        powertrain,
        period_start,
        period_end,
        units,
        reported_yoy_pct,
        cast(units as {{ type_double() }})
            / nullif(1 + reported_yoy_pct / 100, 0) as implied_prior_units,
        prior_units,
        (
            cast(units as {{ type_double() }}) / nullif(prior_units, 0) - 1
        ) * 100 as computed_yoy_pct,
        comparable_periods,
        prior_period_start,
        prior_period_end,
        units_qualifier,
        source_id,
        {{ list_of(['source_id', 'prior_source_id']) }} as source_ids,
        {{ list_of(['figure_ref', 'prior_figure_ref']) }} as figure_refs,
        {{ run_id_stamp() }}

    from chosen

)

select * from final
