"""A throwaway Apache Spark standalone cluster on loopback, for development and the test
suite (`xm spark start`).

What runs (each a JVM started from the `pyspark` package's own Spark distribution, in its
own process group, recorded by pid in `<directory>/cluster.json`):

- a standalone **master** (`spark://127.0.0.1:<port>`, web UI and JSON at `/json`);
- two **workers** (1 core and 1 GiB each by default) registered with it;
- the **Spark Thrift server** (HiveThriftServer2): one long-running Spark application on the
  cluster (one executor on each worker) that serves SQL over HiveServer2's Thrift protocol on
  `127.0.0.1:<thrift_port>`. dbt (dbt-spark, method `thrift`), the checks and publishing all
  send their SQL there; it owns the Hive metastore (embedded Derby, one process) and the
  warehouse directory where managed tables live as Parquet.

Java comes from the machine (`java` on PATH or JAVA_HOME; Debian's
`openjdk-17-jre-headless` is installed with apt-get when missing and we are root or have
password-less sudo), as `local_postgres` does for PostgreSQL.

This is for a laptop or CI. A real deployment points `XM_SPARK_HOST`/`XM_SPARK_PORT` at its
own Spark SQL endpoint (docs/engines.md: Databricks).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.request
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_FILE = "cluster.json"
APP_NAME = "xm-spark-sql"


class LocalSparkError(RuntimeError):
    pass


def spark_home() -> Path:
    """The Spark distribution inside the installed `pyspark` package (jars, bin/spark-class)."""
    try:
        import pyspark
    except ImportError as e:  # pragma: no cover - pyspark is a declared dependency
        raise LocalSparkError("pyspark is not installed: it carries the Spark jars") from e
    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-class").exists() or not (home / "jars").is_dir():
        raise LocalSparkError(f"{home} holds no Spark distribution (bin/spark-class, jars/)")
    return home


def java_home() -> str | None:
    if os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java").exists():
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def ensure_java(echo=print) -> str:
    """JAVA_HOME of a usable Java; installs Debian's openjdk-17-jre-headless if there is none."""
    home = java_home()
    if home:
        return home
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    if shutil.which("apt-get") is None or (os.geteuid() != 0 and shutil.which("sudo") is None):
        raise LocalSparkError(
            "Java not found and apt-get is not usable here: install a Java 17+ runtime "
            "(e.g. openjdk-17-jre-headless) or set JAVA_HOME."
        )
    echo("installing Java with apt-get (Debian's openjdk-17-jre-headless) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        [*apt, "update", "-qq"],
        [*apt, "install", "-y", "-qq", "--no-install-recommends", "openjdk-17-jre-headless"],
    ):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise LocalSparkError(
                f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
    home = java_home()
    if home is None:
        raise LocalSparkError("apt-get installed openjdk-17-jre-headless but java was not found")
    return home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get_json(url: str) -> dict | list:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own exited child) is not alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.deploy.name = org.apache.spark.deploy
logger.deploy.level = info
logger.thrift.name = org.apache.spark.sql.hive.thriftserver
logger.thrift.level = info
"""


# Spark 4 no longer ships hive-llap-common, yet Hive's FunctionRegistry (hive-exec 2.3)
# registers `get_splits`, whose class refers to one interface of it. The Thrift server
# initialises that registry when closing a session whose thread needs a new metastore handle:
# the registry then fails with NoClassDefFoundError (the client's close gets an error, which
# aborts a dbt run) and Hive's "functions registered" flag stays pending, so the next such
# close waits forever (why Spark's own build added the jar back for its Thrift server tests,
# SPARK-51041). An empty interface of that name is all the registry needs: the function is
# never called. Written here as a class file, no JDK compiler needed.
LLAP_SIGNABLE = "org/apache/hadoop/hive/llap/security/LlapSigner$Signable"


def _empty_interface(name: str) -> bytes:
    """The class file of `public interface <name> {}` (Java 8 format)."""

    def utf8(text: str) -> bytes:
        data = text.encode()
        return b"\x01" + struct.pack(">H", len(data)) + data

    pool = [b"\x07\x00\x02", utf8(name), b"\x07\x00\x04", utf8("java/lang/Object")]
    return (
        b"\xca\xfe\xba\xbe"
        + struct.pack(">HHH", 0, 52, len(pool) + 1)
        + b"".join(pool)
        # public abstract interface, this #1, super #3, no interfaces/fields/methods/attributes
        + struct.pack(">HHHHHHH", 0x0601, 1, 3, 0, 0, 0, 0)
    )


def hive_functions_jar(directory: Path) -> Path:
    """A jar with the one LLAP interface Hive's function registry needs (see LLAP_SIGNABLE)."""
    jar = directory / "jars" / "hive-llap-signable.jar"
    jar.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(jar, "w") as z:
        z.writestr(LLAP_SIGNABLE + ".class", _empty_interface(LLAP_SIGNABLE))
    return jar


