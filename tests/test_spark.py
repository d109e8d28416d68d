"""The same warehouse on Apache Spark: a real standalone cluster started by the suite (a
master, two worker processes and the Spark Thrift server, `warehouse/local_spark.py`), dlt
loading Parquet into a lake, the full refresh through Dagster with every dbt test and check,
executors on both workers, every published mart equal to DuckDB's for the same seed and
scale, the raw views merging repeated loads, and a one-day refresh equal to DuckDB's.

Slow: the cluster takes a minute or two to start and each refresh several minutes (every
dbt model and test is a Spark job; see docs/engines.md for measured times)."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.definitions import defs as load_defs
from ingestion.pipeline import ingest
from ingestion.vendors import SOURCES
from simulator.credentials import loader_env
from simulator.server import Simulator, serve_in_thread
from tests.support.mart_diff import diff_snapshot
from tests.support.world import environ, world
from warehouse import spark
from warehouse.dbt import mart_names, run_dbt
from warehouse.local_spark import LocalSpark, _alive, _get_json, free_port
from warehouse.publish import snapshot_path
from warehouse.settings import Settings

pytestmark = [pytest.mark.spark, pytest.mark.timeout(3600)]

MARTS = mart_names()


def test_waiting_for_the_master_outlasts_its_web_ui_starting_up(tmp_path):
    """While the master starts, its web UI answered `/json` with its HTML page once (a CI
    run failed on it): the cluster keeps waiting for the JSON. Anything else that goes wrong
    while waiting stops what the cluster started. No JVM: a local HTTP server answers HTML,
    then JSON, and a `sleep` stands in for a started process."""
    answers = [b"<!DOCTYPE html><html></html>", b'{"status": "ALIVE"}']
    asked = []

    class Master(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = answers[min(len(asked), 1)]
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Master)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/json"
    cluster = LocalSpark(tmp_path)
    try:
        cluster._wait("the Spark master", lambda: _get_json(url), timeout=30)
    finally:
        server.shutdown()
    assert asked == ["/json", "/json"]  # the HTML answer was a "not yet", then the JSON

    started = subprocess.Popen(["sleep", "60"], start_new_session=True)
    cluster.pids = {"master": started.pid}

    def broken():
        raise KeyError("status")

    with pytest.raises(KeyError):
        cluster._wait("the Spark master", broken, timeout=30, process="master")
    assert not _alive(started.pid) and cluster.pids == {}


@pytest.fixture(scope="module")
def cluster():
    """A standalone cluster on free loopback ports: master, 2 workers, Thrift server. Its
    files are outside pytest's tmp dir: the JVMs' command lines name that directory, and a
    `pkill -f pytest` elsewhere on the machine must not take them down."""
    directory = Path(tempfile.mkdtemp(prefix="xm-test-spark-"))
    local = LocalSpark(
        directory,
        master_port=free_port(),
        master_ui_port=free_port(),
        thrift_port=free_port(),
    )
    local.start(echo=lambda _: None)
    try:
        yield local
    finally:
        local.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _run_job(name: str) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return (
            load_defs()
            .resolve_job_def(name)
            .execute_in_process(instance=instance, raise_on_error=False)
        )


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]


@pytest.fixture(scope="module")
def spark_refresh(cluster, tmp_path_factory):
    """The full_refresh job run through Dagster on the cluster: (result, settings)."""
    data_dir = tmp_path_factory.mktemp("spark_refresh") / "data"
    settings = {"XM_DATA_DIR": str(data_dir), "XM_TARGET": "spark", **cluster.exports()}
    with serve_in_thread(Simulator(world())) as url, environ({**settings, **loader_env(url)}):
        result = _run_job("full_refresh")
    return result, settings


@pytest.fixture(scope="module")
def spark_one_day(spark_refresh):
    """One simulated day later, the nightly job (all sources, every model) on Spark."""
    _, settings = spark_refresh
    sim = Simulator(world())
    sim.advance(1)
    with serve_in_thread(sim) as url, environ({**settings, **loader_env(url)}):
        result = _run_job("full_refresh")
    return result, settings


@pytest.fixture(scope="module")
def duckdb_one_day(built_warehouse, tmp_path_factory):
    """The DuckDB warehouse of the session (same world, loaded and built), one simulated day
    later: loaded again and built incrementally. Its data dir."""
    data_dir = tmp_path_factory.mktemp("duckdb_one_day") / "data"
    shutil.copytree(built_warehouse, data_dir)
    sim = Simulator(world())
    sim.advance(1)
    env = {"XM_DATA_DIR": str(data_dir), "XM_TARGET": "duckdb"}
    with serve_in_thread(sim) as url, environ({**env, **loader_env(url)}):
        ingest(echo=lambda _: None)
        run_dbt(["build", "--exclude-resource-type", "unit_test"], echo=lambda _: None)
    return data_dir


def _spark_settings(settings: dict[str, str]) -> Settings:
    return Settings.from_env(settings)


def test_full_refresh_runs_on_a_standalone_cluster(spark_refresh, cluster):
    result, _ = spark_refresh
    assert result.success, _failures(result)
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey("published_marts") in materialized
    assert {k.path[0] for k in materialized} >= {f"raw_{s}" for s in SOURCES}
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50  # dbt tests and the Great Expectations suites
    assert all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    assert {c.check_name for c in checks if c.check_name.startswith("gx_")}, "GX ran on Spark"

    # the work ran on the cluster: one executor of the SQL application on each worker
    # process (each worker's own JSON), and each of them ran tasks (the app's REST API)
    on_workers = cluster.executor_workers()
    assert len(on_workers) == 2, on_workers
    tasks = {e["id"]: e["totalTasks"] for e in cluster.executors() if e["id"] != "driver"}
    for worker, executor in on_workers.items():
        assert tasks.get(str(executor["id"]), 0) > 0, (worker, executor["id"], tasks)


def test_every_published_mart_equals_duckdb(spark_refresh, built_warehouse):
    """Same seed, same scale: every mart Spark published equals DuckDB's, row for row."""
    result, settings = spark_refresh
    assert result.success, _failures(result)
    spark_settings = _spark_settings(settings)
    snapshot = snapshot_path(spark_settings)
    marts, problems = diff_snapshot(built_warehouse / "warehouse.duckdb", snapshot, "Spark")
    assert set(MARTS) <= set(marts)
    assert problems == {}, problems
    # what was published is what Spark built
    with duckdb.connect(str(snapshot), read_only=True) as con:
        published = {m: con.execute(f"select count(*) from {m}").fetchone()[0] for m in MARTS}
    con = spark.connect(spark_settings)
    try:
        for mart in MARTS:
            assert spark.fetchall(con, f"select count(*) from marts.{mart}") == [(published[mart],)]
    finally:
        con.close()
    assert published["fct_tickets"] > 100  # the comparison compared something


