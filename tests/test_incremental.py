"""Incremental models equal a full refresh after the simulator clock moves on.

Loads the test world and builds, then three times advances the clock, ingests and builds
incrementally; a copy of the resulting warehouse is then rebuilt with --full-refresh and
every incremental model (the two facts, the Zendesk ticket chain under them, and the SLA
chain: metric events and SLA instances) must match
it row for row. Before each incremental build, each model's compiled SQL is counted against
the warehouse as it stands: it must take the incremental path and select some rows but
fewer than half the table, so a model silently rebuilding everything would fail; and it
must read the newest load it holds with one query (dbt's log). Last, a
newer load of an old ticket fails validation: an incremental build must drop the ticket
from every ticket model, as a full build does; and a newer load of an SLA instance's
fulfil event fails validation: the instance must be rebuilt without it."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from ingestion.pipeline import ingest
from simulator.credentials import loader_env
from simulator.server import Simulator, serve_in_thread
from tests.support.world import environ, world
from warehouse.dbt import DbtError, run_dbt

pytestmark = pytest.mark.e2e

# every incremental model: (schema, model, its directory under models/)
INCREMENTAL_MODELS = (
    ("marts", "fct_tickets", "marts/cx"),
    ("marts", "fct_survey_responses", "marts/cx"),
    ("staging", "base_zendesk__ticket_events", "staging/zendesk/base"),
    ("staging", "base_zendesk__ticket_child_events", "staging/zendesk/base"),
    ("intermediate", "int_ticket_status_changes", "intermediate/cx"),
    ("intermediate", "int_ticket_reply_times", "intermediate/cx"),
    ("intermediate", "int_ticket_business_minutes", "intermediate/cx"),
    ("staging", "base_zendesk__ticket_metric_events", "staging/zendesk/base"),
    ("intermediate", "int_sla_instances", "intermediate/cx"),
)
# table models built on incremental ones: a full rebuild must give the same rows too
BUILT_ON_INCREMENTAL = (
    ("intermediate", "int_ticket_requester_waits", "intermediate/cx"),
    ("marts", "fct_sla_outcomes", "marts/cx"),
    ("marts", "cx_sla_monthly", "marts/cx"),
    ("marts", "sla_cross_check", "marts/health"),
    ("intermediate", "int_customer_touchpoints", "intermediate/journey"),
    ("marts", "fct_customer_touchpoints", "marts/journey"),
    ("marts", "fct_customer_stage_spells", "marts/journey"),
    ("marts", "cx_journey_stage_monthly", "marts/journey"),
    ("marts", "cx_journey_stage_conversion", "marts/journey"),
    ("marts", "cx_onboarding_renewals", "marts/journey"),
)
COMPILED_DIR = Path("compiled/experience_warehouse/models")


def _quiet(_: str) -> None:
    pass


def _build(data_dir: Path, target: Path, *extra: str) -> None:
    with environ({"XM_DATA_DIR": str(data_dir)}):
        run_dbt(["build", "--target-path", str(target), *extra], echo=_quiet)


def _model_statuses(target: Path) -> dict[str, str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}


def test_incremental_equals_full_refresh(tmp_path):
    inc_dir = tmp_path / "incremental"
    full_dir = tmp_path / "full"
    target = tmp_path / "target"
    full_target = tmp_path / "full_target"

    names = [model for _, model, _ in INCREMENTAL_MODELS]
    sim = Simulator(world())
    with serve_in_thread(sim) as url, environ({**loader_env(url), "XM_DATA_DIR": str(inc_dir)}):
        ingest(echo=_quiet)
        _build(inc_dir, target)

        counts = []
        for _ in range(3):
            sim.advance(10)
            ingest(echo=_quiet)
            # what each incremental model will rebuild, compiled and counted before the build
            # (the ticket models select by stg_zendesk__ticket_loads, a table: built first,
            # as the build does)
            logs = ["--log-path", str(tmp_path / f"logs-{len(counts)}")]
            with environ({"XM_DATA_DIR": str(inc_dir)}):
                loads = ["--select", "stg_zendesk__ticket_loads"]
                run_dbt(["run", "--target-path", str(target), *logs, *loads], echo=_quiet)
                run_dbt(
                    ["compile", "--target-path", str(target), *logs, "--select", *names],
                    echo=_quiet,
                )
            # the queries dbt ran (its log file holds each, at debug level): each model reads
            # the newest load it holds once
            dbt_log = (Path(logs[1]) / "dbt.log").read_text()
            newest_read = 'select max(_dlt_load_id) from "warehouse"."{}"."{}"'.format
            assert dbt_log.count(newest_read("staging", "stg_zendesk__ticket_loads")) == 1
            warehouse = inc_dir / "warehouse.duckdb"
            with duckdb.connect(str(warehouse), read_only=True) as con:
                for schema, model, path in INCREMENTAL_MODELS:
                    compiled = (target / COMPILED_DIR / path / f"{model}.sql").read_text()
                    # only the incremental branch reads the table it builds, or compares load
                    # ids with the newest it holds (`loaded_after`: a constant, read once when
                    # the model compiles)
                    assert f'"{schema}"."{model}"' in compiled or re.search(
                        r"load_id > '\d{10}\.\d+'", compiled
                    ), f"{model} was not incremental"
                    # ... the newest load it holds, which orders as text as it does as a number
                    # (one value per model, read once: every comparison in it uses it)
                    literals = set(re.findall(r"load_id > '([^']*)'", compiled))
                    assert len(literals) <= 1, (model, literals)
                    reads = dbt_log.count(newest_read(schema, model))
                    assert reads == len(literals), (model, reads)
                    for literal in literals:
                        newest = con.execute(
                            f"select max(_dlt_load_id), max(cast(_dlt_load_id as double)) "
                            f"from {schema}.{model}"
                        ).fetchone()
                        assert literal == newest[0] and float(literal) == newest[1], (model, newest)
                        # and the raw rows after it are the same compared as text or as numbers
                        for raw in ("tickets", "ticket_events", "ticket_metric_events"):
                            as_text, as_number = con.execute(
                                f"select count(*) filter (where _dlt_load_id > ?), "
                                f"count(*) filter (where cast(_dlt_load_id as double) > ?) "
                                f"from raw_zendesk.{raw}",
                                [literal, float(literal)],
                            ).fetchone()
                            assert as_text == as_number, (model, raw, as_text, as_number)
                    total = con.execute(f"select count(*) from {schema}.{model}").fetchone()[0]
                    selected = con.execute(f"select count(*) from ({compiled})").fetchone()[0]
                    assert 0 < selected < total / 2, (model, selected, total)

            _build(inc_dir, target)
            statuses = _model_statuses(target)
            for model in names:
                assert statuses[model] == "success", (model, statuses[model])
            with duckdb.connect(str(warehouse), read_only=True) as con:
                counts.append(
                    con.execute("select count(*) from marts.fct_survey_responses").fetchone()[0]
                )
        # the clock moved on: new responses were added incrementally
        assert counts[-1] > counts[0], counts

        # a later load brings a version of an old ticket that fails validation: the ticket
        # leaves staging, its audits become orphans, its rows leave every ticket model
        warehouse = inc_dir / "warehouse.duckdb"
        with duckdb.connect(str(warehouse)) as con:
            ticket_id = con.execute(
                "select min(ticket_id) from intermediate.int_ticket_status_changes"
            ).fetchone()[0]
            newest = con.execute(
                "select max(cast(_dlt_load_id as double)) from (select _dlt_load_id from"
                " raw_zendesk.tickets union all select _dlt_load_id"
                " from raw_zendesk.ticket_metric_events)"
            ).fetchone()[0]
            con.execute(
                "update raw_zendesk.tickets set status = 'no such status', _dlt_load_id = ? "
                "where id = ?",
                [f"{newest + 1:.6f}", ticket_id],
            )
            # ... and an achieved SLA instance's fulfilment (another ticket) comes back invalid:
            # quarantined, it leaves the staged events, and the instance must be rebuilt
            # without it (no longer achieved)
            sla_ticket, metric, instance = con.execute(
                "select ticket_id, sla_metric, instance_id from intermediate.int_sla_instances"
                " where status = 'achieved' and ticket_id <> ? order by ticket_id limit 1",
                [ticket_id],
            ).fetchone()
            changed = con.execute(
                "update raw_zendesk.ticket_metric_events set type = 'no such type', "
                "_dlt_load_id = ? where ticket_id = ? and metric = ? and instance_id = ? "
                "and type = 'fulfill'",
                [f"{newest + 2:.6f}", sla_ticket, metric, instance],
            ).fetchone()[0]
            assert changed > 0
        _build(inc_dir, target)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            status = con.execute(
                "select status from intermediate.int_sla_instances"
                " where ticket_id = ? and sla_metric = ? and instance_id = ?",
                [sla_ticket, metric, instance],
            ).fetchone()[0]
            assert status != "achieved", (sla_ticket, metric, instance)
            for schema, model, _ in INCREMENTAL_MODELS[2:]:
                rows = con.execute(
                    f"select count(*) from {schema}.{model} where ticket_id = ?"
                    + (" and _quarantine_reason is null" if schema == "staging" else ""),
                    [ticket_id],
                ).fetchone()[0]
                assert rows == 0, (model, ticket_id, rows)
            assert con.execute(
                "select count(*) from marts.fct_tickets where ticket_id = ?", [ticket_id]
            ).fetchone() == (0,)

    full_dir.mkdir()
    shutil.copy(inc_dir / "warehouse.duckdb", full_dir / "warehouse.duckdb")
    _build(full_dir, full_target, "--full-refresh")
    _assert_models_equal(inc_dir / "warehouse.duckdb", full_dir / "warehouse.duckdb")


def _assert_models_equal(incremental: Path, full: Path) -> None:
    """Every incremental model (and the SLA and journey models built on them) holds the same
    rows in both warehouses."""
    with duckdb.connect() as con:
        con.execute("attach ? as inc (read_only)", [str(incremental)])
        con.execute("attach ? as full_ (read_only)", [str(full)])
        for schema, model, _ in INCREMENTAL_MODELS + BUILT_ON_INCREMENTAL:
            n_inc, n_full = (
                con.execute(f"select count(*) from {db}.{schema}.{model}").fetchone()[0]
                for db in ("inc", "full_")
            )
            assert n_inc == n_full, (model, n_inc, n_full)
            for left, right in (("inc", "full_"), ("full_", "inc")):
                diff = con.execute(
                    f"select * from {left}.{schema}.{model} except all "
                    f"select * from {right}.{schema}.{model}"
                ).fetchall()
                assert diff == [], f"{model}: rows in {left} not in {right}: {diff[:5]}"


def _failures(target: Path) -> list[str]:
    """The nodes of the last build that failed, errored or were skipped (after a failure)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sorted(
        f"{r['unique_id']} {r['status']}"
        for r in results
        if r["status"] not in ("success", "pass", "warn", "no-op")
        and not r["unique_id"].startswith("exposure.")
    )


