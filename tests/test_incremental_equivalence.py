"""An incremental build equals a full build: after every drop of landing files, each mart of the
warehouse built run after run holds exactly the rows (lineage included) of a `--full-refresh`
build of the same files.

The landing set is `outbound synth` data cut into monthly files (sales_2015-01.csv, ...), as
users land it a month at a time. Drops: new months, a changed file, a late correction of an old
month, a row that an unchanged file holds but a new file duplicates (both rejected: the unchanged
file's row leaves the marts), a brand moved to another group, removed files with --prune, a renamed file. Every run is a real `outbound run`
against the session's Prefect server; the data is small, so each run costs what dbt and Prefect
do, and the steps are few: the first run is shared (module fixture, copied per test), and some
steps compare with the independent plain-DuckDB build of the same files (benchmarks/baseline.py,
which tests/test_baseline.py holds equal to a full `outbound run`) rather than with another run.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flows.devtools import synth
from tests.conftest import query
from tests.test_baseline import baseline, marts_differ

MARTS = ["brand_mix", "growth_rates", "monthly_figures", "localization_timeline", "localization_summary", "data_quality_findings"]
# Models an incremental run rebuilds only in part (dbt_project: materialized incremental on DuckDB).
INCREMENTAL_MODELS = [
    "int_series",
    "int_reported_figures",
    "growth_rates",
    "int_monthly_figures",
    "monthly_figures",
    "brand_mix",
    "data_quality_findings",
]
INCREMENTAL_MARTS = ["growth_rates", "monthly_figures"]
ENTITIES = synth.COUNTRIES + 1 + synth.BRANDS_PER_GROUP  # synth's smallest set: its countries, one group and its brands
MONTH_ROWS = ENTITIES * len(synth.POWERTRAINS)  # sales rows of one month
MONTHS = 18  # months of synthetic sales (2015-01 to 2016-06): enough for growth a year on
FIGURE_FEEDS = ("sales", "exports")


@dataclass
class Landing:
    """A landing folder's files as lines of text (header apart), written to the folder on `sync`."""

    folder: Path
    headers: dict[str, str]  # file name -> header line
    files: dict[str, list[str]] = field(default_factory=dict)
    reserve: dict[str, list[str]] = field(default_factory=dict)  # monthly files not landed yet, in order

    def sync(self) -> None:
        on_disk = {path.name for path in self.folder.glob("*.csv")}
        for name in on_disk - set(self.files):
            (self.folder / name).unlink()
        for name, lines in self.files.items():
            feed = max((feed for feed in self.headers if name.startswith(feed)), key=len)
            text = "\n".join([self.headers[feed], *lines]) + "\n"
            path = self.folder / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")

    def monthly(self) -> list[str]:
        return sorted(name for name in self.files if name.startswith(FIGURE_FEEDS) and name[-11:-4].replace("-", "").isdigit())

    # --- drops
    def add_month(self) -> bool:
        """The next month's files (sales, with its year-to-date totals, and exports)."""
        if not self.reserve:
            return False
        month = min(self.reserve)[-11:-4]
        for name in [name for name in self.reserve if name.endswith(f"{month}.csv")]:
            self.files[name] = self.reserve.pop(name)
        return True

    def change(self, index: int, every: int) -> bool:
        """A changed (or late-corrected) monthly file: some figures revised, its last row dropped."""
        names = self.monthly()
        if not names:
            return False
        name = names[index % len(names)]
        lines = [revised(line) if number % every == 0 else line for number, line in enumerate(self.files[name])]
        self.files[name] = lines[:-1] if len(lines) > 1 else lines
        return True

    def remove(self, index: int) -> bool:
        """A monthly file gone from the landing folder (the runs prune)."""
        names = self.monthly()
        if len(names) < 2:
            return False
        del self.files[names[index % len(names)]]
        return True

    def rename(self, index: int) -> bool:
        """A monthly file under a new name, the same bytes: its rows cite the new name."""
        names = self.monthly()
        if not names:
            return False
        name = names[index % len(names)]
        feed, month = name.split("_")[0], name[-11:-4]
        self.files[f"{feed}_renamed_{len(self.files)}_{month}.csv"] = self.files.pop(name)
        return True

    def duplicate(self, index: int, row: int) -> bool:
        """A new file repeating one figure of a landed month: both rows are rejected (duplicate key)."""
        names = [name for name in self.monthly() if name.startswith("sales")]
        if not names:
            return False
        source = self.files[names[index % len(names)]]
        self.files[f"sales_duplicate_{len(self.files)}.csv"] = [source[row % len(source)]]
        return True

    def regroup(self, index: int) -> bool:
        """A brand moved to a group of its own (brands.csv changed): its group's brand mix loses it."""
        lines = self.files["brands.csv"]
        brand, _, positioning = lines[index % len(lines)].split(",")
        lines[index % len(lines)] = ",".join([brand, f"Moved Group {index}", positioning])
        return True


