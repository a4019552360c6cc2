"""The layout keeps each fact in one place: settings, parameters, feed order, code version, imports.

Each test reads the real files (modules, profiles.yml, prefect.yaml, the dbt project) and fails when
one of them drifts from the place that owns the fact.
"""

from __future__ import annotations

import ast
import dataclasses
import graphlib
import inspect
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from flows import settings
from flows.cli import _parser
from flows.stages import manifest, quarantine
from flows.stages.load import create_tables, load_file
from flows.stages.validate import validate_feed
from schemas import FEEDS, validation_order
from schemas.sql import compile_rules

REPO = settings.REPO_DIR
FLOWS = REPO / "flows"
SEEDS = REPO / "seeds"
VARIABLE = re.compile(r"OUTBOUND_[A-Z][A-Z_]*[A-Z]")
ENV_VAR_CALL = re.compile(r"""env_var\(\s*['"](OUTBOUND_\w+)['"]\s*(?:,\s*['"]([^'"]*)['"])?\s*\)""")


def _modules() -> dict[str, Path]:
    """Every module of the flows package, by dotted name."""
    modules = {}
    for path in sorted(FLOWS.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


# --- settings


def test_every_outbound_variable_is_declared_in_settings():
    declared = {setting.name for setting in settings.SETTINGS}
    places = [*FLOWS.rglob("*.py"), *(REPO / "benchmarks").rglob("*.py"), *(REPO / "schemas").rglob("*.py")]
    places += [REPO / "profiles.yml", REPO / "Makefile", *(REPO / "dbt_project").rglob("*.sql"), *(REPO / "dbt_project").rglob("*.yml")]
    used = {name: path for path in places if "target" not in path.parts for name in VARIABLE.findall(path.read_text(encoding="utf-8"))}
    undeclared = {name: str(path.relative_to(REPO)) for name, path in used.items() if name not in declared}
    assert not undeclared, f"used but not declared in flows/settings.py: {undeclared}"
    assert len(declared) == len(settings.SETTINGS), "a variable is declared twice"
    assert all(setting.meaning for setting in settings.SETTINGS)


def test_only_settings_names_an_outbound_variable_in_code():
    """Outside flows/settings.py, the code refers to a variable as settings.X, never by its name."""
    offenders = []
    for name, path in _modules().items():
        if name == "flows.settings":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and VARIABLE.search(node.value)
            ):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value[:60]!r}")
    assert not offenders, offenders


def test_dbt_reads_the_variables_with_the_settings_defaults():
    """profiles.yml and the macros read their variables through env_var(), with the defaults settings declares."""
    by_name = {setting.name: setting for setting in settings.SETTINGS}
    files = [REPO / "profiles.yml", *(REPO / "dbt_project" / "macros").rglob("*.sql")]
    calls = [(path, name, default) for path in files for name, default in ENV_VAR_CALL.findall(path.read_text(encoding="utf-8"))]
    assert len(calls) >= 15, calls  # the test reads what it means to
    for path, name, default in calls:
        assert name in by_name, (path, name)
        assert by_name[name].default == default, f"{path.name}: {name} defaults to {default!r}, settings to {by_name[name].default!r}"


# --- the flow's parameters


def test_the_flow_takes_the_declared_parameters_with_their_defaults(monkeypatch):
    from flows.run import outbound

    signature = inspect.signature(outbound.fn)
    defaults = settings.RunParameters()
    assert tuple(signature.parameters) == settings.PARAMETER_NAMES
    for name, parameter in signature.parameters.items():
        assert parameter.default == getattr(defaults, name), name
    # Prefect's schema of the flow (what the UI shows) has each parameter
    assert set(outbound.parameters.properties) == set(settings.PARAMETER_NAMES)


def test_prefect_yaml_deploys_the_declared_parameters_and_schedule():
    deployment = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))["deployments"][0]
    defaults = {field.name: field.default for field in dataclasses.fields(settings.RunParameters)}
    defaults["warehouse"] = settings.WAREHOUSE.default
    assert deployment["name"] == settings.DEPLOYMENT
    assert deployment["parameters"] == defaults
    assert [(s["cron"], s["timezone"]) for s in deployment["schedules"]] == [(settings.DEFAULT_CRON, settings.DEFAULT_TIMEZONE)]
    assert deployment["entrypoint"] == "flows/run.py:outbound"


