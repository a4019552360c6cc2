"""Load: read each landing file of a feed with DuckDB's CSV reader, then apply the feed's types.

DuckDB splits the file into records; records it cannot split into the feed's columns (a wrong
number of columns, an unclosed quote) go to the quarantine with its message. Every value is then
read as its column's type by strict SQL rules (a whole number is digits, optionally grouped as
1,543,069; a date is YYYY-MM-DD), so no value is ever coerced into something it did not say
("1.5" is not 2); rows with a value of the wrong type go to the quarantine naming every such
column. The rest land in loaded.<feed> with the file and line they came from. A file that cannot
be read as the feed at all (empty, wrong header, not UTF-8) raises FeedFileError.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from flows.errors import FeedFileError
from flows.quarantine import TABLE as QUARANTINE

_REJECTS, _REJECT_SCANS = "_load_rejects", "_load_reject_scans"
# Longest CSV record DuckDB may read: room for a 10 MB quote and then some.
MAX_LINE_BYTES = 64 * 1024 * 1024

# Per DuckDB type: how a value's text is read, the pattern the text must match, and what it is not if not.
_WHOLE_NUMBER = r"-?[0-9]+|-?[0-9]{1,3}(,[0-9]{3})+"
_DECIMAL = r"-?[0-9]+(\.[0-9]+)?"
# Years 1900 to 2199: far beyond any figure's date, and within what pandas can hold (up to 2262).
_ISO_DATE = r"(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}"
_TYPE_RULES = {
    "BIGINT": (
        "try_cast(replace(trim({c}), ',', '') as bigint)",
        "regexp_full_match(trim({c}), '" + _WHOLE_NUMBER + "')",
        "is not a whole number (write 1543069 or 1,543,069)",
    ),
    "DOUBLE": ("try_cast(trim({c}) as double)", "regexp_full_match(trim({c}), '" + _DECIMAL + "')", "is not a decimal number (write 11.1)"),
    "DATE": (
        "try_cast(trim({c}) as date)",
        "regexp_full_match(trim({c}), '" + _ISO_DATE + "')",
        "is not a date written YYYY-MM-DD, between 1900 and 2199",
    ),
}


@dataclass(frozen=True)
class FileLoad:
    path: Path
    rows_loaded: int
    rows_rejected: int


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: skipped: {self.reason}"


def feed_files(landing: Path, feed: str) -> tuple[list[Path], list[SkippedFile]]:
    """The landing files of a feed, `<feed>*.csv` by name, as absolute paths; and those skipped.

    A symlink is followed only when it points to a file inside the landing directory: a link to
    anywhere else could load files the landing directory's owner never put there.
    """
    root = landing.resolve()
    files, skipped = [], []
    for path in sorted(landing.absolute().glob(f"{feed}*.csv")):
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            skipped.append(SkippedFile(path, f"a symlink to {path.resolve()}, outside the landing directory {root}"))
        elif path.is_file():
            files.append(path)
    return files, skipped


def create_tables(con: duckdb.DuckDBPyConnection, feed: str, columns: dict[str, str]) -> None:
    """loaded.<feed>: every row read from the feed's files; raw.<feed>: the ones that passed validation."""
    typed = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
    con.execute("create schema if not exists loaded; create schema if not exists raw")
    con.execute(f"create table if not exists loaded.{feed} ({typed}, _file varchar not null, _line bigint not null)")
    con.execute(
        f"""
        create or replace view raw.{feed} as
        select * from loaded.{feed} as row
        where not exists (
            select 1 from {QUARANTINE} as rejected
            where rejected.feed = '{feed}' and rejected.stage = 'validate'
                and rejected.source_file = row._file and rejected.line = row._line
        )
        """
    )


def forget_file(con: duckdb.DuckDBPyConnection, feed: str, path: str) -> None:
    """Remove every row a file brought, loaded or quarantined: before reloading it, or on --prune."""
    con.execute(f"delete from loaded.{feed} where _file = ?", [path])
    con.execute(f"delete from {QUARANTINE} where feed = ? and source_file = ?", [feed, path])


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
    """Append one landing file to loaded.<feed>; quarantine the records that cannot be read."""
    check_header(path, list(columns))
    as_text = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in columns) + "}"
    con.execute(f"drop table if exists {_REJECTS}; drop table if exists {_REJECT_SCANS}")
    con.execute(
        f"""
        create or replace temp table _load_rows as
        select * from read_csv(
            ?, columns = {as_text}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
            encoding = 'utf-8', strict_mode = true, max_line_size = {MAX_LINE_BYTES},
            store_rejects = true, rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}'
        )
        """,
        [str(path)],
    )
    bad_encoding = con.execute(f"select min(line) from {_REJECTS} where error_type = 'INVALID ENCODING'").fetchall()[0][0]
    if bad_encoding is not None:
        raise FeedFileError(path, f"line {bad_encoding}: not valid UTF-8; save the file as UTF-8")

    _number_records(con, path)
    # One pass reads each value as its type and tells whether the row is whole; the messages and
    # the raw text are built only for the rows that are not (a handful, or millions).
    typed, all_typed, type_failures = _typed_columns(columns)
    struct = ", ".join(f"{name} := {name}" for name in columns)
    con.execute(
        f"""
        create or replace temp table _load_typed as
        with kept_lines as (
            select line, row_number() over (order by line) - 1 as ordinal
            from _load_records
            where line > 1 and duckdb_line not in (select line from {_REJECTS})
        ),
        numbered as (
            select kept_lines.line as _line, rows.* exclude (ordinal), {all_typed} as _typed
            from (select rowid as ordinal, * from _load_rows) as rows
            join kept_lines using (ordinal)
        )
        select {typed}, _line, _typed,
            case when not _typed then to_json(struct_pack({struct})) end as _raw_values,
            case when not _typed then {type_failures} end as _failures
        from numbered
        """
    )
    rows_read, rows_numbered = con.execute("select (select count(*) from _load_rows), (select count(*) from _load_typed)").fetchall()[0]
    con.execute("drop table _load_rows")
    if rows_numbered != rows_read:  # never drop a row because its line could not be told
        raise FeedFileError(path, f"read {rows_read} rows but could tell the line of only {rows_numbered}; please report this file")

    con.execute(f"insert into loaded.{feed} select {', '.join(columns)}, ? as _file, _line from _load_typed where _typed", [str(path)])
    con.execute(
        f"""
        insert into {QUARANTINE} (run_id, feed, source_file, line, stage, raw_values, failed_rules)
        select ?, ?, ?, _line, 'load', _raw_values, _failures
        from _load_typed where not _typed
        """,
        [run_id, feed, str(path)],
    )
    con.execute(
        f"""
        insert into {QUARANTINE} (run_id, feed, source_file, line, stage, raw_record, failed_rules)
        select ?, ?, ?, records.line, 'load',
            trim(any_value(csv_line), chr(10) || chr(13)),
            list(coalesce(column_name || ': ', '') || error_message order by column_idx)
        from {_REJECTS} as rejects
        join _load_records as records on records.duckdb_line = rejects.line
        group by records.line
        """,
        [run_id, feed, str(path)],
    )
    rows_loaded, rows_rejected = con.execute(
        f"""
        select (select count(*) from loaded.{feed} where _file = $path),
            (select count(*) from {QUARANTINE} where feed = $feed and source_file = $path and stage = 'load')
        """,
        {"path": str(path), "feed": feed},
    ).fetchall()[0]
    con.execute(f"drop table _load_records; drop table _load_typed; drop table {_REJECTS}; drop table {_REJECT_SCANS}")
    return FileLoad(path, rows_loaded, rows_rejected)


