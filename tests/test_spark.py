"""The same marts on Apache Spark: `outbound run --target spark` builds and tests every model on a
local Spark (dbt-spark's session method, in the run's process) and publishes what Spark computed.
Its marts must equal, row by row, the ones the DuckDB run publishes from the same seeds.

Not part of `make test` (marker spark_session, left out in pyproject.toml): `make test-spark` runs it.
`make test` builds on Spark once, on a cluster (tests/test_spark_cluster.py: the same SQL through
the Thrift server, with the dbt unit tests), and this build adds only the session method to it for
three minutes of a 2-core machine. It runs wherever Java and the Spark extra are installed (`make
test-spark` installs the extra), and is skipped elsewhere with the reason printed.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from flows.devtools.spark_cluster import QUICK_COMPILER_OPTIONS
from tests.conftest import query

pytestmark = pytest.mark.spark_session

MARTS = ("brand_mix", "growth_rates", "localization_timeline", "localization_summary", "data_quality_findings", "monthly_figures")
# The seeds report no single months and no consecutive year-to-date figures: the mart is empty there
# (its SQL runs on Spark all the same, and its dbt unit tests with it).
EMPTY_ON_SEEDS = {"monthly_figures"}


def spark_unavailable() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java on this machine: dbt-spark's session method runs Spark in a JVM (Java 17+)"
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "the Spark extra is not installed here (make spark, or pip install -e '.[spark]')"
    return None


@pytest.fixture(scope="module")
def spark_published(outbound, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse `outbound run --target spark` publishes from the shipped seeds."""
    reason = spark_unavailable()
    if reason:
        print(f"\nSpark tests skipped: {reason}", file=sys.stderr)
        pytest.skip(reason)
    warehouse = tmp_path_factory.mktemp("spark") / "outbound.duckdb"
    # Spark's settings for small data (profiles.yml): one shuffle partition, no whole-stage code
    # generation or adaptive re-planning, the JVM's quick compiler only. They change how fast, not
    # what is computed.
    small_data = {
        "OUTBOUND_SPARK_SHUFFLE_PARTITIONS": "1",
        "OUTBOUND_SPARK_CODEGEN": "false",
        "OUTBOUND_SPARK_ADAPTIVE": "false",
        "OUTBOUND_SPARK_JAVA_OPTIONS": QUICK_COMPILER_OPTIONS,
    }
    run = outbound("run", "--warehouse", str(warehouse), "--target", "spark", env=small_data, timeout=900)
    assert run.returncode == 0, run.output[-5000:]
    return warehouse


def rows(warehouse: Path, mart: str) -> tuple[list[tuple[str, str]], list[tuple]]:
    """A mart's columns (name, type) and rows, run_id left out (each publish stamps its own), in a
    fixed order: every column, lists sorted (a list is compared as a set)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [(name, kind) for name, kind, *_ in con.execute(f"describe marts.{mart}").fetchall() if name != "run_id"]
        shown = ", ".join(f"list_sort(list_distinct({name}))" if kind.endswith("[]") else name for name, kind in columns)
        return columns, con.execute(f"select {shown} from marts.{mart} order by all").fetchall()


def same_value(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=0, abs_tol=1e-9) or (math.isnan(left) and math.isnan(right))
    return left == right


def test_spark_publishes_the_same_marts_as_duckdb(published, spark_published):
    duckdb_warehouse, _ = published
    for mart in MARTS:
        duckdb_columns, duckdb_rows = rows(duckdb_warehouse, mart)
        spark_columns, spark_rows = rows(spark_published, mart)
        assert spark_columns == duckdb_columns, mart  # same names, same order, same types
        assert len(spark_rows) == len(duckdb_rows), mart
        assert duckdb_rows or mart in EMPTY_ON_SEEDS, mart
        for duckdb_row, spark_row in zip(duckdb_rows, spark_rows, strict=True):
            assert all(map(same_value, duckdb_row, spark_row)), f"{mart}:\n  duckdb {duckdb_row}\n  spark  {spark_row}"


def test_spark_ran_every_model_and_data_test(published, spark_published):
    """The Spark build is the whole project: every model and data test ran there and passed."""
    (engine,) = query(spark_published, "select dbt_target from ops.publication")[0]
    assert engine == "spark"
    spark = dict(
        query(spark_published, "select resource_type, count(*) from ops.dbt_results where status in ('success', 'pass') group by all")
    )
    duckdb_nodes = dict(query(published[0], "select resource_type, count(*) from ops.dbt_results group by all"))
    assert spark["model"] == duckdb_nodes["model"] and spark["test"] == duckdb_nodes["test"]
    failed = query(spark_published, "select unique_id, status from ops.dbt_results where status not in ('success', 'pass')")
    assert failed == []


def test_spark_published_warehouse_reads_like_the_duckdb_one(published, spark_published):
    """Everything that reads the warehouse reads it the same: the same relations, each described."""
    listing = "select table_schema, table_name from information_schema.tables where table_schema not in ('ops') order by all"
    assert query(spark_published, listing) == query(published[0], listing)
    undocumented = query(
        spark_published,
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts' and comment is null and column_name <> 'run_id'",
    )
    assert undocumented == []
