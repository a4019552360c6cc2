"""Every publish writes every mart as Parquet beside the warehouse: the same rows, read with a
fresh DuckDB connection; swapped in with the warehouse, never before and never half; a run killed
during publish leaves the previous set as it was."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from tests.conftest import query, sha256

MARTS = ["brand_mix", "data_quality_findings", "growth_rates", "localization_summary", "localization_timeline", "monthly_figures"]
# The seeds report no single months and no consecutive year-to-date figures: the mart is empty there.
EMPTY_ON_SEEDS = {"monthly_figures"}


def parquet_set(warehouse: Path) -> dict[str, str]:
    """The files the link leads to, by name, with their content hashes."""
    link = warehouse.with_suffix(".parquet")
    return {path.name: sha256(path) for path in sorted(link.iterdir())}


def assert_parquet_matches_warehouse(warehouse: Path) -> str:
    """Each mart's Parquet file holds exactly the warehouse's rows; return the run id they carry."""
    link = warehouse.with_suffix(".parquet")
    assert sorted(path.name for path in link.iterdir()) == [f"{mart}.parquet" for mart in MARTS]
    (published_run,) = query(warehouse, "select run_id from ops.publication")[0]
    with duckdb.connect() as fresh:  # in memory: knows nothing of the warehouse
        for mart in MARTS:
            from_parquet = fresh.execute(f"select * from read_parquet('{link / mart}.parquet') order by all").fetchall()
            from_warehouse = query(warehouse, f"select * from marts.{mart} order by all")
            assert from_parquet == from_warehouse, mart
            assert from_parquet or mart in EMPTY_ON_SEEDS, mart
            columns = fresh.execute(
                f"select name, type from parquet_schema('{link / mart}.parquet') where name != 'duckdb_schema'"
            ).fetchall()
            assert [name for name, _ in columns if name not in ("list", "element")] == [
                name
                for (name,) in query(
                    warehouse, f"select column_name from duckdb_columns() where table_name = '{mart}' order by column_index"
                )
            ]
            run_ids = fresh.execute(f"select distinct run_id from read_parquet('{link / mart}.parquet')").fetchall()
            assert run_ids == ([(published_run,)] if from_parquet else []), mart
    return published_run


def test_parquet_files_hold_the_warehouses_rows(published):
    warehouse, _ = published
    run_id = assert_parquet_matches_warehouse(warehouse)

    link = warehouse.with_suffix(".parquet")
    assert link.is_symlink() and os.readlink(link) == f".outbound.parquet-{run_id}"  # relative: the folder can move
    with duckdb.connect() as fresh:
        shares = fresh.execute(
            f"select segment, units from read_parquet('{link}/brand_mix.parquet') where mix_dimension = 'brand' order by units desc limit 2"
        ).fetchall()
    assert shares == [("Chery", 1543069), ("Jetour", 573739)]


# Replaced with the warehouse and only then, never half, a run killed in publish leaving the set
# before as it was: tested with the crash tests' kill in publish and the run after it
# (tests/test_crash.py::test_killed_runs_leave_the_published_warehouse_intact), which are the same runs.


def test_a_folder_in_the_links_place_fails_the_run_before_publishing(outbound, published, landing, tmp_path):
    warehouse = tmp_path / "outbound.duckdb"
    warehouse.write_bytes(published[0].read_bytes())
    before = sha256(warehouse)
    (tmp_path / "outbound.parquet").mkdir()  # not outbound's: never replaced
    exports = landing / "exports.csv"
    exports.write_text(
        exports.read_text(encoding="utf-8") + "Chery Group,group,nev,2024-01-01,2024-11-30,4321,exact,,ref_nikkei_gwm_thailand,\n",
        encoding="utf-8",
    )

    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))

    assert result.returncode == 1
    assert f"{tmp_path / 'outbound.parquet'} exists and is not a link made by outbound" in result.stderr
    assert sha256(warehouse) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "landing",
        "logs",  # the runs' log files
        "outbound.dbt_results.jsonl",
        "outbound.duckdb",
        "outbound.parquet",
        "outbound.runs.jsonl",
    ]
