"""Build: run `dbt build` (models and data tests) on the run's private build file.

dbt runs in-process (once per flow run); the flow then shows each model and test as a task of its
own, built from dbt's run results (flows.run.report_dbt_node).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import re
import shutil
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from flows import settings
from flows.build import exchange
from flows.devtools.faults import pause_point
from flows.errors import BuildError
from flows.records import console
from flows.settings import DBT_PROJECT_DIR, PROFILES_DIR, TARGETS
from flows.warehouse.lock import lock_folder


def target_dir() -> Path:
    """dbt's target folder (settings.DBT_TARGET_PATH; dbt_project/target by default)."""
    return settings.dbt_folder(settings.DBT_TARGET_PATH)


def build_link() -> Path:
    """The one path dbt opens every build through: `build` in dbt's target folder, a link to the run's build folder.

    dbt reuses its parse of the project (target/partial_parse.msgpack) only while the profile's
    connection is unchanged, database path included: a new path meant a full parse, 2.3 to 2.8 s
    more per seeds run. The link, like the target folder, is shared by every build that uses that
    folder: one at a time."""
    return target_dir() / "build"


# dbt node statuses that mean the build must not be published.
_FAILED = {"error", "fail", "runtime error"}
# The dbt nodes that do work in a build (and so are reported, as tasks and in ops.dbt_results).
_RUN_TYPES = {"model", "test", "seed", "snapshot", "unit_test"}


# dbt's headings above the error itself, and the prefix the Thrift server puts before the engine's.
_HEADINGS = re.compile(r"(Runtime|Compilation|Database) Error( in \w+ \S+ \(.*\))?")
_THRIFT_PREFIX = "org.apache.hive.service.cli.HiveSQLException: Error running query: "


def one_line(message: str | None) -> str:
    """dbt's message of a failed node as the line that says what went wrong.

    A Spark error through the Thrift server is a Java stack trace of a hundred lines whose cause is
    its last `Caused by:` (e.g. `java.lang.VirtualMachineError: Out of space in CodeCache`); a
    DuckDB error is dbt's heading, then the error, then the SQL around it. Stack frames, dbt's
    headings and the Thrift server's prefix are dropped."""
    lines = [line.strip() for line in (message or "").splitlines()]
    lines = [line for line in lines if line and not line.startswith("at ") and not re.fullmatch(r"\.\.\. \d+ more", line)]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
    if causes:
        return causes[-1]
    telling = [line for line in lines if not _HEADINGS.fullmatch(line)] or lines or ["(dbt gave no message)"]
    return telling[0].removeprefix(_THRIFT_PREFIX)


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome in a build: a row of ops.dbt_results."""

    unique_id: str
    resource_type: str
    name: str
    relation: str | None  # schema.name of what a model built
    materialized: str | None  # table, view, ... (models only)
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    execution_seconds: float
    rows_affected: int | None
    failures: int | None  # failing rows of a data test
    message: str | None

    @property
    def failed(self) -> bool:
        return self.status in _FAILED

    @property
    def brief(self) -> str:
        """The node and dbt's message as one line (ops.dbt_results keeps the message whole)."""
        return f"{self.resource_type} {self.name}: {one_line(self.message)}"


@dataclass(frozen=True)
class DbtBuild:
    """What dbt built and tested, node by node."""

    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None  # dbt could not run at all (a parse or connection error)
    unreachable: str | None = None  # the engine's server stopped answering: the one thing to say

    @property
    def counts(self) -> Counter:
        return Counter((node.resource_type, node.status) for node in self.nodes)

    def count(self, resource_type: str, *statuses: str) -> int:
        return sum(n for (kind, status), n in self.counts.items() if kind == resource_type and status in statuses)

    @property
    def failures(self) -> list[str]:
        return [node.brief for node in self.nodes if node.failed]

    def raise_for_failures(self) -> None:
        if self.unreachable is not None:
            raise BuildError(f"{self.unreachable}; nothing was published")
        if self.error is not None:
            raise BuildError(f"dbt build could not run: {self.error}")
        if self.failures:
            raise BuildError("dbt build failed; nothing was published:\n  " + "\n  ".join(self.failures))

    def __str__(self) -> str:
        models = self.count("model", "success")
        tests = self.count("test", "pass")
        warned = self.count("test", "warn")
        return f"{models} models built, {tests} data tests passed ({warned} warned)"


