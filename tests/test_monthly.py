"""Truth in the figures (issue 20), through the real flow on a small landing set of its own
(tests/fixtures/monthly_landing: one real article's figures and a SYNTHETIC source's):

- a month derived from two year-to-date figures (Jan-Nov less Jan-Oct), with its growth over the
  same month a year earlier and every figure behind it, quotes included (`outbound explain`);
- a falling year-to-date total: flagged (nested_period_exceeds), and no negative month published;
- an approximate report ("nearly 1.2 million") that no longer conflicts with the exact 1,199,590;
- single months above their year-to-date total, and a reported month the year-to-date figures
  contradict: both findings, and the run still publishes;
- the report's monthly chart, drawn when there are monthly figures and explained when there are none.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import query

# The fixture `monthly` (tests/conftest.py): the landing set published, shared with tests/test_baseline.py.


def test_a_month_is_derived_from_two_year_to_date_figures(monthly, outbound):
    _, warehouse, _ = monthly
    rows = query(
        warehouse,
        "select month, units, units_qualifier, derivation, prior_year_units, yoy_pct, source_ids, figure_refs "
        "from marts.monthly_figures where entity = 'Chery Group' and metric = 'exports' order by month",
    )
    assert rows == [
        (dt.date(2023, 11, 1), 90_000, "exact", "reported", None, None, ["synthetic_monthly_fixture"], ["exports:exports.csv:5"]),
        (
            dt.date(2024, 11, 1),
            1_199_590 - 1_085_172,
            "exact",
            "derived",
            90_000,
            pytest.approx((114_418 / 90_000 - 1) * 100),
            ["chery_1_2m_exports", "synthetic_monthly_fixture"],
            ["exports:exports.csv:2", "exports:exports.csv:4", "exports:exports.csv:5"],
        ),
    ]

    explained = outbound("explain", "monthly_figures", "--warehouse", str(warehouse), "--where", "derivation = 'derived'")
    assert explained.returncode == 0, explained.output
    assert "derivation=derived" in explained.stdout and "computed from 3 figure(s)" in explained.stdout
    assert 'quote: "cumulative automotive exports breached the million-unit threshold to reach 1,199,590 units' in explained.stdout
    assert 'quote: "exports of 1,085,172 from January to October"' in explained.stdout
    assert "row: exports:exports.csv:4" in explained.stdout  # the figure's landing file, by its name in the landing folder


def test_a_falling_year_to_date_total_is_flagged_and_derives_no_month(monthly):
    _, warehouse, printed = monthly
    assert query(warehouse, "select count(*) from marts.monthly_figures where entity = 'Jetour'") == [(0,)]
    [(details,)] = query(
        warehouse, "select details from marts.data_quality_findings where check_name = 'nested_period_exceeds' and entity = 'Jetour'"
    )
    assert details.startswith(
        "Jetour sales (all powertrains) of 400,000 for 2024-01-01 to 2024-08-31 are 10,000 more than the 390,000 "
        "reported for 2024-01-01 to 2024-09-30"
    )
    assert "[warning] nested_period_exceeds: Jetour" in printed


def test_an_approximate_report_that_can_agree_does_not_conflict(monthly):
    _, warehouse, _ = monthly
    # "nearly 1.2 million" is written to the hundred thousand: 1,150,000 to 1,250,000, which holds 1,199,590.
    assert query(warehouse, "select units_step from raw.exports_units_steps") == [(100_000,)]
    assert query(
        warehouse, "select count(*) from marts.data_quality_findings where check_name = 'conflicting_reports' and entity = 'Chery Group'"
    ) == [(0,)]


def test_months_above_their_year_to_date_total_are_flagged_and_published(monthly):
    """Chery's January (100,000) and February (120,000) against Jan-Feb 210,000: the months add up to
    more, and February derived from the year-to-date figures (110,000) is not the 120,000 reported.
    Both are findings (warnings): the run publishes, keeping the reported February."""
    _, warehouse, printed = monthly
    sql = "select check_name, details from marts.data_quality_findings where entity = 'Chery' and severity = 'warning'"
    findings = dict(query(warehouse, sql))
    assert findings == {
        "months_exceed_year_to_date": "Chery sales (all powertrains): the 2 single month(s) reported for 2024-01-01 to 2024-02-29 "
        "add up to 220,000, 10,000 more than the 210,000 reported for the year to date (sources: synthetic_monthly_fixture).",
        "conflicting_reports": "Chery sales (all powertrains) for 2024-02-01 to 2024-02-29: synthetic_monthly_fixture reports 120,000 "
        "units for the month, but the year-to-date figures give 110,000 (210,000 up to 2024-02-29 less 100,000 up to 2024-01-31, "
        "synthetic_monthly_fixture), 10,000 units apart.",
    }
    assert query(warehouse, "select month, units, derivation from marts.monthly_figures where entity = 'Chery' order by month") == [
        (dt.date(2024, 1, 1), 100_000, "reported"),
        (dt.date(2024, 2, 1), 120_000, "reported"),
    ]
    assert "[warning] months_exceed_year_to_date: Chery" in printed


def test_report_draws_monthly_figures_or_says_there_are_none(monthly, published, outbound, tmp_path):
    _, warehouse, _ = monthly
    drawn, seeds = tmp_path / "monthly.html", tmp_path / "seeds.html"
    assert outbound("report", "--warehouse", str(warehouse), "--out", str(drawn)).returncode == 0
    assert outbound("report", "--warehouse", str(published[0]), "--out", str(seeds)).returncode == 0
    page = drawn.read_text(encoding="utf-8")
    assert 'id="monthly-figures"' in page and "No monthly figures" not in page
    page = seeds.read_text(encoding="utf-8")
    assert 'id="monthly-figures"' not in page and "No monthly figures in this warehouse" in page
    # On the shipped seeds the mart is there, and empty: they report no single months.
    assert query(published[0], "select count(*) from marts.monthly_figures") == [(0,)]
