"""The ingestion manifest: which landing file brought which rows, so a rerun does only what changed.

Each file is known by its name relative to the landing directory (never its absolute path: the
warehouse holds no path of the machine that built it) and identified by its sha256, so the same
files in a moved or copied landing directory are the same files, and nothing is reloaded. Against the manifest of the
published warehouse a run sees each landing file as new, changed or unchanged, and each manifest
file that is gone from the landing directory as removed. A warehouse built by other code (its
`code_version` differs) is rebuilt from the files: its tables may not mean what this code expects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from flows.errors import LandingFileChangingError
from flows.settings import REPO_DIR
from flows.stages.precision import FIGURE_FEEDS
from flows.warehouse.published import open_read_only
from schemas import FEEDS

TABLE = "ops.manifest"
PUBLICATION = "ops.publication"

DDL = f"""
create schema if not exists ops;
create table if not exists {TABLE} (
    name varchar primary key,
    path varchar not null,
    feed varchar not null,
    sha256 varchar not null,
    size_bytes bigint not null,
    rows_loaded bigint,
    rows_rejected bigint,
    run_id varchar not null,
    loaded_at timestamp not null default current_timestamp
);
create table if not exists {PUBLICATION} (run_id varchar not null, published_at timestamp not null, code_version varchar not null);
alter table {PUBLICATION} add column if not exists dbt_target varchar;
comment on table {TABLE} is 'Every landing file in the warehouse, by name: its content hash, the rows it brought (valid and rejected) and the run that loaded it.';
comment on column {TABLE}.name is 'The file''s name relative to the landing folder, as its rows'' lineage (_file, figure_refs) names it.';
comment on column {TABLE}.path is 'The file''s name relative to the landing folder (never an absolute path: moving the landing folder changes nothing).';
comment on table {PUBLICATION} is 'The run that published this warehouse, the version of the code that built it, and the dbt target (engine) its models were built on.';
"""

# What decides how a warehouse is built, by folder: the feed contracts, the stages (load,
# quarantine, validate, precision, this manifest, publish), the dbt runner and hand-over, and the
# dbt project's models, macros, tests and settings. Every file in them counts, whatever its name:
# a module added, moved or changed there rebuilds the warehouses built before.
SHAPING = (
    "schemas",
    "flows/stages",
    "flows/build",
    "dbt_project/models",
    "dbt_project/macros",
    "dbt_project/tests",
    "dbt_project/dbt_project.yml",
)


def code_files(root: Path = REPO_DIR) -> list[Path]:
    """The files whose bytes make the code version, under `root` (sorted, caches left out)."""
    files = []
    for name in SHAPING:
        path = root / name
        found = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        files += [p for p in found if "__pycache__" not in p.parts]
    return sorted(files)


def code_version(root: Path = REPO_DIR) -> str:
    """A digest of the code that shapes a warehouse (`code_files`): each file's path below `root`, and its bytes."""
    digest = hashlib.sha256()
    for path in code_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class LandingFile:
    """A landing file: `path` is where to read it on this machine, `name` how the warehouse names it
    (relative to the landing folder: flows.stages.load.landing_name)."""

    feed: str
    path: Path
    name: str
    sha256: str
    size_bytes: int
    mtime_ns: int = 0

    @classmethod
    def of(cls, feed: str, path: Path, name: str) -> LandingFile:
        """Hash a landing file; raise LandingFileChangingError if it changes meanwhile (it is still being written)."""
        before = path.stat()
        digest = sha256_of(path)
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            raise LandingFileChangingError(f"{path}: the file changed while it was read; it is still being written")
        return cls(feed, path, name, digest, after.st_size, after.st_mtime_ns)

    def is_unchanged_on_disk(self) -> bool:
        """True if the file still has the size and modification time it had when hashed."""
        now = self.path.stat()
        return (now.st_size, now.st_mtime_ns) == (self.size_bytes, self.mtime_ns)


@dataclass(frozen=True)
class KnownFile:
    """A file of the published manifest: `path` is how its rows name it (relative to the landing folder)."""

    feed: str
    name: str
    path: str
    sha256: str


@dataclass
class Plan:
    """What this run must do, file by file."""

    new: list[LandingFile] = field(default_factory=list)
    changed: list[tuple[KnownFile, LandingFile]] = field(default_factory=list)
    # The same bytes under a new name (the old name gone): its rows are kept, under the new name.
    renamed: list[tuple[KnownFile, LandingFile]] = field(default_factory=list)
    unchanged: list[LandingFile] = field(default_factory=list)
    removed: list[KnownFile] = field(default_factory=list)
    rebuild_reason: str | None = None  # why the warehouse is rebuilt from the files, if it is
    published_run_id: str | None = None  # the run that published the warehouse the plan compared with

    @property
    def to_load(self) -> list[LandingFile]:
        return self.new + [file for _, file in self.changed]

    def feeds_kept(self, prune: bool) -> set[str]:
        """The feeds that will have a file after this run: loaded, unchanged or renamed, or removed but kept (no `prune`)."""
        kept = {file.feed for file in self.to_load + self.unchanged + [after for _, after in self.renamed]}
        return kept | {file.feed for file in self.removed if not prune}

    def counts_text(self) -> str:
        """The files by fate, as the run's plan line and its summary say them (renamed only when any were)."""
        renamed = f"{len(self.renamed)} renamed, " if self.renamed else ""
        return f"{len(self.new)} new, {len(self.changed)} changed, {renamed}{len(self.unchanged)} unchanged, {len(self.removed)} removed file(s)"

    def has_work(self, prune: bool) -> bool:
        return bool(self.rebuild_reason or self.to_load or self.renamed or (prune and self.removed))

    def changes_brands(self, prune: bool) -> bool:
        """Whether a brands file is new, changed or (with `prune`) removed: a brand may have another group."""
        return any(file.feed == "brands" for file in self.to_load + (self.removed if prune else []))

    def judges_changed_rows_only(self, feed: str, prune: bool) -> bool:
        """Whether validation may judge only the rows of `feed` whose key this run changed
        (flows.stages.validate): in a run that builds on the published warehouse, for a feed whose
        changes are recorded (flows.stages.changes), when no feed its rules read (FEEDS[feed].references())
        has a new, changed, renamed or removed file, and no file of the feed itself was renamed
        (a duplicate's message names the other rows' files)."""
        if self.rebuild_reason is not None or feed not in FIGURE_FEEDS:
            return False
        touched = {file.feed for file in self.to_load} | {before.feed for before, _ in self.renamed}
        touched |= {file.feed for file in self.removed} if prune else set()
        renamed = {before.feed for before, _ in self.renamed}
        return feed not in renamed and not touched & set(FEEDS[feed].references())


