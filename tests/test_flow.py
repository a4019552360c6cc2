"""The flow, run for real on real files: what it publishes, and what it refuses to."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import settings
from flows.build.runner import build_link
from tests.conftest import REPO, query, sha256
from tests.test_docs import described_models

CHERY_JAN_NOV = ("Chery Group", "2024-01-01", "2024-11-30")


def brand_mix(warehouse_sql, dimension: str) -> dict[str, tuple[int, float]]:
    rows = warehouse_sql(
        "select segment, units, share_of_group from marts.brand_mix "
        "where group_name = ? and period_start = ? and period_end = ? and mix_dimension = ?",
        [*CHERY_JAN_NOV, dimension],
    )
    return {segment: (units, share) for segment, units, share in rows}


def test_run_prints_summary(published):
    warehouse, result = published
    assert "sales" in result.stdout and "plant_launches" in result.stdout
    assert f"warehouse: {warehouse}" in result.stdout
    assert "models built" in result.stdout and "data tests passed" in result.stdout
    assert "valid rows" in result.stdout and "row(s) rejected" not in result.stdout


def test_brand_shares_of_chery_group(warehouse_sql):
    mix = brand_mix(warehouse_sql, "brand")
    assert mix["Chery"] == (1_543_069, pytest.approx(1_543_069 / 2_561_465))
    assert mix["Jetour"][0] == 573_739
    assert mix["Not broken out"] == (162_392, pytest.approx(162_392 / 2_561_465))
    assert set(mix) == {"Chery", "Jetour", "Exeed", "Luxeed", "iCAR", "Not broken out"}
    assert sum(units for units, _ in mix.values()) == 2_561_465
    assert sum(share for _, share in mix.values()) == pytest.approx(1.0)


def test_powertrain_and_channel_mix(warehouse_sql):
    assert brand_mix(warehouse_sql, "powertrain") == {
        "NEV": (814_685, pytest.approx(814_685 / 2_561_465)),
        "Non-NEV": (1_746_780, pytest.approx(1_746_780 / 2_561_465)),
    }
    assert brand_mix(warehouse_sql, "channel") == {
        "Exports": (1_199_590, pytest.approx(1_199_590 / 2_561_465)),
        "Domestic": (1_361_875, pytest.approx(1_361_875 / 2_561_465)),
    }


def test_growth_rates_imply_prior_figures(warehouse_sql):
    rows = warehouse_sql(
        "select metric, powertrain, units, reported_yoy_pct, implied_prior_units, prior_units, computed_yoy_pct, comparable_periods "
        "from marts.growth_rates where entity = 'Chery Group' and period_end = date '2024-11-30' order by metric, powertrain"
    )
    exports, sales_all, sales_nev = rows
    assert exports[:4] == ("exports", "all", 1_199_590, 14.7)
    assert exports[4] == pytest.approx(1_199_590 / 1.147)
    # Jan-Nov 2024 against full-year 2023: computed, but flagged as not comparable.
    assert exports[5] == 937_148
    assert exports[6] == pytest.approx((1_199_590 / 937_148 - 1) * 100)
    assert exports[7] is False
    assert sales_all[4] == pytest.approx(2_561_465 / 1.111)
    assert sales_nev[4] == pytest.approx(814_685 / 1.694)
    assert sales_all[5] is None and sales_all[7] is None


def test_growth_rate_without_units(warehouse_sql):
    [(units, yoy, implied)] = warehouse_sql(
        "select units, reported_yoy_pct, implied_prior_units from marts.growth_rates "
        "where entity = 'China' and metric = 'exports' and powertrain = 'nev'"
    )
    assert (units, yoy, implied) == (None, 75.2, None)


def test_when_each_group_started_building_abroad(warehouse_sql):
    firsts = dict(
        warehouse_sql(
            "select distinct group_name || ' / ' || country, first_local_production_date from marts.localization_timeline "
            "where group_name in ('BYD', 'Changan') and first_local_production_date is not null"
        )
    )
    assert str(firsts["BYD / Thailand"]) == "2024-07-04"
    assert str(firsts["BYD / Uzbekistan"]) == "2024-01-25"
    assert str(firsts["BYD / Brazil"]) == "2025-07-01"
    # The article's "In May" and the reference's 2025-05-16 are one inauguration: the precise date wins.
    assert str(firsts["Changan / Thailand"]) == "2025-05-16"
    sequence = warehouse_sql(
        "select milestone, milestone_seq, days_since_previous_milestone from marts.localization_timeline "
        "where group_name = 'BYD' and country = 'Uzbekistan' order by milestone_seq"
    )
    assert sequence == [("announced", 1, None), ("first_vehicle_off_line", 2, 121), ("inauguration", 3, 154)]


def test_localization_summary(warehouse_sql):
    [(countries, capacity)] = warehouse_sql(
        "select countries_with_local_production, total_stated_capacity from marts.localization_summary where group_name = 'BYD'"
    )
    # Thailand, Uzbekistan and Brazil produce; Hungary and Turkey are only announced.
    assert countries == 3
    # Largest stated capacity per site: Rayong 150k, Jizzakh 50k, Camaçari 150k, Manisa 150k.
    assert capacity == 500_000


def test_clean_seeds_leave_quarantine_empty(warehouse_sql):
    assert warehouse_sql("select count(*) from quarantine.rejected_rows") == [(0,)]


def _append(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)


def test_broken_file_fails_and_keeps_published_warehouse(outbound, published, landing, tmp_path):
    warehouse = tmp_path / "outbound.duckdb"
    warehouse.write_bytes(published[0].read_bytes())
    before = sha256(warehouse)
    sales = landing / "sales.csv"
    text = sales.read_text(encoding="utf-8")
    sales.write_text(text.replace("units,units_qualifier", "unit_count,units_qualifier", 1), encoding="utf-8")

    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))

    assert result.returncode == 1
    assert f"{sales}: line 1: header does not match the feed: missing column(s) units; unexpected column(s) unit_count" in result.stderr
    assert sha256(warehouse) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["landing", "logs", "outbound.duckdb", "outbound.runs.jsonl"]  # no build left


def test_file_not_utf8_fails(outbound, landing, tmp_path):
    warehouse = tmp_path / "outbound.duckdb"
    exports = landing / "exports.csv"
    exports.write_bytes(
        exports.read_bytes() + "Chery Group,group,ice,2024-01-01,2024-11-30,5,exact,,ref_nikkei_gwm_thailand,Zürich\n".encode("latin-1")
    )

    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))

    assert result.returncode == 1
    assert f"{exports}: line 6: not valid UTF-8" in result.stderr
    assert not warehouse.exists()


BAD_ROWS = (
    "Chery Group,group,ice,2024-01-01,2024-11-30,-5,exact,,ref_nikkei_gwm_thailand,",
    "Chery Group,group,bev,2024-02-30,2024-11-30,5,exact,,ref_nikkei_gwm_thailand,",
)


# Bad rows quarantined and the good rows published, the warehouse named by OUTBOUND_WAREHOUSE: the
# same run as the catalogue of bad rows, tests/test_bad_inputs.py::test_bad_rows_are_quarantined_and_good_rows_kept,
# which asserts what this module's test of it did (lines 14 and 13 there are its negative units and impossible date).


def test_strict_fails_on_any_rejected_row(outbound, published, landing, tmp_path):
    warehouse = tmp_path / "outbound.duckdb"
    warehouse.write_bytes(published[0].read_bytes())
    before = sha256(warehouse)
    _append(landing / "sales.csv", BAD_ROWS[0])

    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse), "--strict")

    assert result.returncode == 1
    assert "--strict: 1 row(s) broke a rule" in result.stderr
    assert f"{landing / 'sales.csv'}:11: units: greater_than_or_equal_to(0)" in result.stderr
    assert sha256(warehouse) == before


def test_every_published_model_column_is_documented(published, warehouse_sql):
    """Each column of each published model (every model file of the dbt project) has a description in the project's yml."""
    described = described_models()
    models = sorted(path.stem for path in (REPO / "dbt_project" / "models").rglob("*.sql"))
    assert set(models) >= {"brand_mix", "growth_rates", "localization_timeline", "localization_summary"}
    for name in models:
        model = described.get(name)
        assert model and model.get("description"), f"{name} is not described"
        columns = warehouse_sql(
            "select column_name from information_schema.columns where table_schema in ('staging', 'intermediate', 'quality', 'marts') "
            "and table_name = ?",
            [name],
        )
        assert columns, name
        descriptions = {column["name"]: column.get("description") for column in model.get("columns", [])}
        for (column,) in columns:
            assert descriptions.get(column), f"{name}.{column} is not described"


