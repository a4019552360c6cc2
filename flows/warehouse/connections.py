"""DuckDB connections of a run: the warehouse file, with memory bounded so that big feeds spill to disk.

DuckDB takes 80% of the machine's memory by default; a run shares its process with Prefect and
dbt, and a machine with other work, so it gets a fixed budget instead (OUTBOUND_DUCKDB_MEMORY_LIMIT,
2GB by default; dbt's connection reads the same variable in profiles.yml). Past it, DuckDB spills
sorts, joins and aggregates to `<file>.tmp/` beside the database: the build folder, removed with it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows import settings


def memory_limit() -> str:
    return settings.DUCKDB_MEMORY_LIMIT.value() or "2GB"


def connect(database: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to `database` within the run's memory budget."""
    return duckdb.connect(str(database), read_only=read_only, config={"memory_limit": memory_limit()})


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether the database of `con` has the table `schema.table`."""
    schema, table = qualified.split(".")
    found = con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]).fetchall()
    return found == [(1,)]
