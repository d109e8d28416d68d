"""Zendesk Support API v2 stand-in (mounted at /zendesk/api/v2).

Contract (the vendor's public API reference, summarised in simulator/README.md): Basic `{email}/token:{token}` or Bearer auth;
cursor exports for tickets and users (`after_cursor`, `after_url`, `end_of_stream`),
time-based exports for ticket events and organizations (`next_page`, `end_time`,
`end_of_stream`, duplicates across pages at the boundary timestamp), list-cursor
paging for groups (`meta.has_more`, `links.next`), business-hours schedules and holidays.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import threading
from collections.abc import Callable
from functools import cache
from time import perf_counter

import numpy as np
import pandas as pd
from starlette.requests import Request
from starlette.routing import Route

from simulator import calendar, sla
from simulator.credentials import ZENDESK_EMAIL, ZENDESK_TOKEN
from simulator.server import Simulator, cached_by_clock
from simulator.wire import JSONResponse, absolute, dirty_mask, epoch, iso_offset, iso_z

MAX_PER_PAGE = 1000
SCRUBBED_ID_OFFSET = 10**10  # metric events of scrubbed tickets (dirt): ids and tickets apart
DRIFT_DAYS = 90  # tickets created in the last 90 days before the first clock carry a new field


def _authorized(request: Request) -> bool:
    auth = request.headers.get("authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:] == ZENDESK_TOKEN
    if auth.startswith("Basic "):
        try:
            user, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == f"{ZENDESK_EMAIL}/token" and secret == ZENDESK_TOKEN
    return False


def _unauthorized() -> JSONResponse:
    return JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)


def _bad(description: str) -> JSONResponse:
    return JSONResponse({"error": "InvalidValue", "description": description}, status_code=400)


def _per_page(request: Request) -> int:
    return max(1, min(MAX_PER_PAGE, int(request.query_params.get("per_page", MAX_PER_PAGE))))


# ---- static per-world tables (computed once per simulator) -------------------
@cache
def _ticket_static(sim: Simulator) -> pd.DataFrame:
    t = sim.world.tickets
    n = len(t)
    created = iso_z(t.created_at)
    created = created.where(
        ~dirty_mask(sim, "zendesk.tickets.offset_ts", n), iso_offset(t.created_at)
    )
    unknown_priority = dirty_mask(sim, "zendesk.tickets.unknown_priority", n)
    org = t.organization_id.astype("Int64").where(
        ~dirty_mask(sim, "zendesk.tickets.missing_org", n)
    )
    drift_from = sim.config.clock0 - pd.Timedelta(days=DRIFT_DAYS)
    return pd.DataFrame(
        {
            "id": t.ticket_id,
            "created_at": created,
            "unknown_priority": unknown_priority,
            "organization_id": org,
            "has_drift": (t.created_at >= drift_from) & (sim.config.dirty_rate > 0),
        }
    )


@cache
def _audits(sim: Simulator) -> pd.DataFrame:
    """One row per audit with the row range of its child events (events are audit-contiguous)."""
    ev = sim.world.ticket_events
    first = np.r_[True, ev.audit_id.to_numpy()[1:] != ev.audit_id.to_numpy()[:-1]]
    starts = np.flatnonzero(first)
    a = ev.iloc[starts][["audit_id", "ticket_id", "ts", "updater_id", "via"]].reset_index(drop=True)
    a["row_start"] = starts
    a["row_end"] = np.r_[starts[1:], len(ev)]
    a["epoch"] = epoch(a.ts)
    return a


@cached_by_clock
def audits_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    """Audits up to the clock: filtered once per clock, not once per page served (a full scan
    per page made serving the ticket-events export quadratic in history)."""
    a = _audits(sim)
    return a[a.ts <= clock]


@cached_by_clock
def tickets_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    """Tickets as of the clock: status and update time from the events seen so far."""
    t = sim.world.tickets
    ev = sim.world.ticket_events
    seen = ev[ev.ts <= clock]
    status = seen[seen.field == "status"].groupby("ticket_idx").value.last()
    priority = seen[seen.field == "priority"].groupby("ticket_idx").value.last()
    updated = seen.groupby("ticket_idx").ts.max()
    vis = np.flatnonzero((t.created_at <= clock).to_numpy())
    view = pd.DataFrame({"idx": vis})
    view["status"] = status.reindex(vis).to_numpy()
    view["priority"] = priority.reindex(vis).to_numpy()
    view["updated_at"] = updated.reindex(vis).to_numpy()
    view["gts"] = epoch(view.updated_at)
    view["id"] = t.ticket_id.to_numpy()[vis]
    return view.sort_values(["gts", "id"], ignore_index=True)


def _ticket_json(sim: Simulator, request: Request, rows: pd.DataFrame) -> list[dict]:
    t = sim.world.tickets
    st = _ticket_static(sim)
    base = str(request.base_url).rstrip("/") + "/zendesk/api/v2/tickets/"
    out = []
    idx = rows.idx.to_numpy()
    # one row per ticket as plain Python objects: positional .iloc per row is ~100x slower
    wire = st.iloc[idx].drop(columns="id").add_prefix("wire_").reset_index(drop=True)
    page = pd.concat([t.iloc[idx].reset_index(drop=True), wire], axis=1)
    rows_iter = page.itertuples(index=False)
    for r, status, priority, upd, gts in zip(
        rows_iter, rows.status, rows.priority, iso_z(rows.updated_at), rows.gts, strict=True
    ):
        tid = int(r.ticket_id)
        org = r.wire_organization_id
        rec = {
            "id": tid,
            "url": f"{base}{tid}.json",
            "external_id": None,
            "type": r.type,
            "subject": f"{r.product_area.capitalize()} question #{tid}",
            "raw_subject": f"{r.product_area.capitalize()} question #{tid}",
            "description": "Customer request",
            "priority": "critical" if r.wire_unknown_priority else priority,
            "status": status,
            "requester_id": int(r.requester_id),
            "submitter_id": int(r.submitter_id),
            "assignee_id": int(r.assignee_id) or None,
            "organization_id": None if pd.isna(org) else int(org),
            "group_id": int(r.group_id) or None,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": [r.product_area, r.channel],
            "via": {"channel": r.channel, "source": {"from": {}, "to": {}, "rel": None}},
            "custom_fields": [{"id": 360000100001, "value": r.product_area}],
            "fields": [{"id": 360000100001, "value": r.product_area}],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "ticket_form_id": None,
            "brand_id": 360000000100,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
            "generated_timestamp": int(gts),
            "created_at": r.wire_created_at,
            "updated_at": upd,
        }
        if r.wire_has_drift:
            rec["custom_status_id"] = 360000300000 + [
                "new",
                "open",
                "pending",
                "hold",
                "solved",
                "closed",
                "deleted",
            ].index(status)
        out.append(rec)
    return out


# ---- cursor export (tickets, users) -------------------------------------------
def _encode(ts: int, id_: int) -> str:
    return base64.urlsafe_b64encode(f"{ts}|{id_}".encode()).decode()


def _decode(cursor: str) -> tuple[int, int]:
    ts, _, id_ = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
    return int(ts), int(id_)


def _cursor_export(request: Request, view: pd.DataFrame, key: str, render) -> JSONResponse:
    """view sorted by (gts, id). Zendesk cursor-based incremental export envelope."""
    q = request.query_params
    per_page = _per_page(request)
    gts, ids = view.gts.to_numpy(), view.id.to_numpy()
    if "cursor" in q:
        try:
            pos_ts, pos_id = _decode(q["cursor"])
        except (ValueError, binascii.Error):
            return _bad("cursor is invalid")
        lo = np.searchsorted(gts, pos_ts, "left")
        lo += int(np.searchsorted(ids[lo:][gts[lo:] == pos_ts], pos_id, "right"))
    elif "start_time" in q:
        pos_ts, pos_id = int(q["start_time"]), 0
        lo = int(np.searchsorted(gts, pos_ts, "left"))
    else:
        return _bad("start_time or cursor is required")
    page = view.iloc[lo : lo + per_page]
    end = lo + len(page) >= len(view)
    if len(page):
        pos_ts, pos_id = int(page.gts.iloc[-1]), int(page.id.iloc[-1])
    after = _encode(pos_ts, pos_id)
    # the next link carries the cursor, and per_page only if the client chose one
    params = {"cursor": after, **({"per_page": per_page} if "per_page" in q else {})}
    return JSONResponse(
        {
            key: render(page),
            "after_url": absolute(request, **params),
            "after_cursor": after,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": bool(end),
        }
    )


# ---- time-based export (ticket events, organizations) --------------------------
def _time_export(request: Request, epochs: np.ndarray, key: str, render) -> JSONResponse:
    """epochs sorted ascending; render(lo, hi) builds the records of positions lo..hi-1."""
    q = request.query_params
    if "start_time" not in q:
        return _bad("start_time is required")
    start = int(q["start_time"])
    per_page = _per_page(request)
    lo = int(np.searchsorted(epochs, start, "left"))
    hi = min(lo + per_page, len(epochs))
    if hi > lo:  # a page never splits one timestamp: it may exceed per_page
        hi = int(np.searchsorted(epochs, epochs[hi - 1], "right"))
    items = render(lo, hi)
    end_of_stream = hi >= len(epochs)
    end_time = int(epochs[hi - 1]) if hi > lo else start
    if hi > lo and epochs[lo] == epochs[hi - 1]:
        end_time += 1  # a page of one timestamp: step past it or the export never advances
    params: dict = {"start_time": end_time}
    if "per_page" in q:
        params["per_page"] = per_page
    if "include" in q:
        params["include"] = q["include"]
    return JSONResponse(
        {
            key: items,
            "count": len(items),
            "end_of_stream": bool(end_of_stream),
            "end_time": end_time,
            "next_page": absolute(request, **params),
        }
    )


def _events_json(sim: Simulator, audits: pd.DataFrame, comments: bool) -> list[dict]:
    out: list[dict] = []
    if audits.empty:
        return out
    # the page's child rows as Python lists (numpy scalar access per element is slow)
    base = int(audits.row_start.iloc[0])
    rows = sim.world.ticket_events.iloc[base : int(audits.row_end.iloc[-1])]
    names = (
        "child_id",
        "child_type",
        "field",
        "value",
        "previous_value",
        "author_id",
        "public",
        "body",
    )
    cols = {c: rows[c].tolist() for c in names}
    created = iso_z(audits.ts).to_numpy()
    for a, created_at in zip(audits.itertuples(index=False), created, strict=True):
        children = []
        for j in range(a.row_start - base, a.row_end - base):
            kind = cols["child_type"][j]
            child = {"id": int(cols["child_id"][j]), "via": a.via, "via_reference_id": None}
            if kind == "Comment":
                public = bool(cols["public"][j])
                if comments:
                    child |= {
                        "type": "Comment",
                        "author_id": int(cols["author_id"][j]),
                        "body": cols["body"][j],
                        "html_body": f'<div class="zd-comment"><p>{cols["body"][j]}</p></div>',
                        "public": public,
                        "attachments": [],
                        "audit_id": int(a.audit_id),
                        "created_at": created_at,
                    }  # `via` stays the audit's string, as on every child event of this export
                else:
                    child |= {"comment_present": True, "comment_public": public}
            else:
                child[cols["field"][j]] = cols["value"][j]
                if kind == "Change":
                    child["previous_value"] = cols["previous_value"][j]
            child["event_type"] = kind
            children.append(child)
        out.append(
            {
                "id": int(a.audit_id),
                "ticket_id": int(a.ticket_id),
                "timestamp": int(a.epoch),
                "created_at": created_at,
                "updater_id": int(a.updater_id),
                "via": a.via,
                "event_type": "Audit",
                "system": {
                    "client": "Mozilla/5.0",
                    "location": None,
                    "latitude": None,
                    "longitude": None,
                    "ip_address": None,
                },
                "metadata": {},
                "child_events": children,
            }
        )
    return out


# ---- users, organizations, groups -----------------------------------------------
def _day_utc(naive: pd.Series) -> pd.Series:
    """An HRIS calendar date as the UTC instant the help desk records it (13:00 UTC)."""
    return (naive + pd.Timedelta(hours=13)).dt.tz_localize("UTC")


@cached_by_clock
def users_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    w = sim.world
    # end users: customer contacts, created in the help desk when their company becomes a customer
    ct = w.contacts
    acq = w.companies.acquired_at.reindex(ct.company_idx).to_numpy()
    ok = ~pd.isna(acq)
    created = pd.Series(np.where(ok, np.maximum(ct.created_at.to_numpy(), acq), pd.NaT)).astype(
        "datetime64[us, UTC]"
    )
    noisy = dirty_mask(sim, "zendesk.users.email_noise", len(ct))
    email = ct.email.where(~noisy, "  " + ct.email.str.upper() + " ")
    end_users = pd.DataFrame(
        {
            "id": ct.zendesk_user_id,
            "name": ct.first_name + " " + ct.last_name,
            "email": email,
            "role": "end-user",
            "active": True,
            "organization_id": w.companies.org_id.reindex(ct.company_idx).to_numpy(),
            "default_group_id": None,
            "created_at": created,
            "updated_at": created,
        }
    )[ok & (created <= clock).to_numpy()]
    # agents: one per support employee; inactive while not employed; default group = current team
    seg = w.agent_segments.copy()
    seg["from_at"], seg["to_at"] = _day_utc(seg["from"]), _day_utc(seg["to"])
    seen = seg[seg.from_at <= clock]
    horizon = _day_utc(pd.Series([sim.config.end.tz_localize(None)]))[0]
    last = seen.sort_values("from_at").groupby("employee_id").last()
    first = seen.groupby("employee_id").from_at.min()
    changes = pd.concat(
        [
            seen[["employee_id", "from_at"]].rename(columns={"from_at": "changed_at"}),
            seen[["employee_id", "to_at"]].rename(columns={"to_at": "changed_at"}),
        ]
    )
    changes = changes[(changes.changed_at <= clock) & (changes.changed_at < horizon)]
    updated = changes.groupby("employee_id").changed_at.max()
    people = w.people.set_index("employee_id").reindex(last.index)
    noisy = dirty_mask(sim, "zendesk.agents.email_noise", len(w.people) + 1)[last.index.to_numpy()]
    group_of = w.teams.set_index("team_idx").group_id
    agents = pd.DataFrame(
        {
            "id": 380000000000 + last.index.to_numpy(),
            "name": (people.first_name + " " + people.last_name).to_numpy(),
            "email": np.where(noisy, people.work_email.str.title(), people.work_email),
            "role": "agent",
            "active": (last.to_at > clock).to_numpy(),
            "organization_id": None,
            "default_group_id": group_of.reindex(last.team_idx).to_numpy(),
            "created_at": first.reindex(last.index).to_numpy(),
            "updated_at": updated.reindex(last.index).to_numpy(),
        }
    )
    admins_at = sim.config.start - pd.Timedelta(days=500)
    # every agent, admins included, has a default group in Zendesk: the first team's
    first_group = int(w.teams.group_id[w.teams.group_id > 0].iloc[0])
    admins = pd.DataFrame(
        {
            "id": [389000000001, 389000000002],
            "name": ["Help Desk Admin", "Integration Bot"],
            "email": ["admin@xm-helpdesk.example", "bot@xm-helpdesk.example"],
            "role": "admin",
            "active": True,
            "organization_id": None,
            "default_group_id": first_group,
            "created_at": admins_at,
            "updated_at": admins_at,
        }
    )
    users = pd.concat([end_users, agents, admins], ignore_index=True)
    users["gts"] = epoch(users.updated_at)
    return users.sort_values(["gts", "id"], ignore_index=True)


def _share(seed: int, ids: np.ndarray, salt: int) -> np.ndarray:
    """A uniform [0, 1) draw per user id, fixed by the seed: stable across clock moves and
    pages (a per-record hash, not a stream position)."""
    x = (ids.astype(np.uint64) * np.uint64(0x9E3779B1) + np.uint64(seed * 0x85EBCA6B + salt)) % (
        np.uint64(2**32)
    )
    return x.astype(np.float64) / 2**32


PHOTO_HOST = "https://xmdemo.zendesk.com"  # the account's own host: stable whatever port serves


def _photo(user_id: int) -> dict:
    """An agent's profile picture: an Attachment with one thumbnail, as Zendesk sends it (links
    point at the account's host, not at the simulator: they are never followed)."""
    pid = 370000000000 + user_id % 10**9 * 2

    def attachment(aid: int, name: str, size: int, side: int) -> dict:
        return {
            "url": f"{PHOTO_HOST}/api/v2/attachments/{aid}.json",
            "id": aid,
            "file_name": name,
            "content_url": f"{PHOTO_HOST}/system/photos/{aid}/{name}",
            "mapped_content_url": f"{PHOTO_HOST}/system/photos/{aid}/{name}",
            "content_type": "image/png",
            "size": size,
            "width": side,
            "height": side,
            "inline": False,
            "deleted": False,
        }

    photo = attachment(pid, "profile.png", 24_000 + user_id % 9_000, 80)
    photo["thumbnails"] = [attachment(pid + 1, "profile_thumb.png", 2_000 + user_id % 900, 32)]
    return photo


