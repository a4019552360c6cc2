"""Synth: write a synthetic landing set in the feed formats, for benchmarks and scale tests.

The figures are made up, and every row says so: each cites the one source `synthetic_registrations`,
whose title starts with SYNTHETIC. The set is a decade of monthly sales (and a tenth as many
exports) per entity and powertrain, for synthetic groups, their brands and synthetic countries,
each group's year-to-date totals of them (sales_ytd.csv, exports_ytd.csv: Jan-Oct, Jan-Nov, ...
as carmakers publish them), plus the reference feeds they need and a few plant milestones per group. Figures add up the way
real ones do (NEV = BEV + PHEV, all = NEV + ICE, a group sells at least what its brands sell,
exports are a part of sales), so the marts and their dbt tests hold on the good rows.

Everything is computed by DuckDB from hashes of (row, seed): the same seed gives the same bytes,
whatever the number of threads, and ten million rows take seconds, not minutes. With
`bad_fraction`, that share of the sales and exports rows is broken in one of several ways (each
breaks exactly one row and at least one rule), and `synth.json` beside the feeds says how many, so
a run can be checked to quarantine every one of them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

SOURCE_ID = "synthetic_registrations"
MONTHS = 120  # 2015-01 to 2024-12
FIRST_MONTH = "2015-01-01"
POWERTRAINS = ("all", "nev", "bev", "phev", "ice")
BRANDS_PER_GROUP = 8
COUNTRIES = 50
EXPORTS_SHARE = 10  # one exports row for every ten sales rows
# How a bad row is broken, by kind (the stage that must catch it in brackets).
BAD_KINDS = (
    "negative units [validate]",
    "unknown powertrain [validate]",
    "impossible date 2024-13-01 [load]",
    "units not a number [load]",
    "unknown entity [validate]",
    "unknown source [validate]",
    "period ends before it starts [validate]",
    "units without a qualifier [validate]",
    "an extra field [load]",
)
_FIGURE_HEADER = "entity,entity_type,powertrain,period_start,period_end,units,units_qualifier,reported_yoy_pct,source_id,quote"


@dataclass(frozen=True)
class SynthSet:
    """What `write` produced: rows per feed, and how many of them were broken on purpose."""

    folder: str
    seed: int
    rows: dict[str, int]
    bad_rows: dict[str, int]

    @property
    def total_bad(self) -> int:
        return sum(self.bad_rows.values())


def write(out: Path, rows: int, seed: int = 42, bad_fraction: float = 0.0) -> SynthSet:
    """Write sources, countries, brands, sales (`rows` rows), exports and plant_launches CSVs into `out`."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    if not 0.0 <= bad_fraction <= 1.0:
        raise ValueError("bad_fraction must be between 0 and 1")
    out.mkdir(parents=True, exist_ok=True)
    per_entity = MONTHS * len(POWERTRAINS)
    entities = -(-rows // per_entity)  # enough entities for `rows` sales rows
    groups = max(1, -(-(entities - COUNTRIES) // (1 + BRANDS_PER_GROUP)))
    counts: dict[str, int] = {}
    bad: dict[str, int] = {}
    with duckdb.connect() as con:
        con.execute("set preserve_insertion_order = true")
        params = {"seed": seed, "groups": groups, "countries": COUNTRIES, "brands_per_group": BRANDS_PER_GROUP}
        con.execute(_ENTITIES_SQL, _used(_ENTITIES_SQL, params))
        counts["sources"] = _copy_lines(con, out / "sources.csv", _SOURCES_SQL, params)
        counts["countries"] = _copy_lines(con, out / "countries.csv", _COUNTRIES_SQL)
        counts["brands"] = _copy_lines(con, out / "brands.csv", _BRANDS_SQL)
        counts["plant_launches"] = _copy_lines(con, out / "plant_launches.csv", _PLANTS_SQL, params)
        con.execute(_MONTHLY_UNITS_SQL, _used(_MONTHLY_UNITS_SQL, {**params, "months": MONTHS, "first_month": FIRST_MONTH}))
        for feed, feed_rows in (("sales", rows), ("exports", max(1, rows // EXPORTS_SHARE))):
            figure_params = {"seed": seed, "rows": feed_rows, "bad": bad_fraction, "kinds": len(BAD_KINDS), "feed": feed}
            counts[feed] = _copy_lines(con, out / f"{feed}.csv", _FIGURES_SQL, figure_params, header=_FIGURE_HEADER)
            # and each group's year-to-date totals of the same months, a second file of the feed
            counts[feed] += _copy_lines(con, out / f"{feed}_ytd.csv", _YEAR_TO_DATE_SQL, figure_params, header=_FIGURE_HEADER)
            bad[feed] = con.execute(_BAD_COUNT_SQL, _used(_BAD_COUNT_SQL, figure_params)).fetchone()[0]
    result = SynthSet(str(out), seed, counts, bad)
    (out / "synth.json").write_text(json.dumps({**asdict(result), "bad_kinds": list(BAD_KINDS)}, indent=2) + "\n")
    return result


def _used(sql: str, params: dict) -> dict:
    """The parameters `sql` names ($name): DuckDB refuses any it does not use."""
    return {name: value for name, value in params.items() if f"${name}" in sql}


def _copy_lines(con: duckdb.DuckDBPyConnection, path: Path, sql: str, params: dict | None = None, header: str | None = None) -> int:
    """Write the `line` column of `sql` (CSV lines made by the query, header first) to `path`, as is."""
    con.execute(f"create or replace temp table _lines as {sql}", _used(sql, params or {}))
    header_sql = "select ? as line, -1 as ordinal union all " if header else ""
    target = str(path).replace("'", "''")
    con.execute(
        f"copy (select line from ({header_sql}select line, ordinal from _lines) order by ordinal) to '{target}' "
        "(format csv, header false, quote '', escape '', delim '\t')",
        [header] if header else [],
    )
    return con.execute("select count(*) from _lines where ordinal >= 0").fetchone()[0]


# Synthetic countries first, then each group followed by its brands. A country is named
# 'Synthland NNN' with a made-up two-letter code; groups and brands are numbered.
_ENTITIES_SQL = """
create or replace temp table entities as
select
    k,
    case when k < $countries then 'country' when (k - $countries) % (1 + $brands_per_group) = 0 then 'group' else 'brand' end
        as entity_type,
    case when k >= $countries then (k - $countries) // (1 + $brands_per_group) end as group_k,
    case
        when k < $countries then 'Synthland ' || lpad(k::varchar, 3, '0')
        when (k - $countries) % (1 + $brands_per_group) = 0
            then 'Synth Group ' || lpad(((k - $countries) // (1 + $brands_per_group))::varchar, 5, '0')
        else 'Synth Brand ' || lpad((k - $countries)::varchar, 6, '0')
    end as entity
from range($countries + $groups * (1 + $brands_per_group)) as t(k)
"""

_SOURCES_SQL = """
select -1 as ordinal, 'source_id,title,publisher,published_on,document,url' as line
union all
select 1, 'synthetic_registrations,SYNTHETIC registrations made up by outbound synth (seed ' || $seed
    || '); not real figures,outbound synth,,,https://example.invalid/outbound/synthetic'
"""

_COUNTRIES_SQL = """
select -1 as ordinal, 'country,iso2,region' as line
union all
select k, entity || ',' || chr(65 + (k // 26)::int) || chr(65 + (k % 26)::int) || ',Synthetic region' from entities
where entity_type = 'country'
"""

_BRANDS_SQL = """
select -1 as ordinal, 'brand,group_name,positioning' as line
union all
select brand.k, brand.entity || ',' || grp.entity || ',synthetic brand'
from entities as brand join entities as grp on grp.group_k = brand.group_k and grp.entity_type = 'group'
where brand.entity_type = 'brand'
"""

# Each group builds one plant in a country: announced, then construction, then production.
_PLANTS_SQL = """
select -1 as ordinal,
    'group_name,brand,country,site,milestone,milestone_date,date_precision,assembly_mode,annual_capacity,first_model,source_id,quote,note'
    as line
union all
select grp.group_k * 3 + step.i,
    grp.entity || ',' || brand.entity || ',' || country.entity || ',Site ' || grp.group_k || ','
    || ['announced', 'construction_start', 'production_start'][step.i + 1] || ','
    || strftime(date '2016-01-01' + to_days((hash(grp.group_k, $seed) % 1500)::int + step.i * 300), '%Y-%m-%d')
    || ',day,CKD,' || (10000 + hash(grp.group_k, $seed, 'capacity') % 190000) || ',,synthetic_registrations,,synthetic plant'
from entities as grp
join entities as brand on brand.k = grp.k + 1
join entities as country on country.k = hash(grp.group_k, $seed, 'country') % $countries
cross join range(3) as step(i)
where grp.entity_type = 'group'
"""

# Units per entity, month and base powertrain (BEV, PHEV, ICE); a group sells what its brands sell plus some.
_MONTHLY_UNITS_SQL = """
create or replace temp table monthly_units as
with brand_units as (
    select
        entities.k, entities.entity_type, entities.group_k, month.m,
        50 + hash(entities.k, month.m, $seed, 'bev') % 5000 as bev,
        20 + hash(entities.k, month.m, $seed, 'phev') % 3000 as phev,
        100 + hash(entities.k, month.m, $seed, 'ice') % 20000 as ice
    from entities cross join range($months) as month(m)
),
group_units as (
    select group_k, m, sum(bev) as bev, sum(phev) as phev, sum(ice) as ice
    from brand_units where entity_type = 'brand'
    group by group_k, m
)
select
    b.k, b.m,
    $first_month::date + to_months(b.m::int) as period_start,
    last_day($first_month::date + to_months(b.m::int)) as period_end,
    case when b.entity_type = 'group' then coalesce(g.bev, 0) + b.bev % 100 else b.bev end as bev,
    case when b.entity_type = 'group' then coalesce(g.phev, 0) + b.phev % 100 else b.phev end as phev,
    case when b.entity_type = 'group' then coalesce(g.ice, 0) + b.ice % 1000 else b.ice end as ice
from brand_units as b
left join group_units as g on b.entity_type = 'group' and g.group_k = b.group_k and g.m = b.m
"""

_FIGURES_SQL = """
with figures as (
    select
        row_number() over (order by u.m, u.k, p.i) - 1 as ordinal,
        e.entity, e.entity_type, p.powertrain, u.period_start, u.period_end,
        case p.powertrain
            when 'bev' then u.bev when 'phev' then u.phev when 'ice' then u.ice
            when 'nev' then u.bev + u.phev else u.bev + u.phev + u.ice
        end as sold
    from monthly_units as u
    join entities as e using (k)
    cross join (select unnest(['all', 'nev', 'bev', 'phev', 'ice']) as powertrain, generate_subscripts(['all', 'nev', 'bev', 'phev', 'ice'], 1) as i) as p
    qualify ordinal < $rows
),
marked as (
    select
        *,
        -- exports are a stable share (5% to 54%) of the entity's sales, so never more than them
        case when $feed = 'exports' then sold * (5 + hash(entity, $seed, 'share') % 50) // 100 else sold end as units,
        case when (hash(ordinal, $seed, $feed, 'bad') % 1000000) < $bad * 1000000
            then (hash(hash(ordinal, $seed, $feed), 'kind') % $kinds)::int end as bad_kind
    from figures
)
select
    ordinal,
    case bad_kind when 4 then 'Nobody Motors ' || ordinal else entity end || ','
    || entity_type || ','
    || case bad_kind when 1 then 'hybrid' else powertrain end || ','
    || case bad_kind when 2 then '2024-13-01' when 6 then strftime(period_end, '%Y-%m-%d') else strftime(period_start, '%Y-%m-%d') end || ','
    || case bad_kind when 6 then strftime(period_start, '%Y-%m-%d') else strftime(period_end, '%Y-%m-%d') end || ','
    || case bad_kind when 0 then '-' || units when 3 then 'many' else units::varchar end || ','
    || case bad_kind when 7 then '' else 'exact' end || ',,'
    || case bad_kind when 5 then 'no_such_source' else 'synthetic_registrations' end || ','
    || case bad_kind when 8 then ',extra' else '' end
    as line
from marked
"""

# Year-to-date totals, as carmakers publish them each month (Jan-Oct, then Jan-Nov): for every
# group, the running sum within each year of its monthly units of all powertrains, for the months
# the single-month file holds (its rows run month by month, entity by entity, five powertrains
# each: the first $rows of them), but January, which is that file's single month. Never broken:
# the bad rows are the single months'. They make marts.monthly_figures derive months (which agree
# with the single months reported) at scale.
_YEAR_TO_DATE_SQL = """
with written as (
    select
        e.entity, u.m, u.period_end,
        date_trunc('year', u.period_start)::date as year_start,
        case when $feed = 'exports'
            then (u.bev + u.phev + u.ice) * (5 + hash(e.entity, $seed, 'share') % 50) // 100
            else u.bev + u.phev + u.ice
        end as units
    from monthly_units as u
    join entities as e using (k)
    where e.entity_type = 'group'
        -- the position of the month's 'all' row in the single-month file
        and (u.m * (select count(*) from entities) + u.k) * 5 < $rows
),
running as (
    select *, sum(units) over (partition by entity, year_start order by m) as year_to_date
    from written
)
select
    row_number() over (order by m, entity) - 1 as ordinal,
    entity || ',group,all,' || strftime(year_start, '%Y-%m-%d') || ',' || strftime(period_end, '%Y-%m-%d') || ','
        || year_to_date::bigint || ',exact,,synthetic_registrations,' as line
from running
-- January's year to date is the single month the other file holds (the same key)
where extract(month from period_end) > 1
"""

_BAD_COUNT_SQL = """
select count(*) from range($rows) as t(ordinal)
where (hash(ordinal, $seed, $feed, 'bad') % 1000000) < $bad * 1000000
"""
