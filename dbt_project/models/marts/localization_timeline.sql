-- Overseas plant milestones in order, per group and country: one row per
-- (group_name, brand, country, site, milestone), reconciled across the sources reporting it.

{% set milestone_key = 'group_name, brand, country, site, milestone' %}

with

plant_launches as (

    select * from {{ ref('stg_landing__plant_launches') }}

),

countries as (

    select * from {{ ref('stg_landing__countries') }}

),

ranked_reports as (

    -- best report first: most precise date, then earliest date, then lowest source_id
    select
        *,
        row_number() over (
            partition by {{ milestone_key }}
            order by
                {{ date_precision_rank('date_precision') }},
                milestone_date,
                source_id
        ) as report_rank

    from plant_launches

),

filled_reports as (

    -- attributes the best report lacks are taken from the next-best report that states them
    select
        group_name,
        brand,
        country,
        site,
        milestone,
        milestone_date,
        date_precision,
        source_id,
        report_rank,
        coalesce(
            {{ first_value_ignore_nulls(
                "case when assembly_mode <> 'unknown' then assembly_mode end",
                milestone_key,
                'report_rank'
            ) }},
            'unknown'
        ) as assembly_mode,
        {{ first_value_ignore_nulls('annual_capacity', milestone_key, 'report_rank') }} as annual_capacity,
        {{ first_value_ignore_nulls('first_model', milestone_key, 'report_rank') }} as first_model

    from ranked_reports

),

milestones as (

    select * from filled_reports
    where report_rank = 1

),

report_lineage as (

    -- every report of the milestone, not only the chosen one: the others filled its gaps
    select
        group_name,
        brand,
        country,
        site,
        milestone,
        {{ list_agg(figure_ref('plant_launches')) }} as figure_refs,
        {{ list_agg('source_id') }} as source_ids

    from plant_launches
    group by {{ milestone_key }}

),

sequenced as (

    select
        milestones.group_name,
        milestones.brand,
        milestones.country,
        countries.region,
        milestones.site,
        milestones.milestone,
        milestones.milestone_date,
        milestones.date_precision,
        row_number() over (
            partition by milestones.group_name, milestones.country
            order by
                milestones.milestone_date,
                {{ date_precision_rank('milestones.date_precision') }},
                {{ milestone_rank('milestones.milestone') }},
                milestones.site,
                milestones.brand
        ) as milestone_seq,
        min(
            case
                when {{ is_local_production_milestone('milestones.milestone') }}
                    then milestones.milestone_date
            end
        ) over (
            partition by milestones.group_name, milestones.country
        ) as first_local_production_date,
        milestones.assembly_mode,
        milestones.annual_capacity,
        milestones.first_model,
        milestones.source_id,
        report_lineage.source_ids,
        report_lineage.figure_refs

    from milestones
    left join countries
        on milestones.country = countries.country
    inner join report_lineage
        on milestones.group_name = report_lineage.group_name
        and milestones.brand = report_lineage.brand
        and milestones.country = report_lineage.country
        and milestones.site = report_lineage.site
        and milestones.milestone = report_lineage.milestone

),

with_previous as (

    select
        *,
        lag(milestone_date) over (
            partition by group_name, country
            order by milestone_seq
        ) as previous_milestone_date

    from sequenced

),

final as (

    select
        group_name,
        brand,
        country,
        region,
        site,
        milestone,
        milestone_date,
        date_precision,
        -- bigint on every engine (Spark's row_number and datediff give int)
        cast(milestone_seq as {{ dbt.type_bigint() }}) as milestone_seq,
        cast({{ dbt.datediff('previous_milestone_date', 'milestone_date', 'day') }} as {{ dbt.type_bigint() }})
            as days_since_previous_milestone,
        first_local_production_date,
        assembly_mode,
        annual_capacity,
        first_model,
        source_id,
        source_ids,
        figure_refs,
        {{ run_id_stamp() }}

    from with_previous

)

select * from final
