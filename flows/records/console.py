"""What `outbound run` prints while it works: a line per stage, a bar for slow stages, warnings.

Prefect logs every task run to the terminal by default: two lines per dbt node, some 330 lines for
the seeds, which bury what a person needs. During `outbound run` the console shows instead:

- one line per stage (plan, load, validate, dbt, publish), with its counts: the run's log records
  that carry a stage (`logger.info(..., extra=stage("load"))`);
- a progress bar while a stage works through its files or dbt nodes (`progress`), on a terminal
  only, gone when the stage ends;
- warnings from Outbound's own code that the summary does not repeat (those that it does carry
  `extra=SUMMARIZED`), and Prefect's notices of retried tasks (another run holds the warehouse);
- then the summary, which the CLI prints.

Everything, the per-node lines included, still goes to the Prefect API (task runs, logs,
artifacts) and to the run's log file, `logs/outbound-<time>-<pid>.log` beside the warehouse.
`outbound run --verbose` prints Prefect's own lines as well, as before. In a deployment's runs
(`outbound serve`) no console is installed: `stage` and `progress` do nothing there.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self

from flows.settings import REPO_DIR
from flows.warehouse.files import WarehouseFiles


def ignore_known_warnings() -> None:
    """Silence warnings that say nothing to Outbound's users, for the rest of the process: called
    when a command or a flow run starts, never on import.

    Where the Spark extra is installed, pandera and DuckDB import pyspark.pandas, which warns that
    it does not fully support pandas 3: Outbound never hands Spark a pandas object (the feeds go
    as Parquet). A served run prints it once per import in its own process otherwise.
    """
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


if TYPE_CHECKING:
    from flows.devtools.local_server import LocalServer

STAGE_WIDTH = 10  # "validate" and two spaces
# Log files beside the warehouse kept, newest first; older ones are removed as a run starts.
KEEP_LOGS = 50
SUMMARIZED = {"outbound_summarized": True}  # a warning the summary repeats: not printed as it happens
_FLOWS_DIR = str(REPO_DIR / "flows")

_active: RunConsole | None = None


def stage(name: str) -> dict[str, str]:
    """`extra=` for a log record that is the line of stage `name` on the console."""
    return {"outbound_stage": name}


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Callable[..., None]]:
    """A transient progress bar while the block runs, on a terminal; yields `advance(amount=1, description=None, total=None)`.

    Without a console (a deployment's run, or output that is not a terminal) it draws nothing.
    """
    bar = _active.bar if _active is not None else None
    if bar is None:
        yield lambda amount=1, description=None, total=None: None
        return
    task = bar.add_task(description, total=total)

    def advance(amount: float = 1, description: str | None = None, total: float | None = None) -> None:
        changes = {"description": description} if description else {}
        bar.update(task, advance=amount, **changes, **({"total": total} if total is not None else {}))

    try:
        yield advance
    finally:
        bar.remove_task(task)


class RunConsole(logging.Handler):
    """The console of one `outbound run`: installed on the root logger for the length of the run."""

    def __init__(self, warehouse: Path, verbose: bool = False) -> None:
        super().__init__(level=logging.INFO)
        self.verbose = verbose
        self.files = WarehouseFiles(warehouse)
        self.log_dir = self.files.logs
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.log_file = self.files.run_log(stamp, os.getpid())
        _remove_old_logs(self.files)
        self.bar = None
        self._removed: list[logging.Handler] = []
        self._file: logging.Handler | None = None
        self._live = None

    def __enter__(self) -> Self:
        global _active
        from prefect.logging.configuration import ensure_logging_setup
        from prefect.logging.handlers import PrefectConsoleHandler

        ensure_logging_setup()  # now, or importing Prefect's flow API would replace the handlers set here
        root = logging.getLogger()
        formatter = None
        for handler in list(root.handlers):
            if isinstance(handler, PrefectConsoleHandler):
                formatter = handler.formatter
                if not self.verbose:
                    root.removeHandler(handler)
                    self._removed.append(handler)
        self._file = logging.FileHandler(self.log_file, encoding="utf-8")
        self._file.setLevel(logging.INFO)
        if formatter is not None:
            self._file.setFormatter(formatter)
        root.addHandler(self._file)
        if not self.verbose:
            root.addHandler(self)
            self.bar = _progress_bar()
            if self.bar is not None:
                self.bar.start()
        _active = self
        return self

    def __exit__(self, *_: object) -> None:
        global _active
        _active = None
        root = logging.getLogger()
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        root.removeHandler(self)
        for handler in self._removed:
            root.addHandler(handler)
        if self._file is not None:
            root.removeHandler(self._file)
            self._file.close()

    def prefect(self, server: LocalServer | None) -> None:
        """Say where the run is recorded (the Prefect API), and where its log file is."""
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
        where = str(server) if server else url or "Prefect's temporary server (no PREFECT_API_URL)"
        self.line(f"{'prefect':<{STAGE_WIDTH}}{where}")
        self.line(f"{'log':<{STAGE_WIDTH}}{self.log_file}")

    def line(self, text: str, error: bool = False) -> None:
        """Print one line (above the progress bar, if one is drawn: unwrapped, as printed)."""
        if self.bar is not None:
            self.bar.console.print(text, soft_wrap=True, markup=False, highlight=False, emoji=False)
        else:
            print(text, file=sys.stderr if error else sys.stdout, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self._console_text(record)
            if text is not None:  # warnings and retries on stderr, with errors; stage lines on stdout
                self.line(text, error=not hasattr(record, "outbound_stage"))
        except Exception:  # noqa: BLE001  (a console must never fail a run)
            self.handleError(record)

    def _console_text(self, record: logging.LogRecord) -> str | None:
        name = getattr(record, "outbound_stage", None)
        if name is not None:
            return f"{name:<{STAGE_WIDTH}}{record.getMessage()}"
        if record.levelno == logging.INFO and isinstance(record.msg, str) and record.msg.startswith("Task run failed with"):
            return _retry_text(record)
        if record.levelno >= logging.WARNING and record.pathname.startswith(_FLOWS_DIR):
            if getattr(record, "outbound_summarized", False):
                return None
            return f"warning: {record.getMessage()}"
        return None


def _retry_text(record: logging.LogRecord) -> str:
    """Prefect's notice of a task that failed and is tried again: the task, why, and when."""
    task = getattr(record, "task_run_name", None) or "a task"
    try:
        _, error, attempt, retries, when = record.args  # type: ignore[misc]
        reason = str(error) if isinstance(error, BaseException) else repr(error)
        return f"waiting: {task}: {reason} (Retry {attempt}/{retries} will start {when})"
    except (TypeError, ValueError):
        return f"waiting: {task}: {record.getMessage()}"


def _progress_bar():
    """rich's progress display on stdout, when stdout is a terminal; None otherwise."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stdout)
    if not console.is_terminal:
        return None
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        redirect_stdout=True,
        redirect_stderr=True,
    )


def _remove_old_logs(files: WarehouseFiles) -> None:
    logs = sorted(files.logs.glob(files.run_logs_glob), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in logs[KEEP_LOGS:]:
        old.unlink(missing_ok=True)
