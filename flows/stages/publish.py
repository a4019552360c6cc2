"""Publish: put a finished build in place of the published warehouse, atomically.

The build is a separate DuckDB file with the same name in a private folder beside the warehouse
(same name, so views that name their catalog keep working; same folder's filesystem, so the
rename is atomic). Readers see the old file or the new one, never a half-built one.

Each publish also writes every mart as Parquet (flows/stages/parquet.py), swapped in right after the
warehouse, so a failed run leaves both the old warehouse and the old Parquet files in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flows.devtools.faults import pause_point
from flows.errors import OutboundError, PublishError
from flows.interrupts import PUBLISHED_NOTE, signals_held
from flows.stages import parquet
from flows.warehouse import connections as engine
from flows.warehouse.files import WarehouseFiles, run_of_build
from flows.warehouse.published import WarehouseDamagedError, no_writer, open_read_only, set_aside, wal


def prepare_build(warehouse: Path, run_id: str, start_from_published: bool) -> Path:
    """A private copy to build in: of the published warehouse, or a new empty file."""
    path = WarehouseFiles(warehouse).build(run_id)
    path.parent.mkdir(parents=True, exist_ok=False)
    if start_from_published:
        # Readers hold the published file read-only at most, so its bytes are a consistent database.
        try:
            shutil.copyfile(warehouse, path)
        except OSError as error:  # a full disk: name the file it could not write
            raise OSError(error.errno, error.strerror, str(path)) from None
    return path


def discard_build(build: Path) -> None:
    """Remove a run's build folder, whatever state the run left it in."""
    shutil.rmtree(build.parent, ignore_errors=True)


def publish(build: Path, warehouse: Path) -> list[str]:
    """Replace `warehouse` by `build` in one rename, after making the build self-contained;
    then its marts as Parquet, written beforehand, in one more. Returns what it set aside, as warnings.

    No client can have the published file open read-write across the swap (the run waits for
    one that does, then fails); a log such a client left beside it, or a damaged published file,
    is set aside rather than left beside the new file or overwritten. SIGINT and SIGTERM wait
    until both renames are done, so a stopped run never leaves the two from different publishes.
    """
    marts_folder = build.parent / "parquet"
    # A checkpoint folds the write-ahead log into the file; the build must not need its .wal.
    with engine.connect(build) as con:
        con.execute("checkpoint")
        parquet.write_marts(con, marts_folder)
    pause_point("publish")
    parquet.check_link(warehouse)
    if wal(build).exists():
        raise PublishError(f"{build}: the build still has a write-ahead log; something holds it open")
    damaged = _is_damaged(warehouse)  # before no_writer: DuckDB closing the file would drop its lock
    notes = []
    with no_writer(warehouse):
        if wal(warehouse).exists():  # left by a client that wrote to the published file and died
            notes.append(f"set aside {set_aside(wal(warehouse), 'set-aside')}: a write-ahead log of the replaced warehouse")
        if damaged:
            notes.append(f"set aside {set_aside(warehouse, 'damaged')}: the damaged warehouse this run replaced")
        staged = parquet.stage(marts_folder, warehouse, _run_id(build))
        try:
            with signals_held():
                try:
                    os.replace(build, warehouse)
                except OSError:
                    parquet.discard(staged)
                    raise
                directory = os.open(warehouse.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)  # the rename itself survives a crash
                finally:
                    os.close(directory)
                parquet.swap(warehouse, staged)
        except Exception:
            raise
        except BaseException as error:  # Ctrl-C or SIGTERM, held until both swaps were done: the run did publish
            error.add_note(PUBLISHED_NOTE)
            raise
    return notes


def _is_damaged(warehouse: Path) -> bool:
    if not warehouse.exists():
        return False
    try:
        open_read_only(warehouse).close()
    except WarehouseDamagedError:
        return True
    except OutboundError:
        return False
    return False


def _run_id(build: Path) -> str:
    """The run id in the build folder's name (see prepare_build)."""
    return run_of_build(build)
