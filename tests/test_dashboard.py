"""The dashboard in a real browser: `streamlit run` on a freshly published snapshot of the
test warehouse, read by Debian's chromium through Playwright. The numbers on the page must
equal the marts (queried here independently, with SQL on the snapshot), suppressed groups
must read "suppressed", and a filter must change the numbers to the filtered marts' values.
Screenshots of every page go to <data dir>/screenshots; timings to dashboard_timings.json."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import duckdb
import pytest

from tests.support.dashboard import (
    choose,
    close,
    number,
    open_page,
    screenshot,
    served,
    settled,
    table,
    tiles,
    wait_for_tile,
)
from warehouse.publish import snapshot_path
from warehouse.settings import Settings

pytestmark = pytest.mark.e2e


# ---------------------------------------------------------------------------- the marts, by SQL
class Snapshot:
    """Independent reads of the published snapshot (no dashboard code)."""

    def __init__(self, data_dir) -> None:
        self.path = snapshot_path(Settings(data_dir=data_dir))

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def one(self, sql: str, params: list | None = None):
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def as_of(self) -> dt.date:
        return self.one(
            "select cast(greatest(max(t.created_at at time zone 'UTC'), "
            "max(t.last_solved_at at time zone 'UTC'), "
            "(select max(recorded_at at time zone 'UTC') from fct_survey_responses)) as date) "
            "from fct_tickets t"
        )[0]

    def default_months(self) -> tuple[dt.date, dt.date]:
        """The last 12 complete months (the dashboard's default range): complete as
        `cx_metrics_monthly.is_complete_month` says (every CX source loaded past the month's
        end; tested against the recomputation), or, for a month that mart lacks, the data
        reaches the month's last day."""
        as_of = self.as_of()
        months = [
            m
            for (m,) in self.rows(
                "select month from (select month from cx_metrics_monthly union "
                "select month from ex_metrics_monthly union select month from xm_team_monthly) "
                "left join cx_metrics_monthly using (month) "
                "where coalesce(is_complete_month, "
                "month + interval 1 month - interval 1 day <= ?) order by month",
                [as_of],
            )
        ]
        return months[max(0, len(months) - 12)], months[-1]


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def dashboard_url(published_snapshot):
    """`xm dashboard`'s command on a free port, reading the session's published snapshot."""
    with served(
        {"XM_DATA_DIR": str(published_snapshot)}, published_snapshot / "dashboard.log"
    ) as url:
        yield url


@pytest.fixture(scope="module")
def timings(published_snapshot):
    found: dict[str, float] = {}
    yield found
    path = published_snapshot / "dashboard_timings.json"
    path.write_text(json.dumps(found, indent=2))
    print(f"\ndashboard timings (s): {json.dumps(found)}")


# ---------------------------------------------------------------------------- tests
def test_cx_page_shows_the_marts_and_the_segment_filter_changes_them(
    page, dashboard_url, published_snapshot, timings
):
    snap = Snapshot(published_snapshot)
    start, end = snap.default_months()
    timings["cx first paint (cold)"] = open_page(page, dashboard_url + "/")
    timings["cx first paint (warm)"] = open_page(page, dashboard_url + "/")
    shown = tiles(page)

    # survey tiles: the newest month of the range with answers; the rest: the range's last month
    csat_month, csat, csat_n = snap.one(
        "select month, csat, csat_responses from cx_metrics_monthly "
        "where month between ? and ? and csat_responses > 0 order by month desc limit 1",
        [start, end],
    )
    assert close(shown["CSAT"][0], csat), shown["CSAT"]
    low, high = snap.one(
        "select csat_ci_low, csat_ci_high from cx_metrics_monthly where month = ?", [csat_month]
    )
    assert shown["CSAT"][1] == (
        f"{csat_month:%Y-%m}: {csat_n} responses, 95% CI {low:.1f} to {high:.1f}"
    ), shown["CSAT"]
    nps = snap.one(
        "select month, nps, nps_respondents from cx_metrics_monthly "
        "where month between ? and ? and nps_respondents > 0 order by month desc limit 1",
        [start, end],
    )
    if nps:
        assert close(shown["NPS"][0], nps[1]) and shown["NPS"][1].startswith(f"{nps[0]:%Y-%m}")
    last = snap.one(
        "select first_reply_median_business_minutes, first_reply_median_calendar_minutes, "
        "full_resolution_median_business_minutes, tickets_created, solved_tickets, "
        "resolution_rate, one_touch_rate, churn_rate, customers_start "
        "from cx_metrics_monthly where month = ?",
        [end],
    )
    reply_b, reply_c, resolution_b, created, solved, resolved, one_touch, churn, customers = last
    assert close(shown["First reply, business hours"][0], reply_b / 60)
    assert close(shown["First reply, calendar hours"][0], reply_c / 60)
    assert close(shown["Resolution, business hours"][0], resolution_b / 60)
    assert shown["First reply, business hours"][1] == f"{end:%Y-%m}: {created} tickets created"
    assert shown["One-touch rate"][1] == f"{end:%Y-%m}: {solved} tickets solved"
    assert close(shown["Resolution rate"][0], 100 * resolved)
    assert close(shown["One-touch rate"][0], 100 * one_touch)
    assert close(shown["Churn rate"][0], 100 * churn)
    assert shown["Churn rate"][1] == f"{end:%Y-%m}: of {customers} customers at start"

    # the month table: newest month first, the incomplete month left out, CSAT with its n
    rows = table(page)
    assert rows[0]["Month"] == f"{end:%Y-%m}" and len(rows) == 12
    for row in rows:
        month = dt.date.fromisoformat(row["Month"] + "-01")
        value, n = snap.one(
            "select csat, csat_responses from cx_metrics_monthly where month = ?", [month]
        )
        assert row["CSAT (responses)"].endswith(f"({n})"), row
        if value is not None:
            assert close(row["CSAT (responses)"], value), row
        # the intervals and the trailing NPS, as the mart publishes them
        csat_low, csat_high, nps_low, nps_high, trailing, trailing_n = snap.one(
            "select csat_ci_low, csat_ci_high, nps_ci_low, nps_ci_high, nps_trailing_3m, "
            "nps_trailing_3m_respondents from cx_metrics_monthly where month = ?",
            [month],
        )
        for shown_ci, low, high in (
            (row["CSAT 95% CI"], csat_low, csat_high),
            (row["NPS 95% CI"], nps_low, nps_high),
        ):
            assert shown_ci == ("" if low is None else f"{low:.1f} to {high:.1f}"), row
        assert row["NPS trailing 3 months (respondents)"].endswith(f"({trailing_n})"), row
        if trailing is not None:
            assert close(row["NPS trailing 3 months (respondents)"], trailing), row
    screenshot(page, published_snapshot / "screenshots", "cx")

    # the segment filter: CSAT of that segment's customers (facts), churn from cx_segment_monthly
    newest = {}  # segment -> its newest month in the range with CSAT answers
    for segment, month, n, value in snap.rows(
        "with answers as (select c.segment, r.score, "
        "cast(date_trunc('month', r.recorded_at at time zone 'UTC') as date) as month "
        "from fct_survey_responses r join dim_customers c on r.customer_id = c.customer_id "
        "where r.survey_kind = 'csat' and r.score between 1 and 5) "
        "select segment, month, count(*), 100.0 * sum(case when score >= 4 then 1 else 0 end) "
        "/ count(*) from answers where month between ? and ? group by segment, month "
        "order by month desc, count(*) desc",
        [start, end],
    ):
        newest.setdefault(segment, (month, n, value))
    segment, (month, n, value) = next(
        (s, v) for s, v in newest.items() if f"{v[2]:.1f}%" != shown["CSAT"][0]
    )
    started = time.perf_counter()
    choose(page, "Customer segment", segment)
    wait_for_tile(page, "CSAT", f"{value:.1f}%")
    timings["cx segment filter"] = time.perf_counter() - started
    settled(page)
    shown = tiles(page)
    assert shown["CSAT"][1] == f"{month:%Y-%m}: {n} responses"
    seg_churn, seg_customers = snap.one(
        "select churn_rate, customers_start from cx_segment_monthly where month = ? and segment = ?",
        [end, segment],
    )
    assert shown["Churn rate"][1] == f"{end:%Y-%m}: of {seg_customers} customers at start"
    if seg_churn is None:
        assert shown["Churn rate"][0] == "n/a"
    else:
        assert close(shown["Churn rate"][0], 100 * seg_churn)
    assert shown["Retention rate"][0] == "n/a"  # not published per segment
    assert f"segment={segment}" in page.url.replace("+", " ").replace("%20", " ")
    screenshot(page, published_snapshot / "screenshots", "cx_segment")


def test_ex_page_shows_suppressed_cells_and_the_department_filter(
    page, dashboard_url, published_snapshot, timings
):
    snap = Snapshot(published_snapshot)
    _, end = snap.default_months()
    timings["ex first paint"] = open_page(page, dashboard_url + "/ex")
    departments = {
        r[0]: r[1:]
        for r in snap.rows(
            "select department, headcount_end, hires, separations, turnover_rate, is_suppressed, "
            "respondents, enps, engagement from ex_metrics_monthly where month = ?",
            [end],
        )
    }
    assert tiles(page)["Headcount"] == (
        str(sum(d[0] for d in departments.values())),
        f"last day of {end:%Y-%m}",
    )
    rows = {r["Department"]: r for r in table(page)}
    assert set(rows) == set(departments)
    for name, (
        headcount,
        hires,
        separations,
        turnover,
        hidden,
        n,
        enps,
        engagement,
    ) in departments.items():
        row = rows[name]
        assert (row["Headcount end"], row["Hires"], row["Separations"]) == (
            str(headcount),
            str(hires),
            str(separations),
        )
        assert close(row["Turnover"], 100 * turnover)
        if hidden:  # never 0, never blank
            assert (row["Respondents"], row["eNPS"], row["Engagement"]) == ("suppressed",) * 3
        else:
            assert row["Respondents"] == str(n)
            assert close(row["eNPS"], enps) and close(row["Engagement"], engagement)
    suppressed = sorted(d for d, v in departments.items() if v[4])
    assert suppressed, "the test world should have a suppressed department this month"
    screenshot(page, published_snapshot / "screenshots", "ex")

    department = suppressed[0]
    started = time.perf_counter()
    choose(page, "Department", department)
    wait_for_tile(page, "Headcount", str(departments[department][0]))
    timings["ex department filter"] = time.perf_counter() - started
    settled(page)
    shown = tiles(page)
    assert shown["eNPS"][0] == "suppressed" and shown["Engagement"][0] == "suppressed"
    assert [r["Department"] for r in table(page)] == [department]
    screenshot(page, published_snapshot / "screenshots", "ex_department")


def test_link_page_shows_xm_link_summary(page, dashboard_url, published_snapshot, timings):
    snap = Snapshot(published_snapshot)
    timings["ex-cx first paint"] = open_page(page, dashboard_url + "/ex-cx")
    n, r = snap.one(
        "select n, pearson_r from xm_link_summary where ex_metric = 'engagement' "
        "and cx_metric = 'csat'"
    )
    value, note = tiles(page)["r, all published team-months (xm_link_summary)"]
    if r is None:
        assert value == "n/a"
    else:
        assert value == f"{r:.2f}"
    assert f"n = {n}" in note
    counts = {row["Team"]: row for row in table(page)}
    _, end = snap.default_months()
    start, _ = snap.default_months()
    for team, months, hidden in snap.rows(
        "select team, count(*), sum(case when is_suppressed then 1 else 0 end) "
        "from xm_team_monthly where month between ? and ? group by team",
        [start, end],
    ):
        assert counts[team]["Team-months"] == str(months)
        assert counts[team]["Suppressed (not in r)"] == str(hidden)
    screenshot(page, published_snapshot / "screenshots", "ex_cx")


def test_sla_page_shows_cx_sla_monthly_and_the_team_filter(
    page, dashboard_url, published_snapshot, timings
):
    snap = Snapshot(published_snapshot)
    start, end = snap.default_months()
    timings["sla first paint"] = open_page(page, dashboard_url + "/sla")
    settled(page)

    def expected(first, last) -> tuple[int, int]:
        return snap.one(
            "select sum(achieved), sum(breached) from cx_sla_monthly where month between ? and ?",
            [first, last],
        )

    achieved, breached = expected(start, end)
    shown = tiles(page)
    assert close(shown["SLA attainment"][0], 100 * achieved / (achieved + breached))
    assert shown["SLA attainment"][1] == (
        f"{start:%Y-%m} to {end:%Y-%m}: {achieved + breached:,} decided instances"
    )
    assert shown["SLA breaches"][0] == f"{breached:,}"
    achieved, breached = expected(end, end)  # the range's last month
    assert close(shown["SLA attainment, last month"][0], 100 * achieved / (achieved + breached))
    assert shown["SLA attainment, last month"][1] == (
        f"{end:%Y-%m}: {achieved + breached:,} decided instances"
    )
    agree, checked = snap.one(
        "select count(*) filter (where agrees), count(*) from sla_cross_check "
        "where outcome_month between ? and ?",
        [start, end],
    )
    assert close(shown["Cross-check agreement"][0], 100 * agree / checked)
    # by SLA metric and priority, summed over the range
    rows = {(r["SLA metric"], r["Priority"]): r for r in table(page)}
    names = {
        "first_reply_time": "First reply",
        "next_reply_time": "Next reply",
        "requester_wait_time": "Requester wait",
        "agent_work_time": "Agent work",
        "periodic_update_time": "Periodic update",
        "pausable_update_time": "Pausable update",
    }
    groups = snap.rows(
        "select sla_metric, coalesce(priority, '(none)'), sum(achieved), sum(breached) "
        "from cx_sla_monthly where month between ? and ? group by all",
        [start, end],
    )
    assert len(rows) == len(groups) > 1
    for metric, priority, ok, missed in groups:
        row = rows[(names.get(metric, metric), priority)]
        assert (row["Achieved"], row["Breached"]) == (f"{ok:,}", f"{missed:,}"), row
        if ok + missed:
            assert close(row["Attainment"], 100 * ok / (ok + missed)), row
    # by support team, summed over the range
    teams = {r["Team"]: r for r in table(page, 1)}
    groups = snap.rows(
        "select coalesce(team, '(no team known)'), sum(achieved), sum(breached) "
        "from cx_sla_monthly where month between ? and ? group by all",
        [start, end],
    )
    assert len(teams) == len(groups) > 1
    for team, ok, missed in groups:
        row = teams[team]
        assert (row["Achieved"], row["Breached"]) == (f"{ok:,}", f"{missed:,}"), row
        assert close(row["Attainment"], 100 * ok / (ok + missed)), row
    screenshot(page, published_snapshot / "screenshots", "sla")

    # the team filter: that team's instances only
    team, ok, missed = next(
        (team, ok, missed)
        for team, ok, missed in snap.rows(
            "select team, sum(achieved), sum(breached) from cx_sla_monthly "
            "where month between ? and ? and team is not null group by team order by team",
            [start, end],
        )
        if f"{100 * ok / (ok + missed):.1f}%" != shown["SLA attainment"][0]
    )
    started = time.perf_counter()
    choose(page, "Support team", team)
    wait_for_tile(page, "SLA attainment", f"{100 * ok / (ok + missed):.1f}%")
    timings["sla team filter"] = time.perf_counter() - started
    settled(page)
    assert tiles(page)["SLA breaches"][0] == f"{missed:,}"
    assert [r["Team"] for r in table(page, 1)] == [team]
    screenshot(page, published_snapshot / "screenshots", "sla_team")


def test_health_page_shows_the_publish(page, dashboard_url, published_snapshot, timings):
    snap = Snapshot(published_snapshot)
    timings["health first paint"] = open_page(page, dashboard_url + "/health")
    run_id, published_at = snap.one("select run_id, published_at from _publish_info")
    shown = tiles(page)
    assert shown["Run id"][0] == run_id
    assert shown["Last publish (UTC)"][0] == f"{published_at.astimezone(dt.UTC):%Y-%m-%d}"
    rows = {r["Table"]: r["Rows"] for r in table(page)}
    for (name,) in snap.rows(
        "select table_name from information_schema.tables where table_schema = 'main'"
    ):
        assert rows[name] == f"{snap.one(f'select count(*) from {name}')[0]:,}"
    tables = [table(page, i) for i in range(page.get_by_test_id("stTable").count())]
    # rows quarantined by reason, as quarantine_summary has them
    (quarantine,) = [t for t in tables if t and "Reason" in t[0]]
    expected = {
        (t, r): n
        for t, r, n in snap.rows(
            "select source_table, reason, quarantined_rows from quarantine_summary"
        )
    }
    assert {(r["Raw table"], r["Reason"]): number(r["Rows"]) for r in quarantine} == expected
    # this release was published outside a Dagster run: no check results, and it says so
    assert page.get_by_text("This release carries no check results").count() == 1
    # one row per source of source_freshness, its decided-through day as published
    (freshness,) = [t for t in tables if t and "decided_through_date" in t[0]]
    expected = dict(
        snap.rows("select source, cast(decided_through_date as varchar) from source_freshness")
    )
    assert {r["source"]: r["decided_through_date"][:10] for r in freshness} == expected
    # the won-deal verdicts of data_health, with their record counts as published
    assert page.get_by_text("Won deals: in the contracts or excluded").count() == 1
    (health,) = [t for t in tables if t and "verdict" in t[0]]
    expected = dict(snap.rows("select verdict, records from data_health"))
    assert {r["verdict"]: int(re.sub(r"[^0-9]", "", r["records"])) for r in health} == expected
    screenshot(page, published_snapshot / "screenshots", "health")


def test_health_page_lists_the_checks_that_warned(page, built_warehouse, tmp_path):
    """A release published with check results (as the Dagster publish asset writes them):
    the health page counts them and lists exactly the one that warned."""
    from warehouse.publish import CheckResult, publish

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "warehouse.duckdb").symlink_to(built_warehouse / "warehouse.duckdb")
    publish(
        run_id="warned-checks",
        settings=Settings(data_dir=data_dir),
        checks=[
            CheckResult("raw_zendesk/tickets", "gx_raw_volume", True, "WARN", "volume"),
            CheckResult("marts/fct_tickets", "unique_fct_tickets_ticket_id", True, "ERROR"),
            CheckResult(
                "staging/stg_zendesk__tickets", "gx_quarantine_share", False, "WARN", "share"
            ),
        ],
    )
    with served({"XM_DATA_DIR": str(data_dir)}, tmp_path / "dashboard.log") as url:
        open_page(page, url + "/health")
        settled(page)
        assert page.get_by_text("3 checks ran before this publish; 1 warned.").count() == 1
        tables = [table(page, i) for i in range(page.get_by_test_id("stTable").count())]
        (warned,) = [t for t in tables if t and "Check" in t[0]]
        assert warned == [
            {
                "Asset": "staging/stg_zendesk__tickets",
                "Check": "gx_quarantine_share",
                "Severity": "WARN",
                "What it checks": "share",
            }
        ]
        screenshot(page, data_dir / "screenshots", "health_warned")
