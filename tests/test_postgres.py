"""The same warehouse on PostgreSQL: a real server (installed and started by the suite when
`XM_TEST_POSTGRES_DSN` names none), the full refresh through Dagster, marts equal to
DuckDB's, the BI role's permissions, and readers during a publish."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from psycopg2 import errors

from dagster_project.definitions import defs as load_defs
from ingestion.vendors import SOURCES
from simulator.credentials import loader_env
from simulator.server import Simulator, serve_in_thread
from tests.support.dashboard import (
    choose,
    close,
    open_page,
    screenshot,
    served,
    settled,
    table,
    tiles,
    wait_for_tile,
)
from tests.support.mart_diff import diff_marts
from tests.support.world import environ, world
from warehouse.dbt import mart_names
from warehouse.publish_postgres import publish_postgres, read_published_run_ids, setup_bi_role
from warehouse.settings import libpq_env

pytestmark = pytest.mark.postgres

MARTS = mart_names()

BI_ROLE = "xm_bi_test"
BI_PASSWORD = "bi-test-password"


@pytest.fixture(scope="module")
def pg(pg_dsn, tmp_path_factory):
    """The full_refresh job run through Dagster on PostgreSQL: (result, settings)."""
    data_dir = tmp_path_factory.mktemp("pg_refresh") / "data"
    sim = Simulator(world())
    with serve_in_thread(sim) as url:
        settings = {
            **loader_env(url),
            **libpq_env(pg_dsn),
            "XM_DATA_DIR": str(data_dir),
            "XM_TARGET": "postgres",
            "XM_POSTGRES_DSN": pg_dsn,
            "XM_BI_ROLE": BI_ROLE,
        }
        with environ(settings):
            setup_bi_role(BI_PASSWORD)
            defs = load_defs()
            with dg.instance_for_test() as instance:
                result = defs.resolve_job_def("full_refresh").execute_in_process(
                    instance=instance, raise_on_error=False
                )
    return result, settings


def _bi_connect(dsn: str, **kwargs):
    env = libpq_env(dsn)
    return psycopg2.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        dbname=env["PGDATABASE"],
        user=BI_ROLE,
        password=BI_PASSWORD,
        **kwargs,
    )


def test_full_refresh_runs_on_postgres(pg):
    result, _ = pg
    assert result.success, [
        e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    ]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey("published_marts") in materialized
    assert {k.path[0] for k in materialized} >= {f"raw_{s}" for s in SOURCES}
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50  # dbt tests and the Great Expectations suites
    assert all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    gx = {c.check_name for c in checks if c.check_name.startswith("gx_")}
    assert gx, "the Great Expectations checks ran on PostgreSQL"


def test_every_mart_equals_duckdb(pg, pg_dsn, built_warehouse):
    """Same seed, same scale: every mart on PostgreSQL equals DuckDB's, row for row."""
    con = psycopg2.connect(pg_dsn)
    try:
        for schema in ("marts", "published"):
            marts, problems = diff_marts(built_warehouse / "warehouse.duckdb", con, schema=schema)
            assert set(MARTS) <= set(marts)
            assert problems == {}, f"{schema}: {problems}"
        with con.cursor() as cur:
            cur.execute("select count(*) from marts.fct_tickets")
            assert cur.fetchone()[0] > 100  # the comparison compared something
    finally:
        con.close()


