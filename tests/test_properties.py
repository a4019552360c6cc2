"""Property-based tests of the loader and the sales contract, on real CSV files and real DuckDB.

Generated valid rows always load and come back exactly as written; a valid row with one field
broken is always rejected, by a rule that names that field.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.stages import quarantine
from flows.stages.load import create_tables, load_file
from flows.stages.validate import validate_feed
from schemas import SalesModel
from schemas.figures import ENTITY_TYPES, POWERTRAINS, UNITS_QUALIFIERS
from schemas.references import ReferenceData
from tests.conftest import create_reference_tables

COLUMNS = SalesModel.csv_columns()
ENTITIES = {"brand": ["Chery", "Jetour"], "group": ["Chery Group"], "country": ["China", "Thailand"]}
REFS = ReferenceData(
    source_ids=frozenset({"page_a", "page_b"}),
    countries=frozenset(ENTITIES["country"]),
    brand_groups={"Chery": "Chery Group", "Jetour": "Chery Group"},
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Free text as a source might write it: any printable characters, commas, quotes and line breaks.
free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters='\n\r,"'), min_size=1, max_size=40)
dates = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date.today())


@st.composite
def sales_rows(draw) -> dict:
    entity_type = draw(st.sampled_from(ENTITY_TYPES))
    start, end = sorted([draw(dates), draw(dates)])
    units = draw(st.none() | st.integers(0, 10**9))
    yoy = draw(
        st.floats(-99.9, 1000, allow_nan=False).map(lambda x: round(x, 1))
        if units is None
        else st.none() | st.floats(-99.9, 1000).map(lambda x: round(x, 1))
    )
    return {
        "entity": draw(st.sampled_from(ENTITIES[entity_type])),
        "entity_type": entity_type,
        "powertrain": draw(st.sampled_from(POWERTRAINS)),
        "period_start": draw(st.none() | st.just(start)),
        "period_end": end,
        "units": units,
        "units_qualifier": None if units is None else draw(st.sampled_from(UNITS_QUALIFIERS)),
        "reported_yoy_pct": yoy,
        "source_id": draw(st.sampled_from(["page_a", "page_b"])),
        "quote": draw(
            st.none()
            | free_text.map(lambda text: text + (f" {units:,}" if units is not None else "") + (f" {yoy:+g}%" if yoy is not None else ""))
        ),
    }


def key(row: dict) -> tuple:
    return tuple(row[name] for name in ("entity", "entity_type", "powertrain", "period_start", "period_end", "source_id"))


def as_text(value: object) -> str:
    return "" if value is None else str(value)


def load_and_validate(rows: list[dict], raw: list[list[str]] | None = None):
    """Write rows as a sales CSV, load and validate it; the loaded rows and the quarantine."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sales.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(raw if raw is not None else [[as_text(row[name]) for name in COLUMNS] for row in rows])
        with duckdb.connect() as con:
            quarantine.create(con)
            create_tables(con, "sales", COLUMNS)
            create_reference_tables(con, REFS)
            load_file(con, "sales", path, COLUMNS, "run")
            validate_feed(con, "sales", "run")
            valid = con.execute(f"select {', '.join(COLUMNS)} from raw.sales order by _line").fetchall()
            rejected = con.execute("select line, failed_rules from quarantine.rejected_rows order by line").fetchall()
    return valid, rejected


@SETTINGS
@given(st.lists(sales_rows(), min_size=1, max_size=8, unique_by=key))
def test_valid_rows_load_and_round_trip(rows):
    valid, rejected = load_and_validate(rows)
    assert rejected == []
    assert valid == [tuple(row[name] for name in COLUMNS) for row in rows]


BREAKAGES = {
    "entity": ["Nobody Motors"],
    "entity_type": ["company", "Brand"],
    "powertrain": ["hybrid", "NEV"],
    "period_end": ["2024-02-30", "2024/01/31", "soon", "2999-01-01"],
    "units": ["-1", "1.5", "12,34", "many"],
    "units_qualifier": ["about"],
    "reported_yoy_pct": ["-100", "1001", "11.1%", "abc"],
    "source_id": ["unknown_source"],
}


@SETTINGS
@given(sales_rows(), st.sampled_from(sorted(BREAKAGES)), st.data())
def test_one_broken_field_is_rejected_naming_it(row, field, data):
    broken = [as_text(row[name]) for name in COLUMNS]
    broken[list(COLUMNS).index(field)] = data.draw(st.sampled_from(BREAKAGES[field]))
    valid, rejected = load_and_validate([], raw=[broken])
    assert valid == []
    [(line, rules)] = rejected
    assert line == 2
    assert any(rule.startswith((f"{field}:", f"{field} must")) for rule in rules), rules


# Landing files with random trouble: records of the wrong width (empty extras too), quotes, line
# breaks inside fields, either line ending, and file names that look like glob patterns.
TEXT_COLUMNS = {"a": "VARCHAR", "b": "VARCHAR", "c": "VARCHAR"}
field_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=12)
odd_names = st.sampled_from(["feed.csv", "feed[1].csv", "feed*.csv", "feed?.csv", "feed {x}.csv", "feed\\y.csv", "fe'ed.csv"])


@st.composite
def trouble_records(draw) -> list[list[str]]:
    records = []
    for _ in range(draw(st.integers(1, 8))):
        width = draw(st.sampled_from([3, 3, 3, 1, 2, 4, 5]))
        fields = [draw(field_text) for _ in range(width)]
        if width == 1 and fields == [""]:
            fields = ["x"]  # a lone empty field would be an empty line, which is no record
        if width == 3 and draw(st.booleans()):
            fields += [""] * draw(st.integers(1, 3))  # what a spreadsheet writes after a stray comma
        records.append(fields)
    return records


@SETTINGS
@given(trouble_records(), st.sampled_from(["\n", "\r\n"]), odd_names)
def test_every_record_is_loaded_with_its_own_values_or_quarantined(records, newline, name):
    """The invariant: every record is loaded with exactly its own values, or quarantined with a
    reason and its line; none is shifted, merged or lost."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        Path(folder, "feed1.csv").write_text("a,b,c\nnot,this,file\n")  # what feed[1].csv would match as a pattern
        expected_loaded, expected_rejected, line = [], [], 2
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator=newline)
            writer.writerow(list(TEXT_COLUMNS))
            for fields in records:
                if len(fields) == 3:
                    expected_loaded.append((line, *(value if value != "" else None for value in fields)))
                else:
                    expected_rejected.append(line)
                writer.writerow(fields)
                line += sum(value.count("\n") for value in fields) + 1
        with duckdb.connect() as con:
            quarantine.create(con)
            create_tables(con, "feed", TEXT_COLUMNS)
            result = load_file(con, "feed", path, TEXT_COLUMNS, "run")
            loaded = con.execute("select _line, a, b, c from loaded.feed order by _line").fetchall()
            rejected = con.execute("select line, failed_rules from quarantine.rejected_rows order by line").fetchall()
    # DuckDB reads an empty quoted field as an empty string: only its absence of a value matters here.
    assert [(line, *(value or None for value in values)) for line, *values in loaded] == expected_loaded
    assert [line for line, _ in rejected] == expected_rejected
    assert all(rules for _, rules in rejected)
    assert (result.rows_loaded, result.rows_rejected) == (len(expected_loaded), len(expected_rejected))