def _users_json(sim: Simulator, request: Request, rows: pd.DataFrame) -> list[dict]:
    """Every field of Zendesk's user object (its OpenAPI's 39), with the values and nulls the
    real service sends for each role: end users are `restricted_agent` with ticket access
    `requested`, have no signature, alias or 2FA state; some have a phone; agents have a
    signature, some a photo."""
    base = str(request.base_url).rstrip("/") + "/zendesk/api/v2/users/"
    created, updated = iso_z(rows.created_at), iso_z(rows.updated_at)
    ids = rows.id.to_numpy().astype(np.int64)
    seed = sim.config.seed
    has_phone, has_photo = _share(seed, ids, 1) < 0.3, _share(seed, ids, 2) < 0.4
    unverified, two_factor = _share(seed, ids, 3) < 0.1, _share(seed, ids, 4) < 0.5
    out = []
    rows_iter = rows.itertuples(index=False)
    for k, (r, c, u) in enumerate(zip(rows_iter, created, updated, strict=True)):
        uid, staff = int(r.id), r.role != "end-user"
        phone = f"+1555{uid % 10_000_000:07d}" if has_phone[k] and not staff else None
        first = str(r.name).split(" ")[0]
        out.append(
            {
                "id": uid,
                "url": f"{base}{uid}.json",
                "name": r.name,
                "email": r.email,
                "created_at": c,
                "updated_at": u,
                "time_zone": calendar.SCHEDULE_RAILS_TZ,
                "iana_time_zone": calendar.SCHEDULE_IANA_TZ,
                "phone": phone,
                "shared_phone_number": None if phone is None else False,
                "photo": _photo(uid) if staff and has_photo[k] else None,
                "locale_id": 1,
                "locale": "en-US",
                "organization_id": None if pd.isna(r.organization_id) else int(r.organization_id),
                "role": r.role,
                "verified": bool(staff or not unverified[k]),
                "external_id": None,
                "tags": [],
                "alias": "" if staff else None,
                "active": bool(r.active),
                "shared": False,
                "shared_agent": False,
                "last_login_at": u if staff else None,
                "two_factor_auth_enabled": bool(r.role == "admin" or two_factor[k])
                if staff
                else None,
                "signature": f"{first}\nExperience Warehouse Support" if staff else None,
                "details": "",
                "notes": "",
                "role_type": None,
                "custom_role_id": None,
                "moderator": r.role == "admin",
                "ticket_restriction": None if staff else "requested",
                "only_private_comments": False,
                "restricted_agent": not staff,
                "suspended": False,
                "default_group_id": None
                if pd.isna(r.default_group_id)
                else int(r.default_group_id),
                "report_csv": r.role == "admin",
                "chat_only": False,
                "user_fields": {},
            }
        )
    return out


