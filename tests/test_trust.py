"""Trusting the numbers: lineage from every mart row to its quotes, and the contradictions the
shipped sources really contain."""

from __future__ import annotations

import re

import pytest

MARTS = ["brand_mix", "growth_rates", "localization_timeline", "localization_summary", "data_quality_findings"]


@pytest.mark.parametrize("mart", MARTS)
def test_every_mart_row_cites_its_sources(warehouse_sql, mart):
    rows = warehouse_sql(f"select source_ids, figure_refs from marts.{mart}")
    assert rows
    known = {source_id for (source_id,) in warehouse_sql("select source_id from raw.sources")}
    figures = {ref for (ref,) in warehouse_sql("select figure_ref from intermediate.int_figures")}
    for source_ids, figure_refs in rows:
        assert source_ids and set(source_ids) <= known
        assert figure_refs and set(figure_refs) <= figures


def test_a_share_cites_the_brand_and_the_group_total(warehouse_sql):
    [(refs,)] = warehouse_sql("select figure_refs from marts.brand_mix where segment = 'Chery'")
    lines = sorted(int(ref.rsplit(":", 1)[1]) for ref in refs)
    assert lines == [2, 4]  # sales.csv: the Chery Group total (line 2) and the Chery brand (line 4)


def test_findings_on_the_shipped_sources(warehouse_sql, published):
    findings = warehouse_sql(
        "select check_name, severity, entity, period_start::varchar, period_end::varchar, details, source_ids "
        "from marts.data_quality_findings order by check_name"
    )
    assert [(check, severity, entity) for check, severity, entity, *_ in findings] == [
        ("implied_prior_contradiction", "warning", "Chery Group"),
        ("non_comparable_growth", "info", "Chery Group"),
    ]
    implied = findings[0]
    assert ("1,045,850" in implied[5] or "1045850" in implied[5]) and ("937,148" in implied[5] or "937148" in implied[5])
    assert implied[6] == ["chery_1_2m_exports"]
    # The run says so too.
    assert "data-quality findings (2" in published[1].stdout
    assert "implied_prior_contradiction: Chery Group" in published[1].stdout


def test_explain_prints_figures_with_their_sources(outbound, published):
    result = outbound("explain", "brand_mix", "--where", "segment = 'Chery'", "--warehouse", str(published[0]))
    assert result.returncode == 0, result.output
    out = result.stdout
    assert out.startswith("1. group_name=Chery Group")
    # Figures as people write them: thousands separated, a share in percent.
    assert "units=1,543,069, share_of_group=60.2%, group_units=2,561,465" in out
    assert "computed from 2 figure(s)" in out
    assert 'quote: "The main brand, with 1-11 month sales of 1,543,069 units"' in out
    assert 'quote: "cumulative total vehicle sales reached 2,561,465 units, an 11.1% increase year-over-year"' in out
    assert "The 1.2 Million Car Warning" in out


def test_explain_prints_growth_as_people_write_it(outbound, published):
    where = "entity = 'Chery Group' and metric = 'exports'"
    result = outbound("explain", "growth_rates", "--where", where, "--warehouse", str(published[0]))
    assert result.returncode == 0, result.output
    assert "units=1,199,590, reported_yoy_pct=+14.7%, implied_prior_units=1,045,850" in result.stdout
    assert "prior_units=937,148, computed_yoy_pct=+28.0%" in result.stdout
    assert "e+0" not in result.stdout and not re.search(r"\d\.\d{4,}", result.stdout)


def test_explain_a_plant_milestone_shows_its_page(outbound, published):
    result = outbound(
        "explain", "localization_timeline", "--where", "group_name = 'BYD' and country = 'Uzbekistan'", "--warehouse", str(published[0])
    )
    assert result.returncode == 0, result.output
    assert "address: https://president.uz/en/lists/view/7389" in result.stdout
    assert result.stdout.count("computed from") == 3


def test_explain_refuses_an_unknown_mart_and_bad_sql(outbound, published):
    unknown = outbound("explain", "no_such_mart", "--warehouse", str(published[0]))
    assert unknown.returncode == 1 and "no mart 'no_such_mart'; the marts are: brand_mix" in unknown.stderr
    bad = outbound("explain", "brand_mix", "--where", "segmnt = 1", "--warehouse", str(published[0]))
    assert bad.returncode == 1 and "--where 'segmnt = 1'" in bad.stderr and "segmnt" in bad.stderr
    # The condition runs on a read-only connection with no file access.
    sneaky = outbound("explain", "brand_mix", "--where", "exists (from read_text('/etc/hostname'))", "--warehouse", str(published[0]))
    assert sneaky.returncode == 1 and "/etc/hostname" in sneaky.stderr
