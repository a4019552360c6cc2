"""The published warehouse file as readers and runs find it: missing, held, beside a stray log, or damaged.

DuckDB answers every such problem with the same IOException. Readers and runs need to tell them
apart, because each has its own remedy:

- held read-write by another process (a client that did not pass read_only=True): it passes
  when that client lets go; runs wait for it, readers cannot open the file meanwhile;
- a write-ahead log (`<file>.wal`) that does not belong to the file (a read-write client died
  after a run had replaced the file under it): DuckDB refuses to open the file at all; the next
  run sets the log aside, keeping it, so nothing is lost and the warehouse opens again;
- damaged (truncated, or not a DuckDB file): only a rebuild helps; `--full-refresh` rebuilds from
  the landing files without opening it, and keeps it aside.

A held file is told by asking for a shared POSIX lock on it, as DuckDB's own read-only clients
hold: a read-write client holds an exclusive one.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.errors import OutboundError, WarehouseFileLockedError
from flows.warehouse.files import aside, wal_of

READ_ONLY_HINT = "connect read-only (duckdb.connect(path, read_only=True), or `outbound sql`)"


class WarehouseDamagedError(OutboundError):
    """The published file is not a readable DuckDB database: only a rebuild helps."""


class StrayLogError(OutboundError):
    """A write-ahead log beside the published file does not belong to it: DuckDB will not open the file."""


def wal(database: Path) -> Path:
    """Where DuckDB keeps the write-ahead log of `database`: beside it, by name."""
    return wal_of(database)


def _held_error(warehouse: Path) -> WarehouseFileLockedError:
    return WarehouseFileLockedError(f"{warehouse}: held read-write by another process; stop it, and {READ_ONLY_HINT}")


def held_read_write(path: Path) -> bool:
    """True while another process has `path` open read-write in DuckDB (it holds an exclusive lock).

    Closing the descriptor drops every POSIX lock this process holds on the file: call it only
    while this process has no DuckDB connection to `path`.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EAGAIN):
            return True
        raise
    finally:
        os.close(descriptor)


@contextmanager
def no_writer(warehouse: Path) -> Iterator[None]:
    """Hold a shared lock on the published file for the block: no client can open it read-write
    meanwhile (readers still can). Raises WarehouseFileLockedError if one has it open now."""
    try:
        descriptor = os.open(warehouse, os.O_RDONLY)
    except FileNotFoundError:
        yield
        return
    try:
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EACCES, errno.EAGAIN):
                raise _held_error(warehouse) from None
            raise
        yield
    finally:
        os.close(descriptor)


def problem(warehouse: Path, error: duckdb.Error) -> OutboundError:
    """What an error opening the published file means, as an error with its remedy."""
    if held_read_write(warehouse):
        return _held_error(warehouse)
    if wal(warehouse).exists() and "WAL" in str(error):
        return StrayLogError(
            f"{wal(warehouse)}: a write-ahead log that does not belong to the warehouse (a client opened it read-write and died); "
            f"the next `outbound run` sets it aside, or move it away yourself; and {READ_ONLY_HINT}"
        )
    return WarehouseDamagedError(
        f"{warehouse}: damaged, not a readable DuckDB file ({str(error).removeprefix('IO Error: ')}); "
        "`outbound run --full-refresh` rebuilds it from the landing files and keeps the damaged file aside"
    )


def open_read_only(warehouse: Path, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse, or an OutboundError that says what is wrong and what to do."""
    if not warehouse.exists():
        raise OutboundError(f"{warehouse}: no published warehouse yet; run `outbound run` first")
    try:
        return duckdb.connect(str(warehouse), read_only=True, config=config or {})
    except duckdb.Error as error:
        raise problem(warehouse, error) from None


def set_aside(path: Path, why: str) -> Path:
    """Rename `path` to `<path>.<why>-<UTC time>` beside it, kept for whoever wants to look."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = aside(path, why, stamp)
    os.replace(path, kept)
    return kept


def set_aside_stray_log(warehouse: Path) -> Path | None:
    """Set aside a write-ahead log that keeps the published file from opening; None if there is none.

    Only when no process holds the file: a live client's log is its own business (and the run
    waits for it). A log that replays cleanly is left where it is: it belongs to the file.
    """
    log = wal(warehouse)
    if not log.exists() or not warehouse.exists() or held_read_write(warehouse):
        return None
    try:
        duckdb.connect(str(warehouse), read_only=True).close()
        return None
    except duckdb.Error as error:
        if not isinstance(problem(warehouse, error), StrayLogError):
            return None
    return set_aside(log, "set-aside")
