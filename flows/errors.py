"""Errors that end a run with a message for the user rather than a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class OutboundError(Exception):
    """A run failed for a reason the user can act on; the message says what and where."""


class FeedFileError(OutboundError):
    """A landing file cannot be read as its feed: nothing from the run is published."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class RejectedRowsError(OutboundError):
    """--strict was given and some rows broke a rule: nothing from the run is published."""


class BuildError(OutboundError):
    """dbt build failed (a model or a data test): nothing from the run is published."""


class OutOfMemoryError(OutboundError):
    """DuckDB needed more memory than its budget allows, even spilling to disk."""


class PublishError(OutboundError):
    """The build passed but could not replace the published warehouse; the old one stays."""


class TransientError(OutboundError):
    """A failure that can pass if the same step is tried again a little later: its task retries."""


class WarehouseBusyError(TransientError):
    """Another run holds the warehouse: runs are one at a time (DuckDB has one writer)."""


class WarehouseFileLockedError(TransientError):
    """Another process (a DuckDB client opened read-write, say) holds the published warehouse file."""


class LandingFileChangingError(TransientError):
    """A landing file changed while it was read: it is still being written."""


class StorageError(OutboundError):
    """A file or folder could not be read or written: a permission, a full or read-only disk."""


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn the operating system's (and DuckDB's) I/O failures into one line naming the file and the
    problem, and DuckDB's running out of its memory budget into one line naming the budget."""
    import duckdb

    try:
        yield
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        raise StorageError(f"{where}{error.strerror or error}; nothing was published") from None
    except duckdb.IOException as error:
        raise StorageError(f"{str(error).removeprefix('IO Error: ')}; nothing was published") from None
    except duckdb.OutOfMemoryException as error:
        from flows import settings

        problem = str(error).splitlines()[0].removeprefix("Out of Memory Error: ")
        limit = settings.DUCKDB_MEMORY_LIMIT
        raise OutOfMemoryError(
            f"DuckDB ran out of memory within its budget of {limit.value()} ({problem}): give it more with {limit.name}; "
            "nothing was published"
        ) from None
