"""The Dagster code location: the asset graph, a full refresh, schedules, blocking checks
and the atomic publish, all executed for real (in-process executor, real simulator)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.definitions import defs as load_defs
from dagster_project.defs.automation import REBUILD_CONFIG
from dagster_project.defs.transform.assets import dbt_project
from ingestion.vendors import SOURCES
from simulator.credentials import loader_env
from simulator.generator import SimConfig, World
from simulator.server import Simulator, serve_in_thread
from tests.support.world import environ, world
from warehouse.dbt import mart_names
from warehouse.publish import publish, read_snapshot_run_ids, snapshot_path

pytestmark = pytest.mark.e2e

MARTS = mart_names()


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return load_defs()


def run_job(
    defs: dg.Definitions, name: str, run_config: dict | None = None
) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return defs.resolve_job_def(name).execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False
        )


def test_lineage_runs_from_every_vendor_stream_to_publish(defs):
    graph = defs.resolve_asset_graph()
    publish_key = dg.AssetKey("published_marts")
    for source in SOURCES:
        raw = [k for k in graph.get_all_asset_keys() if k.path[0] == f"raw_{source}"]
        assert raw, f"no dlt assets for {source}"
        # walk downstream from the vendor's raw tables
        seen, frontier, groups = set(raw), list(raw), set()
        while frontier:
            key = frontier.pop()
            groups.add(graph.get(key).group_name)
            for child in graph.get(key).child_keys:
                if child not in seen:
                    seen.add(child)
                    frontier.append(child)
        assert publish_key in seen, f"{source}: no path to the published snapshot"
        assert {"staging", "marts"} <= groups, f"{source}: path skips a layer ({groups})"
        # and upstream of the raw tables sits the vendor stream they read
        assert all(graph.get(k).parent_keys for k in raw)
    checked = {c.asset_key for c in graph.asset_check_keys}
    mart_keys = {k for k in graph.get_all_asset_keys() if k.path[-1] in MARTS}
    assert {k.path[-1] for k in mart_keys} == set(MARTS), "every mart in the contract is an asset"
    assert mart_keys <= checked, f"marts without a check: {mart_keys - checked}"
    # a model's column rules are one check, whose description names the columns it checks
    for model, rules in {
        "fct_tickets": "not null: ticket_id, status, created_at, count_public_agent_replies, "
        "count_reopens, is_solved, is_one_touch_resolution; unique: ticket_id; "
        "accepted values: priority, status",
        "cx_sla_monthly": "not null: month, sla_metric; ratios: attainment",
        "stg_hubspot__deal_companies": "not null: deal_id, customer_id; unique: (deal_id, "
        "customer_id); relationships: deal_id -> stg_hubspot__deals.deal_id, customer_id -> "
        "stg_hubspot__companies.customer_id",
    }.items():
        (check,) = [
            graph.get_check_spec(c)
            for c in graph.asset_check_keys
            if c.name.startswith(f"column_rules_{model}")
        ]
        assert check.description == (
            f"dbt test `column_rules` ({rules}) (error: fails the build, blocks publishing)"
        ), model
    assert publish_key in graph.get_all_asset_keys()


def test_column_rules_read_only_models_upstream_of_theirs(defs):
    """A model's column rules hold the models built on it back in `dbt build` only while every
    model the test reads is upstream of them: a relationship folded into the rules reads a
    model upstream of the tested one (or the model itself), and only the others stay dbt's
    own blocking `relationships` tests (dbt/macros/test_column_rules.sql)."""
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"]

    def upstream(node_id: str, seen: set[str]) -> set[str]:
        for parent in nodes.get(node_id, {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                upstream(parent, seen)
        return seen

    for test in nodes.values():
        name = (test.get("test_metadata") or {}).get("name")
        model = test.get("attached_node")
        reads = set(test.get("depends_on", {}).get("nodes", [])) - {model}
        if name == "column_rules":
            assert reads <= upstream(model, set()), f"{test['name']} reads {reads} not upstream"
        elif name == "relationships" and test["config"]["severity"] == "error":
            # a blocking relationship to an upstream model belongs in the column rules
            assert not reads <= upstream(model, set()), f"{test['name']}: a column rule"


def test_schedules_request_the_right_jobs(defs):
    cx = defs.resolve_schedule_def("cx_refresh_every_30_minutes")
    nightly = defs.resolve_schedule_def("full_refresh_nightly")
    assert cx.execution_timezone == "America/New_York" and nightly.execution_timezone == "UTC"
    # a Tuesday 10:30 in New York: the CX refresh is due
    tick = dt.datetime(2026, 11, 24, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        requests = list(cx.evaluate_tick(context).run_requests or [])
    # a schedule's run request targets the schedule's own job (job_name None = that job)
    assert len(requests) == 1 and requests[0].job_name in (None, "cx_refresh")
    assert cx.job_name == "cx_refresh"
    with dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 24, 2, tzinfo=dt.UTC)
    ) as context:
        requests = list(nightly.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1 and requests[0].job_name in (None, "full_refresh")
    assert nightly.job_name == "full_refresh"
    assert not requests[0].run_config, "the nightly refresh is incremental"
    # Sundays the nightly run rebuilds from all history instead
    weekly = defs.resolve_schedule_def("full_rebuild_weekly")
    sunday = dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC)
    assert nightly.cron_schedule.endswith("1-6") and weekly.cron_schedule.endswith(" 0")
    with dg.build_schedule_context(scheduled_execution_time=sunday) as context:
        requests = list(weekly.evaluate_tick(context).run_requests or [])
    assert weekly.job_name == "full_refresh" and len(requests) == 1
    assert requests[0].run_config["ops"]["dbt_models"]["config"] == {"full_refresh": True}


def test_benchmark_mirrors_the_cx_refresh_job(defs):
    """The benchmark times the CX refresh as `dbt build --select <CX_DBT_SELECT>` (not through
    Dagster): that selection must be the job's dbt models."""
    from benchmarks.harness import CX_DBT_SELECT

    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    frontier = [
        uid
        for uid, source in manifest["sources"].items()
        if f"source:{source['source_name']}+" in CX_DBT_SELECT
    ]
    downstream: set[str] = set()
    while frontier:
        for child in manifest["child_map"][frontier.pop()]:
            if child not in downstream:
                downstream.add(child)
                frontier.append(child)
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    selected = {manifest["nodes"][uid]["name"] for uid in downstream if uid.startswith("model.")}
    job_keys = defs.resolve_job_def("cx_refresh").asset_layer.selected_asset_keys
    in_job = {key.path[-1] for key in job_keys if key.path[-1] in models}
    assert in_job == selected and "fct_tickets" in selected and "quarantine" in selected


