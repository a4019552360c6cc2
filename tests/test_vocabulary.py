"""One vocabulary: the values a feed column may hold are declared once, by the feed contracts
(schemas/), and every other place that writes them is held to the contracts here.

The places: the dbt vars (dbt_project.yml) that the marts' check constraints and macros are
rendered from; any list of values written out in the dbt yml files (accepted_values, a check
constraint) or in SQL (`milestone in (...)`); the column descriptions and the README's feed table
that name the values; the report's milestone styles and entity-type order; the synthetic feeds.
A value renamed, added or dropped in one place and not in the contract fails one of these tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from flows.commands import report
from flows.devtools import synth
from schemas import PlantLaunchesModel, SalesModel
from schemas.figures import ENTITY_TYPES, POWERTRAINS, UNITS_QUALIFIERS
from schemas.plant_launches import ASSEMBLY_MODES, DATE_PRECISIONS, MILESTONES
from tests.conftest import query

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"

# Each vocabulary: the column that holds it, the contract that declares it, and the dbt var of it.
VOCABULARIES = {
    "entity_type": (ENTITY_TYPES, SalesModel, "entity_types"),
    "powertrain": (POWERTRAINS, SalesModel, "powertrains"),
    "units_qualifier": (UNITS_QUALIFIERS, SalesModel, "units_qualifiers"),
    "milestone": (MILESTONES, PlantLaunchesModel, "plant_milestones"),
    "date_precision": (DATE_PRECISIONS, PlantLaunchesModel, "date_precisions"),
    "assembly_mode": (ASSEMBLY_MODES, PlantLaunchesModel, "assembly_modes"),
}
VOCABULARY_IDS = list(VOCABULARIES)
# `<column> in ('a', 'b', ...)` written out, in SQL or in a yml expression.
LITERAL_LIST = re.compile(r"\b(?P<column>\w+)\s+in\s*\((?P<values>\s*'[^']*'(?:\s*,\s*'[^']*')*\s*)\)", re.IGNORECASE)
# A check constraint that takes the values from the dbt var (rendered when dbt parses).
FROM_VAR = re.compile(r"""^(?P<column>\w+) in \('\{\{ var\("(?P<var>\w+)"\) \| join\("', '"\) \}\}'\)$""")


def dbt_vars() -> dict:
    return yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]


def literal_values(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def yml_columns():
    """Every column of every model and source table in the dbt project's yml files: (file, model, column)."""
    for path in sorted((DBT_PROJECT / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for model in document.get("models", []):
            for column in model.get("columns", []):
                yield path, model, column
        for source in document.get("sources", []):
            for table in source.get("tables", []):
                for column in table.get("columns", []):
                    yield path, table, column


@pytest.mark.parametrize("column", VOCABULARY_IDS)
def test_the_contract_checks_its_own_vocabulary(column):
    """The contract's field holds exactly the declared list (isin), so the list is the rule, not a copy."""
    values, model, _ = VOCABULARIES[column]
    [isin] = [check for check in model.to_schema().columns[column].checks if check.name == "isin"]
    assert list(isin.statistics["allowed_values"]) == values


@pytest.mark.parametrize("column", VOCABULARY_IDS)
def test_dbt_vars_equal_the_contracts(column):
    values, _, var = VOCABULARIES[column]
    assert dbt_vars()[var] == values, f"dbt_project.yml vars.{var} differs from the contract ({var} order matters too)"


def test_milestone_vars_use_only_the_contracts_milestones():
    variables = dbt_vars()
    assert set(variables["local_production_milestones"]) <= set(MILESTONES)
    for earlier, later in variables["milestone_order"]:
        assert MILESTONES.index(earlier) < MILESTONES.index(later), (earlier, later)


def test_yml_lists_of_values_are_the_contracts():
    """accepted_values and check constraints on a vocabulary's column allow exactly its values;
    every mart column of a vocabulary has such a check (a contract constraint)."""
    checked = set()
    for path, model, column in yml_columns():
        name = column["name"]
        if name not in VOCABULARIES:
            continue
        values, _, var = VOCABULARIES[name]
        where = f"{path.relative_to(REPO)}: {model['name']}.{name}"
        for test in column.get("data_tests", []):
            if isinstance(test, dict) and "accepted_values" in test:
                assert test["accepted_values"]["arguments"]["values"] == values, where
        for constraint in column.get("constraints", []):
            if constraint["type"] != "check":
                continue
            expression = " ".join(constraint["expression"].split())
            from_var = FROM_VAR.match(expression)
            if from_var:
                assert (from_var["column"], from_var["var"]) == (name, var), where
            else:
                assert literal_values(expression) == values, where
            checked.add((path.stem, model["name"], name))
        if path.parent.name == "marts":
            assert (path.stem, model["name"], name) in checked, f"{where}: no check constraint of its values"


def test_descriptions_that_name_values_name_them_all():
    """A column description that quotes one value of its vocabulary quotes every one (no stale list)."""
    for path, model, column in yml_columns():
        name = column["name"]
        if name not in VOCABULARIES:
            continue
        values = VOCABULARIES[name][0]
        quoted = set(literal_values(column.get("description", ""))) & set(values)
        if quoted:
            assert quoted == set(values), f"{path.relative_to(REPO)}: {model['name']}.{name} names {sorted(quoted)}"


def test_sql_lists_of_values_are_in_the_contracts():
    """Every `<column> in ('a', ...)` of a vocabulary's column written in the project's SQL (models,
    macros, analyses, the flows' queries) names only values the contract allows."""
    sources = [
        path for path in DBT_PROJECT.rglob("*.sql") if path.is_file() and not {"target", "logs"} & set(path.relative_to(DBT_PROJECT).parts)
    ]
    files = [*sources, *(REPO / "analyses").glob("*.sql"), *(REPO / "flows").rglob("*.py")]
    seen = 0
    for path in files:
        for match in LITERAL_LIST.finditer(path.read_text()):
            if match["column"] in VOCABULARIES:
                allowed = VOCABULARIES[match["column"]][0]
                assert set(literal_values(match["values"])) <= set(allowed), f"{path.relative_to(REPO)}: {match[0]}"
                seen += 1
    assert seen  # the scan finds the lists it is for (analyses/months_to_local_production.sql)


def test_the_analysis_local_production_milestones_are_dbt_s():
    text = (REPO / "analyses" / "months_to_local_production.sql").read_text()
    [written] = [m["values"] for m in LITERAL_LIST.finditer(text) if m["column"] == "milestone"]
    assert literal_values(written) == dbt_vars()["local_production_milestones"]


def test_readme_feed_table_names_the_contracts_values():
    # The rows of the landing feeds' table: "| `sales.csv`, `exports.csv` | ... | entity_type (country, group, brand), ..."
    feeds = "\n".join(line for line in (REPO / "README.md").read_text().splitlines() if re.match(r"\| `\w+\.csv`", line))
    for column, (values, _, _) in VOCABULARIES.items():
        [written] = re.findall(rf"\b{column} \(([^)]*)\)", feeds)
        assert [value.strip() for value in written.split(",")] == values, column


def test_report_and_synth_use_the_contracts_values():
    assert list(report._MILESTONES) == MILESTONES  # the legend's order is the plant's
    assert set(report._ENTITY_TYPE_ORDER) == set(ENTITY_TYPES)
    assert set(synth.POWERTRAINS) <= set(POWERTRAINS)


def test_published_marts_allow_exactly_the_contracts_values(published):
    """The check constraints DuckDB enforces on the published marts name the contracts' values."""
    warehouse, _ = published
    checks = query(
        warehouse,
        "select table_name, constraint_text from duckdb_constraints() where schema_name = 'marts' and constraint_type = 'CHECK'",
    )
    found = set()
    for table, text in checks:
        for match in LITERAL_LIST.finditer(text):
            if match["column"] in VOCABULARIES:
                assert literal_values(match["values"]) == VOCABULARIES[match["column"]][0], (table, text)
                found.add((table, match["column"]))
    assert {
        ("growth_rates", "entity_type"),
        ("growth_rates", "powertrain"),
        ("growth_rates", "units_qualifier"),
        ("monthly_figures", "powertrain"),
        ("localization_timeline", "milestone"),
        ("localization_timeline", "date_precision"),
        ("localization_timeline", "assembly_mode"),
    } <= found