def check_target(target: str) -> None:
    """Fail before any work when `target` cannot run here: an unknown name, or Spark without its extra or Java."""
    if target not in TARGETS:
        raise BuildError(f"unknown dbt target {target!r}: expected one of {', '.join(TARGETS)}")
    if target == "spark":
        if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
            raise BuildError("dbt target spark needs the Spark extra: `make spark`, or pip install -e '.[spark]'")
        if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
            raise BuildError("dbt target spark needs Java 17 or later (java on the PATH, or JAVA_HOME)")
    if target == "spark_thrift":
        if importlib.util.find_spec("dbt.adapters.spark") is None or importlib.util.find_spec("pyhive") is None:
            raise BuildError("dbt target spark_thrift needs the Spark extra (dbt-spark with PyHive): `make spark`")
        problem = thrift_unreachable()
        if problem:
            raise BuildError(problem + "; nothing was done")


def thrift_address() -> tuple[str, int]:
    """The host and port of the Thrift server the spark_thrift target connects to (as profiles.yml reads them)."""
    return settings.SPARK_THRIFT_HOST.value() or "127.0.0.1", int(settings.SPARK_THRIFT_PORT.number())


def thrift_unreachable() -> str | None:
    """None if the spark_thrift target's server accepts connections, else one line saying what was tried.

    dbt-spark reports a server that is down (or gone mid-build) as a connection error on every
    node still to run; this says it once, with the address, before or after the build.
    """
    host, port = thrift_address()
    try:
        with socket.create_connection((host, port), timeout=10):
            return None
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
    return (
        f"dbt target spark_thrift: no Spark Thrift server answers at {host}:{port} ({reason}); "
        f"start one (make cluster) or point {settings.SPARK_THRIFT_HOST.name} and {settings.SPARK_THRIFT_PORT.name} at yours"
    )


def preload_dbt(target: str) -> None:
    """Start importing dbt and the target's adapter in a background thread, and return at once.

    Importing them takes 1.3 to 1.8 s, which a run would otherwise spend when it reaches the
    build; meanwhile it loads and validates in DuckDB, which leaves the interpreter free for much
    of the time. The build's own import waits for this one if it has not finished.
    """
    modules = ["dbt.cli.main", f"dbt.adapters.{target}"]
    threading.Thread(target=_import_quietly, args=(modules,), name="preload-dbt", daemon=True).start()


def _import_quietly(modules: list[str]) -> None:
    # An import that fails here fails again, with its error, where the build imports it.
    with contextlib.suppress(Exception):
        for module in modules:
            importlib.import_module(module)


def dbt_build(database: Path, run_id: str, target: str = "duckdb", unit_tests: bool = False) -> DbtBuild:
    """Run `dbt build` (models and data tests) in-process against `database`, on dbt target `target`.

    The run id is stamped on every mart row (env var OUTBOUND_RUN_ID), so a reader can tell that
    the marts it reads in one query come from one publish. Failures are in the result, not raised:
    the caller records them first (ops.dbt_results), then calls `raise_for_failures`.
    On a target other than DuckDB the feeds go to the engine, and its models come back into
    `database`, as Parquet in a hand-over folder both reach (flows/build/exchange.py, `handover_dir`).
    """
    exchange_dir = handover_dir(database, run_id)
    try:
        built = _build(database, run_id, target, unit_tests, exchange_dir)
    finally:
        if exchange_dir.parent != database.parent.resolve():  # in a shared hand-over folder: this run's part goes
            shutil.rmtree(exchange_dir, ignore_errors=True)
    if target == "spark_thrift" and (built.error or built.failures):
        # A server that went away fails every node still to run, each with its own connection error: say it once.
        built = dataclasses.replace(built, unreachable=thrift_unreachable())
    return built


