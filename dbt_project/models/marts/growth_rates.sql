-- Year-over-year growth of every reported sales and exports figure: the growth rate the
-- source reports (and the prior-year units it implies) next to the growth computed from the
-- prior period's figure when that figure is itself in the data.

with

figures as (

    select * from {{ ref('int_reported_figures') }}

),

candidate_priors as (

    -- figures of the same series that end before this period starts, at most one year before;
    -- cumulative figures (null period_start) neither get nor serve as a prior
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
        {{ is_same_period_a_year_earlier(
            'current_figure.period_start',
            'current_figure.period_end',
            'prior_figure.period_start',
            'prior_figure.period_end'
        ) }} as comparable_periods

    from figures as current_figure
    inner join figures as prior_figure
        on {{ same_series('current_figure', 'prior_figure') }}
        and prior_figure.period_end < current_figure.period_start
        and prior_figure.period_end >= {{ dbt.dateadd('year', -1, 'current_figure.period_start') }}
    where prior_figure.period_start is not null
        and prior_figure.units is not null

),

ranked_priors as (

    select
        *,
        row_number() over (
            partition by metric, entity, entity_type, powertrain, period_start, period_end
            order by
                case when comparable_periods then 0 else 1 end,
                prior_period_end desc,
                prior_period_start desc
        ) as prior_rank

    from candidate_priors

),

chosen_priors as (

    select * from ranked_priors
    where prior_rank = 1

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
