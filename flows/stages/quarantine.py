"""The quarantine: every rejected row, with its file, line, values and every rule it broke.

Rows rejected while loading (DuckDB could not read them as the feed) stay until their file
changes or is pruned. Rows rejected by validation are judged again on every build, so a row
fixed in a later version of its file, or one whose missing source has arrived, leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

TABLE = "quarantine.rejected_rows"

DDL = f"""
create schema if not exists quarantine;
create table if not exists {TABLE} (
    run_id varchar not null,
    feed varchar not null,
    source_file varchar not null,
    line bigint not null,
    stage varchar not null,
    raw_record varchar,
    raw_values json,
    failed_rules varchar[] not null,
    rejected_at timestamp not null default current_timestamp
);
comment on table {TABLE} is 'Rows of the landing files that broke a rule: loaded nowhere else, kept here with every rule they broke.';
comment on column {TABLE}.source_file is 'The landing file, by its name relative to the landing folder (as figure_refs name it).';
comment on column {TABLE}.line is 'Line of the CSV record in its file (the header is line 1).';
comment on column {TABLE}.stage is 'load: DuckDB could not read the record as the feed; validate: it broke a rule of the feed''s pandera model.';
comment on column {TABLE}.raw_record is 'The CSV text of the record, when DuckDB could not split it into the feed''s columns.';
comment on column {TABLE}.raw_values is 'The values, column by column, as text (load) or as read (validate).';
comment on column {TABLE}.failed_rules is 'Every rule the row broke, each as "column: problem" or the rule''s sentence.';
"""


@dataclass(frozen=True)
class Rejection:
    """One rejected row, as the run output shows it."""

    feed: str
    source_file: str
    line: int
    failed_rules: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.source_file}:{self.line}: " + "; ".join(self.failed_rules)

    def in_folder(self, landing: Path) -> Rejection:
        """The same rejection naming its file by its path in `landing`, for the console: the user finds it there."""
        return replace(self, source_file=str(landing.absolute() / self.source_file))


def create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def rejections(con: duckdb.DuckDBPyConnection, feed: str | None = None, limit: int | None = None) -> list[Rejection]:
    """The rows in quarantine (of one feed, if given), by file and line: all of them, or the first `limit`."""
    rows = con.execute(
        f"select feed, source_file, line, failed_rules from {TABLE} where $feed is null or feed = $feed "
        "order by feed, source_file, line limit $limit",
        {"feed": feed, "limit": limit},
    ).fetchall()
    return [Rejection(feed, file, line, tuple(rules)) for feed, file, line, rules in rows]


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows in quarantine per feed (counted in DuckDB: a bad file can bring millions)."""
    return dict(con.execute(f"select feed, count(*) from {TABLE} group by feed").fetchall())
