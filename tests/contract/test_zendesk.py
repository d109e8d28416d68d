"""Zendesk Support API v2 contract, as the loaders use it, against the simulator over HTTP."""

from __future__ import annotations

import requests

from simulator import zendesk
from simulator.credentials import ZENDESK_EMAIL, ZENDESK_TOKEN

AUTH = (f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN)


def api(url: str) -> str:
    return f"{url}/zendesk/api/v2"


def follow(first_url: str, params: dict, key: str, next_key: str, stop) -> tuple[list, int, dict]:
    """Follow next links until `stop(body)`; returns (records, pages, last body)."""
    records, pages, url = [], 0, first_url
    while True:
        r = requests.get(url, params=params, auth=AUTH, timeout=30)
        r.raise_for_status()
        body = r.json()
        records += body[key]
        pages += 1
        params = None  # next links carry their own query
        if stop(body):
            return records, pages, body
        url = body
        for part in next_key.split("."):
            url = url[part]
        assert pages < 10_000


def test_missing_or_wrong_credentials_get_401(served):
    _, url = served
    for auth in (None, (f"{ZENDESK_EMAIL}/token", "wrong"), ("someone@else/token", ZENDESK_TOKEN)):
        r = requests.get(f"{api(url)}/groups", auth=auth, timeout=10)
        assert r.status_code == 401
        assert r.json() == {"error": "Couldn't authenticate you"}
    bearer = {"Authorization": f"Bearer {ZENDESK_TOKEN}"}
    assert requests.get(f"{api(url)}/groups", headers=bearer, timeout=10).status_code == 200


