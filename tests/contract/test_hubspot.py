"""HubSpot contract: the simulator honours the wire contract, and the loader lands it whole."""

from __future__ import annotations

import dataclasses
import itertools

import duckdb
import pandas as pd
import pytest
import requests

from simulator import hubspot
from simulator.credentials import HUBSPOT_TOKEN
from simulator.server import Simulator, serve_in_thread
from tests.support.world import world

AUTH = {"Authorization": f"Bearer {HUBSPOT_TOKEN}"}
TYPES = ("companies", "contacts", "deals")
STAGES = {"contractsent", "closedwon", "closedlost"}


def _search(url: str, object_type: str, body: dict) -> requests.Response:
    return requests.post(
        f"{url}/hubspot/crm/v3/objects/{object_type}/search", json=body, headers=AUTH
    )


def _since(object_type: str, iso: str) -> dict:
    prop = hubspot.MODIFIED[object_type]
    ms = str(int(pd.Timestamp(iso).timestamp() * 1000))
    return {
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": "GTE", "value": ms}]}],
        "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
        "limit": 200,
    }


def _search_all(url: str, object_type: str, body: dict) -> list[dict]:
    out, after = [], None
    while True:
        r = _search(url, object_type, body | ({"after": after} if after else {}))
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["results"]
        if "paging" not in page:
            return out
        after = page["paging"]["next"]["after"]


def _list_all(url: str, object_type: str, **params) -> list[dict]:
    out, link = [], f"{url}/hubspot/crm/v3/objects/{object_type}"
    params = {"limit": 7, **params}
    while link:
        r = requests.get(link, params=params, headers=AUTH)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["results"]
        link, params = page.get("paging", {}).get("next", {}).get("link"), None
    return out


@pytest.mark.parametrize("object_type", TYPES)
def test_list_pages_to_the_end(served, object_type):
    sim, url = served
    records = _list_all(url, object_type)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == sim.ground_truth()[f"raw_hubspot.{object_type}"]
    modified = hubspot.MODIFIED[object_type]
    for r in records:
        assert set(r) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
        assert r["archived"] is False and isinstance(r["id"], str)
        assert {"hs_object_id", "createdate", modified} <= set(r["properties"])
        assert all(v is None or isinstance(v, str) for v in r["properties"].values())
        assert r["createdAt"].endswith("Z") and len(r["createdAt"]) == 24  # ISO UTC with ms
        assert r["updatedAt"] == r["properties"][modified]


def test_list_link_is_absolute_and_keeps_parameters(served):
    _, url = served
    r = requests.get(
        f"{url}/hubspot/crm/v3/objects/deals",
        params={"limit": 5, "properties": "dealstage,amount"},
        headers=AUTH,
    )
    page = r.json()
    nxt = page["paging"]["next"]
    assert (
        nxt["link"].startswith(f"{url}/hubspot/crm/v3/objects/deals?")
        and "properties=" in nxt["link"]
    )
    assert len(page["results"]) == 5
    assert set(page["results"][0]["properties"]) == {
        "dealstage",
        "amount",
        "hs_object_id",
        "createdate",
        "hs_lastmodifieddate",
    }
    archived = requests.get(
        f"{url}/hubspot/crm/v3/objects/deals", params={"archived": "true"}, headers=AUTH
    )
    assert archived.json() == {"results": []}


def test_list_embeds_associations(served):
    sim, url = served
    deals = _list_all(url, "deals", associations="companies")
    linked = [d for d in deals if "associations" in d]
    assert len(linked) == sim.ground_truth()["raw_hubspot.deal_companies"] <= len(deals)
    assert linked[0]["associations"]["companies"]["results"][0]["type"] == "deal_to_company"


