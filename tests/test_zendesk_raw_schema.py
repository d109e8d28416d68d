"""The raw Zendesk tables the dbt staging models read: their columns and types, child rows
matched one by one to the served pages, and the metric events field by field.

The loader may change how records get into DuckDB (how pages are decoded, Arrow tables
instead of dlt's row-by-row normalizer: issue 22); what lands must not change. The columns
are pinned as dlt loaded them from the test world before that work (order aside: dlt
appends a column where a record first shows it)."""

from __future__ import annotations

from collections import Counter

import duckdb
import requests

from ingestion import pipeline
from ingestion.sources.zendesk import metric_events_table
from simulator.credentials import ZENDESK_EMAIL, ZENDESK_TOKEN
from warehouse.settings import Settings

TS, S, N, B = "TIMESTAMP WITH TIME ZONE", "VARCHAR", "BIGINT", "BOOLEAN"
DLT_ROOT = {"_dlt_load_id": S, "_dlt_id": S}
DLT_CHILD = {"_dlt_root_id": S, "_dlt_parent_id": S, "_dlt_list_idx": N, "_dlt_id": S}

RAW_ZENDESK = {
    "groups": {"id": N, "name": S, "description": S, "default": B, "deleted": B,
               "is_public": B, "created_at": TS, "updated_at": TS, **DLT_ROOT},
    "organizations": {"id": N, "url": S, "name": S, "details": S, "notes": S,
                      "shared_tickets": B, "shared_comments": B, "created_at": TS,
                      "updated_at": TS, **DLT_ROOT},
    "organizations__domain_names": {"value": S, **DLT_CHILD},
    "schedule_holidays": {"id": N, "name": S, "start_date": S, "end_date": S,
                          "_schedules_id": N, **DLT_ROOT},
    "schedules": {"id": N, "name": S, "time_zone": S, "created_at": TS, "updated_at": TS,
                  **DLT_ROOT},
    "schedules__intervals": {"start_time": N, "end_time": N, **DLT_CHILD},
    "sla_policies": {"filter": "JSON", "id": N, "url": S, "title": S, "description": S,
                     "position": N, "created_at": TS, "updated_at": TS, **DLT_ROOT},
    "sla_policies__policy_metrics": {"priority": S, "metric": S, "target": N,
                                     "target_in_seconds": N, "business_hours": B, **DLT_CHILD},
    "ticket_events": {"id": N, "ticket_id": N, "timestamp": N, "created_at": TS,
                      "updater_id": N, "via": S, "event_type": S, "system__client": S,
                      **DLT_ROOT},
    "ticket_events__child_events": {
        "id": N, "via": S, "status": S, "event_type": S, "priority": S, "group_id": S,
        "assignee_id": S, "type": S, "author_id": N, "body": S, "html_body": S, "public": B,
        "audit_id": N, "created_at": TS, "previous_value": S, **DLT_CHILD},
    "ticket_metric_events": {
        "id": N, "ticket_id": N, "metric": S, "instance_id": N, "type": S, "time": TS,
        "sla__target": N, "sla__target_in_seconds": N, "sla__business_hours": B,
        "sla__policy__id": N, "sla__policy__title": S, "sla__policy__description": S,
        "status__calendar": N, "status__business": N, "deleted": B, **DLT_ROOT},
    "tickets": {
        "id": N, "url": S, "type": S, "subject": S, "raw_subject": S, "description": S,
        "priority": S, "status": S, "requester_id": N, "submitter_id": N, "assignee_id": N,
        "organization_id": N, "group_id": N, "has_incidents": B, "is_public": B,
        "brand_id": N, "allow_channelback": B, "allow_attachments": B,
        "from_messaging_channel": B, "generated_timestamp": N, "created_at": TS,
        "updated_at": TS, "via__channel": S, "custom_status_id": N, **DLT_ROOT},
    "tickets__custom_fields": {"id": N, "value": S, **DLT_CHILD},
    "tickets__fields": {"id": N, "value": S, **DLT_CHILD},
    "tickets__tags": {"value": S, **DLT_CHILD},
    "users": {
        "photo": "JSON", "id": N, "url": S, "name": S, "email": S, "created_at": TS,
        "updated_at": TS, "time_zone": S, "iana_time_zone": S, "locale_id": N, "locale": S,
        "organization_id": N, "role": S, "verified": B, "active": B, "shared": B,
        "shared_agent": B, "details": S, "notes": S, "moderator": B, "ticket_restriction": S,
        "only_private_comments": B, "restricted_agent": B, "suspended": B, "report_csv": B,
        "chat_only": B, "phone": S, "shared_phone_number": B, "alias": S,
        "last_login_at": TS, "two_factor_auth_enabled": B, "signature": S,
        "default_group_id": N, **DLT_ROOT},
}  # fmt: skip


