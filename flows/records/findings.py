"""The data-quality findings of a build: where the sources contradict each other.

They are warnings, never failures: the run publishes, and the summary lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

TABLE = "marts.data_quality_findings"
# Runs show this many findings (and rejected rows) at most: the tables hold them all.
SHOWN_AT_MOST = 20


@dataclass(frozen=True)
class Finding:
    check_name: str
    severity: str
    entity: str
    details: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.check_name}: {self.entity}: {self.details}"


@dataclass(frozen=True)
class Findings:
    """How many findings a build has, per check, and the first ones (warnings first) to show."""

    total: int = 0
    by_check: tuple[tuple[str, str, int], ...] = ()  # (severity, check_name, count)
    first: tuple[Finding, ...] = ()

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def counts_text(self) -> str:
        return ", ".join(f"{count:,} {check} ({severity})" for severity, check, count in self.by_check)


def read(database: Path, limit: int = SHOWN_AT_MOST) -> Findings:
    """The findings of a build: counted in DuckDB, and only the first `limit` brought into Python."""
    with duckdb.connect(str(database), read_only=True) as con:
        by_check = con.execute(
            f"select severity, check_name, count(*) from {TABLE} group by severity, check_name "
            "order by case severity when 'warning' then 0 else 1 end, check_name"
        ).fetchall()
        rows = con.execute(
            f"select check_name, severity, entity, details from {TABLE} "
            "order by case severity when 'warning' then 0 else 1 end, check_name, entity, period_end limit ?",
            [limit],
        ).fetchall()
    return Findings(sum(count for *_, count in by_check), tuple(by_check), tuple(Finding(*row) for row in rows))