@pytest.mark.parametrize("command", ["run", "serve"])
def test_the_cli_takes_every_parameter(command):
    parser = _parser()
    args = parser.parse_args([command])
    assert all(getattr(args, name) is None for name in settings.PARAMETER_NAMES), "unset options must not override the defaults"
    given = parser.parse_args([command, "--landing", "x", "--strict", "--full-refresh", "--prune", "--unit-tests", "--target", "spark"])
    assert {name: getattr(given, name) for name in settings.PARAMETER_NAMES} == {
        "landing": "x",
        "warehouse": None,
        "strict": True,
        "full_refresh": True,
        "prune": True,
        "target": "spark",
        "unit_tests": True,
    }
    if command == "serve":
        assert (args.cron, args.timezone) == (settings.DEFAULT_CRON, settings.DEFAULT_TIMEZONE)


# --- feed order


def test_validation_order_follows_the_declared_references_whatever_the_feeds_order():
    order = validation_order()
    assert sorted(order) == sorted(FEEDS)
    for feed, model in FEEDS.items():
        assert all(order.index(ref) < order.index(feed) for ref in model.references()), (feed, order)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = list(FEEDS.items())
        rng.shuffle(shuffled)
        assert validation_order(dict(shuffled)) == order


def test_declared_references_are_the_feeds_the_rules_read():
    """A feed's SQL rules read raw.<feed> of exactly the feeds it declares: the declaration cannot drift."""
    for feed, model in FEEDS.items():
        read = set(re.findall(r"\braw\.(\w+)", str(compile_rules(model))))
        assert read == set(model.references()), (feed, read, model.references())


def test_a_circle_of_references_is_refused():
    class Loops:
        @classmethod
        def references(cls):
            return ("b",)

    class Back:
        @classmethod
        def references(cls):
            return ("a",)

    with pytest.raises(graphlib.CycleError):
        validation_order({"a": Loops, "b": Back})


def _validate_landing(landing: Path, order: list[str]) -> dict[str, list]:
    with duckdb.connect() as con:
        quarantine.create(con)
        for feed, model in FEEDS.items():
            create_tables(con, feed, model.csv_columns())
            for path in sorted(landing.glob(f"{feed}*.csv")):
                load_file(con, feed, path, model.csv_columns(), "test")
        for feed in order:
            validate_feed(con, feed, "test")
        tables = {feed: sorted(map(str, con.execute(f"select * from raw.{feed}").fetchall())) for feed in FEEDS}
        tables["quarantine"] = sorted(map(str, con.execute("select feed, line, failed_rules from quarantine.rejected_rows").fetchall()))
        return tables


def test_shuffled_feeds_validate_to_the_same_rows(tmp_path):
    """Validated in the derived order from any ordering of the feeds, the seeds plus a broken brand row
    and a sales row of that brand give the same valid rows and quarantine (the brand rejected, so the
    sales row too); validating sales before brands, as a fixed order might, would let the sales row in."""
    landing = tmp_path / "landing"
    shutil.copytree(SEEDS, landing)
    with (landing / "brands.csv").open("a", encoding="utf-8") as brands:
        brands.write("Nobrand,,a brand with no group: rejected\n")
    first = (SEEDS / "sales.csv").read_text(encoding="utf-8").splitlines()[1]
    assert first.startswith("Chery Group,group,")
    with (landing / "sales.csv").open("a", encoding="utf-8") as sales:
        sales.write(first.replace("Chery Group,group,", "Nobrand,brand,", 1) + "\n")
    expected = _validate_landing(landing, validation_order())
    assert [row for row in expected["quarantine"] if "sales" in row and "brand" in row], expected["quarantine"]
    rng = random.Random(11)
    for _ in range(3):
        shuffled = list(FEEDS.items())
        rng.shuffle(shuffled)
        assert _validate_landing(landing, validation_order(dict(shuffled))) == expected
    naive = ["sales", *[feed for feed in FEEDS if feed != "sales"]]
    assert _validate_landing(landing, naive) != expected  # the order matters: the test can fail


# --- code version


