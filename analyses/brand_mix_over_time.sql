-- Question: how does a carmaker group's sales split across its brands, period after period?
--
-- One row per brand and reported period of Chery Group (change group_name below for another
-- group): the brand's units, its share of the group's sales total, and the change in share, in
-- percentage points, since the group's previous reported period. 'Not broken out' is the part
-- of the total that no brand figure covers; shares are never rescaled, so they add up to 100%.
-- Periods can differ in length (Jan-Nov against a full year): compare shares, not units.
--
-- Run: outbound sql -f analyses/brand_mix_over_time.sql
with brand_shares as (
    select group_name, period_start, period_end, segment as brand, units, share_of_group, group_units
    from marts.brand_mix
    where mix_dimension = 'brand'
        and group_name = 'Chery Group'
),

with_change as (
    select
        *,
        share_of_group - lag(share_of_group) over (partition by group_name, brand order by period_end, period_start) as share_change
    from brand_shares
)

select
    group_name,
    period_start,
    period_end,
    brand,
    units,
    round(100 * share_of_group, 1) as pct_of_group,
    round(100 * share_change, 1) as pct_points_change,
    group_units
from with_change
order by group_name, period_end, period_start, units desc, brand;