@dataclass(frozen=True)
class Published:
    """What the published warehouse was built from: its files, the code's version and the dbt target."""

    files: dict[str, KnownFile]
    code_version: str | None = None
    dbt_target: str | None = None
    run_id: str | None = None  # the run that published it


def read_published(warehouse: Path) -> Published:
    """The published warehouse's manifest, code version and dbt target (empty if there is none)."""
    if not warehouse.exists():
        return Published({})
    with open_read_only(warehouse) as con:
        tables = {name for (name,) in con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        if not {TABLE, PUBLICATION} <= tables:
            return Published({})
        files = con.execute(f"select feed, name, path, sha256 from {TABLE}").fetchall()
        # select *: a warehouse of an earlier version may lack dbt_target (it is rebuilt then anyway)
        cursor = con.execute(f"select * from {PUBLICATION}")
        row = dict(zip([column[0] for column in cursor.description], cursor.fetchone() or (), strict=False))
    known = {name: KnownFile(feed, name, path, sha256) for feed, name, path, sha256 in files}
    return Published(known, row.get("code_version"), row.get("dbt_target"), row.get("run_id"))


def plan(landing: list[LandingFile], warehouse: Path, full_refresh: bool, dbt_target: str = "duckdb") -> Plan:
    """Compare the landing files with the published manifest (not even read on --full-refresh,
    which must rebuild a warehouse that cannot be opened)."""
    published = Published({}) if full_refresh else read_published(warehouse)
    known = published.files
    result = Plan(published_run_id=published.run_id)
    if full_refresh:
        result.rebuild_reason = "--full-refresh"
    elif not warehouse.exists():
        result.rebuild_reason = "no published warehouse yet"
    elif published.code_version != code_version():
        result.rebuild_reason = "the warehouse was built by another version of Outbound"
    elif published.dbt_target != dbt_target:
        result.rebuild_reason = f"the warehouse was built on dbt target {published.dbt_target}, this run builds on {dbt_target}"
    if result.rebuild_reason:
        result.new = list(landing)
        return result
    for file in landing:
        before = known.pop(file.name, None)
        if before is None:
            result.new.append(file)
        elif (before.sha256, before.feed, before.path) != (file.sha256, file.feed, file.name):
            result.changed.append((before, file))
        else:
            result.unchanged.append(file)
    # A new name with the bytes of a file gone from the landing directory is that file, renamed.
    gone = {(file.feed, file.sha256): file for file in sorted(known.values(), key=lambda file: file.name)}
    for file in list(result.new):
        before = gone.pop((file.feed, file.sha256), None)
        if before is not None:
            result.new.remove(file)
            result.renamed.append((before, file))
            del known[before.name]
    result.removed = sorted(known.values(), key=lambda file: file.name)
    return result


def create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def record(con: duckdb.DuckDBPyConnection, file: LandingFile, run_id: str) -> None:
    con.execute(
        f"insert or replace into {TABLE} (name, path, feed, sha256, size_bytes, run_id) values (?, ?, ?, ?, ?, ?)",
        [file.name, file.name, file.feed, file.sha256, file.size_bytes, run_id],
    )


def rename(con: duckdb.DuckDBPyConnection, before: KnownFile, after: LandingFile) -> None:
    """A renamed file keeps its entry (the run that loaded it, its counts) under its new name."""
    columns = "feed, sha256, size_bytes, rows_loaded, rows_rejected, run_id, loaded_at"
    con.execute(
        f"insert or replace into {TABLE} (name, path, {columns}) select ?, ?, {columns} from {TABLE} where name = ?",
        [after.name, after.name, before.name],
    )
    con.execute(f"delete from {TABLE} where name = ?", [before.name])


def drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"delete from {TABLE} where name = ?", [name])


def count_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Set each file's valid and rejected row counts from what the warehouse now holds."""
    feeds = [feed for (feed,) in con.execute(f"select distinct feed from {TABLE}").fetchall()]
    for feed in feeds:
        con.execute(
            f"""
            update {TABLE} set
                rows_loaded = (select count(*) from raw.{feed} where _file = {TABLE}.path),
                rows_rejected = (select count(*) from quarantine.rejected_rows where source_file = {TABLE}.path)
            where feed = ?
            """,
            [feed],
        )


def stamp(con: duckdb.DuckDBPyConnection, run_id: str, dbt_target: str) -> None:
    con.execute(f"delete from {PUBLICATION}")
    con.execute(
        f"insert into {PUBLICATION} (run_id, published_at, code_version, dbt_target) values (?, current_timestamp, ?, ?)",
        [run_id, code_version(), dbt_target],
    )
