"""Contract of the `plant_launches` feed: milestones of carmakers' overseas plants."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import DateTime, Series

from schemas.base import EARLIEST_DATE, SOURCE_RULES_SQL, FeedModel, key_text, row_check, source_checks, today
from schemas.quotes import quote_has_units
from schemas.references import ReferenceData

MILESTONES = [
    "announced",
    "construction_start",
    "production_start",
    "first_vehicle_off_line",
    "first_vehicle_delivered",
    "inauguration",
]
DATE_PRECISIONS = ["day", "month", "year"]
ASSEMBLY_MODES = ["CKD", "SKD", "full", "unknown"]


class PlantLaunchesModel(FeedModel):
    """One milestone of one plant, as one source reports it.

    A month-precise date is the month's first day, a year-precise one January 1st. A relative
    date ("on Thursday") is resolved against what the source establishes, and `note` says how.
    Cross-feed rules: the brand is a known brand of group_name, the country a known country,
    source_id a known source, and a document source is quoted.
    """

    group_name: Series[str] = pa.Field(str_length={"min_value": 1}, description="Carmaker group (brands.group_name).")
    brand: Series[str] = pa.Field(str_length={"min_value": 1}, description="Brand built at the plant (brands.brand).")
    country: Series[str] = pa.Field(str_length={"min_value": 1}, description="Country of the plant (countries.country).")
    site: Series[str] = pa.Field(str_length={"min_value": 1}, description="Plant location as the sources name it (Rayong, Camaçari, ...).")
    milestone: Series[str] = pa.Field(isin=MILESTONES, description="Which step of the plant's life the row records.")
    milestone_date: Series[DateTime] = pa.Field(ge=EARLIEST_DATE, description="When it happened, to date_precision.")
    date_precision: Series[str] = pa.Field(isin=DATE_PRECISIONS, description="day, month (date is the 1st) or year (date is Jan 1).")
    assembly_mode: Series[str] = pa.Field(isin=ASSEMBLY_MODES, description="CKD or SKD kits, full manufacturing, or unknown.")
    annual_capacity: Series[pd.Int64Dtype] = pa.Field(nullable=True, gt=0, description="Vehicles a year the source states (often planned).")
    first_model: Series[str] = pa.Field(nullable=True, description="First model(s) built or delivered, when stated.")
    source_id: Series[str] = pa.Field(description="The source of the milestone (sources.source_id).")
    quote: Series[str] = pa.Field(nullable=True, description="Verbatim excerpt of the source document; parts joined by ' … '.")
    note: Series[str] = pa.Field(nullable=True, description="How a date or capacity was read, and any conflict between sources.")
    keys_clean = key_text("group_name", "brand", "country", "site")

    class Config:
        unique = ["group_name", "brand", "country", "site", "milestone", "source_id"]

    @pa.dataframe_check(
        name="date_matches_precision", error="a month-precise date must be the 1st of its month, a year-precise one January 1st"
    )
    def date_matches_precision(cls, df):
        date, precision = df["milestone_date"], df["date_precision"]
        return ~(((precision == "month") & (date.dt.day != 1)) | ((precision == "year") & ((date.dt.day != 1) | (date.dt.month != 1))))

    @pa.dataframe_check(name="milestone_not_in_future", error="milestone_date must not be after today")
    def milestone_not_in_future(cls, df):
        return df["milestone_date"] <= today()

    @pa.dataframe_check(name="quote_contains_capacity", error="quote must contain annual_capacity as the source writes it (e.g. 100,000)")
    def quote_contains_capacity(cls, df):
        return pd.Series(
            [pd.isna(c) or quote_has_units(q, int(c)) for q, c in zip(df["quote"], df["annual_capacity"], strict=True)],
            index=df.index,
        )

    @classmethod
    def sql_rules(cls) -> dict[str, str]:
        return {
            "date_matches_precision": """
                not ((date_precision = 'month' and day(milestone_date) <> 1)
                    or (date_precision = 'year' and (day(milestone_date) <> 1 or month(milestone_date) <> 1)))
            """,
            "milestone_not_in_future": "milestone_date <= {today}",
            **SOURCE_RULES_SQL,
            "brand_of_group": "exists (select 1 from raw.brands as known where known.brand = this.brand and known.group_name = this.group_name)",
            "country_known": "country in (select country from raw.countries)",
        }

    @classmethod
    def python_rules(cls) -> dict[str, str]:
        return {"quote_contains_capacity": "quote is not null and annual_capacity is not null"}

    @classmethod
    def references(cls) -> tuple[str, ...]:
        return ("sources", "countries", "brands")

    @classmethod
    def cross_feed_checks(cls, refs: ReferenceData) -> list[pa.Check]:
        return [
            *source_checks(refs),
            row_check(
                "brand_of_group",
                "brand must be a known brand (brands.brand) whose group is group_name",
                lambda df: df["brand"].map(refs.brand_groups) == df["group_name"],
            ),
            row_check(
                "country_known", "country must be a known country (countries.country)", lambda df: df["country"].isin(refs.countries)
            ),
        ]
