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
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from flows.errors import FeedFileError
from flows.stages.precision import steps_table
from flows.stages.quarantine import TABLE as QUARANTINE
from flows.warehouse.connections import has_table
from flows.warehouse.literal_path import literal_path

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


def landing_files(landing: Path, feeds: list[str]) -> tuple[dict[str, list[Path]], list[SkippedFile]]:
    """Each feed's landing files, `<feed>*.csv` by name, as absolute paths; and the files skipped, with why.

    A name is matched as a name, never as a pattern. A `.csv` file that matches no feed (`Sales.csv`,
    `sales.CSV`, `salse.csv`) is reported as skipped rather than silently ignored. A symlink is
    followed only when it points to a file inside the landing directory: a link to anywhere else
    could load files the landing directory's owner never put there. A link that loops or leads
    nowhere is an error: it was surely meant to bring a file.
    """
    root = landing.resolve()
    files: dict[str, list[Path]] = {feed: [] for feed in feeds}
    skipped = []
    for path in sorted(landing.absolute().iterdir()):
        feed = next((feed for feed in feeds if path.name.startswith(feed) and path.name.endswith(".csv")), None)
        if feed is None:
            near = next((feed for feed in feeds if path.name.lower().startswith(feed) and path.name.lower().endswith(".csv")), None)
            if near is not None:
                skipped.append(SkippedFile(path, f"not read: feed files are named {near}*.csv, in lowercase"))
            elif path.name.lower().endswith(".csv"):
                skipped.append(SkippedFile(path, f"not read: its name matches no feed ({', '.join(f'{feed}*.csv' for feed in feeds)})"))
            continue
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError) as error:  # a loop, or a link to nothing
                raise FeedFileError(path, f"a symlink that leads to no file ({getattr(error, 'strerror', None) or error})") from None
            if not target.is_relative_to(root):
                skipped.append(SkippedFile(path, f"a symlink to {target}, outside the landing directory {root}"))
                continue
        if path.is_file():
            files[feed].append(path)
    return files, skipped


def landing_name(landing: Path, path: Path) -> str:
    """A landing file's name relative to the landing folder (`sales.csv`), as everything published names it.

    Never the absolute path: the same files in a moved or copied landing folder are the same files,
    and the warehouse holds no path of the machine that built it.
    """
    return path.absolute().relative_to(landing.absolute()).as_posix()


def feed_files(landing: Path, feed: str) -> list[Path]:
    """The landing files of one feed (see landing_files)."""
    return landing_files(landing, [feed])[0][feed]


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


def forget_file(con: duckdb.DuckDBPyConnection, feed: str, name: str) -> None:
    """Remove every row a file (by its landing name) brought, loaded, quarantined or with its written
    precision: before reloading it, or on --prune."""
    con.execute(f"delete from loaded.{feed} where _file = ?", [name])
    con.execute(f"delete from {QUARANTINE} where feed = ? and source_file = ?", [feed, name])
    if has_table(con, steps_table(feed)):
        con.execute(f"delete from {steps_table(feed)} where _file = ?", [name])


def rename_file(con: duckdb.DuckDBPyConnection, feed: str, before: str, after: str) -> None:
    """Every row a file brought, loaded, quarantined or with its written precision, now names the
    file's new landing name (a renamed file)."""
    con.execute(f"update loaded.{feed} set _file = ? where _file = ?", [after, before])
    con.execute(f"update {QUARANTINE} set source_file = ? where feed = ? and source_file = ?", [after, feed, before])
    if has_table(con, steps_table(feed)):
        con.execute(f"update {steps_table(feed)} set _file = ? where _file = ?", [after, before])


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


