"""The deployment path, as a data engineer runs it: a real `prefect server start`, `outbound serve`,
`prefect deployment run outbound/daily`, a Completed run that published, then a Failed one that did not."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import BIN, REPO, SEEDS, PrefectApi, query, sha256, start_prefect_server, stop_process_group


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Prefect server of this module's own, on a free loopback port, with a temporary PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect-serve-home")
    started = start_prefect_server(home)
    if started is None:
        pytest.skip(f"prefect server did not start here (see {home / 'server.log'}): the deployment path cannot be tested")
    process, url = started
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    for name in ("OUTBOUND_WAREHOUSE", "OUTBOUND_PAUSE_AT"):
        env.pop(name, None)
    try:
        yield env, PrefectApi(url)
    finally:
        stop_process_group(process)


def run_deployment(env: dict[str, str], *params: str) -> tuple[str, subprocess.CompletedProcess]:
    """`prefect deployment run outbound/daily --watch`: the flow run id and what the command printed."""
    args = [str(BIN / "prefect"), "deployment", "run", "outbound/daily", "--watch", "--watch-timeout", "300"]
    for param in params:
        args += ["--param", param]
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=360, check=False)
    match = re.search(r"UUID:\s*([0-9a-f-]{36})", done.stdout)
    assert match, done.stdout + done.stderr
    return match.group(1), done


def test_serve_then_trigger_a_run(server, tmp_path):
    env, api = server
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse" / "outbound.duckdb"
    shutil.copytree(SEEDS, landing)
    started = time.monotonic()
    # Its output (and its runs') goes to a file: a pipe read only at the end fills up and blocks them.
    served_log = (tmp_path / "serve.log").open("w+", encoding="utf-8")
    serving = subprocess.Popen(
        # Every parameter of `outbound run` can be given to the deployment (--prune here).
        [sys.executable, "-m", "flows.cli", "serve", "--landing", str(landing), "--warehouse", str(warehouse), "--prune"],
        cwd=tmp_path,  # the deployment finds the flow by module, not by the working directory
        # It looks for runs to start every second, not every ten (Prefect's default), so a triggered run starts at once.
        env={**env, "PREFECT_RUNNER_POLL_FREQUENCY": "1"},
        stdout=served_log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                deployment = api.call("GET", "deployments/name/outbound/daily")
                break
            except OSError:
                assert serving.poll() is None and time.monotonic() < deadline, "outbound serve did not create outbound/daily"
                time.sleep(0.5)
        assert deployment["parameters"] == {
            "landing": str(landing),
            "warehouse": str(warehouse),
            "strict": False,
            "full_refresh": False,
            "prune": True,
            "target": "duckdb",
            "unit_tests": False,
        }
        assert [schedule["schedule"]["cron"] for schedule in deployment["schedules"]] == ["0 6 * * *"]
        assert deployment["global_concurrency_limit"]["limit"] == 1
        assert deployment["entrypoint"] == "flows.run.outbound"

        flow_run_id, done = run_deployment(env)
        elapsed = time.monotonic() - started
        assert done.returncode == 0, done.stdout + done.stderr
        state = api.flow_run(flow_run_id)["state"]
        assert state["type"] == "COMPLETED"
        assert state["message"].startswith(f"published {warehouse}: 102 valid rows, 0 rejected; dbt: 26 models built"), state
        print(f"\nfrom `outbound serve` to a completed triggered run: {elapsed:.1f} s")
        assert query(warehouse, "select count(*) from marts.brand_mix where group_name = 'Chery Group'")[0][0] > 0
        assert query(warehouse, "select flow_run_id, trigger, status, rows_loaded from ops.runs") == [
            (flow_run_id, "deployment", "completed", 102)
        ]
        published = sha256(warehouse)

        # Again, with nothing new: its state says so.
        again_id, done = run_deployment(env)
        assert done.returncode == 0, done.stdout + done.stderr
        state = api.flow_run(again_id)["state"]
        assert (state["type"], state["message"]) == ("COMPLETED", f"nothing new: {warehouse} is unchanged")
        assert sha256(warehouse) == published

        # A broken file: the run ends Failed, says why in its state, and publishes nothing.
        broken = tmp_path / "broken"
        shutil.copytree(landing, broken)
        (broken / "sales.csv").write_text("entity,units\nChery,1\n", encoding="utf-8")
        failed_id, done = run_deployment(env, f"landing={broken}")
        assert done.returncode != 0
        state = api.flow_run(failed_id)["state"]
        assert state["type"] == "FAILED"
        assert "sales.csv: line 1: header does not match the feed" in state["message"]
        assert sha256(warehouse) == published
        assert query(warehouse, "select count(*) from ops.runs") == [(1,)]
    finally:
        stop_process_group(serving)
    served_log.seek(0)
    output = served_log.read()
    served_log.close()
    assert "outbound/daily" in output or "being served" in output, output
