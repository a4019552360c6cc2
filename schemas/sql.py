"""The feed models' rules as SQL, so that validation runs inside DuckDB, where the rows already are.

Pulling millions of rows into pandas to validate them costs more time and memory than everything
else in a run. So each rule of a feed's pandera model is compiled to a SQL condition that is true
when a row breaks it, and one query quarantines every row that breaks any, with every rule it
broke, worded as pandera words them. The models stay the contract:

- field checks (isin, greater_than, str_matches, ...) and nullability compile from pandera's own
  Check objects and their statistics, so changing a Field changes the SQL;
- dataframe checks and cross-feed rules name their SQL twin in the model's `sql_rules`;
- a rule that is only Python (a quote must contain a figure as the source writes it) is named in
  `python_rules` with a SQL filter of the rows it can fail on, and runs on those rows only;
- a model whose check has neither fails here, at compile time, rather than going unchecked.

tests/test_contracts.py holds both paths to the same verdicts on every rule's minimal bad row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from schemas.base import KEY_TEXT_BROKEN_RE2, FeedModel, today
from schemas.references import ReferenceData

# SQL placeholders a model's rules may use.
TODAY = "{today}"


@dataclass(frozen=True)
class SqlRule:
    """A rule as SQL over one row of loaded.<feed>: when it is broken, and the sentence that says so."""

    check: str  # pandera's name for the check, as its failure cases report it
    broken: str  # SQL condition: true when the row breaks the rule
    message: str  # SQL text expression: the rule as the quarantine words it


@dataclass(frozen=True)
class PythonRule:
    """A pandera check that has no SQL form, and the SQL filter of the rows it can fail on."""

    check: pa.Check
    rows: str


@dataclass(frozen=True)
class FeedRules:
    """Everything a feed's rows are held to."""

    sql: list[SqlRule]
    python: list[PythonRule]
    unique_keys: list[list[str]]


def literal(value: object) -> str:
    """A Python value as a SQL literal."""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return f"date '{value.date().isoformat()}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {value!r}")


def _field_check_broken(column: str, check: pa.Check) -> str:
    """SQL that is true when a non-null value of `column` fails one of pandera's built-in checks."""
    stats = check.statistics
    match check.name:
        case "greater_than_or_equal_to":
            return f"{column} < {literal(stats['min_value'])}"
        case "greater_than":
            return f"{column} <= {literal(stats['min_value'])}"
        case "less_than_or_equal_to":
            return f"{column} > {literal(stats['max_value'])}"
        case "less_than":
            return f"{column} >= {literal(stats['max_value'])}"
        case "equal_to":
            return f"{column} <> {literal(stats['value'])}"
        case "not_equal_to":
            return f"{column} = {literal(stats['value'])}"
        case "isin":
            return f"{column} not in ({', '.join(map(literal, stats['allowed_values']))})"
        case "notin":
            return f"{column} in ({', '.join(map(literal, stats['forbidden_values']))})"
        case "str_length":
            parts = []
            if stats.get("exact_value") is not None:
                parts.append(f"length({column}) <> {stats['exact_value']}")
            if stats.get("min_value") is not None:
                parts.append(f"length({column}) < {stats['min_value']}")
            if stats.get("max_value") is not None:
                parts.append(f"length({column}) > {stats['max_value']}")
            return " or ".join(parts) or "false"
        case "str_matches":
            # pandera matches from the start of the value (re.match); RE2 searches, so anchor it.
            return f"not regexp_matches({column}, {literal('^(?:' + stats['pattern'] + ')')})"
        case "str_startswith":
            return f"not starts_with({column}, {literal(stats['string'])})"
        case "str_endswith":
            return f"not ends_with({column}, {literal(stats['string'])})"
        case "key_text":
            return f"regexp_matches({column}, {literal(KEY_TEXT_BROKEN_RE2)})"
    raise NotImplementedError(f"pandera check {check.name} of column {column} has no SQL form in schemas/sql.py")


def _shown(column: str, sql_type: str) -> str:
    """A failing value as the quarantine shows it: text quoted, numbers and dates plain."""
    if sql_type == "VARCHAR":
        return f"'''' || {column} || ''''"
    return f"cast({column} as varchar)"


def compile_rules(model: type[FeedModel]) -> FeedRules:
    """Every rule of `model` (its fields, its dataframe checks and its cross-feed rules) in SQL or Python."""
    schema = model.schema_with_references(ReferenceData())
    types = model.csv_columns()
    sql: list[SqlRule] = []
    unique_keys: list[list[str]] = [list(schema.unique)] if schema.unique else []
    for name, column in schema.columns.items():
        if not column.nullable:
            sql.append(SqlRule("not_nullable", f"{name} is null", literal(f"{name}: not_nullable (value None)")))
        if column.unique:
            unique_keys.append([name])
        for check in column.checks:
            sql.append(
                SqlRule(
                    check.error,
                    f"{name} is not null and ({_field_check_broken(name, check)})",
                    f"{literal(f'{name}: {check.error} (value ')} || {_shown(name, types[name])} || ')'",
                )
            )
    python: list[PythonRule] = []
    sql_rules, python_rules = model.sql_rules(), model.python_rules()
    for check in schema.checks:
        if check.name in sql_rules:
            condition = sql_rules[check.name].replace(TODAY, literal(today()))
            # A rule that cannot be told true (a comparison with a missing value) is broken, as in pandas.
            sql.append(SqlRule(check.error, f"not coalesce(({condition}), false)", literal(check.error)))
        elif check.name in python_rules:
            python.append(PythonRule(check, python_rules[check.name]))
        else:
            raise NotImplementedError(
                f"{model.__name__}: check {check.name} has neither a SQL form (sql_rules) nor a row filter (python_rules)"
            )
    return FeedRules(sql, python, unique_keys)
