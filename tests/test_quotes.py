"""The quote tokenizer (schemas/quotes.py): whole number tokens, percentages with their sign, written precision."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from schemas.quotes import approx_bounds, number_tokens, quote_has_percent, quote_has_units, written_step

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_tokens_are_whole_numbers_as_written():
    tokens = number_tokens("1-11 month sales of 1,543,069 units (4.91 million in 2023), an 11.1% increase; 40 per cent")
    assert [(t.text, t.value, t.percent) for t in tokens] == [
        ("1", 1, False),
        ("11", 11, False),
        ("1,543,069", 1_543_069, False),
        ("4.91 million", 4_910_000, False),
        ("2023", 2023, False),
        ("11.1%", Decimal("11.1"), True),
        ("40 per cent", 40, True),
    ]


@pytest.mark.parametrize(
    ("quote", "units", "holds"),
    [
        ("sales of 1,543,069 units", 1_543_069, True),
        ("sales of 1543069 units", 1_543_069, True),
        ("sales of 1,543,069 units", 543_069, False),  # part of a longer number
        ("sales of 1,543,069 units", 543, False),
        ("sales of 1,543,069 units", 1_543, False),
        ("a record 4.91 million vehicles", 4_910_000, True),
        ("a record 4.91 million vehicles", 4_900_000, False),  # a rounding is not the figure
        ("a record 4.91 million vehicles", 491, False),
        ("nearly 1.2 million exports", 1_200_000, True),
        ("a 1.2-million export volume", 1_200_000, True),
        ("surpassed 6.9 million units", 6_900_000, True),
        ("exceeding 800,000 units", 800_000, True),
        ("exceeding 800,000 units", 800, False),
        ("an 11.1% increase", 11, False),  # a percentage is not a unit count
        ("models 2024 and 2025", 20242025, False),
        ("1,543,069.5 units", 1_543_069, False),
        ("about 12,34 units", 34, False),  # malformed grouping is no number at all
        ("version 1.543,069", 543_069, False),
        (None, 5, True),  # no quote: nothing to check (a web page)
    ],
)
def test_units_must_be_a_whole_token(quote, units, holds):
    assert quote_has_units(quote, units) is holds


@pytest.mark.parametrize(
    ("quote", "pct", "holds"),
    [
        ("an 11.1% increase year-over-year", 11.1, True),
        ("an 11.1% increase year-over-year", 1.1, False),  # part of a longer number
        ("an 11.1% increase year-over-year", -11.1, False),  # the words say up
        ("an 111.1% increase", 11.1, False),
        ("sales fell 11.1% from a year earlier", -11.1, True),
        ("sales fell 11.1% from a year earlier", 11.1, False),
        ("down 5 per cent", -5.0, True),
        ("a 5 percent decline", -5.0, True),
        ("a 5 percent drop", 5.0, False),
        ("up by 40 percent year-on-year", 40.0, True),
        ("Total NEV exports surged 75.2 percent", 75.2, True),
        ("a 101.1% jump over 2022", 101.1, True),
        ("growth of -3.5% in May", -3.5, True),  # an explicit sign wins over the words
        ("growth of \u22123.5% in May", -3.5, True),
        ("a share of 12.5%", 12.5, True),  # no direction: written plainly, a positive rate
        ("a share of 12.5%", -12.5, False),
        ("exports rose 10%, while sales fell 4%", 10.0, True),  # each rate takes its nearest word
        ("exports rose 10%, while sales fell 4%", -4.0, True),
        ("exports rose 10%, while sales fell 4%", -10.0, False),
        ("Sales fell. Exports were 7% of the total", 7.0, True),  # another sentence's word does not count
        ("flat at 0%", 0.0, True),
        ("an 11.10% increase", 11.1, True),
        ("an 11.1% increase", 11.14, False),
    ],
)
def test_growth_rate_must_be_a_percentage_with_its_sign(quote, pct, holds):
    assert quote_has_percent(quote, pct) is holds


@pytest.mark.parametrize(
    ("units", "quote", "step", "bounds"),
    [
        (4_910_000, "a record 4.91 million vehicles", 10_000, (4_905_000, 4_915_000)),
        (1_200_000, "nearly 1.2 million exports", 100_000, (1_150_000, 1_250_000)),
        (1_200_000, None, 100_000, (1_150_000, 1_250_000)),  # no quote: the trailing zeros
        (6_900_000, "surpassed 6.90 million", 10_000, (6_895_000, 6_905_000)),  # a written zero counts
        (800_000, "about 800,000 units", 100_000, (750_000, 850_000)),
        (1_199_590, "reach 1,199,590 units", 10, (1_199_585, 1_199_595)),
        (10_000_000, "some 10 million cars", 1_000_000, (9_500_000, 10_500_000)),
    ],
)
def test_written_precision_makes_an_approximate_figure_a_range(units, quote, step, bounds):
    assert written_step(units, quote) == step
    assert approx_bounds(units, "approx", quote) == bounds


def test_exact_and_at_least_bounds():
    assert approx_bounds(937_148, "exact", None) == (937_148, 937_148)
    assert approx_bounds(800_000, "at_least", "exceeding 800,000 units") == (800_000, float("inf"))


@pytest.mark.parametrize("feed", ["sales", "exports"])
def test_every_shipped_figure_holds_under_the_token_rule(feed):
    with (SEEDS / f"{feed}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        if row["units"]:
            assert quote_has_units(row["quote"] or None, int(row["units"])), row
        if row["reported_yoy_pct"]:
            assert quote_has_percent(row["quote"] or None, float(row["reported_yoy_pct"])), row


def test_every_shipped_capacity_holds_under_the_token_rule():
    with (SEEDS / "plant_launches.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["annual_capacity"]]
    assert rows
    for row in rows:
        assert quote_has_units(row["quote"] or None, int(row["annual_capacity"])), row
