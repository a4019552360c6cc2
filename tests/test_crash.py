"""Crash safety: real runs SIGKILLed during load, validation, dbt build and publish.

Each killed run was held at its stage (OUTBOUND_PAUSE_AT, see flows/devtools/faults.py) and its process
group killed, as `kill -9` or the OOM killer would. After each kill the published warehouse is
the one from before, byte for byte, and opens, and so are its Parquet files; the next run cleans
up and completes, and swaps in the new Parquet files with the warehouse.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import duckdb

from tests.conftest import query, sha256
from tests.test_parquet import MARTS, assert_parquet_matches_warehouse, parquet_set

STAGES = ["load", "validate", "dbt", "publish"]


def wait_for_pause(process: subprocess.Popen, stage: str, timeout: float = 180) -> None:
    """Read the run's stderr until it says it is paused at `stage`."""
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        for line in process.stderr:
            if f"outbound: paused at {stage}" in line:
                return
        raise AssertionError(f"the run ended (code {process.wait()}) without pausing at {stage}")
    finally:
        timer.cancel()


def test_killed_runs_leave_the_published_warehouse_intact(outbound, start_outbound, published_landing):
    """Also the Parquet files' crash test (once test_parquet.py's test_parquet_is_replaced_with_the_warehouse_and_only_then,
    which published, was killed in publish and ran again, as this test does): killed in publish with the new
    Parquet files written, nothing of them is visible; the next run swaps them in with the warehouse."""
    landing, warehouse, args = published_landing.landing, published_landing.warehouse, published_landing.args
    published = sha256(warehouse)
    first_run = assert_parquet_matches_warehouse(warehouse)
    first_set = parquet_set(warehouse)
    link = warehouse.with_suffix(".parquet")
    exports = landing / "exports.csv"
    exports.write_text(
        exports.read_text(encoding="utf-8") + "Chery Group,group,nev,2024-01-01,2024-11-30,123,exact,,ref_nikkei_gwm_thailand,\n",
        encoding="utf-8",
    )

    timings = {}
    for stage in STAGES:
        started = time.monotonic()
        run = start_outbound(*args, env={"OUTBOUND_PAUSE_AT": stage})
        wait_for_pause(run, stage)
        if stage == "publish":  # the new Parquet files are written, in the run's build folder only
            builds = list(warehouse.parent.glob(".outbound.duckdb.build-*"))
            assert len(builds) == 1 and sorted(p.name for p in (builds[0] / "parquet").iterdir()) == [f"{m}.parquet" for m in MARTS]
        os.killpg(run.pid, signal.SIGKILL)
        assert run.wait(timeout=30) == -signal.SIGKILL
        timings[stage] = time.monotonic() - started

        assert sha256(warehouse) == published, f"killed at {stage}"
        assert query(warehouse, "select count(*) from marts.growth_rates where units = 123") == [(0,)]
        assert query(warehouse, "select count(*) from marts.brand_mix") == [(10,)]  # opens, and is whole
        assert os.readlink(link) == f".outbound.parquet-{first_run}" and parquet_set(warehouse) == first_set, f"killed at {stage}"

    leftovers = sorted(path.name for path in warehouse.parent.iterdir())
    assert any(name.startswith(".outbound.duckdb.build-") for name in leftovers)  # the last kill's debris

    stale = warehouse.parent / ".outbound.parquet-left-by-an-older-run"
    stale.mkdir()
    after = outbound(*args)

    assert after.returncode == 0, after.output
    assert "left by a run that was killed" in after.stderr
    assert query(warehouse, "select count(*) from marts.growth_rates where units = 123") == [(1,)]
    # No build left (the Parquet sets behind outbound.parquet are checked in tests/test_parquet.py).
    left = sorted(path.name for path in warehouse.parent.iterdir() if not path.name.startswith(".outbound.parquet-"))
    assert left == ["logs", "outbound.dbt_results.jsonl", "outbound.duckdb", "outbound.parquet", "outbound.runs.jsonl"]
    statuses = [status for (status,) in query(warehouse, "select status from ops.runs order by started_at")]
    assert statuses == ["completed", "killed", "killed", "killed", "killed", "completed"]

    # The new Parquet files, swapped in with the warehouse.
    second_run = assert_parquet_matches_warehouse(warehouse)
    assert second_run != first_run and os.readlink(link) == f".outbound.parquet-{second_run}"
    with duckdb.connect() as fresh:
        assert fresh.execute(f"select count(*) from read_parquet('{link}/growth_rates.parquet') where units = 123").fetchall() == [(1,)]
    # The set before stays for readers that resolved the link just before the swap; older ones go.
    assert sorted(path.name for path in warehouse.parent.glob(".outbound.parquet-*")) == sorted(
        [f".outbound.parquet-{first_run}", f".outbound.parquet-{second_run}"]
    )
    previous = warehouse.parent / f".outbound.parquet-{first_run}"
    assert {path.name: sha256(path) for path in sorted(previous.iterdir())} == first_set
    assert not list(warehouse.parent.glob(".outbound.duckdb.build-*"))
    assert not list(warehouse.parent.glob(".outbound.parquet.link-*"))
    print("seconds from start to kill:", {stage: round(seconds, 1) for stage, seconds in timings.items()})