def load_file(
    con: duckdb.DuckDBPyConnection, feed: str, path: Path, columns: dict[str, str], run_id: str, name: str | None = None
) -> FileLoad:
    """Append one landing file to loaded.<feed>; quarantine the records that cannot be read.

    Its rows cite the file by `name`, its name relative to the landing folder (`landing_name`;
    the file's own name if not given): never by the absolute path, which the errors raised here
    give, so the user finds the file.
    """
    name = path.name if name is None else name
    records = _find_records(path)  # first: it refuses CR-only line endings, which the header would hide
    check_header(path, list(columns))
    sizes = records.ends - records.starts
    if len(sizes) and sizes.max() > MAX_LINE_BYTES:
        too_long = int(np.argmax(sizes > MAX_LINE_BYTES))
        raise FeedFileError(
            path,
            f"line {records.lines[too_long]}: a record of {int(sizes[too_long]):,} bytes, over the reader's limit of {MAX_LINE_BYTES:,}",
        )
    # A record with more or fewer fields than the header is never read: DuckDB would drop empty
    # extra fields (what a spreadsheet writes after a stray comma) and shift nothing back.
    # An unclosed quote is DuckDB's to report: its record runs to the end of the file.
    wrong_width = ~records.empty & (records.fields != len(columns))
    wrong_width[:1] = False  # the header, checked above
    if records.unterminated and len(wrong_width):
        wrong_width[-1] = False
    if wrong_width.any():
        with tempfile.TemporaryDirectory(prefix="outbound-load-") as folder:
            readable = Path(folder) / "records.csv"
            _copy_records(path, records, ~wrong_width, readable)
            _read_records(con, str(readable), path, columns)
    else:
        with literal_path(path) as readable:
            _read_records(con, readable, path, columns)
    kept = ~wrong_width
    _register_lines(con, records.lines[kept], records.empty[kept])
    _quarantine_wrong_width(con, feed, path, name, records, np.flatnonzero(wrong_width), len(columns), run_id)
    # The common file: each record one line, none empty or of another width. Unless DuckDB
    # rejected one, the n-th row it read is then on line n + 1, with no need to match the records.
    one_per_line = not wrong_width.any() and not records.empty.any() and (not len(records.lines) or records.lines[-1] == len(records.lines))
    return _type_and_insert(con, feed, path, name, columns, run_id, rows_one_per_line=len(records.lines) - 1 if one_per_line else None)


def _copy_records(path: Path, records: _Records, keep: np.ndarray, target: Path) -> None:
    """Write the kept records of `path` to `target`, in order (runs of kept records in one copy each)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], keep, [False]]).astype(np.int8)))
    with path.open("rb") as source, target.open("wb") as out:
        for first, last in zip(edges[::2], edges[1::2] - 1, strict=True):
            source.seek(int(records.starts[first]))
            remaining = int(records.ends[last] - records.starts[first])
            while remaining:
                chunk = source.read(min(remaining, 64 << 20))
                out.write(chunk)
                remaining -= len(chunk)


def _read_records(con: duckdb.DuckDBPyConnection, readable: str, path: Path, columns: dict[str, str]) -> None:
    """DuckDB's CSV reader over the file, every column as text, into temp table _load_rows; its rejects kept."""
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
        [readable],
    )
    bad_encoding = con.execute(f"select min(line) from {_REJECTS} where error_type = 'INVALID ENCODING'").fetchall()[0][0]
    if bad_encoding is not None:
        raise FeedFileError(path, f"line {bad_encoding}: not valid UTF-8; save the file as UTF-8")


def _register_lines(con: duckdb.DuckDBPyConnection, lines: np.ndarray, empty: np.ndarray) -> None:
    """Temp table _load_records: each record DuckDB read, by the number DuckDB gives it (counting
    empty lines, not the extra lines of a quoted field) and the physical line it starts on."""
    numbers = np.arange(1, len(lines) + 1)
    records = pd.DataFrame({"line": lines[~empty], "duckdb_line": numbers[~empty]})
    con.register("_load_records_frame", records)
    con.execute("create or replace temp table _load_records as select * from _load_records_frame")
    con.unregister("_load_records_frame")


