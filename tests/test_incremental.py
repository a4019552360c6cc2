"""Reruns, changed, new and removed files, fixed rows, --prune, --full-refresh, status and rejects: for real."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import query, sha256

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
    run = lambda *args: outbound(*published_landing.args, *args)  # noqa: E731

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
    assert f"{extra}:3 (sales, rejected at validate)" in listed.stdout
    assert "rule: units: greater_than_or_equal_to(0) (value -7)" in listed.stdout
    assert f"{extra}:4 (sales, rejected at load)" in listed.stdout
    assert "rule: units: '12.5' is not a whole number" in listed.stdout
    assert outbound("rejects", "--feed", "exports", "--warehouse", str(warehouse)).stdout.strip() == "no rejected rows in feed exports"

    # A changed file replaces the rows it brought: no duplicates, no leftovers; its fixed row leaves quarantine.
    extra.write_text(f"{SALES_HEADER}\n{EXTRA_ROW.format(units=200)}\n{NEGATIVE_ROW.replace('-7', '7')}\n", encoding="utf-8")
    changed = run()
    assert changed.returncode == 0 and "row(s) rejected" not in changed.stdout, changed.output
    assert "0 new, 1 changed, 6 unchanged" in changed.stdout, changed.output
    assert sales_rows(warehouse) == [("sales_2024 phev.csv", 200)]
    assert query(warehouse, "select units from raw.sales where _file = ? order by all", [str(extra)]) == [(7,), (200,)]
    assert query(warehouse, "select count(*) from quarantine.rejected_rows") == [(0,)]
    [(valid, rejected)] = query(warehouse, "select rows_loaded, rows_rejected from ops.manifest where name = 'sales_2024 phev.csv'")
    assert (valid, rejected) == (2, 0)
    record = json.loads(warehouse.with_name("outbound.runs.jsonl").read_text().splitlines()[-1])
    assert record["status"] == "completed" and record["rows_rejected"] == 0

    # A removed file is reported and its rows kept, until --prune.
    extra.unlink()
    kept = run()
    assert f"removed: {extra}: its rows are kept; run with --prune to drop them" in kept.stdout, kept.output
    assert "nothing new" in kept.stdout
    assert sales_rows(warehouse) == [("sales_2024 phev.csv", 200)]
    pruned = run("--prune")
    assert pruned.returncode == 0, pruned.output
    assert "its rows were dropped (--prune)" in pruned.stdout
    assert sales_rows(warehouse) == []
    assert query(warehouse, "select count(*) from ops.manifest") == [(6,)]

    # --full-refresh rebuilds from the files alone, with the same marts.
    marts_before = query(warehouse, "select * exclude (run_id) from marts.brand_mix order by all")
    full = run("--full-refresh")
    assert "rebuilt from the files: --full-refresh" in full.stdout, full.output
    assert query(warehouse, "select * exclude (run_id) from marts.brand_mix order by all") == marts_before

    # Every run is in the run history: in the log for `outbound status`, and in ops.runs.
    status = outbound("status", "--warehouse", str(warehouse))
    assert status.returncode == 0, status.output
    assert "/sales.csv" in status.stdout
    statuses = [line.split()[1] for line in status.stdout.splitlines()[-7:]]
    assert statuses == ["completed", "completed", "no_op", "completed", "completed", "no_op", "completed"]
    runs = query(warehouse, "select status, files_new, files_changed from ops.runs order by started_at")
    assert [status for status, _, _ in runs] == ["completed", "no_op", "completed", "completed", "no_op", "completed", "completed"]
    assert runs[2][1:] == (1, 0) and runs[3][1:] == (0, 1)


# A fixed row leaves quarantine: in test_reruns_and_changes, whose new file brings two broken rows
# and whose changed file fixes one and drops the other (it was a test of its own, test_fixed_row_leaves_quarantine,
# whose two runs were the same as those two).


def test_moved_landing_directory_is_the_same_files(outbound, published_landing, tmp_path):
    landing, warehouse = published_landing.landing, published_landing.warehouse  # published from `landing`
    moved = tmp_path / "moved"
    shutil.copytree(landing, moved)

    rerun = outbound("run", "--landing", str(moved), "--warehouse", str(warehouse))

    assert rerun.returncode == 0, rerun.output
    assert "0 new, 6 changed, 0 unchanged, 0 removed" in rerun.stdout
    assert query(warehouse, "select count(*), count(distinct _file) from raw.sales") == [(9, 1)]
    assert query(warehouse, "select distinct _file from raw.sales") == [(str(moved / "sales.csv"),)]
