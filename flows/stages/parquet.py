"""Every mart as a Parquet file, published together with the warehouse, for tools that read Parquet.

Beside `outbound.duckdb`, the link `outbound.parquet` points at a folder of one publish,
`.outbound.parquet-<run id>/`, holding `<mart>.parquet` for every table of schema `marts`:

    warehouse/outbound.parquet -> .outbound.parquet-<run id>/{brand_mix,growth_rates,...}.parquet

A publish writes the new set in full inside its private build folder, moves it beside the
warehouse, and after the warehouse's own rename swaps the link in one more rename. A path through
the link therefore always leads to one complete set, from one publish; a failed or killed run
never touches the link. The set before stays on disk until the next publish, so a reader that
resolved the link just before a swap can finish reading the files it chose.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from flows.errors import PublishError
from flows.warehouse.files import WarehouseFiles

MARTS_SCHEMA = "marts"


def parquet_link(warehouse: Path) -> Path:
    """The stable path readers use: `<warehouse stem>.parquet` beside the warehouse."""
    return WarehouseFiles(warehouse).parquet_link


def version_folder(warehouse: Path, version: str) -> Path:
    """Where the set of one publish lives (hidden; readers go through the link)."""
    return WarehouseFiles(warehouse).parquet_set(version)


def write_marts(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """Write every table of schema marts to `folder/<mart>.parquet`, each flushed to disk
    (what an earlier attempt left in `folder` is replaced)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    marts = [
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? order by table_name",
            [MARTS_SCHEMA],
        ).fetchall()
    ]
    if not marts:
        raise PublishError(f"no table in schema {MARTS_SCHEMA}: nothing to write as Parquet")
    written = []
    for mart in marts:
        path = folder / f"{mart}.parquet"
        con.table(f"{_identifier(MARTS_SCHEMA)}.{_identifier(mart)}").write_parquet(str(path))  # the path as a value, not SQL
        _fsync(path)
        written.append(path)
    _fsync(folder)
    return written


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_apart(warehouse: Path, run_id: str | None) -> bool:
    """True when the Parquet link leads to the set of another publish than the warehouse's (no link
    at all is not apart: the next publish writes one; something else in its place fails that publish)."""
    link = parquet_link(warehouse)
    return run_id is not None and link.is_symlink() and os.readlink(link) != version_folder(warehouse, run_id).name


def align(warehouse: Path, run_id: str) -> Path:
    """Swap in the Parquet set of the published warehouse: for a run that finds the link left at an
    older set (a run killed between its two swaps). The set that run staged is complete (it is
    moved beside the warehouse only once written); if it is gone, it is written again from the
    warehouse. Caller holds the run lock."""
    staged = version_folder(warehouse, run_id)
    if not staged.is_dir():
        folder = WarehouseFiles(warehouse).parquet_rewrite(run_id)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            write_marts(con, folder)
        staged = stage(folder, warehouse, run_id)
    swap(warehouse, staged)
    return staged


def check_link(warehouse: Path) -> None:
    """Fail before anything is published if the link's path holds something that is not a link."""
    link = parquet_link(warehouse)
    if link.exists() and not link.is_symlink():
        raise PublishError(f"{link} exists and is not a link made by outbound; move it away and run again")


def stage(folder: Path, warehouse: Path, version: str) -> Path:
    """Move a written set beside the warehouse (same filesystem: one rename), not yet visible."""
    staged = version_folder(warehouse, version)
    os.replace(folder, staged)
    _fsync(staged.parent)
    return staged


def swap(warehouse: Path, staged: Path) -> None:
    """Point the link at `staged` in one rename, then delete the sets older than the one before."""
    files = WarehouseFiles(warehouse)
    link = files.parquet_link
    previous = os.readlink(link) if link.is_symlink() else None
    # A relative target: the warehouse folder can be moved or mounted elsewhere.
    temporary = files.parquet_link_staging(staged)
    temporary.unlink(missing_ok=True)
    os.symlink(staged.name, temporary)
    os.replace(temporary, link)
    _fsync(link.parent)
    keep = {staged.name, previous}
    for folder in files.folder.glob(files.parquet_sets_glob):
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def discard(staged: Path) -> None:
    shutil.rmtree(staged, ignore_errors=True)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
