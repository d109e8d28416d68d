"""SLAs from Zendesk's own SLA engine, end to end.

The simulator's engine (simulator/sla.py) decides every instance's outcome; the warehouse
must publish exactly that (fct_sla_outcomes), and the monthly attainment must equal a plain
pandas recomputation from the raw ticket metric events (tests/support/recompute.py) that
reads no model. The first-reply cross-check (the project's own reply times and business
minutes against the engine) must agree for >= 99% of instances and give every disagreement
a reason.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from simulator import sla
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
    assert {"apply_sla", "activate", "breach", "fulfill", "update_status"} == set(ev.type)
    assert ev.id.is_unique and (np.diff(ev.ts.to_numpy()) >= 0).all(), "listed in time order"
    breaches = ev[ev.type == "breach"]
    # a breach stands exactly when its time came before the fulfilment (or there is none)
    for row in breaches.itertuples():
        i = inst.iloc[row.i]
        stands = np.isnan(i.fulfilled_ts) or row.ts < i.fulfilled_ts
        if not i.reapplied:
            assert row.deleted == (not stands), row
    # instance 1 starts with the ticket; every instance gets one apply_sla per application
    first = inst[inst.instance_id == 1]
    created = w.tickets.created_at.iloc[first.ticket_idx].astype("datetime64[s, UTC]")
    assert (first.ts.to_numpy() == created.astype("int64").to_numpy()).all()
    applies = ev[ev.type == "apply_sla"].groupby("i").size()
    assert (applies.reindex(range(len(inst))).to_numpy() == 1 + inst.reapplied.to_numpy()).all()
    # both kinds of outcome, calendar and business targets, solves without a reply
    assert inst.breached.any() and (~inst.breached).any()
    assert inst.business_hours.any() and (~inst.business_hours).any()
    assert (inst.fulfilled_by == "solve").any()


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
    start = world().config.start
    before = sla.policies(start, sla.edit_at(start) - pd.Timedelta(seconds=1))
    after = sla.policies(start, sla.edit_at(start))

    def target(policies):
        (standard,) = [p for p in policies if p["title"] == "Standard"]
        return {(m["metric"], m["priority"]): m["target"] for m in standard["policy_metrics"]}[
            ("first_reply_time", "normal")
        ]

    assert (target(before), target(after)) == (300, 240)
    assert [p["position"] for p in after] == [1, 2]


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
        "where e.type = 'breach' and e.deleted group by all",
    )
    counts = dict(zip(rows.status, rows.n, strict=True))
    assert counts.get("achieved", 0) > 0
    assert set(counts) <= {"achieved", "active"}, counts


def test_cross_check_agrees_for_99_percent_and_explains_the_rest(built_warehouse):
    check = _read(built_warehouse, "select agrees, reason from marts.sla_cross_check")
    assert len(check) > 100
    assert check.agrees.mean() >= 0.99, check[~check.agrees].reason.value_counts()
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
