"""What every feed model shares: coercion, strict columns, and the column types in DuckDB."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa

from schemas.references import ReferenceData

# Kind of pandas dtype -> the DuckDB type the loader reads such a column with. Every temporal
# field of the feeds is a calendar date, so pandera's DateTime is read as DATE.
_DUCKDB_TYPES = (
    (pd.api.types.is_string_dtype, "VARCHAR"),
    (pd.api.types.is_integer_dtype, "BIGINT"),
    (pd.api.types.is_float_dtype, "DOUBLE"),
    (pd.api.types.is_datetime64_any_dtype, "DATE"),
)


def _duckdb_type(dtype: object) -> str:
    for matches, sql_type in _DUCKDB_TYPES:
        if matches(dtype):
            return sql_type
    raise TypeError(f"no DuckDB type for pandas dtype {dtype}")


# The earliest date any feed can hold; anything before is a typo, not history.
EARLIEST_DATE = pd.Timestamp("1950-01-01")


def today() -> pd.Timestamp:
    return pd.Timestamp(dt.date.today())


class FeedModel(pa.DataFrameModel):
    """Base of the feed models: the CSV columns are exactly the model's fields, in order."""

    class Config:
        coerce = True
        strict = True
        ordered = True

    @classmethod
    def csv_columns(cls) -> dict[str, str]:
        """The feed's CSV header, in order, with the DuckDB type each column is read as."""
        columns = cls.to_schema().columns
        return {name: _duckdb_type(column.dtype.type) for name, column in columns.items()}

    @classmethod
    def cross_feed_checks(cls, refs: ReferenceData) -> list[pa.Check]:
        """Rules that need other feeds' valid rows (sources, brands, countries). None by default."""
        return []

    @classmethod
    def sql_rules(cls) -> dict[str, str]:
        """The SQL twin of each dataframe check and cross-feed rule, by check name (see schemas/sql.py).

        Each is a condition on one row of loaded.<feed>, aliased `this`, true when the row keeps the
        rule; `{today}` stands for today's date, and raw.<feed> holds the reference feeds' valid rows.
        """
        return {}

    @classmethod
    def python_rules(cls) -> dict[str, str]:
        """Checks that stay Python, by name, each with a SQL filter of the only rows it can fail on."""
        return {}

    @classmethod
    def schema_with_references(cls, refs: ReferenceData) -> pa.DataFrameSchema:
        """The model's schema plus its cross-feed rules, without touching the cached schema."""
        # to_schema() is cached per class: copy it and give the copy its own list of checks.
        schema = copy.copy(cls.to_schema())
        schema.checks = [*schema.checks, *cls.cross_feed_checks(refs)]
        return schema


def row_check(name: str, error: str, predicate: Callable[[pd.DataFrame], pd.Series]) -> pa.Check:
    """A dataframe-level check that fails the rows where `predicate(df)` is False.

    Missing values never make a row fail here: each rule says itself whether a value is required.
    """

    def run(df: pd.DataFrame) -> pd.Series:
        return pd.Series(predicate(df), index=df.index).fillna(True).astype(bool)

    return pa.Check(run, name=name, error=error)


# The SQL twins of source_checks.
SOURCE_RULES_SQL = {
    "source_exists": "source_id in (select source_id from raw.sources)",
    "document_sources_quoted": (
        "quote is not null or source_id is null or source_id not in (select source_id from raw.sources where document is not null)"
    ),
}


def source_checks(refs: ReferenceData) -> list[pa.Check]:
    """Rules of every feed that cites a source: the source exists, and documents are quoted."""
    return [
        row_check(
            "source_exists",
            "source_id must name a row of the sources feed",
            lambda df: df["source_id"].isin(refs.source_ids),
        ),
        row_check(
            "document_sources_quoted",
            "quote is required when the source is a document under ../shared/sources",
            lambda df: ~df["source_id"].isin(refs.document_source_ids) | df["quote"].notna(),
        ),
    ]
