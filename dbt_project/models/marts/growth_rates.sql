-- Year-over-year growth of every reported sales and exports figure: the growth rate the
-- source reports (and the prior-year units it implies) next to the growth computed from the
-- prior period's figure when that figure is itself in the data.
-- Shaped for ten million figures (issue 19): one equality join finds the comparable prior of
-- nearly every figure, and only the figures left without one (a series' first year, mostly)
-- look further, for a month-end variant of the same period or the nearest earlier prior. No
-- window over every figure, and the lineage lists are built once, in the last step.

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

{% set figure_columns = 'series_id, metric, entity, entity_type, powertrain, period_start, period_end, units, units_qualifier, reported_yoy_pct, source_id, figure_ref' -%}

with

figures as (

    select * from {{ ref('int_reported_figures') }} as figures
    {% if is_incremental() -%}
    where {{ changed_rows(config.get('meta'), 'figures') }}
    {%- endif %}

),

priors as (

    -- figures that can serve as a prior: cumulative figures (null period_start) neither get nor
    -- serve as one, and growth-only figures have no units to compare. (Read again rather than
    -- shared with `figures`: a CTE read twice is materialized, every figure of it.)
    select series_id, period_start, period_end, units, figure_ref, source_id
    from {{ ref('int_reported_figures') }}
    where period_start is not null
        and units is not null
        {% if is_incremental() -%}
        -- of the series rebuilt, ending at most a year and a month before the first figure rebuilt
        -- starts: no prior a growth rate may use is older (macros/incremental.sql, growth_depends_on)
        and series_id in (select series_id from figures)
        and period_end >= cast({{ dbt.dateadd('month', -13, '(select min(period_start) from figures)') }} as date)
        {%- endif %}

),

-- the same period one year earlier (macros/periods.sql): of the two days a month-end period can
-- map to, the later one (Jan-Feb 2025 against Jan-Feb 2024 ending on the 29th) comes first
matched as (

    select
        {% for column in figure_columns.split(', ') %}figures.{{ column }}, {% endfor %}
        prior_figure.period_start as prior_period_start,
        prior_figure.period_end as prior_period_end,
        prior_figure.units as prior_units,
        prior_figure.figure_ref as prior_figure_ref,
        prior_figure.source_id as prior_source_id

    from figures
    left join priors as prior_figure
        on figures.series_id = prior_figure.series_id
        and prior_figure.period_start = cast({{ dbt.dateadd('year', -1, 'figures.period_start') }} as date)
        and prior_figure.period_end = {{ year_earlier_period_end('figures.period_end') }}
        and prior_figure.period_end < figures.period_start

),

unmatched as (

    select {{ figure_columns }}
    from matched
    where prior_period_end is null
        and period_start is not null

),

-- the other day a month-end period maps to (28 February after a leap year: Feb 2025 against 28
-- February 2024), when the preferred one is not in the data
month_end_variants as (

    select
        unmatched.*,
        prior_figure.period_start as prior_period_start,
        prior_figure.period_end as prior_period_end,
        prior_figure.units as prior_units,
        prior_figure.figure_ref as prior_figure_ref,
        prior_figure.source_id as prior_source_id

    from unmatched
    inner join priors as prior_figure
        on unmatched.series_id = prior_figure.series_id
        and prior_figure.period_start = cast({{ dbt.dateadd('year', -1, 'unmatched.period_start') }} as date)
        and prior_figure.period_end = cast({{ dbt.dateadd('year', -1, 'unmatched.period_end') }} as date)
        and prior_figure.period_end < unmatched.period_start
    where cast({{ dbt.dateadd('year', -1, 'unmatched.period_end') }} as date) <> {{ year_earlier_period_end('unmatched.period_end') }}

),

not_comparable as (

    select unmatched.*
    from unmatched
    left join month_end_variants
        on unmatched.series_id = month_end_variants.series_id
        and unmatched.period_start = month_end_variants.period_start
        and unmatched.period_end = month_end_variants.period_end
    where month_end_variants.period_end is null

),

-- the rest: the latest-ending prior of the series that ends before the period starts, kept
-- when it ends within a year of the start (not comparable)
nearest_priors as (

    {{ nearest_earlier_priors('not_comparable', 'priors', figure_columns) }}

),

chosen as (

    select matched.*, true as comparable_periods
    from matched
    where matched.prior_period_end is not null

    union all

    select month_end_variants.*, true as comparable_periods
    from month_end_variants

    union all

    select
        nearest_priors.*,
        case when nearest_priors.prior_period_end is not null then false end as comparable_periods
    from nearest_priors

    union all

    -- cumulative figures (no period_start) get no prior
    select matched.*, cast(null as boolean) as comparable_periods
    from matched
    where matched.period_start is null

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
