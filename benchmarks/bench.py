"""`make bench`: Outbound against plain DuckDB doing the same work, at scale and on the shipped seeds.

In one sitting, with a `prefect server start` of its own (as a deployment runs):

1. scale, ROWS sales rows: `outbound synth` writes a landing set; `outbound run` builds a fresh
   warehouse from it; the baseline (benchmarks/baseline.py) computes the same marts in plain DuckDB,
   written for speed apart from the dbt models (tests/test_baseline.py checks them equal);
   then a no-op rerun (nothing new); then a new month (the last month's sales figures a month
   later, in a file of its own: about 1% of the rows), an incremental run; then the same with half
   the rows broken, where every broken row must end in quarantine.
2. seeds: an empty Prefect flow, `outbound run` from an empty warehouse and a no-op rerun on the
   shipped seeds, in Prefect's ephemeral mode and against the running server.

With --target spark, every full `outbound run` is also done with `--target spark` (the models
built and tested on a local Spark), and its line gives its ratio to the DuckDB run as well; with
--target spark_thrift, on a Spark cluster the bench starts (flows/devtools/spark_cluster.py: a standalone
master, two one-core workers and the Thrift server); --target spark,spark_thrift does both.

Each line gives wall time and peak RSS (of the whole process tree), per stage and in total, and
the ratio to the baseline. The figures are also written as JSON under benchmarks/results/.

    python -m benchmarks.bench --rows 1000000 [--target spark|spark_thrift|spark,spark_thrift] [--skip-seeds] [--skip-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import measure
from flows import settings
from flows.devtools.local_server import start_prefect_server, stop_process_group

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
STAGES = ("load", "validate", "dbt", "publish", "marts")
PYTHON = sys.executable


@dataclass
class Result:
    """One measured run: total and per-stage wall seconds and peak RSS bytes."""

    name: str
    seconds: float
    peak_rss: int
    stages: dict[str, dict[str, float]]
    detail: dict

    def line(self, baseline: Result | None = None, duckdb_run: Result | None = None) -> str:
        ratio = f"  ratio {self.seconds / baseline.seconds:.2f}x plain DuckDB" if baseline else ""
        ratio += f", {self.seconds / duckdb_run.seconds:.2f}x the DuckDB run" if duckdb_run else ""
        return f"{self.name:<44} total {self.seconds:8.2f} s  peak {gb(self.peak_rss)}{ratio}"

    def stage_lines(self) -> list[str]:
        lines = [
            f"  {self.name + ': ' + stage:<42} {self.stages[stage]['seconds']:8.2f} s  peak {gb(self.stages[stage]['peak_rss'])}"
            for stage in STAGES
            if stage in self.stages
        ]
        slowest = self.detail.get("slowest_nodes")
        if slowest:
            lines.append("    slowest dbt nodes: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest.items()))
        return lines

    def as_json(self) -> dict:
        return {"seconds": round(self.seconds, 3), "peak_rss_bytes": self.peak_rss, "stages": self.stages, **self.detail}


def gb(size: int) -> str:
    return f"{size / 2**30:5.2f} GB"


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()


def outbound_run(name: str, landing: Path, warehouse: Path, env: dict[str, str], target: str = "duckdb") -> Result:
    """`outbound run` as a user runs it; its stages from the run log it leaves beside the warehouse."""
    command = [PYTHON, "-m", "flows.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse), "--target", target]
    measured = measure.run(command, env=env, cwd=REPO)
    if measured.returncode != 0:
        raise SystemExit(f"{name}: outbound run failed:\n{measured.stdout}\n{measured.stderr}")
    log = warehouse.with_name(warehouse.stem + ".runs.jsonl")
    record = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    stages = {}
    for stage, timing in record.get("stages", {}).items():
        start = _epoch(timing["started_at"])
        stages[stage] = {"seconds": timing["seconds"], "peak_rss": measured.peak_between(start, start + timing["seconds"])}
    detail = {"rows_loaded": record["rows_loaded"], "rows_rejected": record["rows_rejected"], "no_op": "nothing new" in measured.stdout}
    detail["slowest_nodes"] = slowest_nodes(warehouse, record["run_id"])
    return Result(name, measured.seconds, measured.peak_rss, stages, detail)


def slowest_nodes(warehouse: Path, run_id: str, count: int = 8) -> dict[str, float]:
    """The dbt nodes (models and tests) of one run that took longest, from the dbt results log beside the warehouse:
    the per-model profile the README's Performance section and the issue's closing notes quote."""
    log = warehouse.with_name(warehouse.stem + ".dbt_results.jsonl")
    if not log.exists():
        return {}
    nodes = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    timed = sorted(((node["execution_seconds"] or 0.0, node["name"]) for node in nodes if node["run_id"] == run_id), reverse=True)
    return {name: round(seconds, 2) for seconds, name in timed[:count]}


def baseline_run(name: str, landing: Path, folder: Path, env: dict[str, str]) -> Result:
    """The same marts in plain DuckDB, written for speed apart from the dbt models (benchmarks/baseline.py)."""
    measured = measure.run([PYTHON, "-m", "benchmarks.baseline", str(landing), str(folder)], env=env, cwd=REPO)
    if measured.returncode != 0:
        raise SystemExit(f"{name}: baseline failed:\n{measured.stderr}")
    printed = json.loads(measured.stdout.strip().splitlines()[-1])
    stages = {
        stage: {"seconds": t["seconds"], "peak_rss": measured.peak_between(t["started_at"], t["started_at"] + t["seconds"])}
        for stage, t in printed["stages"].items()
    }
    return Result(name, measured.seconds, measured.peak_rss, stages, {"rows_rejected": printed["rows_rejected"]})


def scale(rows: int, work: Path, env: dict[str, str], targets: list[str]) -> dict:
    """Synthetic landing sets of `rows` sales rows, good and half broken, through Outbound and the baseline."""
    report: dict = {"rows": rows}
    for label, bad_fraction in (("good", 0.0), ("50% bad", 0.5)):
        landing = work / f"landing-{label.replace('% ', '-')}"
        started = time.perf_counter()
        synth = measure.run(
            [PYTHON, "-m", "flows.cli", "synth", "--rows", str(rows), "--out", str(landing), "--bad-fraction", str(bad_fraction)], env=env
        )
        if synth.returncode != 0:
            raise SystemExit(f"synth failed:\n{synth.stderr}")
        expected = json.loads((landing / "synth.json").read_text(encoding="utf-8"))
        size = sum(path.stat().st_size for path in landing.glob("*.csv"))
        print(f"\n{rows:,} sales rows, {label}: synth wrote {size / 2**20:,.0f} MB in {time.perf_counter() - started:.1f} s", flush=True)

        warehouse = work / f"warehouse-{label.replace('% ', '-')}" / "outbound.duckdb"
        ours = outbound_run(f"outbound run ({label})", landing, warehouse, env)
        plain = baseline_run(f"plain DuckDB ({label})", landing, work / f"baseline-{label.replace('% ', '-')}", env)
        for line in (ours.line(plain), *ours.stage_lines(), plain.line(), *plain.stage_lines()):
            print(line, flush=True)
        entry = {"outbound": ours.as_json(), "plain_duckdb": plain.as_json(), "ratio": round(ours.seconds / plain.seconds, 3)}
        for target in targets:
            spark_warehouse = work / f"warehouse-{target}-{label.replace('% ', '-')}" / "outbound.duckdb"
            theirs = outbound_run(f"outbound run --target {target} ({label})", landing, spark_warehouse, env, target)
            for line in (theirs.line(plain, ours), *theirs.stage_lines()):
                print(line, flush=True)
            entry[f"outbound_{target}"] = theirs.as_json() | {
                "ratio_to_plain_duckdb": round(theirs.seconds / plain.seconds, 3),
                "ratio_to_duckdb_run": round(theirs.seconds / ours.seconds, 3),
            }
        entry["expected_bad_rows"] = sum(expected["bad_rows"].values())
        if bad_fraction:
            quarantined = ours.detail["rows_rejected"]
            complete = quarantined == entry["expected_bad_rows"]
            print(f"  quarantined {quarantined:,} of {entry['expected_bad_rows']:,} broken rows: {'all' if complete else 'NOT ALL'}")
            entry["all_bad_rows_quarantined"] = complete
        else:
            again = outbound_run("outbound run, nothing new", landing, warehouse, env)
            assert again.detail["no_op"], "the rerun was expected to find nothing new"
            print(again.line(), flush=True)
            entry["no_op_rerun"] = again.as_json()
            month_rows = write_next_month(landing)
            month = outbound_run(f"outbound run, a new month ({month_rows:,} rows)", landing, warehouse, env)
            print(month.line(plain) + f", {month.seconds / ours.seconds:.2f}x the full run", *month.stage_lines(), sep="\n", flush=True)
            entry["new_month"] = month.as_json() | {
                "rows": month_rows,
                "ratio_to_plain_duckdb": round(month.seconds / plain.seconds, 3),
                "ratio_to_full_run": round(month.seconds / ours.seconds, 3),
            }
        report[label] = entry
        shutil.rmtree(landing, ignore_errors=True)
    return report


def write_next_month(landing: Path) -> int:
    """Land the month after the synthetic set's last, as a file of its own (sales_next_month.csv):
    the last month's sales figures a month later. Returns its rows (about 1% of the set's)."""
    import duckdb

    target = landing / "sales_next_month.csv"
    with duckdb.connect() as con:
        con.execute(
            """
            create table figures as select * from read_csv($path, header = true, auto_detect = false,
                columns = {'entity': 'VARCHAR', 'entity_type': 'VARCHAR', 'powertrain': 'VARCHAR', 'period_start': 'DATE',
                    'period_end': 'DATE', 'units': 'VARCHAR', 'units_qualifier': 'VARCHAR', 'reported_yoy_pct': 'VARCHAR',
                    'source_id': 'VARCHAR', 'quote': 'VARCHAR'})
            """,
            {"path": str(landing / "sales.csv")},
        )
        con.sql(
            """
            select * replace (
                (period_start + interval 1 month)::date as period_start,
                last_day(period_start + interval 1 month) as period_end
            )
            from figures
            where period_start = (select max(period_start) from figures) and period_start = date_trunc('month', period_end)
            """
        ).write_csv(str(target), header=True)  # the path as a value, not SQL
    with target.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


def seeds(work: Path, env: dict[str, str], server_url: str | None, targets: list[str], server_only: bool = False) -> dict:
    """The shipped seeds beside an empty flow, in the ephemeral mode and against the running server."""
    report = {}
    modes = ([] if server_only and server_url else [("ephemeral", None)]) + ([("server", server_url)] if server_url else [])
    for mode, url in modes:
        mode_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"} | ({"PREFECT_API_URL": url} if url else {})
        if url is None:  # Prefect's own temporary server, not the local one `outbound run` starts without an API
            mode_env[settings.PREFECT_SERVER.name] = "ephemeral"
        empty = [measure.run([PYTHON, "-m", "benchmarks.empty_flow"], env=mode_env, cwd=REPO).seconds for _ in range(3)]
        full, no_op = [], []
        for attempt in range(3):
            warehouse = work / f"seeds-{mode}-{attempt}" / "outbound.duckdb"
            full.append(outbound_run(f"seeds, {mode}: full run", REPO / "seeds", warehouse, mode_env).seconds)
            no_op.append(outbound_run(f"seeds, {mode}: no-op rerun", REPO / "seeds", warehouse, mode_env).seconds)
        figures = {"empty_flow": statistics.median(empty), "full_run": statistics.median(full), "no_op_rerun": statistics.median(no_op)}
        print(
            f"\nseeds, {mode}: empty flow {figures['empty_flow']:.2f} s; full run {figures['full_run']:.2f} s "
            f"(+{figures['full_run'] - figures['empty_flow']:.2f} s); no-op rerun {figures['no_op_rerun']:.2f} s "
            f"(+{figures['no_op_rerun'] - figures['empty_flow']:.2f} s)",
            flush=True,
        )
        report[mode] = {name: round(value, 3) for name, value in figures.items()}
    for target in targets if server_url else []:
        warehouse = work / f"seeds-{target}" / "outbound.duckdb"
        theirs = outbound_run(f"seeds, server: full run --target {target}", REPO / "seeds", warehouse, env, target)
        duckdb_full = report["server"]["full_run"]
        print(f"{theirs.line()}  ({theirs.seconds / duckdb_full:.1f}x the DuckDB run)", *theirs.stage_lines(), sep="\n", flush=True)
        report[f"{target}_full_run"] = theirs.as_json() | {"ratio_to_duckdb_run": round(theirs.seconds / duckdb_full, 3)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="sales rows of the synthetic landing set (default: 1000000)")
    parser.add_argument(
        "--target",
        default="duckdb",
        help="also run every full run on these dbt targets, comma-separated: spark (in-process), spark_thrift (on a cluster this starts)",
    )
    parser.add_argument("--skip-scale", action="store_true", help="only the shipped seeds")
    parser.add_argument("--skip-seeds", action="store_true", help="only the synthetic set")
    parser.add_argument("--server-only", action="store_true", help="the seeds against the running server only, not in the ephemeral mode")
    args = parser.parse_args()
    targets = [target for target in args.target.split(",") if target != "duckdb"]
    unknown = set(targets) - {"spark", "spark_thrift"}
    if unknown:
        parser.error(f"unknown --target {', '.join(sorted(unknown))}: expected duckdb, spark or spark_thrift")

    work = Path(tempfile.mkdtemp(prefix="outbound-bench-"))
    env = {**os.environ}
    env.pop(settings.WAREHOUSE.name, None)
    home = work / "prefect-home"
    home.mkdir()
    started = start_prefect_server(home)
    env["PREFECT_HOME"] = str(home)
    if started:
        server, env["PREFECT_API_URL"] = started
    else:
        server = None
        print("prefect server did not start: the scale runs use the ephemeral mode", file=sys.stderr)
    report: dict = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "cores": os.cpu_count()}
    cluster = None
    try:
        if "spark_thrift" in targets:
            # A standalone master, two one-core workers and the Thrift server, as the tests start them.
            from flows.devtools.spark_cluster import start_cluster

            started_at = time.perf_counter()
            # Executors of 1.5 GB: the tests' 512 MB run out of memory in a hash aggregate at 1M rows.
            # A Thrift server (the driver) of 3 GB: a join whose side is small on disk is broadcast,
            # and the driver builds the broadcast table in its heap; at 1M rows, 1 GB was not enough
            # ("Not enough memory to build and broadcast the table"). Broadcasting is right for such
            # joins on a cluster, so the driver is sized for it rather than broadcasting turned off.
            cluster = start_cluster(work / "spark-cluster", worker_memory="2g", executor_memory="1536m", driver_memory="3g")
            env.update(cluster.env())
            report["cluster_start_seconds"] = round(time.perf_counter() - started_at, 3)
            print(f"spark cluster (master, 2 workers, Thrift server) up in {report['cluster_start_seconds']:.1f} s", flush=True)
        if not args.skip_scale:
            report["scale"] = scale(args.rows, work, env, targets)
        if not args.skip_seeds:
            report["seeds"] = seeds(work, env, env.get("PREFECT_API_URL"), targets, args.server_only)
    finally:
        if cluster:
            cluster.stop()
        if server:
            stop_process_group(server)
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}-{args.rows}-{args.target.replace(',', '+')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
