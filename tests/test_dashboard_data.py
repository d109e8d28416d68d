"""The dashboard's figures without a browser: read from the published snapshot only, the
segment figures follow cx_metrics_monthly's definitions, the correlations xm_link_summary's,
suppressed survey cells read "suppressed"."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from dashboard import data
from warehouse.publish import CheckResult, publish, snapshot_path
from warehouse.settings import Settings


@pytest.fixture(scope="module")
def marts(published_snapshot) -> data.Marts:
    return data.load(data.Source(Settings(data_dir=published_snapshot)))


def test_reads_the_snapshot_not_the_warehouse(published_snapshot, marts, tmp_path):
    # the same marts with no warehouse beside the snapshot at all
    alone = tmp_path / "data" / "published"
    alone.mkdir(parents=True)
    (alone / "marts.duckdb").symlink_to(snapshot_path(Settings(data_dir=published_snapshot)))
    only = data.load(data.Source(Settings(data_dir=tmp_path / "data")))
    assert only.run_id == marts.run_id == "published-test"
    pd.testing.assert_frame_equal(only.cx, marts.cx)
    with pytest.raises(data.SnapshotMissing):
        data.Source(Settings(data_dir=tmp_path / "nothing")).version()


def test_facts_reproduce_cx_metrics_monthly(marts):
    """All segments recomputed from the fact marts equal the published monthly mart, so a
    segment's figures (the same code on fewer customers) follow the mart's definitions."""
    facts = data.cx_from_facts(marts).set_index("month")
    mart = marts.cx.set_index("month")
    assert list(facts.index) == list(mart.index)
    for column in facts.columns:
        a, b = mart[column].astype(float), facts[column].astype(float)
        same = ((a - b).abs() <= 1e-9) | (a.isna() & b.isna())
        assert same.all(), (column, a[~same].head(), b[~same].head())


def test_segments_partition_the_customers(marts):
    """The survey and ticket counts of the segments add up to at most all customers' (a
    response or ticket without a customer is in no segment)."""
    total = data.cx_from_facts(marts).set_index("month")
    parts = sum(data.cx_from_facts(marts, s).set_index("month") for s in marts.segment_names)
    for column in ("csat_responses", "nps_respondents", "tickets_created", "solved_tickets"):
        assert (parts[column] <= total[column]).all(), column
        assert parts[column].sum() > 0, column


def test_correlations_equal_xm_link_summary(marts):
    for _, row in marts.link.iterrows():
        x, y = row["ex_metric"], row["cx_metric"]
        mine = data.pearson(data.published_pairs(marts.teams, x, y), x, y)
        assert mine.n == row["n"], (x, y)
        if pd.isna(row["pearson_r"]):
            assert mine.r is None
        else:
            assert math.isclose(mine.r, row["pearson_r"], abs_tol=1e-9), (x, y)


def test_fisher_interval_matches_scipy():
    from scipy import stats

    xs = [1, 2, 3, 4, 5, 6, 7, 8]
    ys = [2, 1, 4, 3, 7, 8, 6, 9]
    result = stats.pearsonr(xs, ys)
    ci = result.confidence_interval(0.95)
    low, high = data.fisher_ci(float(result.statistic), len(xs))
    assert math.isclose(low, ci.low, abs_tol=1e-9) and math.isclose(high, ci.high, abs_tol=1e-9)
    assert data.fisher_ci(0.5, 3) == (None, None)


def test_suppressed_cells_read_suppressed(marts):
    hidden = marts.ex[marts.ex["is_suppressed"]]
    assert not hidden.empty, "the test world should have suppressed department-months"
    row = hidden.iloc[0]
    assert {data.survey_cell(row, c) for c in ("respondents", "enps", "engagement")} == {
        "suppressed"
    }
    shown = marts.ex[~marts.ex["is_suppressed"]]
    if not shown.empty:
        assert data.survey_cell(shown.iloc[0], "enps") == f"{shown.iloc[0]['enps']:.1f}"


def test_incomplete_month_is_left_out_by_default(published_snapshot, marts):
    con = duckdb.connect(str(snapshot_path(Settings(data_dir=published_snapshot))), read_only=True)
    newest = con.execute("select max(month) from cx_metrics_monthly").fetchone()[0]
    con.close()
    start, end = data.default_range(marts)
    assert marts.is_complete(end)
    if not marts.is_complete(newest):  # the data's clock stops mid-month
        assert end < newest
    assert (end.year - start.year) * 12 + end.month - start.month == 11


PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


@pytest.mark.postgres
def test_reads_postgres_published_as_the_bi_role(published_snapshot, pg_dsn, marts, tmp_path):
    """The same figures from a PostgreSQL `published` schema (the snapshot's tables copied
    into a database of this test's own), read as a BI role that may read nothing else."""
    import psycopg2
    from psycopg2.extras import execute_values

    from tests.support.world import environ
    from warehouse.publish_postgres import setup_bi_role
    from warehouse.settings import libpq_env

    database, role, password = "xm_dashboard_test", "xm_dashboard_bi", "dashboard-bi"
    admin = libpq_env(pg_dsn)
    con = psycopg2.connect(pg_dsn)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f"drop database if exists {database}")
        cur.execute(f"create database {database}")
    con.close()
    target = {**admin, "PGDATABASE": database}
    snapshot = duckdb.connect(
        str(snapshot_path(Settings(data_dir=published_snapshot))), read_only=True
    )
    con = psycopg2.connect(
        host=target["PGHOST"],
        port=target["PGPORT"],
        user=target["PGUSER"],
        password=target["PGPASSWORD"],
        dbname=database,
    )
    with con.cursor() as cur:
        cur.execute("create schema published")
        tables = [
            t
            for (t,) in snapshot.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
            ).fetchall()
        ]
        for table in tables:
            columns = snapshot.execute(f"describe {table}").fetchall()
            ddl = ", ".join(
                f'"{name}" {PG_TYPES.get(kind, "numeric" if kind.startswith("DECIMAL") else "text")}'
                for name, kind, *_ in columns
            )
            cur.execute(f"create table published.{table} ({ddl})")
            rows = snapshot.execute(f"select * from {table}").fetchall()
            if rows:
                execute_values(cur, f"insert into published.{table} values %s", rows)
    con.commit()
    con.close()
    snapshot.close()
    with environ({**target, "XM_TARGET": "postgres", "XM_BI_ROLE": role}):
        setup_bi_role(password, role)

    as_bi = {**target, "PGUSER": role, "PGPASSWORD": password}
    settings = Settings(data_dir=tmp_path, target="postgres", postgres=as_bi)
    pg = data.load(data.Source(settings))
    assert pg.source.startswith("schema published on PostgreSQL") and role in pg.source
    assert (pg.run_id, pg.as_of, pg.months) == (marts.run_id, marts.as_of, marts.months)
    assert pg.tables.set_index("table")["rows"].to_dict() == (
        marts.tables.set_index("table")["rows"].to_dict()
    )
    for name in ("cx", "ex", "teams", "link"):
        mine, theirs = getattr(pg, name), getattr(marts, name)
        assert list(mine.columns) == list(theirs.columns) and len(mine) == len(theirs), name
        for column in mine.columns:
            a, b = mine[column], theirs[column]
            if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
                a, b = a.astype(float), b.astype(float)
                same = ((a - b).abs() <= 1e-9) | (a.isna() & b.isna())
            else:
                same = (a.astype(str) == b.astype(str)) | (a.isna() & b.isna())
            assert same.all(), (name, column)
    facts = data.cx_from_facts(pg).set_index("month")
    assert facts["csat_responses"].tolist() == pg.cx.set_index("month")["csat_responses"].tolist()


