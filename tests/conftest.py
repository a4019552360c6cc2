"""Fixtures that run the real `outbound` command on real files into real DuckDB warehouses.

The runs talk to one real Prefect server started for the test session (a flow costs about a
second against it, against five in Prefect's ephemeral mode); where it cannot start, they fall
back to the ephemeral mode, and say so.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from flows import settings
from flows.devtools.local_server import start_prefect_server, stop_process_group
from schemas import ReferenceData

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SOURCES = REPO.parent / "shared" / "sources"
BIN = Path(sys.executable).parent

# `make test` runs the tests in two processes (pytest-xdist's `-n 2`, pyproject.toml), each with a
# session of its own: its own Prefect server, warehouses and temporary folders. dbt builds that share
# dbt's target folder take turns (flows.build.runner), so each worker gives its runs dbt folders of
# their own, as any two builds meant to run at once would.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if WORKER:
    for folder in (settings.DBT_TARGET_PATH, settings.DBT_LOG_PATH):
        os.environ[folder.name] = str(settings.dbt_folder(folder) / WORKER)

# The test modules that take longest, in the order they start: a worker that picks one up late would
# run alone at the end. The Spark modules go to one worker, one after the other, while the other runs
# the flow's; every other module follows in the order pytest collects it.
SLOWEST_FIRST = (
    "test_spark_cluster.py",
    "test_incremental_equivalence.py",
    "test_spark.py",
    "test_incremental.py",
    "test_bad_inputs.py",
    "test_incremental_findings.py",
    "test_crash.py",
    "test_console.py",
    "test_deployment.py",
    "test_flow.py",
    "test_readers.py",
    "test_observability.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest modules first (see SLOWEST_FIRST); within a module, tests keep their order."""
    rank = {name: position for position, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope="session")
def prefect_env(tmp_path_factory: pytest.TempPathFactory):
    """Environment for flow runs: a Prefect home of the session's own, and its server's API."""
    home = tmp_path_factory.mktemp("prefect-home")
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("OUTBOUND_WAREHOUSE", None)
    env.pop("OUTBOUND_PAUSE_AT", None)
    started = start_prefect_server(home)
    if started is None:
        print(f"\nprefect server did not start (see {home / 'server.log'}): flows run in Prefect's ephemeral mode", file=sys.stderr)
        env.pop("PREFECT_API_URL", None)
        yield env
        return
    server, env["PREFECT_API_URL"] = started
    try:
        yield env
    finally:
        stop_process_group(server)


