"""Outbound's settings, in one place: the repository's folders, every `OUTBOUND_*` environment
variable (its default and its meaning), and the flow's parameters with their defaults.

Everything else imports from here; nothing else reads an `OUTBOUND_*` variable. A variable is read
when it is used (`Setting.value()`), not at import, so that a test, a served deployment or the CLI
can set one before the code that needs it runs. profiles.yml and the dbt macros read their
variables through dbt's `env_var()`, with the same defaults (tests/test_layout.py holds them equal).

Importing this module changes nothing and imports nothing heavy: the CLI imports it before Prefect.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_DIR / "dbt_project"
PROFILES_DIR = REPO_DIR  # profiles.yml


@dataclass(frozen=True)
class Setting:
    """An environment variable Outbound reads: its name, its default (None: unset means off) and what it does."""

    name: str
    default: str | None
    meaning: str

    def value(self) -> str | None:
        return os.environ.get(self.name, self.default)

    def number(self) -> float:
        value = self.value()
        if value is None:
            raise ValueError(f"{self.name} has no value")
        return float(value)


# --- The warehouse and the run
WAREHOUSE = Setting("OUTBOUND_WAREHOUSE", "warehouse/outbound.duckdb", "the published DuckDB file the commands read and a run publishes")
TIMEOUT_SECONDS = Setting(
    "OUTBOUND_TIMEOUT_SECONDS", "3600", "a run taking longer is stuck and fails (the seeds take seconds, ten million rows minutes)"
)
DUCKDB_MEMORY_LIMIT = Setting(
    "OUTBOUND_DUCKDB_MEMORY_LIMIT",
    "2GB",
    "DuckDB's memory budget in a run and in dbt's connection; past it, DuckDB spills to disk in the build folder",
)
RETRIES = Setting(
    "OUTBOUND_RETRIES", "5", "how often Prefect retries a task whose failure can pass (a file still written, the warehouse held)"
)
RETRY_BACKOFF_SECONDS = Setting("OUTBOUND_RETRY_BACKOFF_SECONDS", "5", "the first retry's delay; each next one doubles it")
HANDOVER_DIR = Setting(
    "OUTBOUND_HANDOVER_DIR",
    None,
    "where a run hands the feeds to another engine and takes its models back; on a cluster, a folder every executor reaches "
    "(default: the run's build folder)",
)

# --- The local Prefect server a run starts when no PREFECT_API_URL is set (flows.devtools.local_server)
PREFECT_SERVER = Setting("OUTBOUND_PREFECT_SERVER", None, "'ephemeral': use Prefect's temporary server instead of the quiet local one")
PREFECT_SERVER_IDLE_SECONDS = Setting("OUTBOUND_PREFECT_SERVER_IDLE_SECONDS", "900", "the local server stops after this long without a run")

# --- dbt's connection (profiles.yml)
DBT_THREADS = Setting(
    "OUTBOUND_DBT_THREADS", "1", "dbt's threads on DuckDB (one: DuckDB runs each model on every core; two models at once spill)"
)

# --- dbt's own folders: dbt reads these variables itself; a value is relative to dbt_project/ unless absolute
DBT_TARGET_PATH = Setting(
    "DBT_TARGET_PATH",
    "target",
    "dbt's target folder: its parse of the project, its manifest and the link every build opens (flows.build.runner); "
    "builds that share one take turns, so builds meant to run at once (the test suite's workers) each give their own",
)
DBT_LOG_PATH = Setting("DBT_LOG_PATH", "logs", "dbt's log folder, where dbt.log is")

# --- Spark targets (profiles.yml: `spark`, in-process; `spark_thrift`, a cluster's Thrift server)
SPARK_CORES = Setting("OUTBOUND_SPARK_CORES", "*", "cores of the in-process Spark session (local[N])")
SPARK_THREADS = Setting(
    "OUTBOUND_SPARK_THREADS", "2", "dbt's threads on the in-process Spark session (two: Spark spends small queries planning)"
)
SPARK_DRIVER_MEMORY = Setting("OUTBOUND_SPARK_DRIVER_MEMORY", "2g", "memory of the in-process Spark session's driver")
SPARK_SHUFFLE_PARTITIONS = Setting("OUTBOUND_SPARK_SHUFFLE_PARTITIONS", "4", "Spark's shuffle partitions (small data: few)")
SPARK_ADAPTIVE = Setting("OUTBOUND_SPARK_ADAPTIVE", "true", "Spark's adaptive query execution")
SPARK_CODEGEN = Setting("OUTBOUND_SPARK_CODEGEN", "true", "Spark's whole-stage code generation")
SPARK_JAVA_OPTIONS = Setting("OUTBOUND_SPARK_JAVA_OPTIONS", "", "extra JVM options of the in-process Spark driver")
SPARK_THRIFT_HOST = Setting("OUTBOUND_SPARK_THRIFT_HOST", "127.0.0.1", "the Spark Thrift server of the spark_thrift target")
SPARK_THRIFT_PORT = Setting("OUTBOUND_SPARK_THRIFT_PORT", "10000", "its port")
SPARK_THRIFT_USER = Setting("OUTBOUND_SPARK_THRIFT_USER", "outbound", "the user dbt connects to it as")
SPARK_THRIFT_SCHEMA = Setting("OUTBOUND_SPARK_THRIFT_SCHEMA", "raw", "the schema dbt builds in on it")
SPARK_THRIFT_THREADS = Setting("OUTBOUND_SPARK_THRIFT_THREADS", "2", "dbt's threads on it")
SPARK_THRIFT_POLL_SECONDS = Setting(
    "OUTBOUND_SPARK_THRIFT_POLL_SECONDS", "0", "dbt-spark's pause between polls of a running statement (the server long-polls)"
)

# --- What the dbt runner tells dbt for one build (set only for the build, never by a user)
DBT_DATABASE = Setting(
    "OUTBOUND_DBT_DATABASE",
    "warehouse/outbound.duckdb",
    "set by the runner: the build file dbt opens (by hand, dbt opens the published file)",
)
RUN_ID = Setting("OUTBOUND_RUN_ID", "manual", "set by the runner: the run id stamped on every mart row (macros/run_id_stamp.sql)")
EXCHANGE_DIR = Setting("OUTBOUND_EXCHANGE_DIR", "", "set by the runner: this build's hand-over folder (macros/exchange.sql)")
SPARK_DIR = Setting(
    "OUTBOUND_SPARK_DIR", "warehouse/spark", "set by the runner: the in-process Spark session's scratch folder (profiles.yml)"
)

# --- Test hooks
PAUSE_AT = Setting("OUTBOUND_PAUSE_AT", None, "crash tests: hold the run at this stage (load, validate, dbt, publish)")
RESUME_WHEN = Setting("OUTBOUND_RESUME_WHEN", None, "crash tests: a held run goes on once this file exists")

SETTINGS: tuple[Setting, ...] = tuple(value for value in list(globals().values()) if isinstance(value, Setting))


def dbt_folder(setting: Setting) -> Path:
    """One of dbt's folders (DBT_TARGET_PATH, DBT_LOG_PATH) as dbt resolves it: within dbt_project/ unless absolute."""
    return DBT_PROJECT_DIR / (setting.value() or str(setting.default))


