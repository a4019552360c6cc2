"""The shipped seeds against what they claim: quotes from their articles, the reference rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import SEEDS, SOURCES

REFERENCE = SOURCES.parent / "reference" / "overseas_plant_milestones.csv"
QUOTED_FEEDS = ("sales", "exports", "plant_launches")

needs_shared = pytest.mark.skipif(
    not SOURCES.is_dir(), reason=f"the source articles (../shared) are not beside the repository: {SOURCES} is missing"
)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def documents() -> dict[str, str]:
    """source_id -> text of its article, for the sources that are documents."""
    return {
        row["source_id"]: (SOURCES / row["document"]).read_text(encoding="utf-8") for row in read(SEEDS / "sources.csv") if row["document"]
    }


@needs_shared
def test_every_document_source_is_an_article_on_disk():
    names = {row["document"] for row in read(SEEDS / "sources.csv") if row["document"]}
    assert names == {"chery-1.2-million-exports.txt", "chinese-nev-makers-localize-overseas.txt"}


@needs_shared
@pytest.mark.parametrize("feed", QUOTED_FEEDS)
def test_quotes_are_verbatim_excerpts_of_their_article(feed):
    texts = documents()
    quoted = [row for row in read(SEEDS / f"{feed}.csv") if row["source_id"] in texts]
    assert quoted, f"{feed} cites no article"
    for row in quoted:
        # A quote may join excerpts of one article with " … ".
        for excerpt in row["quote"].split(" … "):
            assert excerpt and excerpt in texts[row["source_id"]], (feed, row)


@needs_shared
def test_reference_rows_are_all_in_the_plant_feed():
    sources = {row["url"]: row["source_id"] for row in read(SEEDS / "sources.csv") if row["url"]}
    plants = {
        (r["group_name"], r["brand"], r["country"], r["site"], r["milestone"], r["milestone_date"], r["date_precision"], r["source_id"]): r
        for r in read(SEEDS / "plant_launches.csv")
    }
    for ref in read(REFERENCE):
        key = (
            ref["group_name"],
            ref["brand"],
            ref["country"],
            ref["site"],
            ref["milestone"],
            ref["milestone_date"],
            ref["date_precision"],
            sources[ref["source_url"]],
        )
        assert key in plants, ref
        row = plants[key]
        assert row["assembly_mode"] == (ref["assembly_mode"] or "unknown")
        assert (row["annual_capacity"], row["first_model"], row["note"]) == (ref["annual_capacity"], ref["first_model"], ref["note"])
        assert row["quote"] == ""


def test_article_figures_are_all_recorded():
    """The figures of the two articles that fit a feed (see the closing note of issue 2)."""
    figures = {
        (feed, r["entity"], r["powertrain"], r["period_end"], r["units"], r["reported_yoy_pct"])
        for feed in ("sales", "exports")
        for r in read(SEEDS / f"{feed}.csv")
    }
    assert figures == {
        ("sales", "Chery Group", "all", "2024-11-30", "2561465", "11.1"),
        ("sales", "Chery Group", "nev", "2024-11-30", "814685", "69.4"),
        ("sales", "Chery", "all", "2024-11-30", "1543069", ""),
        ("sales", "Jetour", "all", "2024-11-30", "573739", ""),
        ("sales", "Exeed", "all", "2024-11-30", "109466", ""),
        ("sales", "Luxeed", "all", "2024-11-30", "82348", ""),
        ("sales", "iCAR", "all", "2024-11-30", "90451", ""),
        ("sales", "China", "nev", "2025-06-30", "6900000", "40"),
        ("sales", "XPeng", "all", "2025-07-31", "800000", ""),
        ("exports", "Chery Group", "all", "2024-11-30", "1199590", "14.7"),
        ("exports", "Chery Group", "all", "2023-12-31", "937148", "101.1"),
        ("exports", "China", "all", "2023-12-31", "4910000", ""),
        ("exports", "China", "nev", "2025-06-30", "", "75.2"),
    }
