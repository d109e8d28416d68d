"""SLAs from Zendesk's own SLA engine, end to end.

The simulator's engine (simulator/sla.py) decides every instance's outcome; the warehouse
must publish exactly that (fct_sla_outcomes), and the monthly attainment must equal a plain
pandas recomputation from the raw ticket metric events (tests/support/recompute.py) that
reads no model. The first-reply and requester-wait cross-check (the project's own reply
times, status history and business minutes against the engine) must agree for >= 99% of
each metric's instances and give every disagreement a reason.
"""

from __future__ import annotations

import threading

import duckdb
import numpy as np
import pandas as pd
import pytest

from simulator import sla, zendesk
from simulator.generator import SimConfig, World
from simulator.server import Simulator
from tests.support import recompute as rc
from tests.support.world import world

KEY = ["ticket_id", "sla_metric", "instance_id"]


def _read(data_dir, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql).df()
    finally:
        con.close()


# ---- the engine itself (no warehouse) ---------------------------------------------------
def test_engine_events_say_what_the_readme_says():
    w = world()
    inst = sla.instances(w)
    ev = sla.events(w)
    assert {"apply_sla", "activate", "pause", "breach", "fulfill", "update_status"} == set(ev.type)
    assert set(ev.metric) == {
        "reply_time",
        "requester_wait_time",
        "agent_work_time",
        "periodic_update_time",
        "pausable_update_time",
    }
    assert ev.id.is_unique and (np.diff(ev.ts.to_numpy()) >= 0).all(), "listed in time order"
    assert not (ev[ev.metric == "reply_time"].type == "pause").any(), "reply time never pauses"
    breaches = ev[(ev.type == "breach") & (ev.metric == "reply_time")]
    # a breach stands exactly when its time came before the fulfilment (or there is none)
    for row in breaches.itertuples():
        i = inst.iloc[row.i]
        stands = np.isnan(i.fulfilled_ts) or row.ts < i.fulfilled_ts
        if not i.reapplied:
            assert row.deleted == (not stands), row
    # instance 1 starts with the ticket, unless an agent opened it for the customer: then at
    # the customer's first public comment (a ticket the customer never writes on has none)
    t = w.tickets
    by_agent = (t.submitter_id != t.requester_id).to_numpy()
    assert by_agent.any() and (t.channel[by_agent] == "voice").all()
    first = inst[inst.instance_id == 1]
    opened = by_agent[first.ticket_idx]
    created = t.created_at.iloc[first.ticket_idx].astype("datetime64[s, UTC]").astype("int64")
    assert (first.ts.to_numpy()[~opened] == created.to_numpy()[~opened]).all()
    assert (first.ts.to_numpy()[opened] > created.to_numpy()[opened]).all()
    te = w.ticket_events
    customer = te[(te.author_id == t.requester_id.to_numpy()[te.ticket_idx]) & te.public.eq(True)]
    first_comment = customer.groupby("ticket_idx").ts.min().astype("datetime64[s, UTC]")
    starts = first_comment.astype("int64").reindex(first.ticket_idx[opened]).to_numpy()
    assert (first.ts.to_numpy()[opened] == starts).all()
    assert len(set(np.flatnonzero(by_agent)) - set(first.ticket_idx)) > 0
    # every instance gets one apply_sla per application: a second at the policy edit or at the
    # ticket's escalation (instance 1 of an escalated ticket, with the new priority's target)
    applies = ev[(ev.type == "apply_sla") & (ev.metric == "reply_time")].groupby("i").size()
    assert (applies.reindex(range(len(inst))).to_numpy() == 1 + inst.reapplied.to_numpy()).all()
    escalated = t.escalated_at.notna().to_numpy()[inst.ticket_idx]
    assert (inst.reapplied & escalated).sum() > 0
    raised = t.escalated_at.astype("datetime64[s, UTC]").astype("int64").to_numpy()
    by_escalation = inst[escalated & (inst.ts.to_numpy() < raised[inst.ticket_idx])]
    assert (by_escalation.instance_id == 1).all() and len(by_escalation) > 0
    assert (
        by_escalation.priority.to_numpy() == t.opened_priority.to_numpy()[by_escalation.ticket_idx]
    ).all()
    assert (by_escalation.target < by_escalation.first_target).all(), "raised: a shorter target"
    # both kinds of outcome, calendar and business targets, solves without a reply
    assert inst.breached.any() and (~inst.breached).any()
    assert inst.business_hours.any() and (~inst.business_hours).any()
    assert (inst.fulfilled_by == "solve").any()


