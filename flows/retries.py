"""Retry policy: Prefect retries a task only when its failure can pass by itself.

A file still being written, the warehouse held by another run, the published file opened
read-write by some other DuckDB client: these pass, so the task is tried again after a pause that
grows each time. A bad file, a broken rule or a failed dbt test do not pass by waiting, so they
fail the run at once, with their reason in the flow run's state message.
"""

from __future__ import annotations

from prefect.tasks import exponential_backoff

from flows import settings
from flows.errors import TransientError

# Defaults: 5 retries at about 5, 10, 20, 40 and 80 s: a daily run outwaits a run that holds the
# warehouse for two and a half minutes. Both can be set from the environment of the process that
# runs the flow (a worker, `outbound serve`, or the CLI), before the flow is imported.
RETRIES = int(settings.RETRIES.number())
RETRY_DELAYS = exponential_backoff(backoff_factor=settings.RETRY_BACKOFF_SECONDS.number())(RETRIES)


def is_transient(task, task_run, state) -> bool:
    """retry_condition_fn: retry only the failures that can pass (flows.errors.TransientError)."""
    # The engine hands over a Failed state whose data is the exception the task raised.
    return isinstance(getattr(state, "data", None), TransientError)


TRANSIENT_RETRIES = {"retries": RETRIES, "retry_delay_seconds": RETRY_DELAYS, "retry_condition_fn": is_transient}
