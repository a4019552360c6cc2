-- Year-over-year growth of every reported sales and exports figure: the growth rate the
-- source reports (and the prior-year units it implies) next to the growth computed from the
-- prior period's figure when that figure is itself in the data.

with

figures as (

    select * from {{ ref('int_reported_figures') }}

),

priors as (

    -- figures that can serve as a prior: cumulative figures (null period_start) neither get nor
    -- serve as one, and growth-only figures have no units to compare
    select * from figures
    where period_start is not null
        and units is not null

),

comparable_priors as (

    -- the same period one year earlier (at most two: a month-end period may also match the
    -- year-earlier month's last day); an equality join, so it costs one pass however long the series
    select
        current_figure.metric,
        current_figure.entity,
        current_figure.entity_type,
        current_figure.powertrain,
        current_figure.period_start,
        current_figure.period_end,
        prior_figure.period_start as prior_period_start,
        prior_figure.period_end as prior_period_end,
        prior_figure.units as prior_units,
        prior_figure.figure_ref as prior_figure_ref,
        prior_figure.source_id as prior_source_id,
        row_number() over (
            partition by current_figure.metric, current_figure.entity, current_figure.entity_type,
                current_figure.powertrain, current_figure.period_start, current_figure.period_end
            order by prior_figure.period_end desc
        ) as prior_rank

    from figures as current_figure
    inner join priors as prior_figure
        on {{ same_series('current_figure', 'prior_figure') }}
        and prior_figure.period_start = cast({{ dbt.dateadd('year', -1, 'current_figure.period_start') }} as date)
    where {{ is_same_period_a_year_earlier(
            'current_figure.period_start',
            'current_figure.period_end',
            'prior_figure.period_start',
            'prior_figure.period_end'
        ) }}
        and prior_figure.period_end < current_figure.period_start

),

series_events as (

    -- each series in time order: priors at their end, figures at their start; on the same day a
    -- figure comes before a prior ending then (a prior must end before the period starts), and
    -- priors ending the same day come shortest (latest start) last
    select
        metric, entity, entity_type, powertrain,
        period_end as event_day,
        1 as event_order,
        cast(null as date) as period_start,
        cast(null as date) as period_end,
        period_start as prior_period_start,
        period_end as prior_period_end,
        units as prior_units,
        figure_ref as prior_figure_ref,
        source_id as prior_source_id

    from priors

    union all

    select
        metric, entity, entity_type, powertrain,
        period_start as event_day,
        0 as event_order,
        period_start,
        period_end,
        null, null, null, null, null

    from figures
    where period_start is not null

),

latest_priors as (

    -- for each figure, the latest-ending prior of its series that ends before the period starts
    select
        metric, entity, entity_type, powertrain, period_start, period_end,
        {% for column in ['prior_period_start', 'prior_period_end', 'prior_units', 'prior_figure_ref', 'prior_source_id'] %}
        {{ last_value_ignore_nulls(
            column,
            'metric, entity, entity_type, powertrain',
            'event_day, event_order, prior_period_start'
        ) }} as {{ column }}{{ ',' if not loop.last }}
        {% endfor %}

    from series_events

),

nearest_priors as (

    -- figures with no comparable prior: the latest-ending one within a year, if any (not comparable)
    select latest_priors.*
    from latest_priors
    where latest_priors.period_start is not null
        and latest_priors.prior_period_end >= {{ dbt.dateadd('year', -1, 'latest_priors.period_start') }}

),

chosen_priors as (

    select
        metric, entity, entity_type, powertrain, period_start, period_end,
        prior_period_start, prior_period_end, prior_units, prior_figure_ref, prior_source_id,
        true as comparable_periods
    from comparable_priors
    where prior_rank = 1

    union all

    select
        nearest_priors.metric, nearest_priors.entity, nearest_priors.entity_type, nearest_priors.powertrain,
        nearest_priors.period_start, nearest_priors.period_end,
        nearest_priors.prior_period_start, nearest_priors.prior_period_end, nearest_priors.prior_units,
        nearest_priors.prior_figure_ref, nearest_priors.prior_source_id,
        false as comparable_periods
    from nearest_priors
    left join comparable_priors
        on {{ same_series('nearest_priors', 'comparable_priors') }}
        and nearest_priors.period_start = comparable_priors.period_start
        and nearest_priors.period_end = comparable_priors.period_end
    where comparable_priors.metric is null

),

final as (

    select
        figures.entity,
        figures.entity_type,
        figures.metric,
        figures.powertrain,
        figures.period_start,
        figures.period_end,
        figures.units,
        figures.reported_yoy_pct,
        cast(figures.units as {{ type_double() }})
            / nullif(1 + figures.reported_yoy_pct / 100, 0) as implied_prior_units,
        chosen_priors.prior_units,
        (
            cast(figures.units as {{ type_double() }}) / nullif(chosen_priors.prior_units, 0) - 1
        ) * 100 as computed_yoy_pct,
        chosen_priors.comparable_periods,
        chosen_priors.prior_period_start,
        chosen_priors.prior_period_end,
        figures.units_qualifier,
        figures.source_id,
        {{ list_of(['figures.source_id', 'chosen_priors.prior_source_id']) }} as source_ids,
        {{ list_of(['figures.figure_ref', 'chosen_priors.prior_figure_ref']) }} as figure_refs,
        {{ run_id_stamp() }}

    from figures
    -- chosen priors only exist for figures with a period_start, so plain equality is enough
    left join chosen_priors
        on {{ same_series('figures', 'chosen_priors') }}
        and figures.period_start = chosen_priors.period_start
        and figures.period_end = chosen_priors.period_end

)

select * from final
