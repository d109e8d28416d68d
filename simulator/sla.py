"""The help desk's SLA engine: policies and the ticket metric events it writes.

Zendesk's own SLA engine is what the warehouse treats as the truth (DECISIONS.md, "SLAs");
this module plays it for the simulated help desk, from the tickets' own comments and status
changes (simulator/README.md, "SLA policies and ticket metric events", says exactly which
event is written when, and when a breach is marked deleted).

Measured: `reply_time` (instance 1 = first reply, >= 2 = each next reply), activated at a
requester's public comment that is not already waiting for an answer and fulfilled by the
next public agent comment or the ticket being solved; `requester_wait_time` and
`agent_work_time` (instance 1), which run, pause and are fulfilled with the ticket's status
(PAUSABLE). The policy applied is the first by position whose filter matches the ticket; its
target is the one for the ticket's priority, re-applied when the policy is edited or the
ticket escalated while a metric runs.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from simulator import calendar

# the "Standard" policy was edited here: instances still running get its new target
POLICY_EDIT_DAYS = 400  # days after the start of history; 14:00 UTC
EVENT_ID_BASE = 970_000_000_000
KEY_ACCOUNTS = 3  # the organizations with the most tickets get their own policy

# The policies in position order: the first whose filter (`_filter`) matches a ticket
# applies. Targets (minutes) per metric for the two priorities the policy covers, the lower
# priority first.
POLICIES = [
    {
        "id": 360000400003,
        "title": "Incidents",
        "description": "Calendar-hour targets for urgent and high priority incidents",
        "business_hours": False,
        "priorities": ("high", "urgent"),
        "targets": {
            "first_reply_time": (120, 30),
            "next_reply_time": (180, 60),
            "requester_wait_time": (720, 360),
            "agent_work_time": (540, 240),
            "periodic_update_time": (960, 480),
            "pausable_update_time": (360, 180),
        },
    },
    {
        "id": 360000400001,
        "title": "Urgent and high priority",
        "description": "Calendar-hour targets for urgent and high priority tickets",
        "business_hours": False,
        "priorities": ("high", "urgent"),
        "targets": {
            "first_reply_time": (180, 60),
            "next_reply_time": (240, 120),
            "requester_wait_time": (960, 480),
            "agent_work_time": (720, 360),
            "periodic_update_time": (1440, 720),
            "pausable_update_time": (480, 240),
        },
    },
    {
        "id": 360000400004,
        "title": "Key accounts",
        "description": "Business-hour targets for the key accounts' other tickets",
        "business_hours": True,
        "priorities": ("low", "normal"),
        "targets": {
            "first_reply_time": (360, 180),
            "next_reply_time": (600, 300),
            "requester_wait_time": (900, 480),
            "agent_work_time": (720, 360),
            "periodic_update_time": (1800, 900),
            "pausable_update_time": (720, 360),
        },
    },
    {
        "id": 360000400005,
        "title": "Second line",
        "description": "Business-hour targets for the second-line group's other tickets",
        "business_hours": True,
        "priorities": ("low", "normal"),
        "targets": {
            "first_reply_time": (900, 480),
            "next_reply_time": (1440, 720),
            "requester_wait_time": (1800, 900),
            "agent_work_time": (1440, 720),
            "periodic_update_time": (3600, 1800),
            "pausable_update_time": (1440, 720),
        },
    },
    {
        "id": 360000400002,
        "title": "Standard",
        "description": "Business-hour targets for every other ticket",
        "business_hours": True,
        "priorities": ("low", "normal"),
        "targets": {
            "first_reply_time": (600, 300),
            "next_reply_time": (960, 480),
            "requester_wait_time": (1200, 600),
            "agent_work_time": (960, 480),
            "periodic_update_time": (2400, 1200),
            "pausable_update_time": (960, 480),
        },
    },
]
STANDARD = len(POLICIES) - 1
# the Standard policy's edit: (metric, priority) -> new target
STANDARD_EDIT = {("first_reply_time", "normal"): 240}


def targets(position: int, edited: bool) -> dict[tuple[str, str], int]:
    """{(metric, priority): minutes} of the policy at `position` (0-based), before or after
    the Standard policy's edit."""
    p = POLICIES[position]
    out = {
        (metric, prio): minutes
        for metric, pair in p["targets"].items()
        for prio, minutes in zip(p["priorities"], pair, strict=True)
    }
    return out | STANDARD_EDIT if edited and position == STANDARD else out


