"""The same marts on a real Spark cluster: `outbound run --target spark_thrift` through the Thrift server.

A cluster of its own (flows/devtools/spark_cluster.py, as `make cluster` starts it): a standalone master,
two workers in JVMs of their own (one core each) and the Thrift server (HiveThriftServer2) as an
application on that master, on 127.0.0.1. The run hands the feeds over as Parquet in a folder the
executors read, dbt (thrift method, PyHive) builds and tests every model there, and the marts it
publishes must equal the DuckDB run's row by row. The workers' executors must have done the work.
A cluster that is down, or a Thrift server that goes away mid-build, fails the run in one line and
publishes nothing. Every process of the cluster is stopped when the module ends, pass or fail.

Skipped, saying why, where Java or the Spark extra is missing. One cluster and one full build
(with the dbt unit tests, which test_spark.py's in-process build leaves to this one) serve the module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
import time
from pathlib import Path

import pytest

from flows.devtools.local_server import free_port
from flows.devtools.spark_cluster import APP_NAME, SparkCluster, leftover_processes, start_cluster
from tests.conftest import query
from tests.test_spark import EMPTY_ON_SEEDS, MARTS, rows, same_value, spark_unavailable

# Spark's settings for small data, as tests/test_spark.py uses them (the JVMs of the cluster
# already run with the quick compiler only). They change how fast, not what is computed.
SMALL_DATA = {"OUTBOUND_SPARK_SHUFFLE_PARTITIONS": "1", "OUTBOUND_SPARK_CODEGEN": "false", "OUTBOUND_SPARK_ADAPTIVE": "false"}


def cluster_unavailable() -> str | None:
    reason = spark_unavailable()
    if reason is None and importlib.util.find_spec("pyhive") is None:
        reason = "PyHive (dbt-spark's thrift method) is not installed here (make spark)"
    return reason


def skip_unless_available() -> None:
    reason = cluster_unavailable()
    if reason:
        print(f"\nSpark cluster tests skipped: {reason}", file=sys.stderr)
        pytest.skip(reason)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A running cluster for this module; stopped, every process of it, when the module ends."""
    skip_unless_available()
    folder = tmp_path_factory.mktemp("spark-cluster")
    started = start_cluster(folder)
    try:
        yield started
    finally:
        started.stop()
        assert leftover_processes(folder) == [], "a process of the cluster outlived stop()"


def completed_tasks(cluster: SparkCluster) -> dict[str, int]:
    return {executor["id"]: executor["completedTasks"] for executor in cluster.executors()}


@pytest.fixture(scope="module")
def thrift_published(outbound, cluster: SparkCluster, tmp_path_factory: pytest.TempPathFactory):
    """The warehouse `outbound run --target spark_thrift --unit-tests` publishes from the shipped
    seeds, with the executors' completed tasks before and after, and the hand-over folder."""
    root = tmp_path_factory.mktemp("spark-thrift")
    warehouse, handover = root / "warehouse" / "outbound.duckdb", root / "handover"
    handover.mkdir()
    before = completed_tasks(cluster)
    env = cluster.env() | SMALL_DATA | {"OUTBOUND_HANDOVER_DIR": str(handover)}
    run = outbound("run", "--warehouse", str(warehouse), "--target", "spark_thrift", "--unit-tests", env=env, timeout=900)
    assert run.returncode == 0, "\n".join(error_lines(run.stderr)) or run.output[-5000:]
    return warehouse, before, completed_tasks(cluster), handover


def test_cluster_publishes_the_same_marts_as_duckdb(published, thrift_published):
    duckdb_warehouse, _ = published
    warehouse, *_ = thrift_published
    for mart in MARTS:
        duckdb_columns, duckdb_rows = rows(duckdb_warehouse, mart)
        cluster_columns, cluster_rows = rows(warehouse, mart)
        assert cluster_columns == duckdb_columns, mart
        assert len(cluster_rows) == len(duckdb_rows), mart
        assert duckdb_rows or mart in EMPTY_ON_SEEDS, mart
        for duckdb_row, cluster_row in zip(duckdb_rows, cluster_rows, strict=True):
            assert all(map(same_value, duckdb_row, cluster_row)), f"{mart}:\n  duckdb  {duckdb_row}\n  cluster {cluster_row}"


def test_cluster_ran_every_model_data_test_and_unit_test(published, thrift_published):
    warehouse, *_, handover = thrift_published
    assert query(warehouse, "select dbt_target from ops.publication") == [("spark_thrift",)]
    counts = dict(query(warehouse, "select resource_type, count(*) from ops.dbt_results where status in ('success', 'pass') group by all"))
    duckdb_counts = dict(query(published[0], "select resource_type, count(*) from ops.dbt_results group by all"))
    assert counts["model"] == duckdb_counts["model"] and counts["test"] == duckdb_counts["test"]
    assert counts["unit_test"] >= 3 + 7 * 2
    assert query(warehouse, "select unique_id, status from ops.dbt_results where status not in ('success', 'pass')") == []
    assert list(handover.iterdir()) == []  # the run's hand-over went with it


