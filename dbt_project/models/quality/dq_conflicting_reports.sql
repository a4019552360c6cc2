-- The same figure (entity, entity_type, metric, powertrain, period) reported differently by two
-- reports: units whose ranges cannot agree, or a different reported_yoy_pct. All reports, not the
-- deduplicated figures. Each figure is its range (macros/ranges.sql): 'about 1.2 million'
-- (1,150,000 to 1,250,000) agrees with 1,199,590; 'at least' X agrees with any units of X or more.
-- Also a single month as a source reports it against the same month derived from two
-- year-to-date figures (monthly_figures), when their ranges cannot agree.
-- The SQL is macros/quality_checks/conflicting_reports.sql: data_quality_findings runs it on part of the inputs.

{{ check_conflicting_reports(
    reported_figures=ref('int_reported_figures'),
    all_reported_figures=ref('int_all_reported_figures')
) }}
