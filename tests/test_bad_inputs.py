"""The catalogue of bad inputs, through the real flow: a correct load, or a clear message naming the
file, the line and the rule; never a lost good row, never a touched published warehouse, never a
silently wrong value."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import query, sha256

SALES_HEADER = "entity,entity_type,powertrain,period_start,period_end,units,units_qualifier,reported_yoy_pct,source_id,quote"
PLANT_HEADER = (
    "group_name,brand,country,site,milestone,milestone_date,date_precision,assembly_mode,annual_capacity,first_model,source_id,quote,note"
)
URL_SOURCE = "ref_nikkei_gwm_thailand"  # a web page: its rows need no quote
DOCUMENT_SOURCE = "chery_1_2m_exports"  # an article: its rows are quoted


def figure(powertrain: str, units: str, start: str = "2024-01-01", end: str = "2024-11-30") -> str:
    return f"Chery Group,group,{powertrain},{start},{end},{units},exact,,{URL_SOURCE},"


def plant(site: str, note: str = "", milestone: str = "announced") -> str:
    return f"BYD,BYD,Thailand,{site},{milestone},2024-01-01,month,unknown,,,{URL_SOURCE},,{note}"


@pytest.fixture()
def previous(published, tmp_path) -> Path:
    """A published warehouse of the shipped seeds, which a bad run must leave as it is."""
    warehouse = tmp_path / "warehouse" / "outbound.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(published[0], warehouse)
    return warehouse


FILE_CASES = [
    (
        "missing column",
        "sales.csv",
        lambda text: text.replace(",quote\n", "\n", 1),
        "line 1: header does not match the feed: missing column(s) quote",
    ),
    (
        "extra column",
        "sales.csv",
        lambda text: text.replace(",quote\n", ",quote,comment\n", 1),
        "line 1: header does not match the feed: unexpected column(s) comment",
    ),
    (
        "renamed header",
        "exports.csv",
        lambda text: text.replace("units,", "volume,", 1),
        "line 1: header does not match the feed: missing column(s) units; unexpected column(s) volume",
    ),
    ("empty file", "brands.csv", lambda text: "", "is empty: expected a header line with the columns brand,group_name,positioning"),
]


@pytest.mark.parametrize(("case", "name", "damage", "message"), FILE_CASES, ids=[case[0] for case in FILE_CASES])
def test_unreadable_file_fails_and_publishes_nothing(outbound, landing, previous, case, name, damage, message):
    path = landing / name
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    before = sha256(previous)

    result = outbound("run", "--landing", str(landing), "--warehouse", str(previous))

    assert result.returncode == 1
    assert f"error: {path}: {message}" in result.stderr
    assert sha256(previous) == before
    assert query(previous, "select count(*) from marts.brand_mix") == [(10,)]


def test_non_utf8_bytes_fail_naming_the_line(outbound, landing, previous):
    path = landing / "plant_launches.csv"
    path.write_bytes(path.read_bytes() + plant("Chonburi", note="caf").encode() + b"\xe9\n")
    before = sha256(previous)

    result = outbound("run", "--landing", str(landing), "--warehouse", str(previous))

    assert result.returncode == 1
    assert f"error: {path}: line 32: not valid UTF-8" in result.stderr
    assert sha256(previous) == before


def write(path: Path, header: str, *rows: str, newline: str = "\n", bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + newline.join([header, *rows, ""]).encode("utf-8"))
    return path


def test_bad_rows_are_quarantined_and_good_rows_kept(outbound, landing, tmp_path):
    """Every row-level case in one landing set, in one run. (It is also tests/test_flow.py's bad-rows test,
    test_bad_rows_are_quarantined_and_good_rows_published, whose run this one was a superset of: its
    negative units and impossible date are lines 14 and 13 here, and this run takes its warehouse from
    OUTBOUND_WAREHOUSE as that one did.)"""
    sales = landing / "sales.csv"
    sales.write_text(
        sales.read_text(encoding="utf-8")
        + "\n".join(
            [
                figure("bev", "many"),  # line 11: wrong type
                figure("phev", "5", start="2024-13-01"),  # line 12: bad date
                figure("erev", "5", start="2024-02-30"),  # line 13: impossible date
                figure("ice", "-5"),  # line 14: negative units
                figure("bev", "8", end="2024-06-30"),  # line 15: duplicate key within the file (line 16)
                figure("bev", "9", end="2024-06-30"),  # line 16
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    # Duplicate key across files: the XPeng figure of sales.csv line 10, again.
    across = write(landing / "sales_copy.csv", SALES_HEADER, sales.read_text(encoding="utf-8").splitlines()[9])
    header_only = write(landing / "exports_none.csv", SALES_HEADER)
    bom = write(landing / "countries_bom.csv", "country,iso2,region", "Vietnam,VN,South-eastern Asia", bom=True)
    crlf = write(landing / "brands_crlf.csv", "brand,group_name,positioning", "Zeekr,Geely,premium NEV", newline="\r\n")
    spaced = write(landing / "sales 2025 Ü.csv", SALES_HEADER, figure("phev", '"1,234,567"'))  # thousands separators
    write(
        landing / "plant_launches_extra.csv",
        PLANT_HEADER,
        plant("Big field", note="x" * 10_000_000),  # line 2: a 10 MB field
        plant("Formula", note='"=HYPERLINK(""http://example.invalid"",""click"")"'),  # line 3
        plant("Unclosed", note='"never closed') + "\n" + plant("Swallowed"),  # lines 4-5: unclosed quote
    )
    # The quote rule reads whole tokens with their sign (schemas/quotes.py): a figure that is part
    # of a longer number, a rate of the wrong sign, or a rounding is no figure of the quote.
    quoted = write(
        landing / "sales_quotes.csv",
        SALES_HEADER,
        f'Chery,brand,all,2024-01-01,2024-10-31,543069,exact,,{DOCUMENT_SOURCE},"sales of 1,543,069 units"',  # line 2
        f'Chery,brand,nev,2024-01-01,2024-10-31,,,1.1,{DOCUMENT_SOURCE},"an 11.1% increase"',  # line 3
        f'Chery,brand,bev,2024-01-01,2024-10-31,,,-11.1,{DOCUMENT_SOURCE},"an 11.1% increase"',  # line 4
        f'Chery,brand,phev,2024-01-01,2024-10-31,,,-11.1,{DOCUMENT_SOURCE},"sales fell 11.1% from a year earlier"',  # line 5: kept
        f'Chery,brand,ice,2024-01-01,2024-10-31,4900000,approx,,{DOCUMENT_SOURCE},"a record 4.91 million vehicles"',  # line 6
        f'Chery,brand,erev,2024-01-01,2024-10-31,4910000,approx,,{DOCUMENT_SOURCE},"a record 4.91 million vehicles"',  # line 7: kept
    )
    outside = write(tmp_path / "outside.csv", SALES_HEADER, figure("phev", "1", end="2024-10-31"))
    (landing / "sales_link.csv").symlink_to(outside)
    warehouse = tmp_path / "warehouse" / "outbound.duckdb"

    result = outbound("run", "--landing", str(landing), env={"OUTBOUND_WAREHOUSE": str(warehouse)})  # not --warehouse

    assert result.returncode == 0, result.output
    assert f"{landing / 'sales_link.csv'}: skipped: a symlink to {outside}, outside the landing directory" in result.stdout
    rejected = {
        (Path(file).name, line): (stage, rules, values)
        for file, line, stage, rules, values in query(
            warehouse,
            "select source_file, line, stage, failed_rules, coalesce(raw_record, raw_values::varchar) from quarantine.rejected_rows",
        )
    }
    expected_rules = {
        ("sales.csv", 11): "units: 'many' is not a whole number",
        ("sales.csv", 12): "period_start: '2024-13-01' is not a date written YYYY-MM-DD, between 1900 and 2199",
        ("sales.csv", 13): "period_start: '2024-02-30' is not a date written YYYY-MM-DD, between 1900 and 2199",
        ("sales.csv", 14): "units: greater_than_or_equal_to(0) (value -5)",
        (
            "sales.csv",
            15,
        ): f"duplicate key (entity, entity_type, powertrain, period_start, period_end, source_id): the same key is on {sales}:16",
        ("sales.csv", 16): f"the same key is on {sales}:15",
        ("sales.csv", 10): f"the same key is on {across}:2",
        ("sales_copy.csv", 2): f"the same key is on {sales}:10",
        ("plant_launches_extra.csv", 4): "unterminated quote",
        ("sales_quotes.csv", 2): "quote must contain units as a whole number",
        ("sales_quotes.csv", 3): "quote must contain reported_yoy_pct as a whole percentage with its sign",
        ("sales_quotes.csv", 4): "quote must contain reported_yoy_pct as a whole percentage with its sign",
        ("sales_quotes.csv", 6): "quote must contain units as a whole number",
    }
    assert set(rejected) == set(expected_rules)
    for place, rule in expected_rules.items():
        assert any(rule in text for text in rejected[place][1]), (place, rejected[place][1])
        assert f"{place[0]}:{place[1]}: " in result.stdout  # listed in the run's warning
    assert "Swallowed" in rejected[("plant_launches_extra.csv", 4)][2]  # the swallowed line is kept in the record
    assert json.loads(rejected[("sales.csv", 11)][2])["units"] == "many"  # raw values, as written
    # The run's warning names the file, the line and the rule in full.
    assert f"{sales}:14: units: greater_than_or_equal_to(0) (value -5)" in result.stdout
    assert f"{sales}:13: period_start: '2024-02-30' is not a date written YYYY-MM-DD, between 1900 and 2199" in result.stdout
    # A row that loads but breaks a rule is rejected at validate with its values as read; one that does not load, at load.
    negative, impossible_date = query(
        warehouse,
        "select line, stage, raw_values, failed_rules from quarantine.rejected_rows "
        "where source_file = ? and line in (13, 14) order by line desc",
        [str(sales)],
    )
    assert negative[0] == 14 and negative[1] == "validate" and json.loads(negative[2])["units"] == -5
    assert negative[3] == ["units: greater_than_or_equal_to(0) (value -5)"]
    assert impossible_date[0] == 13 and impossible_date[1] == "load" and json.loads(impossible_date[2])["period_start"] == "2024-02-30"

    # Correct loads.
    assert query(warehouse, "select count(*) from raw.exports where _file = ?", [str(header_only)]) == [(0,)]
    assert query(warehouse, "select iso2 from raw.countries where _file = ?", [str(bom)]) == [("VN",)]
    assert query(warehouse, "select brand, group_name, positioning from raw.brands where _file = ?", [str(crlf)]) == [
        ("Zeekr", "Geely", "premium NEV")
    ]
    assert query(warehouse, "select units from raw.sales where _file = ?", [str(spaced)]) == [(1_234_567,)]
    assert query(warehouse, "select powertrain, units, reported_yoy_pct from raw.sales where _file = ? order by _line", [str(quoted)]) == [
        ("phev", None, -11.1),
        ("erev", 4_910_000, None),
    ]
    notes = dict(query(warehouse, "select site, note from raw.plant_launches where site in ('Big field', 'Formula')"))
    assert len(notes["Big field"]) == 10_000_000
    assert notes["Formula"] == '=HYPERLINK("http://example.invalid","click")'
    assert query(warehouse, "select count(*) from loaded.sales where _file = ?", [str(landing / "sales_link.csv")]) == [(0,)]

    # The good rows are all there: the shipped seeds' marts are intact.
    assert query(warehouse, "select units from marts.brand_mix where segment = 'Not broken out'") == [(162_392,)]
    assert query(warehouse, "select share_of_group from marts.brand_mix where segment = 'Chery' and mix_dimension = 'brand'") == [
        (pytest.approx(1_543_069 / 2_561_465),)
    ]
    # BYD's 10 milestones of the seeds, and the two new sites' announcements.
    assert query(warehouse, "select count(*) from marts.localization_timeline where group_name = 'BYD'") == [(12,)]
