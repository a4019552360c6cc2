"""BI tools through SQLAlchemy: the duckdb_engine dialect, read-only, as Superset connects. The
marts are listed with their columns and descriptions, a chart's query runs, and writes fail."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlalchemy.exc import DBAPIError

from tests.conftest import query, sha256

MARTS = ["brand_mix", "data_quality_findings", "growth_rates", "localization_summary", "localization_timeline", "monthly_figures"]
CHART = """
    select segment, units, share_of_group from marts.brand_mix
    where group_name = :group_name and mix_dimension = 'brand' order by units desc
"""


def test_sqlalchemy_version_reflects_duckdb_columns():
    # SQLAlchemy 2.0.45+ reflects columns through pg_catalog.pg_collation, which DuckDB 2.0 does
    # not have (duckdb/duckdb#22069): BI tools on it cannot list columns. requirements.lock pins 2.0.44.
    version = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:3])
    assert version < (2, 0, 45), f"SQLAlchemy {sqlalchemy.__version__}: install the pinned set (requirements.lock)"


@pytest.mark.filterwarnings("ignore:Did not recognize type 'list':sqlalchemy.exc.SAWarning")  # the lineage lists
@pytest.mark.parametrize(
    ("url", "connect_args"),
    [
        ("duckdb:///{warehouse}", {"read_only": True}),  # Superset: engine parameters {"connect_args": {"read_only": true}}
        ("duckdb:///{warehouse}?access_mode=read_only", {}),  # or the read-only mode in the URL alone
    ],
    ids=["connect_args", "url"],
)
def test_bi_tool_lists_the_marts_and_charts_them_read_only(published, url, connect_args):
    warehouse, _ = published
    before = sha256(warehouse)
    # Read first: DuckDB refuses a second in-process connection to the file with another configuration.
    expected = {
        mart: query(warehouse, f"select column_name, comment from duckdb_columns() where table_name = '{mart}' order by column_index")
        for mart in MARTS
    }
    engine = sqlalchemy.create_engine(url.format(warehouse=warehouse), connect_args=connect_args)
    try:
        inspector = sqlalchemy.inspect(engine)
        assert "marts" in {name.rpartition(".")[2] for name in inspector.get_schema_names()}
        assert inspector.get_table_names(schema="marts") == MARTS
        for mart in MARTS:
            columns = inspector.get_columns(mart, schema="marts")
            assert [(column["name"], column["comment"]) for column in columns] == expected[mart]
            assert all(column["comment"] for column in columns), mart  # descriptions show in the BI tool
            assert inspector.get_table_comment(mart, schema="marts")["text"], mart
        types = {column["name"]: column["type"] for column in inspector.get_columns("growth_rates", schema="marts")}
        assert isinstance(types["units"], sqlalchemy.BigInteger) and isinstance(types["period_end"], sqlalchemy.Date)

        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text(CHART), {"group_name": "Chery Group"}).all()
            assert [(segment, units) for segment, units, _ in rows] == [
                ("Chery", 1543069),
                ("Jetour", 573739),
                ("Not broken out", 162392),
                ("Exeed", 109466),
                ("iCAR", 90451),
                ("Luxeed", 82348),
            ]
            assert sum(share for _, _, share in rows) == pytest.approx(1.0)
            with pytest.raises(DBAPIError, match="read-only mode"):
                connection.execute(sqlalchemy.text("create table marts.chart_cache as select 1 as a"))
    finally:
        engine.dispose()
    assert sha256(warehouse) == before


def test_bi_connection_without_file_access(published, tmp_path):
    """For SQL Lab-style editors: no reading or writing files either (DuckDB config through SQLAlchemy)."""
    warehouse, _ = published
    engine = sqlalchemy.create_engine(
        f"duckdb:///{warehouse}", connect_args={"read_only": True, "config": {"enable_external_access": False}}
    )
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("select count(*) from marts.localization_timeline")).scalar_one() == 28
            with pytest.raises(DBAPIError, match="file system operations are disabled"):
                connection.execute(sqlalchemy.text("select * from read_csv('/etc/passwd')"))
            with pytest.raises(DBAPIError, match="file system operations are disabled"):
                connection.execute(sqlalchemy.text(f"copy marts.brand_mix to '{tmp_path}/leak.csv'"))
    finally:
        engine.dispose()
    assert list(tmp_path.iterdir()) == []
