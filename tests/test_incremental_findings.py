"""data_quality_findings built incrementally equals a full build, check by check.

An incremental run rebuilds only the findings its changed figures can change (macros/findings_scope.sql):
each check's dependency (the same figure, a year earlier or later, the months of a year, nested
periods, a brand's group) decides which. The synthetic data of tests/test_incremental_equivalence.py
mostly yields non_comparable_growth findings, so here a small landing set of its own (the monthly
fixture's figures, and SYNTHETIC ones below) brings findings of every check in new files, then changes
and removes files so that findings appear, change and go; after each drop the incremental run's
findings (and every other mart) must equal, row for row, those of a full build of the same files: the
independent plain-DuckDB build, which tests/test_baseline.py holds equal to a full `outbound run`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import query
from tests.test_baseline import baseline, marts_differ

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "monthly_landing"
FIGURES_HEADER = "entity,entity_type,powertrain,period_start,period_end,units,units_qualifier,reported_yoy_pct,source_id,quote"
SOURCE = "synthetic_monthly_fixture"
SECOND_SOURCE = "synthetic_second_report"
CHECKS = {
    "brand_units_exceed_group",
    "reported_yoy_mismatch",
    "implied_prior_contradiction",
    "nested_period_exceeds",
    "conflicting_reports",
    "milestones_out_of_order",
    "non_comparable_growth",
    "months_exceed_year_to_date",
}


def figures(*rows: str, source: str = SOURCE) -> str:
    """A figures file: rows of entity,entity_type,powertrain,period_start,period_end,units,qualifier,yoy,
    each quoted as the contracts require (its units and growth as a source writes them)."""
    lines = [FIGURES_HEADER]
    for row in rows:
        units, yoy = row.split(",")[5], row.split(",")[7]
        lines.append(f'{row},{source},"SYNTHETIC: {int(units):,} units{f", up {yoy}%" if yoy else ""}"')
    return "\n".join(lines) + "\n"


def plant(announced: str, production_start: str) -> str:
    """A plant launches file: one plant's announcement and start of production."""
    header = "group_name,brand,country,site,milestone,milestone_date,date_precision,assembly_mode,annual_capacity,first_model,source_id,quote,note"
    rows = [
        f"Chery Group,Chery,China,Wuhu,{milestone},{date},day,full,,,{SOURCE},,SYNTHETIC"
        for milestone, date in (("announced", announced), ("production_start", production_start))
    ]
    return "\n".join([header, *rows]) + "\n"


