"""Reruns, changed, new and removed files, fixed rows, --prune, --full-refresh, status and rejects: for real."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb

from tests.conftest import REPO, query, sha256

MARTS = ["brand_mix", "growth_rates", "monthly_figures", "localization_timeline", "localization_summary", "data_quality_findings"]
SALES_HEADER = "entity,entity_type,powertrain,period_start,period_end,units,units_qualifier,reported_yoy_pct,source_id,quote"
# A figure from a URL source (no quote needed), added to try new, changed and removed files.
EXTRA_ROW = "Chery Group,group,phev,2024-01-01,2024-11-30,{units},exact,,ref_nikkei_gwm_thailand,"
# Figures of other keys: one broken at validate (negative units), one at load (not a whole number).
NEGATIVE_ROW = EXTRA_ROW.format(units="-7").replace("phev", "bev")
FRACTION_ROW = EXTRA_ROW.format(units="12.5").replace("phev", "erev")


def sales_rows(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select regexp_extract(_file, '[^/]+$'), units from raw.sales where powertrain = 'phev' order by 1, 2")


def test_reruns_and_changes(outbound, published_landing):
    landing, warehouse = published_landing.landing, published_landing.warehouse
    run = lambda *args: outbound(*published_landing.args, *args)

    # The first run (the fixture's, into an empty warehouse folder) loaded every file.
    first = published_landing.first_run
    assert first.returncode == 0, first.output
    assert "6 new, 0 changed, 0 unchanged, 0 removed" in first.stdout
    published = sha256(warehouse)

    # Nothing new: nothing loaded, no dbt, the published file is not even rewritten.
    again = run()
    assert again.returncode == 0, again.output
    assert "nothing new" in again.stdout and "dbt:" not in again.stdout
    assert sha256(warehouse) == published

    # A new file adds its rows; its two broken rows are quarantined, and listed by `outbound rejects`.
    extra = landing / "sales_2024 phev.csv"
    extra.write_text(f"{SALES_HEADER}\n{EXTRA_ROW.format(units=100)}\n{NEGATIVE_ROW}\n{FRACTION_ROW}\n", encoding="utf-8")
    added = run()
    assert added.returncode == 0 and "2 row(s) rejected" in added.stdout, added.output
    assert "1 new, 0 changed, 6 unchanged" in added.stdout, added.output
    assert sales_rows(warehouse) == [("sales_2024 phev.csv", 100)]
    [(valid, rejected)] = query(warehouse, "select rows_loaded, rows_rejected from ops.manifest where name = 'sales_2024 phev.csv'")
    assert (valid, rejected) == (1, 2)
    listed = outbound("rejects", "--feed", "sales", "--warehouse", str(warehouse))
    assert f"{extra.name}:3 (sales, rejected at validate)" in listed.stdout
    assert "rule: units: greater_than_or_equal_to(0) (value -7)" in listed.stdout
    assert f"{extra.name}:4 (sales, rejected at load)" in listed.stdout
    assert "rule: units: '12.5' is not a whole number" in listed.stdout
    assert outbound("rejects", "--feed", "exports", "--warehouse", str(warehouse)).stdout.strip() == "no rejected rows in feed exports"

    # A changed file replaces the rows it brought: no duplicates, no leftovers; its fixed row leaves quarantine.
    extra.write_text(f"{SALES_HEADER}\n{EXTRA_ROW.format(units=200)}\n{NEGATIVE_ROW.replace('-7', '7')}\n", encoding="utf-8")
    changed = run()
    assert changed.returncode == 0 and "row(s) rejected" not in changed.stdout, changed.output
    assert "0 new, 1 changed, 6 unchanged" in changed.stdout, changed.output
    assert sales_rows(warehouse) == [("sales_2024 phev.csv", 200)]
    assert query(warehouse, "select units from raw.sales where _file = ? order by all", [extra.name]) == [(7,), (200,)]
    assert query(warehouse, "select count(*) from quarantine.rejected_rows") == [(0,)]
    [(valid, rejected)] = query(warehouse, "select rows_loaded, rows_rejected from ops.manifest where name = 'sales_2024 phev.csv'")
    assert (valid, rejected) == (2, 0)
    record = json.loads(warehouse.with_name("outbound.runs.jsonl").read_text().splitlines()[-1])
    assert record["status"] == "completed" and record["rows_rejected"] == 0

    # A removed file is reported and its rows kept, until --prune.
    extra.unlink()
    kept = run()
    assert f"removed: {extra.name}: its rows are kept; run with --prune to drop them" in kept.stdout, kept.output
    assert "nothing new" in kept.stdout
    assert sales_rows(warehouse) == [("sales_2024 phev.csv", 200)]
    pruned = run("--prune")
    assert pruned.returncode == 0, pruned.output
    assert "its rows were dropped (--prune)" in pruned.stdout
    assert sales_rows(warehouse) == []
    assert query(warehouse, "select count(*) from ops.manifest") == [(6,)]

    # --full-refresh rebuilds from the files alone, with the same marts: after a moved landing folder
    # (test_moved_landing_directory_is_the_same_files), and after new, changed, removed and renamed
    # files, every mart (tests/test_incremental_equivalence.py).

    # Every run is in the run history: in the log for `outbound status`, and in ops.runs.
    status = outbound("status", "--warehouse", str(warehouse))
    assert status.returncode == 0, status.output
    assert " sales.csv " in status.stdout
    statuses = [line.split()[1] for line in status.stdout.splitlines()[-6:]]
    assert statuses == ["completed", "no_op", "completed", "completed", "no_op", "completed"]
    runs = query(warehouse, "select status, files_new, files_changed from ops.runs order by started_at")
    assert [status for status, _, _ in runs] == ["completed", "no_op", "completed", "completed", "no_op", "completed"]
    assert runs[2][1:] == (1, 0) and runs[3][1:] == (0, 1)


# A fixed row leaves quarantine: in test_reruns_and_changes, whose new file brings two broken rows
# and whose changed file fixes one and drops the other (it was a test of its own, test_fixed_row_leaves_quarantine,
# whose two runs were the same as those two).


def test_moved_landing_directory_is_the_same_files(outbound, published_landing, tmp_path):
    """Everything published names landing files relative to the landing folder: moving the folder changes nothing."""
    landing, warehouse = published_landing.landing, published_landing.warehouse  # published from `landing`
    marts = {name: all_rows(warehouse, f"marts.{name}") for name in MARTS}
    assert query(warehouse, "select distinct _file from raw.sales") == [("sales.csv",)]
    assert ["sales:sales.csv:2", "sales:sales.csv:4"] == query(
        warehouse, "select figure_refs from marts.brand_mix where segment = 'Chery'"
    )[0][0]
    # The machine's paths: the pytest folder holding the landing folders and the warehouse, and this checkout.
    machine = [os.path.commonpath([landing, tmp_path]), str(REPO)]
    assert_no_path_in(warehouse, machine)
    moved = tmp_path / "moved" / "elsewhere"
    shutil.copytree(landing, moved)
    published = sha256(warehouse)

    rerun = outbound("run", "--landing", str(moved), "--warehouse", str(warehouse))

    assert rerun.returncode == 0, rerun.output
    assert "0 new, 0 changed, 6 unchanged, 0 removed" in rerun.stdout and "nothing new" in rerun.stdout
    assert sha256(warehouse) == published  # nothing reloaded, nothing rebuilt

    # Built from the moved folder alone: the same marts, row for row, lineage included.
    full = outbound("run", "--landing", str(moved), "--warehouse", str(warehouse), "--full-refresh")

    assert full.returncode == 0, full.output
    assert "rebuilt from the files: --full-refresh" in full.stdout, full.output
    assert {name: all_rows(warehouse, f"marts.{name}") for name in MARTS} == marts
    assert query(warehouse, "select name, path from ops.manifest where feed = 'sales'") == [("sales.csv", "sales.csv")]
    assert_no_path_in(warehouse, machine)
    # After the move, a changed file in the moved folder is the one reloaded.
    (moved / "exports.csv").write_text((moved / "exports.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = outbound("run", "--landing", str(moved), "--warehouse", str(warehouse))
    assert "0 new, 1 changed, 5 unchanged, 0 removed" in changed.stdout, changed.output
    assert {name: all_rows(warehouse, f"marts.{name}") for name in MARTS} == marts
    assert_no_path_in(warehouse, machine)


def all_rows(warehouse: Path, table: str) -> list[tuple]:
    """Every row of a table but its run_id (the same on every row, and new on every publish), sorted."""
    return query(warehouse, f"select * exclude (run_id) from {table} order by all")


def assert_no_path_in(warehouse: Path, paths: list[str]) -> None:
    """No text of any table, column comment or view of the warehouse holds any of `paths`."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() where database_name = current_database() and not internal"
        ).fetchall()
        assert len(columns) > 100
        for path in paths:
            found = [
                f"{schema}.{table}.{column}"
                for schema, table, column in columns
                if con.execute(f'select count(*) from "{schema}"."{table}" where strpos("{column}"::varchar, ?) > 0', [path]).fetchall()
                != [(0,)]
            ]
            found += [
                f"comment or definition of {schema}.{name}"
                for schema, name in con.execute(
                    "select schema_name, table_name from duckdb_tables() where strpos(coalesce(comment, ''), $p) > 0 "
                    "union all select schema_name, table_name from duckdb_columns() where strpos(coalesce(comment, ''), $p) > 0 "
                    "union all select schema_name, view_name from duckdb_views() where strpos(sql, $p) > 0",
                    {"p": path},
                ).fetchall()
            ]
            assert not found, f"{path} in {found}"
