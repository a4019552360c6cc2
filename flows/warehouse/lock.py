"""One run at a time per warehouse folder, and no debris from runs that were killed.

The lock is flock(2) on the warehouse's folder: the kernel drops it when the process ends, however
it ends, so a killed run never leaves a stale lock, and there is no lock file to clean up.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from flows.errors import WarehouseBusyError
from flows.warehouse.files import WarehouseFiles


def lock_folder(folder: Path, wait: bool) -> int:
    """flock(2) on `folder`, held until the returned descriptor is closed. Waits while another
    process holds it, or, without `wait`, raises BlockingIOError at once."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


class WarehouseLock:
    """The warehouse folder held by this run until `release()` (or the process ends)."""

    def __init__(self, warehouse: Path) -> None:
        """Take the lock, or raise WarehouseBusyError at once if another run holds it (the caller retries)."""
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        self._folder: int | None = None
        try:
            self._folder = lock_folder(warehouse.parent, wait=False)
        except BlockingIOError:
            raise WarehouseBusyError(
                f"{warehouse.parent}: another outbound run is building this warehouse; try again when it ends"
            ) from None

    def release(self) -> None:
        if self._folder is not None:
            os.close(self._folder)  # releases the lock
            self._folder = None


def remove_stale_builds(warehouse: Path) -> list[Path]:
    """Delete the build folders of runs that were killed (only call while holding the lock)."""
    files = WarehouseFiles(warehouse)
    stale = sorted(files.folder.glob(files.builds_glob))
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def warehouse_is_busy(warehouse: Path) -> bool:
    """True while a run holds the warehouse folder (for status; the answer may change at once)."""
    if not warehouse.parent.exists():
        return False
    folder = os.open(warehouse.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(folder)