def test_pausable_metrics_follow_the_ticket_status_history():
    """Requester wait runs in new, open and on-hold; agent work in new and open; both pause in
    pending (agent work on hold too), run again on the return to open, are fulfilled by a
    solve and run again on a reopen. Their minutes are the running spans' sum; a breach
    stands exactly when the running time reaches the target before a pause or fulfilment."""
    w = world()
    ev, inst, ch = sla.events(w), sla.timed_instances(w), sla.state_changes(w)
    st = w.ticket_events[w.ticket_events.field == "status"]
    st = st.assign(ts=st.ts.astype("datetime64[s, UTC]").astype("int64"))
    held = set(st[st.value == "hold"].ticket_idx)
    assert held, "some tickets go on hold"
    clock = sla.business_clock(w)
    checked = {"hold": 0, "reopen": 0}
    by_ticket = dict(tuple(st.sort_values("ts", kind="stable").groupby("ticket_idx")))

    def metric_seconds(t0: int, t1: float, business: bool) -> float:
        if t1 == np.inf or not business:
            return t1 - t0
        return float(clock.at(np.array([int(t1)]))[0] - clock.at(np.array([t0]))[0])

    # the targets the policies endpoint lists (after the edit: these metrics' never change),
    # of the policy the engine applied (checked by test_each_instance_is_held_to_...)
    listed = {
        (p["id"], m["metric"], m["priority"]): m["target"]
        for p in sla.policies(w, w.config.end)
        for m in p["policy_metrics"]
    }
    t = w.tickets
    escalated = set(np.flatnonzero(t.escalated_at.notna().to_numpy()))
    ticket_long = inst[inst.metric.isin(["requester_wait_time", "agent_work_time"])]
    sample = pd.concat(
        [
            ticket_long.sample(300, random_state=1),
            ticket_long[ticket_long.ticket_idx.isin(escalated)],
        ]
    )
    for row in sample.itertuples():
        s = by_ticket[row.ticket_idx]
        run = ("new", "open", "hold") if row.metric == "requester_wait_time" else ("new", "open")
        raised = t.escalated_at.iloc[row.ticket_idx]
        raised = np.inf if pd.isna(raised) else int(raised.timestamp())
        bounds = sorted({*s.ts.tolist(), *([raised] if raised < np.inf else [])})
        ran, breached = 0.0, False
        for a, b in zip(bounds, [*bounds[1:], np.inf], strict=True):
            # a status the metric does not know (closed, deleted) leaves its state as it was
            known = s[s.value.isin(["new", "open", "hold", "pending", "solved"])]
            status = known.value[known.ts <= a].iloc[-1]
            if status not in run:
                continue
            priority = t.opened_priority.iloc[row.ticket_idx] if a < raised else row.priority
            length = metric_seconds(int(a), b, row.business_hours)
            breached |= ran + length > listed[(row.policy_id, row.metric, priority)] * 60
            ran += length
        assert (not np.isnan(row.breach_ts)) == breached, (row.metric, row.ticket_idx)
        checked["hold"] += row.ticket_idx in held
        checked["reopen"] += int((s.value == "solved").sum() > 1)
    assert checked["hold"] > 0 and checked["reopen"] > 0, checked
    # requester wait and agent work differ exactly on tickets that went on hold
    ran = (
        ch[ch.state == "fulfill"].groupby(["metric", "ticket_idx"]).ran_calendar_s.last().unstack(0)
    )
    differs = set(ran.index[ran.requester_wait_time != ran.agent_work_time])
    assert differs and differs <= held
    pausable = ev[ev.metric != "reply_time"]
    assert {"pause", "activate", "fulfill", "breach"} <= set(pausable.type)


