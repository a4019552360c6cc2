-- A reported year-on-year rate more than 0.1 percentage points away from the rate computed from
-- two reported figures of comparable periods (growth_rates). Each figure is its range
-- (macros/ranges.sql), so the computed rate is a range too: flagged only when the reported rate is
-- more than 0.1 point outside it.
-- The SQL of the view quality.dq_reported_yoy_mismatch, over the inputs it is given: the view
-- gives it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql).

{% macro check_reported_yoy_mismatch(growth, reported_figures) -%}

with

growth as (

    select * from {{ growth }}
    where comparable_periods

),

-- the inexact figures only (approximate or 'at least'): usually few, so the joins below cost a
-- pass over the growth rates, not a join of every figure with every other
inexact as (

    select * from {{ reported_figures }}
    where units_qualifier in ('approx', 'at_least')

),

-- the bounds of the figure and of its prior: an exact one is its units
bounded as (

    select
        growth.*,
        case when current_figure.figure_ref is null then cast(growth.units as {{ type_double() }})
            else {{ units_low('current_figure') }} end as units_low,
        case when current_figure.figure_ref is null then cast(growth.units as {{ type_double() }})
            else {{ units_high('current_figure') }} end as units_high,
        case when prior_figure.figure_ref is null then cast(growth.prior_units as {{ type_double() }})
            else {{ units_low('prior_figure') }} end as prior_low,
        case when prior_figure.figure_ref is null then cast(growth.prior_units as {{ type_double() }})
            else {{ units_high('prior_figure') }} end as prior_high,
        coalesce(current_figure.units_qualifier, 'exact') = 'approx'
            or coalesce(prior_figure.units_qualifier, 'exact') = 'approx' as has_approx

    from growth
    left join inexact as current_figure
        on current_figure.metric = growth.metric
        and current_figure.entity = growth.entity
        and current_figure.entity_type = growth.entity_type
        and current_figure.powertrain = growth.powertrain
        and current_figure.period_start = growth.period_start
        and current_figure.period_end = growth.period_end
    left join inexact as prior_figure
        on prior_figure.metric = growth.metric
        and prior_figure.entity = growth.entity
        and prior_figure.entity_type = growth.entity_type
        and prior_figure.powertrain = growth.powertrain
        and prior_figure.period_start = growth.prior_period_start
        and prior_figure.period_end = growth.prior_period_end

),

rated as (

    select
        *,
        -- an 'at least' prior has no upper bound: no lower bound on the rate but -100%
        case
            when prior_high is null then -100
            else (units_low / nullif(prior_high, 0) - 1) * 100
        end as computed_low,
        -- null: no upper bound (an 'at least' figure)
        (units_high / nullif(prior_low, 0) - 1) * 100 as computed_high

    from bounded

),

findings as (

    select
        'reported_yoy_mismatch' as check_name,
        'warning' as severity,
        entity,
        period_start,
        period_end,
        {{ figure_subject_text() }} || ' for ' || {{ period_text('period_start', 'period_end') }}
            || ' are reported at ' || {{ format_pct('reported_yoy_pct') }} || ' year on year, but '
            || {{ format_units('units') }} || ' against the ' || {{ format_units('prior_units') }} || ' reported for '
            || {{ period_text('prior_period_start', 'prior_period_end') }} || ' is '
            || {{ format_pct('computed_yoy_pct') }}
            || case when has_approx
                then ' (' || {{ format_pct('computed_low') }} || ' to ' || coalesce({{ format_pct('computed_high') }}, 'no limit')
                    || ' within the ranges of the approximate figures)'
                else '' end
            || ', '
            || {{ format_decimal('case when reported_yoy_pct < computed_low then computed_low - reported_yoy_pct else reported_yoy_pct - computed_high end') }}
            || ' percentage points apart (sources: ' || {{ list_to_text('source_ids') }} || ').'
            as details,
        source_ids,
        figure_refs

    from rated
    where reported_yoy_pct < computed_low - 0.1
        or reported_yoy_pct > computed_high + 0.1

)

select * from findings

{%- endmacro %}
