"""Validate: hold every loaded row of a feed to the feed's pandera model, lazily.

Lazy validation reports every rule every row breaks in one pass. All rows are judged again on
each build (a new source can make an old row valid; a new file can duplicate an old key). Rows
that break a rule go to the quarantine with their values and rules, and so out of the view
raw.<feed> that dbt reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.errors

from flows.errors import OutboundError
from flows.quarantine import TABLE as QUARANTINE
from schemas import FEEDS, ReferenceData

# pandera's names for its uniqueness checks, which the quarantine words as duplicate keys.
_UNIQUENESS_CHECKS = {"multiple_fields_uniqueness", "field_uniqueness"}


@dataclass(frozen=True)
class FeedValidation:
    feed: str
    rows_valid: int
    rows_rejected: int


def validate_feed(con: duckdb.DuckDBPyConnection, feed: str, refs: ReferenceData, run_id: str) -> tuple[FeedValidation, ReferenceData]:
    """Validate loaded.<feed>, quarantining the rows that break a rule; the counts and the references the valid rows add."""
    model = FEEDS[feed]
    loaded = con.execute(f"select * from loaded.{feed} order by _file, _line").df()
    values = loaded.drop(columns=["_file", "_line"])
    schema = model.schema_with_references(refs)
    try:
        schema.validate(values, lazy=True)
        failed_rules: dict[int, list[str]] = {}
    except pandera.errors.SchemaErrors as errors:
        failed_rules = _rules_by_row(errors.failure_cases, feed, loaded, model.to_schema().unique)

    con.execute(f"delete from {QUARANTINE} where feed = ? and stage = 'validate'", [feed])
    rejected = loaded.loc[list(failed_rules)]
    if len(rejected):
        quarantine_rows = pd.DataFrame(
            {
                "run_id": run_id,
                "feed": feed,
                "source_file": rejected["_file"],
                "line": rejected["_line"],
                "raw_values": [_as_json(row) for row in values.loc[rejected.index].to_dict("records")],
                "failed_rules": [failed_rules[index] for index in rejected.index],
            }
        )
        con.register("_rejected_rows", quarantine_rows)
        con.execute(
            f"insert into {QUARANTINE} (run_id, feed, source_file, line, stage, raw_values, failed_rules) "
            "select run_id, feed, source_file, line, 'validate', raw_values, failed_rules from _rejected_rows"
        )
        con.unregister("_rejected_rows")

    valid = values.drop(index=rejected.index)
    return FeedValidation(feed, len(valid), len(rejected)), refs.with_feed(feed, valid)


def _rules_by_row(failure_cases: pd.DataFrame, feed: str, loaded: pd.DataFrame, unique_columns: list[str] | None) -> dict[int, list[str]]:
    """Turn pandera's failure cases into, per failing row, the sentences of the rules it broke."""
    whole_feed = failure_cases[failure_cases["index"].isna()]
    if len(whole_feed):
        problems = "; ".join(f"{case.column}: {case.check}" for case in whole_feed.itertuples())
        raise OutboundError(f"feed {feed}: the loaded table does not match the feed's model: {problems}")

    rules: dict[int, list[str]] = {}
    for case in failure_cases.itertuples():
        index = int(case.index)
        if case.check in _UNIQUENESS_CHECKS:
            key = unique_columns if case.check == "multiple_fields_uniqueness" and unique_columns else [case.column]
            rule = _duplicate_rule(loaded, index, key)
        elif case.schema_context == "Column":
            rule = f"{case.column}: {case.check} (value {_shown(case.failure_case)})"
        else:
            rule = str(case.check)
        row_rules = rules.setdefault(index, [])
        if rule not in row_rules:
            row_rules.append(rule)
    return rules


def _duplicate_rule(loaded: pd.DataFrame, index: int, key: list[str]) -> str:
    """'duplicate key (...)', naming the other rows with the same key: all of them are rejected,
    since nothing says which one is right."""
    same = (loaded[key] == loaded.loc[index, key]) | (loaded[key].isna() & loaded.loc[index, key].isna())
    others = loaded[same.all(axis=1) & (loaded.index != index)]
    places = ", ".join(f"{file}:{line}" for file, line in zip(others["_file"], others["_line"], strict=True))
    return f"duplicate key ({', '.join(key)}): the same key is on {places}"


def _shown(value: object) -> str:
    """A failing value as the message shows it: text quoted, numbers plain (not np.int64(-5))."""
    value = value.item() if hasattr(value, "item") else value
    return repr(value) if isinstance(value, str) else str(value)


def _as_json(row: dict) -> str:
    """The row's values as text, missing values as null: what the analyst sees in the quarantine."""
    return json.dumps({name: None if pd.isna(value) else _as_text(value) for name, value in row.items()}, ensure_ascii=False)


def _as_text(value: object) -> str | int | float:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, int | float | str):
        return value
    return str(value)