# Each drop: files written (name -> text) and files removed. What each brings is in its comments.
DROPS = [
    (
        "new files: a month, a second report of it, exports a year apart, plants",
        {
            # Chery's March over its year to date (months_exceed_year_to_date) and over the month the
            # year-to-date figures derive (conflicting_reports); Chery's and Jetour's NEVs over their group's
            # March (brand_units_exceed_group; not all powertrains: the brand mix's shares must add up)
            "sales_2024-03.csv": figures(
                "Chery,brand,all,2024-03-01,2024-03-31,50000,exact,",
                "Chery,brand,all,2024-01-01,2024-03-31,250000,exact,",
                "Jetour,brand,all,2024-03-01,2024-03-31,20000,exact,",
                "Chery Group,group,all,2024-03-01,2024-03-31,90000,exact,",
                "Chery,brand,nev,2024-03-01,2024-03-31,30000,exact,",
                "Jetour,brand,nev,2024-03-01,2024-03-31,20000,exact,",
                "Chery Group,group,nev,2024-03-01,2024-03-31,40000,exact,",
            ),
            # the same March reported differently by another source (conflicting_reports)
            "sales_second_report.csv": figures("Chery,brand,all,2024-03-01,2024-03-31,55000,exact,", source=SECOND_SOURCE),
            # a reported growth the figures a year apart contradict (reported_yoy_mismatch)
            "exports_2025-03.csv": figures(
                "Chery Group,group,all,2024-03-01,2024-03-31,40000,exact,",
                "Chery Group,group,all,2025-03-01,2025-03-31,48000,exact,50",
            ),
            # production before the announcement (milestones_out_of_order)
            "plant_launches.csv": plant(announced="2024-06-01", production_start="2024-01-15"),
        },
        [],
    ),
    (
        "changed files, and a cumulative total",
        {
            # March down: no longer over the year to date, still apart from the derived month and the
            # second report (other details); the group's NEVs up, over its brands'
            "sales_2024-03.csv": figures(
                "Chery,brand,all,2024-03-01,2024-03-31,30000,exact,",
                "Chery,brand,all,2024-01-01,2024-03-31,250000,exact,",
                "Jetour,brand,all,2024-03-01,2024-03-31,20000,exact,",
                "Chery Group,group,all,2024-03-01,2024-03-31,90000,exact,",
                "Chery,brand,nev,2024-03-01,2024-03-31,25000,exact,",
                "Jetour,brand,nev,2024-03-01,2024-03-31,20000,exact,",
                "Chery Group,group,nev,2024-03-01,2024-03-31,60000,exact,",
            ),
            # the prior approximate: the growth is a range now, still not the reported one (other details)
            "exports_2025-03.csv": figures(
                "Chery Group,group,all,2024-03-01,2024-03-31,40000,approx,",
                "Chery Group,group,all,2025-03-01,2025-03-31,48000,exact,50",
            ),
            # a cumulative total below the January-November exports it contains (nested_period_exceeds)
            "exports_cumulative.csv": figures("Chery Group,group,all,,2024-12-31,1000000,exact,"),
            "plant_launches.csv": plant(announced="2023-06-01", production_start="2024-01-15"),
        },
        [],
    ),
    (
        "removed files, pruned",
        {},
        ["sales_second_report.csv", "exports_cumulative.csv", "sales_2024-03.csv"],
    ),
]


def findings(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select * exclude (run_id) from marts.data_quality_findings order by all")


def test_findings_of_every_check_built_incrementally_equal_a_full_build(outbound, tmp_path):
    landing, warehouse, full = tmp_path / "landing", tmp_path / "warehouse" / "outbound.duckdb", tmp_path / "baseline"
    shutil.copytree(FIXTURE, landing)
    with (landing / "sources.csv").open("a", encoding="utf-8") as sources:
        sources.write(f'{SECOND_SOURCE},"SYNTHETIC second report (tests/test_incremental_findings.py)",,,,https://example.invalid/second\n')
    first = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert first.returncode == 0, first.output
    before = findings(warehouse)
    seen = {check for check, *_ in before}

    for step, written, removed in DROPS:
        for name, text in written.items():
            (landing / name).write_text(text, encoding="utf-8")
        for name in removed:
            (landing / name).unlink()
        ran = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse), "--prune")
        assert ran.returncode == 0, f"{step}: {ran.output}"
        run_id = query(warehouse, "select run_id from ops.publication")[0][0]
        assert query(
            warehouse, "select materialized from ops.dbt_results where run_id = ? and name = 'data_quality_findings'", [run_id]
        ) == [("incremental",)], step
        assert query(warehouse, "select distinct run_id from marts.data_quality_findings") == [(run_id,)], step

        # a full build of the same files: the independent plain-DuckDB build (benchmarks/baseline.py, which
        # tests/test_baseline.py holds equal to a full `outbound run`, findings included), in seconds
        shutil.rmtree(full, ignore_errors=True)
        differ = marts_differ(warehouse, baseline(landing, full))
        assert differ == {mart: (rows, 0, 0) for mart, (rows, _, _) in differ.items()}, (step, differ)
        built = findings(warehouse)
        assert built != before, f"{step}: the drop changed no finding"
        seen |= {check for check, *_ in built}
        before = built

    assert seen == CHECKS
