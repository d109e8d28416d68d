"""Qualtrics API v3 stand-in (mounted at /qualtrics/API/v3).

Contract (the vendor's public API reference, summarised in simulator/README.md): `X-API-TOKEN` auth; every JSON reply in the
`{"result", "meta": {"httpStatus", "requestId"}}` envelope; survey list paged by `offset`
with an absolute `nextPage`; survey definitions (QSF-like) and their questions; responses
only through the async export (start -> poll -> download a zip holding `<Survey Name>.json`).

Three surveys: post-ticket CSAT (QID1 CSAT
1-5, QID2 CES 1-7, embedded `ticket_id`), relationship NPS (QID1 NPS, panel field
`recipientEmail`), and an anonymised employee pulse (QID1 eNPS, QID2-QID6 agreement items
1-5, embedded `department`/`team`/`tenure_band` only: no IP address, no identity).

Dirty data (each at `dirty_rate`, masks over the whole response table so the dirt of a
response never changes as the clock moves), stream `qualtrics.responses.<kind>`:
  out_of_range   one answer outside its scale: CSAT 6/0, CES 8/0, NPS/eNPS 11, item 9
  non_numeric    one answer sent as the string "N/A"
  unanswered     one question skipped: its QID is absent from `values`/`labels`
  missing_ticket CSAT response without its `ticket_id` embedded field
  email_noise    NPS `recipientEmail` upper-cased and padded with whitespace
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote_plus

import numpy as np
import pandas as pd
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.credentials import QUALTRICS_TOKEN
from simulator.server import Simulator
from simulator.wire import JSONResponse, absolute, dirty_mask, iso_ms, iso_z

PAGE_SIZE = 100
OWNER_ID = "UR_xmDemoOwner00001"
DIRT = ("out_of_range", "non_numeric", "unanswered", "missing_ticket", "email_noise")
NPS_GROUPS = {1: "Detractor", 2: "Passive", 3: "Promoter"}


@dataclass(frozen=True)
class Question:
    text: str
    selector: str  # MC selector: NPS (0-10, Choices as an array), SAVR / SAHR (1..n)
    column: str  # the answer's column in World.responses
    choices: tuple[str, ...] = tuple(str(i) for i in range(11))
    bad: tuple[Any, ...] = (11,)  # out-of-range values the dirt draws from

    @property
    def recodes(self) -> list[int]:
        return list(range(11)) if self.selector == "NPS" else list(range(1, len(self.choices) + 1))

    def label(self, value: int) -> str:
        return self.choices[self.recodes.index(value)]


AGREE = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")
ITEMS = (
    "I feel proud to work here.",
    "I have the tools and resources I need to do my job well.",
    "My manager supports my growth.",
    "I see myself still working here in two years.",
    "My workload is manageable.",
)
QUESTIONS: dict[str, list[Question]] = {
    "csat": [
        Question(
            "How satisfied were you with the support you received?",
            "SAVR",
            "q1",
            (
                "Very dissatisfied",
                "Dissatisfied",
                "Neither satisfied nor dissatisfied",
                "Satisfied",
                "Very satisfied",
            ),
            (6, 0),
        ),
        Question(
            "How easy was it to get your issue resolved?",
            "SAVR",
            "q2",
            (
                "Very difficult",
                "Difficult",
                "Somewhat difficult",
                "Neither easy nor difficult",
                "Somewhat easy",
                "Easy",
                "Very easy",
            ),
            (8, 0),
        ),
    ],
    "nps": [
        Question(
            "How likely is it that you would recommend us to a friend or colleague?", "NPS", "q1"
        )
    ],
    "enps": [
        Question(
            "How likely is it that you would recommend working here to a friend?", "NPS", "q1"
        ),
        *(Question(text, "SAHR", f"q{k + 2}", AGREE, (9,)) for k, text in enumerate(ITEMS)),
    ],
}
EMBEDDED = {
    "csat": ["ticket_id"],
    "nps": ["recipientEmail", "recipientFirstName", "recipientLastName"],
    "enps": ["department", "team", "tenure_band"],
}
PANEL_FIELDS = {"recipientEmail", "recipientFirstName", "recipientLastName"}


# ---- envelopes ---------------------------------------------------------------------
def _meta(status: str) -> dict:
    return {"httpStatus": status, "requestId": str(uuid.uuid4())}


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"result": result, "meta": _meta("200 - OK")})


def _error(code: int, status: str, error_code: str, message: str) -> JSONResponse:
    meta = _meta(f"{code} - {status}") | {
        "error": {"errorCode": error_code, "errorMessage": message}
    }
    return JSONResponse({"meta": meta}, status_code=code)


def _not_found(what: str) -> JSONResponse:
    return _error(404, "Not Found", "RP_1.0", f"Not found: {what}")


def _bad(message: str) -> JSONResponse:
    return _error(400, "Bad Request", "QVAL_1", message)


# ---- survey metadata ----------------------------------------------------------------
def _surveys(sim: Simulator) -> pd.DataFrame:
    s = sim.world.surveys.assign(survey_idx=sim.world.surveys.index)
    return s[s.created_at <= sim.clock].reset_index(drop=True)


def _survey(sim: Simulator, survey_id: str) -> pd.Series | None:
    s = _surveys(sim)
    hit = s[s.survey_id == survey_id]
    return None if hit.empty else hit.iloc[0]


def _modified(survey: pd.Series) -> pd.Timestamp:
    return survey.created_at + pd.Timedelta(days=7, hours=3)


def _question_json(q: Question, n: int) -> dict:
    qid = f"QID{n}"
    nps = q.selector == "NPS"
    if nps:  # QSF quirk: NPS Choices are an array indexed by recode
        choices: Any = [{"Display": c} for c in q.choices]
        order = [str(r) for r in q.recodes]
    else:
        choices = {str(r): {"Display": c} for r, c in zip(q.recodes, q.choices, strict=True)}
        order = [str(r) for r in q.recodes]
    out = {
        "QuestionID": qid,
        "QuestionText": q.text,
        "QuestionDescription": q.text,
        "DataExportTag": f"Q{n}",
        "QuestionType": "MC",
        "Selector": q.selector,
        **({} if nps else {"SubSelector": "TX"}),
        "Configuration": {"QuestionDescriptionOption": "UseText"},
        "Choices": choices,
        "ChoiceOrder": order,
        "Validation": {
            "Settings": {"ForceResponse": "OFF", "ForceResponseType": "ON", "Type": "None"}
        },
        "Language": [],
        "NextChoiceId": len(q.choices) + 1,
        "NextAnswerId": 1,
        "DataVisibility": {"Private": False, "Hidden": False},
    }
    if nps:
        out["ColumnLabels"] = [
            {"Display": "Not at all likely", "IsLabelDefault": True},
            {"Display": "Extremely likely", "IsLabelDefault": True},
        ]
    return out


def _questions(kind: str) -> list[dict]:
    return [_question_json(q, n) for n, q in enumerate(QUESTIONS[kind], start=1)]


def _definition(survey: pd.Series) -> dict:
    qs = _questions(survey.kind)
    block = "BL_" + survey.survey_id[3:]
    embedded = [
        {
            "Description": name,
            "Type": "Recipient" if name in PANEL_FIELDS else "Custom",
            "Field": name,
            "VariableType": "String",
            "DataVisibility": [],
            "AnalyzeText": False,
        }
        for name in EMBEDDED[survey.kind]
    ]
    fmt = "%Y-%m-%d %H:%M:%S"
    return {
        "SurveyID": survey.survey_id,
        "SurveyName": survey["name"],
        "SurveyDescription": None,
        "SurveyOwnerID": OWNER_ID,
        "SurveyLanguage": "EN",
        "SurveyStatus": "Active",
        "SurveyCreationDate": survey.created_at.strftime(fmt),
        "LastModified": _modified(survey).strftime(fmt),
        "ProjectCategory": "CORE",
        "Questions": {q["QuestionID"]: q for q in qs},
        "Blocks": {
            block: {
                "Type": "Default",
                "Description": "Default Question Block",
                "ID": block,
                "BlockElements": [{"Type": "Question", "QuestionID": q["QuestionID"]} for q in qs],
            }
        },
        "SurveyFlow": {
            "Type": "Root",
            "FlowID": "FL_1",
            "Flow": [
                {"Type": "EmbeddedData", "FlowID": "FL_2", "EmbeddedData": embedded},
                {"Type": "Block", "ID": block, "FlowID": "FL_3"},
            ],
            "Properties": {"Count": 3},
        },
        "SurveyOptions": {"Anonymize": "Yes" if survey.kind == "enps" else "No"},
    }


# ---- responses ---------------------------------------------------------------------
@cache
def _recorded(sim: Simulator) -> pd.Series:
    return pd.to_datetime(sim.world.responses.recorded_at, utc=True)


@cache
def _responses(sim: Simulator) -> list[dict]:
    """Every response's export record, built once: responses never change after recording."""
    w = sim.world
    r = w.responses
    n = len(r)
    rec = _recorded(sim)
    start = iso_z(rec - pd.to_timedelta(r.duration, unit="s")).to_numpy()
    end, recorded = iso_z(rec).to_numpy(), iso_ms(rec).to_numpy()
    dirt = {k: dirty_mask(sim, f"qualtrics.responses.{k}", n) for k in DIRT}
    kinds = w.surveys.kind.to_numpy()[r.survey_idx.to_numpy()]
    contacts, teams = w.contacts, w.teams
    out = []
    for i, row in enumerate(r.itertuples(index=False)):
        kind, qs = kinds[i], QUESTIONS[kinds[i]]
        values: dict[str, Any] = {
            "startDate": start[i],
            "endDate": end[i],
            "status": 0,
            **({} if kind == "enps" else {"ipAddress": f"198.51.100.{i % 250 + 1}"}),
            "progress": 100,
            "duration": int(row.duration),
            "finished": 1,
            "recordedDate": recorded[i],
            "_recordId": row.response_id,
            "distributionChannel": "anonymous" if kind == "enps" else "email",
            "userLanguage": "EN",
        }
        labels: dict[str, Any] = {"status": "IP Address", "finished": "True"}
        target = i % len(qs)  # the question any answer-level dirt lands on
        for n_q, q in enumerate(qs, start=1):
            qid, value = f"QID{n_q}", int(getattr(row, q.column))
            if n_q - 1 == target:
                if dirt["unanswered"][i]:
                    continue
                if dirt["non_numeric"][i]:
                    value = "N/A"
                elif dirt["out_of_range"][i]:
                    value = q.bad[(i // len(qs)) % len(q.bad)]
            values[qid] = value
            if value in q.recodes:
                labels[qid] = q.label(value)
                if q.selector == "NPS":
                    group = 1 if value <= 6 else 2 if value <= 8 else 3
                    values[f"{qid}_NPS_GROUP"], labels[f"{qid}_NPS_GROUP"] = (
                        group,
                        NPS_GROUPS[group],
                    )
        if kind == "csat" and not dirt["missing_ticket"][i]:
            values["ticket_id"] = str(int(row.ticket_id))
        elif kind == "nps":
            c = contacts.iloc[int(row.contact_idx)]
            email = f"  {c.email.upper()} " if dirt["email_noise"][i] else c.email
            values |= {
                "recipientEmail": email,
                "recipientFirstName": c.first_name,
                "recipientLastName": c.last_name,
            }
        elif kind == "enps":
            t = teams.iloc[int(row.team_idx)]
            values |= {"department": t.department, "team": t.team, "tenure_band": row.tenure_band}
        qids = [f"QID{k}" for k in range(1, len(qs) + 1)]
        out.append(
            {
                "responseId": row.response_id,
                "values": values,
                "labels": labels,
                "displayedFields": qids,
                "displayedValues": {qid: q.recodes for qid, q in zip(qids, qs, strict=True)},
            }
        )
    return out


def _visible(sim: Simulator, survey_idx: int) -> np.ndarray:
    """Mask of responses to one survey recorded by the clock."""
    r = sim.world.responses
    return ((r.survey_idx == survey_idx) & (_recorded(sim) <= sim.clock)).to_numpy()


def ground_truth(sim: Simulator) -> dict[str, int]:
    surveys = _surveys(sim)
    return {
        "raw_qualtrics.surveys": len(surveys),
        "raw_qualtrics.survey_questions": sum(len(QUESTIONS[k]) for k in surveys.kind),
        "raw_qualtrics.survey_responses": int(
            sum(_visible(sim, i).sum() for i in surveys.survey_idx)
        ),
    }


# ---- export jobs -------------------------------------------------------------------
def _parse_date(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


# the Start Response Export request fields Qualtrics documents; it validates request bodies and
# refuses a field it does not know rather than ignoring it
EXPORT_FIELDS = {
    "format", "startDate", "endDate", "limit", "compress", "useLabels", "questionIds",
    "embeddedDataIds", "surveyMetadataIds", "seenUnansweredRecode",
    "multiselectSeenUnansweredRecode", "includeDisplayOrder", "formatDecimalAsComma", "timeZone",
    "newlineReplacement", "breakoutSets", "filterId", "exportResponsesInProgress",
    "sortByLastModifiedDate", "allowContinuation", "continuationToken",
}  # fmt: skip


def _start_export(sim: Simulator, survey: pd.Series, body: dict) -> JSONResponse:
    unknown = sorted(set(body) - EXPORT_FIELDS)
    if unknown:
        return _bad(f"Invalid request body: unrecognized field '{unknown[0]}'")
    if body.get("format") != "json":
        return _bad("format is required; the simulator serves format json only")
    try:
        lo = _parse_date(body["startDate"]) if body.get("startDate") else None
        hi = _parse_date(body["endDate"]) if body.get("endDate") else None
    except (ValueError, TypeError):
        return _bad("startDate/endDate must be ISO-8601 date-times")
    mask = _visible(sim, int(survey.survey_idx))
    rec = _recorded(sim)
    if lo is not None:
        mask = mask & (rec >= lo).to_numpy()  # startDate is inclusive
    if hi is not None:
        mask = mask & (rec < hi).to_numpy()
    progress_id = "ES_" + uuid.uuid4().hex[:15]
    sim.exports[progress_id] = {
        "survey_id": survey.survey_id,
        "name": survey["name"],
        "rows": np.flatnonzero(mask),  # snapshot at export start
        "compress": bool(body.get("compress", True)),
        "polls": 0,
        "file_id": None,
    }
    return _ok({"progressId": progress_id, "percentComplete": 0.0, "status": "inProgress"})


def _poll(job: dict) -> JSONResponse:
    """In progress on the first poll, complete from the second: clients must really poll."""
    job["polls"] += 1
    if job["polls"] < 2:
        return _ok({"percentComplete": 0.0, "status": "inProgress"})
    job["file_id"] = job["file_id"] or f"{uuid.uuid4()}-def"
    return _ok({"fileId": job["file_id"], "percentComplete": 100.0, "status": "complete"})


def _file(sim: Simulator, job: dict) -> Response:
    docs = _responses(sim)
    body = json.dumps({"responses": [docs[i] for i in job["rows"]]}).encode()
    if not job["compress"]:
        return Response(body, media_type="application/json")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{job['name']}.json", body)
    disposition = f"attachment; filename={quote_plus(job['name'])}.zip"
    return Response(
        buf.getvalue(), media_type="application/zip", headers={"Content-Disposition": disposition}
    )


# ---- routes ------------------------------------------------------------------------
def routes(sim: Simulator) -> list[Route]:
    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            if request.headers.get("x-api-token") != QUALTRICS_TOKEN:
                return _error(401, "Unauthorized", "AUTH_1.0", "Unrecognized X-API-TOKEN.")
            if "surveyId" in request.path_params:
                survey = _survey(sim, request.path_params["surveyId"])
                if survey is None:
                    return _not_found(f"survey {request.path_params['surveyId']}")
                return await handler(request, survey)
            return await handler(request)

        return endpoint

    async def list_surveys(request: Request) -> Response:
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            return _bad("offset must be an integer")
        s = _surveys(sim).iloc[offset : offset + PAGE_SIZE]
        elements = [
            {
                "id": r.survey_id,
                "name": r["name"],
                "ownerId": OWNER_ID,
                "lastModified": _modified(r).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "creationDate": r.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "isActive": True,
            }
            for _, r in s.iterrows()
        ]
        more = offset + PAGE_SIZE < len(_surveys(sim))
        next_page = absolute(request, offset=offset + PAGE_SIZE) if more else None
        return _ok({"elements": elements, "nextPage": next_page})

    async def definition(request: Request, survey: pd.Series) -> Response:
        return _ok(_definition(survey))

    async def questions(request: Request, survey: pd.Series) -> Response:
        return _ok({"elements": _questions(survey.kind)})

    async def start_export(request: Request, survey: pd.Series) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _bad("the body must be JSON")
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object")
        return _start_export(sim, survey, body)

    async def export_progress(request: Request, survey: pd.Series) -> Response:
        job = sim.exports.get(request.path_params["progressId"])
        if job is None or job["survey_id"] != survey.survey_id:
            return _not_found(f"export {request.path_params['progressId']}")
        return _poll(job)

    async def export_file(request: Request, survey: pd.Series) -> Response:
        file_id = request.path_params["fileId"]
        job = next((j for j in sim.exports.values() if j.get("file_id") == file_id), None)
        if job is None or job["survey_id"] != survey.survey_id:
            return _not_found(f"file {file_id}")
        return _file(sim, job)

    return [
        Route("/surveys", guarded(list_surveys)),
        Route("/survey-definitions/{surveyId}", guarded(definition)),
        Route("/survey-definitions/{surveyId}/questions", guarded(questions)),
        Route("/surveys/{surveyId}/export-responses", guarded(start_export), methods=["POST"]),
        Route("/surveys/{surveyId}/export-responses/{progressId}", guarded(export_progress)),
        Route("/surveys/{surveyId}/export-responses/{fileId}/file", guarded(export_file)),
    ]