@cached_by_clock
def orgs_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    comp = sim.world.companies
    noisy = dirty_mask(sim, "zendesk.orgs.domain_noise", len(comp))
    domain = comp.domain.where(~noisy, "WWW." + comp.domain.str.upper())
    orgs = pd.DataFrame(
        {"id": comp.org_id, "name": comp.name, "domain": domain, "created_at": comp.acquired_at}
    )
    orgs = orgs[(orgs.created_at <= clock).fillna(False)]
    orgs["epoch"] = epoch(orgs.created_at)
    return orgs.sort_values(["epoch", "id"], ignore_index=True)


def _org_json(request: Request, rows: pd.DataFrame) -> list[dict]:
    base = str(request.base_url).rstrip("/") + "/zendesk/api/v2/organizations/"
    created = iso_z(rows.created_at)
    return [
        {
            "id": int(r.id),
            "url": f"{base}{int(r.id)}.json",
            "name": r.name,
            "external_id": None,
            "domain_names": [r.domain],
            "group_id": None,
            "tags": [],
            "details": "",
            "notes": "",
            "shared_tickets": False,
            "shared_comments": False,
            "organization_fields": {},
            "created_at": c,
            "updated_at": c,
            "deleted_at": None,
        }
        for r, c in zip(rows.itertuples(index=False), created, strict=True)
    ]


