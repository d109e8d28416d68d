"""Both sides held to the vendors' published specifications (issue 21).

A full load of the four vendors and an incremental one three days later run against the
simulator with capture on: every request the loaders really sent and every answer the
simulator really gave is recorded at the simulator (not reconstructed). Then:

- every call is an operation of a vendor specification (or a recorded spec-silent endpoint),
  and every operation kept in the excerpts is exercised;
- every response validates against the operation's response schema (OpenAPI -> JSON Schema);
- every request uses only declared query parameters, body fields and auth scheme;
- a planted wrong type or missing required field makes the response check fail, and a
  misplaced body field makes the request check fail (tests of the tests);
- the strict simulator answers undeclared input the way the vendor does.

Specs, their sources and the recorded exceptions: tests/contract/specs/ (README.md).
"""

from __future__ import annotations

import copy
import json

import pytest
import requests

from ingestion import pipeline
from simulator.credentials import (
    BAMBOOHR_API_KEY,
    BAMBOOHR_COMPANY,
    HUBSPOT_TOKEN,
    QUALTRICS_TOKEN,
    loader_env,
)
from simulator.server import Simulator, serve_in_thread
from tests.contract import spec_check as sc
from tests.support.world import environ, world

INCREMENT_DAYS = 3


@pytest.fixture(scope="module")
def exchanges(tmp_path_factory) -> dict[str, list[dict]]:
    """What crossed the wire during a full load and an incremental one: {phase: [exchange]}."""
    sim = Simulator(world())
    data_dir = tmp_path_factory.mktemp("vendor-specs") / "data"
    out = {}
    with serve_in_thread(sim) as url, environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}):
        for phase in ("full", "incremental"):
            if phase == "incremental":
                sim.advance(INCREMENT_DAYS)
            sim.captured = []
            pipeline.ingest(echo=lambda _: None)
            out[phase], sim.captured = sim.captured, None
    return out


def _matched(exchanges: dict, vendor: str | None = None):
    """(phase, vendor, operation, exchange) of every successful call to a specified operation."""
    for phase, items in exchanges.items():
        for x in items:
            if vendor not in (None, x["vendor"]) or x["status"] != 200:
                continue
            op = sc.operation_for(x["vendor"], x["method"], x["path"])
            if op is not None:
                yield phase, x["vendor"], op, x


def test_every_call_is_a_specified_operation_and_every_operation_is_called(exchanges):
    seen: set[tuple[str, str]] = set()
    unknown = []
    for phase, items in exchanges.items():
        assert items, f"the {phase} load sent nothing"
        for x in items:
            assert x["status"] == 200, (phase, sc.summary(x), x["status"], x["response"][:300])
            op = sc.operation_for(x["vendor"], x["method"], x["path"])
            if op is None and sc.unspecified(x["vendor"], x["method"], x["path"]) is None:
                unknown.append(sc.summary(x))
            seen.add((x["vendor"], op or "unspecified"))
    assert not unknown, f"calls matching no vendor specification: {sorted(set(unknown))}"
    declared = {(v, op) for v in sc.VENDORS for op in sc.spec(v)["operations"]}
    assert declared - seen == set(), "spec excerpts keep only operations the loaders call"
    # both loads reached all four vendors
    for phase, items in exchanges.items():
        assert {x["vendor"] for x in items} == set(sc.VENDORS), phase


@pytest.mark.parametrize("vendor", sc.VENDORS)
def test_responses_validate_against_the_vendor_schema(exchanges, vendor):
    problems, checked = [], 0
    for phase, _, op, x in _matched(exchanges, vendor):
        checked += 1
        problems += [f"{phase} {op}: {p}" for p in sc.response_problems(vendor, op, x)]
    assert checked, f"no {vendor} response was checked"
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("phase", ["full", "incremental"])
def test_requests_use_only_what_the_specs_declare(exchanges, phase):
    problems = []
    for _, vendor, op, x in _matched({phase: exchanges[phase]}):
        problems += [f"{sc.summary(x)}: {p}" for p in sc.request_problems(vendor, op, x)]
    assert not problems, "\n".join(sorted(set(problems))[:30])


