"""Local Prefect servers: the quiet one a run uses when no Prefect API is set, and one of a test's own.

A flow needs a Prefect API to record its run. With none configured (no PREFECT_API_URL), Prefect
3.8 starts a temporary server inside each run, which costs about five seconds and, on every full
run, prints a few hundred lines of ERROR entries and tracebacks as it shuts down (a Prefect bug).
So `outbound run` uses a `prefect server start` of its own instead (`use_local_server`): started
as a quiet process of its own by the first run, on a free loopback port, with its output in a log
file (prefect-server.log in the logs folder beside the warehouse), and reused by later runs while
it is up. It records the runs in the same place the temporary server would, PREFECT_HOME's
database, so `prefect server start` shows them later. A supervisor process (`python -m
flows.devtools.local_server supervise`) owns it: it stops the server, and itself, once no run has used it
for OUTBOUND_PREFECT_SERVER_IDLE_SECONDS (default 900), so nothing is left running for long.
Runs hold a shared lock on a lease file while they use it, so it never stops under a run.
OUTBOUND_PREFECT_SERVER=ephemeral keeps Prefect's own temporary server instead.

The test suite and `make bench` start a server of their own (`start_prefect_server`), in a
temporary PREFECT_HOME, and stop it (with every process it started) when they are done.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flows import settings

BIN = Path(sys.executable).parent
# In PREFECT_HOME, beside the database the server writes: one local server per Prefect home.
STATE_NAME = "outbound-server.json"  # its URL, supervisor pid and log, written once it answers
LOCK_NAME = "outbound-server.lock"  # held while a run looks for the server or starts one, and while it is stopped
LEASE_NAME = "outbound-server.lease"  # each run using the server holds a shared lock on it until it exits


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_prefect_server(home: Path, timeout: float = 90) -> tuple[subprocess.Popen, str] | None:
    """`prefect server start` on a free loopback port; the process and its API URL, or None if it did not come up."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    stop_process_group(server)
    return None


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True, and every process it started."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@dataclass(frozen=True)
class LocalServer:
    """The local server a run uses: its API URL, its log file, and whether this run started it."""

    url: str
    log: Path
    started: bool

    def __str__(self) -> str:
        how = "started" if self.started else "running"
        log = os.path.relpath(self.log) if self.log.is_relative_to(Path.cwd()) else self.log
        return f"{self.url.removesuffix('/api')} ({how}; stops after {idle_seconds() // 60} min unused; log {log})"


def idle_seconds() -> int:
    return int(settings.PREFECT_SERVER_IDLE_SECONDS.number())


class LocalServerStart:
    """A run's use of the local server, from `begin` (which starts it if it is not up) to `wait`.

    The two are apart so that the server starts while the run imports the rest of Prefect and dbt.
    The run holds a lease on the server from `wait` until it exits.
    """

    def __init__(self, home: Path, log: Path) -> None:
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(home / LOCK_NAME)  # held until wait(): runs look for the server one at a time
        self.state = read_state(home)
        self.supervisor: subprocess.Popen | None = None
        if self.state is not None and not (_alive(self.state["pid"]) and _answers(self.state["url"])):
            _stop_orphan(self.state)
            self.state = None
        if self.state is None:
            self.supervisor = _start_supervisor(home, log)

    @classmethod
    def begin(cls, log: Path) -> LocalServerStart | None:
        """Start using the local server, unless a Prefect API is configured (or OUTBOUND_PREFECT_SERVER=ephemeral)."""
        if (settings.PREFECT_SERVER.value() or "").lower() == "ephemeral":
            return None
        from prefect.settings import get_current_settings  # Prefect's own answer: env, profile, prefect.toml

        prefect_settings = get_current_settings()
        if prefect_settings.api.url is not None:
            return None
        return cls(Path(prefect_settings.home), log)

    def wait(self, timeout: float = 120) -> LocalServer | None:
        """Point this process's Prefect at the server once it answers; None (Prefect's temporary server
        then runs, as without Outbound) if it did not come up within `timeout`."""
        from prefect.context import refresh_global_settings_context

        try:
            started = self.supervisor is not None
            if started:
                self.state = _wait_for_supervisor(self.home, self.supervisor, timeout)
            if self.state is None:
                return None
            lease = os.open(self.home / LEASE_NAME, os.O_RDONLY | os.O_CREAT, 0o600)
            fcntl.flock(lease, fcntl.LOCK_SH)  # never closed: the kernel releases it when this process ends
        finally:
            os.close(self._lock)
        os.environ["PREFECT_API_URL"] = self.state["url"]
        refresh_global_settings_context()  # Prefect read its settings at import, before the URL was known
        return LocalServer(self.state["url"], Path(self.state["log"]), started)


