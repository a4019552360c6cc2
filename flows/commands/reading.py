"""The read commands' connection (`status`, `rejects`, `explain`): one `error:` line, never a traceback.

They open the published warehouse exactly as `outbound sql` does (flows.commands.sql.connect: read-only, no
access to files, network or extensions, its configuration locked), so a missing, held or damaged
file gets the same one-line error there as here. A file that opens but is not a published
Outbound warehouse (an empty DuckDB file, one from another tool) fails at its first query: that
becomes one line too, naming the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from flows.commands.sql import connect
from flows.errors import OutboundError


@contextmanager
def reading(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published warehouse, read-only; DuckDB's errors, opening it or in the block, as one OutboundError line."""
    try:
        with connect(warehouse) as con:
            yield con
    except duckdb.CatalogException as error:  # e.g. an empty DuckDB file: no schema marts, no ops.manifest
        raise OutboundError(f"{warehouse}: not a published Outbound warehouse ({_first_line(error)}); run `outbound run` first") from None
    except duckdb.Error as error:
        raise OutboundError(f"{warehouse}: cannot be read: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
