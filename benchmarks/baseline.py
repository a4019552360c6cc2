"""The baseline: the marts Outbound publishes, computed in plain DuckDB, written for speed.

An independent implementation, not the SQL dbt compiles for Outbound: it loads every landing file
with read_csv and explicit types (records DuckDB cannot read are skipped, as rejects), holds the
rows to the same rules (the SQL compiled from the feed contracts), and builds the six marts with
DuckDB's own SQL (temporary tables, integer series keys, as-of joins, list functions). No Prefect,
no dbt, no line numbers, no quarantine messages, no tests, no Parquet, no publish: what DuckDB
alone costs for the work, the floor `make bench` measures Outbound against. tests/test_baseline.py
checks that its marts equal Outbound's row by row, so that the ratio means something.

It must stay as fast as plain DuckDB can do the work, or the ratio flatters Outbound. At 10M
rows (4 December 2026) it was slower than Outbound's own models in every mart; profiled, its time
went where DuckDB is slow at scale: CTEs read more than once kept whole (`not materialized` now),
every lineage list built and sorted per row (two values are compared instead: `sorted_ids`),
growth rates carrying every column through three joins (now decided on keys, one join fetches the
prior), and months nested in months looked for in series that cannot have any. 184 s became 114 s.

    python -m benchmarks.baseline LANDING FOLDER   (prints the stages as JSON)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from flows.stages.load import feed_files, landing_name
from flows.stages.precision import FIGURE_FEEDS, record_units_steps
from flows.warehouse.connections import memory_limit
from schemas import FEEDS
from schemas.sql import compile_rules

MARTS = ("growth_rates", "monthly_figures", "brand_mix", "localization_timeline", "localization_summary", "data_quality_findings")

# Canonical milestone order, the pairs that must come in order, and those proving local production
# (as in the README's description of the marts).
MILESTONES = ["announced", "construction_start", "production_start", "first_vehicle_off_line", "first_vehicle_delivered", "inauguration"]
MILESTONE_ORDER = [
    ("announced", "construction_start"),
    ("announced", "production_start"),
    ("announced", "first_vehicle_off_line"),
    ("announced", "first_vehicle_delivered"),
    ("announced", "inauguration"),
    ("construction_start", "production_start"),
    ("construction_start", "first_vehicle_off_line"),
    ("construction_start", "first_vehicle_delivered"),
    ("construction_start", "inauguration"),
    ("production_start", "first_vehicle_delivered"),
    ("first_vehicle_off_line", "first_vehicle_delivered"),
]
LOCAL_PRODUCTION = ("production_start", "first_vehicle_off_line", "inauguration")


# Text of the findings, as SQL expressions.
def units(x: str) -> str:
    return f"format('{{:,}}', cast(round({x}) as bigint))"


def pct(x: str) -> str:
    return f"format('{{:+.1f}}%', cast({x} as double))"


def decimal(x: str) -> str:
    return f"format('{{:.1f}}', cast({x} as double))"


def period(start: str, end: str) -> str:
    return f"(case when {start} is null then 'up to ' || {end}::varchar else {start}::varchar || ' to ' || {end}::varchar end)"


def subject(p: str = "") -> str:
    return f"({p}entity || ' ' || {p}metric || ' (' || case when {p}powertrain = 'all' then 'all powertrains' else upper({p}powertrain) end || ')')"


def qualified(qualifier: str, value: str, at_least: bool = True) -> str:
    least = " when 'at_least' then 'at least '" if at_least else ""
    return f"(case {qualifier} when 'approx' then 'about '{least} else '' end || {units(value)})"


def ranged(qualifier: str, value: str, low: str, high: str, at_least: bool = True) -> str:
    approx = f"case when {qualifier} = 'approx' then ' (' || {units(low)} || ' to ' || {units(high)} || ')' else '' end"
    return f"({qualified(qualifier, value, at_least)} || {approx})"


def figure_range(p: str = "") -> str:
    return ranged(f"{p}units_qualifier", f"{p}units", f"{p}lo", f"{p}hi")


def contains(outer_start: str, outer_end: str, inner_start: str, inner_end: str) -> str:
    return f"(({outer_start} is null or ({inner_start} is not null and {outer_start} <= {inner_start})) and {inner_end} <= {outer_end})"


def year_earlier_end(end: str) -> str:
    return f"(case when {end} = last_day({end}) then last_day(({end} - interval 1 year)::date) else ({end} - interval 1 year)::date end)"


def sorted_ids(*values: str) -> str:
    """list_sort(list_distinct([...])) of `values`. Most rows have one or two non-null values (a
    figure and its prior), and building and sorting a list per row costs several times more over
    millions of rows than comparing two values, so those rows take a CASE; the rest, the list."""
    if len(values) == 2:
        a, b = values
        return (
            f"(case when {a} is null and {b} is null then []::varchar[] when {b} is null or {a} = {b} then [{a}] "
            f"when {a} is null then [{b}] when {a} < {b} then [{a}, {b}] else [{b}, {a}] end)"
        )
    # the usual rows: all but the first two null (a month and its year to date), or all but the first
    # and the third (a month and the same month a year earlier)
    first, second, third, *others = values
    return (
        f"(case when {' and '.join(f'{v} is null' for v in (third, *others))} then {sorted_ids(first, second)} "
        f"when {' and '.join(f'{v} is null' for v in (second, *others))} then {sorted_ids(first, third)} "
        f"else list_sort(list_distinct([{', '.join(values)}])) end)"
    )


def load(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Each landing file into a table of its own (its rowid gives the line), a view per feed over them."""
    con.execute("create schema loaded; create schema raw")
    for feed, model in FEEDS.items():
        typed = "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in model.csv_columns().items()) + "}"
        parts = []
        for number, path in enumerate(feed_files(landing, feed)):
            con.execute(
                f"""
                create table loaded.{feed}_{number} as
                select *, $name as _file
                from read_csv($path, columns = {typed}, header = true, auto_detect = false,
                    store_rejects = true, rejects_table = 'rejects_{feed}_{number}', rejects_scan = 'reject_scans_{feed}_{number}')
                """,
                {"path": str(path), "name": landing_name(landing, path)},
            )
            parts.append(f"select *, rowid + 2 as _line from loaded.{feed}_{number}")
            con.execute(
                f"create or replace view rejects_{feed} as "
                + " union all ".join(f"select * from rejects_{feed}_{n}" for n in range(number + 1))
            )
        con.execute(f"create view loaded.{feed} as " + " union all ".join(parts))