def test_a_clean_load_after_a_dirty_one_needs_no_rebuild(tmp_path):
    """One load the help desk serves the same account with 20% dirt instead of 2% (more
    tickets deleted mid-life, so its audits and child events are numbered differently), with
    the export's duplicates; the next load is clean again, and its audits and child events
    reuse ids the dirty load put under other tickets: records move between tickets, and the
    dirty load's deleted tickets and their events stay as loaded. The incremental refresh
    after the clean load passes every dbt test and equals a full refresh of the same raw
    data: no stale copy under an event's old ticket, no weekly rebuild needed. (The small
    test world has a few audits a day: the dirty load spans a week, the clean one 3 days.)"""
    inc_dir, full_dir = tmp_path / "incremental", tmp_path / "full"
    target, full_target = tmp_path / "target", tmp_path / "full_target"
    normal = Simulator(world())
    dirty = Simulator(world(dirty_rate=0.2))  # the same seed: the same account, dirtier
    warehouse = inc_dir / "warehouse.duckdb"
    events = "select {} from {} where {} is not null"
    with serve_in_thread(normal) as url, serve_in_thread(dirty) as dirty_url:
        with environ({**loader_env(url), "XM_DATA_DIR": str(inc_dir)}):
            ingest(echo=_quiet)
        _build(inc_dir, target)

        # the dirty load: only the help desk, from the dirty server
        dirty.advance(7)
        with environ({**loader_env(dirty_url), "XM_DATA_DIR": str(inc_dir)}):
            ingest(["zendesk"], echo=_quiet)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            deleted = con.execute(
                "select count(*) from raw_zendesk.tickets where status = 'deleted'"
            ).fetchone()[0]
        # its own refresh may fail its checks (that is what they are for)
        with contextlib.suppress(DbtError):
            _build(inc_dir, target)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert (
                con.execute(
                    "select count(*) from staging.stg_zendesk__tickets where is_deleted"
                ).fetchone()[0]
                == deleted
            )
            built = {
                key: dict(con.execute(events.format(f"{key}, ticket_id", table, key)).fetchall())
                for key, table in (
                    ("event_id", "staging.base_zendesk__ticket_events"),
                    ("child_event_id", "staging.base_zendesk__ticket_child_events"),
                )
            }

        # the clean load, three days on
        normal.advance(10)
        with environ({**loader_env(url), "XM_DATA_DIR": str(inc_dir)}):
            ingest(["zendesk"], echo=_quiet)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            raw_events = dict(
                con.execute("select id, ticket_id from raw_zendesk.ticket_events").fetchall()
            )
            raw_children = con.execute(
                "select c.id, e.ticket_id from raw_zendesk.ticket_events__child_events as c "
                "join raw_zendesk.ticket_events as e on c._dlt_parent_id = e._dlt_id"
            ).fetchall()
        moved = {e for e, t in built["event_id"].items() if e in raw_events and raw_events[e] != t}
        assert moved, "no audit moved to another ticket"
        moved_children = {
            c
            for c, t in raw_children
            if c in built["child_event_id"] and built["child_event_id"][c] != t
        }
        assert moved_children, "no child event id came back under another ticket"
        try:
            _build(inc_dir, target)
        except DbtError:
            pytest.fail(f"the refresh after the clean load failed: {_failures(target)}")
        assert _failures(target) == []
        statuses = _model_statuses(target)
        for _, model, _ in INCREMENTAL_MODELS:
            assert statuses[model] == "success", (model, statuses[model])

    full_dir.mkdir()
    shutil.copy(warehouse, full_dir / "warehouse.duckdb")
    _build(full_dir, full_target, "--full-refresh")
    _assert_models_equal(warehouse, full_dir / "warehouse.duckdb")
