-- At one plant (group, country, site), a milestone dated before one that must precede it
-- (pairs in var('milestone_order')). A month- or year-precise date stands for any day of its
-- month or year, so a pair is flagged only when the later milestone's latest possible day is
-- before the earlier milestone's earliest possible day.
-- The SQL of the view quality.dq_milestones_out_of_order, over the inputs it is given: the view
-- gives it the whole models; data_quality_findings, built incrementally, only what a run's changed
-- figures can affect (macros/findings_scope.sql).

{% macro check_milestones_out_of_order(timeline) -%}

with

timeline as (

    select * from {{ timeline }}

),

required_order as (

    {% for earlier, later in var('milestone_order') -%}
    select '{{ earlier }}' as earlier_milestone, '{{ later }}' as later_milestone
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

dated as (

    select
        *,
        {{ latest_possible_date('milestone_date', 'date_precision') }} as latest_possible_date

    from timeline

),

findings as (

    select
        'milestones_out_of_order' as check_name,
        'warning' as severity,
        later.group_name || ' / ' || later.country || ' / ' || later.site as entity,
        later.milestone_date as period_start,
        earlier.milestone_date as period_end,
        'At ' || later.group_name || ' / ' || later.country || ' / ' || later.site || ', ' || later.milestone || ' on '
            || cast(later.milestone_date as {{ dbt.type_string() }}) || ' (' || later.date_precision || ' precision) is dated at least '
            || cast({{ dbt.datediff('later.latest_possible_date', 'earlier.milestone_date', 'day') }} as {{ dbt.type_string() }})
            || ' days before ' || earlier.milestone || ' on ' || cast(earlier.milestone_date as {{ dbt.type_string() }})
            || ' (' || earlier.date_precision || ' precision), which must come first (sources: '
            || {{ list_to_text(concat_lists('later.source_ids', 'earlier.source_ids')) }} || ').'
            as details,
        {{ concat_lists('later.source_ids', 'earlier.source_ids') }} as source_ids,
        {{ concat_lists('later.figure_refs', 'earlier.figure_refs') }} as figure_refs

    from required_order
    inner join dated as earlier
        on earlier.milestone = required_order.earlier_milestone
    inner join dated as later
        on later.milestone = required_order.later_milestone
        and later.group_name = earlier.group_name
        and later.country = earlier.country
        and later.site = earlier.site
    where later.latest_possible_date < earlier.milestone_date

)

select * from findings

{%- endmacro %}