# --- The flow's parameters: the flow (flows.run.outbound), `outbound run` and `outbound serve`, and
# prefect.yaml's deployment all take these, with these defaults.
TARGETS = ("duckdb", "spark", "spark_thrift")  # the dbt targets of profiles.yml
DEFAULT_CRON = "0 6 * * *"  # when the deployment's scheduled runs start: daily at 06:00
DEFAULT_TIMEZONE = "UTC"
DEPLOYMENT = "daily"  # outbound/daily


def _parameter(default: str | bool, help: str) -> str | bool:
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class RunParameters:
    """A run's parameters, as the Prefect UI shows them; each one's help is the CLI's."""

    landing: str = _parameter("seeds", "directory of landing CSV files (default: seeds)")
    # "" means $OUTBOUND_WAREHOUSE, else warehouse/outbound.duckdb
    warehouse: str = _parameter("", "published DuckDB file (default: $OUTBOUND_WAREHOUSE or warehouse/outbound.duckdb)")
    strict: bool = _parameter(False, "fail the run, publishing nothing, if any row breaks a rule")
    full_refresh: bool = _parameter(False, "rebuild the warehouse from the landing files alone")
    prune: bool = _parameter(False, "drop the rows of files that are gone from the landing directory")
    target: str = _parameter(
        "duckdb",
        "dbt target the models are built on (default: duckdb; spark, in-process, needs '.[spark]' and Java; "
        "spark_thrift, a cluster's Thrift server)",
    )
    unit_tests: bool = _parameter(False, "also run dbt's unit tests in the build (e.g. on a new --target)")

    def __post_init__(self) -> None:
        if not self.warehouse:
            object.__setattr__(self, "warehouse", default_warehouse())

    def as_dict(self) -> dict[str, str | bool]:
        return dataclasses.asdict(self)


PARAMETER_NAMES = tuple(field.name for field in dataclasses.fields(RunParameters))


def default_warehouse() -> str:
    return WAREHOUSE.value() or "warehouse/outbound.duckdb"
