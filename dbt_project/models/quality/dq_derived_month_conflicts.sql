-- A single month as a source reports it against the same month derived from two year-to-date
-- figures (Jan-Nov less Jan-Oct), when their ranges cannot agree (macros/ranges.sql): a
-- conflicting_reports finding, as two reports of one figure that disagree are.
-- The SQL is macros/quality_checks/derived_month_conflicts.sql: data_quality_findings runs it on part of the inputs.

{{ check_derived_month_conflicts(
    monthly_figures=ref('int_monthly_figures')
) }}