def validate(con: duckdb.DuckDBPyConnection) -> None:
    """The feeds' rules, as the flow runs them: any row that breaks one, or shares a key, is rejected."""
    for feed, model in FEEDS.items():
        rules = compile_rules(model)
        broken = " or ".join(f"coalesce({rule.broken}, false)" for rule in rules.sql)
        duplicated = [
            f"""
            select this._file, this._line from loaded.{feed} as this
            join (select {", ".join(key)} from loaded.{feed} group by all having count(*) > 1) as dup
                on {" and ".join(f"this.{name} is not distinct from dup.{name}" for name in key)}
            """
            for key in rules.unique_keys
        ]
        con.execute(
            f"""
            create table rejected_{feed} as
            select _file, _line from loaded.{feed} as this where {broken}
            {"".join(f" union {select}" for select in duplicated)}
            """
        )
        con.execute(f"create view raw.{feed} as select * from loaded.{feed} anti join rejected_{feed} using (_file, _line)")
        if feed in FIGURE_FEEDS:
            record_units_steps(con, feed)


def build_figures(con: duckdb.DuckDBPyConnection) -> None:
    """Every report (t_reports), one figure per series and period (t_figures), and the months (t_months)."""
    stacked = " union all ".join(
        f"""
        select '{feed}' as metric, f.entity, f.entity_type, f.powertrain, f.period_start, f.period_end, f.units,
            f.units_qualifier, f.reported_yoy_pct, f.source_id, '{feed}:' || f._file || ':' || f._line as ref, s.units_step
        from raw.{feed} as f left join raw.{feed}_units_steps as s using (_file, _line)
        """
        for feed in FIGURE_FEEDS
    )
    con.execute(
        f"""
        create temp table t_reports as
        select *,
            case when units_qualifier = 'approx' then units - coalesce(units_step, 0) / 2.0 else units::double end as lo,
            case when units_qualifier = 'at_least' then null
                when units_qualifier = 'approx' then units + coalesce(units_step, 0) / 2.0 else units::double end as hi
        from ({stacked})
        """
    )
    con.execute(
        """
        create temp table t_series as
        select metric, entity, entity_type, powertrain, row_number() over () as sid, count(distinct source_id) > 1 as several
        from t_reports group by all
        """
    )
    con.execute(
        """
        create temp table t_figures as
        select r.*, s.sid, 1 as reports from t_reports r join t_series s using (metric, entity, entity_type, powertrain) where not s.several
        union all
        select * exclude (rank) from (
            select r.*, s.sid, count(*) over w as reports,
                row_number() over (w order by case r.units_qualifier when 'exact' then 1 when 'approx' then 2 when 'at_least' then 3 else 4 end,
                    r.source_id) as rank
            from t_reports r join t_series s using (metric, entity, entity_type, powertrain)
            where s.several
            window w as (partition by s.sid, r.period_start, r.period_end)
        ) where rank = 1
        """
    )
    # Whole calendar months within a year, by the month they serve: as reported, as a year to date, and
    # as the previous year to date of the next month.
    con.execute(
        """
        create temp table t_months as
        with whole as not materialized (
            select *, date_trunc('month', period_end)::date as end_month from t_figures
            where units is not null and period_start is not null and day(period_start) = 1
                and period_end = last_day(period_end) and year(period_start) = year(period_end)
        ),
        reported as (select sid, end_month as month, * exclude (sid) from whole where period_start = end_month),
        ytd as (select sid, end_month as month, * exclude (sid) from whole where month(period_start) = 1 and period_start < end_month),
        previous as (
            select sid, (end_month + interval 1 month)::date as month, * exclude (sid)
            from whole where month(period_start) = 1 and month(period_end) < 12
        )
        select
            coalesce(r.sid, y.sid, p.sid) as sid, coalesce(r.month, y.month, p.month) as month,
            coalesce(r.metric, y.metric, p.metric) as metric, coalesce(r.entity, y.entity, p.entity) as entity,
            coalesce(r.entity_type, y.entity_type, p.entity_type) as entity_type,
            coalesce(r.powertrain, y.powertrain, p.powertrain) as powertrain,
            r.units as r_units, r.units_qualifier as r_q, r.lo as r_lo, r.hi as r_hi, r.period_end as r_end, r.source_id as r_src, r.ref as r_ref,
            y.units as y_units, y.units_qualifier as y_q, y.lo as y_lo, y.hi as y_hi, y.period_end as y_end, y.source_id as y_src, y.ref as y_ref,
            p.units as p_units, p.units_qualifier as p_q, p.lo as p_lo, p.hi as p_hi, p.period_end as p_end, p.source_id as p_src, p.ref as p_ref,
            y.units - p.units as d_units,
            case when y.units_qualifier = 'exact' and p.units_qualifier = 'exact' then 'exact'
                when y.units_qualifier in ('exact', 'approx') and p.units_qualifier in ('exact', 'approx') then 'approx'
                when y.units_qualifier = 'at_least' and p.units_qualifier = 'exact' then 'at_least' end as d_q,
            y.lo - p.hi as d_lo, y.hi - p.lo as d_hi
        from reported r
        full join ytd y on y.sid = r.sid and y.month = r.month
        full join previous p on p.sid = coalesce(r.sid, y.sid) and p.month = coalesce(r.month, y.month)
        """
    )


