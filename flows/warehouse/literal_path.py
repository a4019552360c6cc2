"""A path DuckDB reads as the one file it names.

DuckDB's readers (read_csv, read_json, read_parquet) take every path as a glob pattern, so a file
named `sales[1].csv` would read `sales1.csv`, and a folder named `runs*` every folder like it.
A path holding any pattern character is read through a symlink of a plain name instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PATTERN_CHARACTERS = frozenset("*?[]{}\\")


@contextmanager
def literal_path(path: Path) -> Iterator[str]:
    """`path`, or for the block a symlink to it whose path has no pattern character."""
    if not PATTERN_CHARACTERS & set(str(path.absolute())):
        yield str(path.absolute())
        return
    with tempfile.TemporaryDirectory(prefix="outbound-") as folder:
        if PATTERN_CHARACTERS & set(folder):
            raise OSError(f"the temporary folder {folder} holds glob pattern characters; set TMPDIR to a plain path")
        link = Path(folder) / f"file{path.suffix}"
        link.symlink_to(path.absolute())
        yield str(link)
