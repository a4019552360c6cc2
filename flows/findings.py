"""The data-quality findings of a build: where the sources contradict each other.

They are warnings, never failures: the run publishes, and the summary lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

TABLE = "marts.data_quality_findings"


@dataclass(frozen=True)
class Finding:
    check_name: str
    severity: str
    entity: str
    details: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.check_name}: {self.entity}: {self.details}"


def read(database: Path) -> list[Finding]:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            f"select check_name, severity, entity, details from {TABLE} "
            "order by case severity when 'warning' then 0 else 1 end, check_name, entity, period_end"
        ).fetchall()
    return [Finding(*row) for row in rows]