_TARGETS = {(pos, e): targets(pos, e) for pos in range(len(POLICIES)) for e in (False, True)}


def _target(position: np.ndarray, metric, priority, edited) -> np.ndarray:
    n = len(position)
    metric, priority = np.broadcast_to(metric, n), np.broadcast_to(priority, n)
    edited = np.broadcast_to(edited, n)
    return np.array(
        [
            _TARGETS[(p, bool(e))].get((m, q), 0)
            for p, m, q, e in zip(position, metric, priority, edited, strict=True)
        ],
        dtype=np.int64,
    )


def key_accounts(world) -> list[int]:
    counts = world.tickets.organization_id.value_counts(sort=False)
    top = counts.sort_values(ascending=False, kind="stable").head(KEY_ACCOUNTS)
    return sorted(int(o) for o in top.index)


def second_line(world) -> int:
    return int(max(g for g in world.teams.group_id if g))


def _position(world, ticket_idx: np.ndarray, priority) -> np.ndarray:
    """The position (0-based) of the policy that applies to each ticket at that priority: its
    filters, as the API lists them, evaluated in position order (the first match wins)."""
    t = world.tickets.iloc[np.asarray(ticket_idx)]
    values = {
        "priority": np.asarray(priority, dtype=object),
        "type": t.type.to_numpy(),
        "organization_id": t.organization_id.astype(str).to_numpy(),
        "group_id": t.group_id.astype(str).to_numpy(),
    }

    def holds(cond: dict) -> np.ndarray:
        v = values[cond["field"]]
        return np.isin(v, cond["value"]) if cond["operator"] == "includes" else v == cond["value"]

    matches = []
    for pos in range(len(POLICIES)):
        f = _filter(world, pos)
        ok = np.ones(len(t), bool)
        for cond in f["all"]:
            ok &= holds(cond)
        if f["any"]:
            ok &= np.logical_or.reduce([holds(cond) for cond in f["any"]])
        matches.append(ok)
    return np.select(matches, range(len(POLICIES)), STANDARD)


_IDS = np.array([p["id"] for p in POLICIES])
_TITLES = np.array([p["title"] for p in POLICIES])
_BUSINESS = np.array([p["business_hours"] for p in POLICIES])

# the ticket-long metrics (instance 1): which ticket statuses run, pause or fulfil each
# (Zendesk's ticket metric event types reference); a status not listed leaves the state as is
PAUSABLE = {
    "requester_wait_time": {
        "new": "activate",
        "open": "activate",
        "hold": "activate",
        "pending": "pause",
        "solved": "fulfill",
    },
    "agent_work_time": {
        "new": "activate",
        "open": "activate",
        "hold": "pause",
        "pending": "pause",
        "solved": "fulfill",
    },
}
# the update metrics: instance k runs from the k-th public agent comment to the next one (or a
# solve); periodic update runs throughout, pausable update pauses in pending and on-hold
UPDATES = {
    "periodic_update_time": {},
    "pausable_update_time": {
        "new": "activate",
        "open": "activate",
        "hold": "pause",
        "pending": "pause",
    },
}


def edit_at(start: pd.Timestamp) -> pd.Timestamp:
    return start + pd.Timedelta(days=POLICY_EDIT_DAYS, hours=14)


def _filter(world, position: int) -> dict:
    """The policy's filter as Zendesk's API shows it (a single value is a string, ids too, as
    the spec's condition object types it)."""

    def cond(field, operator, value):
        return {"field": field, "operator": operator, "value": value}

    prio = cond("priority", "includes", list(POLICIES[position]["priorities"]))
    return [
        {"all": [cond("type", "is", "incident"), prio], "any": []},
        {"all": [prio], "any": []},
        {
            "all": [prio],
            "any": [cond("organization_id", "is", str(o)) for o in key_accounts(world)],
        },
        {"all": [prio, cond("group_id", "is", str(second_line(world)))], "any": []},
        {"all": [], "any": []},
    ][position]