class WarmStart:
    """tests/forkserver.py, started with the session's environment: forks `outbound` commands
    whose environment differs from it in OUTBOUND_* variables alone (see that module)."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder, self.calls, self.pending = env, folder, 0, b""
        self.log = folder / "forkserver.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.forkserver"],
                cwd=REPO,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self.ready = self._reply(timeout=120)

    def serves(self, env: dict[str, str]) -> bool:
        return all(env.get(key) == self.env.get(key) for key in env.keys() | self.env.keys() if not key.startswith("OUTBOUND_"))

    def run(self, args: tuple[str, ...], env: dict[str, str], timeout: float) -> Run:
        self.calls += 1
        stdout, stderr = self.folder / f"{self.calls}.stdout", self.folder / f"{self.calls}.stderr"
        request = {"args": list(args), "env": env, "cwd": str(REPO), "stdout": str(stdout), "stderr": str(stderr)}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        pid = self._reply(timeout=60)["pid"]
        try:
            returncode = self._reply(timeout)["returncode"]
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)  # as subprocess.run does on a timeout
            self._reply(timeout=60)
            raise subprocess.TimeoutExpired(["outbound", *args], timeout, stdout.read_text(), stderr.read_text()) from None
        output = Run(returncode, stdout.read_text(), stderr.read_text())
        stdout.unlink()
        stderr.unlink()
        return output

    def _reply(self, timeout: float) -> dict:
        """The next reply line, waiting at most `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise subprocess.TimeoutExpired("tests.forkserver", timeout)
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"tests/forkserver.py ended (code {self.process.wait()}); see {self.log}")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="session")
def outbound(prefect_env, tmp_path_factory: pytest.TempPathFactory):
    """Run the `outbound` command as a user would, in the repository, and return what it did.

    Each command is a process of its own: a run is forked by a warm interpreter that has Prefect and
    dbt imported already (tests/forkserver.py) where the call's environment allows, else started anew."""
    warm = WarmStart(prefect_env, tmp_path_factory.mktemp("forkserver"))
    if not warm.ready["quiet"]:
        print(f"\ntests/forkserver.py printed as it imported (see {warm.log}): every command starts anew", file=sys.stderr)

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
        call_env = {**prefect_env, **(env or {})}
        if args[:1] == ("run",) and warm.ready["quiet"] and warm.serves(call_env):
            return warm.run(args, call_env, timeout)
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", *args],
            check=False,
            cwd=REPO,
            env=call_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    try:
        yield run
    finally:
        warm.stop()


@pytest.fixture(scope="session")
def start_outbound(prefect_env):
    """Start `outbound` in the background (its own process group), for tests that kill it."""

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "flows.cli", *args],
            cwd=REPO,
            env={**prefect_env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    return start


@pytest.fixture(scope="session")
def published(outbound, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """The warehouse `outbound run` publishes from the shipped seeds, and what the run printed."""
    warehouse = tmp_path_factory.mktemp("published") / "outbound.duckdb"
    result = outbound("run", "--warehouse", str(warehouse))
    assert result.returncode == 0, result.output
    return warehouse, result


MONTHLY = REPO / "tests" / "fixtures" / "monthly_landing"


@pytest.fixture(scope="session")
def monthly(outbound, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """tests/fixtures/monthly_landing (one real article's figures and a synthetic source's, monthly and
    year to date), published by one real run for the session: (landing, warehouse, what the run printed).
    Tests read them and leave them as they are."""
    folder = tmp_path_factory.mktemp("monthly")
    landing = folder / "landing"
    shutil.copytree(MONTHLY, landing)
    warehouse = folder / "warehouse" / "outbound.duckdb"
    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert result.returncode == 0, result.output
    return landing, warehouse, result.stdout


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Query a warehouse read-only, as an analyst or a BI tool would."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture()
def warehouse_sql(published):
    path, _ = published
    return lambda sql, params=None: query(path, sql, params)


@pytest.fixture()
def landing(tmp_path: Path) -> Path:
    """A copy of the shipped seeds that a test may break."""
    directory = tmp_path / "landing"
    shutil.copytree(SEEDS, directory)
    return directory


@dataclass(frozen=True)
class PublishedLanding:
    """A landing directory of the shipped seeds and the warehouse a real `outbound run` published from it."""

    landing: Path
    warehouse: Path
    first_run: Run  # what that first run printed

    @property
    def args(self) -> list[str]:
        return ["run", "--landing", str(self.landing), "--warehouse", str(self.warehouse)]


@pytest.fixture(scope="session")
def _published_from_landing(outbound, tmp_path_factory: pytest.TempPathFactory) -> PublishedLanding:
    """One real first run per session, from a copy of the seeds, into an empty warehouse folder."""
    root = tmp_path_factory.mktemp("published-from-landing")
    landing, warehouse = root / "landing", root / "warehouse" / "outbound.duckdb"
    shutil.copytree(SEEDS, landing)
    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))
    assert result.returncode == 0, result.output
    return PublishedLanding(landing, warehouse, result)


@pytest.fixture()
def published_landing(_published_from_landing: PublishedLanding, tmp_path: Path) -> PublishedLanding:
    """For tests that publish from the seeds, then change the landing files and run again: the state
    right after that first run, without paying for it in every test.

    The test gets its own byte-for-byte copy of the whole warehouse folder the session's first run
    published (the warehouse, its run log and dbt results, its Parquet link and files) in
    tmp_path/warehouse, and the landing directory put back to the shipped seeds, at the path the
    warehouse's manifest names (so it is the same files: a run with nothing changed has nothing new).
    Tests run one at a time, so they take turns with that landing directory.
    """
    first = _published_from_landing
    shutil.rmtree(first.landing)
    shutil.copytree(SEEDS, first.landing)
    warehouse = tmp_path / "warehouse" / first.warehouse.name
    shutil.copytree(first.warehouse.parent, warehouse.parent, symlinks=True)
    return PublishedLanding(first.landing, warehouse, first.first_run)


def create_reference_tables(con: duckdb.DuckDBPyConnection, refs: ReferenceData, but: str | None = None) -> None:
    """The reference feeds' valid rows as the flow leaves them (raw.sources, raw.countries, raw.brands), from
    `refs`; all `but` the feed under test, whose raw.<feed> is its own."""
    con.execute("create schema if not exists raw")
    rows = {
        "sources": [[source, "doc.txt" if source in refs.document_source_ids else None] for source in refs.source_ids],
        "countries": [[country] for country in refs.countries],
        "brands": [list(pair) for pair in refs.brand_groups.items()],
    }
    columns = {
        "sources": "source_id varchar, document varchar",
        "countries": "country varchar",
        "brands": "brand varchar, group_name varchar",
    }
    for feed in rows.keys() - {but}:
        con.execute(f"create table raw.{feed} ({columns[feed]})")
        con.executemany(f"insert into raw.{feed} values ({', '.join('?' * len(rows[feed][0]))})", rows[feed])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class PrefectApi:
    """The Prefect REST API, read as the UI reads it (JSON over HTTP)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            f"{self.url}/{path.lstrip('/')}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def flow_run(self, flow_run_id: str) -> dict:
        return self.call("GET", f"flow_runs/{flow_run_id}")

    def artifacts(self, flow_run_id: str) -> dict[str, dict]:
        found = self.call("POST", "artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})
        return {artifact["key"]: artifact for artifact in found}

    def task_runs(self, flow_run_id: str) -> list[dict]:
        runs, offset = [], 0
        while batch := self.call(
            "POST", "task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200, "offset": offset}
        ):
            runs += batch
            offset += len(batch)
        return runs


@pytest.fixture(scope="session")
def prefect_api(prefect_env) -> PrefectApi:
    """The session's Prefect server API; tests that need one skip, saying why, where it could not start."""
    if "PREFECT_API_URL" not in prefect_env:
        pytest.skip("prefect server could not start here (see the session's server.log): no API to check runs against")
    return PrefectApi(prefect_env["PREFECT_API_URL"])
