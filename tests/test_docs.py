"""Documentation of the marts: every description of dbt_project/models is a DuckDB comment in the
published warehouse (what BI tools and SQL clients show); `outbound docs` generates dbt's site,
catalog included, from a copy of the warehouse, and serves it on localhost; the exposures name
the consumers of the marts."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request

import yaml

from tests.conftest import REPO, query, sha256

MODELS = REPO / "dbt_project" / "models"
MARTS = ["brand_mix", "data_quality_findings", "growth_rates", "localization_summary", "localization_timeline", "monthly_figures"]
REPORT_MARTS = {"brand_mix", "growth_rates", "monthly_figures", "localization_timeline", "data_quality_findings"}


def described_models() -> dict[str, dict]:
    """Every model of the dbt project's YAML files, by name."""
    models = {}
    for path in MODELS.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            models[model["name"]] = model
    return models


def _words(text: str) -> str:
    return " ".join(text.split())


def test_descriptions_are_comments_in_the_published_warehouse(published):
    warehouse, _ = published
    models = described_models()
    for mart in MARTS:
        model = models[mart]
        ((comment,),) = query(warehouse, "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?", [mart])
        assert _words(comment) == _words(model["description"]), mart
        comments = dict(
            query(warehouse, "select column_name, comment from duckdb_columns() where schema_name = 'marts' and table_name = ?", [mart])
        )
        assert set(comments) == {column["name"] for column in model["columns"]}, mart  # every column is described
        for column in model["columns"]:
            described = column["description"]
            if "{{" in described:  # a doc() block: rendered, so at least not empty
                assert len(comments[column["name"]]) > 20, (mart, column["name"])
            else:
                assert _words(comments[column["name"]]) == _words(described), (mart, column["name"])
    ((run_id_comment,),) = query(
        warehouse, "select comment from duckdb_columns() where table_name = 'brand_mix' and column_name = 'run_id'"
    )
    assert run_id_comment.startswith("The run that published this warehouse")
    # Views are described too, in every dbt layer.
    undescribed = query(
        warehouse,
        "select schema_name || '.' || view_name from duckdb_views() where schema_name in ('staging', 'intermediate', 'quality') "
        "and (comment is null or comment = '')",
    )
    assert undescribed == []


def test_exposures_name_the_report_and_every_example_query():
    exposures = {e["name"]: e for e in yaml.safe_load((MODELS / "marts" / "_exposures.yml").read_text(encoding="utf-8"))["exposures"]}
    assert {re.search(r"ref\('(\w+)'\)", ref).group(1) for ref in exposures["outbound_report"]["depends_on"]} == REPORT_MARTS
    assert "outbound report" in exposures["outbound_report"]["description"]
    described = " ".join(e["description"] for e in exposures.values())
    for path in sorted((REPO / "analyses").glob("*.sql")):
        assert f"outbound sql -f analyses/{path.name}" in described, path.name


def test_docs_site_is_generated_and_served_on_localhost(published, tmp_path):
    warehouse, _ = published
    before = sha256(warehouse)
    site = tmp_path / "site"
    # Started as a shell script starts a background job, with SIGINT ignored (which a process
    # inherits): Ctrl-C must stop it all the same. Its stderr goes to a file, shown if it does not,
    # with every thread's stack from Python's fault handler (below).
    errors = tmp_path / "docs.stderr"
    command = [sys.executable, "-m", "flows.cli", "docs", "--warehouse", str(warehouse), "--output", str(site), "--serve", "--port", "0"]
    with errors.open("w") as stderr:
        server = subprocess.Popen(
            ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command],
            cwd=REPO,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    timer = threading.Timer(300, server.kill)  # against a hang only
    timer.start()
    try:
        printed = []
        for line in server.stdout:
            printed.append(line)
            if line.startswith("serving "):
                break
        else:
            raise AssertionError(f"docs ended (code {server.wait()}) without serving:\n{''.join(printed)}{errors.read_text()}")
        url = re.search(r"on (http://127\.0\.0\.1:\d+/)", printed[-1]).group(1)

        for name in ("index.html", "manifest.json", "catalog.json", "static_index.html"):
            assert (site / name).stat().st_size > 1000, name
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
            assert response.read() == (site / "index.html").read_bytes()
        with urllib.request.urlopen(url + "catalog.json", timeout=30) as response:
            catalog = json.load(response)
        with urllib.request.urlopen(url + "manifest.json", timeout=30) as response:
            manifest = json.load(response)
    finally:
        timer.cancel()
        server.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.send_signal(signal.SIGABRT)  # the fault handler shows where it hangs
            server.wait(timeout=60)
            raise AssertionError(f"docs did not stop on Ctrl-C within 60 s; its stderr:\n{errors.read_text()[-6000:]}") from None
    assert code == 0, errors.read_text()

    for mart in MARTS:
        node = catalog["nodes"][f"model.outbound.{mart}"]
        assert node["metadata"]["schema"] == "marts" and node["metadata"]["type"] == "BASE TABLE"
        assert node["metadata"]["comment"], mart  # the persisted description, read back from DuckDB
        columns = [
            name
            for (name,) in query(warehouse, f"select column_name from duckdb_columns() where table_name = '{mart}' order by column_index")
        ]
        assert sorted(node["columns"], key=lambda name: node["columns"][name]["index"]) == columns, mart
        assert all(column["comment"] for column in node["columns"].values()), mart
    share = catalog["nodes"]["model.outbound.brand_mix"]["columns"]["share_of_group"]
    assert share["type"] == "DOUBLE" and share["comment"].startswith("units / the group's sales total")

    # The site opens on Outbound's own overview page, not dbt's generic welcome.
    overview = manifest["docs"]["doc.outbound.__overview__"]["block_contents"]
    assert overview.startswith("# Outbound") and all(f"model.outbound.{mart}" in overview for mart in MARTS)
    assert "Where to start" in overview and "Lineage and findings" in overview

    report = manifest["exposures"]["exposure.outbound.outbound_report"]
    assert {node.split(".")[-1] for node in report["depends_on"]["nodes"]} == REPORT_MARTS
    examples = [e for e in manifest["exposures"].values() if e["type"] == "analysis"]
    assert len(examples) == len(list((REPO / "analyses").glob("*.sql")))
    assert "exposure.outbound.example_months_to_local_production" in manifest["child_map"]["model.outbound.localization_timeline"]

    assert sha256(warehouse) == before  # generated from a copy: the published file is never written
    assert not list(warehouse.parent.glob("*.wal"))


def test_docs_without_a_warehouse_is_a_clear_error(outbound, tmp_path):
    missing = tmp_path / "outbound.duckdb"
    result = outbound("docs", "--warehouse", str(missing), "--output", str(tmp_path / "site"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {missing}: no published warehouse yet; run `outbound run` first"
    assert not (tmp_path / "site").exists()


def test_readme_tells_analysts_and_bi_tools_how_to_connect():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for needed in ("outbound sql", "outbound sql -f analyses/", "--format", "harlequin -r", "outbound docs --serve", "outbound.parquet/"):
        assert needed in readme, needed
    for tool in ("Superset", "Metabase", "Tableau", "Evidence"):
        assert f"**{tool}**" in readme, tool
