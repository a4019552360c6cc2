"""Load: read each landing file of a feed with DuckDB's CSV reader and the feed's explicit types.

Records DuckDB cannot read as the feed (a value of the wrong type, an impossible date, a wrong
number of columns, an unclosed quote) go to the quarantine with DuckDB's own message; the rest
land in raw.<feed> with the file and line they came from. A file that cannot be read as the feed
at all (empty, wrong header, not UTF-8) raises FeedFileError and the run publishes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.errors import FeedFileError
from flows.quarantine import TABLE as QUARANTINE

_REJECTS, _REJECT_SCANS = "_load_rejects", "_load_reject_scans"
# Splits no line: two ASCII control characters (unit and record separators) in a row.
_NO_DELIMITER = "\x1f\x1e"


@dataclass(frozen=True)
class FileLoad:
    path: Path
    rows_read: int
    rows_rejected: int


def feed_files(landing: Path, feed: str) -> list[Path]:
    """The landing files of a feed: every `<feed>*.csv` in the landing directory, by name."""
    return sorted(path for path in landing.glob(f"{feed}*.csv") if path.is_file())


def create_raw_table(con: duckdb.DuckDBPyConnection, feed: str, columns: dict[str, str]) -> None:
    typed = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
    con.execute("create schema if not exists raw")
    con.execute(f"create or replace table raw.{feed} ({typed}, _file varchar not null, _line bigint not null)")


def check_header(path: Path, columns: list[str]) -> None:
    """Fail unless the file's first line is exactly the feed's header (a BOM is tolerated)."""
    with path.open("rb") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise FeedFileError(path, f"is empty: expected a header line with the columns {','.join(columns)}")
    try:
        text = first_line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedFileError(path, f"line 1 is not UTF-8 ({error.reason} at byte {error.start}); save the file as UTF-8") from None
    header = next(csv.reader([text]))
    if header == columns:
        return
    missing = [name for name in columns if name not in header]
    unexpected = [name for name in header if name not in columns]
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected column(s) {', '.join(unexpected)}")
    if not problems:
        problems.append("columns are out of order")
    raise FeedFileError(path, f"line 1: header does not match the feed: {'; '.join(problems)}. Expected: {','.join(columns)}")


def load_file(con: duckdb.DuckDBPyConnection, feed: str, path: Path, columns: dict[str, str], run_id: str) -> FileLoad:
    """Append one landing file to raw.<feed>; quarantine the records DuckDB rejects."""
    check_header(path, list(columns))
    struct = "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in columns.items()) + "}"
    con.execute(f"drop table if exists {_REJECTS}; drop table if exists {_REJECT_SCANS}")
    con.execute(
        f"""
        create or replace temp table _load_rows as
        select * from read_csv(
            ?, columns = {struct}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
            encoding = 'utf-8', strict_mode = true,
            store_rejects = true, rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}'
        )
        """,
        [str(path)],
    )
    bad_encoding = con.execute(f"select min(line) from {_REJECTS} where error_type = 'INVALID ENCODING'").fetchone()[0]
    if bad_encoding is not None:
        raise FeedFileError(path, f"line {bad_encoding}: not valid UTF-8; save the file as UTF-8")

    _number_records(con, path)
    con.execute(
        f"""
        insert into raw.{feed}
        with kept_lines as (
            select line, row_number() over (order by line) - 1 as ordinal
            from _load_records
            where line > 1 and duckdb_line not in (select line from {_REJECTS})
        ),
        kept_rows as (select rowid as ordinal, * from _load_rows)
        select {", ".join(columns)}, ? as _file, kept_lines.line as _line
        from kept_rows join kept_lines using (ordinal)
        order by _line
        """,
        [str(path)],
    )
    rows_read, rows_rejected = con.execute(
        f"select (select count(*) from _load_rows), (select count(distinct line) from {_REJECTS})"
    ).fetchone()
    rows_numbered = con.execute(f"select count(*) from raw.{feed} where _file = ?", [str(path)]).fetchone()[0]
    if rows_numbered != rows_read:  # never drop a row because its line could not be told
        raise FeedFileError(path, f"read {rows_read} rows but could tell the line of only {rows_numbered}; please report this file")
    con.execute(
        f"""
        insert into {QUARANTINE} (run_id, feed, source_file, line, raw_record, failed_rules)
        select ?, ?, ?, records.line,
            trim(any_value(csv_line), chr(10) || chr(13)),
            list(coalesce(column_name || ': ', '') || error_message order by column_idx)
        from {_REJECTS} rejects
        join _load_records records on records.duckdb_line = rejects.line
        group by records.line
        """,
        [run_id, feed, str(path)],
    )
    con.execute(f"drop table _load_rows; drop table _load_records; drop table {_REJECTS}; drop table {_REJECT_SCANS}")
    return FileLoad(path, rows_read, rows_rejected)


def _number_records(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Find the physical line each CSV record starts on, into temp table _load_records.

    DuckDB keeps rows in file order but does not number them, and numbers its rejected records
    by counting records and empty lines, not the extra lines of a quoted field that spans lines.
    Reading the file once more as bare lines, a line starts a record unless it is empty or an
    odd number of quotes before it left a quoted field open. Each record start gets both its
    physical line and the line number DuckDB would give it.
    """
    con.execute(
        f"""
        create or replace temp table _load_lines as
        select text from read_csv(
            ?, columns = {{'text': 'VARCHAR'}}, header = false, auto_detect = false, delim = '{_NO_DELIMITER}',
            quote = '', escape = '', strict_mode = false, encoding = 'utf-8'
        )
        """,
        [str(path)],
    )
    con.execute(
        """
        create or replace temp table _load_records as
        with lines as (
            select rowid + 1 as line, coalesce(rtrim(text, chr(13)), '') = '' as empty,
                length(text) - length(replace(text, '"', '')) as quotes
            from _load_lines
        ),
        marked as (
            select line, empty,
                coalesce(sum(quotes) over (order by line rows between unbounded preceding and 1 preceding), 0) % 2 = 1
                    as inside_quoted_field
            from lines
        ),
        counted as (
            select line, empty, row_number() over (order by line) as duckdb_line
            from marked
            where not inside_quoted_field
        )
        select line, duckdb_line from counted where not empty
        """
    )
    con.execute("drop table _load_lines")
