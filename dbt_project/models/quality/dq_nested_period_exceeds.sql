-- A figure for a period above the same series' figure for a longer period containing it
-- (a Jan-Nov figure above the same year's full-year figure, or above a cumulative total), each
-- figure as its range (macros/ranges.sql): flagged only when the inner figure's lowest value is
-- above the outer one's highest. A year-to-date total below the previous month's is one of these:
-- monthly_figures then derives no month from the two (it would be negative).
-- The SQL is macros/quality_checks/nested_period_exceeds.sql: data_quality_findings runs it on part of the inputs.

{{ check_nested_period_exceeds(
    figures=ref('int_reported_figures')
) }}
