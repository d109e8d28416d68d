"""Qualtrics API v3: the simulator honours the wire contract, and the loader lands it exactly."""

from __future__ import annotations

import dataclasses
import io
import json
import time
import zipfile

import duckdb
import pandas as pd
import pytest
import requests

from simulator import qualtrics as qsim
from simulator.credentials import QUALTRICS_TOKEN
from simulator.server import Simulator, serve_in_thread
from tests.support.world import world

AUTH = {"X-API-TOKEN": QUALTRICS_TOKEN}


def _api(url: str) -> str:
    return f"{url}/qualtrics/API/v3"


def _get(url: str, path: str) -> dict:
    r = requests.get(_api(url) + path, headers=AUTH, timeout=30)
    r.raise_for_status()
    return r.json()


def _export(url: str, survey_id: str, **body) -> tuple[requests.Response, list[dict]]:
    """Start -> poll until complete -> download: the file response and its parsed rows."""
    base = f"{_api(url)}/surveys/{survey_id}/export-responses"
    r = requests.post(base, headers=AUTH, json={"format": "json", **body}, timeout=30)
    r.raise_for_status()
    started = r.json()["result"]
    assert started["status"] == "inProgress" and started["progressId"].startswith("ES_")
    polls = []
    while not polls or polls[-1]["status"] != "complete":
        polls.append(
            _get(url, f"/surveys/{survey_id}/export-responses/{started['progressId']}")["result"]
        )
        assert len(polls) < 10
    assert polls[0] == {"percentComplete": 0.0, "status": "inProgress"}
    assert polls[-1]["percentComplete"] == 100.0 and polls[-1]["fileId"]
    file = requests.get(f"{base}/{polls[-1]['fileId']}/file", headers=AUTH, timeout=30)
    file.raise_for_status()
    if body.get("compress", True):
        with zipfile.ZipFile(io.BytesIO(file.content)) as z:
            (member,) = z.namelist()
            return file, json.loads(z.read(member))["responses"]
    return file, file.json()["responses"]


def _recorded(sim: Simulator, survey_idx: int, lo=None, hi=None) -> set[str]:
    """Ids of one survey's responses recorded by the clock within [lo, hi)."""
    r = sim.world.responses
    rec = pd.to_datetime(r.recorded_at, utc=True)
    m = (r.survey_idx == survey_idx) & (rec <= sim.clock)
    if lo is not None:
        m &= rec >= pd.Timestamp(lo)
    if hi is not None:
        m &= rec < pd.Timestamp(hi)
    return set(r.response_id[m])


def test_envelope_and_survey_listing_to_the_end(served, monkeypatch):
    sim, url = served
    monkeypatch.setattr(qsim, "PAGE_SIZE", 2)  # three surveys: make the listing page
    page = _get(url, "/surveys")
    assert set(page) == {"result", "meta"}
    assert page["meta"]["httpStatus"] == "200 - OK" and page["meta"]["requestId"]
    ids, pages = [], 0
    while True:
        pages += 1
        ids += [s["id"] for s in page["result"]["elements"]]
        assert {"id", "name", "ownerId", "lastModified", "creationDate", "isActive"} <= set(
            page["result"]["elements"][0]
        )
        nxt = page["result"]["nextPage"]
        if nxt is None:
            break
        assert nxt.startswith(
            f"{url}/qualtrics/API/v3/surveys?offset="
        )  # absolute, followed verbatim
        page = requests.get(nxt, headers=AUTH, timeout=30).json()
    assert pages == 2
    assert ids == list(sim.world.surveys.survey_id)


@pytest.mark.parametrize("headers", [{}, {"X-API-TOKEN": "wrong"}])
def test_401_without_or_with_a_wrong_token(served, headers):
    _, url = served
    r = requests.get(f"{_api(url)}/surveys", headers=headers, timeout=30)
    assert r.status_code == 401
    meta = r.json()["meta"]
    assert meta["httpStatus"] == "401 - Unauthorized" and meta["requestId"]
    assert meta["error"]["errorCode"] == "AUTH_1.0" and meta["error"]["errorMessage"]
    assert "result" not in r.json()


def test_unknown_survey_is_404(served):
    sim, url = served
    for r in (
        requests.get(
            f"{_api(url)}/survey-definitions/SV_doesNotExist00/questions", headers=AUTH, timeout=30
        ),
        requests.post(
            f"{_api(url)}/surveys/SV_doesNotExist00/export-responses",
            headers=AUTH,
            json={"format": "json"},
            timeout=30,
        ),
        requests.get(
            f"{_api(url)}/surveys/{sim.world.surveys.survey_id[0]}/export-responses/ES_nope",
            headers=AUTH,
            timeout=30,
        ),
    ):
        assert r.status_code == 404
        assert r.json()["meta"]["httpStatus"] == "404 - Not Found" and r.json()["meta"]["error"]


