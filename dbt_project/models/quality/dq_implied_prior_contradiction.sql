-- The prior-period value a reported growth rate implies (units / (1 + rate / 100), for the same
-- period one year earlier) cannot hold given another reported figure of the same series: it is
-- larger than a figure for a period containing that prior period, or smaller than a figure for
-- a period it contains. Reported rates are rounded to 0.1 point, so a pair is flagged only when
-- the contradiction holds for any rate within 0.05 point of the reported one. A figure for
-- exactly the prior period is left to reported_yoy_mismatch. Each figure is its range
-- (macros/ranges.sql): an approximate figure's implied prior spans its range, an 'at least'
-- figure implies an 'at least' prior, and a pair is flagged only when no values of the ranges agree.
-- The SQL is macros/quality_checks/implied_prior_contradiction.sql: data_quality_findings runs it on part of the inputs.

{{ check_implied_prior_contradiction(
    figures=ref('int_reported_figures')
) }}
