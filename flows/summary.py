"""What a run tells its user at the end: rows per feed, what dbt did, where the warehouse is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.build import DbtBuild
from flows.quarantine import Rejection


@dataclass(frozen=True)
class FeedSummary:
    feed: str
    files: int
    rows_loaded: int
    rows_rejected: int


@dataclass(frozen=True)
class RunSummary:
    warehouse: Path
    feeds: list[FeedSummary]
    dbt: DbtBuild
    rejections: list[Rejection]

    def render(self) -> str:
        width = max(len(feed.feed) for feed in self.feeds)
        lines = [f"{'feed':<{width}}  files  loaded  rejected"]
        lines += [f"{f.feed:<{width}}  {f.files:>5}  {f.rows_loaded:>6}  {f.rows_rejected:>8}" for f in self.feeds]
        lines.append(f"dbt: {self.dbt}")
        lines.append(f"warehouse: {self.warehouse}")
        if self.rejections:
            lines.append(
                f"warning: {len(self.rejections)} row(s) rejected, kept in quarantine.rejected_rows:\n  "
                + "\n  ".join(map(str, self.rejections))
            )
        return "\n".join(lines)
