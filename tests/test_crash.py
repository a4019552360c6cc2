"""Crash safety: real runs SIGKILLed during load, validation, dbt build and publish.

Each killed run was held at its stage (OUTBOUND_PAUSE_AT, see flows/faults.py) and its process
group killed, as `kill -9` or the OOM killer would. After each kill the published warehouse is
the one from before, byte for byte, and opens; the next run cleans up and completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

from tests.conftest import query, sha256

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


def test_killed_runs_leave_the_published_warehouse_intact(outbound, start_outbound, landing, tmp_path):
    warehouse = tmp_path / "warehouse" / "outbound.duckdb"
    args = ["run", "--landing", str(landing), "--warehouse", str(warehouse)]
    assert outbound(*args).returncode == 0
    published = sha256(warehouse)
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
        os.killpg(run.pid, signal.SIGKILL)
        assert run.wait(timeout=30) == -signal.SIGKILL
        timings[stage] = time.monotonic() - started

        assert sha256(warehouse) == published, f"killed at {stage}"
        assert query(warehouse, "select count(*) from marts.growth_rates where units = 123") == [(0,)]
        assert query(warehouse, "select count(*) from marts.brand_mix") == [(10,)]  # opens, and is whole

    leftovers = sorted(path.name for path in warehouse.parent.iterdir())
    assert any(name.startswith(".outbound.duckdb.build-") for name in leftovers)  # the last kill's debris

    after = outbound(*args)

    assert after.returncode == 0, after.output
    assert "left by a run that was killed" in after.stderr
    assert query(warehouse, "select count(*) from marts.growth_rates where units = 123") == [(1,)]
    # No build left (the Parquet sets behind outbound.parquet are checked in tests/test_parquet.py).
    left = sorted(path.name for path in warehouse.parent.iterdir() if not path.name.startswith(".outbound.parquet-"))
    assert left == ["outbound.dbt_results.jsonl", "outbound.duckdb", "outbound.parquet", "outbound.runs.jsonl"]
    statuses = [status for (status,) in query(warehouse, "select status from ops.runs order by started_at")]
    assert statuses == ["completed", "killed", "killed", "killed", "killed", "completed"]
    print("seconds from start to kill:", {stage: round(seconds, 1) for stage, seconds in timings.items()})
