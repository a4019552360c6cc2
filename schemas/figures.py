"""Contract of the figure feeds, `sales` and `exports`: one reported figure per row."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import DateTime, Series

from schemas.base import EARLIEST_DATE, SOURCE_RULES_SQL, FeedModel, key_text, row_check, source_checks, today
from schemas.quotes import quote_has_percent, quote_has_units
from schemas.references import ReferenceData

ENTITY_TYPES = ["country", "group", "brand"]
POWERTRAINS = ["all", "nev", "bev", "phev", "erev", "ice"]
UNITS_QUALIFIERS = ["exact", "approx", "at_least"]


class SalesModel(FeedModel):
    """Vehicle sales as a source reports them: who, which powertrain, which period, how many.

    A figure is recorded for the period the source states (Jan-Nov 2024 is 2024-01-01 to
    2024-11-30); a cumulative figure since the company began has no period_start; a source that
    gives only a growth rate leaves units empty. Cross-feed rules: source_id names a source; a
    brand entity names a brand, a group entity a brand's group, a country entity a country; a
    document source is quoted.

    The quote holds the figure as a whole token (schemas/quotes.py): units equal one number of the
    quote as the source writes it ("1,543,069", "1543069", "4.91 million"), never part of a longer
    number (543069 is not in "1,543,069 units") and never a rounding of it; reported_yoy_pct
    equals a percentage ("11.1%", "11.1 percent", "11.1 per cent") with the sign the quote gives:
    an explicit + or -, else the direction word nearest to it in its sentence ("increase", "up",
    "rise", "jump", "grew", "surged" +; "decrease", "down", "fell", "drop", "decline" -), else +.
    So 11.1 passes "an 11.1% increase", and neither 1.1 nor -11.1 does.
    """

    entity: Series[str] = pa.Field(str_length={"min_value": 1}, description="Who the figure is about: China, Chery Group, Jetour, ...")
    entity_type: Series[str] = pa.Field(isin=ENTITY_TYPES, description="country (national figures), group, or brand.")
    powertrain: Series[str] = pa.Field(isin=POWERTRAINS, description="all, or the NEV subset (nev) or a powertrain within it.")
    period_start: Series[DateTime] = pa.Field(
        nullable=True, ge=EARLIEST_DATE, description="First day of the period; empty for a cumulative figure since the company began."
    )
    period_end: Series[DateTime] = pa.Field(
        ge=EARLIEST_DATE, description="Last day of the period (or the as-of date of a cumulative figure)."
    )
    units: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="Vehicles, as reported; empty when the source gives only a growth rate."
    )
    units_qualifier: Series[str] = pa.Field(
        nullable=True,
        isin=UNITS_QUALIFIERS,
        description="exact, approx ('4.91 million') or at_least ('exceeding 800,000'); empty when units is.",
    )
    reported_yoy_pct: Series[float] = pa.Field(
        nullable=True, gt=-100, le=1000, description="Year-on-year growth the source reports, in percent (11.1 = +11.1%)."
    )
    source_id: Series[str] = pa.Field(description="The source of the figure (sources.source_id).")
    quote: Series[str] = pa.Field(nullable=True, description="Verbatim excerpt of the source document containing the figure as written.")

    class Config:
        unique = ["entity", "entity_type", "powertrain", "period_start", "period_end", "source_id"]

    keys_clean = key_text("entity")

    @pa.dataframe_check(name="period_in_order", error="period_end must not be before period_start")
    def period_in_order(cls, df):
        return df["period_start"].isna() | (df["period_end"] >= df["period_start"])

    @pa.dataframe_check(name="period_not_in_future", error="period_end must not be after today")
    def period_not_in_future(cls, df):
        return df["period_end"] <= today()

    @pa.dataframe_check(name="has_a_figure", error="a row needs units or reported_yoy_pct")
    def has_a_figure(cls, df):
        return df["units"].notna() | df["reported_yoy_pct"].notna()

    @pa.dataframe_check(name="qualifier_with_units", error="units_qualifier is required with units and must be empty without them")
    def qualifier_with_units(cls, df):
        return df["units"].notna() == df["units_qualifier"].notna()

    @pa.dataframe_check(
        name="quote_contains_units",
        error="quote must contain units as a whole number as the source writes them (e.g. 1,543,069 or 4.91 million)",
    )
    def quote_contains_units(cls, df):
        return pd.Series(
            [pd.isna(u) or quote_has_units(q, int(u)) for q, u in zip(df["quote"], df["units"], strict=True)],
            index=df.index,
        )

    @pa.dataframe_check(
        name="quote_contains_yoy",
        error="quote must contain reported_yoy_pct as a whole percentage with its sign (e.g. 'up 11.1%' or 'down 40 percent')",
    )
    def quote_contains_yoy(cls, df):
        return pd.Series(
            [pd.isna(p) or quote_has_percent(q, p) for q, p in zip(df["quote"], df["reported_yoy_pct"], strict=True)],
            index=df.index,
        )

    @classmethod
    def sql_rules(cls) -> dict[str, str]:
        return {
            "period_in_order": "period_start is null or period_end >= period_start",
            "period_not_in_future": "period_end <= {today}",
            "has_a_figure": "units is not null or reported_yoy_pct is not null",
            "qualifier_with_units": "(units is not null) = (units_qualifier is not null)",
            **SOURCE_RULES_SQL,
            "entity_known": """
                case entity_type
                    when 'brand' then entity in (select brand from raw.brands)
                    when 'group' then entity in (select group_name from raw.brands)
                    when 'country' then entity in (select country from raw.countries)
                    else false
                end
            """,
        }

    @classmethod
    def python_rules(cls) -> dict[str, str]:
        return {
            "quote_contains_units": "quote is not null and units is not null",
            "quote_contains_yoy": "quote is not null and reported_yoy_pct is not null",
        }

    @classmethod
    def references(cls) -> tuple[str, ...]:
        return ("sources", "countries", "brands")

    @classmethod
    def cross_feed_checks(cls, refs: ReferenceData) -> list[pa.Check]:
        known = {"brand": frozenset(refs.brand_groups), "group": refs.groups, "country": refs.countries}

        def entity_known(df: pd.DataFrame) -> pd.Series:
            return pd.Series(
                [entity in known.get(kind, ()) for entity, kind in zip(df["entity"], df["entity_type"], strict=True)],
                index=df.index,
            )

        return [
            *source_checks(refs),
            row_check(
                "entity_known",
                "entity must be a known brand (brands.brand), group (brands.group_name) or country (countries.country) for its entity_type",
                entity_known,
            ),
        ]


class ExportsModel(SalesModel):
    """Vehicle exports as a source reports them; the same contract as sales."""