def build_growth_rates(con: duckdb.DuckDBPyConnection) -> None:
    """Each figure's prior: the same months a year earlier. Which prior a figure takes is decided
    on keys alone (series, start, end): an anti join finds the few without that prior, and only
    those look further (a month-end variant, else the latest-ending prior before the start, by an
    as-of join); then one join fetches what every chosen prior says. No intermediate holding every
    column of every figure is read twice (DuckDB would keep it whole)."""
    exact_start = "(f.period_start - interval 1 year)::date"
    con.execute(
        f"""
        create table marts.growth_rates as
        with priors as not materialized (
            select sid, period_start, period_end, units, ref, source_id from t_figures where period_start is not null and units is not null
        ),
        rest as (
            select f.sid, f.period_start, f.period_end
            from t_figures f anti join priors p
                on p.sid = f.sid and p.period_start = {exact_start} and p.period_end = {year_earlier_end("f.period_end")}
                and p.period_end < f.period_start
            where f.period_start is not null
        ),
        variant as (
            select r.*, p.period_start as p_start, p.period_end as p_end, true as comparable
            from rest r join priors p
                on p.sid = r.sid and p.period_start = (r.period_start - interval 1 year)::date
                and p.period_end = (r.period_end - interval 1 year)::date and p.period_end < r.period_start
            where (r.period_end - interval 1 year)::date <> {year_earlier_end("r.period_end")}
        ),
        nearest as (
            -- the latest-ending prior before the start (the shorter of two ending the same day), kept within a year
            select f.sid, f.period_start, f.period_end, if(ok, p.period_start, null), if(ok, p.period_end, null), if(ok, false, null)
            from (select *, (period_start - date '1970-01-01') * 100000 as k from rest anti join variant using (sid, period_start, period_end)) f
            asof left join (
                select sid, period_start, period_end, (period_end - date '1970-01-01') * 100000 + (period_start - period_end) + 99999 as k
                from priors
            ) p on p.sid = f.sid and f.k > p.k,
            lateral (select p.period_end >= f.period_start - interval 1 year as ok)
        ),
        fallback as (select * from variant union all select * from nearest),
        keyed as (
            select f.*,
                case when b.sid is not null then b.p_start when f.period_start is not null then {exact_start} end as k_start,
                case when b.sid is not null then b.p_end when f.period_start is not null then {year_earlier_end("f.period_end")} end as k_end,
                case when b.sid is not null then b.comparable when f.period_start is not null then true end as comparable
            from t_figures f left join fallback b using (sid, period_start, period_end)
        )
        select k.entity, k.entity_type, k.metric, k.powertrain, k.period_start, k.period_end, k.units, k.reported_yoy_pct,
            k.units / nullif(1 + k.reported_yoy_pct / 100, 0) as implied_prior_units,
            p.units as prior_units, (k.units / nullif(p.units, 0) - 1) * 100 as computed_yoy_pct,
            k.comparable as comparable_periods, p.period_start as prior_period_start, p.period_end as prior_period_end,
            k.units_qualifier, k.source_id, {sorted_ids("k.source_id", "p.source_id")} as source_ids,
            {sorted_ids("k.ref", "p.ref")} as figure_refs
        from keyed k left join priors p on p.sid = k.sid and p.period_start = k.k_start and p.period_end = k.k_end
        """
    )


