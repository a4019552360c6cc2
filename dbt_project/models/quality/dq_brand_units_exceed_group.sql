-- A group's brands reporting more sales units, together, than the group's own total for the
-- same period and powertrain, each figure as its range (macros/ranges.sql): flagged only when the
-- brands' lowest values add up to more than the total's highest.
-- The SQL is macros/quality_checks/brand_units_exceed_group.sql: data_quality_findings runs it on part of the inputs.

{{ check_brand_units_exceed_group(
    figures=ref('int_reported_figures'),
    brands=ref('stg_landing__brands')
) }}
