"""BambooHR (API v1, legacy gateway): employees, and their jobInfo and employmentStatus rows.

Typed resources instead of rest_api's declarative config: BambooHR answers with maps keyed
by employee id (`{"employees": {"123": {...}}}`, sometimes `[]` when empty), the employees
resource takes two calls (changed ids, then a POST custom report for them), and nothing is
paginated. dlt's `requests` helper retries 429/5xx per .dlt/config.toml and raises on the rest.

Raw keeps what BambooHR sent: string ids, `0000-00-00` dates, list labels, timestamps as
written (some carry a non-UTC offset), so `lastChanged` is pinned to text. Only the cursor
compares instants: `_latest` normalises to UTC so offsets can't reorder it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers import requests

INITIAL_SINCE = "2011-06-05T00:00:00Z"  # BambooHR tracks changes from this date on
EMPLOYEE_FIELDS = [
    "employeeNumber",
    "firstName",
    "lastName",
    "displayName",
    "workEmail",
    "hireDate",
    "originalHireDate",
    "terminationDate",
    "status",
    "department",
    "division",
    "jobTitle",
    "supervisor",
    "location",
    "dateOfBirth",
    "payRate",
    "lastChanged",
]
TEXT_CURSOR = {"lastChanged": {"data_type": "text"}}


def _latest(values: Iterable[str]) -> str:
    """The latest of ISO-8601 timestamps, as UTC `...+00:00` (comparable as strings)."""
    instants = (datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(UTC) for v in values)
    return max(instants).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _cursor() -> Any:
    """A fresh cursor per resource: on lastChanged, compared as instants."""
    return dlt.sources.incremental(
        "lastChanged", initial_value=INITIAL_SINCE, last_value_func=_latest
    )


def _by_employee(payload: dict) -> dict[str, dict]:
    """The employee-keyed map of a `changed` answer; an empty one may arrive as `[]` or be absent."""
    employees = payload.get("employees") or {}
    return employees if isinstance(employees, dict) else {}


@dlt.source(name="bamboohr")
def bamboohr_source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
) -> Iterator[DltResource]:
    """`base_url` is `https://api.bamboohr.com/api/gateway.php/{companyDomain}/v1` (or the simulator's)."""
    base = base_url.rstrip("/")
    auth = (api_key, "x")  # Basic: the key is the username, the password is ignored
    headers = {"Accept": "application/json"}

    def get(path: str, **params: str) -> Any:
        return requests.get(f"{base}/{path}", params=params, auth=auth, headers=headers).json()

    @dlt.resource(primary_key="id", write_disposition="merge", columns=TEXT_CURSOR)
    def employees(last_changed=_cursor()) -> Iterator[list[dict]]:  # noqa: B008 (dlt idiom)
        """Ids changed since the cursor, then their fields from a custom report (incl. terminated)."""
        since = last_changed.last_value
        ids = list(_by_employee(get("employees/changed", since=since)))
        if not ids:
            return
        # the public OpenAPI declares `employeeIds` only inside `filters`; at the top level
        # BambooHR ignores it (an unknown key) and the report is filtered by lastChanged alone
        report = requests.post(
            f"{base}/reports/custom",
            params={"format": "json", "onlyCurrent": "false"},
            json={
                "title": "xm employees",
                "fields": EMPLOYEE_FIELDS,
                "filters": {
                    "lastChanged": {"includeNull": "no", "value": since},
                    "employeeIds": [int(i) for i in ids],
                },
            },
            auth=auth,
            headers=headers,
        )
        yield report.json()["employees"]

    def table(name: str, table_name: str) -> DltResource:
        @dlt.resource(name=name, primary_key="id", write_disposition="merge", columns=TEXT_CURSOR)
        def rows(last_changed=_cursor()) -> Iterator[dict]:  # noqa: B008 (dlt idiom)
            """All rows of every employee changed since the cursor, tagged with its lastChanged."""
            payload = get(f"employees/changed/tables/{table_name}", since=last_changed.last_value)
            for employee in _by_employee(payload).values():
                for row in employee["rows"]:
                    yield {**row, "lastChanged": employee["lastChanged"]}

        return rows

    yield employees
    yield table("job_info", "jobInfo")
    yield table("employment_status", "employmentStatus")