def build_monthly_figures(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create temp table t_chosen as
        select sid, entity, entity_type, metric, powertrain, month,
            if(r_units is not null, 'reported', 'derived') as derivation,
            coalesce(r_units, d_units) as units,
            if(r_units is not null, r_q, d_q) as units_qualifier,
            if(r_units is not null, r_lo, greatest(d_lo, 0)) as units_low,
            if(r_units is not null, r_hi, d_hi) as units_high,
            coalesce(r_ref, y_ref) as ref1, if(r_units is null, p_ref, null) as ref2,
            coalesce(r_src, y_src) as src1, if(r_units is null, p_src, null) as src2
        from t_months
        where r_units is not null or (d_q is not null and d_units >= 0)
        """
    )
    con.execute(
        f"""
        create table marts.monthly_figures as
        select c.entity, c.entity_type, c.metric, c.powertrain, c.month, c.units, c.units_qualifier, c.units_low, c.units_high,
            c.derivation, a.units as prior_year_units, (c.units / nullif(a.units, 0) - 1) * 100 as yoy_pct,
            {sorted_ids("c.src1", "c.src2", "a.src1", "a.src2")} as source_ids,
            {sorted_ids("c.ref1", "c.ref2", "a.ref1", "a.ref2")} as figure_refs
        from t_chosen c left join t_chosen a on a.sid = c.sid and a.month = (c.month - interval 1 year)::date
        """
    )


def build_brand_mix(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        create table marts.brand_mix as
        with totals as (
            select entity as group_name, period_start, period_end, units as group_units, ref as t_ref, source_id as t_src
            from t_figures where metric = 'sales' and entity_type = 'group' and powertrain = 'all' and units is not null
        ),
        parts as (
            select b.group_name, f.period_start, f.period_end, 'brand' as mix_dimension, f.entity as segment,
                'Not broken out' as rest, f.units, f.ref, f.source_id
            from t_figures f join raw.brands b on f.entity = b.brand
            where f.metric = 'sales' and f.entity_type = 'brand' and f.powertrain = 'all' and f.units is not null
            union all
            select entity, period_start, period_end, 'powertrain', 'NEV', 'Non-NEV', units, ref, source_id
            from t_figures where metric = 'sales' and entity_type = 'group' and powertrain = 'nev' and units is not null
            union all
            select entity, period_start, period_end, 'channel', 'Exports', 'Domestic', units, ref, source_id
            from t_figures where metric = 'exports' and entity_type = 'group' and powertrain = 'all' and units is not null
        ),
        joined as (
            select t.*, p.mix_dimension, p.segment, p.rest, p.units, p.ref, p.source_id
            from totals t join parts p
                on p.group_name = t.group_name and p.period_start is not distinct from t.period_start and p.period_end = t.period_end
        ),
        segments as (
            select group_name, period_start, period_end, mix_dimension, segment, units, group_units,
                {sorted_ids("source_id", "t_src")} as source_ids, {sorted_ids("ref", "t_ref")} as figure_refs
            from joined
            union all
            select * from (
                select group_name, period_start, period_end, mix_dimension, rest, (group_units - sum(units))::bigint as units, group_units,
                    list_sort(list_distinct(list(source_id) || [any_value(t_src)])), list_sort(list_distinct(list(ref) || [any_value(t_ref)]))
                from joined group by group_name, period_start, period_end, group_units, mix_dimension, rest
            ) where mix_dimension <> 'brand' or units > 0
        )
        select group_name, period_start, period_end, mix_dimension, segment, units,
            units::double / nullif(group_units, 0) as share_of_group, group_units, source_ids, figure_refs
        from segments
        """
    )


