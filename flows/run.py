"""The `outbound` flow: load what changed in the landing directory, validate, build, publish.

    landing/*.csv --load--> loaded.<feed> --validate--> raw.<feed> (valid rows) --dbt build--> staging, marts
                               \\--> quarantine.rejected_rows (every rejected row, with its rules)

A run holds the warehouse folder's lock, compares the landing files with the published manifest,
and stops there if nothing is new. Otherwise it builds in a private copy of the published
warehouse and replaces it only when the whole build and its dbt tests passed.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import findings, manifest, quarantine, runlog
from flows.build import DbtBuild, dbt_build
from flows.errors import FeedFileError, RejectedRowsError
from flows.faults import pause_point
from flows.findings import Finding
from flows.load import FileLoad, SkippedFile, create_tables, feed_files, forget_file, load_file
from flows.lock import remove_stale_builds, warehouse_lock
from flows.manifest import LandingFile, Plan
from flows.publish import discard_build, prepare_build, publish
from flows.summary import FeedSummary, RunSummary
from flows.validate import FeedValidation, validate_feed
from schemas import FEEDS, ReferenceData

DEFAULT_LANDING = "seeds"
DEFAULT_WAREHOUSE = "warehouse/outbound.duckdb"
WAREHOUSE_ENV = "OUTBOUND_WAREHOUSE"


def default_warehouse() -> str:
    return os.environ.get(WAREHOUSE_ENV, DEFAULT_WAREHOUSE)


@task(name="plan-ingestion", cache_policy=NO_CACHE)
def plan_ingestion(landing: Path, warehouse: Path, full_refresh: bool) -> tuple[Plan, list[SkippedFile]]:
    """Hash every landing file and compare it with the published manifest."""
    files, skipped = [], []
    for feed in FEEDS:
        paths, skipped_here = feed_files(landing, feed)
        files += [LandingFile.of(feed, path) for path in paths]
        skipped += skipped_here
    result = manifest.plan(files, warehouse, full_refresh)
    logger = get_run_logger()
    logger.info(
        "%d new, %d changed, %d unchanged, %d removed file(s)%s",
        len(result.new),
        len(result.changed),
        len(result.unchanged),
        len(result.removed),
        f"; rebuilding: {result.rebuild_reason}" if result.rebuild_reason else "",
    )
    for skip in skipped:
        logger.warning("%s", skip)
    return result, skipped


@task(name="prepare-build", cache_policy=NO_CACHE)
def start_build(warehouse: Path, run_id: str, work: Plan, prune: bool) -> Path:
    """Copy the published warehouse (or start empty) and drop the rows of changed or pruned files."""
    build = prepare_build(warehouse, run_id, start_from_published=work.rebuild_reason is None)
    with duckdb.connect(str(build)) as con:
        quarantine.create(con)
        manifest.create(con)
        for feed, model in FEEDS.items():
            create_tables(con, feed, model.csv_columns())
        for before, _ in work.changed:
            forget_file(con, before.feed, before.path)
        for file in work.removed if prune else []:
            forget_file(con, file.feed, file.path)
            manifest.drop(con, file.name)
    return build


@task(name="load-feed", task_run_name="load {feed}", cache_policy=NO_CACHE)
def load_feed(build: Path, feed: str, files: list[LandingFile], run_id: str) -> list[FileLoad]:
    """Read the new and changed landing files of one feed into loaded.<feed>."""
    columns = FEEDS[feed].csv_columns()
    loads = []
    with duckdb.connect(str(build)) as con:
        for file in files:
            loads.append(load_file(con, feed, file.path, columns, run_id))
            manifest.record(con, file, run_id)
            get_run_logger().info("%s: %d rows read, %d unreadable", file.path, loads[-1].rows_loaded, loads[-1].rows_rejected)
            pause_point("load")
    return loads


@task(name="validate-feed", task_run_name="validate {feed}", cache_policy=NO_CACHE)
def validate(build: Path, feed: str, refs: ReferenceData, run_id: str) -> tuple[FeedValidation, ReferenceData]:
    """Hold every loaded row of one feed to its pandera model; quarantine the rows that break it."""
    with duckdb.connect(str(build)) as con:
        result, refs = validate_feed(con, feed, refs, run_id)
    get_run_logger().info("%s: %d valid rows, %d rejected", feed, result.rows_valid, result.rows_rejected)
    pause_point("validate")
    return result, refs


@task(name="dbt-build", cache_policy=NO_CACHE)
def build_marts(build: Path, run_id: str) -> tuple[DbtBuild, list[Finding]]:
    """Run dbt build (staging views, mart tables, data tests), then read the data-quality findings."""
    result = dbt_build(build, run_id)
    logger = get_run_logger()
    logger.info("dbt: %s", result)
    found = findings.read(build)
    for finding in found:
        logger.warning("finding: %s", finding)
    return result, found


@task(name="publish-warehouse", cache_policy=NO_CACHE)
def publish_warehouse(build: Path, warehouse: Path, record: runlog.RunRecord) -> None:
    """Stamp the build, then swap it in for the published warehouse in one atomic rename."""
    with duckdb.connect(str(build)) as con:
        manifest.stamp(con, record.run_id)
        runlog.copy_into(con, warehouse, record)
    publish(build, warehouse)
    get_run_logger().info("published %s", warehouse)


# The warehouse default is read from the environment when the flow is defined, so the Prefect UI
# shows the path a run will publish to.
@flow(name="outbound")
def outbound(
    landing: str = DEFAULT_LANDING,
    warehouse: str = default_warehouse(),
    strict: bool = False,
    full_refresh: bool = False,
    prune: bool = False,
) -> RunSummary:
    """Load what changed in `landing`, validate, build the marts with dbt and publish `warehouse`.

    Rows that break a rule are quarantined and the rest published (with a warning), unless
    `strict`, which fails the run on any rejected row. A file that cannot be read as its feed
    fails the run. A failed run publishes nothing and leaves the last warehouse in place.
    `full_refresh` rebuilds from the landing files alone; `prune` drops the rows of files that
    are no longer in the landing directory (they are kept otherwise).
    """
    landing_dir, warehouse_path = Path(landing), Path(warehouse)
    run_id = str(flow_run.get_id() or uuid.uuid4())
    parameters = {"landing": landing, "warehouse": warehouse, "strict": strict, "full_refresh": full_refresh, "prune": prune}
    with warehouse_lock(warehouse_path):
        for stale in remove_stale_builds(warehouse_path):
            get_run_logger().warning("removed %s, left by a run that was killed", stale)
        record = runlog.RunRecord(run_id, parameters)
        runlog.append(warehouse_path, record)
        try:
            summary = _run(landing_dir, warehouse_path, strict, prune, record)
        except Exception as error:
            runlog.append(warehouse_path, record.finish("failed", str(error)))
            raise
        runlog.append(warehouse_path, record.finish(summary.status))
    if summary.rejections:
        get_run_logger().warning("%d row(s) in quarantine:\n  %s", len(summary.rejections), "\n  ".join(map(str, summary.rejections)))
    return summary


def _run(landing: Path, warehouse: Path, strict: bool, prune: bool, record: runlog.RunRecord) -> RunSummary:
    full_refresh = bool(record.parameters["full_refresh"])
    work, skipped = plan_ingestion(landing, warehouse, full_refresh)
    record.files_new, record.files_changed, record.files_removed = len(work.new), len(work.changed), len(work.removed)
    if not work.has_work(prune):
        return RunSummary.no_op(warehouse, work, skipped)
    known_feeds = {file.feed for file in work.to_load + work.unchanged} | {file.feed for file in work.removed if not prune}
    missing = [f"{feed}*.csv" for feed in FEEDS if feed not in known_feeds]
    if missing:
        raise FeedFileError(landing, f"no landing file for {', '.join(missing)}")

    build = start_build(warehouse, record.run_id, work, prune)
    try:
        loads = {feed: load_feed(build, feed, [f for f in work.to_load if f.feed == feed], record.run_id) for feed in FEEDS}
        refs = ReferenceData()
        validations = {}
        for feed in FEEDS:
            validations[feed], refs = validate(build, feed, refs, record.run_id)
        with duckdb.connect(str(build)) as con:
            manifest.count_rows(con)
            rejections = quarantine.rejections(con)
        record.rows_loaded = sum(v.rows_valid for v in validations.values())
        record.rows_rejected = len(rejections)
        if strict and rejections:
            raise RejectedRowsError(
                f"--strict: {len(rejections)} row(s) broke a rule; nothing was published:\n  " + "\n  ".join(map(str, rejections))
            )
        dbt, found = build_marts(build, record.run_id)
        publish_warehouse(build, warehouse, record)
    finally:
        discard_build(build)

    feeds = [
        FeedSummary(
            feed=feed,
            files_loaded=len(loads[feed]),
            rows_valid=validations[feed].rows_valid,
            rows_rejected=sum(1 for rejection in rejections if rejection.feed == feed),
        )
        for feed in FEEDS
    ]
    return RunSummary(
        status="completed",
        warehouse=warehouse,
        plan=work,
        skipped=skipped,
        feeds=feeds,
        dbt=dbt,
        findings=found,
        rejections=rejections,
        pruned=prune,
    )
