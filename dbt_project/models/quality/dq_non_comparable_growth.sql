-- A growth rate computed across periods that are not comparable (growth_rates'
-- comparable_periods is false: the prior period differs in length or months). A notice, not a
-- contradiction.
-- The SQL is macros/quality_checks/non_comparable_growth.sql: data_quality_findings runs it on part of the inputs.

{{ check_non_comparable_growth(
    growth=ref('growth_rates')
) }}
