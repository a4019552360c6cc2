"""The `outbound` flow: load the landing files, validate them, build the marts, publish.

    landing/*.csv --load--> raw.<feed> --validate--> valid rows --dbt build--> staging, marts
                              \\--> quarantine.rejected_rows (every rejected row, with its rules)

Everything happens in a private build file; the published warehouse is replaced only when the
whole build and its dbt tests passed.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import quarantine
from flows.build import DbtBuild, dbt_build
from flows.errors import FeedFileError, RejectedRowsError
from flows.load import FileLoad, create_raw_table, feed_files, load_file
from flows.publish import discard_build, prepare_build, publish
from flows.summary import FeedSummary, RunSummary
from flows.validate import FeedValidation, validate_feed
from schemas import FEEDS, ReferenceData

DEFAULT_LANDING = "seeds"
DEFAULT_WAREHOUSE = "warehouse/outbound.duckdb"
WAREHOUSE_ENV = "OUTBOUND_WAREHOUSE"


def default_warehouse() -> str:
    return os.environ.get(WAREHOUSE_ENV, DEFAULT_WAREHOUSE)


@task(name="load-feed", task_run_name="load {feed}", cache_policy=NO_CACHE)
def load_feed(build: Path, feed: str, files: list[Path], run_id: str) -> list[FileLoad]:
    """Read every landing file of one feed into raw.<feed>."""
    columns = FEEDS[feed].csv_columns()
    with duckdb.connect(str(build)) as con:
        create_raw_table(con, feed, columns)
        loads = [load_file(con, feed, path, columns, run_id) for path in files]
    for load in loads:
        get_run_logger().info("%s: read %d rows, %d unreadable", load.path, load.rows_read, load.rows_rejected)
    return loads


@task(name="validate-feed", task_run_name="validate {feed}", cache_policy=NO_CACHE)
def validate(build: Path, feed: str, refs: ReferenceData, run_id: str) -> tuple[FeedValidation, ReferenceData]:
    """Hold raw.<feed> to its pandera model; quarantine the rows that break it."""
    with duckdb.connect(str(build)) as con:
        result, refs = validate_feed(con, feed, refs, run_id)
    get_run_logger().info("%s: %d valid rows, %d rejected", feed, result.rows_valid, result.rows_rejected)
    return result, refs


@task(name="dbt-build", cache_policy=NO_CACHE)
def build_marts(build: Path) -> DbtBuild:
    """Run dbt build: staging views, mart tables, data tests and unit tests."""
    result = dbt_build(build)
    get_run_logger().info("dbt: %s", result)
    return result


@task(name="publish-warehouse", cache_policy=NO_CACHE)
def publish_warehouse(build: Path, warehouse: Path) -> None:
    """Swap the finished build in for the published warehouse in one atomic rename."""
    publish(build, warehouse)
    get_run_logger().info("published %s", warehouse)


# The warehouse default is read from the environment when the flow is defined, so the Prefect UI
# shows the path a run will publish to.
@flow(name="outbound")
def outbound(landing: str = DEFAULT_LANDING, warehouse: str = default_warehouse(), strict: bool = False) -> RunSummary:
    """Load every feed from `landing`, validate, build the marts with dbt and publish `warehouse`.

    Rows that break a rule are quarantined and the rest published (with a warning), unless
    `strict`, which fails the run on any rejected row. A file that cannot be read as its feed
    fails the run. A failed run publishes nothing and leaves the last warehouse in place.
    """
    landing_dir = Path(landing)
    warehouse_path = Path(warehouse)
    run_id = str(flow_run.get_id() or uuid.uuid4())
    files = {feed: feed_files(landing_dir, feed) for feed in FEEDS}
    missing = [f"{feed}*.csv" for feed, paths in files.items() if not paths]
    if missing:
        raise FeedFileError(landing_dir, f"no landing file for {', '.join(missing)}")

    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    build = prepare_build(warehouse_path, run_id)
    try:
        with duckdb.connect(str(build)) as con:
            quarantine.create(con)
        loads = {feed: load_feed(build, feed, paths, run_id) for feed, paths in files.items()}
        refs = ReferenceData()
        validations = {}
        for feed in FEEDS:
            validations[feed], refs = validate(build, feed, refs, run_id)
        with duckdb.connect(str(build)) as con:
            rejections = [row for feed in FEEDS for row in quarantine.rejections(con, feed, run_id)]
        if strict and rejections:
            raise RejectedRowsError(
                f"--strict: {len(rejections)} row(s) broke a rule; nothing was published:\n  "
                + "\n  ".join(str(row) for row in rejections)
            )
        dbt = build_marts(build)
        publish_warehouse(build, warehouse_path)
    finally:
        discard_build(build)

    feeds = [
        FeedSummary(
            feed=feed,
            files=len(files[feed]),
            rows_loaded=validations[feed].rows_valid,
            rows_rejected=sum(load.rows_rejected for load in loads[feed]) + validations[feed].rows_rejected,
        )
        for feed in FEEDS
    ]
    summary = RunSummary(warehouse=warehouse_path, feeds=feeds, dbt=dbt, rejections=rejections)
    if rejections:
        get_run_logger().warning("%d row(s) rejected and quarantined:\n  %s", len(rejections), "\n  ".join(map(str, rejections)))
    return summary
