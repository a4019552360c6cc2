"""Each rule of the feed contracts (schemas/), shown rejecting a minimal bad row."""

from __future__ import annotations

import duckdb
import pandas as pd
import pandera.errors
import pytest

from flows.stages import quarantine
from flows.stages.load import create_tables
from flows.stages.validate import validate_feed
from schemas import FEEDS, ReferenceData
from tests.conftest import create_reference_tables

REFS = ReferenceData(
    source_ids=frozenset({"article", "page"}),
    document_source_ids=frozenset({"article"}),
    countries=frozenset({"China", "Thailand"}),
    brand_groups={"Chery": "Chery Group", "BYD": "BYD"},
)

GOOD = {
    "sources": {"source_id": "article", "title": "A title", "publisher": None, "published_on": None, "document": "a.txt", "url": None},
    "countries": {"country": "Thailand", "iso2": "TH", "region": "South-eastern Asia"},
    "brands": {"brand": "Chery", "group_name": "Chery Group", "positioning": "core volume"},
    "sales": {
        "entity": "Chery Group",
        "entity_type": "group",
        "powertrain": "all",
        "period_start": "2024-01-01",
        "period_end": "2024-11-30",
        "units": 2_561_465,
        "units_qualifier": "exact",
        "reported_yoy_pct": 11.1,
        "source_id": "article",
        "quote": "sales reached 2,561,465 units, an 11.1% increase",
    },
    "plant_launches": {
        "group_name": "BYD",
        "brand": "BYD",
        "country": "Thailand",
        "site": "Rayong",
        "milestone": "inauguration",
        "milestone_date": "2024-07-04",
        "date_precision": "day",
        "assembly_mode": "full",
        "annual_capacity": 150_000,
        "first_model": None,
        "source_id": "article",
        "quote": "a capacity of 150,000 vehicles",
        "note": None,
    },
}
GOOD["exports"] = GOOD["sales"]


_UNIQUENESS = {"field_uniqueness", "multiple_fields_uniqueness"}


def failed_checks(feed: str, *rows: dict) -> set[str]:
    """Validate rows with the model plus its cross-feed rules; the names of failed checks.

    The same rows are also validated as the flow does it, by the model's rules compiled to SQL in
    DuckDB, and both must agree: every check pandera reports is in the rules the SQL quarantines,
    and nothing else is.
    """
    frame = pd.DataFrame(list(rows), columns=list(FEEDS[feed].csv_columns()))
    try:
        FEEDS[feed].schema_with_references(REFS).validate(frame, lazy=True)
        failed = set()
    except pandera.errors.SchemaErrors as errors:
        failed = {str(check) for check in errors.failure_cases["check"]}
    quarantined = sql_failed_rules(feed, frame)
    for check in failed:
        wording = "duplicate key" if check in _UNIQUENESS else check
        assert any(wording in rule for rule in quarantined), (check, quarantined)
    for rule in quarantined:
        assert any(check in rule for check in failed - _UNIQUENESS) or (rule.startswith("duplicate key") and failed & _UNIQUENESS), (
            rule,
            failed,
        )
    return failed


def sql_failed_rules(feed: str, frame: pd.DataFrame) -> set[str]:
    """The rules the flow's validation (SQL in DuckDB) quarantines `frame`'s rows for."""
    with duckdb.connect() as con:
        quarantine.create(con)
        create_tables(con, feed, FEEDS[feed].csv_columns())
        create_reference_tables(con, REFS, but=feed)
        con.register("rows_frame", frame)
        con.execute(f"insert into loaded.{feed} select *, 'rows.csv', row_number() over () + 1 from rows_frame")
        validate_feed(con, feed, "test")
        return {rule for (rules,) in con.execute("select failed_rules from quarantine.rejected_rows").fetchall() for rule in rules}


@pytest.mark.parametrize("feed", list(GOOD))
def test_good_row_passes(feed):
    assert failed_checks(feed, GOOD[feed]) == set()