def test_runs_into_other_warehouses_reuse_dbt_parse_and_take_turns(outbound, start_outbound, tmp_path):
    """dbt parses the project once and later runs reuse that parse (target/partial_parse.msgpack),
    whatever warehouse they publish and whatever their run id. Two runs at once from one checkout
    take turns at dbt (it opens every build through one link) and each publishes its own build."""
    dbt_log = settings.dbt_folder(settings.DBT_LOG_PATH) / "dbt.log"
    first, *concurrent = [tmp_path / name / "outbound.duckdb" for name in ("first", "second", "third")]
    done = outbound("run", "--warehouse", str(first))
    assert done.returncode == 0, done.output
    logged_before = dbt_log.stat().st_size

    runs = [start_outbound("run", "--warehouse", str(warehouse)) for warehouse in concurrent]
    outputs = [run.communicate(timeout=300) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    with dbt_log.open("rb") as log:
        log.seek(logged_before)
        logged = log.read().decode()
    assert logged.count("Found 26 models") == 2  # both runs' dbt invocations are in this part of the log
    assert "Unable to do partial parsing" not in logged, [line for line in logged.splitlines() if "partial parsing" in line]
    lines = logged.splitlines()
    starts = [number for number, line in enumerate(lines) if "Running with dbt=" in line]
    ends = [number for number, line in enumerate(lines) if "Completed successfully" in line]
    assert len(starts) == len(ends) == 2 and ends[0] < starts[1]  # one invocation, then the other
    assert not build_link().is_symlink()  # each build removes the link when its dbt is done
    warehouses = [first, *concurrent]
    run_ids = [query(warehouse, "select distinct run_id from marts.brand_mix") for warehouse in warehouses]
    published_by = [query(warehouse, "select run_id from ops.publication") for warehouse in warehouses]
    assert run_ids == published_by and len({ids[0] for ids in run_ids}) == 3
    marts = [query(warehouse, "select * exclude (run_id) from marts.brand_mix order by all") for warehouse in warehouses]
    assert marts[0] and marts[0] == marts[1] == marts[2]
