"""`outbound serve`: the flow as deployment `outbound/daily`, served from this process.

The deployment lives on the Prefect API the environment points to (PREFECT_API_URL: a local
`prefect server start`, or Prefect Cloud); this process polls it and runs each scheduled or
requested run in a subprocess of its own, until it is stopped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flows.errors import OutboundError
from flows.settings import DEPLOYMENT, RunParameters


def api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def serve(cron: str, timezone: str, parameters: RunParameters) -> None:
    """Create or update `outbound/daily` with these parameters and schedule, then run its runs until stopped."""
    if not api_url():
        raise OutboundError(
            "no Prefect API to serve the deployment on: start one with `prefect server start` and point "
            "PREFECT_API_URL at it (export PREFECT_API_URL=http://127.0.0.1:4200/api), or log in to Prefect Cloud"
        )
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.deployments.runner import EntrypointType

    from flows.run import outbound

    # Absolute paths: a run starts in a subprocess whatever its working directory, and the UI
    # shows exactly which files and warehouse a run will use (each can be changed per run).
    parameters = dataclasses.replace(
        parameters, landing=str(Path(parameters.landing).resolve()), warehouse=str(Path(parameters.warehouse).resolve())
    )
    outbound.serve(
        name=DEPLOYMENT,
        schedules=[CronSchedule(cron=cron, timezone=timezone)],
        parameters=parameters.as_dict(),
        # One run at a time (DuckDB has one writer): a run due while another runs waits its turn.
        global_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        limit=1,
        description="Load what changed in the landing folder, validate, build the marts with dbt and publish the warehouse.",
        tags=["outbound"],
        # The flow is found by module, so the deployment runs wherever Outbound is installed.
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
