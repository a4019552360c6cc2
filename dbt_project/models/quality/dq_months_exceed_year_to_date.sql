-- Single months reported for a year summing to more than a year-to-date figure of the same series
-- spanning them (Jan-Mar below January, February and March together), each figure as its range
-- (macros/ranges.sql): flagged only when the months' lowest values add up to more than the
-- year-to-date figure's highest ('at least' year-to-date figures have no highest: never).
-- The SQL is macros/quality_checks/months_exceed_year_to_date.sql: data_quality_findings runs it on part of the inputs.

{{ check_months_exceed_year_to_date(
    monthly_figures=ref('int_monthly_figures')
) }}