def test_update_metrics_run_between_public_agent_comments():
    """Periodic update: instance k runs from a ticket's k-th public agent comment to the next
    one (or a solve); pausable update the same, paused in pending and on-hold. Checked against
    the ticket's own comments and statuses, with the targets the policies endpoint lists."""
    w = world()
    inst = sla.timed_instances(w)
    upd = inst[inst.metric.isin(["periodic_update_time", "pausable_update_time"])]
    te, t = w.ticket_events, w.tickets
    te = te.assign(ts=te.ts.astype("datetime64[s, UTC]").astype("int64"))
    public = te.public.eq(True) & (te.child_type == "Comment")
    agent = te[public & (te.author_id != t.requester_id.to_numpy()[te.ticket_idx])]
    solves = te[(te.field == "status") & (te.value == "solved")]
    status = te[te.field == "status"]
    listed = {
        (p["id"], m["metric"], m["priority"]): m["target"]
        for p in sla.policies(w, w.config.end)
        for m in p["policy_metrics"]
    }
    clock = sla.business_clock(w)
    # instances: one per public agent comment, per metric
    assert (upd.groupby("metric").size() == len(agent[agent.ticket_idx.isin(upd.ticket_idx)])).all()
    checked = 0
    for row in upd.sample(400, random_state=3).itertuples():
        comments = agent[agent.ticket_idx == row.ticket_idx].ts.sort_values().tolist()
        start = comments[row.instance_id - 1]
        ends = [
            x for x in [*comments, *solves[solves.ticket_idx == row.ticket_idx].ts] if x > start
        ]
        end = min(ends) if ends else np.inf
        assert row.ts == start
        assert (np.isnan(row.fulfilled_ts) and end == np.inf) or row.fulfilled_ts == end
        s = status[status.ticket_idx == row.ticket_idx]
        bounds = sorted({start, *[x for x in s.ts if start < x < end]})
        ran = 0.0
        for a, b in zip(bounds, [*bounds[1:], end], strict=True):
            known = s[s.value.isin(["new", "open", "hold", "pending"])]  # else as it was
            now = known.value[known.ts <= a].iloc[-1]
            if row.metric == "pausable_update_time" and now in ("pending", "hold"):
                continue
            if b == np.inf:
                ran = np.inf
                break
            ran += (
                (clock.at(np.array([int(b)]))[0] - clock.at(np.array([int(a)]))[0])
                if row.business_hours
                else b - a
            )
        assert (not np.isnan(row.breach_ts)) == (
            ran > listed[(row.policy_id, row.metric, row.priority)] * 60
        ), row
        checked += 1
    assert checked == 400 and upd.breached.any() and (~upd.breached).any()


def test_business_clock_skips_nights_weekends_holidays_and_follows_dst():
    c = sla.BusinessClock(
        pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2026-01-31", tz="UTC")
    )

    def add(ts: str, minutes: int) -> pd.Timestamp:
        t = np.array([int(pd.Timestamp(ts).timestamp())])
        return pd.Timestamp(int(c.add(t, np.array([minutes * 60]))[0]), unit="s", tz="UTC")

    # Friday 17:00 New York (EST, UTC-5) + 120 business minutes = Monday 10:00
    assert add("2025-01-10T22:00Z", 120) == pd.Timestamp("2025-01-13T15:00Z")
    # across the DST switch (2025-03-09): Friday 17:00 EST -> Monday 10:00 EDT (UTC-4)
    assert add("2025-03-07T22:00Z", 120) == pd.Timestamp("2025-03-10T14:00Z")
    # Thanksgiving (Thu-Fri 2025-11-27/28) is a holiday: Wednesday 17:00 -> Monday 10:00
    assert add("2025-11-26T22:00Z", 120) == pd.Timestamp("2025-12-01T15:00Z")


def test_policies_show_the_edit_once_it_happened():
    w = world()
    start = w.config.start
    before = sla.policies(w, sla.edit_at(start) - pd.Timedelta(seconds=1))
    after = sla.policies(w, sla.edit_at(start))

    def target(policies):
        (standard,) = [p for p in policies if p["title"] == "Standard"]
        return {(m["metric"], m["priority"]): m["target"] for m in standard["policy_metrics"]}[
            ("first_reply_time", "normal")
        ]

    assert (target(before), target(after)) == (300, 240)
    assert [p["position"] for p in after] == [1, 2, 3, 4, 5]
    assert [p["updated_at"] == p["created_at"] for p in after] == [True] * 4 + [False]