def build_localization(con: duckdb.DuckDBPyConnection) -> None:
    key = "group_name, brand, country, site, milestone"
    precision = "case date_precision when 'day' then 1 when 'month' then 2 when 'year' then 3 else 4 end"
    milestone_rank = (
        "case milestone " + " ".join(f"when '{m}' then {i}" for i, m in enumerate(MILESTONES, 1)) + f" else {len(MILESTONES) + 1} end"
    )
    local = ", ".join(f"'{m}'" for m in LOCAL_PRODUCTION)
    con.execute(
        f"""
        create table marts.localization_timeline as
        with reports as (
            select *, row_number() over (partition by {key} order by {precision}, milestone_date, source_id) as rank,
                'plant_launches:' || _file || ':' || _line as ref
            from raw.plant_launches
        ),
        filled as (
            -- what the best report lacks, from the next-best one stating it; every report as lineage
            select {key},
                coalesce(arg_min(assembly_mode, rank) filter (where assembly_mode <> 'unknown'), 'unknown') as assembly_mode,
                arg_min(annual_capacity, rank) filter (where annual_capacity is not null) as annual_capacity,
                arg_min(first_model, rank) filter (where first_model is not null) as first_model,
                list_sort(list_distinct(list(source_id))) as source_ids, list_sort(list_distinct(list(ref))) as figure_refs
            from reports group by {key}
        ),
        chosen as (
            select {key}, r.milestone_date, r.date_precision, r.source_id, filled.* exclude ({key})
            from reports r join filled using ({key}) where r.rank = 1
        ),
        sequenced as (
            select c.*, countries.region,
                row_number() over (partition by c.group_name, c.country
                    order by milestone_date, {precision}, {milestone_rank}, site, brand) as seq,
                min(case when milestone in ({local}) then milestone_date end) over (partition by c.group_name, c.country) as first_local
            from chosen c left join raw.countries on c.country = countries.country
        )
        select group_name, brand, country, region, site, milestone, milestone_date, date_precision, seq::bigint as milestone_seq,
            (milestone_date - lag(milestone_date) over (partition by group_name, country order by seq))::bigint
                as days_since_previous_milestone,
            first_local as first_local_production_date, assembly_mode, annual_capacity, first_model, source_id, source_ids, figure_refs
        from sequenced
        """
    )
    con.execute(
        f"""
        create table marts.localization_summary as
        with sites as (
            select group_name, count(*) as sites, sum(capacity)::bigint as capacity
            from (select group_name, country, site, max(annual_capacity) as capacity from marts.localization_timeline group by all)
            group by group_name
        )
        select t.group_name,
            count(distinct t.country) filter (where t.milestone in ({local})) as countries_with_local_production,
            any_value(s.capacity) as total_stated_capacity, min(t.milestone_date) as first_milestone_date,
            max(t.milestone_date) as latest_milestone_date, count(distinct t.country) as countries_with_milestones,
            any_value(s.sites) as sites,
            list_sort(list_distinct(flatten(list(t.source_ids)))) as source_ids, list_sort(list_distinct(flatten(list(t.figure_refs)))) as figure_refs
        from marts.localization_timeline t join sites s using (group_name)
        group by t.group_name
        """
    )


