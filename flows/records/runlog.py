"""The run log: one JSON line when a run starts and one when it ends, beside the warehouse.

Failed and no-op runs publish nothing, yet `outbound status` must show them, so the log lives
outside the warehouse (`<name>.runs.jsonl` next to it; only the lock holder appends). Each publish
copies it into `ops.runs`, so BI tools see run history in the warehouse too (naming the landing
folder and the warehouse by name: the published warehouse holds no path of this machine). A run with a start
line and no end line was killed: it shows as `killed`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.warehouse.files import WarehouseFiles
from flows.warehouse.literal_path import literal_path

RUNS_TABLE = "ops.runs"
_COLUMNS = {
    "run_id": "VARCHAR",
    "flow_run_id": "VARCHAR",
    "started_at": "TIMESTAMP",
    "finished_at": "TIMESTAMP",
    "status": "VARCHAR",
    "trigger": "VARCHAR",
    "parameters": "JSON",
    "files_new": "BIGINT",
    "files_changed": "BIGINT",
    "files_removed": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_rejected": "BIGINT",
    "error": "VARCHAR",
    "stages": "JSON",
}


def now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def log_path(warehouse: Path) -> Path:
    return WarehouseFiles(warehouse).runs_log


@dataclass
class RunRecord:
    run_id: str
    parameters: dict
    trigger: str = "manual"  # manual (CLI or Python), deployment (a run asked for) or schedule
    flow_run_id: str | None = None  # the Prefect flow run, when the run has one
    started_at: str = field(default_factory=now)
    finished_at: str | None = None
    status: str = "running"
    files_new: int | None = None
    files_changed: int | None = None
    files_removed: int | None = None
    rows_loaded: int | None = None
    rows_rejected: int | None = None
    error: str | None = None
    # Per stage (plan, prepare, load, validate, dbt, publish): when it started and how long it took.
    stages: dict[str, dict] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage of the run (kept even when the stage fails)."""
        started, clock = now(), time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = {"started_at": started, "seconds": round(time.perf_counter() - clock, 3)}

    def finish(self, status: str, error: str | None = None) -> RunRecord:
        self.status, self.error, self.finished_at = status, error, now()
        return self


def append(warehouse: Path, record: RunRecord) -> None:
    path = log_path(warehouse)
    try:
        with path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
            log.flush()
            os.fsync(log.fileno())
    except OSError as error:  # a full disk fails the write, whose error names no file
        raise OSError(error.errno, error.strerror, str(path)) from None


def _latest_sql() -> str:
    """SQL for the last line of each run in the log at $log; a run that only started, and is not $current, was killed."""
    columns = "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in _COLUMNS.items()) + "}"
    return f"""
        with lines as (
            select *, row_number() over () as line_no
            from read_json($log, format = 'newline_delimited', columns = {columns})
        )
        select * exclude (line_no, status),
            case when status = 'running' and run_id <> $current then 'killed' else status end as status
        from lines
        qualify row_number() over (partition by run_id order by line_no desc) = 1
    """


def copy_into(con: duckdb.DuckDBPyConnection, warehouse: Path, current: RunRecord) -> None:
    """ops.runs := the run log, with the publishing run as completed (publish is its last step)."""
    path = log_path(warehouse)
    con.execute("create schema if not exists ops")
    con.execute(f"create or replace table {RUNS_TABLE} ({', '.join(f'{name} {sql_type}' for name, sql_type in _COLUMNS.items())})")
    if path.exists():
        with literal_path(path) as log:
            con.execute(
                f"insert into {RUNS_TABLE} by name select * from ({_latest_sql()}) where run_id <> $current",
                {"current": current.run_id, "log": log},
            )
    row = asdict(current) | {
        "status": "completed",
        "finished_at": now(),
        "parameters": json.dumps(current.parameters),
        "stages": json.dumps(current.stages),
    }
    con.execute(
        f"insert into {RUNS_TABLE} ({', '.join(_COLUMNS)}) values ({', '.join('?' * len(_COLUMNS))})", [row[name] for name in _COLUMNS]
    )
    # The warehouse holds no path of the machine that built it: its copy of the log names the
    # landing folder and the warehouse by their names, and a failed run's error its landing files
    # relative to their folder (the log beside it has them in full).
    con.execute(
        f"""
        update {RUNS_TABLE} set
        error = replace(error, rtrim(parameters->>'landing', '/') || '/', ''),
        parameters = json_merge_patch(parameters, json_object(
            'landing', parse_filename(rtrim(parameters->>'landing', '/')),
            'warehouse', parse_filename(rtrim(parameters->>'warehouse', '/'))
        ))
        where parameters is not null
        """
    )
    con.execute(
        f"comment on table {RUNS_TABLE} is 'Every outbound run on this warehouse: when, how it ended, what it loaded and rejected.'"
    )
    con.execute(
        f"comment on column {RUNS_TABLE}.parameters is 'The run''s parameters, its landing folder and warehouse by name only "
        "(the run log beside the warehouse, which outbound status reads, has their full paths).'"
    )


def last_runs(warehouse: Path, limit: int = 10, running_now: bool = False) -> list[dict]:
    """The last runs, newest first, straight from the log (failed and no-op runs included).

    A run with no end line was killed, unless a run holds the warehouse now (`running_now`):
    then the newest such run is that one.
    """
    path = log_path(warehouse)
    if not path.exists():
        return []
    with duckdb.connect() as con, literal_path(path) as log:
        rows = con.execute(
            f"select * from ({_latest_sql()}) order by started_at desc limit $limit", {"current": "", "log": log, "limit": limit}
        )
        names = [column[0] for column in rows.description]
        runs = [dict(zip(names, row, strict=True)) for row in rows.fetchall()]
    unfinished = [run for run in runs if run["finished_at"] is None]
    if running_now and unfinished:
        unfinished[0]["status"] = "running"
    return runs
