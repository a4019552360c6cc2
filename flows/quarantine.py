"""The quarantine: every rejected row, with its file, line, values and every rule it broke."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

TABLE = "quarantine.rejected_rows"

DDL = f"""
create schema if not exists quarantine;
create table if not exists {TABLE} (
    run_id varchar not null,
    feed varchar not null,
    source_file varchar not null,
    line bigint not null,
    raw_record varchar,
    raw_values json,
    failed_rules varchar[] not null,
    rejected_at timestamp not null default current_timestamp
);
comment on table {TABLE} is 'Rows of the landing files that broke a rule: loaded nowhere else, kept here with every rule they broke.';
comment on column {TABLE}.line is 'Line of the CSV record in its file (the header is line 1).';
comment on column {TABLE}.raw_record is 'The CSV text of the record, when DuckDB could not read it as the feed (wrong type, wrong column count).';
comment on column {TABLE}.raw_values is 'The values as read, column by column, when the record was readable but broke a row rule.';
comment on column {TABLE}.failed_rules is 'Every rule the row broke, each as "column: rule (value)" or the rule''s sentence.';
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


def create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def rejections(con: duckdb.DuckDBPyConnection, feed: str, run_id: str) -> list[Rejection]:
    rows = con.execute(
        f"select feed, source_file, line, failed_rules from {TABLE} where feed = ? and run_id = ? order by source_file, line",
        [feed, run_id],
    ).fetchall()
    return [Rejection(feed, file, line, tuple(rules)) for feed, file, line, rules in rows]
