"""BambooHR API v1 stand-in, legacy gateway (mounted at /bamboohr/api/gateway.php/{domain}/v1).

Contract (the vendor's public API reference, summarised in simulator/README.md): HTTP Basic with username = API key and any
password; errors carry an empty body and the text in `X-BambooHR-Error-Message`. Nothing is
paginated. Every value is a string (ids too), dates are `YYYY-MM-DD`, empty dates
`0000-00-00`, timestamps ISO-8601 with an offset.

JSON only: GET endpoints need `Accept: application/json` (the real API falls back to XML),
the custom report needs `format=JSON`; anything else gets 406 with an empty body.

The world holds whole HR timelines; a row exists once its effective date is on or before the
clock's (UTC) date. HR keys each change the afternoon before it takes effect, so an
employee's `lastChanged` is 14:00 UTC on the day before its latest effective date: it never
runs ahead of the clock, and a change is never hidden behind a cursor that has passed it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import cache

import numpy as np
import pandas as pd
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.credentials import BAMBOOHR_API_KEY, BAMBOOHR_COMPANY
from simulator.server import Simulator, cached_by_clock
from simulator.wire import JSONResponse, dirty_mask, iso_offset

EMPTY_DATE = "0000-00-00"
LOCATIONS = ["Austin", "Berlin", "Lisbon", "Toronto", "Remote"]
SINCE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
# report/directory fields we know: id -> (type, name); personal data stays in raw on purpose
FIELDS: dict[str, tuple[str, str]] = {
    "employeeNumber": ("text", "Employee #"),
    "firstName": ("text", "First Name"),
    "lastName": ("text", "Last Name"),
    "displayName": ("text", "Display Name"),
    "workEmail": ("email", "Work Email"),
    "hireDate": ("date", "Hire Date"),
    "originalHireDate": ("date", "Original Hire Date"),
    "terminationDate": ("date", "Termination Date"),
    "status": ("status", "Status"),
    "department": ("list", "Department"),
    "division": ("list", "Division"),
    "jobTitle": ("list", "Job Title"),
    "supervisor": ("employee", "Supervisor"),
    "location": ("list", "Location"),
    "dateOfBirth": ("date", "Birth Date"),
    "payRate": ("currency", "Pay Rate"),
    "lastChanged": ("timestamp", "Last Changed"),
}
# fmt: off
DIRECTORY_FIELDS = ["displayName", "firstName", "lastName", "jobTitle", "workEmail", "department",
                    "location", "division", "supervisor"]
TABLE_COLUMNS = {
    "jobInfo": ["id", "employeeId", "date", "location", "division", "department", "jobTitle",
                "reportsTo"],
    "employmentStatus": ["id", "employeeId", "date", "employmentStatus", "terminationTypeId",
                         "terminationReasonId", "terminationRehireId", "terminationRegrettableId",
                         "comment"],
}
# fmt: on


# ---- errors -------------------------------------------------------------------
def _error(status: int, message: str) -> Response:
    """BambooHR errors: empty body, the reason in a header."""
    return Response(b"", status_code=status, headers={"X-BambooHR-Error-Message": message})


def _authorized(request: Request) -> bool:
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Basic "):
        return False
    try:
        user = base64.b64decode(auth[6:]).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == BAMBOOHR_API_KEY


def _since(value: str | None) -> pd.Timestamp | None:
    """Parse `yyyy-mm-ddThh:mm:ss(Z|±hh:mm|±hhmm)` (an unencoded `+` arrives as a space: invalid)."""
    if not value or not SINCE_RE.match(value):
        return None
    try:
        return pd.Timestamp(value).tz_convert("UTC")
    except ValueError:
        return None


def _iso(ts: pd.Series) -> pd.Series:
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _day(naive: pd.Series) -> pd.Series:
    return naive.dt.strftime("%Y-%m-%d")


def _changed_at(dates: pd.Series) -> pd.Series:
    """When HR keyed a change effective on `dates`: 14:00 UTC the day before."""
    return (dates - pd.Timedelta(hours=10)).dt.tz_localize("UTC")


# ---- static per-world tables (row ids are stable across clock moves) -----------
@cache
def _job_rows(sim: Simulator) -> pd.DataFrame:
    j = sim.world.jobs.sort_values(["employee_id", "date"], kind="stable", ignore_index=True)
    return pd.DataFrame(
        {
            "id": np.arange(1, len(j) + 1),
            "employee_id": j.employee_id,
            "date": j.date,
            "location": [LOCATIONS[e % len(LOCATIONS)] for e in j.employee_id],
            "division": j.team,
            "department": j.department,
            "jobTitle": j.job_title,
            "reportsTo": j.reports_to,
        }
    )


@cache
def _status_rows(sim: Simulator) -> pd.DataFrame:
    """One Full-Time row per hire/rehire, one Terminated row per termination."""
    w = sim.world
    p = w.periods
    hires = pd.DataFrame(
        {
            "employee_id": p.employee_id,
            "date": p.hire_date,
            "terminated": False,
            "employmentStatus": "Full-Time",
            "terminationTypeId": "",
            "terminationReasonId": "",
            "terminationRehireId": "",
            "terminationRegrettableId": "",
            "comment": np.where(p.period_no > 1, "Rehired", ""),
        }
    )
    t = w.terminations
    terms = pd.DataFrame(
        {
            "employee_id": t.employee_id,
            "date": t.termination_date,
            "terminated": True,
            "employmentStatus": "Terminated",
            "terminationTypeId": np.where(
                t.is_voluntary, "Resignation (Voluntary)", "Termination (Involuntary)"
            ),
            "terminationReasonId": t.reason.astype(str),
            "terminationRehireId": np.where(t.is_voluntary, "Yes", "No"),
            "terminationRegrettableId": np.where(
                t.is_regrettable, "Regrettable", "Non-Regrettable"
            ),
            "comment": "",
        }
    )
    rows = pd.concat([hires, terms], ignore_index=True)
    rows = rows.sort_values(["employee_id", "date", "terminated"], kind="stable", ignore_index=True)
    rows.insert(0, "id", np.arange(1, len(rows) + 1))
    # dirt: a status label no downstream mapping knows
    seasonal = dirty_mask(sim, "bamboohr.employment_status.unknown_label", len(rows))
    rows.loc[seasonal & ~rows.terminated.to_numpy(), "employmentStatus"] = "Seasonal"
    return rows


# ---- views as of the clock ----------------------------------------------------------
def _clock_day(clock: pd.Timestamp) -> pd.Timestamp:
    return clock.tz_convert("UTC").tz_localize(None).normalize()


@cached_by_clock
def visible_rows(sim: Simulator, clock: pd.Timestamp) -> dict[str, pd.DataFrame]:
    day = _clock_day(clock)
    jobs, status = _job_rows(sim), _status_rows(sim)
    return {"jobInfo": jobs[jobs.date <= day], "employmentStatus": status[status.date <= day]}


@cached_by_clock
def employees_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    """One row per employee hired by the clock (active or not), every field a wire string."""
    rows = visible_rows(sim)
    st, jobs = rows["employmentStatus"], rows["jobInfo"]
    # rows are sorted by (employee, date): the last one per employee is its current state
    last_st = st.drop_duplicates("employee_id", keep="last").set_index("employee_id")
    hires = st[~st.terminated].groupby("employee_id").date
    job = jobs.drop_duplicates("employee_id", keep="last").set_index("employee_id")
    changed = (
        pd.concat([st[["employee_id", "date"]], jobs[["employee_id", "date"]]])
        .groupby("employee_id")
        .date.max()
    )
    ids = last_st.index.to_numpy()
    people = sim.world.people.set_index("employee_id").loc[ids]
    job = job.reindex(ids)
    n_people = int(sim.world.people.employee_id.max()) + 1

    def dirty(kind: str) -> np.ndarray:  # masks indexed by employee id: stable per person
        return dirty_mask(sim, f"bamboohr.employees.{kind}", n_people)[ids]

    email = people.work_email.to_numpy()
    email = np.where(dirty("email_noise"), "  " + np.char.upper(email.astype(str)) + " ", email)
    active = ~last_st.terminated.to_numpy()
    empty = np.where(dirty("empty_termination_date"), "", EMPTY_DATE)
    changed_at = _changed_at(changed.reindex(ids))
    last_changed = np.where(
        dirty("offset_last_changed"), iso_offset(changed_at, -5), _iso(changed_at)
    )
    first = people.first_name.to_numpy()
    last = people.last_name.to_numpy()
    return pd.DataFrame(
        {
            "id": ids.astype(str),
            "employeeNumber": ids.astype(str),
            "firstName": first,
            "lastName": last,
            "displayName": first + " " + last,
            "workEmail": email,
            "hireDate": _day(hires.max().reindex(ids)).to_numpy(),
            "originalHireDate": _day(hires.min().reindex(ids)).to_numpy(),
            "terminationDate": np.where(active, empty, _day(last_st.date).to_numpy()),
            "status": np.where(active, "Active", "Inactive"),
            "department": job.department.to_numpy(),
            "division": job.division.to_numpy(),
            "jobTitle": job.jobTitle.to_numpy(),
            "supervisor": job.reportsTo.to_numpy(),
            "location": job.location.to_numpy(),
            "dateOfBirth": _day(people.date_of_birth).to_numpy(),
            "payRate": [f"{r:.2f} USD" for r in people.pay_rate],
            "lastChanged": last_changed,
            # not on the wire
            "changed_at": changed_at.array,
            "created_at": _changed_at(hires.min().reindex(ids)).array,
            "active": active,
        }
    )


def _table_json(rows: pd.DataFrame, table: str) -> list[dict[str, str]]:
    out = rows.assign(
        employeeId=rows.employee_id.astype(str), date=_day(rows.date), id=rows.id.astype(str)
    )
    return out[TABLE_COLUMNS[table]].to_dict("records")


def ground_truth(sim: Simulator) -> dict[str, int]:
    rows = visible_rows(sim)
    return {
        "raw_bamboohr.employees": len(employees_view(sim)),
        "raw_bamboohr.job_info": len(rows["jobInfo"]),
        "raw_bamboohr.employment_status": len(rows["employmentStatus"]),
    }


# ---- routes -----------------------------------------------------------------
def routes(sim: Simulator) -> list[Route]:
    def guarded(handler, json_via_format: bool = False):
        async def endpoint(request: Request) -> Response:
            if request.path_params.get("company_domain") != BAMBOOHR_COMPANY:
                return _error(404, "Unknown company domain")
            if not _authorized(request):
                return _error(401, "Invalid API key")
            wants_json = "application/json" in request.headers.get("accept", "")
            if json_via_format:
                wants_json = request.query_params.get("format", "").upper() == "JSON"
            if not wants_json:
                return _error(406, "This stand-in answers JSON only (Accept: application/json)")
            return await handler(request)

        return endpoint

    async def directory(request: Request) -> Response:
        emp = employees_view(sim)
        emp = emp[emp.active]
        fields = [{"id": f, "type": FIELDS[f][0], "name": FIELDS[f][1]} for f in DIRECTORY_FIELDS]
        return JSONResponse(
            {"fields": fields, "employees": emp[["id", *DIRECTORY_FIELDS]].to_dict("records")}
        )

    async def changed(request: Request) -> Response:
        q = request.query_params
        since = _since(q.get("since"))
        if since is None:
            return _error(400, "Invalid or missing 'since' (ISO-8601 with offset)")
        kind = q.get("type", "all").lower()
        if kind not in ("all", "inserted", "updated", "deleted"):
            return _error(400, "Invalid 'type'")
        emp = employees_view(sim)
        emp = emp[emp.changed_at > since]
        action = np.where(emp.created_at > since, "Inserted", "Updated")
        keep = (kind == "all") | (np.char.lower(action.astype(str)) == kind)
        emp, action = emp[keep], action[keep]
        latest = emp.changed_at.max() if len(emp) else since
        return JSONResponse(
            {
                "latest": latest.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "employees": {
                    i: {"id": i, "action": a, "lastChanged": lc}
                    for i, a, lc in zip(emp.id, action, emp.lastChanged, strict=True)
                },
            }
        )

    async def report(request: Request) -> Response:
        # a body not declared exactly `application/json` is parsed as XML by BambooHR
        if request.headers.get("content-type") != "application/json":
            return _error(400, "Malformed XML")
        try:
            body = json.loads(await request.body())
            fields = list(dict.fromkeys(f for f in body.get("fields", []) if f in FIELDS))
            # the public OpenAPI declares `employeeIds` only inside `filters`; any other key
            # (a top-level `employeeIds` too) is ignored, as unknown field ids are
            filters = body.get("filters") or {}
            ids = filters.get("employeeIds")
            lc = filters.get("lastChanged") or {}
            lc_value = lc.get("value")
        except (ValueError, AttributeError, TypeError):
            return _error(400, "Malformed JSON")
        emp = employees_view(sim)
        if lc_value is not None:
            since = _since(lc_value)
            if since is None:
                return _error(400, "Invalid lastChanged filter value")
            emp = emp[emp.changed_at >= since]  # "changed at or after" (the OpenAPI)
        if ids is not None:
            emp = emp[emp.id.isin([str(i) for i in ids])]
        return JSONResponse(
            {
                "title": str(body.get("title", "Report")),
                "fields": [{"id": f, "type": FIELDS[f][0], "name": FIELDS[f][1]} for f in fields],
                "employees": emp[["id", *fields]].to_dict("records"),
            }
        )

    def _table(request: Request) -> str | None:
        table = request.path_params["table"]
        return table if table in TABLE_COLUMNS else None

    async def changed_table(request: Request) -> Response:
        table = _table(request)
        if table is None:
            return _error(404, "Unknown table")
        since = _since(request.query_params.get("since"))
        if since is None:
            return _error(400, "Invalid or missing 'since' (ISO-8601 with offset)")
        emp = employees_view(sim)
        emp = emp[emp.changed_at > since]
        rows = visible_rows(sim)[table]
        rows = rows[rows.employee_id.astype(str).isin(emp.id)]
        by_emp: dict[str, list] = {}
        for row in _table_json(rows, table):
            by_emp.setdefault(row["employeeId"], []).append(row)
        employees = {
            i: {"lastChanged": lc, "rows": by_emp.get(i, [])}
            for i, lc in zip(emp.id, emp.lastChanged, strict=True)
        }
        # an empty window comes back as a JSON array, as observed on the real API
        return JSONResponse({"table": table, "employees": employees or []})

    async def all_table(request: Request) -> Response:
        table = _table(request)
        if table is None:
            return _error(404, "Unknown table")
        return JSONResponse(_table_json(visible_rows(sim)[table], table))

    return [
        Route("/employees/directory", guarded(directory)),
        Route("/employees/changed", guarded(changed)),
        Route("/employees/changed/tables/{table}", guarded(changed_table)),
        Route("/employees/all/tables/{table}", guarded(all_table)),
        Route("/reports/custom", guarded(report, json_via_format=True), methods=["POST"]),
    ]
