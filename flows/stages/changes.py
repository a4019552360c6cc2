"""What a run changed in the reported figures: the keys an incremental dbt build recomputes.

A run that builds on a copy of the published warehouse records, in raw.changed_figures, the key
(metric, entity, entity_type, powertrain, period) of every sales and exports row it adds or
removes: the rows of new and changed files, the rows changed, renamed and pruned files brought
before (a renamed file's rows cite it anew), and the rows of unchanged files whose verdict changed
(a row rejected because a new file repeats its key, or accepted again when its missing source
arrives: validation judges every row on every build). The incremental models (dbt_project,
materialized incremental on DuckDB) delete and rebuild what those keys can change, and nothing else.

A run that rebuilds from the files (a first run, --full-refresh, other code) records nothing (it
has no such table): dbt builds every model whole. An incremental run starts the table empty, so
it only ever holds this run's keys.
"""

from __future__ import annotations

import duckdb

from flows.stages.precision import FIGURE_FEEDS
from flows.stages.quarantine import TABLE as QUARANTINE
from flows.warehouse.connections import has_table

TABLE = "raw.changed_figures"
# A figure's key, less its metric (the feed) and source: what the record holds per changed row.
KEY_COLUMNS = ("entity", "entity_type", "powertrain", "period_start", "period_end")
_KEY = ", ".join(KEY_COLUMNS)

DDL = f"""
create schema if not exists raw;
create or replace table {TABLE} (
    metric varchar not null,
    entity varchar,
    entity_type varchar,
    powertrain varchar,
    period_start date,
    period_end date
);
comment on table {TABLE} is 'The figure keys the last run changed (rows added, removed or judged anew): what its incremental build recomputed.';
"""


def reset(con: duckdb.DuckDBPyConnection) -> None:
    """Start an incremental run's record: no key changed yet."""
    con.execute(DDL)


def record_every_figure(con: duckdb.DuckDBPyConnection) -> None:
    """Every loaded figure's key, as if each had changed: for a run whose brands changed. A brand's
    group decides the brand mix and the findings that add a group's brands up, and neither reads
    the record by brand; so an incremental build then rebuilds every row, from the loaded rows,
    keeping the rows of files removed without --prune (which a rebuild from the files would lose)."""
    for feed in FIGURE_FEEDS:
        if _recording(con, feed):
            con.execute(f"insert into {TABLE} select distinct ? as metric, {_KEY} from loaded.{feed}", [feed])


def _recording(con: duckdb.DuckDBPyConnection, feed: str) -> bool:
    """True for a figure feed in an incremental build (one whose record was started)."""
    if feed not in FIGURE_FEEDS:
        return False
    return has_table(con, TABLE)


def record_file(con: duckdb.DuckDBPyConnection, feed: str, name: str) -> None:
    """The keys of every row a landing file (by its landing name) brought: before they go, or once loaded."""
    if _recording(con, feed):
        con.execute(f"insert into {TABLE} select distinct ? as metric, {_KEY} from loaded.{feed} where _file = ?", [feed, name])


def verdicts_before(con: duckdb.DuckDBPyConnection, feed: str) -> None:
    """Keep the rows validation rejected last time (file and line), to compare with this run's verdicts."""
    if _recording(con, feed):
        con.execute(
            f"create or replace temp table _rejected_before as select source_file, line from {QUARANTINE} where feed = ? and stage = 'validate'",
            [feed],
        )


def record_new_verdicts(con: duckdb.DuckDBPyConnection, feed: str) -> None:
    """The keys of rows whose verdict changed: rejected now and not before, or the other way round."""
    if not _recording(con, feed):
        return
    con.execute(
        f"""
        insert into {TABLE}
        with rejected_now as (
            select source_file, line from {QUARANTINE} where feed = $feed and stage = 'validate'
        ),
        changed as (
            (select * from rejected_now except select * from _rejected_before)
            union all
            (select * from _rejected_before except select * from rejected_now)
        )
        select distinct $feed as metric, {", ".join(f"figure.{column}" for column in KEY_COLUMNS)}
        from loaded.{feed} as figure
        inner join changed on changed.source_file = figure._file and changed.line = figure._line
        """,
        {"feed": feed},
    )
    con.execute("drop table _rejected_before")