@pytest.mark.parametrize("object_type", TYPES)
def test_search_pages_to_the_end(served, object_type):
    sim, url = served
    body = _since(object_type, "1970-01-01T00:00:00Z") | {
        "limit": 25,
        "properties": ["email", "dealstage"],
    }
    first = _search(url, object_type, body).json()
    records = _search_all(url, object_type, body)
    ids = [r["id"] for r in records]
    assert (
        first["total"]
        == len(ids)
        == len(set(ids))
        == sim.ground_truth()[f"raw_hubspot.{object_type}"]
    )
    assert first["paging"]["next"]["after"] == "25"
    modified = [r["properties"][hubspot.MODIFIED[object_type]] for r in records]
    assert modified == sorted(modified)


def test_unauthorized(served):
    _, url = served
    endpoint = f"{url}/hubspot/crm/v3/objects/companies"
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": HUBSPOT_TOKEN}):
        r = requests.get(endpoint, headers=headers)
        assert r.status_code == 401
        body = r.json()
        assert set(body) == {"status", "message", "correlationId", "category"}
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert body["message"].startswith("Authentication credentials not found")
    assert _search(url, "deals", {}).status_code == 200
    r = requests.post(f"{url}/hubspot/crm/v3/objects/deals/search", json={})
    assert r.status_code == 401


def test_search_beyond_the_result_cap_is_400(served, monkeypatch):
    _, url = served
    monkeypatch.setattr(hubspot, "SEARCH_RESULT_CAP", 40)
    body = _since("contacts", "1970-01-01T00:00:00Z") | {"limit": 30}
    page = _search(url, "contacts", body | {"after": "30"}).json()
    assert len(page["results"]) == 10  # the cap cuts the page short
    assert page["total"] > 40 and page["paging"]["next"]["after"] == "40"
    r = _search(url, "contacts", body | {"after": "40"})
    assert r.status_code == 400
    assert r.json()["category"] == "VALIDATION_ERROR"


def test_search_resumes_from_the_last_modified_value(served):
    sim, url = served
    before = {t: {r["id"]: r["updatedAt"] for r in _list_all(url, t)} for t in TYPES}
    last = {t: max(v.values()) for t, v in before.items()}
    sim.advance(3)
    changed_total = 0
    for t in TYPES:
        after = {r["id"]: r["updatedAt"] for r in _list_all(url, t)}
        changed = {i for i, u in after.items() if before[t].get(i) != u}
        found = _search_all(url, t, _since(t, last[t]))
        boundary = {r["id"] for r in found if r["updatedAt"] == last[t]}
        assert {r["id"] for r in found} - boundary == changed
        assert all(before[t][i] == last[t] for i in boundary)
        changed_total += len(changed)
    assert changed_total > 0  # the window holds at least one change


