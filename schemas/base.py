"""What every feed model shares: coercion, strict columns, and the column types in DuckDB."""

from __future__ import annotations

import copy
import datetime as dt
import unicodedata
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
    def references(cls) -> tuple[str, ...]:
        """The feeds whose valid rows this feed's rules read (raw.<feed> in its SQL rules, ReferenceData
        in its cross-feed checks): they are validated before it (schemas.validation_order)."""
        return ()

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


# Keys (names other rows join on) must be written one way only: a space at either end, an invisible
# control or format character, or a word mixing scripts (a Cyrillic С in "Сhery", a Greek Ο in
# "BYD ΟTTO") makes a second key that looks like the first and silently joins nothing.
KEY_TEXT_ERROR = "key_text: no space at either end, no control character, no word mixing scripts (a Cyrillic С in Сhery)"
# The same rule in RE2, for schemas/sql.py: an end space, a control or format character, or a run
# of letters holding a Latin and a non-Latin letter, or a Cyrillic and a Greek one.
KEY_TEXT_BROKEN_RE2 = (
    r"^[\s\p{Z}]|[\s\p{Z}]$|[\p{Cc}\p{Cf}]"
    r"|\p{Latin}\p{L}*[^\P{L}\p{Latin}]|[^\P{L}\p{Latin}]\p{L}*\p{Latin}"
    r"|\p{Cyrillic}\p{L}*\p{Greek}|\p{Greek}\p{L}*\p{Cyrillic}"
)


def _script(letter: str) -> str:
    """The script of a letter, as the first word of its Unicode name (LATIN, CYRILLIC, GREEK, CJK, ...)."""
    return unicodedata.name(letter, "UNKNOWN").split(" ")[0]


def key_text_is_clean(value: str) -> bool:
    """True unless `value` breaks KEY_TEXT_ERROR's rule."""
    if value != value.strip() or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        return False
    scripts: set[str] = set()
    for ch in value + " ":
        if unicodedata.category(ch).startswith("L"):
            scripts.add(_script(ch))
            continue
        if ("LATIN" in scripts and len(scripts) > 1) or {"CYRILLIC", "GREEK"} <= scripts:
            return False
        scripts = set()
    return True


def key_text(*columns: str) -> classmethod:
    """The key_text rule as a field check of each of `columns` (use it as a class attribute of a model)."""

    def check(cls, series: pd.Series) -> pd.Series:
        return series.map(lambda value: pd.isna(value) or key_text_is_clean(value))

    check.__name__ = "key_text"  # what pandera names the check in a subclass (ExportsModel)
    return pa.check(*columns, name="key_text", error=KEY_TEXT_ERROR)(check)
