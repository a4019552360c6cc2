"""The baseline: the same work as `outbound run`, done in plain DuckDB SQL, in one process.

Load every landing file with read_csv and explicit types (records DuckDB cannot read are skipped,
as rejects), hold the rows to the same rules (the SQL compiled from the feed models), and build the
same models from the SQL dbt compiled for the last `outbound run` (its manifest.json), in order.
No Prefect, no dbt, no line numbers, no quarantine messages, no tests, no publish: what DuckDB
alone costs for the work, the floor Outbound is measured against.

    python -m benchmarks.baseline LANDING FOLDER MANIFEST   (prints the stages as JSON)
"""

from __future__ import annotations

import json
import sys
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from flows.stages.load import feed_files
from flows.stages.precision import FIGURE_FEEDS, record_units_steps
from flows.warehouse.connections import memory_limit
from schemas import FEEDS
from schemas.sql import compile_rules


def load(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    con.execute("create schema loaded; create schema raw")
    for feed, model in FEEDS.items():
        paths = feed_files(landing, feed)
        typed = "{" + ", ".join(f"'{name}': '{sql_type}'" for name, sql_type in model.csv_columns().items()) + "}"
        files = "[" + ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths) + "]"
        con.execute(
            f"""
            create table loaded.{feed}_rows as
            select * exclude (filename), filename as _file
            from read_csv({files}, columns = {typed}, header = true, auto_detect = false, filename = true,
                store_rejects = true, rejects_table = 'rejects_{feed}', rejects_scan = 'reject_scans_{feed}')
            """
        )
        con.execute(f"create view loaded.{feed} as select *, rowid + 2 as _line from loaded.{feed}_rows")


def validate(con: duckdb.DuckDBPyConnection) -> None:
    """The feeds' rules, as the flow runs them: any row that breaks one, or shares a key, is rejected."""
    for feed, model in FEEDS.items():
        rules = compile_rules(model)
        broken = " or ".join(f"coalesce({rule.broken}, false)" for rule in rules.sql)
        duplicated = [
            f"""
            select this._file, this._line from loaded.{feed} as this
            join (select {", ".join(key)} from loaded.{feed} group by all having count(*) > 1) as dup
                on {" and ".join(f"this.{name} is not distinct from dup.{name}" for name in key)}
            """
            for key in rules.unique_keys
        ]
        con.execute(
            f"""
            create table rejected_{feed} as
            select _file, _line from loaded.{feed} as this where {broken}
            {"".join(f" union {select}" for select in duplicated)}
            """
        )
        con.execute(f"create view raw.{feed} as select * from loaded.{feed} anti join rejected_{feed} using (_file, _line)")
        if feed in FIGURE_FEEDS:
            record_units_steps(con, feed)


def build_models(con: duckdb.DuckDBPyConnection, manifest: dict) -> None:
    """Every dbt model, from the SQL dbt compiled, as the view or table it is, in dependency order."""
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    order = TopologicalSorter({uid: [d for d in node["depends_on"]["nodes"] if d in models] for uid, node in models.items()})
    for schema in {node["schema"] for node in models.values()}:
        con.execute(f'create schema if not exists "{schema}"')
    for uid in order.static_order():
        node = models[uid]
        kind = "table" if node["config"]["materialized"] == "table" else "view"
        con.execute(f'create {kind} "{node["schema"]}"."{node["alias"]}" as {node["compiled_code"]}')


def main(landing: str, folder: str, manifest_path: str) -> None:
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    # The compiled SQL names its catalog (the build file's name): the baseline's file has the same name.
    catalog = next(node["database"] for node in manifest["nodes"].values() if node["resource_type"] == "model")
    database = str(Path(folder) / f"{catalog}.duckdb")
    stages = {}
    # The same memory budget as the flow's, so that both spill at the same point.
    with duckdb.connect(database, config={"memory_limit": memory_limit()}) as con:
        work_by_stage = {
            "load": lambda: load(con, Path(landing)),
            "validate": lambda: validate(con),
            "dbt": lambda: build_models(con, manifest),
        }
        for name, work in work_by_stage.items():
            started, clock = time.time(), time.perf_counter()
            work()
            stages[name] = {"started_at": started, "seconds": round(time.perf_counter() - clock, 3)}
        rejected = sum(con.execute(f"select count(*) from rejected_{feed}").fetchone()[0] for feed in FEEDS)
        unreadable = sum(con.execute(f"select count(*) from rejects_{feed}").fetchone()[0] for feed in FEEDS)
    print(json.dumps({"stages": stages, "rows_rejected": rejected + unreadable}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