def test_survey_definitions(served):
    sim, url = served
    sv = dict(zip(sim.world.surveys.kind, sim.world.surveys.survey_id, strict=True))
    csat = _get(url, f"/survey-definitions/{sv['csat']}/questions")["result"]["elements"]
    assert [
        (q["QuestionID"], q["DataExportTag"], q["QuestionType"], q["Selector"]) for q in csat
    ] == [
        ("QID1", "Q1", "MC", "SAVR"),
        ("QID2", "Q2", "MC", "SAVR"),
    ]
    assert [len(q["Choices"]) for q in csat] == [5, 7]
    (nps,) = _get(url, f"/survey-definitions/{sv['nps']}/questions")["result"]["elements"]
    assert nps["Selector"] == "NPS" and [c["Display"] for c in nps["Choices"]] == [
        str(i) for i in range(11)
    ]
    pulse = _get(url, f"/survey-definitions/{sv['enps']}")["result"]
    assert pulse["SurveyID"] == sv["enps"] and list(pulse["Questions"]) == [
        f"QID{i}" for i in range(1, 7)
    ]
    assert pulse["Questions"]["QID1"]["Selector"] == "NPS"
    embedded = [
        e["Field"]
        for f in pulse["SurveyFlow"]["Flow"]
        if f["Type"] == "EmbeddedData"
        for e in f["EmbeddedData"]
    ]
    assert embedded == ["department", "team", "tenure_band"]


def test_export_flow_counts_the_window(served):
    sim, url = served
    lo, hi = "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"
    for idx, s in sim.world.surveys.iterrows():
        file, rows = _export(url, s.survey_id, startDate=lo, endDate=hi)
        assert file.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(file.content)) as z:
            assert z.namelist() == [f"{s['name']}.json"]
        assert {r["responseId"] for r in rows} == _recorded(sim, idx, lo, hi)
        assert len(rows) == len(_recorded(sim, idx, lo, hi)) > 0
        v = rows[0]["values"]
        assert v["recordedDate"].endswith("Z") and len(v["recordedDate"]) == 24  # ms precision
        assert {
            "startDate",
            "endDate",
            "status",
            "progress",
            "duration",
            "finished",
            "_recordId",
        } <= set(v)
        assert {"responseId", "values", "labels", "displayedFields", "displayedValues"} == set(
            rows[0]
        )
    # uncompressed: the raw JSON document
    file, rows = _export(url, sim.world.surveys.survey_id[1], compress=False)
    assert file.headers["content-type"] == "application/json"
    assert len(rows) == len(_recorded(sim, 1))
    nps = next(
        r["values"]
        for r in rows
        if isinstance(r["values"].get("QID1"), int) and 0 <= r["values"]["QID1"] <= 10
    )
    assert nps["QID1_NPS_GROUP"] == (1 if nps["QID1"] <= 6 else 2 if nps["QID1"] <= 8 else 3)
    assert "@" in nps["recipientEmail"]


def test_start_date_resumes_after_the_clock_moves(served):
    sim, url = served
    ids = sim.world.surveys.survey_id
    last = {
        i: max(r["values"]["recordedDate"] for r in _export(url, sid)[1]) for i, sid in ids.items()
    }
    before = sum(len(_recorded(sim, i)) for i in ids.index)
    sim.advance(30)  # a month: the small test world can go ten days without an answer
    new = 0
    for i, sid in ids.items():
        rows = _export(url, sid, startDate=last[i])[1]
        assert {r["responseId"] for r in rows} == _recorded(sim, i, lo=last[i])
        at_boundary = [r for r in rows if r["values"]["recordedDate"] == last[i]]
        assert at_boundary  # startDate is inclusive: the last response seen comes back
        new += len(rows) - len(at_boundary)
    assert new == sum(len(_recorded(sim, i)) for i in ids.index) - before > 0


def test_employee_pulse_carries_no_identity(served):
    sim, url = served
    _, rows = _export(url, sim.world.surveys.survey_id[2], compress=False)
    meta = {
        "startDate",
        "endDate",
        "status",
        "progress",
        "duration",
        "finished",
        "recordedDate",
        "_recordId",
        "distributionChannel",
        "userLanguage",
    }
    for r in rows:
        extra = {k for k in r["values"] if not k.startswith("QID")} - meta
        assert extra <= {"department", "team", "tenure_band"}


def _all_rows(sim: Simulator, url: str) -> list[tuple[str, dict]]:
    out = []
    for kind, sid in zip(sim.world.surveys.kind, sim.world.surveys.survey_id, strict=True):
        out += [(kind, r["values"]) for r in _export(url, sid, compress=False)[1]]
    return out


def _answers(kind: str, values: dict) -> list:
    n = len(qsim.QUESTIONS[kind])
    return [values.get(f"QID{k}") for k in range(1, n + 1)]


def _simulator(dirty_rate: float) -> Simulator:
    """The test world, served with another dirty rate (the rate only drives the API's masks)."""
    sim = Simulator(world())
    sim.config = dataclasses.replace(sim.config, dirty_rate=dirty_rate)
    return sim


