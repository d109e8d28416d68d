"""Running it for real: the data dir's Dagster instance, the UI, the daemon's schedules,
failure records and alerts, readable names, the ingest report.

- What `make demo` runs is what `make ui` shows: the demo's run, every materialization and
  check result are in `$XM_DATA_DIR/dagster_home` (read through Dagster's instance API and
  through the webserver's GraphQL API, the UI's own source).
- A real scheduler: `dagster dev` (webserver + daemon, as `xm dev` / `make ui` start it)
  with schedules on and the CX refresh every minute (settings, not test code); the tick the
  daemon launches publishes a new release; with the vendor gone, the next tick's failure is
  recorded and reaches the alert webhook.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import requests

from simulator.credentials import loader_env
from simulator.generator import SimConfig, World
from simulator.server import Simulator, free_port, serve_in_thread
from tests.support.cli import ROOT, group_members, run_xm, run_xm_alone, xm_env
from tests.support.receiver import receiver
from tests.support.world import environ, world
from warehouse.settings import Settings

DEMO_SCALE, DEMO_SEED = "0.05", "7"


def _instance(data_dir: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))


# ------------------------------------------------------------------ names, groups, settings

DEFINITIONS_REPORT = """
import json, re
from dagster_project.definitions import defs
d = defs()
graph = d.resolve_asset_graph()
repo = d.get_repository_def()
ops = {}
for job in repo.get_all_jobs():
    for node in job.graph.nodes:
        ops[node.name] = node.definition.description or ""