def _shaping_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in manifest.SHAPING:
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
        else:
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_code_version_covers_every_module_that_shapes_the_warehouse():
    files = {path.relative_to(REPO).as_posix() for path in manifest.code_files()}
    for needed in ("flows/stages/quarantine.py", "flows/stages/load.py", "flows/stages/validate.py", "flows/stages/manifest.py"):
        assert needed in files
    assert {"schemas/base.py", "dbt_project/dbt_project.yml"} <= files
    assert any(name.startswith("dbt_project/models/marts/") for name in files)
    assert any(name.startswith("dbt_project/macros/") for name in files)
    # Every flows module a stage imports is either counted, or one that shapes nothing.
    shapes_nothing = {"flows.errors", "flows.settings", "flows.interrupts", "flows.devtools.faults", "flows.retries"}
    shapes_nothing |= {name for name in _modules() if name.startswith(("flows.warehouse", "flows.records"))}
    for name, imported in _imports().items():
        if name.startswith(("flows.stages", "flows.build")):
            for other in imported:
                path = _modules()[other].relative_to(REPO).as_posix()
                assert path in files or other in shapes_nothing, (name, other)


def test_changing_or_moving_shaping_code_changes_the_version_and_never_fails(tmp_path):
    root = _shaping_copy(tmp_path)
    before = manifest.code_version(root)
    assert before == manifest.code_version(root) == manifest.code_version(REPO)
    quarantine_module = root / "flows" / "stages" / "quarantine.py"
    quarantine_module.write_text(quarantine_module.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    changed = manifest.code_version(root)
    assert changed != before
    (root / "flows" / "stages" / "precision.py").rename(root / "flows" / "stages" / "written_precision.py")  # a module moved
    moved = manifest.code_version(root)
    assert moved not in {before, changed}
    (root / "flows" / "stages" / "written_precision.py").unlink()  # and one gone
    assert manifest.code_version(root) not in {before, changed, moved}


# --- imports


def _imports() -> dict[str, set[str]]:
    """Which flows modules each flows module imports, anywhere in it (top level or inside a function)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flows"):
                for alias in node.names:
                    dotted = f"{node.module}.{alias.name}"
                    found.add(dotted if dotted in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in modules}
        graph[name] = {other for other in found if other in modules and other != name}
    return graph


def test_no_module_imports_one_that_imports_it_back():
    graph = {name: {other for other in imported if other != "flows"} for name, imported in _imports().items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"an import circle: {' -> '.join(error.args[1])}")


def test_importing_any_module_changes_nothing_process_wide():
    """In a fresh interpreter: the environment, warning filters, signal handlers, logging and working
    folder are the same after importing every flows module as before (once the libraries they import,
    Prefect and dbt included, are imported: what those do is theirs)."""
    names = sorted(_modules())
    libraries = sorted(
        {
            (node.module if isinstance(node, ast.ImportFrom) else alias.name)
            for path in _modules().values()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Import | ast.ImportFrom) and not (isinstance(node, ast.ImportFrom) and node.level)
            for alias in node.names
        }
        - {None}
    )
    libraries = [name for name in libraries if not name.startswith(("flows", "schemas", "__future__"))]
    script = f"""
import importlib, json, logging, os, signal, sys, warnings
for library in {libraries!r}:
    try:
        importlib.import_module(library)
    except ImportError:
        pass  # an optional extra (pyspark, pyhive) that is not installed
def state():
    return {{
        "env": dict(os.environ),
        "warnings": [repr(f) for f in warnings.filters],
        "signals": {{int(s): repr(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}},
        "root_handlers": [type(h).__name__ for h in logging.getLogger().handlers],
        "cwd": os.getcwd(),
        "raise_exceptions": logging.raiseExceptions,
    }}
before = state()
for name in {names!r}:
    importlib.import_module(name)
after = state()
print(json.dumps({{key: [before[key], after[key]] for key in before if before[key] != after[key]}}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    changed = json.loads(result.stdout.strip().splitlines()[-1])
    if "env" in changed:
        before, after = changed["env"]
        changed["env"] = {
            key: (before.get(key), after.get(key)) for key in before.keys() | after.keys() if before.get(key) != after.get(key)
        }
    assert changed == {}, changed


def test_the_flow_body_only_calls_tasks():
    """No DuckDB connection, file or dbt work in the flow function or its helpers: each stage is a task."""
    source = (FLOWS / "run.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    tasks = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "task" for d in node.decorator_list)
    }
    assert len(tasks) >= 10, tasks
    flow_side = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name not in tasks]
    for function in flow_side:
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in {("engine", "connect"), ("duckdb", "connect")}, function.name