def test_dirty_data_kinds():
    sim = _simulator(0.2)
    with serve_in_thread(sim) as url:
        rows = _all_rows(sim, url)
    answers = [(kind, a) for kind, v in rows for a in _answers(kind, v)]
    assert any(k == "csat" and a in (0, 6) for k, a in answers)
    assert any(k in ("nps", "enps") and a == 11 for k, a in answers)
    assert any(k == "enps" and a == 9 for k, a in answers)
    assert any(a == "N/A" for _, a in answers)
    assert any(a is None for _, a in answers)  # unanswered: the key is omitted, never null
    assert not any(None in v.values() for _, v in rows)
    assert any(k == "csat" and "ticket_id" not in v for k, v in rows)
    assert any(
        k == "nps" and v["recipientEmail"] != v["recipientEmail"].strip().lower() for k, v in rows
    )


def test_clean_at_dirty_rate_zero():
    sim = _simulator(0.0)
    with serve_in_thread(sim) as url:
        rows = _all_rows(sim, url)
    for kind, v in rows:
        for q, a in zip(qsim.QUESTIONS[kind], _answers(kind, v), strict=True):
            assert a in q.recodes
        assert kind != "csat" or "ticket_id" in v
        assert kind != "nps" or v["recipientEmail"] == v["recipientEmail"].strip().lower()


def _distinct(data_dir, table: str, key: str) -> int:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.sql(f"select count(distinct {key}) from raw_qualtrics.{table}").fetchall()[0][0]
    finally:
        con.close()


KEYS = {
    "surveys": "id",
    "survey_questions": "(survey_id, question_id)",
    "survey_responses": "response_id",
}


def _exports_started(sim: Simulator) -> int:
    return sum(
        n
        for k, n in sim.requests.items()
        if k.startswith("POST ") and k.endswith("/export-responses")
    )


def test_loader_matches_ground_truth_and_loads_only_new_responses(warehouse, monkeypatch):
    from ingestion.pipeline import ingest

    sim, _, data_dir = warehouse
    monkeypatch.setenv("SOURCES__QUALTRICS__POLL_SECONDS", "0.05")
    monkeypatch.setattr(qsim, "PAGE_SIZE", 2)  # the loader follows nextPage
    started = time.monotonic()
    ingest(["qualtrics"], echo=lambda _: None)
    assert time.monotonic() - started < 60
    truth = {k: v for k, v in sim.ground_truth().items() if k.startswith("raw_qualtrics.")}
    assert set(truth) == {f"raw_qualtrics.{t}" for t in KEYS}
    assert {f"raw_qualtrics.{t}": _distinct(data_dir, t, k) for t, k in KEYS.items()} == truth
    assert _exports_started(sim) == 3

    before = truth["raw_qualtrics.survey_responses"]
    sim.advance(30)  # a month: the small test world can go ten days without an answer
    (result,) = ingest(["qualtrics"], echo=lambda _: None)
    truth = {k: v for k, v in sim.ground_truth().items() if k.startswith("raw_qualtrics.")}
    assert truth["raw_qualtrics.survey_responses"] > before
    assert result.row_counts["survey_responses"] == truth["raw_qualtrics.survey_responses"] - before
    assert {f"raw_qualtrics.{t}": _distinct(data_dir, t, k) for t, k in KEYS.items()} == truth
    assert _exports_started(sim) == 6

    # raw keeps what was sent: the dirty "N/A" answers arrive verbatim
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        raw_na = con.sql(
            """select count(*) from raw_qualtrics.survey_responses
               where json_extract_string("values", '$.QID1') = 'N/A'
                  or json_extract_string("values", '$.QID2') = 'N/A'
                  or json_extract_string("values", '$.QID3') = 'N/A'
                  or json_extract_string("values", '$.QID4') = 'N/A'
                  or json_extract_string("values", '$.QID5') = 'N/A'
                  or json_extract_string("values", '$.QID6') = 'N/A'"""
        ).fetchall()[0][0]
    finally:
        con.close()
    sent = sum(
        "N/A" in v.values()
        for v in (d["values"] for d in qsim._responses(sim))
        if pd.Timestamp(v["recordedDate"]) <= sim.clock
    )
    assert raw_na == sent


def test_loader_survives_faults(warehouse, monkeypatch):
    from ingestion.pipeline import ingest

    sim, _, data_dir = warehouse
    monkeypatch.setenv("SOURCES__QUALTRICS__POLL_SECONDS", "0.05")
    sim.fault_rate = 0.2  # 429 with Retry-After, 5xx, slow replies
    ingest(["qualtrics"], echo=lambda _: None)
    assert sum(n for k, n in sim.faults.items() if k.startswith("qualtrics")) > 0
    truth = {k: v for k, v in sim.ground_truth().items() if k.startswith("raw_qualtrics.")}
    assert {f"raw_qualtrics.{t}": _distinct(data_dir, t, k) for t, k in KEYS.items()} == truth


def test_loader_names_the_setting_on_a_wrong_token(warehouse, monkeypatch):
    from ingestion.pipeline import IngestError, ingest

    monkeypatch.setenv("SOURCES__QUALTRICS__API_TOKEN", "wrong")
    with pytest.raises(IngestError, match="SOURCES__QUALTRICS__API_TOKEN"):
        ingest(["qualtrics"], echo=lambda _: None)
