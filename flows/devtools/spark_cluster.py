"""A Spark standalone cluster of one's own on 127.0.0.1: for the tests, the benchmark and `make cluster`.

From the pinned pyspark wheel (its spark-class and spark-submit, and the jars of the standalone
master and worker and of the Thrift server) and Java 17, it starts a standalone master, workers
in JVMs of their own (one core and a bounded memory each) and the Spark Thrift server
(HiveThriftServer2) as an application on that master, which is what `outbound run --target
spark_thrift` connects to. Everything binds to 127.0.0.1 on free ports; logs, work dirs, scratch
and the tables live in one folder; the catalog is in memory (no Derby metastore to lock or clean).
`stop()` stops every process by its id, executors included, whatever happened before.

    python -m flows.devtools.spark_cluster        # `make cluster`: start, print the settings to use, run until Ctrl-C
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from flows import settings
from flows.devtools.local_server import free_port

HOST = "127.0.0.1"
THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
APP_NAME = "Outbound Thrift server"
# The JVM's quick compiler only (C1: small data does not repay C2's compile time). C1 alone
# shrinks the code cache to 48 MB, which a build's hundreds of queries fill: "CodeCache is full.
# Compiler has been disabled", then a query fails with "Out of space in CodeCache for adapters".
# So the cache keeps the size it has with both compilers.
QUICK_COMPILER_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"
# No JVM of the cluster writes outside its folder: not its temp files, not /tmp/hsperfdata_<user>.
_JVM_OPTIONS = f"-XX:-UsePerfData {QUICK_COMPILER_OPTIONS} -Djava.io.tmpdir={{tmp}}"


class ClusterError(RuntimeError):
    """The cluster did not come up; the message says which process and where its log is."""


def spark_home() -> Path:
    """The pyspark package folder, which is a Spark distribution (bin/, jars/)."""
    import pyspark  # the Spark extra

    return Path(pyspark.__file__).resolve().parent


@dataclass
class SparkCluster:
    """A running cluster: its addresses, its folder and the processes this module started."""

    folder: Path
    master_url: str  # spark://127.0.0.1:<port>
    master_ui: str  # http://127.0.0.1:<port>, whose /json/ is the master's status
    thrift_port: int
    app_ui: str  # the Thrift server application's UI, whose /api/v1 is Spark's REST API
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    remove_folder: bool = False

    @property
    def thrift_address(self) -> str:
        return f"{HOST}:{self.thrift_port}"

    def env(self) -> dict[str, str]:
        """The settings `outbound run --target spark_thrift` needs to reach this cluster's Thrift server."""
        return {settings.SPARK_THRIFT_HOST.name: HOST, settings.SPARK_THRIFT_PORT.name: str(self.thrift_port)}

    def master_status(self) -> dict:
        """The master's JSON status: its workers (cores, memory) and applications."""
        return _get_json(f"{self.master_ui}/json/")

    def executors(self) -> list[dict]:
        """The Thrift server application's executors (the driver excluded), from Spark's REST API."""
        (app,) = _get_json(f"{self.app_ui}/api/v1/applications")
        return [e for e in _get_json(f"{self.app_ui}/api/v1/applications/{app['id']}/allexecutors") if e["id"] != "driver"]

    def stop_thrift_server(self) -> None:
        """Stop the Thrift server application alone (master and workers go on): how a cluster loses it mid-build."""
        process = self.processes.pop("thrift-server", None)
        if process is not None:
            _stop(process)

    def stop(self) -> None:
        """Stop every process this cluster started, by process group (a worker's executors are in its
        group): the Thrift server first, then the workers, then the master."""
        for name in reversed(list(self.processes)):
            _stop(self.processes.pop(name))
        if self.remove_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_cluster(
    folder: Path | None = None,
    workers: int = 2,
    worker_memory: str = "768m",
    executor_memory: str = "512m",
    driver_memory: str = "1g",
    timeout: float = 150,
) -> SparkCluster:
    """Start a master, `workers` workers (one core each) and the Thrift server on it, in `folder`
    (a new temporary folder, removed on stop, if None); return once the Thrift server accepts
    connections and has an executor on every worker. Stops what it started if anything fails."""
    remove = folder is None
    folder = Path(tempfile.mkdtemp(prefix="outbound-spark-")) if folder is None else folder
    for sub in ("logs", "tmp", "local", "work", "warehouse", "hive"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    home = spark_home()
    jvm = _JVM_OPTIONS.format(tmp=folder / "tmp")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_CONF_DIR": str(folder),  # no spark-defaults.conf there: only what is given here
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOCAL_DIRS": str(folder / "local"),
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_DAEMON_JAVA_OPTS": jvm,
    }
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    master_port, master_ui_port = free_port(), free_port()
    cluster = SparkCluster(
        folder=folder,
        master_url=f"spark://{HOST}:{master_port}",
        master_ui=f"http://{HOST}:{master_ui_port}",
        thrift_port=free_port(),
        app_ui=f"http://{HOST}:{free_port()}",
        remove_folder=remove,
    )
    spark_class = str(home / "bin" / "spark-class")
    try:
        cluster.processes["master"] = _start(
            "master",
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", HOST, "--port", str(master_port)]
            + ["--webui-port", str(master_ui_port)],
            folder,
            env,
        )
        _wait(cluster, "master", timeout, lambda: cluster.master_status().get("status") == "ALIVE")
        for n in range(1, workers + 1):
            work = folder / "work" / f"worker-{n}"
            work.mkdir(exist_ok=True)
            cluster.processes[f"worker-{n}"] = _start(
                f"worker-{n}",
                [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", HOST, "--port", str(free_port())]
                + ["--webui-port", str(free_port()), "--cores", "1", "--memory", worker_memory, "--work-dir", str(work)]
                + [cluster.master_url],
                folder,
                env,
            )
        _wait(cluster, "workers", timeout, lambda: sum(w["state"] == "ALIVE" for w in cluster.master_status()["workers"]) == workers)
        spark_conf = {
            "spark.driver.host": HOST,
            "spark.driver.bindAddress": HOST,
            "spark.ui.port": cluster.app_ui.rsplit(":", 1)[1],
            "spark.executor.memory": executor_memory,
            "spark.executor.cores": "1",
            "spark.cores.max": str(workers),
            # One executor per worker, whichever registers first: spread over the machines.
            "spark.deploy.spreadOutApps": "true",
            "spark.driver.extraJavaOptions": jvm,
            "spark.executor.extraJavaOptions": jvm,
            # The catalog lives as long as the server: no Derby metastore on disk. Tables are files
            # under the warehouse folder, which every executor reaches (here: the same machine).
            "spark.sql.catalogImplementation": "in-memory",
            "spark.sql.warehouse.dir": str(folder / "warehouse"),
            "spark.sql.session.timeZone": "UTC",
            # Small data (the seeds, the tests): few shuffle partitions, no adaptive re-planning.
            "spark.sql.shuffle.partitions": settings.SPARK_SHUFFLE_PARTITIONS.value(),
            "spark.ui.showConsoleProgress": "false",
        }
        hive_conf = {
            "hive.server2.thrift.bind.host": HOST,
            "hive.server2.thrift.port": str(cluster.thrift_port),
            "hive.exec.scratchdir": str(folder / "hive" / "scratch"),
            "hive.exec.local.scratchdir": str(folder / "hive" / "local"),
            # One folder per session (Hive's default pattern): a folder shared by sessions races when
            # dbt opens two at once ("Couldn't create directory"), and each session deletes it on close.
            "hive.downloaded.resources.dir": str(folder / "hive" / "resources") + "/${hive.session.id}",
            "hive.server2.logging.operation.log.location": str(folder / "hive" / "operation_logs"),
            "hive.querylog.location": str(folder / "hive" / "querylog"),
        }
        command = [str(home / "bin" / "spark-submit"), "--master", cluster.master_url, "--class", THRIFT_SERVER_CLASS]
        command += ["--name", APP_NAME]
        for key, value in spark_conf.items():
            command += ["--conf", f"{key}={value}"]
        command += ["spark-internal"]
        for key, value in hive_conf.items():
            command += ["--hiveconf", f"{key}={value}"]
        # spark-submit sizes the Thrift server's driver by SPARK_DAEMON_MEMORY, not --driver-memory.
        cluster.processes["thrift-server"] = _start("thrift-server", command, folder, {**env, "SPARK_DAEMON_MEMORY": driver_memory})
        _wait(cluster, "thrift-server", timeout, lambda: _accepts(HOST, cluster.thrift_port) and len(cluster.executors()) >= workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def reachable(host: str, port: int, timeout: float = 5) -> str | None:
    """None if something accepts TCP connections at host:port, else why not (e.g. 'connection refused')."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as error:
        return (error.strerror or str(error)).lower()


def leftover_processes(folder: Path) -> list[int]:
    """Ids of the processes still running in `folder` (their working directory under it): none, once stopped."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == str(folder) or cwd.startswith(f"{folder}/"):
            found.append(int(entry.name))
    return found


def _accepts(host: str, port: int) -> bool:
    return reachable(host, port, timeout=2) is None


def _start(name: str, command: list[str], folder: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start one JVM in a process group of its own (its children, a worker's executors, go with it),
    its working directory the cluster's folder, its output in logs/<name>.log."""
    with (folder / "logs" / f"{name}.log").open("w") as log:
        return subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait(cluster: SparkCluster, name: str, timeout: float, ready) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process_name, process in cluster.processes.items():
            if process.poll() is not None:
                raise ClusterError(
                    f"spark {process_name} exited with {process.returncode}: see {cluster.folder / 'logs' / process_name}.log"
                )
        try:
            if ready():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise ClusterError(f"spark {name} not ready after {timeout:.0f} s: see {cluster.folder / 'logs'}")


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group (the JVMs' shutdown hooks stop their executors), SIGKILL after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            # The group may outlive its leader (an executor finishing its shutdown): make sure.
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
        time.sleep(1)
    process.wait()


def main() -> int:
    """`make cluster`: start a cluster in a temporary folder, say how to use it, stop it on Ctrl-C or SIGTERM."""
    # Ctrl-C, and SIGTERM (or SIGINT to a background job, which Python would otherwise ignore), stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print("starting a Spark master, 2 workers and the Thrift server on 127.0.0.1 ...", flush=True)
    started = time.monotonic()
    try:
        cluster = start_cluster()
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    with cluster:
        print(f"up in {time.monotonic() - started:.0f} s; folder {cluster.folder} (removed on stop)")
        print(f"master {cluster.master_url}, status {cluster.master_ui}; Thrift server application UI {cluster.app_ui}")
        print("in another terminal:")
        print(f"  export {' '.join(f'{k}={v}' for k, v in cluster.env().items())}")
        print("  .venv/bin/outbound run --target spark_thrift")
        print("Ctrl-C stops the cluster.", flush=True)
        try:
            while all(process.poll() is None for process in cluster.processes.values()):
                time.sleep(1)
            print("error: a process of the cluster exited: see its log in " + str(cluster.folder / "logs"), file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("stopping the cluster ...", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
