"""Freshness: how long since each feed last brought a new or changed file, against dbt's thresholds.

The thresholds and the query that tells when a feed last got a file are declared once, on the
sources in dbt_project/models/staging/__sources.yml (`freshness` and `loaded_at_query`), so
`dbt source freshness` reports the same. The flow evaluates them itself, on every run including
the ones with nothing new (which are exactly when a feed goes stale), without starting dbt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import yaml

from flows.build.runner import DBT_PROJECT_DIR

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "__sources.yml"
_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class Threshold:
    count: int
    period: str

    @property
    def delta(self) -> timedelta:
        return self.count * _PERIODS[self.period]

    def __str__(self) -> str:
        return f"{self.count} {self.period}{'s' if self.count != 1 else ''}"


@dataclass(frozen=True)
class FreshnessRule:
    feed: str
    loaded_at_query: str
    warn_after: Threshold | None
    error_after: Threshold | None


@dataclass(frozen=True)
class Freshness:
    feed: str
    last_loaded_at: datetime | None
    age: timedelta | None
    warn_after: Threshold | None
    error_after: Threshold | None

    @property
    def status(self) -> str:
        """pass, warn or error, as dbt source freshness says it; `no data` when the feed never got a file."""
        if self.age is None:
            return "no data"
        if self.error_after and self.age > self.error_after.delta:
            return "error"
        if self.warn_after and self.age > self.warn_after.delta:
            return "warn"
        return "pass"

    @property
    def age_text(self) -> str:
        if self.age is None:
            return "never"
        days, hours = self.age.days, self.age.seconds // 3600
        return f"{days} day(s) {hours} hour(s)" if days else f"{hours} hour(s) {self.age.seconds % 3600 // 60} minute(s)"

    @property
    def warn_after_text(self) -> str:
        return str(self.warn_after) if self.warn_after else ""

    def __str__(self) -> str:
        return f"{self.feed}: no new file for {self.age_text} (warn after {self.warn_after_text}; last new file {self.last_loaded_at})"


def _threshold(value: dict | None) -> Threshold | None:
    if not value or value.get("count") is None:
        return None
    return Threshold(int(value["count"]), str(value["period"]))


def rules(sources_yml: Path = SOURCES_YML) -> list[FreshnessRule]:
    """The freshness rules of the `landing` source's tables, as declared for dbt."""
    declared = yaml.safe_load(sources_yml.read_text(encoding="utf-8"))
    found = []
    for source in declared["sources"]:
        if source["name"] != "landing":
            continue
        for table in source["tables"]:
            config = table.get("config") or {}
            freshness = config.get("freshness")
            if freshness and config.get("loaded_at_query"):
                found.append(
                    FreshnessRule(
                        table["name"],
                        config["loaded_at_query"],
                        _threshold(freshness.get("warn_after")),
                        _threshold(freshness.get("error_after")),
                    )
                )
    return found


def check(warehouse: Path) -> list[Freshness]:
    """Evaluate every rule on the published warehouse (read-only)."""
    if not warehouse.exists():
        return []
    results = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for rule in rules():
            # The same statement dbt runs for a source with a loaded_at_query.
            last, now = con.execute(
                f"with source_query as ({rule.loaded_at_query}) select (select * from source_query), current_timestamp::timestamp"
            ).fetchall()[0]
            results.append(Freshness(rule.feed, last, None if last is None else now - last, rule.warn_after, rule.error_after))
    return results