@dataclass
class LocalSpark:
    """A standalone cluster whose files (logs, worker dirs, metastore, managed tables) live
    in `directory`. Ports default to Spark's own; the tests pick free ones."""

    directory: Path
    master_port: int = 7077
    master_ui_port: int = 8080
    thrift_port: int = 10000
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "1g"
    driver_memory: str = "1g"
    # shuffles of this warehouse's tables are small: 200 partitions (Spark's default) would
    # be 200 tasks per stage on 2 cores
    shuffle_partitions: int = 4
    worker_ui_ports: list[int] = field(default_factory=list)
    app_ui_port: int = 0
    pids: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ where things are
    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def master_json_url(self) -> str:
        return f"http://127.0.0.1:{self.master_ui_port}/json"

    @property
    def app_api_url(self) -> str:
        """The Thrift server application's REST API (its executors, stages, jobs)."""
        return f"http://127.0.0.1:{self.app_ui_port}/api/v1"

    @property
    def warehouse_dir(self) -> Path:
        return self.directory / "warehouse"

    @property
    def metastore_dir(self) -> Path:
        return self.directory / "metastore_db"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def exports(self) -> dict[str, str]:
        """The settings that point the project at this cluster's SQL endpoint."""
        return {"XM_SPARK_HOST": "127.0.0.1", "XM_SPARK_PORT": str(self.thrift_port)}

    # ------------------------------------------------------------------ state
    def _save(self) -> None:
        state = asdict(self)
        state["directory"] = str(self.directory)
        (self.directory / STATE_FILE).write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, directory: Path) -> LocalSpark | None:
        """The cluster last started in `directory` (ports and pids), if any."""
        path = Path(directory) / STATE_FILE
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        state["directory"] = Path(state["directory"])
        return cls(**state)

    def is_running(self) -> bool:
        return bool(self.pids) and all(_alive(pid) for pid in self.pids.values())

    # ------------------------------------------------------------------ processes
    def _env(self, java: str) -> dict[str, str]:
        home = spark_home()
        conf = self.directory / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "log4j2.properties").write_text(LOG4J)
        env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "JAVA_HOME": java,
            "SPARK_CONF_DIR": str(conf),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOCAL_HOSTNAME": "localhost",
            "SPARK_DAEMON_MEMORY": "512m",  # master and worker daemons (not executors)
            "SPARK_NO_DAEMONIZE": "1",
            "TZ": "UTC",
        }
        for key in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_CONF_DIR_OVERRIDE"):
            env.pop(key, None)
        return env

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> int:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            args,
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it and its children
        )
        log.close()
        self.pids[name] = proc.pid
        self._save()
        return proc.pid

    def _wait(self, what: str, ready, timeout: float, process: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except (OSError, ValueError):
                # not answering yet, or not JSON yet: while the master starts, its web UI
                # answers `/json` with its HTML page for a moment (seen in CI)
                pass
            except BaseException:
                self.stop()  # nothing it started is left running
                raise
            if process and not _alive(self.pids[process]):
                break
            time.sleep(0.5)
        tail = ""
        if process:
            log = self.logs / f"{process}.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        self.stop()
        raise LocalSparkError(f"{what} did not come up within {timeout:.0f}s\n{tail}")

    def start(self, echo=print, timeout: float = 180) -> LocalSpark:
        """Start master, workers and the Thrift server; return once the SQL endpoint answers
        and the application holds an executor on every worker."""
        java = ensure_java(echo)
        self.directory = Path(self.directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        current = LocalSpark.load(self.directory)
        if current and current.is_running():
            raise LocalSparkError(f"a cluster is already running from {self.directory}")
        for port in (self.master_port, self.master_ui_port, self.thrift_port):
            if _port_open(port):
                raise LocalSparkError(f"port {port} on 127.0.0.1 is already in use")
        env = self._env(java)
        bin_dir = spark_home() / "bin"
        self.pids = {}
        self.worker_ui_ports = [free_port() for _ in range(self.workers)]
        self.app_ui_port = self.app_ui_port or free_port()

        echo(f"spark master {self.master_url} (web UI http://127.0.0.1:{self.master_ui_port})")
        self._spawn(
            "master",
            [
                str(bin_dir / "spark-class"),
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.master_port),
                "--webui-port",
                str(self.master_ui_port),
            ],
            env,
        )
        self._wait(
            "the Spark master", lambda: _get_json(self.master_json_url), timeout, process="master"
        )
        for i, ui_port in enumerate(self.worker_ui_ports, start=1):
            work_dir = self.directory / f"worker-{i}"
            work_dir.mkdir(exist_ok=True)
            self._spawn(
                f"worker-{i}",
                [
                    str(bin_dir / "spark-class"),
                    "org.apache.spark.deploy.worker.Worker",
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    str(self.worker_cores),
                    "--memory",
                    self.worker_memory,
                    "--webui-port",
                    str(ui_port),
                    "--work-dir",
                    str(work_dir),
                    self.master_url,
                ],
                env,
            )
        self._wait(
            f"{self.workers} Spark workers",
            lambda: len(self.alive_workers()) >= self.workers,
            timeout,
            process="master",
        )
        echo(f"spark workers: {self.workers} x ({self.worker_cores} core, {self.worker_memory})")
        self._spawn("thriftserver", self._thrift_command(bin_dir), env)
        self._wait(
            "the Spark Thrift server",
            lambda: _port_open(self.thrift_port),
            timeout,
            process="thriftserver",
        )
        self._wait(
            "an executor on every worker",
            lambda: len(self.executor_workers()) >= self.workers,
            timeout,
            process="thriftserver",
        )
        echo(f"spark SQL (Thrift) on 127.0.0.1:{self.thrift_port}, app UI {self.app_api_url}")
        return self

    def _thrift_command(self, bin_dir: Path) -> list[str]:
        metastore = f"jdbc:derby:;databaseName={self.metastore_dir};create=true"
        utc = "-Duser.timezone=UTC"
        conf = {
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.port": str(self.app_ui_port),
            "spark.ui.showConsoleProgress": "false",
            "spark.cores.max": str(self.workers * self.worker_cores),
            "spark.executor.cores": str(self.worker_cores),
            "spark.executor.memory": self.worker_memory,
            "spark.executor.extraJavaOptions": utc,
            "spark.driver.extraJavaOptions": f"{utc} -Dderby.system.home={self.directory}",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            # every executor is on this host: no task should wait (3 s by default) for a
            # "more local" one
            "spark.locality.wait": "0s",
            # instants as Parquet's UTC-adjusted microseconds (not the legacy INT96), so
            # DuckDB reads Spark's files back as timestamptz
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
            "spark.sql.warehouse.dir": self.warehouse_dir.as_uri(),
            "spark.sql.catalogImplementation": "hive",
            "spark.hadoop.javax.jdo.option.ConnectionURL": metastore,
            # executors read the lake and the warehouse straight from this machine's disk
            "spark.hadoop.fs.file.impl.disable.cache": "true",
        }
        args = [
            str(bin_dir / "spark-submit"),
            "--class",
            "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
            "--name",
            APP_NAME,
            "--master",
            self.master_url,
            "--driver-memory",
            self.driver_memory,
            "--driver-class-path",
            str(hive_functions_jar(self.directory)),
        ]
        for key, value in conf.items():
            args += ["--conf", f"{key}={value}"]
        return [
            *args,
            "spark-internal",
            "--hiveconf",
            f"hive.server2.thrift.port={self.thrift_port}",
            "--hiveconf",
            "hive.server2.thrift.bind.host=127.0.0.1",
        ]

    # ------------------------------------------------------------------ introspection
    def master_state(self) -> dict:
        return _get_json(self.master_json_url)  # type: ignore[return-value]

    def alive_workers(self) -> list[dict]:
        return [w for w in self.master_state().get("workers", []) if w.get("state") == "ALIVE"]

    def application_id(self) -> str | None:
        apps = [a for a in self.master_state().get("activeapps", []) if a["name"] == APP_NAME]
        return apps[0]["id"] if apps else None

    def executor_workers(self) -> dict[str, dict]:
        """{worker id: the worker's executor of the Thrift server app} (from each worker's
        own JSON: which executor runs in which worker process)."""
        app = self.application_id()
        if app is None:
            return {}
        out = {}
        for worker in self.alive_workers():
            state = _get_json(f"{worker['webuiaddress'].rstrip('/')}/json")
            mine = [e for e in state.get("executors", []) if e.get("appid") == app]
            if mine:
                out[worker["id"]] = mine[0]
        return out

    def executors(self) -> list[dict]:
        """The application's executors from its REST API (id, hostPort, totalTasks, ...)."""
        app = self.application_id()
        if app is None:
            return []
        return _get_json(f"{self.app_api_url}/applications/{app}/allexecutors")  # type: ignore[return-value]

    # ------------------------------------------------------------------ stop
    def stop(self, timeout: float = 30) -> None:
        """End the processes this cluster started (by their recorded pids, each with its
        process group: a worker's executors go with it), the Thrift server first."""
        order = ["thriftserver", *sorted(k for k in self.pids if k.startswith("worker")), "master"]
        for name in order:
            pid = self.pids.get(name)
            if pid is None or not _alive(pid):
                continue
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                    time.sleep(0.5)
            with contextlib.suppress(ChildProcessError):  # reap it if it is our child
                os.waitpid(pid, os.WNOHANG)
        self.pids = {}
        if self.directory.exists():
            self._save()
