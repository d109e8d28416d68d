"""Qualtrics (API v3): surveys, their questions, and responses through the async export.

Responses are stored with `values`, `labels`, `displayedFields` and `displayedValues` as
`json` columns rather than flattened by dlt. Flattening would give one column per key
(`values__qid1`) whose meaning changes with the survey (QID1 is CSAT in one survey, NPS in
another), a column whose type is set by whichever row comes first, and `__v_text` variant
columns that appear only once dirt like "N/A" arrives, plus a child table per list. As json,
raw keeps exactly what was sent, the table's shape never drifts, and staging reads each
answer by QID with the survey's definition at hand. `survey_id` and `recordedDate` are
copied to top-level columns for joins, freshness checks and the incremental cursor.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import dlt
from dlt.sources.helpers.requests import Client
from dlt.sources.rest_api import RESTAPIConfig, rest_api_resources

JSON_COLUMNS = ("values", "labels", "displayedFields", "displayedValues")


def _export(
    session: Any, url: str, start: str | None, poll_seconds: float, timeout: float
) -> list[dict]:
    """Start a JSON export at `url`, poll it to completion, download and unzip it."""
    body: dict[str, Any] = {"format": "json", "compress": True}
    if start:
        body["startDate"] = start
    progress_id = session.post(url, json=body).json()["result"]["progressId"]
    deadline, wait = time.monotonic() + timeout, poll_seconds
    while True:
        result = session.get(f"{url}/{progress_id}").json()["result"]
        if result["status"] == "complete":
            break
        if result["status"] == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"qualtrics export {url}/{progress_id}: {result}")
        time.sleep(wait)
        wait = min(wait * 2, 10.0)
    payload = session.get(f"{url}/{result['fileId']}/file").content
    with zipfile.ZipFile(io.BytesIO(payload)) as z:
        (member,) = [n for n in z.namelist() if n.endswith(".json")]
        return json.loads(z.read(member))["responses"]


def _since(recorded_date: str) -> str:
    """A recordedDate ("...T10:00:00.123Z") as a second-precision startDate (inclusive)."""
    return recorded_date[:19] + "Z"


def _advance(cursor: dict, rows: list[dict]) -> dict:
    """The cursor after `rows`: the last second seen and the ids recorded within it."""
    last = max(_since(r["recordedDate"]) for r in rows)
    ids = [r["responseId"] for r in rows if _since(r["recordedDate"]) == last]
    if cursor.get("last") == last:
        ids += cursor["ids"]
    return {"last": last, "ids": ids}


@dlt.source(name="qualtrics")
def qualtrics_source(
    base_url: str = dlt.config.value,
    api_token: str = dlt.secrets.value,
    poll_seconds: float = 0.5,
    export_timeout_seconds: float = 1800.0,
):
    """`base_url` is `https://{datacenter}.qualtrics.com/API/v3` (or the simulator's).

    `poll_seconds` is the first wait between export progress polls; it doubles up to 10 s.
    """
    base_url = base_url.rstrip("/")
    config: RESTAPIConfig = {
        "client": {
            "base_url": base_url + "/",
            "auth": {
                "type": "api_key",
                "name": "X-API-TOKEN",
                "api_key": api_token,
                "location": "header",
            },
        },
        "resource_defaults": {"write_disposition": "merge"},
        "resources": [
            {
                "name": "surveys",
                "primary_key": "id",
                "endpoint": {
                    "path": "surveys",
                    "data_selector": "result.elements",
                    "paginator": {"type": "json_link", "next_url_path": "result.nextPage"},
                },
            },
            {
                "name": "survey_questions",
                "primary_key": ["survey_id", "QuestionID"],
                "max_table_nesting": 0,  # Choices (a dict, an array for NPS) etc. stay json
                "endpoint": {
                    "path": "survey-definitions/{resources.surveys.id}/questions",
                    "data_selector": "result.elements",
                    "paginator": "single_page",
                },
                "include_from_parent": ["id"],
                "processing_steps": [
                    {"map": lambda q: {"survey_id": q.pop("_surveys_id"), **q}},  # type: ignore[typeddict-item]
                ],
            },
        ],
    }
    surveys, questions = rest_api_resources(config)

    @dlt.transformer(
        name="survey_responses",
        primary_key="responseId",
        write_disposition="merge",
        columns={
            "survey_id": {"data_type": "text", "nullable": False},
            "recordedDate": {"data_type": "timestamp"},
            **{name: {"data_type": "json"} for name in JSON_COLUMNS},
        },
    )
    def survey_responses(page: list[dict]) -> Iterator[list[dict]]:
        """Per survey, export the responses recorded since that survey's cursor.

        The cursor is kept per survey in resource state: one cursor across surveys would
        skip a response recorded in one survey while another survey's export was running.
        startDate is inclusive (and sent to the second), so the responses recorded in the
        cursor's second come back; their ids are kept with the cursor and skipped.
        """
        session = Client().session  # retries 429/5xx per .dlt/config.toml
        session.headers["X-API-TOKEN"] = api_token
        cursors: dict[str, dict] = dlt.current.resource_state().setdefault("cursors", {})
        for survey in page:
            sid, cursor = survey["id"], cursors.get(survey["id"], {})
            exported = _export(
                session,
                f"{base_url}/surveys/{sid}/export-responses",
                cursor.get("last"),
                poll_seconds,
                export_timeout_seconds,
            )
            rows = [
                {"survey_id": sid, "recordedDate": r["values"]["recordedDate"], **r}
                for r in exported
                if r["responseId"] not in cursor.get("ids", ())
            ]
            if rows:
                cursors[sid] = _advance(cursor, rows)
                yield rows

    return surveys, questions, surveys | survey_responses
