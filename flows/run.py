"""The `outbound` flow: load what changed in the landing directory, validate, build, publish.

    landing/*.csv --load--> loaded.<feed> --validate--> raw.<feed> (valid rows) --dbt build--> staging, marts
                               \\--> quarantine.rejected_rows (every rejected row, with its rules)

A run holds the warehouse folder's lock, compares the landing files with the published manifest,
and stops there if nothing is new. Otherwise it builds in a private copy of the published
warehouse and replaces it only when the whole build and its dbt tests passed.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Completed

from flows import interrupts, settings
from flows.build import results as dbt_results
from flows.build.runner import DbtBuild, NodeResult, check_target, dbt_build, preload_dbt
from flows.devtools.faults import pause_point
from flows.errors import BuildError, FeedFileError, LandingFileChangingError, RejectedRowsError, storage_errors
from flows.records import artifacts, console, findings, freshness, runlog
from flows.records.findings import SHOWN_AT_MOST, Findings
from flows.records.summary import FeedSummary, RunSummary, first_rejections_text
from flows.retries import TRANSIENT_RETRIES
from flows.settings import RunParameters
from flows.stages import changes, manifest, parquet, quarantine
from flows.stages.load import FileLoad, SkippedFile, create_tables, forget_file, landing_files, landing_name, load_file, rename_file
from flows.stages.manifest import LandingFile, Plan
from flows.stages.precision import FIGURE_FEEDS, record_units_steps
from flows.stages.publish import discard_build, prepare_build, publish
from flows.stages.validate import JUDGED, FeedValidation, validate_feed
from flows.warehouse import connections as engine
from flows.warehouse.lock import WarehouseLock, remove_stale_builds
from flows.warehouse.published import set_aside_stray_log
from schemas import FEEDS, validation_order

# The parameters' defaults (flows.settings.RunParameters); the warehouse's is read from the
# environment when the flow is defined, so the Prefect UI shows the path a run will publish to.
DEFAULTS = RunParameters()


@task(name="acquire-warehouse", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def acquire_warehouse(warehouse: Path) -> WarehouseLock:
    """Take the warehouse folder's lock (retried while another run holds it) and clear killed runs' debris."""
    lock = WarehouseLock(warehouse)
    for stale in remove_stale_builds(warehouse):
        get_run_logger().warning("removed %s, left by a run that was killed", stale)
    kept = set_aside_stray_log(warehouse)
    if kept:
        get_run_logger().warning("set aside %s: a write-ahead log that did not belong to the warehouse (kept, not replayed)", kept)
    return lock


@task(name="plan-ingestion", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def plan_ingestion(landing: Path, warehouse: Path, full_refresh: bool, prune: bool, target: str) -> tuple[Plan, list[SkippedFile], bool]:
    """Hash every landing file and compare it with the published manifest (and the engine that built it).

    A landing folder that is missing or holds no feed file fails the run: it is far likelier an
    unmounted share than a wish to empty the warehouse; so does a run with work to do that would
    leave a feed with no file at all. Also says whether the Parquet link has strayed from the
    published warehouse's set (a run killed between its two swaps).
    """
    if not landing.is_dir():
        raise FeedFileError(landing, "no such landing folder (is the share mounted?); nothing was published")
    paths, skipped = landing_files(landing, list(FEEDS))
    if not any(paths.values()):
        expected = ", ".join(f"{feed}*.csv" for feed in FEEDS)
        raise FeedFileError(landing, f"the landing folder holds no feed file ({expected}); nothing was published")
    files = [LandingFile.of(feed, path, landing_name(landing, path)) for feed, feed_paths in paths.items() for path in feed_paths]
    result = manifest.plan(files, warehouse, full_refresh, target)
    logger = get_run_logger()
    logger.info(
        "%s%s",
        result.counts_text(),
        f"; rebuilding: {result.rebuild_reason}" if result.rebuild_reason else "",
        extra=console.stage("plan"),
    )
    for skip in skipped:
        logger.warning("%s", skip, extra=console.SUMMARIZED)
    if result.has_work(prune):
        missing = [f"{feed}*.csv" for feed in FEEDS if feed not in result.feeds_kept(prune)]
        if missing:
            raise FeedFileError(landing, f"no landing file for {', '.join(missing)}")
    apart = result.rebuild_reason is None and parquet.is_apart(warehouse, result.published_run_id)
    return result, skipped, apart


@task(name="prepare-build", cache_policy=NO_CACHE)
def start_build(warehouse: Path, run_id: str, work: Plan, prune: bool, target: str) -> Path:
    """Copy the published warehouse (or start empty) and drop the rows of changed or pruned files."""
    preload_dbt(target)  # while the files load and validate
    build = prepare_build(warehouse, run_id, start_from_published=work.rebuild_reason is None)
    with engine.connect(build) as con:
        quarantine.create(con)
        manifest.create(con)
        if work.rebuild_reason is None:  # dbt builds on the published models: record what changes
            changes.reset(con)
            if work.changes_brands(prune):
                changes.record_every_figure(con)
        for feed, model in FEEDS.items():
            create_tables(con, feed, model.csv_columns())
        # what the rows of changed, renamed and pruned files said, before they go (flows.stages.changes)
        for before, _ in work.changed:
            changes.record_file(con, before.feed, before.path)
            forget_file(con, before.feed, before.path)
        for before, after in work.renamed:
            changes.record_file(con, before.feed, before.path)
            rename_file(con, before.feed, before.path, after.name)
            manifest.rename(con, before, after)
        for file in work.removed if prune else []:
            changes.record_file(con, file.feed, file.path)
            forget_file(con, file.feed, file.path)
            manifest.drop(con, file.name)
    return build


@task(name="load-feed", task_run_name="load {feed}", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def load_feed(build: Path, feed: str, files: list[LandingFile], run_id: str) -> list[FileLoad]:
    """Read the new and changed landing files of one feed into loaded.<feed>.

    A file that changes while it is read is still being written: the task fails and Prefect
    retries it, reading (and hashing) the file again from the start.
    """
    columns = FEEDS[feed].csv_columns()
    loads = []
    with engine.connect(build) as con:
        for file in files:
            if not file.is_unchanged_on_disk():  # changed since it was planned: hash what is there now
                file = LandingFile.of(feed, file.path, file.name)
            forget_file(con, feed, file.name)  # rows of an earlier, interrupted attempt
            loads.append(load_file(con, feed, file.path, columns, run_id, name=file.name))
            changes.record_file(con, feed, file.name)
            if not file.is_unchanged_on_disk():
                raise LandingFileChangingError(f"{file.path}: the file changed while it was loaded; it is still being written")
            manifest.record(con, file, run_id)
            get_run_logger().info("%s: %d rows read, %d unreadable", file.path, loads[-1].rows_loaded, loads[-1].rows_rejected)
            pause_point("load")
    return loads


@task(name="validate-feed", task_run_name="validate {feed}", cache_policy=NO_CACHE)
def validate(build: Path, feed: str, run_id: str, changed_only: bool) -> FeedValidation:
    """Hold the loaded rows of one feed to its pandera model (as SQL, in DuckDB); quarantine the rows that break it.

    Every row, or with `changed_only` the rows whose key this run changed (Plan.judges_changed_rows_only).
    """
    with engine.connect(build) as con:
        changes.verdicts_before(con, feed)
        result = validate_feed(con, feed, run_id, changed_only)
        changes.record_new_verdicts(con, feed)
        if feed in FIGURE_FEEDS:  # how precisely each approximate figure is written, for dbt's ranges
            record_units_steps(con, feed, judged=JUDGED if changed_only else None)
    judged = "the rows it changed" if changed_only else "every row"
    get_run_logger().info("%s (%s): %d valid rows, %d rejected", feed, judged, result.rows_valid, result.rows_rejected)
    pause_point("validate")
    return result


@task(name="count-rejections", cache_policy=NO_CACHE)
def count_rejections(
    build: Path, landing: Path, loads: dict[str, list[FileLoad]], validations: dict[str, FeedValidation]
) -> tuple[list[FeedSummary], int, list]:
    """Count each file's rows in the manifest and each feed's rejected rows; post the validation artifact.

    Returns the feeds' summaries, the rows in quarantine, and the first of them (for the messages,
    which name each file by its path in `landing`; the warehouse names it relative to the folder).
    """
    with engine.connect(build) as con:
        manifest.count_rows(con)
        rejected = quarantine.counts(con)
        rejections = [rejection.in_folder(landing) for rejection in quarantine.rejections(con, limit=SHOWN_AT_MOST)]
        top_failed = artifacts.top_failed_rules(con)
    feeds = [
        FeedSummary(
            feed=feed,
            files_loaded=len(loads[feed]),
            rows_valid=validations[feed].rows_valid,
            rows_rejected=rejected.get(feed, 0),
        )
        for feed in FEEDS
    ]
    artifacts.post_validation(feeds, top_failed)
    return feeds, sum(rejected.values()), rejections


@task(name="dbt-build", cache_policy=NO_CACHE)
def build_marts(build: Path, warehouse: Path, run_id: str, target: str, unit_tests: bool) -> tuple[DbtBuild, Findings]:
    """Run dbt build on `target` (staging views, mart tables, data tests; each a task of its own), then read the findings."""
    started = time.perf_counter()
    result = dbt_build(build, run_id, target, unit_tests)
    dbt_results.append(warehouse, run_id, result)  # failed builds' results are kept too
    # One after the other: on 2 cores, a thread per node only adds contention (measured: 1.5 s
    # against 1.0 s for the seeds' nodes). A failed node fails its task; the build raises below.
    for node in result.nodes:
        report_dbt_node(node, return_state=True)
    artifacts.post_dbt_results(result)
    result.raise_for_failures()
    logger = get_run_logger()
    logger.info("%s (%.1f s)", result, time.perf_counter() - started, extra=console.stage("dbt"))
    found = findings.read(build)
    if found:
        logger.warning("%d data-quality finding(s): %s", len(found), found.counts_text(), extra=console.SUMMARIZED)
    for finding in found.first:
        logger.warning("finding: %s", finding, extra=console.SUMMARIZED)
    artifacts.post_mart_rows(artifacts.mart_row_counts(build))
    artifacts.post_findings(found)
    return result, found


@task(name="dbt-node", task_run_name="{node.resource_type} {node.name}", cache_policy=NO_CACHE)
def report_dbt_node(node: NodeResult) -> str:
    """One dbt model or test as dbt ran it, built from its run result: fails if the node failed."""
    rows = f", {node.rows_affected:,} rows" if node.rows_affected is not None else ""
    failing = f", {node.failures} failing row(s)" if node.failures else ""
    what = f"{node.materialized} {node.relation}" if node.relation else node.name
    get_run_logger().info("%s: %s in %.2f s%s%s", what, node.status, node.execution_seconds, rows, failing)
    if node.failed:
        # The whole message (a Java stack trace, from Spark) for the run log; one line for the console.
        get_run_logger().error("%s %s failed; dbt's message:\n%s", node.resource_type, node.name, node.message, extra=console.SUMMARIZED)
        raise BuildError(node.brief)
    return node.status


@task(name="publish-warehouse", cache_policy=NO_CACHE, **TRANSIENT_RETRIES)
def publish_warehouse(build: Path, warehouse: Path, record: runlog.RunRecord) -> None:
    """Stamp the build, then swap it in for the published warehouse in one atomic rename.

    Retried while a client holds the published file read-write: it is never replaced under one.
    """
    started = time.perf_counter()
    with engine.connect(build) as con:
        manifest.stamp(con, record.run_id, str(record.parameters["target"]))
        runlog.copy_into(con, warehouse, record)
        dbt_results.copy_into(con, warehouse)
    for note in publish(build, warehouse):
        get_run_logger().warning("%s", note)
    get_run_logger().info("%s, and its marts as Parquet (%.1f s)", warehouse, time.perf_counter() - started, extra=console.stage("publish"))


@task(name="align-parquet", cache_policy=NO_CACHE)
def align_parquet(warehouse: Path, run_id: str) -> None:
    """Swap in the published warehouse's Parquet set: the link led to an older publish's."""
    parquet.align(warehouse, run_id)
    get_run_logger().warning(
        "%s led to an older publish (a run was killed while publishing): now to the warehouse's", parquet.parquet_link(warehouse)
    )


@task(name="check-freshness", cache_policy=NO_CACHE)
def check_freshness(warehouse: Path) -> list[freshness.Freshness]:
    """Warn about feeds that have had no new file for longer than their threshold (dbt source freshness)."""
    found = freshness.check(warehouse)
    for feed in found:
        if feed.status in {"warn", "error"}:
            get_run_logger().warning("stale feed: %s", feed, extra=console.SUMMARIZED)
    if found:
        artifacts.post_freshness(found)
    return found


# The warehouse default is read from the environment when the flow is defined, so the Prefect UI
# shows the path a run will publish to.
# A run that takes longer than this is stuck.
@flow(name="outbound", timeout_seconds=int(settings.TIMEOUT_SECONDS.number()))
def outbound(
    landing: str = DEFAULTS.landing,
    warehouse: str = DEFAULTS.warehouse,
    strict: bool = DEFAULTS.strict,
    full_refresh: bool = DEFAULTS.full_refresh,
    prune: bool = DEFAULTS.prune,
    # A plain str, checked by check_target: a Literal annotation breaks Prefect's parameter model
    # in a served deployment's runs ("OutboundModel is not fully defined").
    target: str = DEFAULTS.target,
    unit_tests: bool = DEFAULTS.unit_tests,
) -> RunSummary:
    """Load what changed in `landing`, validate, build the marts with dbt and publish `warehouse`.

    Rows that break a rule are quarantined and the rest published (with a warning), unless
    `strict`, which fails the run on any rejected row. A file that cannot be read as its feed
    fails the run. A failed run publishes nothing and leaves the last warehouse in place.
    `full_refresh` rebuilds from the landing files alone; `prune` drops the rows of files that
    are no longer in the landing directory (they are kept otherwise). `target` is the dbt target
    (profiles.yml) the models are built and tested on: `duckdb`, in the build file itself, or
    `spark`; validation happens in DuckDB and the warehouse is published as a DuckDB file either way.
    `unit_tests` also runs dbt's unit tests in the build (the models' logic on fixed inputs).
    """
    console.ignore_known_warnings()
    landing_dir, warehouse_path = Path(landing), Path(warehouse)
    check_target(target)
    flow_run_id = flow_run.get_id()
    run_id = str(flow_run_id or uuid.uuid4())
    parameters = RunParameters(landing, warehouse, strict, full_refresh, prune, target, unit_tests).as_dict()
    with storage_errors():
        lock = acquire_warehouse(warehouse_path)
        try:
            record = runlog.RunRecord(run_id, parameters, trigger=_trigger(), flow_run_id=flow_run_id)
            runlog.append(warehouse_path, record)
            try:
                summary = _run(landing_dir, warehouse_path, strict, prune, record)
            except BaseException as error:
                _record_end(warehouse_path, record, error)
                raise
            runlog.append(warehouse_path, record.finish(summary.status))
            summary = dataclasses.replace(summary, freshness=check_freshness(warehouse_path))
        finally:
            lock.release()
    if summary.rows_rejected:
        get_run_logger().warning(
            "%d row(s) in quarantine%s", summary.rows_rejected, summary.first_rejections_text(), extra=console.SUMMARIZED
        )
    # The run's state message in the UI says what it did (a run with nothing new says so).
    return Completed(message=summary.headline(), data=summary)


def _record_end(warehouse: Path, record: runlog.RunRecord, error: BaseException) -> None:
    """The run log's end line of a run that raised: failed, or interrupted by a signal (Ctrl-C, SIGTERM).

    A signal that arrived during the publish waited for it (flows.interrupts): such a run did
    publish, as the note publish added to the interruption says.
    """
    if isinstance(error, Exception):
        status, message = "failed", str(error)
    elif interrupts.PUBLISHED_NOTE in getattr(error, "__notes__", []):
        status, message = "completed", None
    else:
        status, message = "interrupted", interrupts.MESSAGE
    try:
        runlog.append(warehouse, record.finish(status, message))
    except OSError:
        pass  # a read-only or full disk: the error being raised says so


def _trigger() -> str:
    """How this run started: `schedule` or `deployment` (a run of outbound/daily), else `manual` (the CLI, Python)."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    run = context.flow_run if context else None
    if run is None or run.deployment_id is None:
        return "manual"
    return "schedule" if run.auto_scheduled else "deployment"