def _typed_columns(columns: dict[str, str]) -> tuple[str, str, str]:
    """SQL for the typed value of each column, for whether all of a row's values are of their type,
    and for the list of the row's type failures (all three over the text columns)."""
    typed, wrong, failures = [], [], []
    for name, sql_type in columns.items():
        if sql_type not in _TYPE_RULES:
            typed.append(name)
            continue
        read, matches, problem = (part.replace("{c}", name) for part in _TYPE_RULES[sql_type])
        typed.append(f"{read} as {name}")
        is_wrong = f"{name} is not null and not coalesce({matches} and {read} is not null, false)"
        wrong.append(f"({is_wrong})")
        failures.append(f"case when {is_wrong} then '{name}: ' || chr(39) || left({name}, 60) || chr(39) || ' {problem}' end")
    all_typed = f"not ({' or '.join(wrong)})" if wrong else "true"
    failure_list = f"list_filter([{', '.join(failures)}], lambda failure: failure is not null)" if failures else "[]::varchar[]"
    return ", ".join(typed), all_typed, failure_list


def _number_records(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Find the physical line each CSV record starts on, into temp table _load_records.

    DuckDB keeps rows in file order but does not number them, and numbers its rejected records
    by counting records and empty lines, not the extra lines of a quoted field that spans lines.
    A line starts a record unless it is empty or an odd number of quotes before it left a quoted
    field open; each record start gets both its physical line and the number DuckDB gives it.
    The file is scanned in chunks with numpy: a few passes over bytes, not a Python loop per line.
    """
    starts, quotes_before = _line_starts_and_quotes(path)
    size = path.stat().st_size
    ends = np.append(starts[1:], size)  # each line's end, its newline included
    if len(starts) and starts[-1] == size:  # the file ends with a newline: no line after it
        starts, quotes_before, ends = starts[:-1], quotes_before[:-1], ends[:-1]
    lengths = ends - starts
    with path.open("rb") as handle:
        first_bytes = _bytes_at(handle, starts[lengths == 2])
    empty = lengths <= 1
    empty[lengths == 2] = first_bytes == ord("\r")
    in_record = quotes_before % 2 == 0  # not inside a quoted field
    lines = np.arange(1, len(starts) + 1)[in_record]
    duckdb_lines = np.arange(1, in_record.sum() + 1)
    keep = ~empty[in_record]
    records = pd.DataFrame({"line": lines[keep], "duckdb_line": duckdb_lines[keep]})
    con.register("_load_records_frame", records)
    con.execute("create or replace temp table _load_records as select * from _load_records_frame")
    con.unregister("_load_records_frame")


def _line_starts_and_quotes(path: Path, chunk_bytes: int = 64 << 20) -> tuple[np.ndarray, np.ndarray]:
    """Byte offset of every line start, and how many quote characters come before it."""
    starts, quotes_before = [np.zeros(1, dtype=np.int64)], [np.zeros(1, dtype=np.int64)]
    quotes_so_far, offset = 0, 0
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            data = np.frombuffer(chunk, dtype=np.uint8)
            newlines = np.flatnonzero(data == ord("\n"))
            quotes = np.flatnonzero(data == ord('"'))
            starts.append(offset + newlines + 1)
            quotes_before.append(quotes_so_far + np.searchsorted(quotes, newlines + 1))
            quotes_so_far += len(quotes)
            offset += len(chunk)
    return np.concatenate(starts), np.concatenate(quotes_before)


def _bytes_at(handle, offsets: np.ndarray) -> np.ndarray:
    """The byte at each offset (few: only the starts of two-byte lines, to spot '\\r\\n')."""
    found = np.empty(len(offsets), dtype=np.uint8)
    for i, offset in enumerate(offsets):
        handle.seek(int(offset))
        found[i] = handle.read(1)[0]
    return found
