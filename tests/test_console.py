"""What a person sees of `outbound run` as `make run` starts it: Prefect's default mode (no
PREFECT_API_URL), a line per stage, the summary last, no traceback and no ERROR line, every time;
and the quiet local Prefect server that mode uses: one per Prefect home, shared by concurrent
runs, reused, recording the runs, and gone once unused."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from flows.devtools.local_server import STATE_NAME, read_state, stop_local_server
from tests.conftest import BIN, REPO

STAGES = ["prefect", "log", "plan", "load", "validate", "dbt", "publish"]
IDLE_SECONDS = 8


def default_mode_env(home: Path) -> dict[str, str]:
    """The environment of `make run` on a fresh machine: no Prefect API, a Prefect home of its own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "OUTBOUND_"))}
    return env | {"PREFECT_HOME": str(home), "OUTBOUND_PREFECT_SERVER_IDLE_SECONDS": str(IDLE_SECONDS)}


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "outbound"), "run", *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(run: subprocess.Popen) -> list[str]:
    output, _ = run.communicate(timeout=600)
    assert run.returncode == 0, output
    return output.splitlines()


def assert_reads_like_it_worked(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert "Traceback" not in text and "ERROR" not in text, text
    assert len(lines) <= 60, text


def prefect_line(lines: list[str]) -> str:
    [line] = [line for line in lines if line.startswith("prefect ")]
    return line


def running(pid: int) -> bool:
    """True while the process runs (a zombie, ended but not yet reaped, has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_runs_in_prefects_default_mode_read_like_they_worked(tmp_path):
    home = tmp_path / "prefect-home"
    env = default_mode_env(home)
    first, second = tmp_path / "a" / "outbound.duckdb", tmp_path / "b" / "outbound.duckdb"
    try:
        # Two runs at once on a machine with no server yet: one starts it, both use it.
        runs = [start(env, "--warehouse", str(first)), start(env, "--warehouse", str(second), "--verbose")]
        quiet, verbose = [finish(run) for run in runs]
        state = read_state(home)
        assert state is not None and answers(state["url"])
        url = state["url"].removesuffix("/api")

        assert_reads_like_it_worked(quiet)
        assert [line.split()[0] for line in quiet[: len(STAGES)]] == STAGES, quiet
        assert re.fullmatch(r"dbt +\d+ models built, \d+ data tests passed \(0 warned\) \(\d+\.\d s\)", quiet[5]), quiet
        assert quiet[-1] == f"warehouse: {first}"  # the summary comes last
        assert not [line for line in quiet if "Task run" in line or "Finished in state" in line]
        assert "ERROR" not in "\n".join(verbose) and "Traceback" not in "\n".join(verbose)
        assert sum("Task run 'test " in line for line in verbose) >= 31  # --verbose: Prefect's lines, a dbt node each
        lines_of = {"quiet": prefect_line(quiet), "verbose": "\n".join(verbose)}
        assert url in lines_of["quiet"] and url in lines_of["verbose"]
        assert sorted(["(started;" in lines_of["quiet"], "(started;" in lines_of["verbose"]]) == [False, True]
        assert len(list(home.glob("*.json"))) == 1  # one server for the Prefect home

        # The run's log file has what the console leaves out: every dbt node's task run.
        [log_line] = [line for line in quiet if line.startswith("log ")]
        log_file = REPO / log_line.split()[1]
        assert log_file.parent == first.parent / "logs"
        assert "Task run 'model brand_mix'" in log_file.read_text(encoding="utf-8")
        server_log = Path(state["log"])
        assert server_log.name == "prefect-server.log" and server_log.parent.name == "logs" and server_log.exists()

        # Again: nothing new, on the same server.
        again = finish(start(env, "--warehouse", str(first)))
        assert_reads_like_it_worked(again)
        assert again[-1] == f"nothing new: {first} is unchanged"
        assert "(running;" in prefect_line(again) and url in prefect_line(again)

        # Prefect's records of the three runs are on the server, which keeps them in PREFECT_HOME.
        request = urllib.request.Request(
            f"{state['url']}/flow_runs/filter", data=b"{}", method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            flow_runs = json.loads(response.read())
        assert sorted(run["state"]["type"] for run in flow_runs) == ["COMPLETED"] * 3
        assert (home / "prefect.db").exists()

        # Unused for the idle time, the server stops, and its supervisor with it.
        deadline = time.monotonic() + IDLE_SECONDS + 60
        while read_state(home) is not None and time.monotonic() < deadline:
            time.sleep(1)
        while running(state["pid"]) and time.monotonic() < deadline:
            time.sleep(1)
        assert read_state(home) is None and not running(state["pid"]) and not running(state["server_pid"])
        assert not answers(state["url"])
    finally:
        stop_local_server(home)
    assert not (home / STATE_NAME).exists()
