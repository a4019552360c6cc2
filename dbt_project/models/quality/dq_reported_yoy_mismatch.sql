-- A reported year-on-year rate more than 0.1 percentage points away from the rate computed from
-- two reported figures of comparable periods (growth_rates). Each figure is its range
-- (macros/ranges.sql), so the computed rate is a range too: flagged only when the reported rate is
-- more than 0.1 point outside it.
-- The SQL is macros/quality_checks/reported_yoy_mismatch.sql: data_quality_findings runs it on part of the inputs.

{{ check_reported_yoy_mismatch(
    growth=ref('growth_rates'),
    reported_figures=ref('int_reported_figures')
) }}