print(json.dumps({
    "groups": sorted({graph.get(k).group_name or "" for k in graph.get_all_asset_keys()}),
    "checks_without_description": sorted(
        k.to_user_string() for k in graph.asset_check_keys if not graph.get_check_spec(k).description
    ),
    "ops": ops,
    "schedules": {s.name: s.default_status.value for s in repo.schedule_defs},
    "sensors": {s.name: s.default_status.value for s in repo.sensor_defs},
    "cx_cron": repo.get_schedule_def("cx_refresh_every_30_minutes").cron_schedule,
}))
"""


def _definitions(**env: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", DEFINITIONS_REPORT],
        env=xm_env(**env),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_every_asset_check_and_step_is_named_and_described(tmp_path):
    report = _definitions(XM_DATA_DIR=str(tmp_path))
    assert "default" not in report["groups"] and "" not in report["groups"], report["groups"]
    assert {"ingest_zendesk", "staging", "marts", "publish"} <= set(report["groups"])
    assert report["checks_without_description"] == []
    hashed = [name for name in report["ops"] if __import__("re").search(r"_[0-9a-f]{8}$", name)]
    assert hashed == [], "step names with a hash"
    assert all(report["ops"].values()), {k: v for k, v in report["ops"].items() if not v}
    # schedules and sensors are off unless configured on (development by default)
    assert set(report["schedules"].values()) == {"STOPPED"}
    assert set(report["sensors"].values()) == {"STOPPED"}
    on = _definitions(
        XM_DATA_DIR=str(tmp_path), XM_SCHEDULES="on", XM_CX_REFRESH_CRON="*/5 * * * *"
    )
    assert set(on["schedules"].values()) == {"RUNNING"}
    assert set(on["sensors"].values()) == {"RUNNING"}
    assert on["cx_cron"] == "*/5 * * * *"


def test_orchestration_settings_are_checked():
    from warehouse.settings import WarehouseConfigError

    assert not Settings.from_env({}).schedules
    assert Settings.from_env({"XM_SCHEDULES": "on"}).schedules
    for bad in (
        {"XM_SCHEDULES": "sometimes"},
        {"XM_CX_REFRESH_CRON": "hourly"},
        {"XM_ALERT_WEBHOOK": "slack"},
    ):
        with pytest.raises(WarehouseConfigError):
            Settings.from_env(bad)


def test_duckdb_memory_limit_reaches_the_loader_and_dbt(tmp_path):
    """XM_DUCKDB_MEMORY_LIMIT is DuckDB's memory_limit in dlt's connections and in dbt's
    (its profile reads the variable, with the same default as Settings); a value DuckDB
    would not take is refused up front."""
    import dlt

    from warehouse.dbt import _command
    from warehouse.settings import DUCKDB_MEMORY_LIMIT, WarehouseConfigError

    def limits(limit: str | None) -> tuple[str, str]:
        env = {"XM_DATA_DIR": str(tmp_path)} | ({"XM_DUCKDB_MEMORY_LIMIT": limit} if limit else {})
        settings = Settings.from_env(env)
        pipeline = dlt.pipeline(
            "memory_limit_probe",
            destination=settings.dlt_destination(),
            pipelines_dir=str(tmp_path / "pipelines"),
        )
        with pipeline.sql_client() as client:
            loader = client.execute_sql("select current_setting('memory_limit')")[0][0]
        cmd, dbt_env = _command(
            ["show", "--inline", "select current_setting('memory_limit') as m", "--output", "json"],
            settings,
        )
        dbt_env.pop("XM_DUCKDB_MEMORY_LIMIT")  # the profile's own default, as a bare `dbt` run
        dbt_env.update({"XM_DUCKDB_MEMORY_LIMIT": limit} if limit else {})
        out = subprocess.run(cmd, env=dbt_env, capture_output=True, text=True, check=True)
        return loader, json.loads(out.stdout[out.stdout.index("{") :])["show"][0]["m"]

    assert DUCKDB_MEMORY_LIMIT == "1GB"
    assert limits(None) == ("953.6 MiB", "953.6 MiB")  # 1 GB: 10^9 bytes
    assert limits("300MB") == ("286.1 MiB", "286.1 MiB")
    for bad in ("lots", "300", "150%", "5KB", "63MB"):  # DuckDB refuses / too small to run
        with pytest.raises(WarehouseConfigError, match="XM_DUCKDB_MEMORY_LIMIT"):
            Settings.from_env({"XM_DUCKDB_MEMORY_LIMIT": bad})


# ------------------------------------------------------------------ failures and alerts


@pytest.mark.slow
def test_a_failed_step_says_why_and_reaches_the_alert_webhook(tmp_path):
    """An in-process run (as `xm refresh` runs it) against a vendor that is not there: the
    step's failure message is the one-line cause, recorded in the data dir's instance and in
    run_failures.jsonl, and POSTed to the webhook."""
    from dagster_project.run import run_job

    data_dir = tmp_path / "data"
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        receiver() as hook,
        environ({**loader_env(dead), "XM_DATA_DIR": str(data_dir), "XM_ALERT_WEBHOOK": hook.url}),
    ):
        lines: list[str] = []
        outcome = run_job("cx_refresh", echo=lines.append, log=data_dir / "logs" / "cx.log")
        assert not outcome.success
        step, message = outcome.failures[0]
        assert step.startswith("load_") and "cannot reach" in message and dead[7:] in message
        assert "\n" not in message
        post = hook.wait_for(lambda p: p.get("run_id") == outcome.run_id, timeout=30)
    assert post is not None, hook.posts
    assert post["job"] == "cx_refresh" and "cannot reach" in post["error"] and post["text"]
    records = [json.loads(x) for x in (data_dir / "run_failures.jsonl").read_text().splitlines()]
    assert records[0]["run_id"] == outcome.run_id and "cannot reach" in records[0]["error"]
    with _instance(data_dir) as instance:
        run = instance.get_run_by_id(outcome.run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        failures = [
            e
            for e in instance.all_logs(outcome.run_id)
            if e.dagster_event and e.dagster_event.is_step_failure
        ]
        data = failures[0].dagster_event.event_specific_data
        assert "cannot reach" in data.user_failure_data.description  # what the UI shows
    assert any("FAILED: " in line and "cannot reach" in line for line in lines)


# ------------------------------------------------------------------ the ingest report


@pytest.mark.slow
def test_ingest_reports_incremental_cursors_and_new_rows(tmp_path):
    sim = Simulator(world())
    env = xm_env(XM_DATA_DIR=str(tmp_path / "data"))
    with serve_in_thread(sim) as url:
        first = run_xm("ingest", "--simulator", url, "--source", "zendesk", env=env)
        assert first.code == 0, first
        assert "[zendesk] first load: full history" in first.out
        sim.advance(2)
        again = run_xm("ingest", "--simulator", url, "--source", "zendesk", env=env)
    assert again.code == 0, again
    assert "[zendesk] incremental from the stored cursors:" in again.out
    assert "tickets > 20" in again.out  # the cursor it resumed from, as a timestamp
    done = next(line for line in again.out.splitlines() if line.startswith("[zendesk] done"))
    assert " new, " in done and "updated" in done
    assert "xm refresh --job full --skip-loads" in again.out  # and what to do next


# ------------------------------------------------------------------ the simulator's own process

_SIM_PARENT = """
import os, signal, sys
from pathlib import Path
from simulator.process import SimulatorProcess
sim = SimulatorProcess(0.01, 7, log=Path(sys.argv[2]))
sim.wait_ready(timeout=300)
status = sim.status()
print(sim.pid, status["scale"], status["world"]["tickets"], status["clock"], sim.advance(1).isoformat(), flush=True)
if sys.argv[1] == "killed":
    os.kill(os.getpid(), signal.SIGKILL)  # no clean-up runs: the simulator must go by itself