def served(url: str, path: str, key: str, next_key: str, **params) -> list[dict]:
    """Every record of an incremental export, the last copy of each id (the merge keeps it)."""
    session = requests.Session()
    session.auth = (f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN)
    records: dict[int, dict] = {}
    next_url: str | None = f"{url}/zendesk/api/v2/{path}"
    query: dict | None = {"start_time": 946684800, **params}
    while next_url:
        body = session.get(next_url, params=query, timeout=60).json()
        records |= {r["id"]: r for r in body[key]}
        next_url = None if body.get("end_of_stream") else body.get(next_key)
        query = None
    return list(records.values())


def test_raw_zendesk_columns_types_and_child_rows_are_what_dbt_reads(warehouse):
    _, url, _ = warehouse
    pipeline.ingest(["zendesk"], echo=lambda _: None)
    con = duckdb.connect(str(Settings.from_env().warehouse_path), read_only=True)
    try:
        columns: dict[str, dict[str, str]] = {}
        for table, column, dtype in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_zendesk' and table_name not like '\\_dlt%' escape '\\'"
        ).fetchall():
            columns.setdefault(table, {})[column] = dtype
        assert columns == RAW_ZENDESK

        def rows(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        tickets = served(url, "incremental/tickets/cursor", "tickets", "after_url")
        events = served(
            url, "incremental/ticket_events", "ticket_events", "next_page",
            include="comment_events",
        )  # fmt: skip
        # each child row, keyed by its parent's id and its place in the list
        for child, records, field, value in [
            ("tickets__tags", tickets, "tags", lambda v: v),
            ("tickets__custom_fields", tickets, "custom_fields", lambda v: v["id"]),
            ("tickets__fields", tickets, "fields", lambda v: v["id"]),
            ("ticket_events__child_events", events, "child_events", lambda v: v["id"]),
        ]:
            parent, _ = child.split("__")
            expected = Counter(
                (r["id"], i, value(v)) for r in records for i, v in enumerate(r.get(field) or [])
            )
            landed = Counter(
                rows(
                    f"select p.id, c._dlt_list_idx, c.{'value' if field == 'tags' else 'id'} "
                    f"from raw_zendesk.{child} c join raw_zendesk.{parent} p "
                    "on c._dlt_parent_id = p._dlt_id and c._dlt_root_id = p._dlt_id"
                )
            )
            assert expected and landed == expected, child
            # no child row without its parent
            assert rows(f"select count(*) from raw_zendesk.{child}") == [(sum(expected.values()),)]
        # the values, not only the keys: a comment's body and a change's previous value
        bodies = {
            (e["id"], c["id"]): (c.get("body"), c.get("previous_value"))
            for e in events
            for c in e.get("child_events") or []
        }
        landed = {
            (e, c): (body, prev)
            for e, c, body, prev in rows(
                "select p.id, c.id, c.body, c.previous_value from "
                "raw_zendesk.ticket_events__child_events c join raw_zendesk.ticket_events p "
                "on c._dlt_parent_id = p._dlt_id"
            )
        }
        assert landed == {k: tuple(None if v is None else str(v) for v in vs)
                          for k, vs in bodies.items()}  # fmt: skip

        # the metric events (loaded as Arrow tables): every field of every event, as sent
        metric_events = served(
            url, "incremental/ticket_metric_events", "ticket_metric_events", "next_page"
        )
        expected_events = {
            (
                e["id"], e["ticket_id"], e["metric"], e["instance_id"], e["type"], e["time"],
                (e.get("sla") or {}).get("target"),
                (e.get("sla") or {}).get("target_in_seconds"),
                (e.get("sla") or {}).get("business_hours"),
                ((e.get("sla") or {}).get("policy") or {}).get("id"),
                ((e.get("sla") or {}).get("policy") or {}).get("title"),
                (e.get("status") or {}).get("calendar"),
                (e.get("status") or {}).get("business"),
                e.get("deleted"),
            )
            for e in metric_events
        }  # fmt: skip
        landed_events = set(
            rows(
                "select id, ticket_id, metric, instance_id, type, "
                "strftime(time at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ'), sla__target, "
                "sla__target_in_seconds, sla__business_hours, sla__policy__id, "
                "sla__policy__title, status__calendar, status__business, deleted "
                "from raw_zendesk.ticket_metric_events"
            )
        )
        assert len(expected_events) == len(metric_events) > 0
        assert landed_events == expected_events
        loads = rows(
            "select count(*), count(distinct _dlt_id), count(_dlt_load_id) "
            "from raw_zendesk.ticket_metric_events"
        )
        assert loads == [(len(metric_events),) * 3]
    finally:
        con.close()


def test_a_metric_event_page_that_does_not_fit_the_columns_is_left_to_dlt():
    """A field Zendesk adds, or a value of another type, must reach dlt's own normalizer
    (which adds a column or a variant) rather than be dropped or fail the load."""
    event = {
        "id": 1, "ticket_id": 2, "metric": "reply_time", "instance_id": 1, "type": "apply_sla",
        "time": "2026-01-02T03:04:05Z",
        "sla": {"target": 60, "target_in_seconds": 3600, "business_hours": True,
                "policy": {"id": 7, "title": "Gold", "description": ""}},
    }  # fmt: skip
    table = metric_events_table([event, {**event, "id": 3, "type": "breach", "deleted": True}])
    assert table is not None and table.num_rows == 2
    assert table.column("sla__policy__title").to_pylist() == ["Gold", "Gold"]
    assert str(table.column("time").type) == "timestamp[us, tz=UTC]"
    assert table.column("time")[0].as_py().isoformat() == "2026-01-02T03:04:05+00:00"
    assert table.column("deleted").to_pylist() == [None, True]
    assert metric_events_table([{**event, "new_field": 1}]) is None
    assert metric_events_table([{**event, "sla": {**event["sla"], "new": 1}}]) is None
    assert metric_events_table([{**event, "id": "not-a-number"}]) is None
    assert metric_events_table([{**event, "time": "yesterday"}]) is None


def test_the_cursor_path_is_compiled_once_for_every_page():
    """dlt compiles the incremental cursor's path again for every Arrow table it receives
    (every page of metric events); the Zendesk source caches the compiled paths, which then
    find each document's own values."""
    from dlt.common import jsonpath

    import ingestion.sources.zendesk  # noqa: F401 (the cache is set on import)

    assert jsonpath.compile_path("sla.policy.id") is jsonpath.compile_path("sla.policy.id")
    assert jsonpath.extract_simple_field_name("time") == "time"
    path = jsonpath.compile_path("sla.policy.id")
    assert jsonpath.find_values(path, {"sla": {"policy": {"id": 7}}}) == [7]
    assert jsonpath.find_values(path, {"sla": {"policy": {"id": 8}}}) == [8]
    assert jsonpath.find_values(path, {"sla": None}) == []
