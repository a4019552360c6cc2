"""The marts' enforced contracts: a row that breaks a constraint fails the build as the mart is
written (DuckDB enforces them; no data test node checks them afterwards).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from flows.build.runner import one_line
from tests.conftest import BIN, REPO, query

FIXTURES = REPO / "tests" / "fixtures"


def test_published_marts_carry_their_constraints(published):
    """Every mart is written with its contract: not-null columns and checks are the table's own."""
    warehouse, _ = published
    counts = dict(
        query(
            warehouse,
            "select table_name || ' ' || constraint_type, count(*) from duckdb_constraints() where schema_name = 'marts' group by all",
        )
    )
    for mart in ("brand_mix", "growth_rates", "localization_timeline", "localization_summary", "data_quality_findings", "monthly_figures"):
        assert counts.get(f"{mart} NOT NULL", 0) >= 5 and counts.get(f"{mart} CHECK", 0) >= 2, (mart, counts)


def test_a_mart_row_outside_its_contract_fails_the_build(published, tmp_path):
    """With the qualifiers narrowed to 'approx' (dbt var), growth_rates' exact figures break its
    check constraint: the model fails as it is written, naming the constraint, and the published
    table stays as it was."""
    database = tmp_path / "outbound.duckdb"
    shutil.copyfile(published[0], database)
    [(before,)] = query(database, "select count(*) from marts.growth_rates")
    env = {**os.environ, "OUTBOUND_DBT_DATABASE": str(database), "OUTBOUND_RUN_ID": "contract-test"}
    command = [str(BIN / "dbt"), "run", "--select", "growth_rates", "--project-dir", "dbt_project", "--profiles-dir", "."]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]

    # By hand on a published warehouse, the incremental mart has nothing recorded to rebuild: it passes, the same rows.
    by_hand = subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert by_hand.returncode == 0, by_hand.stdout[-5000:]
    assert query(database, "select count(*) from marts.growth_rates") == [(before,)]

    # Rebuilt whole (growth_rates is incremental) with the narrowed qualifiers: the contract fails the write.
    command += ["--full-refresh", "--vars", json.dumps({"units_qualifiers": ["approx"]})]
    done = subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)

    assert done.returncode == 1, done.stdout[-5000:]
    assert "CHECK constraint failed" in done.stdout and "units_qualifier IN ('approx')" in done.stdout, done.stdout[-5000:]
    assert query(database, "select count(*) from marts.growth_rates") == [(before,)]
    # What `outbound run` would print of it: one line, the constraint dbt's message names.
    (result,) = [r for r in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"] if r["status"] == "error"]
    brief = one_line(result["message"])
    assert "\n" not in brief and brief.startswith("Constraint Error: CHECK constraint failed") and "approx" in brief, brief


def test_a_spark_stack_trace_is_told_by_its_cause():
    """A model that failed on the Spark Thrift server (dbt's message as a real run recorded it: 150
    lines of Java stack) is told in one line, its root cause."""
    message = (FIXTURES / "dbt_messages" / "spark_thrift_code_cache.txt").read_text(encoding="utf-8")
    assert len(message.splitlines()) > 100
    assert one_line(message) == "java.lang.VirtualMachineError: Out of space in CodeCache for adapters"
    # Without a cause: the error under dbt's headings, without the Thrift server's prefix.
    uncaused = "\n".join(line for line in message.splitlines()[:27] if "Caused by" not in line)
    assert one_line(uncaused) == "java.util.concurrent.ExecutionException: Boxed Exception"