def _groups(sim: Simulator) -> list[dict]:
    teams = sim.world.teams
    created = (sim.config.start - pd.Timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        {
            "id": int(g),
            "name": name,
            "description": "",
            "default": False,
            "deleted": False,
            "is_public": True,
            "created_at": created,
            "updated_at": created,
        }
        for g, name in zip(teams.group_id, teams.team, strict=True)
        if g
    ]


def _schedule(sim: Simulator) -> dict:
    at = (sim.config.start - pd.Timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": calendar.SCHEDULE_ID,
        "name": calendar.SCHEDULE_NAME,
        "time_zone": calendar.SCHEDULE_RAILS_TZ,
        "intervals": calendar.INTERVALS,
        "created_at": at,
        "updated_at": at,
    }


def _holidays(sim: Simulator) -> list[dict]:
    c = sim.config
    return [
        {
            "id": h["id"],
            "name": h["name"],
            "start_date": h["start_date"].isoformat(),
            "end_date": h["end_date"].isoformat(),
        }
        for h in calendar.holidays(c.start.year - 1, c.end.year + 1)
    ]


# ---- SLA policies and ticket metric events (simulator/sla.py is the engine) --------------
@cached_by_clock
def metric_events_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    """The engine's events whose time has come, in time order (a breach is listed once its
    time has passed, by then with its final `deleted`)."""
    e = _metric_events_with_dirt(sim)
    return e[e.ts <= int(clock.timestamp())].reset_index(drop=True)