def findings_sql() -> list[str]:
    """One select per check: check_name, severity, entity, period_start, period_end, details, source_ids, figure_refs."""
    sources_text = "array_to_string({}, ', ')"
    brands = f"""
        with brand_figures as (
            select b.group_name, f.* from t_figures f join raw.brands b on f.entity = b.brand
            where f.metric = 'sales' and f.entity_type = 'brand' and f.units is not null
        ),
        groups as (select * from t_figures where metric = 'sales' and entity_type = 'group' and units is not null),
        sums as (
            select group_name, powertrain, period_start, period_end, sum(units) as b_units, sum(lo) as b_lo
            from brand_figures group by all
        ),
        over as (
            select s.*, g.entity, g.units, g.units_qualifier, g.lo, g.hi, g.ref as g_ref, g.source_id as g_src
            from sums s join groups g on g.entity = s.group_name and g.powertrain = s.powertrain
                and g.period_start is not distinct from s.period_start and g.period_end = s.period_end
            where s.b_lo > g.hi
        ),
        listed as (
            select o.*, string_agg(b.entity || ' ' || {ranged("b.units_qualifier", "b.units", "b.lo", "b.hi")}, ', ' order by -b.units, b.entity) as breakdown,
                list_sort(list_distinct(list(b.source_id) || [any_value(o.g_src)])) as source_ids, list_sort(list_distinct(list(b.ref) || [any_value(o.g_ref)])) as figure_refs
            from over o join brand_figures b on b.group_name = o.group_name and b.powertrain = o.powertrain
                and b.period_start is not distinct from o.period_start and b.period_end = o.period_end
            group by all
        )
        select 'brand_units_exceed_group', 'warning', entity, period_start, period_end,
            'The brands of ' || entity || ' report ' || {units("b_units")} || ' sales ('
                || case when powertrain = 'all' then 'all powertrains' else upper(powertrain) end || ') together for '
                || {period("period_start", "period_end")} || ' (' || breakdown || '), ' || {units("b_lo - hi")}
                || ' more than the group''s own total of ' || {figure_range()} || ' (sources: ' || {sources_text.format("source_ids")} || ').',
            source_ids, figure_refs
        from listed
    """
    inexact = (
        "(select sid, period_start, period_end, units_qualifier, lo, hi from t_figures where units_qualifier in ('approx', 'at_least'))"
    )
    mismatch = f"""
        with bounded as (
            select g.*, coalesce(c.lo, g.units) as u_lo, if(c.sid is null, g.units::double, c.hi) as u_hi,
                coalesce(p.lo, g.prior_units) as p_lo, if(p.sid is null, g.prior_units::double, p.hi) as p_hi,
                coalesce(c.units_qualifier = 'approx', false) or coalesce(p.units_qualifier = 'approx', false) as approx
            from (select g.*, f.sid from marts.growth_rates g
                  join t_series f using (metric, entity, entity_type, powertrain) where g.comparable_periods) g
            left join {inexact} c on c.sid = g.sid and c.period_start = g.period_start and c.period_end = g.period_end
            left join {inexact} p on p.sid = g.sid and p.period_start = g.prior_period_start and p.period_end = g.prior_period_end
        ),
        rated as (
            select *, if(p_hi is null, -100, (u_lo / nullif(p_hi, 0) - 1) * 100) as c_lo, (u_hi / nullif(p_lo, 0) - 1) * 100 as c_hi
            from bounded
        )
        select 'reported_yoy_mismatch', 'warning', entity, period_start, period_end,
            {subject()} || ' for ' || {period("period_start", "period_end")} || ' are reported at ' || {pct("reported_yoy_pct")}
                || ' year on year, but ' || {units("units")} || ' against the ' || {units("prior_units")} || ' reported for '
                || {period("prior_period_start", "prior_period_end")} || ' is ' || {pct("computed_yoy_pct")}
                || case when approx then ' (' || {pct("c_lo")} || ' to ' || coalesce({pct("c_hi")}, 'no limit')
                    || ' within the ranges of the approximate figures)' else '' end
                || ', ' || {decimal("case when reported_yoy_pct < c_lo then c_lo - reported_yoy_pct else reported_yoy_pct - c_hi end")}
                || ' percentage points apart (sources: ' || {sources_text.format("source_ids")} || ').',
            source_ids, figure_refs
        from rated where reported_yoy_pct < c_lo - 0.1 or reported_yoy_pct > c_hi + 0.1
    """
    o_contains = contains("o.period_start", "o.period_end", "i.p_start", "i.p_end")
    implied = f"""
        with implied as (
            select *, units / (1 + reported_yoy_pct / 100) as ip, lo / (1 + (reported_yoy_pct + 0.05) / 100) as ip_lo,
                hi / (1 + (reported_yoy_pct - 0.05) / 100) as ip_hi,
                (period_start - interval 1 year)::date as p_start, {year_earlier_end("period_end")} as p_end
            from t_figures
            where units is not null and reported_yoy_pct is not null and reported_yoy_pct > -99.95 and period_start is not null
        ),
        pairs as (
            select i.*, o.units as o_units, o.units_qualifier as o_q, o.lo as o_lo, o.hi as o_hi, o.period_start as o_start,
                o.period_end as o_end, o.source_id as o_src, o.ref as o_ref, if({o_contains}, 'contains', 'contained') as relation
            from implied i join t_figures o on o.sid = i.sid and o.units is not null
            where not (o.period_start is not distinct from i.p_start and o.period_end = i.p_end)
                and (({o_contains} and i.ip_lo > o.hi)
                    or ({contains("i.p_start", "i.p_end", "o.period_start", "o.period_end")} and i.ip_hi < o.lo))
        )
        select 'implied_prior_contradiction', 'warning', entity, period_start, period_end,
            {subject()} || ' of ' || {figure_range()} || ' for ' || {period("period_start", "period_end")} || ' at '
                || {pct("reported_yoy_pct")} || ' year on year imply ' || {units("ip")}
                || case when units_qualifier = 'approx' then ' (' || {units("ip_lo")} || ' to ' || {units("ip_hi")} || ')' else '' end
                || ' for ' || {period("p_start", "p_end")} || ', '
                || case when units_qualifier = 'approx' or o_q = 'approx'
                    then {units("case when relation = 'contains' then ip_lo - o_hi else o_lo - ip_hi end")}
                    else {units("abs(ip - o_units)")} end
                || if(relation = 'contains', ' more than ', ' less than ') || 'the ' || {ranged("o_q", "o_units", "o_lo", "o_hi")}
                || ' reported for ' || {period("o_start", "o_end")}
                || if(relation = 'contains', ', a period that contains it', ', a period within it')
                || ' (sources: ' || {sources_text.format(sorted_ids("source_id", "o_src"))} || ').',
            {sorted_ids("source_id", "o_src")}, {sorted_ids("ref", "o_ref")}
        from pairs
    """
    nested = f"""
        with f as not materialized (
            select *, period_start is not null and period_end - period_start <= 31 as short,
                floor(coalesce(period_start, period_end) - date '1900-01-01') // 32 as bucket
            from t_figures where units is not null
        ),
        -- a month cannot hold another month: short periods nest only in series with a short period
        -- that is not a calendar month (none, in monthly feeds)
        odd as (select distinct sid from f where short and not (day(period_start) = 1 and period_end = last_day(period_start))),
        s as not materialized (select * from f where short and sid in (select sid from odd)),
        pairs as (
            select i.*, o.units as o_units, o.units_qualifier as o_q, o.lo as o_lo, o.hi as o_hi, o.period_start as o_start,
                o.period_end as o_end, o.source_id as o_src, o.ref as o_ref
            from f i join f o on o.sid = i.sid and not o.short
            where {contains("o.period_start", "o.period_end", "i.period_start", "i.period_end")}
                and not (o.period_start is not distinct from i.period_start and o.period_end = i.period_end) and i.lo > o.hi
            union all
            select i.*, o.units, o.units_qualifier, o.lo, o.hi, o.period_start, o.period_end, o.source_id, o.ref
            from s i join s o on o.sid = i.sid and i.bucket = o.bucket
            where {contains("o.period_start", "o.period_end", "i.period_start", "i.period_end")}
                and not (o.period_start is not distinct from i.period_start and o.period_end = i.period_end) and i.lo > o.hi
            union all
            select i.*, o.units, o.units_qualifier, o.lo, o.hi, o.period_start, o.period_end, o.source_id, o.ref
            from s i join s o on o.sid = i.sid and i.bucket = o.bucket + 1
            where {contains("o.period_start", "o.period_end", "i.period_start", "i.period_end")}
                and i.lo > o.hi
        )
        select 'nested_period_exceeds', 'warning', entity, period_start, period_end,
            {subject()} || ' of ' || {figure_range()} || ' for ' || {period("period_start", "period_end")} || ' are '
                || {units("lo - o_hi")} || ' more than the ' || {ranged("o_q", "o_units", "o_lo", "o_hi")} || ' reported for '
                || {period("o_start", "o_end")} || ', a longer period containing it (sources: '
                || {sources_text.format(sorted_ids("source_id", "o_src"))} || ').',
            {sorted_ids("source_id", "o_src")}, {sorted_ids("ref", "o_ref")}
        from pairs
    """

    def report(n: str) -> str:
        stated = f"({ranged(f'q{n}', f'u{n}', f'lo{n}', f'hi{n}')} || ' units')"
        return f"s{n} || ' reports ' || coalesce({stated}, 'no units') || coalesce(' (' || {pct(f'y{n}')} || ' year on year)', '')"

    conflicts = f"""
        with twice as (
            select r.* from t_reports r semi join (select * from t_figures where reports > 1) f
                on f.metric = r.metric and f.entity = r.entity and f.entity_type = r.entity_type and f.powertrain = r.powertrain
                and f.period_start is not distinct from r.period_start and f.period_end = r.period_end
        ),
        pairs as (
            select a.entity, a.metric, a.powertrain, a.period_start, a.period_end,
                a.units as u1, a.units_qualifier as q1, a.lo as lo1, a.hi as hi1, a.reported_yoy_pct as y1, a.source_id as s1, a.ref as r1,
                b.units as u2, b.units_qualifier as q2, b.lo as lo2, b.hi as hi2, b.reported_yoy_pct as y2, b.source_id as s2, b.ref as r2
            from twice a join twice b using (metric, entity, entity_type, powertrain, period_end)
            where a.period_start is not distinct from b.period_start and a.ref < b.ref
                and (a.lo > b.hi or b.lo > a.hi or a.reported_yoy_pct <> b.reported_yoy_pct)
        )
        select 'conflicting_reports', 'warning', entity, period_start, period_end,
            {subject()} || ' for ' || {period("period_start", "period_end")} || ': ' || {report("1")} || ', ' || {report("2")}
                || coalesce(', ' || case when q1 = 'approx' or q2 = 'approx'
                    then {units("case when lo1 > hi2 then lo1 - hi2 when lo2 > hi1 then lo2 - hi1 else 0 end")}
                    else {units("abs(u1 - u2)")} end || ' units apart', '') || '.',
            {sorted_ids("s1", "s2")}, {sorted_ids("r1", "r2")}
        from pairs
    """
    derived = f"""
        select 'conflicting_reports', 'warning', entity, month, r_end,
            {subject()} || ' for ' || {period("month", "r_end")} || ': ' || r_src || ' reports ' || {ranged("r_q", "r_units", "r_lo", "r_hi")}
                || ' units for the month, but the year-to-date figures give ' || {ranged("d_q", "d_units", "d_lo", "d_hi")}
                || ' (' || {units("y_units")} || ' up to ' || y_end::varchar || ' less ' || {units("p_units")} || ' up to ' || p_end::varchar
                || ', ' || {sources_text.format(sorted_ids("y_src", "p_src"))} || '), '
                || {units("if(r_lo > d_hi, r_lo - d_hi, d_lo - r_hi)")} || ' units apart.',
            {sorted_ids("r_src", "y_src", "p_src")}, {sorted_ids("r_ref", "y_ref", "p_ref")}
        from t_months
        where r_units is not null and d_q is not null and (r_lo > d_hi or d_lo > r_hi)
    """
    latest = "case date_precision when 'month' then last_day(milestone_date) when 'year' then last_day(date_trunc('year', milestone_date) + interval 11 month)::date else milestone_date end"
    order = " union all ".join(f"select '{a}' as a, '{b}' as b" for a, b in MILESTONE_ORDER)
    milestones = f"""
        with dated as (select *, {latest} as latest from marts.localization_timeline)
        select 'milestones_out_of_order', 'warning', l.group_name || ' / ' || l.country || ' / ' || l.site, l.milestone_date, e.milestone_date,
            'At ' || l.group_name || ' / ' || l.country || ' / ' || l.site || ', ' || l.milestone || ' on ' || l.milestone_date::varchar
                || ' (' || l.date_precision || ' precision) is dated at least ' || (e.milestone_date - l.latest)::varchar || ' days before '
                || e.milestone || ' on ' || e.milestone_date::varchar || ' (' || e.date_precision
                || ' precision), which must come first (sources: ' || {sources_text.format("list_sort(list_distinct(l.source_ids || e.source_ids))")} || ').',
            list_sort(list_distinct(l.source_ids || e.source_ids)), list_sort(list_distinct(l.figure_refs || e.figure_refs))
        from ({order}) o join dated e on e.milestone = o.a
        join dated l on l.milestone = o.b and l.group_name = e.group_name and l.country = e.country and l.site = e.site
        where l.latest < e.milestone_date
    """
    non_comparable = f"""
        select 'non_comparable_growth', 'info', entity, period_start, period_end,
            {subject()} || ' of ' || {units("units")} || ' for ' || {period("period_start", "period_end")} || ' are compared with the '
                || {units("prior_units")} || ' reported for ' || {period("prior_period_start", "prior_period_end")}
                || ', which is not the same period a year earlier: the computed ' || {pct("computed_yoy_pct")}
                || ' is not a year-on-year growth rate (sources: ' || {sources_text.format("source_ids")} || ').',
            source_ids, figure_refs
        from marts.growth_rates where computed_yoy_pct is not null and not comparable_periods
    """
    months = f"""
        with running as (
            select *, sum(r_lo) over (partition by sid, year(month) order by month) as m_lo
            from t_months semi join (select distinct sid, year(month) as year from t_months where y_units is not null) y
                on y.sid = t_months.sid and y.year = year(t_months.month)
        ),
        over as (select * from running where y_units is not null and m_lo > y_hi),
        summed as (
            select o.*, count(*) as n, sum(r.r_units) as m_units,
                list_sort(list_distinct(list(r.r_src) || [any_value(o.y_src)])) as source_ids, list_sort(list_distinct(list(r.r_ref) || [any_value(o.y_ref)])) as figure_refs
            from over o join t_months r on r.sid = o.sid and year(r.month) = year(o.month) and r.month <= o.month and r.r_units is not null
            group by all
        )
        select 'months_exceed_year_to_date', 'warning', entity, date_trunc('year', month)::date, y_end,
            {subject()} || ': the ' || n::varchar || ' single month(s) reported for ' || {period("date_trunc('year', month)::date", "y_end")}
                || ' add up to ' || {units("m_units")} || ', ' || {units("m_lo - y_hi")} || ' more than the '
                || {ranged("y_q", "y_units", "y_lo", "y_hi", at_least=False)} || ' reported for the year to date (sources: '
                || {sources_text.format("source_ids")} || ').',
            source_ids, figure_refs
        from summed
    """
    return [brands, mismatch, implied, nested, conflicts, milestones, non_comparable, months, derived]


