"""What a run posts to Prefect as artifacts: validation per feed, dbt results, mart rows, findings, freshness.

Each artifact has a fixed key, so the Prefect UI shows its history across runs (Artifacts page),
as well as the copy on the flow run's own page. Called only inside a flow run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
from prefect.artifacts import create_markdown_artifact

from flows.build.runner import DbtBuild
from flows.records.findings import Findings
from flows.records.freshness import Freshness
from flows.records.summary import FeedSummary
from flows.stages.quarantine import TABLE as QUARANTINE

# Longest dbt node name shown in the artifact's table: a test's generated name can run to 200
# characters without a space, which no table can wrap, so it would push the other columns out of a
# 1400-pixel window. The full names are in ops.dbt_results and in the run's task runs.
NODE_NAME_CHARS = 60


def short_name(name: str, limit: int = NODE_NAME_CHARS) -> str:
    """`name` if short enough, else its start and end around an ellipsis (both ends tell tests apart)."""
    if len(name) <= limit:
        return name
    tail = limit // 3
    return f"{name[: limit - tail - 1]}…{name[-tail:]}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        text = "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def top_failed_rules(con: duckdb.DuckDBPyConnection, per_feed: int = 3) -> dict[str, list[tuple[str, int]]]:
    """The rules that rejected most rows, per feed, from the quarantine."""
    rows = con.execute(
        f"""
        with rules as (
            select feed, unnest(failed_rules) as rule from {QUARANTINE}
        )
        select feed, rule, count(*) as rows_rejected
        from rules
        group by feed, rule
        qualify row_number() over (partition by feed order by count(*) desc, rule) <= ?
        order by feed, rows_rejected desc, rule
        """,
        [per_feed],
    ).fetchall()
    top: dict[str, list[tuple[str, int]]] = {}
    for feed, rule, count in rows:
        top.setdefault(feed, []).append((rule, count))
    return top


def post_validation(feeds: list[FeedSummary], top_rules: dict[str, list[tuple[str, int]]]) -> None:
    rows = [
        (
            feed.feed,
            feed.files_loaded,
            feed.rows_valid,
            feed.rows_rejected,
            "; ".join(f"{rule} ({n})" for rule, n in top_rules.get(feed.feed, [])),
        )
        for feed in feeds
    ]
    create_markdown_artifact(
        key="outbound-validation",
        markdown="## Validation per feed\n\n" + markdown_table(["feed", "files read", "valid rows", "rejected", "top failed rules"], rows),
        description="Rows each feed holds after this run, the rows in quarantine and the rules that rejected most of them.",
    )


def post_dbt_results(build: DbtBuild) -> None:
    counts = build.counts
    summary = markdown_table(["resource", "status", "nodes"], sorted((kind, status, n) for (kind, status), n in counts.items()))
    nodes = markdown_table(
        ["node", "type", "status", "seconds", "rows", "message"],
        (
            (short_name(node.name), node.resource_type, node.status, f"{node.execution_seconds:.2f}", node.rows_affected, node.message)
            for node in sorted(build.nodes, key=lambda node: (node.resource_type, node.name))
        ),
    )
    create_markdown_artifact(
        key="outbound-dbt-results",
        markdown=f"## dbt build\n\n{build}\n\n{summary}\n\n### Node by node\n\n{nodes}",
        description="Every dbt model and data test of this run's build: status and timing.",
    )


def mart_row_counts(database: Path) -> list[tuple[str, int]]:
    with duckdb.connect(str(database), read_only=True) as con:
        marts = [
            name
            for (name,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts' order by table_name").fetchall()
        ]
        return [(f"marts.{name}", con.execute(f'select count(*) from marts."{name}"').fetchall()[0][0]) for name in marts]


def post_mart_rows(counts: list[tuple[str, int]]) -> None:
    create_markdown_artifact(
        key="outbound-mart-rows",
        markdown="## Mart row counts\n\n" + markdown_table(["mart", "rows"], counts),
        description="Rows in each published mart.",
    )


def post_findings(findings: Findings) -> None:
    counts = markdown_table(["severity", "check", "findings"], findings.by_check)
    # A list, not a table: a finding's details are a long sentence, which a table cell would cut.
    listed = "\n".join(
        f"{number}. **{f.severity}** `{f.check_name}`, {f.entity}: {f.details}".replace("\n", " ")
        for number, f in enumerate(findings.first, start=1)
    )
    shown = f"\n\nThe first {len(findings.first)} (all are in marts.data_quality_findings):" if findings.total > len(findings.first) else ""
    create_markdown_artifact(
        key="outbound-findings",
        markdown=f"## Data-quality findings ({findings.total})\n\n"
        + (f"{counts}{shown}\n\n{listed}" if findings else "None: the sources agree with each other."),
        description="Where the sources contradict each other (marts.data_quality_findings).",
    )


def post_freshness(freshness: list[Freshness]) -> None:
    rows = ((f.feed, f.last_loaded_at, f.age_text, f.warn_after_text, f.status) for f in freshness)
    create_markdown_artifact(
        key="outbound-freshness",
        markdown="## Feed freshness\n\n" + markdown_table(["feed", "last new file", "age", "warn after", "status"], rows),
        description="Time since each feed last brought a new or changed file, against the thresholds in dbt's __sources.yml.",
    )