@pytest.fixture(scope="module")
def refreshed(defs, tmp_path_factory):
    """One full refresh of the test world through Dagster: (data_dir, result)."""
    data_dir = tmp_path_factory.mktemp("dagster") / "data"
    with (
        serve_in_thread(Simulator(world())) as url,
        environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}),
    ):
        result = run_job(defs, "full_refresh")
    return data_dir, result


def test_full_refresh_materialises_every_asset(defs, refreshed):
    data_dir, result = refreshed
    assert result.success
    # the build left its partial parse (of this data dir) to the next build
    target = dbt_project.project_dir / "target"
    (invocation,) = target.glob(f"dbt_models-{result.run_id[:7]}-*")
    kept = (target / "partial_parse.msgpack").read_bytes()
    assert kept == (invocation / "partial_parse.msgpack").read_bytes()
    job_keys = defs.resolve_job_def("full_refresh").asset_layer.selected_asset_keys
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert job_keys - materialised == set()
    with environ({"XM_DATA_DIR": str(data_dir)}):
        assert read_snapshot_run_ids() == {result.run_id}
        con = duckdb.connect(str(snapshot_path()), read_only=True)
        try:
            for mart in MARTS:
                assert con.execute(f"select count(*) from {mart}").fetchone()[0] > 0, mart
        finally:
            con.close()
        assert all((data_dir / "published" / "parquet" / f"{m}.parquet").exists() for m in MARTS)
        # the release carries the run's check results: each as the run evaluated it, every
        # check on a mart among them (they all run before the publish, which waits for them)
        con = duckdb.connect(str(snapshot_path()), read_only=True)
        try:
            published = {
                (asset, check): (passed, severity)
                for asset, check, passed, severity in con.execute(
                    "select asset, check_name, passed, severity from _check_results"
                ).fetchall()
            }
        finally:
            con.close()
    evaluated = {
        (e.asset_key.to_user_string(), e.check_name): (e.passed, e.severity.value)
        for e in result.get_asset_check_evaluations()
    }
    assert published and set(published.items()) <= set(evaluated.items())
    on_marts = {k for k in evaluated if k[0].split("/")[-1] in MARTS}
    assert on_marts and on_marts <= set(published)


