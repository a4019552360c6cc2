"""A warm interpreter that starts each `outbound` command of the tests as a fresh process of its own,
forked after Prefect, dbt, pandera and DuckDB are imported: 4 to 6 s of CPU a run would otherwise
spend importing them, a hundred times in a suite.

The fork runs `python -m flows.cli ARGS` as the command line would (flows.cli as __main__, the
test's environment, working folder and arguments), in a process of its own with its own exit code,
stdout and stderr, and ends as an interpreter does (threads joined, atexit, finalizers). What it
shares with the warm interpreter is only the libraries' import-time state, made from the same
environment: tests/conftest.py asks for a fork only when the call's environment differs from the
warm interpreter's in OUTBOUND_* variables alone (which nothing reads at import), and runs any
other call as a plain subprocess. Libraries that print on import would print here, not in the
command's output (or log what a run's console would show): the warm interpreter then reports it
is not quiet, and is not used. It serves `outbound run` alone, whose imports it makes as a run
makes them (see `main`); the other commands, light, start anew.
(tests/test_console.py starts `outbound run` from nothing, as `make run` does, imports and all.)

Protocol, one JSON object a line: the request {"args", "env", "cwd", "stdout", "stderr"} (the two
files the command's output goes to) on stdin; the replies {"pid"} once forked, then {"returncode"}
(negative: the signal that ended it, as subprocess reports it) on stdout.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import runpy
import sys
import threading
import warnings

# What `outbound run` imports that costs: Prefect and what the flow uses of it, dbt and its DuckDB
# adapter, pandera (with pandas), DuckDB.
PRELOADED = (
    "prefect",
    "prefect.flows",
    "prefect.tasks",
    "prefect.states",
    "prefect.runtime",
    "prefect.cache_policies",
    "prefect.client.orchestration",
    "pandera.pandas",
    "duckdb",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
)


def main() -> None:
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)  # the protocol has its own descriptors: a stray print cannot break it
    # As flows.cli does before a run imports anything (flows.records.console.ignore_known_warnings).
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    # A run imports Prefect with no logging handler set, and the rest once its console is the root
    # logger's handler (flows.records.console): an import that calls logging.basicConfig() (dbt's
    # snowplow_tracker does) then adds no handler of its own. The same here, with a witness handler.
    importlib.import_module("prefect")
    witness = _Witness()
    logging.getLogger().addHandler(witness)
    for module in PRELOADED:
        importlib.import_module(module)
    logging.getLogger().removeHandler(witness)
    sys.stderr.flush()
    # stderr is a log file of the warm interpreter's own
    quiet = os.fstat(2).st_size == 0 and not witness.records and not logging.getLogger().handlers
    replies.write(json.dumps({"ready": True, "quiet": quiet, "threads": threading.active_count()}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        if threading.active_count() != 1:  # a fork copies no thread but the caller's: there must be no other
            raise RuntimeError(f"the warm interpreter runs threads {threading.enumerate()}: it cannot fork")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            os.close(null)
            _run(request)  # does not return: SystemExit ends the child as it ends an interpreter
            return
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        replies.flush()


class _Witness(logging.Handler):
    """A root handler that keeps what is logged while the libraries import."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _run(request: dict) -> None:
    """In the fork: the command's files and environment, then flows.cli as __main__ (which exits)."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        output = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(output, fd)
        os.close(output)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [sys.argv[0], *request["args"]]  # run_module puts the module's path first, as `python -m` does
    runpy.run_module("flows.cli", run_name="__main__", alter_sys=True)
    sys.exit(0)  # flows.cli exits with main()'s code; were it to return, this is what `python -m` does


if __name__ == "__main__":
    main()