def test_filters_and_descending_sort(served):
    _, url = served
    lt = {"propertyName": "hs_lastmodifieddate", "operator": "LT", "value": "2026-01-01T00:00:00Z"}
    won = {"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}
    body = {
        "filterGroups": [{"filters": [lt, won]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
        "properties": ["dealstage"],
        "limit": 200,
    }
    records = _search_all(url, "deals", body)
    assert records and all(r["properties"]["dealstage"] == "closedwon" for r in records)
    modified = [r["properties"]["hs_lastmodifieddate"] for r in records]
    assert modified == sorted(modified, reverse=True) and modified[0] < "2026-01-01"
    bad = _search(url, "deals", {"sorts": ["a", "b"]})
    assert bad.status_code == 400


def test_deal_company_batch_read(served):
    sim, url = served
    deals = _list_all(url, "deals", associations="companies", limit=100)
    endpoint = f"{url}/hubspot/crm/v4/associations/deals/companies/batch/read"
    r = requests.post(endpoint, json={"inputs": [{"id": d["id"]} for d in deals]}, headers=AUTH)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "COMPLETE"
    assert {"startedAt", "completedAt"} <= set(body)
    embedded = {
        d["id"]: d["associations"]["companies"]["results"][0]["id"]
        for d in deals
        if "associations" in d
    }
    got = {res["from"]["id"]: res["to"] for res in body["results"]}
    assert (
        set(got) == set(embedded) and len(got) == sim.ground_truth()["raw_hubspot.deal_companies"]
    )
    for deal_id, to in got.items():
        assert to == [
            {
                "toObjectId": int(embedded[deal_id]),
                "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}
                ],
            }
        ]


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_dirty_data(rate):
    """Each kind of dirt shows up on a dirty world, and none on a clean one (rate 0)."""
    sim = Simulator(world())
    sim.config = dataclasses.replace(sim.config, dirty_rate=rate)  # only the API's dirt changes
    with serve_in_thread(sim) as url:
        contacts = _list_all(url, "contacts", properties="email,associatedcompanyid", limit=100)
        deals = _list_all(
            url, "deals", properties="closedate,dealstage", associations="companies", limit=100
        )
        companies = _list_all(url, "companies", properties="hs_csm_sentiment", limit=100)
        defined = requests.get(f"{url}/hubspot/crm/v3/properties/companies", headers=AUTH).json()
    email = [c["properties"]["email"] for c in contacts]
    closedate = [d["properties"]["closedate"] for d in deals]
    sentiment = [c["properties"].get("hs_csm_sentiment") for c in companies]
    kinds = {
        "email noise": sum(e != e.strip().lower() for e in email),
        "no associatedcompanyid": sum(
            c["properties"]["associatedcompanyid"] is None for c in contacts
        ),
        "closedate with offset": sum(not c.endswith("Z") for c in closedate),
        "unknown dealstage": sum(d["properties"]["dealstage"] not in STAGES for d in deals),
        "deal without company": sum("associations" not in d for d in deals),
        "hs_csm_sentiment drift": sum(s is not None for s in sentiment),
    }
    names = {p["name"] for p in defined["results"]}
    if rate == 0:
        assert not any(kinds.values()), kinds
        assert "hs_csm_sentiment" not in names
        return
    assert all(kinds.values()), kinds
    assert "hs_csm_sentiment" in names
    # dirty values still mean the same thing: same instant, same address
    close_at = sim.world.deals.set_index(sim.world.deals.deal_id.astype(str)).close_at
    parsed = pd.to_datetime(pd.Series(closedate), utc=True, format="ISO8601")
    assert (parsed.to_numpy() == close_at.reindex([d["id"] for d in deals]).to_numpy()).all()
    assert {e.strip().lower() for e in email} == set(
        sim.world.contacts.email[sim.world.contacts.created_at <= sim.clock]
    )
    # drift: exactly the companies modified since DRIFT_DAYS before the first clock
    drift_from = (sim.config.clock0 - pd.Timedelta(days=hubspot.DRIFT_DAYS)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )
    for c, s in zip(companies, sentiment, strict=True):
        assert (s is not None) == (c["properties"]["hs_lastmodifieddate"] >= drift_from)


# ---- loader ---------------------------------------------------------------------
def _distinct(data_dir, table: str, key: str) -> int:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(f"select count(distinct {key}) from {table}").fetchone()[0]
    finally:
        con.close()


def _stage(data_dir, deal_id: str) -> str:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        sql = "select properties__dealstage from raw_hubspot.deals where id = ?"
        return con.execute(sql, [deal_id]).fetchall()[0][0]
    finally:
        con.close()


HISTORY_KEY = "object_id || '/' || timestamp || '/' || value"
KEYS = {
    "raw_hubspot.deal_companies": "deal_id || '/' || company_id",
    "raw_hubspot.companies_lifecycle_history": HISTORY_KEY,
    "raw_hubspot.contacts_lifecycle_history": HISTORY_KEY,
}


def _assert_complete(sim, data_dir) -> None:
    truth = {t: n for t, n in sim.ground_truth().items() if t.startswith("raw_hubspot.")}
    got = {t: _distinct(data_dir, t, KEYS.get(t, "id")) for t in truth}
    assert got == truth


def test_loader_lands_everything_then_only_changes(warehouse):
    from ingestion.pipeline import ingest

    sim, _, data_dir = warehouse
    first = ingest(["hubspot"], echo=lambda _: None)[0]
    first_requests = sim.requests["hubspot"]
    _assert_complete(sim, data_dir)
    # a deal open now that closes in the next 60 days
    d = sim.world.deals
    closing = d[
        (d.created_at <= sim.clock)
        & (d.close_at > sim.clock)
        & (d.close_at <= sim.clock + pd.Timedelta(days=60))
    ]
    deal_id = str(closing.deal_id.iloc[0])
    assert _stage(data_dir, deal_id) == "contractsent"

    sim.advance(60)
    second = ingest(["hubspot"], echo=lambda _: None)[0]
    assert second.rows < first.rows
    assert sim.requests["hubspot"] - first_requests <= first_requests
    _assert_complete(sim, data_dir)
    view = hubspot.deals_view(sim)
    expected = view.dealstage[view.id == int(deal_id)].iloc[0]
    assert expected.startswith("closed") and _stage(data_dir, deal_id) == expected


def test_loader_restarts_at_the_search_cap(warehouse, monkeypatch):
    from ingestion.pipeline import ingest

    sim, _, data_dir = warehouse
    monkeypatch.setattr(hubspot, "SEARCH_RESULT_CAP", 50)
    assert sim.ground_truth()["raw_hubspot.contacts"] > 2 * 50
    result = ingest(["hubspot"], echo=lambda _: None)[0]
    _assert_complete(sim, data_dir)
    assert sim.requests["POST /hubspot/crm/v3/objects/contacts/search"] > 3  # restarted queries
    # records at the restart boundary were yielded once, not again
    assert result.row_counts["contacts"] == sim.ground_truth()["raw_hubspot.contacts"]


def test_loader_retries_rate_limits_and_server_errors(warehouse):
    from ingestion.pipeline import ingest

    sim, _, data_dir = warehouse
    sim.fault_rate = 0.3
    ingest(["hubspot"], echo=lambda _: None)
    assert sum(n for k, n in sim.faults.items() if k.startswith("hubspot")) > 0
    _assert_complete(sim, data_dir)


def test_loader_names_the_setting_on_a_bad_token(warehouse, monkeypatch):
    from ingestion.pipeline import IngestError, ingest

    monkeypatch.setenv("SOURCES__HUBSPOT__API_KEY", "wrong-token")
    with pytest.raises(IngestError, match="SOURCES__HUBSPOT__API_KEY"):
        ingest(["hubspot"], echo=lambda _: None)


# ---- lifecycle stage history (issue 19) ------------------------------------------------
HISTORY_TYPES = ("companies", "contacts")


def _list_pages(url: str, object_type: str, **params) -> list[list[dict]]:
    pages, link = [], f"{url}/hubspot/crm/v3/objects/{object_type}"
    while link:
        r = requests.get(link, params=params, headers=AUTH)
        assert r.status_code == 200, r.text
        pages.append(r.json()["results"])
        link, params = r.json().get("paging", {}).get("next", {}).get("link"), None
    return pages


@pytest.mark.parametrize("object_type", HISTORY_TYPES)
def test_list_with_history_pages_by_50_and_reconciles(served, object_type):
    """`propertiesWithHistory=lifecyclestage` on the list endpoint: pages of at most 50 even
    when 100 are asked (the next link keeps the parameter), newest entry first, the current
    value and the `hs_lifecyclestage_<stage>_date` properties agreeing with the history, and
    as many entries as the ground truth says the raw history table must hold."""
    sim, url = served
    props = "lifecyclestage," + ",".join(hubspot.STAGE_DATES)
    pages = _list_pages(
        url, object_type, limit=100, properties=props, propertiesWithHistory="lifecyclestage"
    )
    records = [r for p in pages for r in p]
    assert len(records) == sim.ground_truth()[f"raw_hubspot.{object_type}"]
    assert [len(p) for p in pages[:-1]] == [50] * (len(pages) - 1) and len(pages[-1]) <= 50
    assert len(pages) == -(-len(records) // 50)
    entries = 0
    for r in records:
        history = r["propertiesWithHistory"]["lifecyclestage"]
        entries += len(history)
        assert history, "every record has entered a stage at its creation"
        stamps = [e["timestamp"] for e in history]
        assert stamps == sorted(stamps, reverse=True), "newest first"
        assert stamps[-1] == r["properties"]["createdate"]
        for e in history:
            assert e["value"] in {"", hubspot.CUSTOM_STAGE_ID, *hubspot.LIFECYCLE}
            assert e["sourceType"]
            assert set(e) <= {"value", "timestamp", "sourceType", "sourceId", "updatedByUserId"}
        assert r["properties"]["lifecyclestage"] == (history[0]["value"] or None)
        for name, stage in hubspot.STAGE_DATES.items():
            entered = [e["timestamp"] for e in history if e["value"] == stage]
            assert r["properties"][name] == (max(entered) if entered else None)
        modified = r["properties"][hubspot.MODIFIED[object_type]]
        assert modified >= stamps[0], "a stage change moves the last-modified date"
    assert entries == sim.ground_truth()[f"raw_hubspot.{object_type}_lifecycle_history"]


def test_history_agrees_with_deals_contracts_and_surveys(served):
    """Companies: `customer` exactly when a won deal has closed; `opportunity` before it;
    leads that never convert; a lost first deal regresses to `lead` through a cleared value;
    evangelists only among companies with a promoter answer; `other` exactly for churned ones."""
    sim, _ = served
    w, clock = sim.world, sim.clock
    h = w.lifecycle  # the world's history (the API's dirt aside)
    h = h[(h.object_type == "companies") & (h.ts <= clock)]
    stages = h.groupby("object_id").value.apply(list)
    comp = w.companies.set_index("company_id")
    d = w.deals
    won = set(d.company_id[d.won & (d.close_at <= clock)])
    lost_first = set(d.company_id[~d.won & (d.renewal_no == 0) & (d.close_at <= clock)])
    churned = set(comp.index[(comp.churned_at + pd.Timedelta(hours=10) <= clock).fillna(False)])
    r = w.responses
    promoters = r[(r.survey_idx == 1) & (r.q1 >= 9) & (r.recorded_at <= clock)]
    promoter_companies = set(w.contacts.company_id.to_numpy()[promoters.contact_idx.astype(int)])
    visible = set(comp.index[comp.created_at <= clock])
    assert set(stages.index) == visible
    customers = {i for i, s in stages.items() if "customer" in s}
    assert customers == won
    for i in customers:
        s = stages[i]
        assert s.index("opportunity") < s.index("customer")
    regressed = {i for i, s in stages.items() if "" in s}
    assert regressed == lost_first and regressed, "a lost first deal: cleared, then lead"
    for i in regressed:
        s = stages[i]
        assert s[s.index("") + 1] == "lead" and s.index("opportunity") < s.index("")
    never = {i for i, s in stages.items() if "opportunity" not in s}
    assert never and not never & won, "leads that never convert"
    # stages only move forward, except back through a cleared value
    rank = {v: k for k, v in enumerate(hubspot.LIFECYCLE)}
    for i, s in stages.items():
        for before, after in itertools.pairwise(s):
            assert before == "" or after == "" or rank[after] > rank[before], (i, s)
    evangelists = {i for i, s in stages.items() if "evangelist" in s}
    assert evangelists and evangelists <= promoter_companies & customers
    assert {i for i, s in stages.items() if "other" in s} == churned


def test_object_batch_read_with_history(served):
    sim, url = served
    endpoint = f"{url}/hubspot/crm/v3/objects/companies/batch/read"
    ids = [str(i) for i in hubspot.companies_view(sim).id[:3]]
    body = {
        "inputs": [{"id": i} for i in [*ids, "1"]],
        "properties": ["lifecyclestage"],
        "propertiesWithHistory": ["lifecyclestage"],
    }
    r = requests.post(endpoint, json=body, headers=AUTH)
    assert r.status_code == 200 and r.json()["status"] == "COMPLETE"
    got = {x["id"]: x for x in r.json()["results"]}
    assert set(got) == set(ids), "an unknown id is left out"
    listed = {
        x["id"]: x
        for p in _list_pages(url, "companies", limit=50, propertiesWithHistory="lifecyclestage")
        for x in p
    }
    for i in ids:
        assert got[i]["propertiesWithHistory"] == listed[i]["propertiesWithHistory"]
    too_many = {**body, "inputs": [{"id": str(i)} for i in range(51)]}
    r = requests.post(endpoint, json=too_many, headers=AUTH)
    assert r.status_code == 400 and "50" in r.json()["message"]
    no_history = {"inputs": too_many["inputs"], "properties": [], "propertiesWithHistory": []}
    assert requests.post(endpoint, json=no_history, headers=AUTH).status_code == 200
    r = requests.post(endpoint, json={**body, "limit": 5}, headers=AUTH)
    assert r.status_code == 400 and "Unrecognized field" in r.json()["message"]


def test_search_does_not_take_history(served):
    _, url = served
    body = _since("companies", "1970-01-01T00:00:00Z") | {
        "propertiesWithHistory": ["lifecyclestage"]
    }
    r = _search(url, "companies", body)
    assert r.status_code == 400 and "propertiesWithHistory" in r.json()["message"]


def test_loader_reads_history_only_for_changed_records(warehouse):
    """The history tables are loaded incrementally: the second run batch-reads the history of
    the records the search found changed, 50 at a time, and the tables reconcile again."""
    from ingestion.pipeline import ingest

    sim, _, data_dir = warehouse
    first = ingest(["hubspot"], echo=lambda _: None)[0]
    _assert_complete(sim, data_dir)
    reads = "POST /hubspot/crm/v3/objects/contacts/batch/read"
    n_contacts = sim.ground_truth()["raw_hubspot.contacts"]
    assert sim.requests[reads] == -(-n_contacts // 50)
    before = hubspot.contacts_view(sim)
    sim.advance(45)
    after = hubspot.contacts_view(sim)
    merged = after.merge(before, on="id", how="left", suffixes=("", "_before"))
    changed = int((merged.lastmodifieddate != merged.lastmodifieddate_before).sum())
    assert changed > 0
    sim.requests.clear()
    second = ingest(["hubspot"], echo=lambda _: None)[0]
    assert 0 < sim.requests[reads] <= -(-changed // 50) + 1
    assert (
        second.row_counts["contacts_lifecycle_history"]
        < first.row_counts["contacts_lifecycle_history"]
    )
    _assert_complete(sim, data_dir)


def test_deal_stage_entry_times(served):
    """`hs_v2_date_entered_<stage>`: every deal entered `contractsent` at its creation, a
    closed one `closedwon` or `closedlost` at its close (same instant as `closedate`, which
    is sometimes written with an offset); a retired-stage deal has no `closedwon` date."""
    sim, url = served
    names = ",".join(["dealstage", "closedate", *hubspot.DEAL_STAGE_DATES])
    deals = _list_all(url, "deals", properties=names, limit=100)
    assert len(deals) == sim.ground_truth()["raw_hubspot.deals"]
    seen = set()
    for d in deals:
        p = d["properties"]
        assert p["hs_v2_date_entered_contractsent"] == p["createdate"]
        stage = p["dealstage"]
        for s in ("closedwon", "closedlost"):
            entered = p[f"hs_v2_date_entered_{s}"]
            if stage == s:
                assert pd.Timestamp(entered) == pd.Timestamp(p["closedate"]), d["id"]
                seen.add(s)
            else:
                assert entered is None, (d["id"], stage, s)
        for s in ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled"):
            assert p[f"hs_v2_date_entered_{s}"] is None
    assert seen == {"closedwon", "closedlost"}