def _quarantine_wrong_width(
    con: duckdb.DuckDBPyConnection, feed: str, path: Path, name: str, records: _Records, wrong: np.ndarray, width: int, run_id: str
) -> None:
    """Quarantine each record whose field count is not the header's, with its CSV text."""
    if not len(wrong):
        return
    texts = []
    with path.open("rb") as handle:
        for index in wrong:
            handle.seek(int(records.starts[index]))
            raw = handle.read(int(records.ends[index] - records.starts[index]))
            try:
                texts.append(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError as error:
                raise FeedFileError(
                    path, f"line {records.lines[index]}: not valid UTF-8 ({error.reason}); save the file as UTF-8"
                ) from None
    frame = pd.DataFrame(
        {
            "line": records.lines[wrong],
            "raw_record": texts,
            "rule": [f"the record has {fields:,} fields, the header {width}" for fields in records.fields[wrong]],
        }
    )
    con.register("_load_wrong_width", frame)
    con.execute(
        f"""
        insert into {QUARANTINE} (run_id, feed, source_file, line, stage, raw_record, failed_rules)
        select ?, ?, ?, line, 'load', raw_record, [rule] from _load_wrong_width
        """,
        [run_id, feed, name],
    )
    con.unregister("_load_wrong_width")


def _type_and_insert(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    path: Path,
    name: str,
    columns: dict[str, str],
    run_id: str,
    rows_one_per_line: int | None = None,
) -> FileLoad:
    """Read each value as its column's type; whole rows to loaded.<feed>, the rest to the quarantine.

    `rows_one_per_line`: the rows of a file whose every record is one line (load_file), if it is one.
    """
    # One pass reads each value as its type and tells whether the row is whole; the messages and
    # the raw text are built only for the rows that are not (a handful, or millions).
    typed, all_typed, type_failures = _typed_columns(columns)
    struct = ", ".join(f"{name} := {name}" for name in columns)
    read = con.execute(f"select (select count(*) from _load_rows), (select count(*) from {_REJECTS})").fetchall()[0]
    if rows_one_per_line is not None and read == (rows_one_per_line, 0):
        numbered = f"select rowid + 2 as _line, *, {all_typed} as _typed from _load_rows"
    else:  # each row's line from the records found in the file (_find_records), less the rejected ones
        numbered = f"""
            with kept_lines as (
                select line, row_number() over (order by line) - 1 as ordinal
                from _load_records
                where line > 1 and duckdb_line not in (select line from {_REJECTS})
            )
            select kept_lines.line as _line, rows.* exclude (ordinal), {all_typed} as _typed
            from (select rowid as ordinal, * from _load_rows) as rows
            join kept_lines using (ordinal)
        """
    con.execute(
        f"""
        create or replace temp table _load_typed as
        with numbered as ({numbered})
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

    con.execute(f"insert into loaded.{feed} select {', '.join(columns)}, ? as _file, _line from _load_typed where _typed", [name])
    con.execute(
        f"""
        insert into {QUARANTINE} (run_id, feed, source_file, line, stage, raw_values, failed_rules)
        select ?, ?, ?, _line, 'load', _raw_values, _failures
        from _load_typed where not _typed
        """,
        [run_id, feed, name],
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
        [run_id, feed, name],
    )
    rows_loaded, rows_rejected = con.execute(
        f"""
        select (select count(*) from loaded.{feed} where _file = $path),
            (select count(*) from {QUARANTINE} where feed = $feed and source_file = $path and stage = 'load')
        """,
        {"path": name, "feed": feed},
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


@dataclass(frozen=True)
class _Records:
    """Where each CSV record of a file is, found from its bytes before DuckDB reads it."""

    lines: np.ndarray  # the physical line each record starts on (the header is line 1)
    starts: np.ndarray  # byte offset of each record
    ends: np.ndarray  # byte offset just past each record (its line end included)
    fields: np.ndarray  # how many fields each record has (delimiters outside quotes, plus one)
    empty: np.ndarray  # True for an empty line (DuckDB skips it, but counts it)
    unterminated: bool  # the last record opens a quoted field that never closes


def _find_records(path: Path, chunk_bytes: int = 64 << 20) -> _Records:
    """Split a file into CSV records and count their fields: a few numpy passes over its bytes.

    A line starts a record unless an odd number of quotes before it left a quoted field open; a
    record's fields are its commas outside quoted fields, plus one. A carriage return that does
    not end a CRLF pair, outside a quoted field, is a CR-only line ending: DuckDB would split the
    line there and every line number after it would be wrong, so the file is refused.
    """
    line_starts, quotes_before = [np.zeros(1, dtype=np.int64)], [np.zeros(1, dtype=np.int64)]
    commas: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    quotes_so_far, offset, lines_so_far, carry = 0, 0, 0, 0
    pending_cr: tuple[int, int] | None = None  # a CR that ended the previous chunk: (its line, its quote parity)
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            data = np.frombuffer(chunk, dtype=np.uint8)
            newlines = np.flatnonzero(data == ord("\n"))
            quotes = np.flatnonzero(data == ord('"'))
            if pending_cr is not None and data[0] != ord("\n") and pending_cr[1] == 0:
                raise _lone_cr(path, pending_cr[0])
            line_starts.append(offset + newlines + 1)
            quotes_before.append(quotes_so_far + np.searchsorted(quotes, newlines + 1))
            # Commas outside quoted fields, counted per line (the last line may go on in the next chunk).
            found = np.flatnonzero(data == ord(","))
            if len(quotes):  # most chunks have none: then every comma is outside
                found = found[(quotes_so_far + np.searchsorted(quotes, found)) % 2 == 0]
            # commas before each line end, differenced: a search per line rather than per comma
            per_line = np.diff(np.searchsorted(found, newlines), prepend=0, append=len(found))
            per_line[0] += carry
            commas.append(per_line[:-1])
            carry = int(per_line[-1])
            returns = np.flatnonzero(data == ord("\r"))
            if len(returns):
                parity = (quotes_so_far + np.searchsorted(quotes, returns)) % 2
                followed = np.zeros(len(returns), dtype=bool)
                inside = returns + 1 < len(data)
                followed[inside] = data[returns[inside] + 1] == ord("\n")
                lone = returns[inside & ~followed & (parity == 0)]
                if len(lone):
                    raise _lone_cr(path, lines_so_far + int(np.searchsorted(newlines, lone[0])))
                pending_cr = (lines_so_far + len(newlines), int(parity[-1])) if not inside[-1] else None
            else:
                pending_cr = None
            quotes_so_far += len(quotes)
            offset += len(chunk)
            lines_so_far += len(newlines)
    if pending_cr is not None and pending_cr[1] == 0:
        raise _lone_cr(path, pending_cr[0])
    starts, quotes_before = np.concatenate(line_starts), np.concatenate(quotes_before)
    line_commas = np.append(np.concatenate(commas), carry)
    ends = np.append(starts[1:], offset)  # each line's end, its newline included
    if starts[-1] == offset:  # the file ends with a newline (or is empty): no line after it
        starts, quotes_before, ends, line_commas = starts[:-1], quotes_before[:-1], ends[:-1], line_commas[:-1]
    begins = np.flatnonzero(quotes_before % 2 == 0)  # the lines that start a record
    lengths = ends[begins] - starts[begins]
    # An empty line is "\n" or "\r\n" (a lone CR was refused above); one or two bytes to look at.
    empty = lengths == 0
    short = np.flatnonzero((lengths == 1) | (lengths == 2))
    if len(short):
        with path.open("rb") as handle:
            first = _bytes_at(handle, starts[begins][short])
        empty[short] = np.where(lengths[short] == 1, first == ord("\n"), first == ord("\r"))
    record_ends = np.append(starts[begins][1:], offset)
    fields = np.add.reduceat(line_commas, begins) + 1 if len(begins) else np.zeros(0, dtype=np.int64)
    return _Records(begins + 1, starts[begins], record_ends, fields, empty, bool(quotes_so_far % 2))


def _lone_cr(path: Path, line_index: int) -> FeedFileError:
    return FeedFileError(
        path,
        f"line {line_index + 1}: a line ends with a carriage return alone (CR, old Mac line endings); "
        "save the file with LF or CRLF line endings",
    )


def _bytes_at(handle, offsets: np.ndarray) -> np.ndarray:
    """The byte at each offset (few: only the starts of two-byte lines, to spot '\\r\\n')."""
    found = np.empty(len(offsets), dtype=np.uint8)
    for i, offset in enumerate(offsets):
        handle.seek(int(offset))
        found[i] = handle.read(1)[0]
    return found
