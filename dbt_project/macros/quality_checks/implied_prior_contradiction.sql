-- The prior-period value a reported growth rate implies (units / (1 + rate / 100), for the same
-- period one year earlier) cannot hold given another reported figure of the same series: it is
-- larger than a figure for a period containing that prior period, or smaller than a figure for
-- a period it contains. Reported rates are rounded to 0.1 point, so a pair is flagged only when
-- the contradiction holds for any rate within 0.05 point of the reported one. A figure for
-- exactly the prior period is left to reported_yoy_mismatch. Each figure is its range
-- (macros/ranges.sql): an approximate figure's implied prior spans its range, an 'at least'
-- figure implies an 'at least' prior, and a pair is flagged only when no values of the ranges agree.
-- The SQL of the view quality.dq_implied_prior_contradiction, over the inputs it is given: the
-- view gives it the whole models; data_quality_findings, built incrementally, only what a run's
-- changed figures can affect (macros/findings_scope.sql). `figures` are those whose implied prior
-- is checked, `others` (by default the same) those it is checked against.

{% macro check_implied_prior_contradiction(figures, others=none) -%}

with

figures as (

    select * from {{ figures }}
    where units is not null

),
{%- if others is not none %}

others as (

    select * from {{ others }}
    where units is not null

),
{%- endif %}

implied as (

    select
        *,
        cast(units as {{ type_double() }}) / (1 + reported_yoy_pct / 100) as implied_prior_units,
        -- the smallest and largest prior the rounded rate allows
        {{ units_low() }} / (1 + (reported_yoy_pct + 0.05) / 100) as implied_prior_low,
        -- null (no upper bound) for an 'at least' figure
        {{ units_high() }} / (1 + (reported_yoy_pct - 0.05) / 100) as implied_prior_high,
        cast({{ dbt.dateadd('year', -1, 'period_start') }} as date) as prior_start,
        {{ year_earlier_period_end('period_end') }} as prior_end

    from figures
    -- cumulative figures (null period_start) have no prior period
    where reported_yoy_pct is not null
        and reported_yoy_pct > -99.95
        and period_start is not null

),

contradictions as (

    select
        implied.*,
        other.units as other_units,
        other.units_qualifier as other_units_qualifier,
        {{ units_low('other') }} as other_low,
        {{ units_high('other') }} as other_high,
        other.period_start as other_start,
        other.period_end as other_end,
        other.source_id as other_source_id,
        other.figure_ref as other_figure_ref,
        case
            when {{ period_contains('other.period_start', 'other.period_end', 'implied.prior_start', 'implied.prior_end') }}
                then 'contains'
            else 'contained'
        end as relation

    from implied
    inner join {{ 'figures' if others is none else 'others' }} as other
        on implied.series_id = other.series_id
    where not {{ same_period('other.period_start', 'other.period_end', 'implied.prior_start', 'implied.prior_end') }}
        and (
            (
                -- a period containing the prior period: it counts at least the prior's units
                {{ period_contains('other.period_start', 'other.period_end', 'implied.prior_start', 'implied.prior_end') }}
                -- (an 'at least' figure has no upper bound: never)
                and implied.implied_prior_low > {{ units_high('other') }}
            )
            or (
                -- a period inside the prior period: it counts at most the prior's units
                {{ period_contains('implied.prior_start', 'implied.prior_end', 'other.period_start', 'other.period_end') }}
                -- ('at least' units imply an 'at least' prior, with no upper bound: never)
                and implied.implied_prior_high < {{ units_low('other') }}
            )
        )

),

findings as (

    select
        'implied_prior_contradiction' as check_name,
        'warning' as severity,
        entity,
        period_start,
        period_end,
        {{ figure_subject_text() }} || ' of ' || {{ figure_range_text() }} || ' for '
            || {{ period_text('period_start', 'period_end') }} || ' at ' || {{ format_pct('reported_yoy_pct') }}
            || ' year on year imply ' || {{ format_units('implied_prior_units') }}
            || case when units_qualifier = 'approx'
                then ' (' || {{ format_units('implied_prior_low') }} || ' to ' || {{ format_units('implied_prior_high') }} || ')'
                else '' end
            || ' for '
            || {{ period_text('prior_start', 'prior_end') }} || ', '
            || case
                when units_qualifier = 'approx' or other_units_qualifier = 'approx'
                    -- how far apart the ranges are
                    then {{ format_units("case when relation = 'contains' then implied_prior_low - other_high else other_low - implied_prior_high end") }}
                else {{ format_units('abs(implied_prior_units - other_units)') }}
            end
            || case when relation = 'contains' then ' more than ' else ' less than ' end
            || 'the ' || case other_units_qualifier when 'approx' then 'about ' when 'at_least' then 'at least ' else '' end
            || {{ format_units('other_units') }}
            || case when other_units_qualifier = 'approx'
                then ' (' || {{ format_units('other_low') }} || ' to ' || {{ format_units('other_high') }} || ')'
                else '' end
            || ' reported for ' || {{ period_text('other_start', 'other_end') }}
            || case when relation = 'contains' then ', a period that contains it' else ', a period within it' end
            || ' (sources: ' || {{ list_to_text(list_of(['source_id', 'other_source_id'])) }} || ').'
            as details,
        {{ list_of(['source_id', 'other_source_id']) }} as source_ids,
        {{ list_of(['figure_ref', 'other_figure_ref']) }} as figure_refs

    from contradictions

)

select * from findings

{%- endmacro %}