def test_weekly_rebuild_recomputes_what_incremental_runs_keep(defs, refreshed, tmp_path):
    """The Sunday run (`full_refresh: true`) rebuilds incremental models from all history:
    an old ticket's stored figure, altered behind dbt's back, is recomputed. (An incremental
    run only rebuilds tickets loaded since its last run; tests/test_incremental.py.)"""
    good_dir, _ = refreshed
    data_dir = tmp_path / "data"
    shutil.copytree(good_dir, data_dir, symlinks=True)
    warehouse = data_dir / "warehouse.duckdb"
    altered = (
        "select ticket_id, first_reply_calendar_minutes from marts.fct_tickets "
        "where first_reply_calendar_minutes is not null order by created_at, ticket_id limit 1"
    )
    with duckdb.connect(str(warehouse)) as con:
        ticket_id, minutes = con.execute(altered).fetchone()
        con.execute(
            "update marts.fct_tickets set first_reply_calendar_minutes = ? where ticket_id = ?",
            [minutes + 60, ticket_id],
        )
    with (
        serve_in_thread(Simulator(world())) as url,
        environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}),
    ):
        result = run_job(defs, "full_refresh", REBUILD_CONFIG)
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(altered).fetchone() == (ticket_id, minutes)


def test_failed_blocking_check_keeps_the_last_good_snapshot(defs, refreshed, tmp_path):
    good_dir, good = refreshed
    data_dir = tmp_path / "data"
    shutil.copytree(good_dir / "published", data_dir / "published", symlinks=True)
    before = hashlib.sha256((data_dir / "published" / "marts.duckdb").read_bytes()).hexdigest()
    # dirt far above tolerance: the quarantine-share test (severity error) must fail
    dirty = Simulator(World(SimConfig(scale=0.05, seed=7, dirty_rate=0.6)))
    with serve_in_thread(dirty) as url, environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}):
        result = run_job(defs, "full_refresh")
        assert not result.success
        published = [
            e
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey("published_marts")
        ]
        assert published == [], "publish must not run after a failed blocking check"
        after = hashlib.sha256((data_dir / "published" / "marts.duckdb").read_bytes()).hexdigest()
        assert after == before
        assert read_snapshot_run_ids() == {good.run_id}  # still readable, still the good run
    failures = [
        json.loads(line) for line in (data_dir / "run_failures.jsonl").read_text().splitlines()
    ]
    assert failures and failures[0]["run_id"] == result.run_id and failures[0]["error"]


READER = textwrap.dedent(
    """
    import json, sys, time, pathlib, duckdb
    path, stop, out = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    seen, errors, reads = [], [], 0
    while not stop.exists():
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                tables = [r[0] for r in con.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = 'main' and not starts_with(table_name, '_')").fetchall()]
                ids = set()
                for t in tables:
                    ids |= {r[0] for r in con.execute(f"select distinct _published_run_id from {t}").fetchall()}
                seen.append(sorted(ids))
                reads += 1
            finally:
                con.close()
        except Exception as e:
            errors.append(repr(e))
    json.dump({"seen": seen, "errors": errors, "reads": reads}, open(out, "w"))
    """
)


def test_concurrent_reader_never_sees_a_mix(refreshed, tmp_path):
    data_dir, _ = refreshed
    work = tmp_path / "data"
    shutil.copytree(data_dir, work, symlinks=True)  # the warehouse and its first snapshot
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    with environ({"XM_DATA_DIR": str(work)}):
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(snapshot_path()), str(stop), str(out)]
        )
        try:
            time.sleep(0.5)
            for i in range(6):
                publish(run_id=f"refresh-{i}", marts=MARTS)
        finally:
            stop.touch()
            reader.wait(timeout=60)
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["reads"] > 5
    assert all(len(ids) == 1 for ids in report["seen"]), "a read saw marts from two refreshes"
    assert len({ids[0] for ids in report["seen"]}) >= 2, "the reader read across swaps"