def read_state(home: Path) -> dict | None:
    try:
        return json.loads((home / STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stop_local_server(home: Path, timeout: float = 30) -> bool:
    """Stop the local server of `home` now (its supervisor and every process it started); False if none ran."""
    state = read_state(home)
    if state is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return True


def _lock(path: Path) -> int:
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


@contextlib.contextmanager
def _holding(path: Path) -> Iterator[None]:
    descriptor = _lock(path)
    try:
        yield
    finally:
        os.close(descriptor)


def _stop_orphan(state: dict) -> None:
    """A server whose supervisor was killed (SIGKILL) would run on, unused, forever: stop it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(state["server_pid"], signal.SIGTERM)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is gone too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _start_supervisor(home: Path, log: Path) -> subprocess.Popen:
    """Start the supervisor, which starts the server and writes the state file once it answers."""
    (home / STATE_NAME).unlink(missing_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "flows.devtools.local_server", "supervise", "--home", str(home), "--log", str(log.resolve())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: Ctrl-C in the run's terminal does not reach it, and it outlives the run.
        start_new_session=True,
        cwd=settings.REPO_DIR,
    )


def _wait_for_supervisor(home: Path, supervisor: subprocess.Popen, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and supervisor.poll() is None:
        state = read_state(home)
        if state is not None and state["pid"] == supervisor.pid:
            return state
        time.sleep(0.2)
    if supervisor.poll() is None:
        supervisor.terminate()
    supervisor.wait()
    return None


def _supervise(home: Path, log: Path) -> int:
    """Run the local server until it has been unused for the idle time (or is stopped); then stop it."""
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": os.environ.get("PREFECT_SERVER_LOGGING_LEVEL", "WARNING"),
    }
    env.pop("PREFECT_API_URL", None)
    server, url = None, ""
    with log.open("a", encoding="utf-8") as output:
        for _ in range(3):  # a port found free can be taken before the server binds it: another one
            port = free_port()
            url = f"http://127.0.0.1:{port}/api"
            when = time.strftime("%Y-%m-%d %H:%M:%S %z")
            print(f"--- outbound: prefect server start on {url} (pid {os.getpid()}), {when}", file=output, flush=True)
            server = subprocess.Popen(
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env=env | {"PREFECT_UI_API_URL": url},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if _wait_until_it_answers(server, url, 90):
                break
            stop_process_group(server)
            server = None
    if server is None:
        return 1

    def stop(*_: object) -> None:
        (home / STATE_NAME).unlink(missing_ok=True)
        stop_process_group(server)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state = {"url": url, "pid": os.getpid(), "server_pid": server.pid, "log": str(log), "started_at": time.time()}
    staged = home / f".{STATE_NAME}.{os.getpid()}"
    staged.write_text(json.dumps(state), encoding="utf-8")
    os.replace(staged, home / STATE_NAME)
    last_used, idle = time.monotonic(), idle_seconds()
    while True:
        time.sleep(min(5.0, max(idle / 4, 0.5)))
        if server.poll() is not None:  # the server died: the next run starts another
            (home / STATE_NAME).unlink(missing_ok=True)
            return 1
        with _holding(home / LOCK_NAME):  # no run can take a lease meanwhile
            lease = os.open(home / LEASE_NAME, os.O_RDONLY | os.O_CREAT, 0o600)
            try:
                fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
                unused = True
            except BlockingIOError:  # a run is using it
                unused = False
            finally:
                os.close(lease)
            if not unused:
                last_used = time.monotonic()
            elif time.monotonic() - last_used > idle:
                stop()


def _wait_until_it_answers(server: subprocess.Popen, url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        if _answers(url):
            return True
        time.sleep(0.3)
    return False


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="supervise the local Prefect server of a Prefect home (started by outbound run)")
    parser.add_argument("command", choices=["supervise"])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    arguments = parser.parse_args()
    sys.exit(_supervise(arguments.home, arguments.log))