CASES = [
    # feed, changes to the good row, a phrase of the failed rule
    ("sources", {"source_id": "Has Spaces"}, "str_matches"),
    ("sources", {"document": None, "url": None}, "a source needs a document or a url"),
    ("sources", {"title": None}, "a document source needs a title"),
    ("sources", {"document": None, "url": "ftp://x"}, "str_matches"),
    ("countries", {"iso2": "tha"}, "str_matches"),
    ("countries", {"region": ""}, "str_length"),
    ("brands", {"group_name": None}, "not_nullable"),
    ("sales", {"entity_type": "company"}, "isin"),
    ("sales", {"powertrain": "hybrid"}, "isin"),
    ("sales", {"units": -1, "quote": "-1 units, 11.1%"}, "greater_than_or_equal_to(0)"),
    ("sales", {"units_qualifier": "roughly"}, "isin"),
    ("sales", {"reported_yoy_pct": -150.0, "quote": "2,561,465 units, down 150%"}, "greater_than(-100)"),
    ("sales", {"reported_yoy_pct": 5000.0, "quote": "2,561,465 units, up 5000%"}, "less_than_or_equal_to(1000)"),
    ("sales", {"period_start": "2024-12-01"}, "period_end must not be before period_start"),
    ("sales", {"period_start": "1900-01-01"}, "greater_than_or_equal_to"),
    ("sales", {"period_end": "2199-12-31"}, "period_end must not be after today"),
    ("sales", {"units": None, "units_qualifier": None, "reported_yoy_pct": None}, "a row needs units or reported_yoy_pct"),
    ("sales", {"units_qualifier": None}, "units_qualifier is required with units"),
    ("sales", {"quote": "sales reached 2.5 million units, an 11.1% increase"}, "quote must contain units"),
    ("sales", {"quote": "sales reached 2,561,465 units"}, "quote must contain reported_yoy_pct"),
    ("sales", {"quote": "sales reached 12,561,465 units, an 11.1% increase"}, "quote must contain units"),
    ("sales", {"reported_yoy_pct": 1.1}, "quote must contain reported_yoy_pct"),
    ("sales", {"reported_yoy_pct": -11.1}, "quote must contain reported_yoy_pct"),
    ("sales", {"source_id": "unknown"}, "source_id must name a row of the sources feed"),
    ("sales", {"quote": None}, "quote is required when the source is a document"),
    ("sales", {"entity": "Nobody Group"}, "entity must be a known brand"),
    ("sales", {"entity": "Chery", "entity_type": "country"}, "entity must be a known brand"),
    ("exports", {"units": -1, "quote": "-1 units, 11.1%"}, "greater_than_or_equal_to(0)"),
    ("plant_launches", {"milestone": "opened"}, "isin"),
    ("plant_launches", {"date_precision": "week"}, "isin"),
    ("plant_launches", {"assembly_mode": "DKD"}, "isin"),
    ("plant_launches", {"annual_capacity": 0, "quote": "0"}, "greater_than(0)"),
    ("plant_launches", {"date_precision": "month"}, "a month-precise date must be the 1st"),
    ("plant_launches", {"milestone_date": "2024-03-01", "date_precision": "year"}, "a month-precise date must be the 1st"),
    ("plant_launches", {"milestone_date": "2199-01-01"}, "milestone_date must not be after today"),
    ("plant_launches", {"quote": "a capacity of 100,000 vehicles"}, "quote must contain annual_capacity"),
    ("plant_launches", {"brand": "Chery"}, "brand must be a known brand (brands.brand) whose group is group_name"),
    ("plant_launches", {"country": "Atlantis"}, "country must be a known country"),
    ("plant_launches", {"site": ""}, "str_length"),
    # Keys are not typos: each breaks key_text, the one rule every key column is held to.
    ("brands", {"brand": "Chery "}, "key_text"),
    ("brands", {"group_name": "\u0421hery Group"}, "key_text"),  # a Cyrillic С
    ("countries", {"country": "Tha\u200biland"}, "key_text"),  # a zero-width space
    ("sales", {"entity": " Chery Group"}, "key_text"),
    ("sales", {"entity": "Chery\tGroup"}, "key_text"),
    ("exports", {"entity": "Chery Gr\u03bfup"}, "key_text"),  # a Greek ο
    ("plant_launches", {"site": "Ray\u043eng"}, "key_text"),  # a Cyrillic о
    ("plant_launches", {"country": "Thailand\u00a0"}, "key_text"),  # a no-break space
]


@pytest.mark.parametrize(("feed", "changes", "rule"), CASES, ids=[f"{c[0]}-{c[2][:40]}" for c in CASES])
def test_rule_rejects_minimal_bad_row(feed, changes, rule):
    failed = failed_checks(feed, {**GOOD[feed], **changes})
    assert any(rule in check for check in failed), failed


@pytest.mark.parametrize(
    ("feed", "key_change"),
    [
        ("sources", {"title": "Another title"}),
        ("countries", {"region": "Elsewhere"}),
        ("brands", {"positioning": "other"}),
        ("sales", {"quote": "reached 2,561,465 units, up 11.1%"}),
        ("plant_launches", {"note": "again"}),
    ],
)
def test_duplicate_keys_are_rejected(feed, key_change):
    failed = failed_checks(feed, GOOD[feed], {**GOOD[feed], **key_change})
    assert failed & {"field_uniqueness", "multiple_fields_uniqueness"}, failed


def test_same_figure_from_two_sources_is_not_a_duplicate():
    assert failed_checks("sales", GOOD["sales"], {**GOOD["sales"], "source_id": "page"}) == set()


@pytest.mark.parametrize(
    ("units", "quote"),
    [(4_910_000, "hitting a record 4.91 million vehicles"), (800_000, "exceeding 800,000 units"), (6_900_000, "surpassed 6.9 million")],
)
def test_quote_may_write_units_in_words(units, quote):
    row = {**GOOD["sales"], "units": units, "units_qualifier": "approx", "reported_yoy_pct": None, "quote": quote}
    assert failed_checks("sales", row) == set()


@pytest.mark.parametrize(
    "site", ["Camaçari", "Camac\u0327ari", "Rayong 2", "Ho Chi Minh City", "São Paulo", "Zhengzhou-Rayong", "比亚迪 Rayong"]
)
def test_keys_in_one_script_per_word_pass(site):
    assert failed_checks("plant_launches", {**GOOD["plant_launches"], "site": site}) == set()