# the SLA engine runs once per world: a request arriving while it runs (the warm-up's, or
# another request's) waits for that run instead of starting a second one
_engine_lock = threading.Lock()


def _metric_events_with_dirt(sim: Simulator) -> pd.DataFrame:
    with _engine_lock:
        return _metric_events_once(sim)


def warm_up(sim: Simulator, echo: Callable[[str], None] = print) -> threading.Thread:
    """Run the SLA engine in the background now, while the loaders start on the other
    vendors: its first run is most of a Zendesk load's first metric-events request (~4 s at
    scale 1, ~50 s at scale 10), which the real Zendesk serves at once."""

    def run() -> None:
        started = perf_counter()
        _metric_events_with_dirt(sim)
        echo(f"SLA engine ready in {perf_counter() - started:.1f}s (the metric events)")

    thread = threading.Thread(target=run, name="sla-warm-up", daemon=True)
    thread.start()
    return thread


@cache
def _metric_events_once(sim: Simulator) -> pd.DataFrame:
    """The engine's events with the wire's dirt (stable across clock moves): some fulfilments
    come with a copy that belongs to a scrubbed ticket, one permanently deleted, which no
    ticket export lists any more but whose metric events the export keeps (the warehouse
    quarantines them as orphans)."""
    e = sla.events(sim.world)
    scrubbed = e[
        dirty_mask(sim, "zendesk.metric_events.scrubbed_ticket", len(e)) & (e.type == "fulfill")
    ]
    scrubbed = scrubbed.assign(
        id=scrubbed.id + SCRUBBED_ID_OFFSET, ticket_id=scrubbed.ticket_id + SCRUBBED_ID_OFFSET
    )
    return pd.concat([e, scrubbed]).sort_values(["ts", "id"], ignore_index=True)