def test_the_engine_runs_once_while_warming_up_and_asked_at_once():
    """A standalone simulator runs its SLA engine in the background as it starts
    (`zendesk.warm_up`). Metric-events requests arriving meanwhile wait for that run and get
    its result: one run, not one per caller (each caller computing it again would be slower
    than not warming up at all)."""
    sim = Simulator(World(SimConfig(scale=0.1, seed=11)))  # a world no other test ran (~1 s)
    lines: list[str] = []
    got: list[pd.DataFrame] = []
    warming = zendesk.warm_up(sim, echo=lines.append)  # first, as the simulator starts it
    callers = [
        threading.Thread(target=lambda: got.append(zendesk._metric_events_with_dirt(sim)))
        for _ in range(2)
    ]
    for caller in callers:
        caller.start()
    for thread in (*callers, warming):
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in (*callers, warming)), "still running after 120 s"
    assert len(got) == 2 and got[0] is got[1] is zendesk._metric_events_with_dirt(sim)
    assert len(got[0]) > 1000 and lines and lines[0].startswith("SLA engine ready in")
    served = zendesk.metric_events_view(sim)
    assert len(served) == int((got[0].ts <= sim.clock_epoch).sum()) > 0


def test_each_instance_is_held_to_the_first_policy_whose_filter_matches():
    """The policies' filters (as the endpoint lists them: conditions on type, priority,
    organization and group) evaluated on each ticket at the priority it had when the instance
    activated: the first match by position is the policy the engine applied, and every policy
    applies to some instance."""
    w = world()
    listed = sla.policies(w, w.config.end)
    t = w.tickets

    def holds(cond: dict, ticket: dict) -> bool:
        value = ticket[cond["field"]]
        if cond["operator"] == "includes":
            return value in cond["value"]
        assert cond["operator"] == "is", cond
        return str(value) == cond["value"]

    def first_match(ticket: dict) -> int:
        for p in sorted(listed, key=lambda p: p["position"]):
            f = p["filter"]
            if all(holds(c, ticket) for c in f["all"]) and (
                not f["any"] or any(holds(c, ticket) for c in f["any"])
            ):
                return p["id"]
        raise AssertionError(f"no policy for {ticket}")

    inst = pd.concat([sla.instances(w), sla.timed_instances(w)], ignore_index=True)
    raised = t.escalated_at.astype("datetime64[s, UTC]").astype("int64").to_numpy()
    for row in inst.sample(1500, random_state=5).itertuples():
        k = row.ticket_idx
        escalated = pd.notna(t.escalated_at.iloc[k]) and row.ts < raised[k]
        ticket = {
            "type": t.type.iloc[k],
            "priority": t.opened_priority.iloc[k] if escalated else t.priority.iloc[k],
            "organization_id": int(t.organization_id.iloc[k]),
            "group_id": int(t.group_id.iloc[k]),
        }
        assert row.policy_id == first_match(ticket), (row, ticket)
    assert set(inst.policy_id) == {p["id"] for p in listed}


# ---- the warehouse -----------------------------------------------------------------------
def test_fct_sla_outcomes_equals_the_engines_decisions(built_warehouse):
    truth = sla.outcomes(world(), Simulator(world()).clock)
    truth = truth.rename(columns={"metric": "sla_metric"})
    got = _read(
        built_warehouse,
        "select ticket_id, sla_metric, instance_id, status, target_minutes, sla_policy_id, "
        "epoch(outcome_at) as outcome_ts from marts.fct_sla_outcomes",
    )
    assert len(got) == len(truth) > 100
    m = truth.merge(got, on=KEY, how="outer", indicator=True)
    assert (m._merge == "both").all(), m[m._merge != "both"].head()
    bad = m[
        (m.status_x != m.status_y)
        | (m.target != m.target_minutes)
        | (m.policy_id != m.sla_policy_id)
        | ~np.isclose(m.outcome_ts_x.fillna(-1), m.outcome_ts_y.fillna(-1))
    ]
    assert bad.empty, bad.head(10).to_string()
    assert set(got.status) >= {"achieved", "breached"}


