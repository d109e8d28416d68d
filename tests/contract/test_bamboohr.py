"""BambooHR contract: the simulator honours the wire contract, and the dlt loader lands it.

Expectations are derived from the world's timelines (periods, terminations), not from the
simulator's own views, so the tests check the API rather than restate it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest
import requests

from simulator.credentials import BAMBOOHR_API_KEY, BAMBOOHR_COMPANY
from simulator.server import Simulator, serve_in_thread
from tests.support.world import world

AUTH = (BAMBOOHR_API_KEY, "x")
JSON = {"Accept": "application/json"}
BEGINNING = "2011-06-05T00:00:00Z"
WINDOW_DAYS = 60
FIELDS = [
    "firstName",
    "lastName",
    "workEmail",
    "hireDate",
    "originalHireDate",
    "terminationDate",
    "status",
    "department",
    "division",
    "jobTitle",
    "payRate",
    "lastChanged",
]
COLUMNS = {
    "jobInfo": {
        "id",
        "employeeId",
        "date",
        "location",
        "division",
        "department",
        "jobTitle",
        "reportsTo",
    },
    "employmentStatus": {
        "id",
        "employeeId",
        "date",
        "employmentStatus",
        "terminationTypeId",
        "terminationReasonId",
        "terminationRehireId",
        "terminationRegrettableId",
        "comment",
    },
}


def api(url: str, company: str = BAMBOOHR_COMPANY) -> str:
    return f"{url}/bamboohr/api/gateway.php/{company}/v1"


def get(url: str, path: str, **params: str):
    r = requests.get(f"{api(url)}/{path}", params=params, auth=AUTH, headers=JSON, timeout=30)
    assert r.status_code == 200, (r.status_code, r.headers)
    return r.json()


def report(url: str, body: dict) -> dict:
    r = requests.post(
        f"{api(url)}/reports/custom",
        params={"format": "JSON", "onlyCurrent": "false"},
        json=body,
        auth=AUTH,
        headers=JSON,
        timeout=30,
    )
    assert r.status_code == 200, (r.status_code, r.headers)
    return r.json()


def instant(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)


def clock_day(sim: Simulator) -> pd.Timestamp:
    return sim.clock.tz_convert("UTC").tz_localize(None).normalize()


def expected_periods(sim: Simulator) -> pd.DataFrame:
    """Each hired employee's latest employment period as of the clock, from the world."""
    day = clock_day(sim)
    p = sim.world.periods
    p = p[p.hire_date <= day].drop_duplicates("employee_id", keep="last").set_index("employee_id")
    p["active"] = p.termination_date.isna() | (p.termination_date > day)
    return p


def termination_in_window(sim: Simulator) -> pd.Series:
    """A termination that takes effect within the next WINDOW_DAYS of the clock."""
    day = clock_day(sim)
    t = sim.world.terminations
    due = t[
        (t.termination_date > day) & (t.termination_date <= day + pd.Timedelta(days=WINDOW_DAYS))
    ]
    assert len(due), "the test world has no termination in the window; pick another seed"
    return due.iloc[0]


# ---- wire contract ---------------------------------------------------------------
def test_errors_have_empty_body_and_a_header(served):
    _, url = served
    directory = f"{api(url)}/employees/directory"
    for auth in (None, ("wrong-key", "x")):
        r = requests.get(directory, auth=auth, headers=JSON, timeout=30)
        assert r.status_code == 401
        assert r.content == b""
        assert r.headers["X-BambooHR-Error-Message"]
    r = requests.get(
        f"{api(url, 'nosuchco')}/employees/directory", auth=AUTH, headers=JSON, timeout=30
    )
    assert r.status_code == 404
    assert requests.get(directory, auth=AUTH, timeout=30).status_code == 406  # no JSON asked for
    changed = f"{api(url)}/employees/changed"
    for since in ("yesterday", "2025-01-01", ""):
        r = requests.get(changed, params={"since": since}, auth=AUTH, headers=JSON, timeout=30)
        assert r.status_code == 400 and r.content == b""
    # an un-encoded '+' arrives as a space: rejected, as on the real API
    r = requests.get(
        f"{changed}?since=2025-01-01T00:00:00+00:00", auth=AUTH, headers=JSON, timeout=30
    )
    assert r.status_code == 400
    r = requests.post(
        f"{api(url)}/reports/custom?format=JSON",
        data='{"fields":["firstName"]}',
        auth=AUTH,
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )
    assert r.status_code == 400
    r = requests.get(
        f"{api(url)}/employees/all/tables/compensation", auth=AUTH, headers=JSON, timeout=30
    )
    assert r.status_code == 404


