"""The bench's baseline (benchmarks/baseline.py, plain DuckDB written apart from the dbt models)
computes the same marts as `outbound run`, row by row: otherwise its ratio in `make bench` would
measure nothing. Checked on a small synthetic landing set (every kind of row the bench builds at
scale), on the shipped seeds (their contradictions) and on the monthly fixture (months derived
from year-to-date figures, and their conflicts)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import duckdb
import pytest

import benchmarks.baseline
from benchmarks.baseline import MARTS
from tests.conftest import SEEDS


def marts_differ(warehouse: Path, baseline: Path) -> dict[str, tuple[int, int, int]]:
    """Per mart, (rows, rows only in Outbound's, rows only in the baseline's), lists and doubles as they are."""
    found = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{baseline}' as baseline (read_only)")
        for mart in MARTS:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_catalog = current_database() "
                    "and table_schema = 'marts' and table_name = ? and column_name <> 'run_id' order by ordinal_position",
                    [mart],
                ).fetchall()
            ]
            listed = ", ".join(f'"{name}"' for name in columns)
            ours = f"select {listed} from marts.{mart}"
            theirs = f"select {listed} from baseline.marts.{mart}"
            [(rows,)] = con.execute(f"select count(*) from marts.{mart}").fetchall()
            [(only_ours,)] = con.execute(f"select count(*) from ({ours} except all {theirs})").fetchall()
            [(only_theirs,)] = con.execute(f"select count(*) from ({theirs} except all {ours})").fetchall()
            found[mart] = (rows, only_ours, only_theirs)
    return found


def baseline(landing: Path, folder: Path) -> Path:
    """The baseline's build of `landing` in `folder` (its `main`, in this process: it is the bench's
    oracle, not a command under test, and importing it costs a subprocess a second or two)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        benchmarks.baseline.main(str(landing), str(folder))
    assert set(json.loads(printed.getvalue().splitlines()[-1])["stages"]) == {"load", "validate", "marts"}
    return folder / "baseline.duckdb"


@pytest.fixture(scope="module")
def synthetic(outbound, tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("synthetic") / "landing"
    made = outbound("synth", "--rows", "3000", "--out", str(landing), "--seed", "7")
    assert made.returncode == 0, made.output
    return landing


@pytest.mark.parametrize("landing_set", ["synthetic", "seeds", "monthly"])
def test_the_baseline_computes_the_same_marts(landing_set, synthetic, monthly, outbound, published, tmp_path):
    if landing_set == "seeds":
        landing, warehouse = SEEDS, published[0]
    elif landing_set == "monthly":  # the session's run of tests/fixtures/monthly_landing (tests/test_monthly.py reads it too)
        landing, warehouse, _ = monthly
    else:
        landing, warehouse = synthetic, tmp_path / "warehouse" / "outbound.duckdb"
        run = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))
        assert run.returncode == 0, run.output

    differ = marts_differ(warehouse, baseline(landing, tmp_path / "baseline"))

    assert differ == {mart: (rows, 0, 0) for mart, (rows, _, _) in differ.items()}
    # The marts each set fills have rows to compare (the seeds have no monthly figures, the monthly fixture no brands or plants).
    empty = {"synthetic": set(), "seeds": {"monthly_figures"}, "monthly": {"brand_mix", "localization_timeline", "localization_summary"}}
    assert {mart for mart, (rows, _, _) in differ.items() if not rows} == empty[landing_set]
