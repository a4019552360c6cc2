"""Build: run `dbt build` (models, data tests, unit tests) on the run's private build file."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from flows.errors import BuildError
from flows.faults import pause_point

REPO_DIR = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_DIR / "dbt_project"
PROFILES_DIR = REPO_DIR
DATABASE_ENV = "OUTBOUND_DBT_DATABASE"
RUN_ID_ENV = "OUTBOUND_RUN_ID"

# dbt node statuses that mean the build must not be published.
_FAILED = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class DbtBuild:
    """What dbt built and tested: counts of nodes per (resource type, status)."""

    counts: Counter = field(default_factory=Counter)

    def count(self, resource_type: str, *statuses: str) -> int:
        return sum(n for (kind, status), n in self.counts.items() if kind == resource_type and status in statuses)

    def __str__(self) -> str:
        models = self.count("model", "success")
        tests = self.count("test", "pass")
        warned = self.count("test", "warn")
        return f"{models} models built, {tests} data tests passed ({warned} warned)"


def dbt_build(database: Path, run_id: str) -> DbtBuild:
    """Run `dbt build` (models and data tests) in-process against `database`; raise BuildError naming what failed.

    The run id is stamped on every mart row (env var OUTBOUND_RUN_ID), so a reader can tell that
    the marts it reads in one query come from one publish.
    """
    from dbt.cli.main import dbtRunner  # dbt is slow to import: only when a build runs.

    os.environ[DATABASE_ENV] = str(database)
    os.environ[RUN_ID_ENV] = run_id
    args = ["build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(PROFILES_DIR), "--quiet", "--no-use-colors"]
    # Unit tests check the models' logic on fixed inputs, not the data: they run in the test
    # suite (tests/test_dbt_unit_tests.py), not on every publish.
    args += ["--exclude-resource-type", "unit_test"]
    result = dbtRunner(callbacks=[_pause_after_first_node]).invoke(args)
    if result.exception is not None:
        raise BuildError(f"dbt build could not run: {result.exception}")
    counts: Counter = Counter()
    failures = []
    for node_result in result.result.results:
        status = str(node_result.status)
        counts[(node_result.node.resource_type, status)] += 1
        if status in _FAILED:
            failures.append(f"{node_result.node.resource_type} {node_result.node.name}: {node_result.message}")
    if failures or not result.success:
        raise BuildError("dbt build failed; nothing was published:\n  " + "\n  ".join(failures or ["see dbt_project/logs/dbt.log"]))
    return DbtBuild(counts)


def _pause_after_first_node(event) -> None:
    """Crash tests: pause inside dbt, once its first node has finished (see flows.faults)."""
    if event.info.name == "NodeFinished":
        pause_point("dbt")