def test_dbt_in_a_dagster_run_reuses_the_partial_parse(tmp_path):
    """dagster-dbt copies dbt/target/partial_parse.msgpack into each invocation's own target;
    dbt reuses it only under the `--vars` and profile it was parsed with, so the asset passes
    `dbt_vars()` as `run_dbt` does (a changed var re-parses the whole project at every
    build). Shown by dbt's own log of the invocation, against a var that differs."""
    from dagster_dbt import DbtCliResource

    from warehouse.dbt import dbt_executable, dbt_vars, run_dbt
    from warehouse.settings import DBT_DIR, Settings

    dbt = DbtCliResource(
        project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
    )
    with environ({"XM_DATA_DIR": str(tmp_path)}):
        run_dbt(["parse", "--quiet"], echo=lambda _: None)  # what parse_project() runs
        logs = {}
        for case, args in {
            "asset": dbt_vars(Settings.from_env()),
            "other vars": ["--vars", json.dumps({"xm_data_dir": str(tmp_path / "other")})],
        }.items():
            invocation = dbt.cli(["ls", "--select", "fct_tickets", *args]).wait()
            logs[case] = (invocation.target_path / "dbt.log").read_text()
    assert "Partial parsing enabled" in logs["asset"]
    assert "Unable to do partial parsing" not in logs["asset"]
    assert "Unable to do partial parsing" in logs["other vars"]


def test_the_dbt_resource_skips_what_no_asset_uses(tmp_path):
    """`WarehouseDbt` knows the version `dbt --version` prints without running it (the venv's
    dbt is the dbt-core beside Dagster), and runs dbt without a dbt adapter in this process."""
    from dagster_project.defs.resources import WarehouseDbt
    from warehouse.dbt import dbt_executable, dbt_vars
    from warehouse.settings import DBT_DIR, Settings

    dbt = WarehouseDbt(
        project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
    )
    printed = subprocess.run(
        [dbt_executable(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"installed: {dbt._cli_version}" in printed
    with environ({"XM_DATA_DIR": str(tmp_path)}):
        args = ["ls", "--select", "fct_tickets", *dbt_vars(Settings.from_env())]
        invocation = dbt.cli(args).wait()
    assert invocation.is_successful() and invocation.adapter is None


def test_a_build_leaves_its_partial_parse_to_the_next(tmp_path):
    """The project's partial parse was last written for another data dir (another `dbt
    parse`): the first invocation parses everything; the dbt asset then keeps that
    invocation's partial parse as the project's, and the next invocation of this data dir
    reuses it (without `keep_partial_parse` it parses everything again)."""
    from dagster_dbt import DbtCliResource

    from dagster_project.defs.transform.assets import keep_partial_parse
    from warehouse.dbt import dbt_executable, dbt_vars, run_dbt
    from warehouse.settings import DBT_DIR, Settings

    dbt = DbtCliResource(
        project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
    )
    with environ({"XM_DATA_DIR": str(tmp_path / "other")}):
        run_dbt(["parse", "--quiet"], echo=lambda _: None)
    logs = []
    with environ({"XM_DATA_DIR": str(tmp_path)}):
        for _ in range(2):
            args = ["ls", "--select", "fct_tickets", *dbt_vars(Settings.from_env())]
            invocation = dbt.cli(args).wait()
            logs.append((invocation.target_path / "dbt.log").read_text())
            assert keep_partial_parse(invocation.target_path, DBT_DIR / "target")
    assert "Unable to do partial parsing" in logs[0]
    assert "Unable to do partial parsing" not in logs[1]
    assert "Partial parsing enabled" in logs[1]
    assert not list((DBT_DIR / "target").glob(".partial_parse.*"))  # no copy left half-way


def test_old_dbt_invocation_folders_are_pruned(tmp_path):
    """dagster-dbt writes a target folder per invocation; the dbt asset keeps the newest
    KEPT_INVOCATIONS of them and touches nothing else in target/."""
    import os

    from dagster_project.defs.transform.assets import KEPT_INVOCATIONS, prune_invocations

    runs = []
    for i in range(KEPT_INVOCATIONS + 3):
        run = tmp_path / f"dbt_models-{i:07d}-abcdefg"
        (run / "compiled").mkdir(parents=True)
        (run / "manifest.json").write_text("{}")
        os.utime(run, (1_000_000 + i, 1_000_000 + i))  # older first
        runs.append(run)
    (tmp_path / "compiled").mkdir()
    (tmp_path / "manifest.json").write_text("{}")

    removed = prune_invocations(tmp_path)
    assert sorted(removed) == runs[:3]
    assert sorted(p for p in tmp_path.glob("dbt_models-*")) == runs[3:]
    assert (tmp_path / "compiled").is_dir() and (tmp_path / "manifest.json").exists()
    assert prune_invocations(tmp_path) == []  # a rerun removes nothing more
