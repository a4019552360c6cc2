"""Publish: put a finished build in place of the published warehouse, atomically.

The build is a separate DuckDB file with the same name in a private folder beside the warehouse
(same name, so views that name their catalog keep working; same folder's filesystem, so the
rename is atomic). Readers see the old file or the new one, never a half-built one.

Each publish also writes every mart as Parquet (flows/parquet.py), swapped in right after the
warehouse, so a failed run leaves both the old warehouse and the old Parquet files in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flows import engine, parquet
from flows.errors import PublishError
from flows.faults import pause_point

# The folder a run builds in, beside the published warehouse: `.<name>.build-<run id>`.
BUILD_GLOB = ".{name}.build-*"


def prepare_build(warehouse: Path, run_id: str, start_from_published: bool) -> Path:
    """A private copy to build in: of the published warehouse, or a new empty file."""
    path = warehouse.parent / BUILD_GLOB.format(name=warehouse.name).replace("*", run_id) / warehouse.name
    path.parent.mkdir(parents=True, exist_ok=False)
    if start_from_published:
        # Readers hold the published file read-only at most, so its bytes are a consistent database.
        shutil.copyfile(warehouse, path)
    return path


def discard_build(build: Path) -> None:
    """Remove a run's build folder, whatever state the run left it in."""
    shutil.rmtree(build.parent, ignore_errors=True)


def publish(build: Path, warehouse: Path) -> None:
    """Replace `warehouse` by `build` in one rename, after making the build self-contained;
    then its marts as Parquet, written beforehand, in one more."""
    marts_folder = build.parent / "parquet"
    # A checkpoint folds the write-ahead log into the file; the build must not need its .wal.
    with engine.connect(build) as con:
        con.execute("checkpoint")
        parquet.write_marts(con, marts_folder)
    pause_point("publish")
    parquet.check_link(warehouse)
    if _wal(build).exists():
        raise PublishError(f"{build}: the build still has a write-ahead log; something holds it open")
    if _wal(warehouse).exists():
        raise PublishError(
            f"{_wal(warehouse)} exists: a process is writing to the published warehouse directly; "
            "stop it (or remove the stale log) and run again"
        )
    staged = parquet.stage(marts_folder, warehouse, _run_id(build))
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


def _run_id(build: Path) -> str:
    """The run id in the build folder's name (see prepare_build)."""
    return build.parent.name.rpartition(".build-")[2]


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")