def test_directory_lists_active_employees_only(served):
    sim, url = served
    body = get(url, "employees/directory")
    assert {f["id"] for f in body["fields"]} >= {
        "displayName",
        "workEmail",
        "department",
        "jobTitle",
    }
    assert all(set(f) == {"id", "type", "name"} for f in body["fields"])
    assert all(isinstance(v, str) for e in body["employees"] for v in e.values())
    p = expected_periods(sim)
    assert {e["id"] for e in body["employees"]} == {str(i) for i in p.index[p.active]}


def test_changed_since_returns_later_changes_and_resumes_after_advance(served):
    sim, url = served
    everyone = get(url, "employees/changed", since=BEGINNING)
    emp = everyone["employees"]
    assert set(emp) == {str(i) for i in expected_periods(sim).index}
    assert all(e["id"] == k and e["action"] == "Inserted" for k, e in emp.items())
    changed_at = {k: instant(e["lastChanged"]) for k, e in emp.items()}
    assert instant(everyone["latest"]) == max(changed_at.values()) <= sim.clock

    mid = sorted(changed_at.values())[len(changed_at) // 2]
    later = get(url, "employees/changed", since=mid.isoformat())["employees"]
    assert set(later) == {k for k, ts in changed_at.items() if ts > mid}
    assert 0 < len(later) < len(emp)
    ins = get(url, "employees/changed", since=mid.isoformat(), type="inserted")["employees"]
    upd = get(url, "employees/changed", since=mid.isoformat(), type="updated")["employees"]
    assert set(ins) | set(upd) == set(later) and not set(ins) & set(upd)
    assert all(e["action"] == "Updated" for e in upd.values())
    assert not get(url, "employees/changed", since=mid.isoformat(), type="deleted")["employees"]

    latest = everyone["latest"]
    assert not get(url, "employees/changed", since=latest)["employees"]
    leaver = termination_in_window(sim)
    sim.advance(WINDOW_DAYS)
    resumed = get(url, "employees/changed", since=latest)
    assert str(leaver.employee_id) in resumed["employees"]
    assert all(instant(e["lastChanged"]) > instant(latest) for e in resumed["employees"].values())
    assert len(resumed["employees"]) < len(emp)
    assert not get(url, "employees/changed", since=resumed["latest"])["employees"]


def test_custom_report_includes_terminated_employees(served):
    sim, url = served
    body = report(
        url,
        {
            "title": "t",
            "fields": [*FIELDS, "noSuchField"],
            "filters": {"lastChanged": {"includeNull": "no", "value": BEGINNING}},
        },
    )
    assert body["title"] == "t"
    assert [f["id"] for f in body["fields"]] == FIELDS
    rows = {e["id"]: e for e in body["employees"]}
    assert all(set(e) == {"id", *FIELDS} for e in rows.values())
    assert all(isinstance(v, str) for e in rows.values() for v in e.values())
    p = expected_periods(sim)
    assert set(rows) == {str(i) for i in p.index}
    gone = p[~p.active]
    assert len(gone), "the test world should have former employees"
    for eid, period in gone.iterrows():
        row = rows[str(eid)]
        assert row["status"] == "Inactive"
        assert row["terminationDate"] == f"{period.termination_date:%Y-%m-%d}"
    for eid in p.index[p.active]:
        assert rows[str(eid)]["status"] == "Active"
        assert rows[str(eid)]["terminationDate"] in ("0000-00-00", "")
    # rehires: hireDate is the latest hire, originalHireDate the first
    first_hire = sim.world.periods.groupby("employee_id").hire_date.min()
    rehired = p[p.period_no > 1]
    assert len(rehired), "the test world should have a rehire"
    for eid, period in p.iterrows():
        assert rows[str(eid)]["hireDate"] == f"{period.hire_date:%Y-%m-%d}"
        assert rows[str(eid)]["originalHireDate"] == f"{first_hire[eid]:%Y-%m-%d}"
    some = sorted(rows, key=int)[:3]
    only = report(
        url, {"fields": ["firstName"], "filters": {"employeeIds": [int(i) for i in some]}}
    )
    assert [e["id"] for e in only["employees"]] == some
    # the OpenAPI declares employeeIds only inside `filters`: at the top level it is ignored
    ignored = report(url, {"fields": ["firstName"], "employeeIds": [int(i) for i in some]})
    assert len(ignored["employees"]) == len(rows)


def test_changed_tables_return_all_rows_of_changed_employees(served):
    sim, url = served
    latest = get(url, "employees/changed", since=BEGINNING)["latest"]
    before = {t: get(url, f"employees/all/tables/{t}") for t in ("jobInfo", "employmentStatus")}
    leaver = termination_in_window(sim)
    sim.advance(WINDOW_DAYS)
    changed = set(get(url, "employees/changed", since=latest)["employees"])
    for table, columns in COLUMNS.items():
        every = get(url, f"employees/all/tables/{table}")
        assert all(set(r) == columns and all(isinstance(v, str) for v in r.values()) for r in every)
        by_id = {r["id"]: r for r in every}
        assert all(by_id[r["id"]] == r for r in before[table])  # row ids are stable
        body = get(url, f"employees/changed/tables/{table}", since=latest)
        assert body["table"] == table and set(body["employees"]) == changed
        for eid, entry in body["employees"].items():
            instant(entry["lastChanged"])
            assert {r["id"] for r in entry["rows"]} == {
                r["id"] for r in every if r["employeeId"] == eid
            }
    status_rows = body["employees"][str(leaver.employee_id)]["rows"]
    terminated = [r for r in status_rows if r["employmentStatus"] == "Terminated"]
    assert [r["date"] for r in terminated][-1] == f"{leaver.termination_date:%Y-%m-%d}"
    assert terminated[-1]["terminationTypeId"] in (
        "Resignation (Voluntary)",
        "Termination (Involuntary)",
    )
    assert terminated[-1]["terminationReasonId"] == leaver.reason
    # nothing changed after the latest change: an empty window (the real API sends `[]`)
    nothing = get(url, "employees/changed/tables/jobInfo", since=sim.clock.isoformat())
    assert not nothing["employees"]


def test_dirty_data_is_deterministic_and_same_instant():
    sim = Simulator(world(dirty_rate=0.3))
    with serve_in_thread(sim) as url:
        rows = report(url, {"fields": ["workEmail", "terminationDate", "status", "lastChanged"]})[
            "employees"
        ]
        again = report(url, {"fields": ["workEmail", "terminationDate", "status", "lastChanged"]})[
            "employees"
        ]
        status = get(url, "employees/all/tables/employmentStatus")
    assert rows == again
    assert any(e["workEmail"] != e["workEmail"].strip().lower() for e in rows)
    active = [e for e in rows if e["status"] == "Active"]
    assert {e["terminationDate"] for e in active} == {"0000-00-00", ""}
    offsets = [e["lastChanged"] for e in rows if not e["lastChanged"].endswith("+00:00")]
    assert offsets and all(instant(ts).strftime("%H:%M") == "14:00" for ts in offsets)
    assert {"Full-Time", "Terminated", "Seasonal"} == {r["employmentStatus"] for r in status}


# ---- loader -------------------------------------------------------------------
def distinct_ids(data_dir) -> dict[str, int]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return {
            f"raw_bamboohr.{t}": con.execute(
                f"select count(distinct id) from raw_bamboohr.{t}"
            ).fetchone()[0]
            for t in ("employees", "job_info", "employment_status")
        }
    finally:
        con.close()


def expected_counts(sim: Simulator) -> dict[str, int]:
    return {k: v for k, v in sim.ground_truth().items() if k.startswith("raw_bamboohr.")}


def test_loader_lands_ground_truth_and_merges_a_termination(warehouse):
    from ingestion.pipeline import ingest

    sim, _, data_dir = warehouse
    (first,) = ingest(["bamboohr"], echo=lambda _: None)
    assert distinct_ids(data_dir) == expected_counts(sim)

    leaver = termination_in_window(sim)
    sim.advance(WINDOW_DAYS)
    (second,) = ingest(["bamboohr"], echo=lambda _: None)
    assert 0 < second.rows < first.rows
    assert distinct_ids(data_dir) == expected_counts(sim)

    eid, day = str(leaver.employee_id), f"{leaver.termination_date:%Y-%m-%d}"
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        emp = con.execute(
            "select status, termination_date from raw_bamboohr.employees where id = ?", [eid]
        ).fetchall()
        terminated = con.execute(
            "select termination_type_id from raw_bamboohr.employment_status"
            " where employee_id = ? and employment_status = 'Terminated' and date = ?",
            [eid, day],
        ).fetchall()
    finally:
        con.close()
    assert emp == [("Inactive", day)]
    assert len(terminated) == 1


def test_loader_reports_refused_credentials(warehouse, monkeypatch):
    from ingestion.pipeline import IngestError, ingest

    monkeypatch.setenv("SOURCES__BAMBOOHR__API_KEY", "not-the-key")
    with pytest.raises(IngestError, match="SOURCES__BAMBOOHR__API_KEY"):
        ingest(["bamboohr"], echo=lambda _: None)