def test_ticket_cursor_export_pages_to_the_end(served):
    sim, url = served
    view = zendesk.tickets_view(sim)
    tickets, pages, last = follow(
        f"{api(url)}/incremental/tickets/cursor.json",
        {"start_time": 0, "per_page": 100},
        "tickets",
        "after_url",
        lambda b: b["end_of_stream"],
    )
    assert pages == -(-len(view) // 100)  # ceil: exactly as many pages as needed
    assert len(tickets) == len({t["id"] for t in tickets}) == len(view)
    assert set(last) == {
        "tickets",
        "after_url",
        "after_cursor",
        "before_url",
        "before_cursor",
        "end_of_stream",
    }
    t = tickets[0]
    for field in (
        "id",
        "status",
        "created_at",
        "updated_at",
        "generated_timestamp",
        "custom_fields",
        "fields",
        "due_at",
        "via",
    ):
        assert field in t
    gts = [t["generated_timestamp"] for t in tickets]
    assert gts == sorted(gts)  # ordered by generated_timestamp
    statuses = {t["status"] for t in tickets}
    assert {"closed", "deleted"} <= statuses  # dirty data is on in tests: some tickets are deleted


def test_ticket_cursor_resumes_with_only_changed_tickets(served):
    sim, url = served
    _, _, last = follow(
        f"{api(url)}/incremental/tickets/cursor",
        {"start_time": 0},
        "tickets",
        "after_url",
        lambda b: b["end_of_stream"],
    )
    before = sim.clock_epoch
    sim.advance(3)
    changed, _, _ = follow(
        f"{api(url)}/incremental/tickets/cursor",
        {"cursor": last["after_cursor"]},
        "tickets",
        "after_url",
        lambda b: b["end_of_stream"],
    )
    view = zendesk.tickets_view(sim)
    expected = set(view.id[(view.gts > before)])
    assert expected, "three simulated days must change some tickets"
    assert {t["id"] for t in changed} == expected


def test_ticket_events_time_export_with_comment_events(served):
    sim, url = served
    events, pages, last = follow(
        f"{api(url)}/incremental/ticket_events.json",
        {"start_time": 0, "per_page": 500, "include": "comment_events"},
        "ticket_events",
        "next_page",
        lambda b: b["end_of_stream"],
    )
    ids = {e["id"] for e in events}
    assert len(ids) == sim.ground_truth()["raw_zendesk.ticket_events"]
    assert len(events) >= len(ids)  # the time-based export may repeat the boundary second
    assert (
        pages > 1
        and "next_page" in last
        and "end_time" in last
        and last["count"] == len(last["ticket_events"])
    )
    comments = [c for e in events for c in e["child_events"] if c["event_type"] == "Comment"]
    assert {c["public"] for c in comments} == {True, False}  # internal notes exist
    assert all({"author_id", "body", "audit_id"} <= set(c) for c in comments)
    changes = [c for e in events for c in e["child_events"] if c["event_type"] == "Change"]
    assert all("previous_value" in c for c in changes)
    # without the sideload, a comment child only says that a comment is there
    r = requests.get(
        f"{api(url)}/incremental/ticket_events",
        params={"start_time": 0, "per_page": 50},
        auth=AUTH,
        timeout=30,
    )
    plain = [
        c
        for e in r.json()["ticket_events"]
        for c in e["child_events"]
        if c["event_type"] == "Comment"
    ]
    assert plain and all("comment_public" in c and "body" not in c for c in plain)


def test_ticket_metric_events_time_export(served):
    sim, url = served
    events, pages, last = follow(
        f"{api(url)}/incremental/ticket_metric_events.json",
        {"start_time": 0},
        "ticket_metric_events",
        "next_page",
        lambda b: b["end_of_stream"],
    )
    ids = {e["id"] for e in events}
    assert len(ids) == sim.ground_truth()["raw_zendesk.ticket_metric_events"]
    assert pages > 1 and {"next_page", "end_time", "count"} <= set(last)
    assert {e["metric"] for e in events} == {
        "reply_time",
        "requester_wait_time",
        "agent_work_time",
        "periodic_update_time",
        "pausable_update_time",
    }
    assert all(e["instance_id"] >= 1 for e in events)
    # reply time and periodic update never pause; requester wait and agent work keep instance
    # 1 through pauses and reopens; pausable update has one instance per agent comment
    pauses = [e for e in events if e["type"] == "pause"]
    assert {e["metric"] for e in pauses} == {
        "requester_wait_time",
        "agent_work_time",
        "pausable_update_time",
    }
    assert all(e["instance_id"] == 1 for e in pauses if e["metric"] != "pausable_update_time")
    assert max(e["instance_id"] for e in pauses) > 1
    times = [e["time"] for e in events]
    assert times == sorted(times), "listed in chronological order"
    assert max(times) <= sim.clock.strftime("%Y-%m-%dT%H:%M:%SZ"), "nothing ahead of its time"
    by_type: dict[str, list[dict]] = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
    assert set(by_type) == {"apply_sla", "activate", "pause", "breach", "fulfill", "update_status"}
    assert all(
        set(e) == {"id", "ticket_id", "metric", "instance_id", "type", "time"} for e in pauses
    )
    # `deleted` on breach events only; `sla` on apply_sla; `status` on update_status
    assert all(isinstance(e["deleted"], bool) for e in by_type["breach"])
    assert {e["deleted"] for e in by_type["breach"]} == {True, False}
    assert not any("deleted" in e for e in by_type["fulfill"])
    sla = by_type["apply_sla"][0]["sla"]
    assert set(sla) == {"target", "target_in_seconds", "business_hours", "policy"}
    assert sla["target_in_seconds"] == 60 * sla["target"] and set(sla["policy"]) >= {"id", "title"}
    assert all(set(e["status"]) == {"calendar", "business"} for e in by_type["update_status"])

    # a reply-time breach stands only when it came before the fulfilment (a pausable metric
    # runs again after a reopen, so a breach may stand after its first fulfilment)
    def key(e):
        return e["ticket_id"], e["metric"], e["instance_id"]

    fulfilled = {key(e): e["time"] for e in by_type["fulfill"] if e["metric"] == "reply_time"}
    for b in by_type["breach"]:
        done = fulfilled.get(key(b))
        if not b["deleted"] and b["metric"] == "reply_time":
            assert done is None or b["time"] < done
    # resuming from a later start time lists only what happened since
    later = requests.get(
        f"{api(url)}/incremental/ticket_metric_events",
        params={"start_time": last["end_time"] - 86400 * 7},
        auth=AUTH,
        timeout=30,
    ).json()
    assert 0 < later["count"] < len(ids)


def test_sla_policies(served):
    _, url = served
    r = requests.get(f"{api(url)}/slas/policies.json", auth=AUTH, timeout=30)
    body = r.json()
    assert r.status_code == 200 and set(body) == {"sla_policies", "count", "next_page"}
    assert body["count"] == len(body["sla_policies"]) == 5 and body["next_page"] is None
    fields = set()
    for p in body["sla_policies"]:
        assert {"id", "title", "position", "filter", "policy_metrics", "updated_at"} <= set(p)
        assert set(p["filter"]) == {"all", "any"}
        fields |= {c["field"] for c in p["filter"]["all"] + p["filter"]["any"]}
        for m in p["policy_metrics"]:
            assert set(m) == {"priority", "metric", "target", "target_in_seconds", "business_hours"}
            assert m["target_in_seconds"] == 60 * m["target"] > 0
        assert {m["metric"] for m in p["policy_metrics"]} == {
            "first_reply_time",
            "next_reply_time",
            "requester_wait_time",
            "agent_work_time",
            "periodic_update_time",
            "pausable_update_time",
        }
    assert [p["position"] for p in body["sla_policies"]] == [1, 2, 3, 4, 5]
    assert fields == {"type", "priority", "organization_id", "group_id"}


def test_users_export_includes_deactivated_agents_and_organizations_export(served):
    sim, url = served
    users, _, _ = follow(
        f"{api(url)}/incremental/users/cursor",
        {"start_time": 0, "per_page": 50},
        "users",
        "after_url",
        lambda b: b["end_of_stream"],
    )
    assert len(users) == sim.ground_truth()["raw_zendesk.users"]
    agents = [u for u in users if u["role"] == "agent"]
    assert any(not a["active"] for a in agents), "terminated agents are deactivated"
    orgs, _, _last = follow(
        f"{api(url)}/incremental/organizations",
        {"start_time": 0, "per_page": 5},
        "organizations",
        "next_page",
        lambda b: b["end_of_stream"],
    )
    assert len({o["id"] for o in orgs}) == sim.ground_truth()["raw_zendesk.organizations"]
    assert all(isinstance(o["domain_names"], list) for o in orgs)


def test_groups_list_cursor_paging(served):
    sim, url = served
    groups, pages, last = follow(
        f"{api(url)}/groups",
        {"page[size]": 1},
        "groups",
        "links.next",
        lambda b: not b["meta"]["has_more"],
    )
    assert pages == len(groups) == sim.ground_truth()["raw_zendesk.groups"]
    assert last["links"]["next"] is None


def test_schedule_and_holidays(served):
    _, url = served
    r = requests.get(f"{api(url)}/business_hours/schedules", auth=AUTH, timeout=10).json()
    (schedule,) = r["schedules"]
    assert schedule["time_zone"] == "Eastern Time (US & Canada)"
    assert {"start_time": 1980, "end_time": 2520} in schedule["intervals"]  # Mon 09:00-18:00
    hol = requests.get(
        f"{api(url)}/business_hours/schedules/{schedule['id']}/holidays", auth=AUTH, timeout=10
    ).json()
    thanksgiving_2025 = [h for h in hol["holidays"] if h["name"] == "Thanksgiving 2025"]
    assert thanksgiving_2025 == [
        {
            "id": thanksgiving_2025[0]["id"],
            "name": "Thanksgiving 2025",
            "start_date": "2025-11-27",
            "end_date": "2025-11-28",
        }
    ]
    assert (
        requests.get(
            f"{api(url)}/business_hours/schedules/1/holidays", auth=AUTH, timeout=10
        ).status_code
        == 404
    )


def test_exports_require_a_start(served):
    _, url = served
    r = requests.get(f"{api(url)}/incremental/tickets/cursor", auth=AUTH, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "InvalidValue"
