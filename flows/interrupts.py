"""Stopping a run: SIGINT (Ctrl-C) and SIGTERM end it with one line, never half a publish.

A run stopped before its publish leaves the published warehouse as it was: everything it did
happened in its private build folder. The publish itself is two renames (the warehouse, then the
Parquet link); `signals_held` makes a signal that arrives between them wait until both are done.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Exit codes of a process ended by a signal, as shells report them: 128 + the signal's number.
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
MESSAGE = "interrupted: nothing published; the warehouse is as it was"


class Terminated(BaseException):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt (a run's own handler).

    During a flow run Prefect raises its TerminationSignal instead, then calls this handler too.
    """

    signal = signal.SIGTERM


def raise_terminated(number: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def signals_held() -> Iterator[None]:
    """Defer SIGINT and SIGTERM until the block ends, then deliver them (to the handlers before)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread can set handlers
        yield
        return
    arrived: list[int] = []
    previous = {number: signal.signal(number, lambda number, frame: arrived.append(number)) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(arrived):
            signal.raise_signal(number)


# Added to a KeyboardInterrupt or TerminationSignal that arrived during the publish it waited for.
PUBLISHED_NOTE = "the run had published before it stopped"
