"""Fixtures that run the real `outbound` command on real files into real DuckDB warehouses."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SOURCES = REPO.parent / "shared" / "sources"


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Prefect home of the test session's own, so runs don't touch the user's."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture(scope="session")
def outbound(prefect_home: Path):
    """Run the `outbound` command as a user would, in the repository, and return what it did."""

    def run(*args: str, warehouse_env: Path | None = None, timeout: float = 300) -> Run:
        env = {**os.environ, "PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("OUTBOUND_WAREHOUSE", None)
        if warehouse_env is not None:
            env["OUTBOUND_WAREHOUSE"] = str(warehouse_env)
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", *args], check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def published(outbound, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """The warehouse `outbound run` publishes from the shipped seeds, and what the run printed."""
    warehouse = tmp_path_factory.mktemp("published") / "outbound.duckdb"
    result = outbound("run", "--warehouse", str(warehouse))
    assert result.returncode == 0, result.output
    return warehouse, result


@pytest.fixture()
def warehouse_sql(published):
    """Query the published warehouse read-only, as an analyst would."""
    path, _ = published

    def query(sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    return query


@pytest.fixture()
def landing(tmp_path: Path) -> Path:
    """A copy of the shipped seeds that a test may break."""
    directory = tmp_path / "landing"
    shutil.copytree(SEEDS, directory)
    return directory


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
