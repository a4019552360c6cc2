"""`outbound sql`: an analyst's SQL on the published warehouse, unable to change or leak anything.

The connection is read-only (no writes to the warehouse), has DuckDB's external access disabled
(no files read or written, no extensions installed or loaded, no databases attached) and its
configuration locked, so no statement can switch those back on. Temporary tables and views are
allowed: they live in memory and end with the session. Tables of schema `marts` can be named
without the schema (`from brand_mix`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import decimal
import json
import math
import re
import shutil
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb

from flows.errors import OutboundError
from flows.warehouse.published import open_read_only

FORMATS = ("table", "csv", "json", "markdown")
HISTORY_FILE = ".outbound_sql_history"
HISTORY_LENGTH = 1000
PROMPT, CONTINUATION = "outbound> ", "     ...> "

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
_NUMERIC += ("FLOAT", "DOUBLE", "DECIMAL")

HELP = """\
End each statement with ';' (a statement may span lines). Ctrl-C drops the statement being typed.
  .tables             the tables and views, with their descriptions
  .columns TABLE      the columns of TABLE (e.g. .columns brand_mix), with their descriptions
  .format FORMAT      print results as table, csv, json or markdown
  .help               this help
  .quit               leave (or Ctrl-D)
The marts are in schema marts (brand_mix, growth_rates, localization_timeline,
localization_summary, data_quality_findings) and can be named without it."""

_TABLES = """
select schema_name || '.' || table_name as "table", 'table' as kind, comment as description
from duckdb_tables() where database_name = current_database()
union all
select schema_name || '.' || view_name, 'view', comment
from duckdb_views() where database_name = current_database() and not internal
order by starts_with("table", 'marts.') desc, "table"
"""

_COLUMNS = """
select column_name as "column", data_type as type, comment as description
from duckdb_columns()
where database_name = current_database() and (table_name = $name or schema_name || '.' || table_name = $name)
order by schema_name = 'marts' desc, schema_name, column_index
"""


class SqlError(OutboundError):
    """A statement failed: DuckDB's message, with the line and position it points at."""


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only, with no access to files, network or extensions."""
    con = open_read_only(warehouse, {"enable_external_access": False})
    try:
        con.execute("set search_path = 'marts,main'")
    except duckdb.CatalogException:  # a DuckDB file, but no published warehouse: it has no schema marts
        con.close()
        raise OutboundError(f"{warehouse}: not a published Outbound warehouse (no schema marts); run `outbound run` first") from None
    # Last: from here on no SET can change a setting (not even back to what it was).
    con.execute("set lock_configuration = true")
    return con


def sql(warehouse: Path, query: str | None = None, file: Path | None = None, output_format: str = "table", raw: bool = False) -> int:
    """Run `query`, or the statements of `file`, or (neither) an interactive prompt; the exit code."""
    if query is not None and file is not None:
        raise OutboundError("give a query or -f FILE, not both")
    if file is not None:
        try:
            query = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise OutboundError(f"{file}: cannot read: {error}") from None
    with connect(warehouse) as con:
        if query is None:
            return Prompt(con, warehouse, output_format, raw).loop()
        try:
            run(con, query, output_format, sys.stdout, raw)
        except SqlError as error:
            raise SqlError(f"{file}: {error}" if file is not None else str(error)) from None
    return 0


def run(con: duckdb.DuckDBPyConnection, text: str, output_format: str, out: TextIO, raw: bool = False) -> int:
    """Run every statement of `text` in order, printing each result; stop at the first error.

    Each statement runs as its own text; the "LINE n" of DuckDB's messages is then shifted by
    the lines before it, so it is a line of `text` as the user wrote it.
    """
    statements = _statements(con, text)
    if not statements:
        raise SqlError("no SQL statement to run")
    printed = 0
    for statement, lines_before in statements:
        try:
            relation = _relation(con, statement)
            if relation is None:  # a statement without a result (SET, CREATE TEMP ...)
                continue
            if printed and output_format != "table":  # DuckDB's tables end with a blank line
                out.write("\n")
            render(relation, output_format, out, raw)
            printed += 1
        except SqlError as error:
            raise SqlError(_shift_lines(str(error), lines_before)) from None
        except duckdb.Error as error:
            raise SqlError(_shift_lines(str(error), lines_before)) from None
    return len(statements)


def _relation(con: duckdb.DuckDBPyConnection, statement: str) -> duckdb.DuckDBPyRelation | None:
    """The statement as a relation (run at once if it returns nothing); a SqlError with its position.

    DuckDB's relation API leaves out of its messages where in the text the error is; execute()
    puts it in. A statement that failed was rolled back, so running it again through execute()
    changes nothing and fails the same way, now with "LINE n" and a caret.
    """
    try:
        return con.sql(statement)
    except duckdb.Error as error:
        message = str(error)
    try:
        con.execute(statement).fetchall()  # fetched: an unfinished result would block the connection
    except duckdb.Error as error:
        message = str(error)
    raise SqlError(message)


def _statements(con: duckdb.DuckDBPyConnection, text: str) -> list[tuple[str, int]]:
    """Each statement's text (from its first token), with the number of lines of `text` before it."""
    try:
        parsed = con.extract_statements(text)  # parse errors already point into the whole text
    except duckdb.Error as error:
        raise SqlError(str(error)) from None
    statements, cursor = [], 0
    for statement in parsed:
        start = text.find(statement.query, cursor)
        if start < 0:  # not a verbatim part of the text: keep DuckDB's own line numbers
            statements.append((statement.query, 0))
            continue
        statements.append((statement.query, text.count("\n", 0, start)))
        cursor = start + len(statement.query)
    return statements


