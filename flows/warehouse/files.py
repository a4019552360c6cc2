"""What lives beside the published warehouse: every path derived from the warehouse's own, defined here and nowhere else.

    warehouse/                        the warehouse's folder: its flock is the run lock (flows.warehouse.lock)
      outbound.duckdb                 the published warehouse
      outbound.duckdb.wal             DuckDB's write-ahead log of a client that has it open read-write
      outbound.duckdb.<why>-<time>    a damaged file or a stray log, set aside (flows.warehouse.published)
      .outbound.duckdb.build-<run>/   a run's private build folder, removed when the run ends
      outbound.runs.jsonl             the run log: a line when a run starts and when it ends
      outbound.dbt_results.jsonl      dbt's results, node by node, of every build
      outbound.parquet -> .outbound.parquet-<run>/   every mart as Parquet, one set per publish
      logs/                           the console's run logs (outbound-<time>-<pid>.log), the local Prefect server's log
      docs/                           `outbound docs`' site
      report.html                     `outbound report`'s page

The names follow the warehouse's (a warehouse `x/sales.duckdb` has `x/sales.runs.jsonl`, ...), so
two warehouses can share a folder's files without mixing, though not its lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WarehouseFiles:
    """The paths beside the published warehouse `database`."""

    database: Path

    @property
    def folder(self) -> Path:
        """The warehouse's folder: everything below lives in it, on the same filesystem (renames are atomic)."""
        return self.database.parent

    @property
    def runs_log(self) -> Path:
        return self.database.with_name(self.database.stem + ".runs.jsonl")

    @property
    def dbt_results_log(self) -> Path:
        return self.database.with_name(self.database.stem + ".dbt_results.jsonl")

    @property
    def logs(self) -> Path:
        return self.folder / "logs"

    def run_log(self, stamp: str, pid: int) -> Path:
        """The console's log of one `outbound run`: everything it did, Prefect's and dbt's lines included."""
        return self.logs / f"outbound-{stamp}-{pid}.log"

    run_logs_glob = "outbound-*.log"

    @property
    def prefect_server_log(self) -> Path:
        """The log of the quiet local Prefect server a run starts (flows.devtools.local_server)."""
        return self.logs / "prefect-server.log"

    @property
    def docs(self) -> Path:
        return self.folder / "docs"

    @property
    def report(self) -> Path:
        return self.database.with_name("report.html")

    # --- a run's build folder
    @property
    def builds_glob(self) -> str:
        """The build folders of every run, for a glob in `folder`."""
        return f".{self.database.name}.build-*"

    def build(self, run_id: str) -> Path:
        """The build file of run `run_id`: the warehouse's name, in a private folder beside it."""
        return self.folder / f".{self.database.name}.build-{run_id}" / self.database.name

    # --- the Parquet copies
    @property
    def parquet_link(self) -> Path:
        """The stable path Parquet readers use: `<warehouse stem>.parquet`, a link to one publish's set."""
        return self.database.with_suffix(".parquet")

    def parquet_set(self, run_id: str) -> Path:
        """The (hidden) set of Parquet files of the publish of run `run_id`."""
        return self.parquet_link.with_name(f".{self.parquet_link.name}-{run_id}")

    @property
    def parquet_sets_glob(self) -> str:
        return f".{self.parquet_link.name}-*"

    def parquet_rewrite(self, run_id: str) -> Path:
        """Where a lost set is written again from the warehouse before it is staged."""
        return self.folder / f".{self.parquet_link.name}.rewrite-{run_id}"

    def parquet_link_staging(self, staged: Path) -> Path:
        """The new link, made beside the old one and renamed over it."""
        return self.parquet_link.with_name(f".{self.parquet_link.name}.link-{staged.name}")


def run_of_build(build: Path) -> str:
    """The run id in a build file's folder name (WarehouseFiles.build)."""
    return build.parent.name.rpartition(".build-")[2]


def wal_of(database: Path) -> Path:
    """Where DuckDB keeps the write-ahead log of any database file (a build's too): beside it, by name."""
    return database.with_name(database.name + ".wal")


def aside(path: Path, why: str, stamp: str) -> Path:
    """Where `path` (the warehouse, its log) is kept when set aside: `<name>.<why>-<stamp>` beside it."""
    return path.with_name(f"{path.name}.{why}-{stamp}")