def _run(landing: Path, warehouse: Path, strict: bool, prune: bool, record: runlog.RunRecord) -> RunSummary:
    full_refresh = bool(record.parameters["full_refresh"])
    target, unit_tests = str(record.parameters["target"]), bool(record.parameters["unit_tests"])
    with record.stage("plan"):
        work, skipped, parquet_apart = plan_ingestion(landing, warehouse, full_refresh, prune, target)
    record.files_new, record.files_changed, record.files_removed = len(work.new), len(work.changed), len(work.removed)
    if parquet_apart:
        align_parquet(warehouse, work.published_run_id)
    if not work.has_work(prune):
        get_run_logger().info("nothing new: %s is unchanged", warehouse)
        return RunSummary.no_op(warehouse, work, skipped)

    with record.stage("prepare"):
        build = start_build(warehouse, record.run_id, work, prune, target)
    try:
        with record.stage("load"):
            loads = _load_feeds(build, work, record.run_id)
        with record.stage("validate"), console.progress("validate", total=len(FEEDS)) as advance:
            # Each feed after the feeds its rules read (schemas.validation_order).
            validations = {}
            for feed in validation_order():
                advance(0, description=f"validate {feed}")
                validations[feed] = validate(build, feed, record.run_id, work.judges_changed_rows_only(feed, prune))
                advance()
            feeds, rows_rejected, rejections = count_rejections(build, landing, loads, validations)
        record.rows_loaded = sum(v.rows_valid for v in validations.values())
        record.rows_rejected = rows_rejected
        get_run_logger().info(
            "%d valid rows, %d rejected (%.1f s)",
            record.rows_loaded,
            record.rows_rejected,
            record.stages["validate"]["seconds"],
            extra=console.stage("validate"),
        )
        if strict and rejections:
            raise RejectedRowsError(
                f"--strict: {record.rows_rejected} row(s) broke a rule; nothing was published"
                + first_rejections_text(rejections, record.rows_rejected)
            )
        with record.stage("dbt"):
            dbt, found = build_marts(build, warehouse, record.run_id, target, unit_tests)
        with record.stage("publish"):
            publish_warehouse(build, warehouse, record)
    finally:
        discard_build(build)

    return RunSummary(
        status="completed",
        warehouse=warehouse,
        plan=work,
        skipped=skipped,
        feeds=feeds,
        dbt=dbt,
        findings=found,
        rejections=rejections,
        rows_rejected=record.rows_rejected,
        pruned=prune,
    )


def _load_feeds(build: Path, work: Plan, run_id: str) -> dict[str, list[FileLoad]]:
    """Load each feed's new and changed files (a task per feed), with a bar over the files."""
    loads, started = {}, time.perf_counter()
    with console.progress("load", total=len(work.to_load)) as advance:
        for feed in FEEDS:
            files = [f for f in work.to_load if f.feed == feed]
            size = sum(f.size_bytes for f in files)
            advance(0, description=f"load {feed} ({len(files)} file(s), {size / 1e6:,.1f} MB)")
            loads[feed] = load_feed(build, feed, files, run_id)
            advance(len(files))
    read = sum(load.rows_loaded for feed_loads in loads.values() for load in feed_loads)
    unreadable = sum(load.rows_rejected for feed_loads in loads.values() for load in feed_loads)
    get_run_logger().info(
        "%d file(s), %d rows read, %d unreadable (%.1f s)",
        len(work.to_load),
        read,
        unreadable,
        time.perf_counter() - started,
        extra=console.stage("load"),
    )
    return loads