def test_bamboohr_loader_sends_its_employee_filter_inside_filters(exchanges):
    bodies = [
        json.loads(x["body"])
        for _, _, op, x in _matched(exchanges, "bamboohr")
        if op == "POST /reports/custom"
    ]
    assert bodies, "the loads requested no custom report"
    for body in bodies:
        assert "employeeIds" not in body
        assert body["filters"]["employeeIds"] and all(
            isinstance(i, int) for i in body["filters"]["employeeIds"]
        )


def test_zendesk_users_carry_every_field_the_spec_declares(exchanges):
    declared = set(sc.raw_spec("zendesk")["components"]["schemas"]["UserForAdmin"]["properties"])
    omitted = {
        e["field"] for e in sc.exceptions()["omitted_fields"] if e["schema"] == "UserForAdmin"
    }
    pages = [
        sc.response_json(x)["users"]
        for _, _, op, x in _matched(exchanges, "zendesk")
        if op == "GET /incremental/users/cursor"
    ]
    users = [u for page in pages for u in page]
    assert {u["role"] for u in users} == {"end-user", "agent", "admin"}
    assert len(declared - omitted) == 38
    for u in users:
        assert set(u) == declared - omitted, set(u) ^ (declared - omitted)
    # realistic nulls: some end users have a phone, some agents a photo, none of each everywhere
    end_users = [u for u in users if u["role"] == "end-user"]
    agents = [u for u in users if u["role"] == "agent"]
    assert 0 < sum(u["phone"] is not None for u in end_users) < len(end_users)
    assert 0 < sum(u["photo"] is not None for u in agents) < len(agents)
    assert all(u["restricted_agent"] and u["ticket_restriction"] == "requested" for u in end_users)


# ---- tests of the tests -----------------------------------------------------------
def _first(exchanges, vendor: str, op: str) -> dict:
    return next(x for _, _, o, x in _matched(exchanges, vendor) if o == op)


def _problems_after(vendor: str, op: str, exchange: dict, plant) -> list[str]:
    body = copy.deepcopy(sc.response_json(exchange))
    plant(body)
    planted = {**exchange, "response": json.dumps(body).encode()}
    return sc.response_problems(vendor, op, planted)


PLANTS = [
    # (vendor, operation, what is planted)
    (
        "zendesk",
        "GET /incremental/users/cursor",
        "wrong type",
        lambda b: b["users"][0].update(id="7"),
    ),
    (
        "zendesk",
        "GET /incremental/tickets/cursor",
        "wrong type",
        lambda b: b["tickets"][0].update(is_public="yes"),
    ),
    ("zendesk", "GET /groups", "missing required", lambda b: b["groups"][0].pop("name")),
    (
        "hubspot",
        "GET /crm/v3/properties/{objectType}",
        "missing required",
        lambda b: b["results"][0].pop("description"),
    ),
    (
        "hubspot",
        "POST /crm/v3/objects/companies/search",
        "missing required",
        lambda b: b["results"][0].pop("archived"),
    ),
    (
        "hubspot",
        "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read",
        "wrong type",
        lambda b: b["results"][0]["to"][0].update(toObjectId="not a number"),
    ),
    (
        "bamboohr",
        "POST /reports/custom",
        "wrong type",
        lambda b: b["employees"][0].update(payRate=85000),
    ),
    ("bamboohr", "GET /employees/changed", "missing required", lambda b: b.pop("latest")),
    (
        "qualtrics",
        "GET /survey-definitions/{surveyId}/questions",
        "missing required",
        lambda b: b["result"]["elements"][0].pop("QuestionText"),
    ),
    (
        "qualtrics",
        "GET /surveys/{surveyId}/export-responses/{fileId}/file",
        "wrong type",
        lambda b: b["responses"][0]["values"].update(duration="12s"),
    ),
]