def test_no_jvm_of_the_cluster_filled_its_code_cache(cluster, thrift_published):
    """After a whole build, the JVMs' compilers still run: a full code cache disables them, and then
    fails queries at random ("Out of space in CodeCache for adapters", as a CI run once did)."""
    logs = [*(cluster.folder / "logs").glob("*.log"), *(cluster.folder / "work").glob("*/*/*/stderr")]
    assert len(logs) >= 6  # master, two workers, the Thrift server, an executor on each worker
    full = [log.name for log in logs if "CodeCache is full" in log.read_text(encoding="utf-8", errors="replace")]
    assert full == []


def test_the_work_ran_on_both_workers(cluster, thrift_published):
    """The master lists the Thrift server application with an executor on each worker (one core
    each), and each executor's completed tasks grew during the build."""
    _, before, after, _ = thrift_published
    status = cluster.master_status()
    workers = [worker for worker in status["workers"] if worker["state"] == "ALIVE"]
    assert len(workers) == 2 and all(worker["cores"] == 1 for worker in workers)
    (app,) = [app for app in status["activeapps"] if app["name"] == APP_NAME]
    assert app["cores"] == 2
    executors_on = {}
    for worker in workers:
        listed = [e for e in _worker_status(worker)["executors"] if e["appid"] == app["id"]]
        assert len(listed) == 1, f"worker {worker['id']} runs {len(listed)} executor(s) of the Thrift server"
        executors_on[worker["id"]] = str(listed[0]["id"])
    assert len(set(executors_on.values())) == 2
    for executor in executors_on.values():
        assert after[executor] > before.get(executor, 0), f"executor {executor} did no task: {before} -> {after}"


def _worker_status(worker: dict) -> dict:
    from flows.devtools.spark_cluster import _get_json

    return _get_json(f"{worker['webuiaddress']}/json/")


def test_cluster_down_fails_in_one_line_and_publishes_nothing(outbound, published, tmp_path):
    """No Thrift server at the address: one line naming the target and host:port; the warehouse stays."""
    skip_unless_available()
    warehouse = tmp_path / "outbound.duckdb"
    shutil.copyfile(published[0], warehouse)
    before = sha256(warehouse)
    port = free_port()  # nothing listens there
    run = outbound("run", "--warehouse", str(warehouse), "--target", "spark_thrift", env={"OUTBOUND_SPARK_THRIFT_PORT": str(port)})
    assert run.returncode == 1
    assert error_lines(run.stderr) == [
        (
            f"error: dbt target spark_thrift: no Spark Thrift server answers at 127.0.0.1:{port} (connection refused); "
            "start one (make cluster) or point OUTBOUND_SPARK_THRIFT_HOST and OUTBOUND_SPARK_THRIFT_PORT at yours; nothing was done"
        )
    ]
    assert sha256(warehouse) == before


def test_thrift_server_lost_mid_build_fails_in_one_line(start_outbound, cluster, published, tmp_path):
    """The Thrift server stops while dbt builds: the run fails naming it, publishes nothing, and
    leaves no hand-over behind. (Last in this module: the cluster has no Thrift server after it.)"""
    warehouse, handover = tmp_path / "outbound.duckdb", tmp_path / "handover"
    shutil.copyfile(published[0], warehouse)
    handover.mkdir()
    before, tasks = sha256(warehouse), sum(completed_tasks(cluster).values())
    env = cluster.env() | SMALL_DATA | {"OUTBOUND_HANDOVER_DIR": str(handover)}
    run = start_outbound("run", "--warehouse", str(warehouse), "--target", "spark_thrift", env=env)
    try:
        deadline = time.monotonic() + 300
        # Mid-build: the models are being built on the executors.
        while sum(completed_tasks(cluster).values()) < tasks + 10:
            assert run.poll() is None and time.monotonic() < deadline, "the build ended or never started"
            time.sleep(0.5)
        cluster.stop_thrift_server()
        _, stderr = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 1
    assert error_lines(stderr) == [
        (
            f"error: dbt target spark_thrift: no Spark Thrift server answers at {cluster.thrift_address} (connection refused); "
            "start one (make cluster) or point OUTBOUND_SPARK_THRIFT_HOST and OUTBOUND_SPARK_THRIFT_PORT at yours; nothing was published"
        )
    ]
    assert sha256(warehouse) == before
    assert list(handover.iterdir()) == []