def test_bi_role_reads_published_marts_only(pg, pg_dsn):
    owner = psycopg2.connect(pg_dsn)
    with owner.cursor() as cur:
        expected = {}
        for mart in MARTS:
            cur.execute(f"select count(*) from marts.{mart}")
            expected[mart] = cur.fetchone()[0]
    owner.close()
    con = _bi_connect(pg_dsn)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            for mart in MARTS:  # every row of every mart, as the owner sees it in marts
                cur.execute(f"select count(*) from published.{mart}")
                assert cur.fetchone()[0] == expected[mart], mart
            cur.execute("select count(*) from fct_tickets")  # search_path is published
            assert cur.fetchone()[0] == expected["fct_tickets"] > 0
            for table in (
                "raw_zendesk.tickets",
                "raw_bamboohr.employees",
                "staging.stg_zendesk__tickets",
                "staging.stg_bamboohr__employees",
                "quarantine.quarantine",
                "intermediate.int_ex_pulse_answers",
                "marts.fct_tickets",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    cur.execute(f"select 1 from {table} limit 1")
            with pytest.raises(errors.ReadOnlySqlTransaction):
                cur.execute("create table published.x (i int)")
    finally:
        con.close()


def test_publish_leaves_no_side_schemas(pg, pg_dsn):
    con = psycopg2.connect(pg_dsn)
    try:
        with con.cursor() as cur:
            cur.execute("select nspname from pg_namespace where nspname like 'published%'")
            assert {r[0] for r in cur.fetchall()} == {"published"}
            cur.execute("select obj_description('published.fct_tickets'::regclass)")
            assert cur.fetchone()[0], "the dbt description travels with the mart"
    finally:
        con.close()


@pytest.mark.e2e
def test_dashboard_reads_published_as_the_bi_role(pg, pg_dsn, page):
    """`xm dashboard` with `XM_TARGET=postgres`, connected as the BI role, in a real browser:
    the CX month table equals `published.cx_metrics_monthly`, the segment filter shows the
    segment's CSAT recomputed here from the published facts, a suppressed department reads
    "suppressed", and the health page names the published run."""
    _, settings = pg
    data_dir = Path(settings["XM_DATA_DIR"])
    env = {
        **libpq_env(pg_dsn),
        "PGUSER": BI_ROLE,
        "PGPASSWORD": BI_PASSWORD,
        "XM_TARGET": "postgres",
        "XM_DATA_DIR": str(data_dir),
    }
    con = _bi_connect(pg_dsn)
    con.autocommit = True

    def rows(sql: str, params: list | None = None) -> list[tuple]:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    try:
        with served(env, data_dir / "dashboard-postgres.log") as url:
            open_page(page, url + "/")
            settled(page)
            screenshot(page, data_dir / "screenshots", "postgres_cx")
            months = table(page)
            assert len(months) == 12
            for row in months:
                month = dt.date.fromisoformat(row["Month"] + "-01")
                ((value, n),) = rows(
                    "select csat, csat_responses from cx_metrics_monthly where month = %s",
                    [month],
                )
                assert row["CSAT (responses)"].endswith(f"({n})"), row
                if value is not None:
                    assert close(row["CSAT (responses)"], float(value)), row
            start, end = (dt.date.fromisoformat(months[i]["Month"] + "-01") for i in (-1, 0))

            newest = {}  # segment -> (month, answers, CSAT): its newest month with answers
            for segment, month, n, value in rows(
                "with answers as (select c.segment, r.score, cast(date_trunc('month', "
                "r.recorded_at at time zone 'UTC') as date) as month "
                "from fct_survey_responses r join dim_customers c "
                "on r.customer_id = c.customer_id "
                "where r.survey_kind = 'csat' and r.score between 1 and 5) "
                "select segment, month, count(*), "
                "100.0 * sum(case when score >= 4 then 1 else 0 end) / count(*) "
                "from answers where month between %s and %s group by segment, month "
                "order by month desc, count(*) desc",
                [start, end],
            ):
                newest.setdefault(segment, (month, n, float(value)))
            shown = tiles(page)["CSAT"][0]
            segment, (month, n, value) = next(
                (s, v) for s, v in newest.items() if f"{v[2]:.1f}%" != shown
            )
            choose(page, "Customer segment", segment)
            wait_for_tile(page, "CSAT", f"{value:.1f}%")
            assert tiles(page)["CSAT"][1] == f"{month:%Y-%m}: {n} responses"

            open_page(page, url + "/ex")
            shown = {r["Department"]: r for r in table(page)}
            departments = rows(
                "select department, is_suppressed, respondents from ex_metrics_monthly "
                "where month = %s",
                [end],
            )
            assert set(shown) == {d for d, *_ in departments}
            assert any(hidden for _, hidden, _ in departments), "a suppressed department"
            for department, hidden, respondents in departments:
                expected = "suppressed" if hidden else str(respondents)
                assert shown[department]["Respondents"] == expected, department

            open_page(page, url + "/health")
            ((run_id,),) = rows("select run_id from _publish_info")
            assert tiles(page)["Run id"][0] == run_id
            screenshot(page, data_dir / "screenshots", "postgres_health")
    finally:
        con.close()


def test_reader_during_publish_never_sees_an_error_or_a_mix(pg, pg_dsn):
    """Readers (the BI role, single statements and a multi-statement transaction) run while
    the marts are republished three times: every read sees exactly one run, no read fails,
    and the swaps happen (readers see more than one run over time)."""
    _, settings = pg
    stop = threading.Event()
    seen: list[set[str]] = []
    failures: list[BaseException] = []
    in_transaction: list[set[str]] = []

    def single_statements() -> None:
        con = _bi_connect(pg_dsn)
        con.autocommit = True
        try:
            while not stop.is_set():
                seen.append(read_published_run_ids(con))
        except BaseException as e:
            failures.append(e)
        finally:
            con.close()

    def long_transaction() -> None:
        """Reads one mart, waits, reads them all: both reads within one transaction."""
        con = _bi_connect(pg_dsn)
        try:
            while not stop.is_set():
                with con.cursor() as cur:
                    cur.execute("select distinct _published_run_id from published.fct_tickets")
                    first = {r[0] for r in cur.fetchall()}
                    time.sleep(0.3)
                    in_transaction.append(first | read_published_run_ids(con))
                con.rollback()
                time.sleep(0.2)  # a reader between queries
        except BaseException as e:
            failures.append(e)
        finally:
            con.close()

    readers = [
        threading.Thread(target=single_statements),
        threading.Thread(target=long_transaction),
    ]
    with environ(settings):
        for r in readers:
            r.start()
        try:
            time.sleep(0.5)
            for i in range(3):
                publish_postgres(f"concurrent-{i}", MARTS)
                time.sleep(0.3)
        finally:
            stop.set()
            for r in readers:
                r.join(timeout=60)
    assert not failures, failures
    assert seen and in_transaction
    assert all(len(ids) == 1 for ids in seen), [ids for ids in seen if len(ids) != 1][:3]
    assert all(len(ids) == 1 for ids in in_transaction), in_transaction
    distinct = set().union(*seen)
    assert len(distinct) >= 2, f"the readers saw only {distinct}: no swap happened while reading"
    with environ(settings):
        assert read_published_run_ids() == {"concurrent-2"}


def test_incremental_refresh_runs_on_postgres(pg, pg_dsn):
    """Ten simulated days later, the CX refresh on PostgreSQL: the incremental models (the
    ticket chain, the facts) take the new tickets, and every dbt test and check passes."""
    _, settings = pg
    sim = Simulator(world())
    sim.advance(10)

    def tickets() -> tuple[int, int]:
        with psycopg2.connect(pg_dsn) as con, con.cursor() as cur:
            cur.execute("select count(*) from marts.fct_tickets")
            facts = cur.fetchone()[0]
            cur.execute("select count(distinct ticket_id) from staging.base_zendesk__ticket_events")
            return facts, cur.fetchone()[0]

    before = tickets()
    with (
        serve_in_thread(sim) as url,
        environ({**settings, **loader_env(url)}),
        dg.instance_for_test() as instance,
    ):
        job = load_defs().resolve_job_def("cx_refresh")
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success, [
        e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    ]
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    after = tickets()
    assert after[0] > before[0] and after[1] > before[1], (before, after)