def policies(world, clock: pd.Timestamp) -> list[dict]:
    """The SLA policies as the API shows them at `clock` (the edit shows once it happened)."""
    start = world.config.start
    created = (start - pd.Timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    edited = edit_at(start)
    out = []
    for pos, p in enumerate(POLICIES):
        changed = pos == STANDARD and clock >= edited
        out.append(
            {
                "id": p["id"],
                "url": f"https://xmdemo.zendesk.com/api/v2/slas/policies/{p['id']}.json",
                "title": p["title"],
                "description": p["description"],
                "position": pos + 1,
                "filter": _filter(world, pos),
                "policy_metrics": [
                    {
                        "priority": prio,
                        "metric": metric,
                        "target": minutes,
                        "target_in_seconds": minutes * 60,
                        "business_hours": p["business_hours"],
                    }
                    for (metric, prio), minutes in targets(pos, changed).items()
                ],
                "created_at": created,
                "updated_at": edited.strftime("%Y-%m-%dT%H:%M:%SZ") if changed else created,
            }
        )
    return out


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


def _epoch_or_nan(ts: pd.Series) -> np.ndarray:
    return np.where(ts.notna(), _epoch(ts.fillna(pd.Timestamp(0, tz="UTC"))), np.nan)


@cache
def business_clock(world) -> BusinessClock:
    start = world.config.start
    return BusinessClock(start - pd.Timedelta(days=30), world.config.end + pd.Timedelta(days=60))


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
    # (grouped shift, then grouped back-fill: pandas' vectorised kernels, not a Python
    # function per ticket)
    answers = s.kind.isin(["A", "S"])
    for column, values in (("end_ts", s.ts), ("end_kind", s.kind)):
        following = values.where(answers).groupby(s.ticket_idx).shift(-1)
        s[column] = following.groupby(s.ticket_idx).bfill()
    s["instance_id"] = s.is_start.groupby(s.ticket_idx).cumsum()
    inst = s[s.is_start].reset_index(drop=True)

    tick = t.iloc[inst.ticket_idx.to_numpy()].reset_index(drop=True)
    inst["ticket_id"] = tick.ticket_id.to_numpy()
    # an escalated ticket's first instance activates at the priority it was opened with
    escalated_at = _epoch_or_nan(tick.escalated_at)
    before_escalation = inst.ts.to_numpy() < np.nan_to_num(escalated_at, nan=-np.inf)
    inst["priority"] = np.where(before_escalation, tick.opened_priority, tick.priority)
    inst["metric"] = np.where(inst.instance_id == 1, "first_reply_time", "next_reply_time")
    pos = _position(world, inst.ticket_idx.to_numpy(), inst.priority.to_numpy())
    inst["policy_id"], inst["policy_title"] = _IDS[pos], _TITLES[pos]
    inst["business_hours"] = _BUSINESS[pos]
    start = world.config.start
    edited = int(edit_at(start).timestamp())
    v1 = _target(pos, inst.metric.to_numpy(), inst.priority.to_numpy(), False)
    v2 = _target(pos, inst.metric.to_numpy(), inst.priority.to_numpy(), True)
    first_target = np.where(inst.ts.to_numpy() < edited, v1, v2)
    clock = business_clock(world)
    act = inst.ts.to_numpy()
    biz = inst.business_hours.to_numpy()

    def due(minutes):
        return np.where(biz, clock.add(act, minutes * 60), act + minutes * 60)

    due1 = due(first_target)
    end = inst.end_ts.to_numpy()  # NaN: never answered
    # re-applied while running: by the policy edit (if its target changes and the first breach
    # has not come yet), or by the ticket's escalation (the new priority's target)
    open_at_edit = (act < edited) & ~(end <= edited) & (due1 > edited) & (v1 != v2)
    # an escalation stays within its policy (generator.py): the new priority's target there
    v_escalated = _target(pos, inst.metric.to_numpy(), tick.priority.to_numpy(), True)
    at_escalation = before_escalation & ~(end <= escalated_at)
    re_ts = np.where(open_at_edit, edited, np.where(at_escalation, escalated_at, np.nan))
    re_target = np.where(open_at_edit, v2, v_escalated)
    reapplied = open_at_edit | at_escalation
    re_at = np.nan_to_num(re_ts).astype(np.int64)
    # a second breach is scheduled unless the first already came (it stands, breached)
    second = reapplied & (due1 > re_ts)
    due2 = np.maximum(due(re_target), re_at)
    inst["first_target"] = first_target
    inst["first_due_ts"] = due1
    inst["reapplied"] = reapplied
    inst["reapply_ts"] = re_ts
    inst["second_breach"] = second
    inst["target"] = np.where(reapplied, re_target, first_target)
    inst["due_ts"] = np.where(second, due2, due1)
    inst["fulfilled_ts"] = end
    inst["fulfilled_by"] = inst.end_kind.map({"A": "agent reply", "S": "solve"})
    # a breach stands only if its time came before the fulfilment (and, for the first, before
    # a re-application superseded it)
    inst["first_breach_stands"] = (~reapplied | (due1 <= re_ts)) & (np.isnan(end) | (due1 < end))
    second_stands = second & (np.isnan(end) | (due2 < end))
    inst["breached"] = inst.first_breach_stands.to_numpy() | second_stands
    inst["elapsed_calendar_min"] = np.floor((end - act) / 60)
    inst["elapsed_business_min"] = np.where(
        np.isnan(end),
        np.nan,
        np.floor((clock.at(np.nan_to_num(end).astype(np.int64)) - clock.at(act)) / 60),
    )
    # deleted tickets: the engine stops with the ticket (nothing after its deletion)
    inst["deleted_ts"] = _epoch_or_nan(t.deleted_at.iloc[inst.ticket_idx.to_numpy()])
    return inst.drop(columns=["kind", "is_start", "end_ts", "end_kind"])


@cache
def timed_instances(world) -> pd.DataFrame:
    """One row per instance of the metrics other than reply time (requester wait and agent
    work: instance 1, from the ticket's creation; periodic and pausable update: one per
    public agent comment): policy, latest target, activation, the breach that stands (if
    any) and the latest fulfilment. Epoch seconds."""
    sp = state_changes(world)
    first = sp.groupby("j", sort=True).first()
    last = sp.groupby("j", sort=True).last()
    breach = sp.breach_ts.groupby(sp.j).min()
    t = world.tickets.iloc[first.ticket_idx.to_numpy()].reset_index(drop=True)
    inst = pd.DataFrame(
        {
            "ticket_idx": first.ticket_idx.to_numpy(),
            "ticket_id": t.ticket_id.to_numpy(),
            "metric": first.metric.to_numpy(),
            "instance_id": first.instance_id.to_numpy(),
            "priority": t.priority.to_numpy(),
            "ts": first.ts.to_numpy(),
            "target": last.target.to_numpy(),
            "business_hours": first.business_hours.to_numpy(),
            "breach_ts": breach.reindex(first.index).to_numpy(),
            "fulfilled_ts": np.where(last.state == "fulfill", last.ts, np.nan),
        }
    )
    pos = _position(world, inst.ticket_idx.to_numpy(), inst.priority.to_numpy())
    inst["policy_id"], inst["policy_title"] = _IDS[pos], _TITLES[pos]
    inst["breached"] = ~np.isnan(inst.breach_ts)
    inst["deleted_ts"] = _epoch_or_nan(world.tickets.deleted_at.iloc[inst.ticket_idx.to_numpy()])
    return inst


def _status_history(world) -> pd.DataFrame:
    ev = world.ticket_events
    st = ev.loc[ev.field == "status", ["ticket_idx", "ts", "value"]]
    return st.assign(ts=_epoch(st.ts)).sort_values(["ticket_idx", "ts"], kind="stable")


def _update_changes(world, st: pd.DataFrame) -> pd.DataFrame:
    """The update metrics' changes of state: instance k activates at a ticket's k-th public
    agent comment (an agent's creation comment included) and is fulfilled by the next one or
    a solve; pausable update also pauses and runs again with the status in between."""
    t, ev = world.tickets, world.ticket_events
    req = t.requester_id.to_numpy()[ev.ticket_idx.to_numpy()]
    public = ev.public.fillna(False).astype(bool).to_numpy()
    by_agent = (ev.child_type == "Comment").to_numpy() & public & (ev.author_id.to_numpy() != req)
    solve = ((ev.field == "status") & (ev.value == "solved")).to_numpy()
    marks = pd.DataFrame(
        {
            "ticket_idx": ev.ticket_idx,
            "ts": _epoch(ev.ts),
            "kind": np.select([by_agent, solve], ["A", "S"], ""),
        }
    )
    marks = marks[marks.kind != ""].sort_values(["ticket_idx", "ts"], kind="stable")
    marks["end"] = marks.groupby("ticket_idx").ts.shift(-1)
    starts = marks[marks.kind == "A"].copy()
    starts["instance_id"] = starts.groupby("ticket_idx").cumcount() + 1
    opened = starts.assign(state="activate", order=1)[
        ["ticket_idx", "ts", "instance_id", "state", "order"]
    ]
    done = starts.dropna(subset=["end"])
    closed = done.assign(ts=done.end.astype(np.int64), state="fulfill", order=3)[opened.columns]
    parts = []
    for metric, rule in UPDATES.items():
        rows = [opened, closed]
        if rule:
            # the status each instance starts in (the comment's own audit included) and the
            # status changes while it runs
            s = st.assign(state=st.value.map(rule)).dropna(subset=["state"])
            first = pd.merge_asof(
                starts.sort_values("ts"),
                s[["ticket_idx", "ts", "state"]].sort_values("ts"),
                on="ts",
                by="ticket_idx",
                direction="backward",
            )
            rows.append(first[first.state == "pause"].assign(order=2)[opened.columns])
            inside = pd.merge_asof(
                s.sort_values("ts"),
                starts[["ticket_idx", "ts", "end", "instance_id"]].sort_values("ts"),
                on="ts",
                by="ticket_idx",
                direction="backward",
                allow_exact_matches=False,
            ).dropna(subset=["instance_id"])
            inside = inside[~(inside.ts >= inside.end)]
            rows.append(
                inside.assign(order=2, instance_id=inside.instance_id.astype(int))[opened.columns]
            )
        x = pd.concat(rows).sort_values(["ticket_idx", "instance_id", "ts", "order"], kind="stable")
        prev = x.groupby(["ticket_idx", "instance_id"]).state.shift(1)
        parts.append(x[x.state != prev].assign(metric=metric))  # changes of state only
    return pd.concat(parts)


@cache
def state_changes(world) -> pd.DataFrame:
    """Every change of state (`state`: activate, pause, fulfill, or reapply at an escalation)
    of the instances of the metrics other than reply time: requester wait and agent work from
    the ticket's status history, periodic and pausable update from its public agent comments
    (`_update_changes`); `j` numbers the (metric, ticket, instance) instances. Each change
    ends the span the metric ran or waited in since the one before (`end`: the next change's
    time; NaN: none before the end of the world). Metric seconds are business seconds of the
    schedule for a business-hours target, else calendar seconds; `ran_*` are the seconds the
    metric had run by the change. At an activation, while the target is not used up, a
    breach is scheduled (`due_ts`); it stands only if it comes before the span ends."""
    st = _status_history(world)
    parts = []
    for metric, rule in PAUSABLE.items():
        x = st.assign(metric=metric, state=st.value.map(rule)).dropna(subset=["state"])
        x = x[x.state != x.groupby("ticket_idx").state.shift(1)]  # changes of state only
        parts.append(x.drop(columns=["value"]).assign(instance_id=1, order=0))
    # an escalation re-applies the SLA (the new priority's target) while the metric runs (it
    # comes before any agent comment, so no update metric runs then: generator.py)
    t = world.tickets
    esc = np.flatnonzero(t.escalated_at.notna().to_numpy())
    for metric in PAUSABLE:
        parts.append(
            pd.DataFrame(
                {
                    "ticket_idx": esc,
                    "ts": _epoch(t.escalated_at.iloc[esc]),
                    "metric": metric,
                    "state": "reapply",
                    "instance_id": 1,
                    "order": 0,
                }
            )
        )
    parts.append(_update_changes(world, st))
    key = ["metric", "ticket_idx", "instance_id"]
    ch = pd.concat(parts).sort_values([*key, "ts", "order"], kind="stable")
    ch = ch.drop(columns="order").reset_index(drop=True)
    g = ch.groupby(key, sort=False)
    ch["j"] = g.ngroup()
    ch["end"] = g.ts.shift(-1)

    tick = t.iloc[ch.ticket_idx.to_numpy()].reset_index(drop=True)
    ts = ch.ts.to_numpy()
    escalated_at = _epoch_or_nan(tick.escalated_at)
    opened = ts < np.nan_to_num(escalated_at, nan=-np.inf)
    prio = np.where(opened, tick.opened_priority, tick.priority)
    pos = _position(world, ch.ticket_idx.to_numpy(), prio)  # escalations keep it (generator.py)
    ch["business_hours"] = _BUSINESS[pos]
    after_edit = ts >= int(edit_at(world.config.start).timestamp())
    ch["target"] = _target(pos, ch.metric.to_numpy(), prio, after_edit)
    clock = business_clock(world)
    # seconds run in the span that this change ends (none unless the metric was running)
    running = ch.state.isin(["activate", "reapply"])
    was_running = running.groupby(ch.j).shift(1, fill_value=False).to_numpy()
    prev_ts = np.nan_to_num(g.ts.shift(1).to_numpy(), nan=0).astype(np.int64)
    cal = np.where(was_running, ts - prev_ts, 0)
    biz = np.where(was_running, clock.at(ts) - clock.at(np.where(was_running, prev_ts, ts)), 0)
    ch["ran_calendar_s"] = pd.Series(cal).groupby(ch.j).cumsum().to_numpy()
    ch["ran_business_s"] = pd.Series(biz).groupby(ch.j).cumsum().to_numpy()
    ran = np.where(ch.business_hours, ch.ran_business_s, ch.ran_calendar_s)
    left = ch.target.to_numpy() * 60 - ran
    # a breach is scheduled at an activation while the target is not used up, and at a
    # re-application unless a breach already came under the old target (then at once, if the
    # new target is used up already)
    before_target = ran < ch.groupby("j").target.shift(1).fillna(0).to_numpy() * 60
    reapply = (ch.state == "reapply").to_numpy()
    ch["schedules"] = ((ch.state == "activate").to_numpy() & (left > 0)) | (reapply & before_target)
    left_i = np.clip(left, 0, None).astype(np.int64)
    ch["due_ts"] = np.where(ch.business_hours, clock.add(ts, left_i), ts + left_i)
    end = ch.end.to_numpy()
    ch["breach_stands"] = ch.schedules & (np.isnan(end) | (ch.due_ts.to_numpy() < end))
    ch["breach_ts"] = ch.due_ts.where(ch.breach_stands)
    return ch


@cache
def events(world) -> pd.DataFrame:
    """Every ticket metric event the engine ever writes, ordered by time; ids in the order the
    engine wrote them (a breach is written, ahead of its time, with its application or
    activation)."""
    inst = instances(world)
    rows = []
    n = len(inst)
    idx = np.arange(n)

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
    re, second = inst.reapplied.to_numpy(), inst.second_breach.to_numpy()
    due1, due = inst.first_due_ts.to_numpy(), inst.due_ts.to_numpy()
    everyone = np.ones(n, bool)
    re_ts = np.nan_to_num(inst.reapply_ts.to_numpy()).astype(np.int64)
    add(everyone, "apply_sla", act, act, 0, target=inst.first_target, deleted=False)
    add(everyone, "activate", act, act, 1, deleted=False)
    # first application's breach: deleted if fulfilled first or superseded by a re-application
    add(everyone, "breach", due1, act, 2, deleted=~inst.first_breach_stands.to_numpy())
    add(re, "apply_sla", re_ts, re_ts, 0, target=inst.target, deleted=False)
    add(second, "breach", due, re_ts, 2, deleted=~(np.isnan(end) | (due < end)))
    done = ~np.isnan(end)
    add(done, "fulfill", np.nan_to_num(end), np.nan_to_num(end), 3, deleted=False)
    add(done, "update_status", np.nan_to_num(end), np.nan_to_num(end), 4, deleted=False)
    e = pd.concat(rows, ignore_index=True)
    for c in ("ticket_id", "instance_id", "policy_id", "policy_title", "business_hours"):
        e[c] = inst[c].to_numpy()[e.i]
    e["metric"] = "reply_time"
    e["elapsed_calendar_min"] = inst.elapsed_calendar_min.to_numpy()[e.i]
    e["elapsed_business_min"] = inst.elapsed_business_min.to_numpy()[e.i]
    e["gone"] = inst.deleted_ts.to_numpy()[e.i]
    e = pd.concat([e, _timed_events(world, offset=n)], ignore_index=True)
    e["ts"] = e.ts.astype(np.int64)
    e = e[~(e.ts >= e.gone.fillna(np.inf))]  # nothing after a ticket's deletion
    e = e[e.ts < int(world.config.end.timestamp())]
    e = e.sort_values(["written", "i", "order", "ts"], kind="stable", ignore_index=True)
    e["id"] = EVENT_ID_BASE + np.arange(len(e))
    return e.sort_values(["ts", "id"], ignore_index=True).drop(columns=["gone"])


def _timed_events(world, offset: int) -> pd.DataFrame:
    """apply_sla at creation; per change of state an activate, pause or fulfill (with an
    update_status: the minutes run so far); with each activation, while the target is not
    used up, a breach written then for its due time (deleted unless it comes first)."""
    inst, ch = timed_instances(world), state_changes(world)
    n = len(ch)
    j = ch.j.to_numpy()
    ts = ch.ts.to_numpy()
    state = ch.state.to_numpy()

    def frame(mask, kind, at, order, **cols):
        m = np.asarray(mask)
        return pd.DataFrame(
            {
                "i": offset + j[m],
                "j": j[m],
                "type": kind,
                "ts": np.asarray(at)[m],
                "written": ts[m],
                "order": order,
                **{k: np.broadcast_to(np.asarray(v), n)[m] for k, v in cols.items()},
            }
        )

    first = ch.groupby("j").cumcount().to_numpy() == 0
    fulfil = state == "fulfill"
    e = pd.concat(
        [
            frame(
                first | (state == "reapply"), "apply_sla", ts, 0, target=ch.target, deleted=False
            ),
            frame(state == "activate", "activate", ts, 1, deleted=False),
            frame(ch.schedules, "breach", ch.due_ts, 2, deleted=~ch.breach_stands),
            frame(state == "pause", "pause", ts, 3, deleted=False),
            frame(fulfil, "fulfill", ts, 3, deleted=False),
            frame(
                fulfil,
                "update_status",
                ts,
                4,
                deleted=False,
                elapsed_calendar_min=np.floor(ch.ran_calendar_s / 60),
                elapsed_business_min=np.floor(ch.ran_business_s / 60),
            ),
        ],
        ignore_index=True,
    )
    jj = e.pop("j").to_numpy()
    for c in ("ticket_id", "instance_id", "policy_id", "policy_title", "business_hours", "metric"):
        e[c] = inst[c].to_numpy()[jj]
    e["gone"] = inst.deleted_ts.to_numpy()[jj]
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
    later = seen.reapply_ts.to_numpy() > c  # re-applied after the clock: not yet
    seen["target"] = np.where(later, seen.first_target, seen.target)
    return pd.concat([seen, _timed_outcomes(world, c)], ignore_index=True)


def _timed_outcomes(world, c: int) -> pd.DataFrame:
    """requester wait and agent work at epoch second `c`: breached once the standing breach
    has come; otherwise as the last span begun by then left it: running (active), paused,
    or fulfilled (achieved at that fulfilment; a reopen runs the metric again)."""
    inst, sp = timed_instances(world), state_changes(world)
    last = sp[sp.ts <= c].groupby("j").last()
    gone = inst.deleted_ts.to_numpy() <= c
    seen = inst[(inst.ts <= c).to_numpy() & ~gone].copy()
    last = last.reindex(seen.index)
    end = last.ts.to_numpy()
    state = last.state.map(
        {"activate": "active", "reapply": "active", "pause": "paused", "fulfill": "achieved"}
    )
    state = state.to_numpy()
    breached = seen.breach_ts.to_numpy() <= c
    seen["target"] = last.target.to_numpy()  # the latest application's by the clock
    seen["status"] = np.where(breached, "breached", state)
    seen["outcome_ts"] = np.where(
        breached, seen.breach_ts, np.where(state == "achieved", end, np.nan)
    )
    return seen.reset_index(drop=True)
