"""`outbound synth`: a synthetic landing set that is reproducible, passes the contracts where it is
meant to, and whose broken rows the flow quarantines, every one of them, reporting them in summary."""

from __future__ import annotations

import json

from tests.conftest import query, sha256

FEEDS = ("sources", "countries", "brands", "sales", "exports", "plant_launches")


def test_same_seed_same_bytes_and_marked_synthetic(outbound, tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((first, "7"), (second, "7"), (other, "8")):
        done = outbound("synth", "--rows", "2000", "--out", str(folder), "--seed", seed, "--bad-fraction", "0.1")
        assert done.returncode == 0, done.output
    assert all(sha256(first / f"{feed}.csv") == sha256(second / f"{feed}.csv") for feed in FEEDS)
    assert sha256(first / "sales.csv") != sha256(other / "sales.csv")
    assert len((first / "sales.csv").read_text(encoding="utf-8").splitlines()) == 2001  # header and 2,000 rows
    assert "SYNTHETIC" in (first / "sources.csv").read_text(encoding="utf-8")


def test_every_broken_row_is_quarantined_and_the_rest_published(outbound, tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse" / "outbound.duckdb"
    assert outbound("synth", "--rows", "3000", "--out", str(landing), "--bad-fraction", "0.2").returncode == 0
    expected = json.loads((landing / "synth.json").read_text(encoding="utf-8"))
    bad = sum(expected["bad_rows"].values())
    assert bad > 500

    result = outbound("run", "--landing", str(landing), "--warehouse", str(warehouse))

    assert result.returncode == 0, result.output
    per_feed = dict(query(warehouse, "select feed, count(*) from quarantine.rejected_rows group by feed"))
    assert per_feed == {feed: count for feed, count in expected["bad_rows"].items() if count}
    stages = dict(query(warehouse, "select stage, count(*) from quarantine.rejected_rows group by stage"))
    assert stages.keys() == {"load", "validate"}  # broken in both ways the synth breaks rows
    [(valid,)] = query(warehouse, "select count(*) from raw.sales")
    assert valid == expected["rows"]["sales"] - expected["bad_rows"]["sales"]
    assert query(warehouse, "select count(*) > 0, bool_and(share_of_group between 0 and 1) from marts.brand_mix") == [(True, True)]
    # Hundreds of rejected rows: the run shows the first ones and says how many more there are.
    assert f"warning: {bad} row(s) rejected" in result.stdout
    assert f"... and {bad - 20:,} more" in result.stdout
    # The run log times every stage.
    record = json.loads(warehouse.with_name("outbound.runs.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert {"plan", "prepare", "load", "validate", "dbt", "publish"} <= record["stages"].keys()
