"""What a run tells its user at the end: what changed, rows per feed, what dbt did, where it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flows.build.runner import DbtBuild
from flows.records.findings import Findings
from flows.records.freshness import Freshness
from flows.stages.load import SkippedFile
from flows.stages.manifest import Plan
from flows.stages.quarantine import Rejection


@dataclass(frozen=True)
class FeedSummary:
    feed: str
    files_loaded: int  # new or changed files read by this run
    rows_valid: int  # valid rows the warehouse now holds
    rows_rejected: int  # rows the warehouse now holds in quarantine


@dataclass(frozen=True)
class RunSummary:
    status: str  # completed, or no_op when nothing was new
    warehouse: Path
    plan: Plan
    skipped: list[SkippedFile]
    feeds: list[FeedSummary] = field(default_factory=list)
    dbt: DbtBuild | None = None
    findings: Findings = field(default_factory=Findings)
    rejections: list[Rejection] = field(default_factory=list)  # the first ones: the quarantine holds them all
    rows_rejected: int = 0
    pruned: bool = False
    freshness: list[Freshness] = field(default_factory=list)

    @classmethod
    def no_op(cls, warehouse: Path, plan: Plan, skipped: list[SkippedFile]) -> RunSummary:
        return cls(status="no_op", warehouse=warehouse, plan=plan, skipped=skipped)

    def headline(self) -> str:
        """What the run did, in one line: the flow run's state message."""
        if self.status == "no_op":
            return f"nothing new: {self.warehouse} is unchanged"
        valid = sum(feed.rows_valid for feed in self.feeds)
        return f"published {self.warehouse}: {valid:,} valid rows, {self.rows_rejected:,} rejected; dbt: {self.dbt}"

    def render(self) -> str:
        return "\n".join([self._render_run(), *self._render_stale()])

    def _render_stale(self) -> list[str]:
        stale = [feed for feed in self.freshness if feed.status in {"warn", "error"}]
        return [f"warning: stale feed: {feed}" for feed in stale]

    def _render_run(self) -> str:
        plan = self.plan
        lines = [f"landing: {plan.counts_text()}" + (f" (rebuilt from the files: {plan.rebuild_reason})" if plan.rebuild_reason else "")]
        for before, after in plan.renamed:
            lines.append(f"  renamed: {before.path} -> {after.name}: the same file, its rows kept under the new name")
        for removed in plan.removed:
            fate = "its rows were dropped (--prune)" if self.pruned else "its rows are kept; run with --prune to drop them"
            lines.append(f"  removed: {removed.path}: {fate}")
        lines += [f"  {skip}" for skip in self.skipped]
        if self.status == "no_op":
            lines.append(self.headline())
            return "\n".join(lines)
        width = max(len(feed.feed) for feed in self.feeds)
        lines.append(f"{'feed':<{width}}  files read  valid rows  rejected")
        lines += [f"{f.feed:<{width}}  {f.files_loaded:>10}  {f.rows_valid:>10}  {f.rows_rejected:>8}" for f in self.feeds]
        lines.append(f"dbt: {self.dbt}")
        if self.findings:
            found = self.findings
            lines.append(
                f"data-quality findings ({found.total}, in marts.data_quality_findings; "
                "`outbound explain data_quality_findings` shows their sources):"
                + (f" {found.counts_text()}" if found.total > len(found.first) else "")
                + "".join(f"\n  {finding}" for finding in found.first)
                + (f"\n  ... and {found.total - len(found.first):,} more" if found.total > len(found.first) else "")
            )
        lines.append(f"warehouse: {self.warehouse}")
        if self.rows_rejected:
            lines.append(
                f"warning: {self.rows_rejected} row(s) rejected, kept in quarantine.rejected_rows (outbound rejects lists them)"
                + self.first_rejections_text()
            )
        return "\n".join(lines)

    def first_rejections_text(self) -> str:
        return first_rejections_text(self.rejections, self.rows_rejected)


def first_rejections_text(first: list[Rejection], total: int) -> str:
    """The first rejected rows, one per line, and how many more the quarantine holds."""
    more = f"\n  ... and {total - len(first):,} more" if total > len(first) else ""
    return ":" + "".join(f"\n  {rejection}" for rejection in first) + more if first else ""
