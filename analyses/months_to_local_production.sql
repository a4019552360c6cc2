-- Question: in each country, how many months pass between a Chinese carmaker announcing an
-- overseas plant and the plant producing?
--
-- One row per country with an announced plant: how many plants were announced there, how many
-- produce by now, and the fastest and average months from announcement to the first production
-- milestone (production start, first vehicle off the line or inauguration). Months are days /
-- 30.4375; a milestone known only to the month is dated the 1st of that month (marked
-- '(month)' in the plants column), so such a figure can be off by up to a month.
--
-- Run: outbound sql -f analyses/months_to_local_production.sql
with plants as (
    select
        group_name,
        country,
        region,
        site,
        min(milestone_date) filter (where milestone = 'announced') as announced_on,
        max(date_precision) filter (where milestone = 'announced') as announced_precision,
        min(first_local_production_date) as producing_since,
        max(date_precision) filter (
            where milestone in ('production_start', 'first_vehicle_off_line', 'inauguration')
                and milestone_date = first_local_production_date
        ) as producing_precision
    from marts.localization_timeline
    group by group_name, country, region, site
),

announced_plants as (
    select
        *,
        round(date_diff('day', announced_on, producing_since) / 30.4375, 1) as months_to_production
    from plants
    where announced_on is not null
)

select
    country,
    region,
    count(*) as plants_announced,
    count(producing_since) as plants_producing,
    min(months_to_production) as fastest_months,
    round(avg(months_to_production), 1) as average_months,
    string_agg(
        group_name || ' at ' || site || ': announced ' || announced_on
        || case when announced_precision = 'month' then ' (month)' else '' end
        || coalesce(
            ', producing since ' || producing_since || case when producing_precision = 'month' then ' (month)' else '' end,
            ', not producing yet'
        ),
        '; ' order by announced_on
    ) as plants
from announced_plants
group by country, region
order by fastest_months nulls last, country;