@pytest.mark.parametrize(
    ("vendor", "op", "kind", "plant"), PLANTS, ids=[f"{p[0]}-{p[2]}-{p[1]}" for p in PLANTS]
)
def test_a_planted_error_in_a_response_fails_the_check(exchanges, vendor, op, kind, plant):
    exchange = _first(exchanges, vendor, op)
    assert sc.response_problems(vendor, op, exchange) == []
    assert _problems_after(vendor, op, exchange, plant), f"planted {kind} went unnoticed"


def test_a_misplaced_body_field_or_undeclared_parameter_fails_the_request_check(exchanges):
    report = _first(exchanges, "bamboohr", "POST /reports/custom")
    body = json.loads(report["body"])
    body["employeeIds"] = body["filters"].pop("employeeIds")  # the loader's former mistake
    old = {**report, "body": json.dumps(body).encode()}
    assert "body field /employeeIds is not declared" in sc.request_problems(
        "bamboohr", "POST /reports/custom", old
    )
    tickets = _first(exchanges, "zendesk", "GET /incremental/tickets/cursor")
    with_page_size = {**tickets, "query": [*tickets["query"], ("per_page", "1000")]}
    assert "query parameter 'per_page' is not declared" in sc.request_problems(
        "zendesk", "GET /incremental/tickets/cursor", with_page_size
    )
    search = _first(exchanges, "hubspot", "POST /crm/v3/objects/deals/search")
    no_token = {**search, "headers": {**search["headers"], "authorization": "Token abc"}}
    assert any("auth" in p for p in sc.request_problems("hubspot", op_of(search), no_token))


def op_of(exchange: dict) -> str:
    return sc.operation_for(exchange["vendor"], exchange["method"], exchange["path"])


# ---- the strict simulator ----------------------------------------------------------------
def test_strict_simulator_answers_undeclared_input_as_the_vendors_do(served):
    _, url = served
    # BambooHR ignores keys it does not know: a top-level employeeIds filters nothing
    api = f"{url}/bamboohr/api/gateway.php/{BAMBOOHR_COMPANY}/v1/reports/custom"
    kw = {
        "params": {"format": "json"},
        "auth": (BAMBOOHR_API_KEY, "x"),
        "headers": {"Accept": "application/json"},
        "timeout": 30,
    }
    everyone = requests.post(api, json={"fields": ["firstName"]}, **kw).json()["employees"]
    some = [int(e["id"]) for e in everyone[:2]]
    top = requests.post(api, json={"fields": ["firstName"], "employeeIds": some}, **kw)
    inside = requests.post(
        api, json={"fields": ["firstName"], "filters": {"employeeIds": some}}, **kw
    )
    assert top.status_code == inside.status_code == 200
    assert len(top.json()["employees"]) == len(everyone) > 2
    assert sorted(int(e["id"]) for e in inside.json()["employees"]) == sorted(some)
    # HubSpot's JSON binding refuses a field its request model does not declare
    hs = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}
    r = requests.post(
        f"{url}/hubspot/crm/v3/objects/deals/search",
        json={"limit": 1, "filter": []},
        headers=hs,
        timeout=30,
    )
    assert r.status_code == 400 and r.json()["category"] == "VALIDATION_ERROR"
    assert 'Unrecognized field "filter"' in r.json()["message"]
    r = requests.post(
        f"{url}/hubspot/crm/v4/associations/deals/companies/batch/read",
        json={"inputs": [{"id": "1", "type": "deal"}]},
        headers=hs,
        timeout=30,
    )
    assert r.status_code == 400
    # Qualtrics validates the export request body
    survey = requests.get(
        f"{url}/qualtrics/API/v3/surveys", headers={"X-API-TOKEN": QUALTRICS_TOKEN}, timeout=30
    ).json()["result"]["elements"][0]["id"]
    r = requests.post(
        f"{url}/qualtrics/API/v3/surveys/{survey}/export-responses",
        json={"format": "json", "since": "2026-01-01T00:00:00Z"},
        headers={"X-API-TOKEN": QUALTRICS_TOKEN},
        timeout=30,
    )
    assert r.status_code == 400 and r.json()["meta"]["error"]["errorCode"] == "QVAL_1"