def test_sla_attainment_recomputed_from_raw_equals_the_mart(built_warehouse):
    con = duckdb.connect(str(built_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        expected = rc.sla_attainment_by_month(rc.duckdb_loader(con))
    finally:
        con.close()
    mart = _read(
        built_warehouse,
        "select month, sla_metric, coalesce(priority, '(none)') as priority, "
        "sum(achieved) as achieved, sum(breached) as breached "
        "from marts.cx_sla_monthly group by all",
    )
    mart["month"] = pd.to_datetime(mart["month"])
    mart = mart.set_index(["month", "sla_metric", "priority"]).sort_index()
    mart["attainment"] = 100.0 * mart["achieved"] / (mart["achieved"] + mart["breached"])
    expected = expected.sort_index()
    assert list(mart.index) == list(expected.index)
    parts = ["achieved", "breached"]
    assert (mart[parts].to_numpy() == expected[parts].to_numpy()).all()
    assert np.allclose(mart["attainment"], expected["attainment"], rtol=1e-9)


def test_deleted_breaches_are_in_raw_and_never_count(built_warehouse):
    rows = _read(
        built_warehouse,
        "select o.status, count(*) as n from raw_zendesk.ticket_metric_events e "
        "join marts.fct_sla_outcomes o on o.ticket_id = e.ticket_id "
        "and o.instance_id = e.instance_id and e.metric = 'reply_time' "
        "and o.sla_metric in ('first_reply_time', 'next_reply_time') "
        "where e.type = 'breach' and e.deleted and not o.is_reapplied group by all",
    )
    # a reply metric never pauses: a deleted breach of an instance never re-applied means it
    # was fulfilled first (a re-application deletes the breach it supersedes, and the new
    # one may stand); a pausable metric's breach is deleted when it pauses first, and a
    # later activation may breach it after all
    counts = dict(zip(rows.status, rows.n, strict=True))
    assert counts.get("achieved", 0) > 0
    assert set(counts) <= {"achieved", "active"}, counts


def test_cross_check_agrees_for_99_percent_and_explains_the_rest(built_warehouse):
    check = _read(built_warehouse, "select sla_metric, agrees, reason from marts.sla_cross_check")
    assert len(check) > 100
    assert set(check.sla_metric) == {"first_reply_time", "requester_wait_time"}
    for metric, rows in check.groupby("sla_metric"):
        assert len(rows) > 100, metric
        assert rows.agrees.mean() >= 0.99, (metric, rows[~rows.agrees].reason.value_counts())
    # every decided requester wait of a ticket solved now is checked
    covered = _read(
        built_warehouse,
        "select count(*) as n from marts.fct_sla_outcomes o join marts.fct_tickets t "
        "using (ticket_id) where o.sla_metric = 'requester_wait_time' "
        "and o.status in ('achieved', 'breached') and t.status in ('solved', 'closed')",
    ).n[0]
    assert (check.sla_metric == "requester_wait_time").sum() == covered
    assert check[~check.agrees].reason.notna().all()
    assert check[check.agrees].reason.isna().all()
    assert (check.reason != "unexplained").all()


@pytest.mark.slow
def test_planted_effect_lower_engagement_more_breaches_at_scale_1():
    """At scale 1 the engine's team-month attainment rises with the team's latent engagement
    (the effect the link summary must recover with a positive sign)."""
    from simulator.generator import SimConfig, World

    w = World(SimConfig(scale=1.0, seed=42))
    o = sla.outcomes(w, w.config.clock0)
    o = o[o.status.isin(["achieved", "breached"])].copy()
    t = w.tickets.iloc[o.ticket_idx.to_numpy()]
    o["team"], o["engagement"] = t.team_idx.to_numpy(), t.engagement.to_numpy()
    o["month"] = pd.to_datetime(o.outcome_ts, unit="s").dt.to_period("M")
    g = (
        o[o.team >= 0]
        .assign(achieved=o.status == "achieved")
        .groupby(["team", "month"])
        .agg(attainment=("achieved", "mean"), engagement=("engagement", "mean"))
    )
    assert len(g) > 100
    assert np.corrcoef(g.attainment, g.engagement)[0, 1] > 0.3


@pytest.mark.e2e
@pytest.mark.timeout(3600)  # the scale-1 warehouse (session fixture): ~4 min alone
def test_link_summary_finds_engaged_teams_breach_less_at_scale_1(scale_1_warehouse):
    """The planted effect through the whole warehouse: the scale-1 world loaded over HTTP and
    the link summary built by dbt find SLA attainment rising with team engagement (and eNPS),
    as the simulator planted it (test_planted_effect_...)."""
    data_dir = scale_1_warehouse
    rows = _read(
        data_dir,
        "select ex_metric, n, pearson_r from marts.xm_link_summary "
        "where cx_metric = 'sla_attainment'",
    ).set_index("ex_metric")
    assert rows.loc["engagement", "n"] > 50
    assert rows.loc["engagement", "pearson_r"] > 0.2, rows
    assert rows.loc["enps", "pearson_r"] > 0, rows