def test_months_are_complete_as_the_mart_says_and_carry_their_intervals(marts):
    """The dashboard's completeness is cx_metrics_monthly.is_complete_month (not its own
    clock), and the CX frame carries the published 95% intervals, shown as "low to high"."""
    for _, row in marts.cx.iterrows():
        assert marts.is_complete(row["month"]) == bool(row["is_complete_month"])
    start, end = data.default_range(marts)
    months = data.cx_monthly(marts, data.Filters(start, end))
    assert list(months["complete"]) == [marts.is_complete(m) for m in months["month"]]
    answered = months[months["csat_responses"] > 0]
    assert not answered.empty
    for _, m in answered.iterrows():
        low, high = m["csat_ci_low"], m["csat_ci_high"]
        assert low <= m["csat"] <= high
        assert data.fmt_interval(low, high) == f"{low:.1f} to {high:.1f}"
    assert data.fmt_interval(None, 3.0) == "" and data.fmt_interval(float("nan"), 1.0) == ""


def test_health_frames_are_the_published_marts(published_snapshot, marts):
    con = duckdb.connect(str(snapshot_path(Settings(data_dir=published_snapshot))), read_only=True)
    try:
        health = con.execute("select count(*), sum(records) from data_health").fetchone()
        sources = con.execute("select count(*) from source_freshness").fetchone()[0]
    finally:
        con.close()
    assert (len(marts.health), int(marts.health["records"].sum())) == health
    assert len(marts.freshness) == sources > 0


def test_check_results_and_quarantine_summary_reach_the_dashboard(built_warehouse, tmp_path):
    """A release published with check results: the dashboard reads them as published (the
    warnings first), and quarantine_summary as the mart has it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "warehouse.duckdb").symlink_to(built_warehouse / "warehouse.duckdb")
    settings = Settings(data_dir=data_dir)
    checks = [
        CheckResult("raw_zendesk/tickets", "gx_raw_volume", True, "WARN", "volume vs history"),
        CheckResult("marts/fct_tickets", "unique_fct_tickets_ticket_id", True, "ERROR"),
        CheckResult("staging/stg_zendesk__tickets", "gx_quarantine_share", False, "WARN", "x"),
    ]
    publish(run_id="checks-test", settings=settings, checks=checks)
    marts = data.load(data.Source(settings))
    assert [tuple(r) for r in marts.checks.itertuples(index=False)] == [
        ("staging/stg_zendesk__tickets", "gx_quarantine_share", False, "WARN", "x"),
        ("marts/fct_tickets", "unique_fct_tickets_ticket_id", True, "ERROR", ""),
        ("raw_zendesk/tickets", "gx_raw_volume", True, "WARN", "volume vs history"),
    ]
    con = duckdb.connect(str(built_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        expected = con.execute(
            "select source_table, reason, count(*) from quarantine.quarantine group by all"
        ).fetchall()
    finally:
        con.close()
    shown = {(t, r): n for t, r, n in marts.quarantine.itertuples(index=False)}
    assert shown == {(t, r): n for t, r, n in expected} and shown
