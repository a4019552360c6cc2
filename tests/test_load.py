"""The loader on real CSV files and a real DuckDB file: headers, types, and line numbers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows import quarantine
from flows.errors import FeedFileError
from flows.load import create_raw_table, load_file

COLUMNS = {"units": "BIGINT", "label": "VARCHAR", "day": "DATE"}
HEADER = "units,label,day"


@pytest.fixture()
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "build.duckdb")) as connection:
        quarantine.create(connection)
        create_raw_table(connection, "feed", COLUMNS)
        yield connection


def load(con, tmp_path: Path, content: str | bytes, name: str = "feed.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = load_file(con, "feed", path, COLUMNS, "run-1")
    kept = con.execute("select _line, units, label, day::varchar from raw.feed order by _line").fetchall()
    rejected = con.execute("select line, raw_record, failed_rules from quarantine.rejected_rows order by line").fetchall()
    return result, kept, rejected


def test_rows_keep_their_physical_line(con, tmp_path):
    content = f'{HEADER}\n1,a,2024-01-01\n\n2,"two\nlines",2024-01-02\nx,b,2024-01-03\n3,c,2024-01-04\n'
    result, kept, rejected = load(con, tmp_path, content)
    assert kept == [(2, 1, "a", "2024-01-01"), (4, 2, "two\nlines", "2024-01-02"), (7, 3, "c", "2024-01-04")]
    assert [(line, record) for line, record, _ in rejected] == [(6, "x,b,2024-01-03")]
    assert 'units: Error when converting column "units". Could not convert string "x"' in rejected[0][2][0]
    assert (result.rows_read, result.rows_rejected) == (3, 1)


def test_every_unreadable_value_of_a_row_is_reported(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, f"{HEADER}\nmany,a,2024-02-30\n")
    assert kept == []
    [(line, record, rules)] = rejected
    assert (line, record) == (2, "many,a,2024-02-30")
    assert [rule.split(":")[0] for rule in rules] == ["units", "day"]


def test_wrong_column_count_and_unclosed_quote_are_quarantined(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, f'{HEADER}\n1,a\n2,b,2024-01-01,extra\n3,"open,2024-01-01\n4,d,2024-01-01\n')
    assert kept == []
    assert [line for line, _, _ in rejected] == [2, 3, 4]
    assert "Expected Number of Columns: 3 Found: 2" in rejected[0][2][0]
    assert "unterminated quote" in rejected[2][2][0]
    assert rejected[2][1] == '3,"open,2024-01-01\n4,d,2024-01-01'  # the swallowed row is kept in the record


def test_crlf_and_bom_load(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, b"\xef\xbb\xbf" + f"{HEADER}\r\n1,a,2024-01-01\r\n2,b,2024-01-02\r\n".encode())
    assert kept == [(2, 1, "a", "2024-01-01"), (3, 2, "b", "2024-01-02")]
    assert rejected == []


def test_quoted_text_is_kept_as_text(con, tmp_path):
    _, kept, _ = load(con, tmp_path, f'{HEADER}\n1,"=HYPERLINK(""http://x"",""y"")",2024-01-01\n')
    assert kept == [(2, 1, '=HYPERLINK("http://x","y")', "2024-01-01")]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty: expected a header line with the columns units,label,day"),
        (b"units,label\n1,a\n", "line 1: header does not match the feed: missing column(s) day"),
        (b"units,label,day,extra\n", "line 1: header does not match the feed: unexpected column(s) extra"),
        (b"unit,label,day\n", "missing column(s) units; unexpected column(s) unit"),
        (b"label,units,day\n", "columns are out of order"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "line 1 is not UTF-8"),
        (HEADER.encode() + b"\n1,caf\xe9,2024-01-01\n", "line 2: not valid UTF-8"),
    ],
)
def test_file_that_is_not_the_feed_fails_naming_it(con, tmp_path, content, problem):
    with pytest.raises(FeedFileError) as raised:
        load(con, tmp_path, content)
    assert str(raised.value).startswith(str(tmp_path / "feed.csv") + ": ")
    assert problem in str(raised.value)