def _build(database: Path, run_id: str, target: str, unit_tests: bool, exchange_dir: Path) -> DbtBuild:
    """dbt build on `target`; for another engine, with the feeds handed over in `exchange_dir` and its models read back."""
    from dbt.cli.main import dbtRunner  # dbt is slow to import: only when a build runs.

    # What dbt reads through env_var() (profiles.yml, the macros), for this build only.
    for_dbt = {settings.RUN_ID: run_id}
    if target != "duckdb":
        with duckdb.connect(str(database)) as con:
            exchange.write_feeds(con, exchange_dir)
        for_dbt[settings.EXCHANGE_DIR] = str(exchange_dir)
        for_dbt[settings.SPARK_DIR] = str(database.parent.resolve() / "spark")  # the engine's scratch, removed with the build
    args = ["build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR), "--quiet", "--no-use-colors"]
    args += ["--target", target, "--target-path", str(target_dir()), "--log-path", str(settings.dbt_folder(settings.DBT_LOG_PATH))]
    # dbt's debug file log writes every statement under a lock all its threads share: it cost a
    # third of a build on the seeds. Node-level lines (info) stay in dbt.log, in dbt's log folder.
    args += ["--log-level-file", "info"]
    # Nothing reads dbt's JSON artifacts of a build (the run records its results itself, in
    # ops.dbt_results, and `outbound docs` generates its own): writing manifest.json, run_results.json
    # and the graph, about 3 MB, cost about half a second a run. The parse dbt reuses is kept all the same.
    args += ["--no-write-json"]
    # Unit tests check the models' logic on fixed inputs, not the data: they run in the test
    # suite (tests/test_dbt_unit_tests.py), and on a publish only when asked (on a new engine, they
    # show that its dialect gives the models' logic the same results).
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    try:
        with linked_build(database) as dbt_database, environment({**for_dbt, settings.DBT_DATABASE: str(dbt_database)}):
            try:
                with console.progress("dbt build") as advance:
                    result = dbtRunner(callbacks=[_pause_after_first_node, _counting_nodes(advance)]).invoke(args)
            finally:
                close_dbt_connection()
    finally:
        stop_spark_session()
    if result.exception is not None:
        return DbtBuild(error=one_line(str(result.exception)))
    # Exposures and other nodes that only describe the project are "built" as no-ops: not reported.
    ran = [_node_result(node_result) for node_result in result.result.results if node_result.node.resource_type in _RUN_TYPES]
    # The project's hooks (an engine's hand-over, macros/exchange.sql) are not among the nodes.
    hooks_failed = [
        f"{r.node.name}: {r.message}" for r in result.result.results if r.node.resource_type == "operation" and r.status == "error"
    ]
    if hooks_failed:
        return DbtBuild(ran, error="; ".join(hooks_failed))
    if target != "duckdb":
        if DbtBuild(ran).failures:  # a failed build hands nothing back: its tables are not in the build file
            return DbtBuild(ran)
        built = [node.relation for node in ran if node.resource_type == "model" and node.relation]
        documented = [r.node for r in result.result.results if r.node.resource_type == "model"]
        with duckdb.connect(str(database)) as con:
            missing = exchange.read_models(con, exchange_dir, built, exchange.descriptions(documented))
        if missing:
            return DbtBuild(ran, error=f"{target} built but did not hand back {', '.join(missing)}")
    return DbtBuild(_with_table_rows(database, ran))


def handover_dir(database: Path, run_id: str) -> Path:
    """This run's hand-over folder: run-<run id> in $OUTBOUND_HANDOVER_DIR if set, else in the run's build folder."""
    shared = settings.HANDOVER_DIR.value()
    if shared:
        return Path(shared).resolve() / f"run-{run_id}"
    return database.parent.resolve() / "exchange"


@contextmanager
def linked_build(database: Path) -> Iterator[Path]:
    """`database` as dbt opens it: through build_link(), held by this build until the block ends.

    Waits while another build from this checkout holds the link (flock: the kernel drops it when a
    process dies). DuckDB puts its write-ahead log and spill files beside the path it opens, so
    they land in the build folder, through the link, and go with it.
    """
    link = build_link()
    link.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_folder(link.parent, wait=True)
    try:
        staged = link.with_name(f".{link.name}.{os.getpid()}")
        staged.unlink(missing_ok=True)
        staged.symlink_to(database.parent.resolve(), target_is_directory=True)
        os.replace(staged, link)  # a link a killed build left behind is replaced in one step
        try:
            yield link / database.name
        finally:
            link.unlink(missing_ok=True)
    finally:
        os.close(lock)  # releases the lock


@contextmanager
def environment(values: dict[settings.Setting, str]) -> Iterator[None]:
    """Set these variables for the block (dbt reads them through env_var()), then put back what was there."""
    before = {setting.name: os.environ.get(setting.name) for setting in values}
    os.environ.update({setting.name: value for setting, value in values.items()})
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def close_dbt_connection() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open after an in-process invocation (it has
    defaulted to one connection per invocation since 1.9.2): until then it holds the database file (the flow's build, which it reads, stamps
    and renames next; `outbound docs`' copy), and a process exiting with it open can hang."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def stop_spark_session() -> None:
    """Stop the Spark session dbt-spark's session method started in this process, if any: its JVM
    holds memory and the build folder's scratch files, and a next build must start with its own settings."""
    if "pyspark.sql" not in sys.modules:
        return
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if session is not None:
        session.stop()


def _with_table_rows(database: Path, nodes: list[NodeResult]) -> list[NodeResult]:
    """Fill rows_affected for the tables dbt built: dbt-duckdb does not report it for `create table as`."""
    tables = [node for node in nodes if node.materialized == "table" and node.status == "success" and node.rows_affected is None]
    if not tables:
        return nodes
    with duckdb.connect(str(database), read_only=True) as con:
        rows = {node.unique_id: con.execute(f"select count(*) from {node.relation}").fetchall()[0][0] for node in tables}
    return [dataclasses.replace(node, rows_affected=rows[node.unique_id]) if node.unique_id in rows else node for node in nodes]


def _node_result(node_result) -> NodeResult:
    node = node_result.node
    timings = [timing for timing in node_result.timing if timing.started_at is not None]
    response = node_result.adapter_response or {}
    rows = response.get("rows_affected")
    return NodeResult(
        unique_id=node.unique_id,
        resource_type=str(node.resource_type),
        name=node.name,
        relation=f"{node.schema}.{node.alias}" if node.resource_type == "model" else None,
        materialized=node.config.materialized if node.resource_type == "model" else None,
        status=str(node_result.status),
        started_at=min((t.started_at for t in timings), default=None),
        completed_at=max((t.completed_at for t in timings if t.completed_at), default=None),
        execution_seconds=round(float(node_result.execution_time or 0.0), 3),
        rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
        failures=node_result.failures,
        message=node_result.message,
    )


def _counting_nodes(advance):
    """A dbt callback that moves the console's bar on as nodes finish (dbt's start lines say how many)."""

    def count(event) -> None:
        name = event.info.name
        if name == "LogStartLine" and event.data.index == 1:
            advance(0, total=event.data.total)
        elif name == "NodeFinished":
            advance()

    return count


def _pause_after_first_node(event) -> None:
    """Crash tests: pause inside dbt, once its first node has finished (see flows.devtools.faults)."""
    if event.info.name == "NodeFinished":
        pause_point("dbt")
