"""Build on an engine other than DuckDB (dbt target `spark`): hand it the feeds and take the
models back as Parquet files that both reach.

The flow validates in DuckDB whatever the target: the contracts at the door do not move. For
another engine it writes each feed's valid rows (raw.<feed>) under <exchange>/landing/<feed>/;
dbt's on-run-start hook declares them there as raw.<feed>, dbt builds and tests every model on
that engine, and its on-run-end hook writes each model under <exchange>/models/<schema>.<model>/
(macros/exchange.sql). The flow reads those into its build file, which it publishes as always:
the published warehouse holds the same relations, with the same columns, whichever engine built them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.stages.precision import FIGURE_FEEDS, steps_table
from schemas import FEEDS


def _literal(text: str) -> str:
    """A SQL string literal (COPY targets and COMMENT ON take no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def write_feeds(con: duckdb.DuckDBPyConnection, exchange: Path) -> None:
    """Each feed's valid rows as one Parquet file, <exchange>/landing/<feed>/data.parquet; and the
    figure feeds' written precision (flows/stages/precision.py), <exchange>/landing/<feed>_units_steps/."""
    for table in [*FEEDS, *(steps_table(feed).removeprefix("raw.") for feed in FIGURE_FEEDS)]:
        folder = exchange / "landing" / table
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select * from raw.{table}) to {_literal(str(folder / 'data.parquet'))} (format parquet)")


@dataclass(frozen=True)
class Description:
    """A model's description and its columns', as dbt documents them (rendered from the project's yml)."""

    model: str
    columns: dict[str, str]


def descriptions(nodes: Iterable) -> dict[str, Description]:
    """The descriptions of dbt's model nodes (as a build's results carry them), by relation (schema.model)."""
    return {
        f"{node.schema}.{node.alias}": Description(node.description, {name: column.description for name, column in node.columns.items()})
        for node in nodes
    }


def read_models(con: duckdb.DuckDBPyConnection, exchange: Path, relations: list[str], described: dict[str, Description]) -> list[str]:
    """Replace each of `relations` (schema.model) in the build file by what the engine built
    (<exchange>/models/<schema>.<model>/), as a table, described as dbt documents it. Returns the
    relations the engine did not hand back: then nothing is read (and the build is not published)."""
    missing = [relation for relation in relations if not any((exchange / "models" / relation).glob("*.parquet"))]
    if missing:
        return missing
    views = {
        f"{schema}.{name}"
        for schema, name in con.execute("select schema_name, view_name from duckdb_views() where not internal").fetchall()
    }
    for relation in relations:
        folder = exchange / "models" / relation
        schema, _ = relation.split(".", 1)
        con.execute(f"create schema if not exists {schema}")
        if relation in views:  # built as a view on DuckDB before: what Spark computed replaces it
            con.execute(f"drop view {relation}")
        # an empty model still comes as one (empty) file with its columns
        con.execute(f"create or replace table {relation} as select * from read_parquet({_literal(str(folder / '*.parquet'))})")
    _describe(con, {relation: described[relation] for relation in relations if relation in described})
    return []


def _describe(con: duckdb.DuckDBPyConnection, described: dict[str, Description]) -> None:
    """Model and column descriptions as comments, as dbt-duckdb's persist_docs writes them on DuckDB."""
    for relation, description in described.items():
        if description.model:
            con.execute(f"comment on table {relation} is {_literal(description.model)}")
        for column, text in description.columns.items():
            if text:
                con.execute(f'comment on column {relation}."{column}" is {_literal(text)}')
