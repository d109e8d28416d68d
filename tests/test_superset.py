"""Apache Superset on the published snapshot, as `xm bi superset` sets it up: its own
virtual environment (cached between runs), the snapshot registered through the REST API as
a read-only DuckDB database, a dataset and a chart; the chart-data API's CSAT by month must
equal cx_metrics_monthly's, and the chart is drawn in chromium (screenshot in the data dir).
The seconds each stage took go to <data dir>/superset_timings.json."""

from __future__ import annotations

import datetime as dt
import json
import math
import time

import duckdb
import pytest

from dashboard.superset import (
    ADMIN,
    DATABASE_NAME,
    Api,
    Superset,
    csat_by_month,
    default_venv,
    duckdb_uri,
)
from tests.support.browser import chromium, loopback_only
from warehouse.local_postgres import free_port
from warehouse.publish import snapshot_path
from warehouse.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def timings(published_snapshot):
    found: dict[str, float] = {}
    yield found
    (published_snapshot / "superset_timings.json").write_text(json.dumps(found, indent=2))
    print(f"\nsuperset timings (s): {json.dumps(found)}")


@pytest.fixture(scope="module")
def superset(tmp_path_factory, timings):
    """A Superset server of its own (home in a temporary dir; environment in the cache)."""
    server = Superset(
        home=tmp_path_factory.mktemp("superset"), venv=default_venv(), port=free_port()
    )
    started = time.perf_counter()
    server.install(echo=lambda _: None)
    timings["install (cached after the first run)"] = time.perf_counter() - started
    step = time.perf_counter()
    server.initialise(echo=lambda _: None)
    timings["initialise"] = time.perf_counter() - step
    step = time.perf_counter()
    server.start(echo=lambda _: None)
    timings["start"] = time.perf_counter() - step
    try:
        yield server
    finally:
        server.stop()


def as_date(value) -> dt.date:
    """A temporal value of Superset's JSON result (epoch milliseconds, or ISO text)."""
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date()
    return dt.date.fromisoformat(str(value)[:10])


def test_superset_chart_data_equals_cx_metrics_monthly(superset, published_snapshot, timings):
    snapshot = snapshot_path(Settings(data_dir=published_snapshot))
    step = time.perf_counter()
    api = Api(superset.url, ADMIN, superset.password)
    database = api.database(DATABASE_NAME, duckdb_uri(snapshot))
    dataset = api.dataset(database, "cx_metrics_monthly", "main")
    params, query = csat_by_month(dataset)
    chart = api.chart("CSAT by month", dataset, params["viz_type"], params, query)
    rows = api.chart_data(query)
    timings["REST API: database, dataset, chart, chart data"] = time.perf_counter() - step

    con = duckdb.connect(str(snapshot), read_only=True)
    expected = con.execute(
        "select month, csat, csat_responses from cx_metrics_monthly "
        "where csat_responses > 0 order by month"
    ).fetchall()
    con.close()
    got = sorted((as_date(r["month"]), r["CSAT"], r["responses"]) for r in rows)
    assert len(got) == len(expected) > 0
    for (month, csat, n), (e_month, e_csat, e_n) in zip(got, expected, strict=True):
        assert month == e_month and n == e_n
        assert math.isclose(csat, e_csat, abs_tol=1e-9), (month, csat, e_csat)

    step = time.perf_counter()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        blocked: list[str] = []
        loopback_only(page, blocked)
        page.goto(f"{superset.url}/login/")
        page.fill("#username", ADMIN)
        page.fill("#password", superset.password)
        page.keyboard.press("Enter")
        page.wait_for_url("**/superset/welcome/**", timeout=120_000)
        page.goto(f"{superset.url}/explore/?slice_id={chart}")
        page.locator(
            ".chart-container canvas, [data-test='chart-container'] canvas"
        ).first.wait_for(timeout=180_000)
        page.wait_for_timeout(2000)  # the line's animation
        assert page.get_by_text("CSAT by month").count() >= 1
        shots = published_snapshot / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / "superset_csat_by_month.png"))
        assert blocked == [], f"requests left the machine: {blocked}"
    timings["chromium: login and chart drawn"] = time.perf_counter() - step
