"""`outbound explain`: where the numbers of chosen mart rows come from.

For each chosen row: its values, then every figure it was computed from (its `figure_refs`), each
with the source's title, publisher and date, and the quote that contains the figure or the
address of the page.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from flows.commands.reading import reading
from flows.errors import OutboundError

# Columns a person reads as the row's identity and numbers; the lineage lists are shown as figures.
_HIDDEN = {"source_ids", "figure_refs", "run_id"}


def explain(warehouse: Path, mart: str, where: str | None = None, limit: int = 20) -> str:
    if limit < 1:
        raise OutboundError(f"--limit {limit}: give how many rows to show, 1 or more")
    # The sandbox of `outbound sql` (read-only, no files or extensions, settings locked): --where is the user's SQL.
    with reading(warehouse) as con:
        marts = [
            name for (name,) in con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()
        ]
        if mart not in marts:
            raise OutboundError(f"no mart {mart!r}; the marts are: {', '.join(sorted(marts))}")
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [mart],
            ).fetchall()
        ]
        shown = [name for name in columns if name not in _HIDDEN]
        condition = where or "true"
        # On lines of its own, so that a trailing comment cannot reach past it.
        query = f"select {', '.join(shown)}, figure_refs from marts.{mart} where (\n{condition}\n) order by all limit {int(limit) + 1}"
        _check_one_condition(con, query, condition)
        try:
            rows = con.execute(query).fetchall()
        except duckdb.Error as error:
            raise OutboundError(f"--where {condition!r}: {error}") from None
        refs = sorted({ref for row in rows for ref in row[-1]})
        figures = _figures(con, refs)
    if not rows:
        return f"no row of marts.{mart} matches {condition}"
    lines = []
    for number, row in enumerate(rows[:limit], start=1):
        values = ", ".join(f"{name}={_show(name, value)}" for name, value in zip(shown, row[:-1], strict=True) if value is not None)
        lines.append(f"{number}. {values}")
        lines.append(f"   computed from {len(row[-1])} figure(s):")
        for ref in row[-1]:
            lines += ["   - " + line for line in figures.get(ref, [f"{ref} (no longer in the warehouse)"])]
    if len(rows) > limit:
        lines.append(f"(more rows match; showing the first {limit}: narrow --where)")
    return "\n".join(lines)


def _check_one_condition(con: duckdb.DuckDBPyConnection, query: str, condition: str) -> None:
    """Refuse a --where that is more than one condition: another statement, a UNION, its own
    ORDER BY or LIMIT, a GROUP BY. DuckDB parses the whole query (the text goes in as a value)."""
    parsed = json.loads(con.execute("select json_serialize_sql($query)", {"query": query}).fetchall()[0][0])
    if parsed.get("error"):
        raise OutboundError(f"--where {condition!r} is not one SQL condition: {parsed.get('error_message')}")
    [statement, *more] = parsed["statements"]
    node = statement["node"]
    if (
        more
        or node["type"] != "SELECT_NODE"
        or [modifier["type"] for modifier in node.get("modifiers", [])] != ["ORDER_MODIFIER", "LIMIT_MODIFIER"]
        or node.get("group_expressions")
        or node.get("having")
        or node.get("qualify")
        or node.get("cte_map", {}).get("map")
    ):
        raise OutboundError(
            f"--where {condition!r} is not one SQL condition; give a single condition such as \"segment = 'Chery'\" "
            "(outbound sql runs any query)"
        )


def _figures(con: duckdb.DuckDBPyConnection, refs: list[str]) -> dict[str, list[str]]:
    """Each figure as a few lines: what it says, its source, and its quote or address."""
    if not refs:
        return {}
    rows = con.execute(
        """
        select figure.figure_ref, figure.description, source.source_id, source.title, source.publisher,
            source.published_on, figure.quote, source.url, source.document_name
        from intermediate.int_figures as figure
        left join staging.stg_landing__sources as source using (source_id)
        where figure.figure_ref in (select unnest($refs))
        """,
        {"refs": refs},
    ).fetchall()
    described = {}
    for ref, description, source_id, title, publisher, published_on, quote, url, document in rows:
        origin = ", ".join(str(part) for part in (title, publisher, published_on) if part) or "untitled"
        evidence = f'quote: "{quote}"' if quote else f"address: {url}" if url else f"document: {document}"
        described[ref] = [description, f"  source {source_id}: {origin}", f"  {evidence}", f"  row: {ref}"]
    return described


def _show(name: str, value: object) -> str:
    """A value as people write it: 1,045,850 units, a 60.2% share, +14.7% growth; never 1.04585e+06."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if name.startswith("share"):  # a fraction of one
        return f"{100 * value:.1f}%"
    if name.endswith("_pct"):  # already in percent
        return f"{value:+,.1f}%"
    if isinstance(value, int) or name.endswith("units") or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"
