"""Pause points for the crash tests: hold a run at a known stage so a test can SIGKILL it there.

Set OUTBOUND_PAUSE_AT to a stage name (load, validate, dbt, publish); the run prints a line
naming the stage and its pid to stderr, then waits to be killed, or, if OUTBOUND_RESUME_WHEN
names a file, until that file exists (a test does something at that point, then lets it go on).
Unset, this does nothing.
"""

from __future__ import annotations

import os
import sys
import time

from flows import settings


def pause_point(stage: str) -> None:
    if settings.PAUSE_AT.value() != stage:
        return
    print(f"outbound: paused at {stage} (pid {os.getpid()})", file=sys.stderr, flush=True)
    resume = settings.RESUME_WHEN.value()
    while not (resume and os.path.exists(resume)):
        time.sleep(0.1 if resume else 3600)