def revised(line: str) -> str:
    """A figure revised the way the marts' contracts allow: a group's sales total up, anything else down."""
    fields = line.split(",")
    units = int(fields[5])
    fields[5] = str(units * 2 if (fields[1], fields[2]) == ("group", "all") else units // 2)
    return ",".join(fields)


def monthly_landing(folder: Path, months_landed: int) -> Landing:
    """Synthetic data of MONTHS months cut into monthly files; the first `months_landed` months landed."""
    generated = folder.parent / f"{folder.name}-synth"
    synth.write(generated, rows=MONTHS * MONTH_ROWS, seed=11)
    folder.mkdir(parents=True)
    landing = Landing(folder, headers={})
    by_month: dict[str, list[str]] = {}
    for path in sorted(generated.glob("*.csv")):
        header, *lines = path.read_text(encoding="utf-8").splitlines()
        feed = path.stem.removesuffix("_ytd")
        landing.headers[feed] = header
        if feed not in FIGURE_FEEDS:
            landing.files[path.name] = lines
            continue
        for line in lines:
            by_month.setdefault(f"{feed}_{line.split(',')[4][:7]}.csv", []).append(line)
    landed = sorted({name[-11:-4] for name in by_month})[:months_landed]
    for name, lines in by_month.items():
        (landing.files if name[-11:-4] in landed else landing.reserve)[name] = lines
    shutil.rmtree(generated)
    landing.sync()
    return landing


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    return {name: query(warehouse, f"select * exclude (run_id) from marts.{name} order by all") for name in MARTS}


def run_incremental(outbound, landing: Landing, warehouse: Path, step: str) -> None:
    """Land the files and run into the warehouse as a schedule would (with --prune): an incremental build."""
    landing.sync()
    ran = outbound("run", "--landing", str(landing.folder), "--warehouse", str(warehouse), "--prune")
    assert ran.returncode == 0, f"{step}: {ran.output}"
    run_id = query(warehouse, "select run_id from ops.publication")[0][0]
    built = dict(query(warehouse, "select name, materialized from ops.dbt_results where run_id = ? and resource_type = 'model'", [run_id]))
    assert {built[name] for name in INCREMENTAL_MODELS} == {"incremental"}, (step, built)
    for name in MARTS:  # every row stamped by the run that published it, the rows kept from earlier builds too
        assert query(warehouse, f"select distinct run_id from marts.{name}") in ([(run_id,)], []), (step, name)
    # The stamp replaces the column (macros/incremental.sql): it stays last, not null and described, as built whole.
    for name in set(MARTS) & set(INCREMENTAL_MODELS):
        *_, (column, data_type, nullable, described) = query(
            warehouse,
            "select column_name, data_type, is_nullable, comment <> '' from duckdb_columns() "
            "where schema_name = 'marts' and table_name = ? order by column_index",
            [name],
        )
        assert (column, data_type, nullable, described) == ("run_id", "VARCHAR", False, True), (step, name)


def assert_same_as_full_refresh(outbound, landing: Landing, warehouse: Path, full: Path, step: str) -> None:
    """Every mart equals, row for row, that of a `--full-refresh` build of the same files."""
    rebuilt = outbound("run", "--landing", str(landing.folder), "--warehouse", str(full), "--full-refresh")
    assert rebuilt.returncode == 0, f"{step}: {rebuilt.output}"
    built, expected = marts(warehouse), marts(full)
    assert any(expected[name] for name in INCREMENTAL_MARTS), step
    for name in MARTS:
        assert built[name] == expected[name], (
            f"{step}: marts.{name} differs from a full build ({len(built[name])} rows, full {len(expected[name])})"
        )
    # The incremental run judged only the rows whose key changed (flows.stages.validate); the
    # quarantine and the written precisions must still be what judging every row gives.
    for table, columns in (
        ("quarantine.rejected_rows", "feed, source_file, line, stage, raw_values, raw_record, failed_rules"),
        *((f"raw.{feed}_units_steps", "_file, _line, units_step") for feed in FIGURE_FEEDS),
    ):
        kept, judged = (query(path, f"select {columns} from {table} order by all") for path in (warehouse, full))
        assert kept == judged, f"{step}: {table} differs from a full build ({len(kept)} rows, full {len(judged)})"


def assert_same_as_baseline(landing: Landing, warehouse: Path, folder: Path, step: str) -> None:
    """Every mart equals, row for row, the independent plain-DuckDB build of the same files (tests/test_baseline.py
    holds it equal to a full `outbound run`): a full build in seconds, where a run costs what dbt and Prefect do."""
    shutil.rmtree(folder, ignore_errors=True)
    differ = marts_differ(warehouse, baseline(landing.folder, folder))
    assert differ == {mart: (rows, 0, 0) for mart, (rows, _, _) in differ.items()}, (step, differ)


@dataclass(frozen=True)
class Published:
    landing: Landing
    warehouse: Path


@pytest.fixture(scope="module")
def published_months(outbound, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """Fourteen months of synthetic sales in monthly files, published by one real first run."""
    root = tmp_path_factory.mktemp("months")
    landing = monthly_landing(root / "landing", months_landed=14)
    warehouse = root / "warehouse" / "outbound.duckdb"
    first = outbound("run", "--landing", str(landing.folder), "--warehouse", str(warehouse))
    assert first.returncode == 0, first.output
    return Published(landing, warehouse)


def copy_of(published: Published, root: Path) -> tuple[Landing, Path]:
    """The published landing folder and warehouse folder, copied under `root` (files are known by their
    names in the landing folder, so the copy holds the same files: nothing new)."""
    landing = copy.deepcopy(published.landing)
    landing.folder = root / "landing"
    shutil.copytree(published.landing.folder, landing.folder)
    warehouse = root / "warehouse" / published.warehouse.name
    shutil.copytree(published.warehouse.parent, warehouse.parent, symlinks=True)
    return landing, warehouse


def test_a_sequence_of_drops_builds_what_a_full_build_does(outbound, published_months, tmp_path):
    landing, warehouse = copy_of(published_months, tmp_path)

    # A new month: the keys recorded are its figures', and every model that can be is built incrementally.
    assert landing.add_month()
    month_keys = len(
        {tuple(line.split(",")[:5]) for name, lines in landing.files.items() if name.endswith("2016-03.csv") for line in lines}
    )
    run_incremental(outbound, landing, warehouse, "a new month")
    assert query(warehouse, "select count(*) from raw.changed_figures") == [(month_keys,)]
    assert_same_as_baseline(landing, warehouse, tmp_path / "baseline", "a new month")

    # The same month's file revised, a late correction of an old month (its growth a year on
    # changes), and an unchanged file's row rejected because a new file repeats its key.
    # And a brand moved to another group (every figure is then rebuilt: flows.stages.changes).
    assert landing.change(index=-1, every=7) and landing.change(index=2, every=3) and landing.duplicate(index=4, row=17)
    assert landing.regroup(index=1)
    run_incremental(outbound, landing, warehouse, "changed files, a duplicated row, a brand moved")
    assert_same_as_baseline(landing, warehouse, tmp_path / "baseline", "changed files, a duplicated row, a brand moved")

    # Removed files, pruned: the duplicate (the unchanged file's row comes back) and a month in the
    # middle; and a renamed file (its figures' refs name it anew).
    del landing.files[next(name for name in landing.files if name.startswith("sales_duplicate"))]
    assert landing.remove(index=5) and landing.rename(index=8)
    run_incremental(outbound, landing, warehouse, "removed files, pruned, and a renamed one")
    assert_same_as_full_refresh(outbound, landing, warehouse, tmp_path / "full" / "outbound.duckdb", "removed files, pruned")
    assert query(
        warehouse, "select count(*) from marts.growth_rates where array_to_string(figure_refs, ' ') like '%sales:sales_renamed_%'"
    ) != [(0,)]


drops = st.lists(
    st.one_of(
        st.just(("add_month",)),
        st.tuples(st.just("change"), st.integers(0, 40), st.integers(1, 9)),
        st.tuples(st.just("remove"), st.integers(0, 40)),
        st.tuples(st.just("rename"), st.integers(0, 40)),
        st.tuples(st.just("duplicate"), st.integers(0, 40), st.integers(0, 300)),
        st.tuples(st.just("regroup"), st.integers(0, 40)),
    ),
    min_size=1,
    max_size=2,
)


# Two examples (Hypothesis tries the simplest sequence, one new month, then a random one): each
# drop is a real run, and the whole suite must stay under 15 minutes.
@settings(
    max_examples=2,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every example is several real runs
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(sequence=drops)
def test_random_drop_sequences_build_what_a_full_build_does(outbound, published_months, sequence):
    with tempfile.TemporaryDirectory(prefix="outbound-drops-") as folder:
        landing, warehouse = copy_of(published_months, Path(folder))
        for number, (action, *arguments) in enumerate(sequence, start=1):
            if getattr(landing, action)(*arguments):
                step = f"drop {number} of {sequence}"
                run_incremental(outbound, landing, warehouse, step)
                assert_same_as_baseline(landing, warehouse, Path(folder) / "baseline", step)
