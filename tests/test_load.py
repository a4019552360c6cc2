"""The loader on real CSV files and a real DuckDB file: headers, types, and line numbers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.errors import FeedFileError
from flows.stages import quarantine
from flows.stages.load import create_tables, landing_files, load_file

COLUMNS = {"units": "BIGINT", "label": "VARCHAR", "day": "DATE"}
HEADER = "units,label,day"


@pytest.fixture()
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "build.duckdb")) as connection:
        quarantine.create(connection)
        create_tables(connection, "feed", COLUMNS)
        yield connection


def load(con, tmp_path: Path, content: str | bytes, name: str = "feed.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = load_file(con, "feed", path, COLUMNS, "run-1")
    kept = con.execute("select _line, units, label, day::varchar from loaded.feed order by _line").fetchall()
    rejected = con.execute(
        "select line, coalesce(raw_record, raw_values::varchar), failed_rules from quarantine.rejected_rows order by line"
    ).fetchall()
    return result, kept, rejected


def test_rows_keep_their_physical_line(con, tmp_path):
    content = f'{HEADER}\n1,a,2024-01-01\n\n2,"two\nlines",2024-01-02\nx,b,2024-01-03\n3,c,2024-01-04\n'
    result, kept, rejected = load(con, tmp_path, content)
    assert kept == [(2, 1, "a", "2024-01-01"), (4, 2, "two\nlines", "2024-01-02"), (7, 3, "c", "2024-01-04")]
    assert [line for line, _, _ in rejected] == [6]
    assert rejected[0][2] == ["units: 'x' is not a whole number (write 1543069 or 1,543,069)"]
    assert (result.rows_loaded, result.rows_rejected) == (3, 1)


def test_every_value_of_the_wrong_type_is_reported(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, f"{HEADER}\nmany,a,2024-02-30\n")
    assert kept == []
    [(line, values, rules)] = rejected
    assert line == 2 and '"units":"many"' in values.replace(" ", "")
    assert rules == [
        "units: 'many' is not a whole number (write 1543069 or 1,543,069)",
        "day: '2024-02-30' is not a date written YYYY-MM-DD, between 1900 and 2199",
    ]


@pytest.mark.parametrize(
    ("text", "loaded_as"),
    [("1543069", 1_543_069), ('"1,543,069"', 1_543_069), (" 42 ", 42), ("-5", -5)],
)
def test_whole_numbers_load_as_written(con, tmp_path, text, loaded_as):
    _, kept, rejected = load(con, tmp_path, f"{HEADER}\n{text},a,2024-01-01\n")
    assert (kept, rejected) == ([(2, loaded_as, "a", "2024-01-01")], [])


@pytest.mark.parametrize("text", ["1.5", '"1,5"', '"12,34,567"', "1e3", "nan", "99999999999999999999", "1 000"])
def test_no_number_is_coerced_into_another(con, tmp_path, text):
    _, kept, rejected = load(con, tmp_path, f"{HEADER}\n{text},a,2024-01-01\n")
    assert kept == []
    assert rejected[0][2] == [f"units: '{text.strip(chr(34))}' is not a whole number (write 1543069 or 1,543,069)"]


@pytest.mark.parametrize("text", ["2024/01/05", "05/01/2024", "2024-1-5", "2024-13-01", "20240105", "1850-01-01", "2999-01-01"])
def test_dates_must_be_iso(con, tmp_path, text):
    _, kept, rejected = load(con, tmp_path, f"{HEADER}\n1,a,{text}\n")
    assert kept == []
    assert rejected[0][2] == [f"day: '{text}' is not a date written YYYY-MM-DD, between 1900 and 2199"]


def test_wrong_column_count_and_unclosed_quote_are_quarantined(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, f'{HEADER}\n1,a\n2,b,2024-01-01,extra\n3,"open,2024-01-01\n4,d,2024-01-01\n')
    assert kept == []
    assert [line for line, _, _ in rejected] == [2, 3, 4]
    assert rejected[0][2] == ["the record has 2 fields, the header 3"]
    assert rejected[1][2] == ["the record has 4 fields, the header 3"]
    assert "unterminated quote" in rejected[2][2][0]
    assert rejected[2][1] == '3,"open,2024-01-01\n4,d,2024-01-01'  # the swallowed row is kept in the record


def test_ten_megabyte_field_loads(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, f'{HEADER}\n1,"{"x" * 10_000_000}",2024-01-01\n2,b,2024-01-02\n')
    assert [(line, len(label)) for line, _, label, _ in kept] == [(2, 10_000_000), (3, 1)]
    assert rejected == []


def test_header_only_file_loads_nothing(con, tmp_path):
    result, kept, rejected = load(con, tmp_path, f"{HEADER}\n")
    assert (result.rows_loaded, kept, rejected) == (0, [], [])


def test_crlf_and_bom_load(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, b"\xef\xbb\xbf" + f"{HEADER}\r\n1,a,2024-01-01\r\n2,b,2024-01-02\r\n".encode())
    assert kept == [(2, 1, "a", "2024-01-01"), (3, 2, "b", "2024-01-02")]
    assert rejected == []


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_carriage_return_inside_a_field_is_kept(con, tmp_path, newline):
    content = newline.join([HEADER, '1,"a\rb",2024-01-01', "2,c,2024-01-02", ""])
    _, kept, rejected = load(con, tmp_path, content)
    assert [(units, label) for _, units, label, _ in kept] == [(1, "a\rb"), (2, "c")]
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


def test_landing_files_take_every_name_and_skip_links_leaving_the_landing(tmp_path):
    landing, elsewhere = tmp_path / "landing", tmp_path / "elsewhere"
    landing.mkdir()
    elsewhere.mkdir()
    for name in ("sales.csv", "sales 2025 h2.csv", "sales_münchen.csv", "sales[1].csv", "exports.csv", "sales.txt"):
        (landing / name).write_text(HEADER + "\n")
    for name in ("Sales.csv", "sales.CSV", "salse.csv"):
        (landing / name).write_text(HEADER + "\n")
    (elsewhere / "secret.csv").write_text(HEADER + "\n")
    (landing / "sales_outside.csv").symlink_to(elsewhere / "secret.csv")
    (landing / "sales_inside.csv").symlink_to(landing / "sales.csv")

    files, skipped = landing_files(landing, ["sales", "exports"])

    assert [path.name for path in files["sales"]] == [
        "sales 2025 h2.csv", "sales.csv", "sales[1].csv", "sales_inside.csv", "sales_münchen.csv"
    ]  # fmt: skip
    assert [path.name for path in files["exports"]] == ["exports.csv"]
    reasons = {skip.path.name: skip.reason for skip in skipped}
    assert sorted(reasons) == ["Sales.csv", "sales.CSV", "sales_outside.csv", "salse.csv"]
    assert "outside the landing directory" in reasons["sales_outside.csv"]
    assert reasons["Sales.csv"] == reasons["sales.CSV"] == "not read: feed files are named sales*.csv, in lowercase"
    assert reasons["salse.csv"] == "not read: its name matches no feed (sales*.csv, exports*.csv)"


def test_a_symlink_loop_fails_naming_it(tmp_path):
    (tmp_path / "sales_a.csv").symlink_to(tmp_path / "sales_b.csv")
    (tmp_path / "sales_b.csv").symlink_to(tmp_path / "sales_a.csv")
    with pytest.raises(FeedFileError) as raised:
        landing_files(tmp_path, ["sales"])
    assert str(raised.value).startswith(f"{tmp_path / 'sales_a.csv'}: a symlink that leads to no file")


def test_a_record_is_read_whole_or_quarantined_with_its_text(con, tmp_path):
    """Empty extra fields (a spreadsheet's stray comma) would be dropped by DuckDB, shifting nothing
    back: a record of any other width than the header is quarantined, whatever its extras hold."""
    content = f'{HEADER}\n1,a,2024-01-01\n2,b,2024-01-02,,\n3,"c,d",2024-01-03\n4,,\n5,e,2024-01-05,\n6\n'
    result, kept, rejected = load(con, tmp_path, content)
    assert kept == [(2, 1, "a", "2024-01-01"), (4, 3, "c,d", "2024-01-03"), (5, 4, None, None)]
    assert rejected == [
        (3, "2,b,2024-01-02,,", ["the record has 5 fields, the header 3"]),
        (6, "5,e,2024-01-05,", ["the record has 4 fields, the header 3"]),
        (7, "6", ["the record has 1 fields, the header 3"]),
    ]
    assert (result.rows_loaded, result.rows_rejected) == (3, 3)


def test_a_very_wide_record_is_one_quarantined_row_with_one_message(con, tmp_path):
    wide = ",".join(["z"] * 50_000)
    _, kept, rejected = load(con, tmp_path, f"{HEADER}\n1,a,2024-01-01\n{wide}\n2,b,2024-01-02\n")
    assert [line for line, *_ in kept] == [2, 4]
    assert rejected == [(3, wide, ["the record has 50,000 fields, the header 3"])]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (f"{HEADER}\r1,a,2024-01-01\r", "line 1: a line ends with a carriage return alone (CR"),
        (f"{HEADER}\n1,a,2024-01-01\n2,b,2024-01-02\r3,c,2024-01-03\n", "line 3: a line ends with a carriage return alone"),
        (f"{HEADER}\n1,a,2024-01-01\r", "line 2: a line ends with a carriage return alone"),
    ],
)
def test_cr_only_line_endings_fail_naming_the_line(con, tmp_path, content, problem):
    with pytest.raises(FeedFileError) as raised:
        load(con, tmp_path, content)
    assert problem in str(raised.value)


def test_a_carriage_return_inside_quotes_is_data(con, tmp_path):
    _, kept, rejected = load(con, tmp_path, f'{HEADER}\r\n1,"a\rb",2024-01-01\r\n')
    assert (kept, rejected) == ([(2, 1, "a\rb", "2024-01-01")], [])


def test_a_record_over_the_readers_limit_fails_naming_its_line(con, tmp_path):
    from flows.stages.load import MAX_LINE_BYTES

    content = f"{HEADER}\n1,a,2024-01-01\n2,{'x' * (MAX_LINE_BYTES + 10)},2024-01-02\n".encode()
    with pytest.raises(FeedFileError) as raised:
        load(con, tmp_path, content)
    assert f"line 3: a record of {MAX_LINE_BYTES + 24:,} bytes, over the reader's limit of {MAX_LINE_BYTES:,}" in str(raised.value)


@pytest.mark.parametrize("name", ["feed[1].csv", "feed*.csv", "feed?.csv", "feed\\[x].csv", "feed'; drop.csv"])
def test_a_file_name_is_read_as_the_one_file_it_names(con, tmp_path, name):
    """DuckDB reads a path as a glob pattern: a name with [, *, ? or \\ must still read itself, not another file."""
    (tmp_path / "feed1.csv").write_text(f"{HEADER}\n9,other,2024-01-01\n")
    (tmp_path / "feedX.csv").write_text(f"{HEADER}\n9,other,2024-01-01\n")
    _, kept, _ = load(con, tmp_path, f"{HEADER}\n1,mine,2024-01-01\n", name=name)
    assert kept == [(2, 1, "mine", "2024-01-01")]
