-- At one plant (group, country, site), a milestone dated before one that must precede it
-- (pairs in var('milestone_order')). A month- or year-precise date stands for any day of its
-- month or year, so a pair is flagged only when the later milestone's latest possible day is
-- before the earlier milestone's earliest possible day.
-- The SQL is macros/quality_checks/milestones_out_of_order.sql: data_quality_findings runs it on part of the inputs.

{{ check_milestones_out_of_order(
    timeline=ref('localization_timeline')
) }}
