"""Readers never block a run and never see a mixture: reader processes query the marts while runs
publish, each query checking that every mart it read comes from one publish (the run id stamped
on every mart row)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import query

# One reader: open the warehouse read-only (as a BI tool should), one query across all marts,
# close; again and again until told to stop. Prints what it saw as JSON.
READER = r"""
import json, os, sys, time, duckdb
warehouse, stop_file = sys.argv[1], sys.argv[2]
seen, errors, mixed, queries = set(), [], [], 0
sql = '''
    select
        (select list(distinct run_id) from marts.brand_mix),
        (select list(distinct run_id) from marts.growth_rates),
        (select list(distinct run_id) from marts.localization_timeline),
        (select list(distinct run_id) from marts.localization_summary),
        (select list(distinct run_id) from ops.publication)
'''
while not os.path.exists(stop_file):
    try:
        with duckdb.connect(warehouse, read_only=True) as con:
            ids = con.execute(sql).fetchone()
        queries += 1
        flat = {run_id for column in ids for run_id in column}
        if len(flat) != 1 or any(len(column) != 1 for column in ids):
            mixed.append([list(column) for column in ids])
        seen |= flat
    except Exception as error:
        errors.append(repr(error))
    time.sleep(0.1)  # a dashboard refreshing, not a busy loop starving the run of both cores
print(json.dumps({"queries": queries, "seen": sorted(seen), "errors": errors[:5], "mixed": mixed[:5]}))
"""

READERS = 2  # concurrent readers, as two dashboards; more only compete with the runs for the cores


def test_readers_see_one_publish_at_a_time_and_never_block_a_run(outbound, published_landing, tmp_path):
    landing, warehouse, args = published_landing.landing, published_landing.warehouse, published_landing.args
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(warehouse), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(READERS)
    ]
    started = time.monotonic()
    try:
        time.sleep(1)  # the readers are connected and querying
        runs = []
        for units in (101, 102):
            exports = landing / "exports.csv"
            exports.write_text(
                exports.read_text(encoding="utf-8")
                + f"Chery Group,group,nev,2024-01-01,2024-0{units - 100}-28,{units},exact,,ref_nikkei_gwm_thailand,\n",
                encoding="utf-8",
            )
            runs.append(outbound(*args))
        time.sleep(1)
    finally:
        stop.touch()
        reports = [json.loads(reader.communicate(timeout=60)[0]) for reader in readers]
    elapsed = time.monotonic() - started

    for run in runs:
        assert run.returncode == 0, run.output  # a reader holding the file never fails a run
    published_ids = [run_id for (run_id,) in query(warehouse, "select run_id from ops.runs where status = 'completed' order by started_at")]
    for report in reports:
        assert report["errors"] == []
        assert report["mixed"] == []
        assert report["queries"] > 10
        assert set(report["seen"]) <= set(published_ids)
        assert published_ids[-1] in report["seen"] and len(report["seen"]) >= 2  # saw the switch, not a frozen file
    total = sum(report["queries"] for report in reports)
    print(f"{READERS} readers, {total} consistent queries over {elapsed:.1f} s, across {len(runs)} publishes")


def test_readme_tells_readers_to_connect_read_only():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "read_only=True" in readme and "-readonly" in readme