def _shift_lines(message: str, lines_before: int) -> str:
    """Add `lines_before` to each "LINE n: " of a DuckDB message, keeping its caret line aligned."""
    if not lines_before:
        return message
    lines = message.split("\n")
    for index, line in enumerate(lines):
        match = re.match(r"LINE (\d+): ", line)
        if match is None:
            continue
        label = f"LINE {int(match.group(1)) + lines_before}: "
        lines[index] = label + line[match.end() :]
        if index + 1 < len(lines) and lines[index + 1].lstrip().startswith("^"):
            lines[index + 1] = " " * (len(label) - match.end()) + lines[index + 1]
    return "\n".join(lines)


def render(relation: duckdb.DuckDBPyRelation, output_format: str, out: TextIO, raw: bool = False) -> None:
    """Print a result: DuckDB's own aligned table, or CSV, JSON (an array of objects) or Markdown.

    CSV is for spreadsheets, which run a cell that starts with =, +, -, @, tab or CR as a formula
    (CSV injection): such a text cell gets a leading ' as OWASP advises, unless `raw`. Numbers
    (and text that is just a number) are left as they are.
    """
    if output_format == "table":
        # Every row; as wide as the terminal when there is one (columns that do not fit are
        # elided, as in the duckdb CLI), otherwise every column in full.
        width = shutil.get_terminal_size().columns if out.isatty() else 2**31 - 1
        with contextlib.redirect_stdout(out):
            relation.show(max_width=width, max_rows=2**62, null_value="NULL")
        return
    columns = relation.columns
    rows = relation.fetchall()
    if output_format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        cell = (lambda value: _text(value, null="")) if raw else _spreadsheet_cell
        writer.writerows([cell(value) for value in row] for row in rows)
    elif output_format == "json":
        records = [{name: _json(value) for name, value in zip(columns, row, strict=True)} for row in rows]
        json.dump(records, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif output_format == "markdown":
        numeric = [str(kind).split("(")[0] in _NUMERIC for kind in relation.types]
        out.write("| " + " | ".join(_cell(name) for name in columns) + " |\n")
        out.write("| " + " | ".join("---:" if right else "---" for right in numeric) + " |\n")
        out.writelines("| " + " | ".join(_cell(_text(value, null="")) for value in row) + " |\n" for row in rows)
    else:
        raise OutboundError(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")


def _json(value: object) -> object:
    """A value as JSON: dates as ISO text, decimals as numbers, NaN and infinities as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, datetime.timedelta)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def _text(value: object, null: str) -> str:
    """A value as one cell of text: lists and structs as JSON, true/false in lower case."""
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_json(value), ensure_ascii=False)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _spreadsheet_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ' before what it would run as a formula."""
    text = _text(value, null="")
    if isinstance(value, (int, float, decimal.Decimal)) or not text.startswith(_FORMULA_START) or _NUMBER.fullmatch(text):
        return text
    return "'" + text


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


class Prompt:
    """The interactive prompt: statements end with ';', dot-commands, a history kept across sessions.

    On a terminal it prints a banner and prompts and keeps the history (readline) in
    ~/.outbound_sql_history, one entry per statement. With piped input it prints only results,
    and exits 1 if any statement failed, so a script of statements can be fed to it too.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, warehouse: Path, output_format: str, raw: bool = False) -> None:
        self.con, self.warehouse, self.format, self.raw = con, warehouse, output_format, raw
        self.interactive = sys.stdin.isatty()
        self.failed = False

    def loop(self) -> int:
        save_history = _load_history(Path.home() / HISTORY_FILE) if self.interactive else None
        if self.interactive:
            print(self._banner())
        lines: list[str] = []
        try:
            while True:
                prompt = (CONTINUATION if lines else PROMPT) if self.interactive else ""
                try:
                    line = input(prompt)
                except EOFError:
                    if self.interactive:
                        print()
                    break
                except KeyboardInterrupt:
                    print("^C")
                    lines = []
                    continue
                if not lines and line.strip().startswith("."):
                    if not self._command(line.strip()):
                        break
                    continue
                if not lines and not line.strip():
                    continue
                lines.append(line)
                if line.rstrip().endswith(";"):
                    if self.interactive:
                        _one_history_entry(lines)
                    self._run("\n".join(lines))
                    lines = []
            if lines:  # the input ended inside a statement without ';': run it as it is
                self._run("\n".join(lines))
        finally:
            if save_history is not None:
                save_history()
        return 1 if self.failed and not self.interactive else 0

    def _run(self, text: str, params: dict | None = None) -> None:
        try:
            if params is not None:
                render(self.con.sql(text, params=params), self.format, sys.stdout, self.raw)
            else:
                run(self.con, text, self.format, sys.stdout, self.raw)
        except SqlError as error:
            self.failed = True
            print(f"error: {error}", file=sys.stderr)
        except duckdb.Error as error:
            self.failed = True
            print(f"error: {error}", file=sys.stderr)
        sys.stdout.flush()

    def _command(self, line: str) -> bool:
        """Run a dot-command; False to leave."""
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in (".quit", ".exit", ".q"):
            readline = sys.modules.get("readline")
            if self.interactive and readline is not None and readline.get_current_history_length():
                readline.remove_history_item(readline.get_current_history_length() - 1)  # not worth recalling
            return False
        if name == ".help":
            print(HELP)
        elif name == ".tables":
            self._listing(_TABLES)
        elif name == ".columns" and argument:
            self._listing(_COLUMNS, {"name": argument})
        elif name == ".format" and argument in FORMATS:
            self.format = argument
        else:
            self.failed = True
            print(f"error: unknown command {line!r}; .help lists the commands", file=sys.stderr)
        return True

    def _listing(self, text: str, params: dict | None = None) -> None:
        """`.tables` and `.columns`: as a table, the descriptions wrapped between words to the
        terminal's width (DuckDB's boxes cut them mid-word); in the other formats, as any result."""
        if self.format != "table":
            self._run(text, params)
            return
        try:
            relation = self.con.sql(text, params=params)
            headers, rows = relation.columns, relation.fetchall()
        except duckdb.Error as error:
            self.failed = True
            print(f"error: {error}", file=sys.stderr)
            return
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 120
        print(listing(headers, rows, width), flush=True)

    def _banner(self) -> str:
        try:
            ((run_id, published_at),) = self.con.execute("select run_id, published_at from ops.publication").fetchall()
            published = f", published {published_at:%Y-%m-%d %H:%M} by run {run_id}"
        except (duckdb.Error, ValueError):
            published = ""
        return f"outbound sql: {self.warehouse} (read-only{published})\nType .help for help, .quit to leave."


def listing(headers: list[str], rows: list[tuple], width: int) -> str:
    """Rows whose last column is prose: the other columns aligned, the prose wrapped at word
    boundaries in the width left (at least 30 characters), its later lines under its first."""
    cells = [[_text(value, null="") for value in row] for row in rows]
    widths = [max(len(row[i]) for row in [headers, *cells]) for i in range(len(headers) - 1)]
    indent = sum(widths) + 2 * len(widths)
    wrap = textwrap.TextWrapper(width=max(width - indent, 30), break_long_words=False, break_on_hyphens=False)
    lines = []
    for row in [headers, *cells]:
        lead = "".join(cell.ljust(column_width + 2) for cell, column_width in zip(row, widths, strict=False))
        prose = wrap.wrap(row[-1]) or [""]
        lines.append((lead + prose[0]).rstrip())
        lines += [" " * indent + more for more in prose[1:]]
    return "\n".join(lines)


def _load_history(path: Path) -> Callable[[], None] | None:
    """Read the history file into readline; return what saves it back (None without readline)."""
    try:
        import readline
    except ImportError:
        return None
    readline.set_history_length(HISTORY_LENGTH)
    with contextlib.suppress(OSError):
        readline.read_history_file(path)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    return save


def _one_history_entry(lines: list[str]) -> None:
    """Replace the lines of a statement typed over several lines by one history entry."""
    readline = sys.modules.get("readline")
    if readline is None or len(lines) < 2:
        return
    typed = sum(1 for line in lines if line)  # readline keeps every non-empty line it reads
    length = readline.get_current_history_length()
    for position in range(length - 1, max(length - typed, 0) - 1, -1):
        readline.remove_history_item(position)
    readline.add_history(" ".join(line.strip() for line in lines))