def _metric_events_json(rows: pd.DataFrame) -> list[dict]:
    out = []
    times = iso_z(pd.to_datetime(rows.ts, unit="s", utc=True)).tolist()
    cols = {
        c: rows[c].tolist()
        for c in (
            "id",
            "ticket_id",
            "instance_id",
            "type",
            "deleted",
            "target",
            "business_hours",
            "policy_id",
            "policy_title",
            "elapsed_calendar_min",
            "elapsed_business_min",
            "metric",
        )
    }
    for k, time in enumerate(times):
        kind = cols["type"][k]
        rec = {
            "id": int(cols["id"][k]),
            "ticket_id": int(cols["ticket_id"][k]),
            "metric": cols["metric"][k],
            "instance_id": int(cols["instance_id"][k]),
            "type": kind,
            "time": time,
        }
        if kind == "breach":
            rec["deleted"] = bool(cols["deleted"][k])
        elif kind == "apply_sla":
            target = int(cols["target"][k])
            rec["sla"] = {
                "target": target,
                "target_in_seconds": target * 60,
                "business_hours": bool(cols["business_hours"][k]),
                "policy": {
                    "id": int(cols["policy_id"][k]),
                    "title": cols["policy_title"][k],
                    "description": "",
                },
            }
        elif kind == "update_status":
            rec["status"] = {
                "calendar": int(cols["elapsed_calendar_min"][k]),
                "business": int(cols["elapsed_business_min"][k]),
            }
        out.append(rec)
    return out


