"""The dbt unit tests (share, growth and milestone logic, each data-quality check catching a
contradiction and staying silent on consistent data), run once with dbt's own CLI.

Runs exclude them (they check the models' logic, not the data), so the suite runs them here,
against a copy of a real published warehouse (dbt reads the input relations' columns from it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from tests.conftest import BIN, REPO


def test_dbt_unit_tests_pass(published, tmp_path):
    database = tmp_path / "outbound.duckdb"
    shutil.copyfile(published[0], database)
    env = {**os.environ, "OUTBOUND_DBT_DATABASE": str(database), "OUTBOUND_RUN_ID": "unit-tests"}
    command = [str(BIN / "dbt"), "test", "--select", "test_type:unit", "--project-dir", "dbt_project", "--profiles-dir", "."]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]

    done = subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)

    assert done.returncode == 0, done.stdout[-5000:]
    # (the project's on-run-start and on-run-end hooks are results too: only the unit tests count here)
    results = [
        result
        for result in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
        if result["unique_id"].startswith("unit_test.")
    ]
    names = {result["unique_id"].split(".")[-1] for result in results if result["status"] == "pass"}
    assert len(names) == len(results) >= 3 + 7 * 2, sorted(names)