def build_findings(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table marts.data_quality_findings (check_name varchar, severity varchar, entity varchar, period_start date, "
        "period_end date, details varchar, source_ids varchar[], figure_refs varchar[])"
    )
    for select in findings_sql():
        con.execute(f"insert into marts.data_quality_findings {select}")


def build_marts(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Every mart; returns the seconds each step took (the figures first), for `make bench` to show where they go."""
    con.execute("create schema marts")
    steps = {
        "figures": build_figures,
        "growth_rates": build_growth_rates,
        "monthly_figures": build_monthly_figures,
        "brand_mix": build_brand_mix,
        "localization": build_localization,
        "data_quality_findings": build_findings,
    }
    seconds = {}
    for name, step in steps.items():
        clock = time.perf_counter()
        step(con)
        seconds[name] = round(time.perf_counter() - clock, 2)
    return seconds


def main(landing: str, folder: str) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    stages = {}
    # The same memory budget as the flow's, so that both spill at the same point.
    with duckdb.connect(str(Path(folder) / "baseline.duckdb"), config={"memory_limit": memory_limit()}) as con:
        mart_seconds: dict[str, float] = {}
        work_by_stage = {
            "load": lambda: load(con, Path(landing)),
            "validate": lambda: validate(con),
            "marts": lambda: mart_seconds.update(build_marts(con)),
        }
        for name, work in work_by_stage.items():
            started, clock = time.time(), time.perf_counter()
            work()
            stages[name] = {"started_at": started, "seconds": round(time.perf_counter() - clock, 3)}
        rejected = sum(con.execute(f"select count(*) from rejected_{feed}").fetchone()[0] for feed in FEEDS)
        unreadable = sum(con.execute(f"select count(*) from rejects_{feed}").fetchone()[0] for feed in FEEDS)
    print(json.dumps({"stages": stages, "rows_rejected": rejected + unreadable, "mart_seconds": mart_seconds}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
