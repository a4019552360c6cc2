"""Validate: hold every loaded row of a feed to the feed's pandera model, inside DuckDB.

The model's rules run as SQL compiled from it (schemas/sql.py) on loaded.<feed> where it lies, so
no row is copied out: one query finds every rule every row breaks (pandera's lazy validation, in
SQL), and the only rows that reach Python are those a Python-only rule can fail on (the few that
carry a quote). Rows that break a rule go to the quarantine with their values and every rule they
broke, and so out of the view raw.<feed> that dbt reads.

A row's verdict depends on the row, on the reference feeds' valid rows (a new source can make an
old row valid) and on the other rows with its key (a new file can duplicate an old key). So a run
judges every row of a feed when it rebuilds, or when a feed the rules read changed; otherwise
(`changed_only`, an incremental run of a figure feed) it judges only the rows whose key it changed
(flows.stages.changes: the rows of new and changed files and the keys of the rows that went),
which are all the rows whose verdict can differ from the last run's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb
import pandas as pd

from flows.stages import changes
from flows.stages.quarantine import TABLE as QUARANTINE
from schemas import FEEDS
from schemas.sql import FeedRules, compile_rules

# A duplicate key's message names at most this many of the other rows that hold it.
DUPLICATES_NAMED = 5
# The rows an incremental run judges (validate_feed's changed_only), a temp table.
JUDGED = "_judged"


@dataclass(frozen=True)
class FeedValidation:
    feed: str
    rows_valid: int
    rows_rejected: int


@cache
def rules_of(feed: str) -> FeedRules:
    return compile_rules(FEEDS[feed])


def validate_feed(con: duckdb.DuckDBPyConnection, feed: str, run_id: str, changed_only: bool = False) -> FeedValidation:
    """Validate loaded.<feed>, quarantining the rows that break a rule; the counts of valid and rejected rows.

    The reference feeds (sources, countries, brands) must be validated first: the other feeds'
    cross-feed rules read their valid rows from raw.<feed>. With `changed_only`, only the rows
    whose key this run changed are judged (temp table _judged); the others keep their verdicts.
    """
    rules = rules_of(feed)
    columns = list(FEEDS[feed].csv_columns())
    rows = JUDGED if changed_only else f"loaded.{feed}"
    if changed_only:
        _select_changed_rows(con, feed)
        con.execute(
            f"delete from {QUARANTINE} where feed = ? and stage = 'validate' and (source_file, line) in (select _file, _line from {JUDGED})",
            [feed],
        )
    else:
        con.execute(f"delete from {QUARANTINE} where feed = ? and stage = 'validate'", [feed])
    con.execute("create or replace temp table _other_rules (_file varchar, _line bigint, rule varchar)")
    for key in rules.unique_keys:
        _find_duplicates(con, rows, key)
    for rule in rules.python:
        _run_python_rule(con, rows, columns, rule.check, rule.rows)

    broken_any = " or ".join(f"coalesce({rule.broken}, false)" for rule in rules.sql) or "false"
    messages = ", ".join(f"case when coalesce({rule.broken}, false) then {rule.message} end" for rule in rules.sql)
    values = ", ".join(f"{name} := {name}" for name in columns)
    con.execute(
        f"""
        insert into {QUARANTINE} (run_id, feed, source_file, line, stage, raw_values, failed_rules)
        with other_rules as (
            select _file, _line, list(rule order by rule) as rules from _other_rules group by _file, _line
        ),
        judged as (
            select
                this._file, this._line,
                to_json(struct_pack({values})) as raw_values,
                list_filter([{messages}], lambda rule: rule is not null) || coalesce(other_rules.rules, []) as failed_rules
            from {rows} as this
            left join other_rules using (_file, _line)
            where ({broken_any}) or other_rules._line is not null
        )
        select $run_id, $feed, _file, _line, 'validate', raw_values, failed_rules
        from judged
        """,
        {"run_id": run_id, "feed": feed},
    )
    loaded, rejected = con.execute(
        f"select (select count(*) from loaded.{feed}), (select count(*) from {QUARANTINE} where feed = ? and stage = 'validate')",
        [feed],
    ).fetchall()[0]
    con.execute("drop table _other_rules")
    return FeedValidation(feed, loaded - rejected, rejected)


def _select_changed_rows(con: duckdb.DuckDBPyConnection, feed: str) -> None:
    """Temp table _judged: the rows of loaded.<feed> whose key (entity, type, powertrain, period) this
    run recorded as changed. Every row sharing a unique key with one of them is among them too (the
    unique key holds those columns), so duplicates are found among them alone."""
    same_key = " and ".join(f"changed.{name} is not distinct from this.{name}" for name in changes.KEY_COLUMNS)
    con.execute(
        f"""
        create or replace temp table {JUDGED} as
        select * from loaded.{feed} as this
        where exists (select 1 from {changes.TABLE} as changed where changed.metric = ? and {same_key})
        """,
        [feed],
    )


def _find_duplicates(con: duckdb.DuckDBPyConnection, rows: str, key: list[str]) -> None:
    """Reject every row of `rows` whose key another row holds too, naming the others: nothing says which one is right.

    Missing values in a key are equal to each other, as pandera's uniqueness check has them.
    """
    columns = ", ".join(key)
    same_key = " and ".join(f"this.{name} is not distinct from dup.{name}" for name in key)
    # Counting first (an aggregate DuckDB can spill to disk), so that only the rows of duplicated
    # keys, usually few, are gathered into lists of places.
    con.execute(
        f"""
        insert into _other_rules
        with duplicated_keys as (
            select {columns} from {rows} group by {columns} having count(*) > 1
        ),
        duplicated_rows as (
            select this.* from {rows} as this semi join duplicated_keys as dup on {same_key}
        ),
        duplicated as (
            select {columns}, count(*) as copies,
                list(_file || ':' || _line order by _file, _line)[1:{DUPLICATES_NAMED + 1}] as places
            from duplicated_rows
            group by {columns}
        )
        select this._file, this._line,
            'duplicate key ({", ".join(key)}): the same key is on '
            || array_to_string(list_filter(dup.places, lambda place: place <> this._file || ':' || this._line)[1:{DUPLICATES_NAMED}], ', ')
            || case when dup.copies - 1 > {DUPLICATES_NAMED} then ' and ' || (dup.copies - 1 - {DUPLICATES_NAMED}) || ' more' else '' end
        from duplicated_rows as this
        join duplicated as dup on {same_key}
        """
    )


def _run_python_rule(con: duckdb.DuckDBPyConnection, rows: str, columns: list[str], check, where: str) -> None:
    """Run a pandera check that has no SQL form on the only rows it can fail on.

    The values are already typed by the loader, so they go to the check as DuckDB hands them to
    pandas (no second coercion, which pandas could not do for a date past 2262 anyway).
    """
    frame = con.execute(f"select _file, _line, {', '.join(columns)} from {rows} as this where {where}").df()
    if frame.empty:
        return
    values = frame[columns]
    kept = pd.Series(check(values).check_output, index=values.index).fillna(False).astype(bool)
    failed = frame.loc[~kept, ["_file", "_line"]].assign(rule=check.error)
    con.register("_python_failures", failed)
    con.execute("insert into _other_rules select _file, _line, rule from _python_failures")
    con.unregister("_python_failures")
