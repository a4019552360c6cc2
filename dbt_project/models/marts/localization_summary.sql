-- Overseas localization footprint of each carmaker group, from its plant milestone timeline.

with

timeline as (

    select * from {{ ref('localization_timeline') }}

),

group_sites as (

    -- a site is a named plant in a country; its capacity is the largest one stated for it
    select
        group_name,
        country,
        site,
        max(annual_capacity) as stated_capacity

    from timeline
    group by group_name, country, site

),

site_totals as (

    select
        group_name,
        count(*) as sites,
        cast(sum(stated_capacity) as {{ dbt.type_bigint() }}) as total_stated_capacity

    from group_sites
    group by group_name

),

milestone_totals as (

    select
        group_name,
        count(
            distinct case
                when {{ is_local_production_milestone('milestone') }} then country
            end
        ) as countries_with_local_production,
        count(distinct country) as countries_with_milestones,
        min(milestone_date) as first_milestone_date,
        max(milestone_date) as latest_milestone_date,
        {{ merged_lists('source_ids') }} as source_ids,
        {{ merged_lists('figure_refs') }} as figure_refs

    from timeline
    group by group_name

),

final as (

    select
        milestone_totals.group_name,
        milestone_totals.countries_with_local_production,
        site_totals.total_stated_capacity,
        milestone_totals.first_milestone_date,
        milestone_totals.latest_milestone_date,
        milestone_totals.countries_with_milestones,
        site_totals.sites,
        milestone_totals.source_ids,
        milestone_totals.figure_refs,
        {{ run_id_stamp() }}

    from milestone_totals
    inner join site_totals
        on milestone_totals.group_name = site_totals.group_name

)

select * from final
