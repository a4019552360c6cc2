"""Read-only looks at a published warehouse: its manifest, its last runs, its quarantine."""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.commands.reading import reading
from flows.errors import OutboundError
from flows.records import runlog
from flows.stages.manifest import TABLE as MANIFEST
from flows.stages.quarantine import TABLE as QUARANTINE
from flows.warehouse.lock import warehouse_is_busy


def _table(rows: list[tuple], headers: list[str]) -> str:
    cells = [headers] + [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells)


def _second(moment: object) -> str | None:
    return None if moment is None else str(moment)[:19]


def status(warehouse: Path, runs: int = 10) -> str:
    """The manifest of the published warehouse and the last runs (failed and no-op ones too)."""
    if runs < 0:
        raise OutboundError(f"--runs {runs}: give how many runs to show, 0 or more")
    with reading(warehouse) as con:
        files = con.execute(
            f"select feed, path, left(sha256, 12), rows_loaded, rows_rejected, run_id, loaded_at::timestamp(0) from {MANIFEST} order by feed, name"
        ).fetchall()
    try:
        history = runlog.last_runs(warehouse, runs, running_now=warehouse_is_busy(warehouse))
    except (duckdb.Error, OSError) as error:
        raise OutboundError(f"{runlog.log_path(warehouse)}: cannot be read: {str(error).strip().splitlines()[0]}") from None
    run_rows = [
        (
            r["run_id"],
            r["status"],
            _second(r["started_at"]),
            _second(r["finished_at"]),
            r["files_new"],
            r["files_changed"],
            r["rows_loaded"],
            r["rows_rejected"],
            (r["error"] or "")[:80],
        )
        for r in history
    ]
    return "\n".join(
        [
            f"warehouse: {warehouse}",
            "",
            f"files ({len(files)}):",
            _table(files, ["feed", "path", "sha256", "valid", "rejected", "run", "loaded at"]),
            "",
            f"last {len(run_rows)} run(s), newest first:",
            _table(run_rows, ["run", "status", "started", "finished", "new", "changed", "valid", "rejected", "error"]),
        ]
    )


def rejects(warehouse: Path, feed: str | None = None) -> str:
    """Every row in quarantine (of one feed), with its file, line, rules and values."""
    with reading(warehouse) as con:
        feeds = [name for (name,) in con.execute(f"select distinct feed from {MANIFEST} order by feed").fetchall()]
        if feed is not None and feed not in feeds:
            raise OutboundError(f"--feed {feed}: no such feed in {warehouse}; its feeds are {', '.join(feeds)}")
        rows = con.execute(
            f"""
            select feed, source_file, line, stage, failed_rules, coalesce(raw_values::varchar, raw_record)
            from {QUARANTINE} where ? is null or feed = ? order by feed, source_file, line
            """,
            [feed, feed],
        ).fetchall()
    if not rows:
        return f"no rejected rows{' in feed ' + feed if feed else ''}"
    lines = [f"{len(rows)} rejected row(s){' in feed ' + feed if feed else ''}:"]
    for feed_name, file, line, stage, rules, values in rows:
        lines.append(f"{file}:{line} ({feed_name}, rejected at {stage})")
        lines += [f"    rule: {rule}" for rule in rules]
        shown = values if len(values) <= 300 else values[:300] + "…"
        lines.append(f"    values: {shown}")
    return "\n".join(lines)
