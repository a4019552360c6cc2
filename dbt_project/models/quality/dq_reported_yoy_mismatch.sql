-- A reported year-on-year rate more than 0.1 percentage points away from the rate computed from
-- two reported figures of comparable periods (growth_rates).

with

growth as (

    select * from {{ ref('growth_rates') }}

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
            || {{ format_pct('computed_yoy_pct') }} || ', '
            || {{ format_decimal('abs(computed_yoy_pct - reported_yoy_pct)') }}
            || ' percentage points apart (sources: ' || {{ list_to_text('source_ids') }} || ').'
            as details,
        source_ids,
        figure_refs

    from growth
    where comparable_periods
        and abs(computed_yoy_pct - reported_yoy_pct) > 0.1

)

select * from findings