print(sim.stop(), flush=True)  # its exit code; its SLA engine's warm-up may still be running
"""


@pytest.mark.parametrize("end", ["stopped", "killed"])
def test_the_simulator_process_serves_and_leaves_nothing_behind(end, tmp_path):
    """What `xm demo` and the benchmark start: the simulator in a process of its own, in the
    caller's process group. It serves the world it was asked for and takes commands; whether
    the caller stops it or is killed outright, nothing is left in the group."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SIM_PARENT, end, str(tmp_path / "sim.log")],
        env=xm_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == (-signal.SIGKILL if end == "killed" else 0), err
    sim_pid, scale, tickets, clock, advanced, *stopped = out.split()
    # stopped: it ended by the SIGTERM it was sent (uvicorn shuts down, then re-raises it), not
    # by a crash nor by the SIGKILL `stop()` falls back to
    assert stopped == ([str(-signal.SIGTERM)] if end == "stopped" else [])
    assert float(scale) == 0.01 and int(tickets) == world(0.01, 7, 0.01).summary["tickets"]
    assert (dt.date.fromisoformat(advanced[:10]) - dt.date.fromisoformat(clock[:10])).days == 1
    assert "serving on" in (tmp_path / "sim.log").read_text()
    deadline = time.monotonic() + 30
    while (left := group_members(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], f"left in the caller's process group: {left}"
    assert not any(line.startswith(f"{sim_pid} ") for line in left)


_SIGTERM_AFTER_A_RUN = """
import signal, sys
from pathlib import Path
import dagster as dg
from dagster_project import run

signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a process started in the background

@dg.op
def nothing():
    return 1

@dg.job
def just_nothing():
    nothing()

before = signal.getsignal(signal.SIGTERM).name
if sys.argv[1] == "run_job":  # xm's way: the data dir's instance, progress lines, the guard
    run.load_job = lambda name: just_nothing
    run.step_descriptions = lambda name: {}
    assert run.run_job("just_nothing", echo=lambda _: None, log=Path(sys.argv[2])).success
else:  # Dagster's own
    assert just_nothing.execute_in_process().success
print(before, signal.getsignal(signal.SIGTERM).name)
"""


@pytest.mark.parametrize("how", ["run_job", "execute_in_process"])
def test_a_run_in_process_leaves_sigterm_as_it_found_it(how, tmp_path):
    """Dagster maps SIGTERM to SIGINT's handler during an in-process run and leaves it so:
    where SIGINT is ignored (a background job) the process would then ignore SIGTERM, and so
    would every child it starts. `run_job` (what `xm` runs jobs with) restores it."""
    ran = subprocess.run(
        [sys.executable, "-c", _SIGTERM_AFTER_A_RUN, how, str(tmp_path / "run.log")],
        env=xm_env(XM_DATA_DIR=str(tmp_path / "data")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    before, after = ran.stdout.split()[-2:]
    assert before == "SIG_DFL"
    # Dagster's own leaves SIGTERM ignored: what run_job guards against
    assert after == (before if how == "run_job" else "SIG_IGN")


# ------------------------------------------------------------------ the demo, the UI, the daemon


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """`xm demo` at the test scale, as `make demo` runs it: the data dir it leaves."""
    base = tmp_path_factory.mktemp("demo")
    data_dir = base / "data"
    ran, left = run_xm_alone(
        "demo",
        "--scale",
        DEMO_SCALE,
        "--seed",
        DEMO_SEED,
        env=xm_env(XM_DATA_DIR=str(data_dir)),
        out_dir=base / "output",
        timeout=2400,
    )
    assert ran.code == 0, ran
    # the simulator (a process of its own), dbt, Dagster: nothing outlives the command
    assert left == [], f"left running in the demo's process group: {left}"
    # the simulator's own process served the run, and said so as soon as it was up
    assert "simulator pid" in ran.out and (data_dir / "logs" / "simulator.log").exists()
    # its SLA engine's background warm-up (zendesk.warm_up, the only line saying so) ran and
    # finished during the run
    engine_runs = (data_dir / "logs" / "simulator.log").read_text().count("SLA engine ready")
    assert engine_runs == 1
    assert "business minutes" in ran.out and "calendar minutes" in ran.out
    assert "quarantined" in ran.out and "warned" in ran.out
    return data_dir


def test_a_watcher_sees_each_event_while_the_writer_keeps_its_connection(tmp_path):
    """Dagster's live logs (the UI's run page) watch a run's file for changes: each event the
    pooled storage writes reaches a watcher on the same files (another process's storage,
    as the webserver's) while the writer's connection stays open."""
    from dagster._core.events.log import EventLogEntry
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from dagster_project.event_log import PooledSqliteEventLogStorage

    def line(i: int) -> EventLogEntry:
        return EventLogEntry(
            error_info=None,
            level=logging.INFO,
            user_message=f"line {i}",
            run_id="a-run",
            timestamp=time.time(),
            step_key="step",
            job_name="job",
        )

    writer = PooledSqliteEventLogStorage(str(tmp_path))
    reader = SqliteEventLogStorage(str(tmp_path))
    writer.store_event(line(0))
    seen: list[str] = []

    def collect(entry, cursor) -> None:
        seen.append(entry.user_message)

    reader.watch("a-run", None, collect)
    try:
        for i in range(1, 4):
            writer.store_event(line(i))
            deadline = time.monotonic() + 10
            while f"line {i}" not in seen and time.monotonic() < deadline:
                time.sleep(0.05)
            assert f"line {i}" in seen, f"the watcher saw {seen}"
    finally:
        reader.end_watch("a-run", collect)
        reader.dispose()
        writer.dispose()


def test_the_event_log_keeps_dagsters_files_and_few_of_them_open(tmp_path):
    """The instance's event log is `PooledSqliteEventLogStorage` (engines kept between
    writes) over the files of Dagster's `storage: sqlite:`: an instance configured the old
    way reads every run and event it stored, at most MAX_SHARDS engines stay open over many
    runs, and a wipe (which deletes the run files) leaves a storage that still writes."""
    from dagster_project.event_log import PooledSqliteEventLogStorage
    from dagster_project.instance import open_instance

    @dg.asset
    def counted(context) -> int:
        context.log.info("counting")
        return 1

    with environ({"XM_DATA_DIR": str(tmp_path)}):
        settings = Settings.from_env()
        with open_instance(settings, in_process=True) as instance:
            storage = instance.event_log_storage
            assert isinstance(storage, PooledSqliteEventLogStorage)
            runs = PooledSqliteEventLogStorage.MAX_SHARDS + 3
            for _ in range(runs):
                assert dg.materialize([counted], instance=instance).success
            assert len(storage._engines) == PooledSqliteEventLogStorage.MAX_SHARDS
            index = storage._engines["index"]  # kept, not created again for the next run
            assert dg.materialize([counted], instance=instance).success
            assert storage._engines["index"] is index
            runs += 1
            stored = {r.run_id: len(instance.all_logs(r.run_id)) for r in instance.get_runs()}
    assert len(stored) == runs and min(stored.values()) > 5

    old_home = tmp_path / "old_home"  # Dagster's default SQLite storage on the same files
    old_home.mkdir()
    storage_dir = settings.dagster_home / "storage"
    (old_home / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {storage_dir}\n")
    with dg.DagsterInstance.from_config(str(old_home)) as old:
        assert type(old.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert {r.run_id: len(old.all_logs(r.run_id)) for r in old.get_runs()} == stored
        assert old.get_latest_materialization_event(dg.AssetKey("counted")) is not None

    with environ({"XM_DATA_DIR": str(tmp_path)}), open_instance(settings, True) as instance:
        instance.event_log_storage.wipe()
        assert not list((storage_dir / "history" / "runs").glob("*-*.db"))
        result = dg.materialize([counted], instance=instance)
        assert result.success
        latest = instance.get_latest_materialization_event(dg.AssetKey("counted"))
        assert latest.run_id == result.run_id


@pytest.mark.e2e
@pytest.mark.timeout(3600)  # the demo (module fixture), then minutes of schedule ticks
def test_the_demo_is_recorded_in_the_data_dirs_instance(demo_dir):
    from dagster_project.definitions import defs

    job = defs().resolve_job_def("full_refresh")
    graph = job.asset_layer.asset_graph
    assets = {k for k in job.asset_layer.selected_asset_keys if not graph.get(k).is_external}
    checks = set(graph.asset_check_keys)
    with _instance(demo_dir) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="full_refresh"))
        assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS]
        run_id = runs[0].run_id
        missing = [
            k.to_user_string()
            for k in assets
            if (e := instance.get_latest_materialization_event(k)) is None or e.run_id != run_id
        ]
        assert missing == [], f"assets without the demo's materialization: {missing}"
        executions = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            list(checks)
        )
        unchecked = sorted(k.to_user_string() for k in checks if k not in executions)
        assert unchecked == [], f"checks without a result: {unchecked}"
        assert {e.run_id for e in executions.values()} == {run_id}


@pytest.mark.e2e
@pytest.mark.timeout(3600)  # the demo (module fixture)
def test_the_demos_dbt_docs_describe_what_its_run_built(demo_dir):
    """The demo's dbt docs: every model with its compiled SQL, and the catalog of the tables
    the run built. The manifest is the run's own `dbt build` (another invocation than the
    catalog's): the docs step only reads the catalog, it does not compile the project again."""
    docs = demo_dir / "docs" / "dbt"
    manifest = json.loads((docs / "manifest.json").read_text())
    catalog = json.loads((docs / "catalog.json").read_text())
    assert (docs / "index.html").exists()
    models = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    assert len(models) > 50
    uncompiled = sorted(k for k, n in models.items() if not n.get("compiled_code"))
    assert uncompiled == []
    uncatalogued = sorted(set(models) - set(catalog["nodes"]))
    assert uncatalogued == []
    # the marts' columns as the warehouse holds them
    fct = catalog["nodes"]["model.experience_warehouse.fct_tickets"]["columns"]
    assert {"ticket_id", "customer_id"} <= set(fct)
    assert manifest["metadata"]["invocation_id"] != catalog["metadata"]["invocation_id"]


def _wait(predicate, timeout: float, what: str, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _graphql(port: int, query: str) -> dict:
    response = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=60)
    response.raise_for_status()
    return response.json()["data"]


@pytest.mark.e2e
@pytest.mark.timeout(3600)  # the demo (module fixture), then minutes of schedule ticks
def test_the_ui_shows_the_demo_and_the_daemon_runs_the_schedules(demo_dir, tmp_path):
    """`dagster dev` on the demo's data dir (what `xm dev` and `make ui` start), schedules on
    and the CX refresh every minute by configuration: the UI lists the demo's run; the tick
    the daemon launches publishes a new release; with the vendor gone the next tick fails,
    and the failure is recorded and POSTed to the alert webhook."""
    from dagster_project.instance import ensure_home, ui_command
    from warehouse.publish import read_snapshot_run_ids

    settings = Settings.from_env({"XM_DATA_DIR": str(demo_dir)})
    ensure_home(settings)
    with _instance(demo_dir) as instance:
        demo_run = instance.get_runs(filters=dg.RunsFilter(job_name="full_refresh"))[0].run_id
    # the demo's vendors, one simulated day later: the CX refresh has new tickets to load
    sim = Simulator(World(SimConfig(scale=float(DEMO_SCALE), seed=int(DEMO_SEED))))
    sim.advance(1)
    port = free_port()
    log = (tmp_path / "dagster-dev.log").open("w")
    with receiver() as hook, contextlib.ExitStack() as vendor:
        url = vendor.enter_context(serve_in_thread(sim))
        env = xm_env(
            **loader_env(url),
            XM_DATA_DIR=str(demo_dir),
            DAGSTER_HOME=str(settings.dagster_home),
            XM_SCHEDULES="on",
            XM_CX_REFRESH_CRON="* * * * *",
            XM_ALERT_WEBHOOK=hook.url,
            RUNTIME__REQUEST_MAX_ATTEMPTS="2",
        )
        proc = subprocess.Popen(
            ui_command("127.0.0.1", port, settings),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
        try:
            # the UI's own API lists the demo's run
            seen = _wait(lambda: _runs(port), 600, "the webserver")
            assert {"runId": demo_run, "status": "SUCCESS", "jobName": "full_refresh"} in seen

            succeeded = _wait(
                lambda: (
                    _scheduled(demo_dir, dg.DagsterRunStatus.SUCCESS)
                    or _fail_fast(_scheduled(demo_dir, dg.DagsterRunStatus.FAILURE), demo_dir)
                ),
                1200,
                "a scheduled CX refresh to succeed",
                every=5,
            )
            with _instance(demo_dir) as instance:
                published = instance.get_latest_materialization_event(
                    dg.AssetKey("published_marts")
                ).run_id
            ticks = {r.run_id for r in _scheduled(demo_dir, dg.DagsterRunStatus.SUCCESS)}
            assert published in ticks and published != demo_run, "a tick's run published"
            assert succeeded  # (more ticks may have run meanwhile: one a minute, queued)
            with environ({"XM_DATA_DIR": str(demo_dir)}):
                assert read_snapshot_run_ids() == {published}

            vendor.close()  # the vendor goes away: a later tick fails, is recorded, alerts
            post = hook.wait_for(
                lambda p: p.get("job") == "cx_refresh" and "cannot reach" in p.get("error", ""),
                900,
            )
            assert post is not None, f"no alert: {hook.posts}"

            # the hook posts when the step fails; the run is marked failed once it has ended
            def run_failed() -> bool:
                with _instance(demo_dir) as instance:
                    status = instance.get_run_by_id(post["run_id"]).status
                return status == dg.DagsterRunStatus.FAILURE

            _wait(run_failed, 300, "the failed run to end as FAILURE")
            last_good = _scheduled(demo_dir, dg.DagsterRunStatus.SUCCESS)[0].run_id
            assert post["run_id"] in (demo_dir / "run_failures.jsonl").read_text()
            with environ({"XM_DATA_DIR": str(demo_dir)}):
                assert read_snapshot_run_ids() == {last_good}, "the last good release stays"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
            log.close()


def _runs(port: int):
    try:
        data = _graphql(
            port, "{ runsOrError { ... on Runs { results { runId status jobName } } } }"
        )
    except (requests.RequestException, KeyError, ValueError):
        return None
    return data["runsOrError"]["results"]


def _scheduled(data_dir: Path, status) -> list:
    """The daemon's CX refresh runs in `status`, newest first."""
    with _instance(data_dir) as instance:
        return list(
            instance.get_runs(
                filters=dg.RunsFilter(
                    job_name="cx_refresh",
                    tags={"dagster/schedule_name": "cx_refresh_every_30_minutes"},
                    statuses=[status],
                )
            )
        )


def _fail_fast(failed_runs, data_dir: Path):
    if failed_runs:
        records = data_dir / "run_failures.jsonl"
        detail = records.read_text()[-2000:] if records.exists() else "no run_failures.jsonl"
        raise AssertionError(f"the scheduled run failed: {detail}")
    return None


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("pyspark") is None, reason="pyspark not installed"
)
def test_gx_imports_in_a_process_without_a_main_file():
    """Dagster's run workers have a `__main__` without file or spec, as `python -c` has; with
    pyspark installed, importing GX there exits the process (pyspark's doctest guard) unless
    the code location imported pyspark's connect module first (dagster_project/__init__.py)."""
    probe = "import dagster_project, great_expectations; print('imported')"
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=xm_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and "imported" in proc.stdout, proc.stderr[-2000:]