def test_raw_views_merge_repeated_loads(spark_one_day, duckdb_one_day):
    """After a second load, dlt has appended to the lake (history holds superseded copies);
    the raw views hold each key once per engine's merge: the same keys as DuckDB's raw
    tables, every key's rows from one load."""
    result, settings = spark_one_day
    assert result.success, _failures(result)
    spark_settings = _spark_settings(settings)
    duck = duckdb.connect(str(duckdb_one_day / "warehouse.duckdb"), read_only=True)
    con = spark.connect(spark_settings)
    superseded = 0
    try:
        for dataset in sorted(p.name for p in spark_settings.lake.glob("raw_*")):
            tables = spark.lake_schema(spark_settings.lake / dataset)["tables"]
            for table in spark.tables(con, dataset):
                keys = [c for c, col in tables[table]["columns"].items() if col.get("primary_key")]
                if not keys:
                    continue
                key = ", ".join(keys)
                view = f"{dataset}.{table}"
                on_spark = set(spark.fetchall(con, f"select distinct {key} from {view}"))
                on_duckdb = set(duck.execute(f"select distinct {key} from {view}").fetchall())
                assert on_spark == on_duckdb, view
                mixed = spark.fetchall(
                    con,
                    f"select count(*) from (select {key} from {view} group by {key} "
                    "having count(distinct _dlt_load_id) > 1)",
                )
                assert mixed == [(0,)], f"{view}: a key with rows of two loads"
                [(history,)] = spark.fetchall(
                    con, f"select count(*) from {dataset}_history.{table}"
                )
                [(merged,)] = spark.fetchall(con, f"select count(*) from {view}")
                superseded += history - merged
    finally:
        con.close()
        duck.close()
    assert superseded > 0, "the second load superseded no row: nothing was tested"


def test_one_day_refresh_equals_duckdb(spark_one_day, duckdb_one_day):
    """A day later, the nightly refresh on Spark (every model rebuilt) equals DuckDB's
    incremental refresh of the same loads, mart for mart."""
    result, settings = spark_one_day
    assert result.success, _failures(result)
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    snapshot = snapshot_path(_spark_settings(settings))
    marts, problems = diff_snapshot(duckdb_one_day / "warehouse.duckdb", snapshot, "Spark")
    assert set(MARTS) <= set(marts)
    assert problems == {}, problems