def ground_truth(sim: Simulator) -> dict[str, int]:
    a = _audits(sim)
    return {
        "raw_zendesk.tickets": len(tickets_view(sim)),
        "raw_zendesk.ticket_events": int((a.ts <= sim.clock).sum()),
        "raw_zendesk.users": len(users_view(sim)),
        "raw_zendesk.organizations": len(orgs_view(sim)),
        "raw_zendesk.groups": len(_groups(sim)),
        "raw_zendesk.schedules": 1,
        "raw_zendesk.schedule_holidays": len(_holidays(sim)),
        "raw_zendesk.sla_policies": len(sla.policies(sim.world, sim.clock)),
        "raw_zendesk.ticket_metric_events": len(metric_events_view(sim)),
    }


def routes(sim: Simulator) -> list[Route]:
    def guarded(handler):
        async def endpoint(request: Request):
            if not _authorized(request):
                return _unauthorized()
            if handler is ticket_metric_events:
                # wait for the SLA engine's run (the warm-up's, or this request's) in a worker
                # thread: the event loop keeps serving the other endpoints meanwhile
                await asyncio.to_thread(_metric_events_with_dirt, sim)
            return handler(request)

        return endpoint

    def tickets(request: Request):
        return _cursor_export(
            request, tickets_view(sim), "tickets", lambda rows: _ticket_json(sim, request, rows)
        )

    def users(request: Request):
        return _cursor_export(
            request, users_view(sim), "users", lambda rows: _users_json(sim, request, rows)
        )

    def ticket_events(request: Request):
        a = audits_view(sim)
        comments = request.query_params.get("include", "") == "comment_events"
        return _time_export(
            request,
            a.epoch.to_numpy(),
            "ticket_events",
            lambda lo, hi: _events_json(sim, a.iloc[lo:hi], comments),
        )

    def organizations(request: Request):
        o = orgs_view(sim)
        return _time_export(
            request,
            o.epoch.to_numpy(),
            "organizations",
            lambda lo, hi: _org_json(request, o.iloc[lo:hi]),
        )

    def groups(request: Request):
        q = request.query_params
        items = _groups(sim)
        size = max(1, min(100, int(q.get("page[size]", 100))))
        after = q.get("page[after]")
        lo = 0
        if after:
            try:
                lo = int(base64.urlsafe_b64decode(after.encode()).decode())
            except (ValueError, binascii.Error):
                return _bad("page[after] is invalid")
        page = items[lo : lo + size]
        has_more = lo + size < len(items)
        after_cursor = (
            base64.urlsafe_b64encode(str(lo + size).encode()).decode() if has_more else None
        )
        return JSONResponse(
            {
                "groups": page,
                "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": None},
                "links": {
                    "next": absolute(request, **{"page[size]": size, "page[after]": after_cursor})
                    if has_more
                    else None,
                    "prev": None,
                },
            }
        )

    def schedules(request: Request):
        return JSONResponse({"schedules": [_schedule(sim)]})

    def schedule(request: Request):
        if int(request.path_params["id"]) != calendar.SCHEDULE_ID:
            return JSONResponse(
                {"error": "RecordNotFound", "description": "Not found"}, status_code=404
            )
        return JSONResponse({"schedule": _schedule(sim)})

    def holidays(request: Request):
        if int(request.path_params["id"]) != calendar.SCHEDULE_ID:
            return JSONResponse(
                {"error": "RecordNotFound", "description": "Not found"}, status_code=404
            )
        return JSONResponse({"holidays": _holidays(sim)})

    def ticket_metric_events(request: Request):
        e = metric_events_view(sim)
        return _time_export(
            request,
            e.ts.to_numpy(),
            "ticket_metric_events",
            lambda lo, hi: _metric_events_json(e.iloc[lo:hi]),
        )

    def sla_policies(request: Request):
        items = sla.policies(sim.world, sim.clock)
        return JSONResponse({"sla_policies": items, "count": len(items), "next_page": None})

    table = {
        "/incremental/tickets/cursor": tickets,
        "/incremental/ticket_metric_events": ticket_metric_events,
        "/slas/policies": sla_policies,
        "/incremental/users/cursor": users,
        "/incremental/ticket_events": ticket_events,
        "/incremental/organizations": organizations,
        "/groups": groups,
        "/business_hours/schedules": schedules,
        "/business_hours/schedules/{id:int}": schedule,
        "/business_hours/schedules/{id:int}/holidays": holidays,
    }
    out = []
    for path, handler in table.items():
        out += [Route(path, guarded(handler)), Route(path + ".json", guarded(handler))]
    return out
