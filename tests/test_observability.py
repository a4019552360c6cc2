"""What a data engineer sees of a run: tasks, artifacts, run history and dbt results in the warehouse,
freshness warnings, retries of failures that pass, and the deployment `prefect deploy` makes."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import duckdb
import pytest
from prefect.states import Failed

from flows.errors import FeedFileError, LandingFileChangingError
from flows.retries import is_transient
from flows.stages.manifest import LandingFile
from tests.conftest import BIN, REPO, query, sha256

FEEDS = ["sources", "countries", "brands", "sales", "exports", "plant_launches"]


def flow_run_id(warehouse) -> str:
    [(run_id,)] = query(warehouse, "select flow_run_id from ops.runs where status = 'completed' order by started_at desc limit 1")
    return run_id


def test_each_stage_and_each_dbt_node_is_a_task(published, prefect_api):
    warehouse, _ = published
    stages = ["acquire-warehouse", "plan-ingestion", "prepare-build", "dbt-build", "publish-warehouse", "check-freshness"]
    # The server records task runs from the events a run sends, a moment after the run ends.
    deadline = time.monotonic() + 120  # on a machine shared with other test sessions, it can take a while
    while True:
        runs = prefect_api.task_runs(flow_run_id(warehouse))
        names = [run["name"] for run in runs]
        states = {run["name"]: (run["state"] or {}).get("type") for run in runs}  # no state yet: None
        # 19 stage tasks (acquire, plan, prepare, 6 loads, 6 validations, count-rejections, dbt-build, publish,
        # freshness) and a task per dbt node: 26 models, 31 data tests.
        if len(runs) >= 19 + 26 + 31 and set(states.values()) == {"COMPLETED"} or time.monotonic() > deadline:
            break
        time.sleep(1)
    for stage in stages:
        assert any(name.startswith(f"{stage}-") for name in names), (stage, names)
    for feed in FEEDS:
        assert f"load {feed}" in names and f"validate {feed}" in names
    models = {name for name in names if name.startswith("model ")}
    tests = {name for name in names if name.startswith("test ")}
    assert len(models) == 26 and len(tests) == 31
    assert {"model brand_mix", "model growth_rates", "model localization_timeline", "test unique_localization_summary_group_name"} <= set(
        names
    )
    assert set(states.values()) == {"COMPLETED"}


def test_run_posts_artifacts(published, prefect_api):
    warehouse, _ = published
    artifacts = prefect_api.artifacts(flow_run_id(warehouse))
    assert {"outbound-validation", "outbound-dbt-results", "outbound-mart-rows", "outbound-findings", "outbound-freshness"} <= set(
        artifacts
    )

    validation = artifacts["outbound-validation"]["data"]
    assert "| sales | 1 | 9 | 0 |  |" in validation and "| plant_launches | 1 | 30 | 0 |  |" in validation
    dbt = artifacts["outbound-dbt-results"]["data"]
    assert "26 models built, 31 data tests passed (0 warned)" in dbt and "| brand_mix | model | success |" in dbt
    [(brand_mix_rows,)] = query(warehouse, "select count(*) from marts.brand_mix")
    assert f"| marts.brand_mix | {brand_mix_rows} |" in artifacts["outbound-mart-rows"]["data"]
    findings = artifacts["outbound-findings"]["data"]
    assert "Data-quality findings (2)" in findings and "implied_prior_contradiction" in findings
    # Readable in a 1400-pixel window: no word a table cannot wrap (dbt's long test names are
    # shortened), and each finding's details in full, as a list item rather than a table cell.
    assert max(len(word) for word in re.split(r"[\s|]+", dbt)) <= 60
    assert "a period that contains it (sources: chery_1_2m_exports)." in findings and "| details |" not in findings
    assert "| sales |" in artifacts["outbound-freshness"]["data"]


def test_run_history_and_dbt_results_in_the_warehouse(published, warehouse_sql):
    warehouse, _ = published
    [run] = warehouse_sql(
        "select run_id, flow_run_id, trigger, status, rows_loaded, rows_rejected, error, finished_at > started_at, parameters from ops.runs"
    )
    run_id, flow_run, trigger, status, loaded, rejected, error, ordered, parameters = run
    assert (flow_run, trigger, status, loaded, rejected, error, ordered) == (run_id, "manual", "completed", 102, 0, None, True)
    assert json.loads(parameters)["warehouse"] == warehouse.name  # by name: no path of this machine in the warehouse
    assert json.loads(parameters)["landing"] == "seeds"

    counts = {
        (kind, status): n
        for kind, status, n in warehouse_sql(
            "select resource_type, status, count(*) from ops.dbt_results where run_id = ? group by all", [run_id]
        )
    }
    assert counts == {("model", "success"): 26, ("test", "pass"): 31}
    tables = warehouse_sql("select relation, rows_affected from ops.dbt_results where materialized = 'table' order by relation")
    assert ("marts.localization_timeline", warehouse_sql("select count(*) from marts.localization_timeline")[0][0]) in tables
    assert all(rows is not None for _, rows in tables)
    [(timed,)] = warehouse_sql("select bool_and(completed_at >= started_at and execution_seconds >= 0) from ops.dbt_results")
    assert timed


def test_stale_feed_warns_on_a_run_with_nothing_new(outbound, published, tmp_path):
    warehouse = tmp_path / "outbound.duckdb"
    warehouse.write_bytes(published[0].read_bytes())
    with duckdb.connect(str(warehouse)) as con:  # sales last got a file 40 days ago
        con.execute("update ops.manifest set loaded_at = loaded_at - interval 40 days where feed = 'sales'")
    before = sha256(warehouse)

    run = outbound("run", "--warehouse", str(warehouse))
    assert run.returncode == 0, run.output
    assert "nothing new" in run.stdout
    assert "warning: stale feed: sales: no new file for 40 day(s)" in run.stdout and "(warn after 35 days;" in run.stdout
    assert "stale feed: exports" not in run.stdout and "stale feed: plant_launches" not in run.stdout
    assert sha256(warehouse) == before

    # dbt reads the same declaration: `dbt source freshness` warns about the same feed.
    dbt = subprocess.run(
        [str(BIN / "dbt"), "source", "freshness", "--project-dir", "dbt_project", "--profiles-dir", ".", "--no-use-colors"]
        + ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        check=False,
        cwd=REPO,
        env={**os.environ, "OUTBOUND_DBT_DATABASE": str(warehouse)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "WARN freshness of landing.sales" in dbt.stdout, dbt.stdout + dbt.stderr
    assert "PASS freshness of landing.exports" in dbt.stdout


def test_run_waits_while_another_run_holds_the_warehouse(start_outbound, landing, tmp_path):
    warehouse = tmp_path / "warehouse" / "outbound.duckdb"
    warehouse.parent.mkdir()
    folder = os.open(warehouse.parent, os.O_RDONLY)
    fcntl.flock(folder, fcntl.LOCK_EX)  # as a running `outbound run` holds it
    try:
        run = start_outbound("run", "--landing", str(landing), "--warehouse", str(warehouse), env={"OUTBOUND_RETRY_BACKOFF_SECONDS": "1"})
        lines, retrying = [], threading.Event()

        def read_stderr() -> None:
            for line in run.stderr:
                lines.append(line)
                if "Retry 1/5" in line:
                    retrying.set()

        reader = threading.Thread(target=read_stderr)
        reader.start()
        deadline = time.monotonic() + 180
        while not retrying.wait(0.1):  # until it has found the warehouse held, and waits to try again
            assert run.poll() is None and time.monotonic() < deadline, "".join(lines)
        assert run.poll() is None and not warehouse.exists()
    finally:
        os.close(folder)  # the other run ends
    try:
        stdout = run.stdout.read()
        run.wait(timeout=300)
    finally:
        run.kill()
        reader.join()
    stderr = "".join(lines)
    assert run.returncode == 0, stdout + stderr
    assert "another outbound run is building this warehouse" in stderr and "Retry 1/5" in stderr
    assert query(warehouse, "select count(*) from raw.sales") == [(9,)]


def test_file_still_being_written_is_a_failure_that_retries(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(b"x" * 20_000_000)
    stop = threading.Event()

    def keep_writing() -> None:
        with path.open("ab") as file:
            while not stop.is_set():
                file.write(b"more,rows\n")
                file.flush()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with pytest.raises(LandingFileChangingError, match="still being written") as raised:
            for _ in range(20):  # hashing 20 MB takes long enough to see the file grow
                LandingFile.of("sales", path, path.name)
    finally:
        stop.set()
        writer.join()
    assert LandingFile.of("sales", path, path.name).size_bytes == path.stat().st_size  # once it rests, it is read
    assert is_transient(None, None, Failed(data=raised.value))
    assert not is_transient(None, None, Failed(data=FeedFileError(path, "line 2: units: not a whole number")))


def test_prefect_yaml_gives_the_same_deployment(prefect_env, prefect_api, tmp_path):
    env = {**prefect_env, "PWD": str(REPO)}
    prefect = [sys.executable, "-m", "prefect"]
    created = subprocess.run(
        [*prefect, "work-pool", "create", "outbound", "--type", "process", "--overwrite"],
        check=False,
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = subprocess.run(
        [*prefect, "--no-prompt", "deploy", "--name", "daily"], check=False, env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    deployment = prefect_api.call("GET", "deployments/name/outbound/daily")
    assert deployment["entrypoint"] == "flows/run.py:outbound" and deployment["work_pool_name"] == "outbound"
    assert deployment["parameters"] == {
        "landing": "seeds",
        "warehouse": "warehouse/outbound.duckdb",
        "strict": False,
        "full_refresh": False,
        "prune": False,
        "target": "duckdb",
        "unit_tests": False,
    }
    assert [schedule["schedule"]["cron"] for schedule in deployment["schedules"]] == ["0 6 * * *"]
    assert deployment["global_concurrency_limit"]["limit"] == 1
    assert set(deployment["parameter_openapi_schema"]["properties"]) == {
        "landing",
        "warehouse",
        "strict",
        "full_refresh",
        "prune",
        "target",
        "unit_tests",
    }
    pull = json.dumps(deployment["pull_steps"])
    assert str(REPO) in pull
    assert datetime.fromisoformat(deployment["created"]) > datetime.now().astimezone() - timedelta(hours=1)
