"""The help desk's SLA engine: policies and the ticket metric events it writes.

Zendesk's own SLA engine is what the warehouse treats as the truth (DECISIONS.md, "SLAs");
this module plays it for the simulated help desk, from the tickets' own comments and status
changes (simulator/README.md, "SLA policies and ticket metric events", says exactly which
event is written when, and when a breach is marked deleted).

Measured: `reply_time` (instance 1 = first reply, >= 2 = each next reply). An instance
activates at a requester's public comment that is not already waiting for an answer
(instance 1 at the creation comment) and is fulfilled by the next public agent comment or by
the ticket being solved, whichever comes first. The policy applied is the first by position
whose filter matches the ticket; its target is the one for the ticket's priority.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from simulator import calendar

POLICY_IDS = (360000400001, 360000400002)
# the "Standard" policy was edited here: instances still running get its new target
POLICY_EDIT_DAYS = 400  # days after the start of history; 14:00 UTC
EVENT_ID_BASE = 970_000_000_000

# (metric, priority) -> target minutes; the Standard policy before and after its edit
_URGENT = {
    ("first_reply_time", "urgent"): 60,
    ("first_reply_time", "high"): 180,
    ("next_reply_time", "urgent"): 120,
    ("next_reply_time", "high"): 240,
}
_STANDARD_V1 = {
    ("first_reply_time", "normal"): 300,
    ("first_reply_time", "low"): 600,
    ("next_reply_time", "normal"): 480,
    ("next_reply_time", "low"): 960,
}
_STANDARD_V2 = _STANDARD_V1 | {("first_reply_time", "normal"): 240}


def edit_at(start: pd.Timestamp) -> pd.Timestamp:
    return start + pd.Timedelta(days=POLICY_EDIT_DAYS, hours=14)


def policies(start: pd.Timestamp, clock: pd.Timestamp) -> list[dict]:
    """The SLA policies as the API shows them at `clock` (the edit shows once it happened)."""
    created = (start - pd.Timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    edited = edit_at(start)
    standard = _STANDARD_V2 if clock >= edited else _STANDARD_V1
    standard_updated = edited.strftime("%Y-%m-%dT%H:%M:%SZ") if clock >= edited else created

    def metrics(targets: dict, business: bool) -> list[dict]:
        return [
            {
                "priority": prio,
                "metric": metric,
                "target": minutes,
                "target_in_seconds": minutes * 60,
                "business_hours": business,
            }
            for (metric, prio), minutes in targets.items()
        ]

    return [
        {
            "id": POLICY_IDS[0],
            "url": f"https://xmdemo.zendesk.com/api/v2/slas/policies/{POLICY_IDS[0]}.json",
            "title": "Urgent and high priority",
            "description": "Calendar-hour reply targets for urgent and high priority tickets",
            "position": 1,
            "filter": {
                "all": [{"field": "priority", "operator": "includes", "value": ["high", "urgent"]}],
                "any": [],
            },
            "policy_metrics": metrics(_URGENT, False),
            "created_at": created,
            "updated_at": created,
        },
        {
            "id": POLICY_IDS[1],
            "url": f"https://xmdemo.zendesk.com/api/v2/slas/policies/{POLICY_IDS[1]}.json",
            "title": "Standard",
            "description": "Business-hour reply targets for every other ticket",
            "position": 2,
            "filter": {"all": [], "any": []},
            "policy_metrics": metrics(standard, True),
            "created_at": created,
            "updated_at": standard_updated,
        },
    ]


# ---- business clock -----------------------------------------------------------------
class BusinessClock:
    """The schedule's business intervals (holidays removed) as UTC epoch seconds, with the
    business seconds before each: business time at an instant, and an instant plus business
    seconds, both vectorised (DST-correct: each date is localised on its own)."""

    def __init__(self, first: pd.Timestamp, last: pd.Timestamp):
        days = pd.date_range(first.tz_convert(None).normalize(), last.tz_convert(None), freq="D")
        off = {
            d
            for h in calendar.holidays(first.year - 1, last.year + 1)
            for d in pd.date_range(h["start_date"], h["end_date"], freq="D")
        }
        days = days[(days.weekday < 5) & ~days.isin(list(off))]
        tz = calendar.SCHEDULE_IANA_TZ
        opens = (days + pd.Timedelta(hours=calendar.OPEN_HOUR)).tz_localize(tz)
        closes = (days + pd.Timedelta(hours=calendar.CLOSE_HOUR)).tz_localize(tz)
        self.starts = opens.tz_convert("UTC").as_unit("s").asi8
        self.ends = closes.tz_convert("UTC").as_unit("s").asi8
        lengths = self.ends - self.starts
        self.before = np.r_[0, np.cumsum(lengths)[:-1]]

    def at(self, t: np.ndarray) -> np.ndarray:
        """Business seconds from the first interval to each epoch second `t`."""
        i = np.clip(np.searchsorted(self.starts, t, "right") - 1, 0, len(self.starts) - 1)
        inside = np.clip(t - self.starts[i], 0, self.ends[i] - self.starts[i])
        return np.where(t < self.starts[0], 0, self.before[i] + inside)

    def add(self, t: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """The epoch second at which `seconds` business seconds after `t` have passed."""
        target = self.at(t) + seconds
        after = self.before + (self.ends - self.starts)
        j = np.searchsorted(after, target, "left")
        return self.starts[j] + (target - self.before[j])


def _epoch(ts: pd.Series) -> np.ndarray:
    return ts.astype("datetime64[s, UTC]").astype("int64").to_numpy()


# ---- the SLA engine --------------------------------------------------------------------
@cache
def instances(world) -> pd.DataFrame:
    """One row per reply_time instance with its whole future decided: policy, target, due
    time, fulfilment, breach and (at the policy edit) re-application. Epoch seconds."""
    t = world.tickets
    ev = world.ticket_events
    req = t.requester_id.to_numpy()[ev.ticket_idx.to_numpy()]
    comment = (ev.child_type == "Comment") & ev.public.fillna(False).astype(bool)
    by_req = comment & (ev.author_id.to_numpy() == req)
    by_agent = comment & ~by_req
    solved = (ev.field == "status") & (ev.value == "solved")
    kind = np.select([by_req, by_agent, solved], ["R", "A", "S"], "")
    s = pd.DataFrame({"ticket_idx": ev.ticket_idx, "ts": _epoch(ev.ts), "kind": kind})
    s = s[s.kind != ""].reset_index(drop=True)  # events are already in (ts, ticket, seq) order
    s = s.sort_values(["ticket_idx", "ts"], kind="stable", ignore_index=True)
    prev = s.groupby("ticket_idx").kind.shift(1)
    s["is_start"] = (s.kind == "R") & (prev.isna() | prev.isin(["A", "S"]))
    # the first answer (agent reply or solve) after each row, within its ticket
    answer = s.ts.where(s.kind.isin(["A", "S"]))
    s["end_ts"] = answer.groupby(s.ticket_idx).transform(lambda x: x.shift(-1).bfill())
    s["end_kind"] = (
        s.kind.where(s.kind.isin(["A", "S"]))
        .groupby(s.ticket_idx)
        .transform(lambda x: x.shift(-1).bfill())
    )
    s["instance_id"] = s.is_start.groupby(s.ticket_idx).cumsum()
    inst = s[s.is_start].reset_index(drop=True)

    tick = t.iloc[inst.ticket_idx.to_numpy()].reset_index(drop=True)
    inst["ticket_id"] = tick.ticket_id.to_numpy()
    inst["priority"] = tick.priority.to_numpy()
    inst["metric"] = np.where(inst.instance_id == 1, "first_reply_time", "next_reply_time")
    urgent = inst.priority.isin(["urgent", "high"]).to_numpy()
    inst["policy_id"] = np.where(urgent, POLICY_IDS[0], POLICY_IDS[1])
    inst["policy_title"] = np.where(urgent, "Urgent and high priority", "Standard")
    inst["business_hours"] = ~urgent
    start = world.config.start
    edited = int(edit_at(start).timestamp())
    keys = list(zip(inst.metric, inst.priority, strict=True))
    v1 = np.array([_URGENT.get(k, _STANDARD_V1.get(k, 0)) for k in keys])
    v2 = np.array([_URGENT.get(k, _STANDARD_V2.get(k, 0)) for k in keys])
    first_target = np.where(inst.ts.to_numpy() < edited, v1, v2)
    clock = BusinessClock(start - pd.Timedelta(days=30), world.config.end + pd.Timedelta(days=60))
    act = inst.ts.to_numpy()
    biz = inst.business_hours.to_numpy()

    def due(minutes):
        return np.where(biz, clock.add(act, minutes * 60), act + minutes * 60)

    due1 = due(first_target)
    end = inst.end_ts.to_numpy()  # NaN: never answered
    open_at_edit = (act < edited) & ~(end <= edited) & (due1 > edited) & (v1 != v2)
    open_at_edit &= act < edited
    due2 = np.maximum(due(v2), edited)
    inst["first_target"] = first_target
    inst["first_due_ts"] = due1
    inst["reapplied"] = open_at_edit
    inst["target"] = np.where(open_at_edit, v2, first_target)
    inst["due_ts"] = np.where(open_at_edit, due2, due1)
    inst["fulfilled_ts"] = end
    inst["fulfilled_by"] = inst.end_kind.map({"A": "agent reply", "S": "solve"})
    # the breach stands only if the due time came before the fulfilment
    inst["breached"] = np.isnan(end) | (inst.due_ts.to_numpy() < end)
    inst["elapsed_calendar_min"] = np.floor((end - act) / 60)
    inst["elapsed_business_min"] = np.where(
        np.isnan(end),
        np.nan,
        np.floor((clock.at(np.nan_to_num(end).astype(np.int64)) - clock.at(act)) / 60),
    )
    # deleted tickets: the engine stops with the ticket (nothing after its deletion)
    deleted = t.deleted_at.iloc[inst.ticket_idx.to_numpy()]
    inst["deleted_ts"] = np.where(
        deleted.notna(), _epoch(deleted.fillna(pd.Timestamp(0, tz="UTC"))), np.nan
    )
    return inst.drop(columns=["kind", "is_start", "end_ts", "end_kind"])


@cache
def events(world) -> pd.DataFrame:
    """Every ticket metric event the engine ever writes, ordered by time; ids in the order the
    engine wrote them (a breach is written, ahead of its time, with its application)."""
    inst = instances(world)
    edited = int(edit_at(world.config.start).timestamp())
    rows = []
    n = len(inst)
    idx = np.arange(n)
    gone = inst.deleted_ts.to_numpy()

    def add(mask, kind, ts, written, order, **cols):
        m = np.asarray(mask)
        rows.append(
            pd.DataFrame(
                {
                    "i": idx[m],
                    "type": kind,
                    "ts": np.broadcast_to(np.asarray(ts), n)[m],
                    "written": np.broadcast_to(np.asarray(written), n)[m],
                    "order": order,
                    **{k: np.broadcast_to(np.asarray(v), n)[m] for k, v in cols.items()},
                }
            )
        )

    act = inst.ts.to_numpy()
    end = inst.fulfilled_ts.to_numpy()
    re = inst.reapplied.to_numpy()
    due1, due = inst.first_due_ts.to_numpy(), inst.due_ts.to_numpy()
    everyone = np.ones(n, bool)
    edit_ts = np.full(n, edited)
    add(everyone, "apply_sla", act, act, 0, target=inst.first_target, deleted=False)
    add(everyone, "activate", act, act, 1, deleted=False)
    # first application's breach: deleted if fulfilled first or superseded by the edit
    first_breach_stands = ~re & (np.isnan(end) | (due1 < end))
    add(everyone, "breach", due1, act, 2, deleted=~first_breach_stands)
    add(re, "apply_sla", edit_ts, edit_ts, 0, target=inst.target, deleted=False)
    add(re, "breach", due, edit_ts, 2, deleted=~(np.isnan(end) | (due < end)))
    done = ~np.isnan(end)
    add(done, "fulfill", np.nan_to_num(end), np.nan_to_num(end), 3, deleted=False)
    add(done, "update_status", np.nan_to_num(end), np.nan_to_num(end), 4, deleted=False)
    e = pd.concat(rows, ignore_index=True)
    e["ts"] = e.ts.astype(np.int64)
    e = e[~(e.ts >= np.nan_to_num(gone[e.i], nan=np.inf))]  # nothing after a ticket's deletion
    e = e[e.ts < int(world.config.end.timestamp())]
    e = e.sort_values(["written", "i", "order", "ts"], kind="stable", ignore_index=True)
    e["id"] = EVENT_ID_BASE + np.arange(len(e))
    e = e.sort_values(["ts", "id"], ignore_index=True)
    for c in ("ticket_id", "instance_id", "policy_id", "policy_title", "business_hours"):
        e[c] = inst[c].to_numpy()[e.i]
    e["elapsed_calendar_min"] = inst.elapsed_calendar_min.to_numpy()[e.i]
    e["elapsed_business_min"] = inst.elapsed_business_min.to_numpy()[e.i]
    return e


def outcomes(world, clock: pd.Timestamp) -> pd.DataFrame:
    """Each instance's status as the engine decided it by `clock` (the ground truth the
    warehouse's fct_sla_outcomes must equal): achieved, breached or active. Tickets deleted
    by then are left out (the warehouse drops them)."""
    inst = instances(world)
    c = int(clock.timestamp())
    gone = inst.deleted_ts.to_numpy() <= c  # NaN (never deleted) compares False
    seen = inst[(inst.ts <= c).to_numpy() & ~gone].copy()
    end, due = seen.fulfilled_ts.to_numpy(), seen.due_ts.to_numpy()
    fulfilled = ~np.isnan(end) & (end <= c)
    breached = (due <= c) & (np.isnan(end) | (due < end))
    seen["status"] = np.select([breached, fulfilled], ["breached", "achieved"], "active")
    seen["outcome_ts"] = np.where(breached, due, np.where(fulfilled, end, np.nan))
    return seen.reset_index(drop=True)
