-- Where the sources contradict each other: every check's findings in one table. Findings are
-- warnings, never failures; each states the figures involved, their periods and sources.

{% set checks = [
    'dq_brand_units_exceed_group',
    'dq_reported_yoy_mismatch',
    'dq_implied_prior_contradiction',
    'dq_nested_period_exceeds',
    'dq_conflicting_reports',
    'dq_milestones_out_of_order',
    'dq_non_comparable_growth',
    'dq_months_exceed_year_to_date',
    'dq_derived_month_conflicts',
] %}

with

findings as (

    {% for check in checks -%}
    select
        check_name,
        severity,
        entity,
        period_start,
        period_end,
        details,
        source_ids,
        figure_refs

    from {{ ref(check) }}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

final as (

    select
        check_name,
        severity,
        entity,
        period_start,
        period_end,
        details,
        source_ids,
        figure_refs,
        {{ run_id_stamp() }}

    from findings

)

select * from final
