"""dbt's results, node by node, for every run that ran dbt: the log beside the warehouse and ops.dbt_results.

Like the run log (flows.records.runlog), the log lives outside the warehouse so that a failed build's
results, which are never published, are kept too; each publish copies it into ops.dbt_results,
where BI tools can chart test failures and build times without Prefect.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import duckdb

from flows.build.runner import DbtBuild
from flows.warehouse.files import WarehouseFiles
from flows.warehouse.literal_path import literal_path

TABLE = "ops.dbt_results"
_COLUMNS = {
    "run_id": "VARCHAR",
    "unique_id": "VARCHAR",
    "resource_type": "VARCHAR",
    "name": "VARCHAR",
    "relation": "VARCHAR",
    "materialized": "VARCHAR",
    "status": "VARCHAR",
    "started_at": "TIMESTAMP",
    "completed_at": "TIMESTAMP",
    "execution_seconds": "DOUBLE",
    "rows_affected": "BIGINT",
    "failures": "BIGINT",
    "message": "VARCHAR",
}


def log_path(warehouse: Path) -> Path:
    return WarehouseFiles(warehouse).dbt_results_log


def append(warehouse: Path, run_id: str, build: DbtBuild) -> None:
    """Add one line per node of this run's dbt build (only the lock holder writes)."""
    with log_path(warehouse).open("a", encoding="utf-8") as log:
        for node in build.nodes:
            log.write(json.dumps({"run_id": run_id} | asdict(node), default=str, ensure_ascii=False) + "\n")
        log.flush()
        os.fsync(log.fileno())


def copy_into(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """ops.dbt_results := the log."""
    con.execute("create schema if not exists ops")
    con.execute(f"create or replace table {TABLE} ({', '.join(f'{name} {sql_type}' for name, sql_type in _COLUMNS.items())})")
    path = log_path(warehouse)
    if path.exists():
        columns = "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in _COLUMNS.items()) + "}"
        with literal_path(path) as log:
            con.execute(f"insert into {TABLE} by name select * from read_json(?, format = 'newline_delimited', columns = {columns})", [log])
    con.execute(
        f"comment on table {TABLE} is 'Every dbt model and test of every run that ran dbt (published or not): status, timing, rows affected, failing rows.'"
    )
