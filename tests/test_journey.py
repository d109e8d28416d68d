"""The customer journey (issue 19): lifecycle history, touchpoints, stage spells, the marts.

Planted effects are checked on the simulator's scale-1 world directly (its CSAT answers and
renewals, as the warehouse would see them by the first clock); the models on the session's
built warehouse, recomputed independently from raw and the simulator's ground truth.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from simulator.generator import ONBOARD_DAYS, SimConfig, World


@cache
def scale_1() -> World:
    return World(SimConfig(scale=1.0, seed=42))


def _csat_answers(w: World) -> pd.DataFrame:
    """The CSAT answers recorded by the first clock, with their ticket's company and whether
    the ticket was created in the first 90 days of the company's first contract."""
    t = w.tickets.set_index("ticket_id")
    r = w.responses
    a = r[(r.survey_idx == 0) & (r.recorded_at <= w.config.clock0)].copy()
    a["company_idx"] = t.company_idx.reindex(a.ticket_id).to_numpy()
    created = t.created_at.reindex(a.ticket_id).to_numpy()
    acquired = w.companies.acquired_at.to_numpy()[a.company_idx.to_numpy()]
    a["onboarding"] = created < acquired + pd.Timedelta(days=ONBOARD_DAYS)
    a["satisfied"] = a.q1 >= 4
    return a


def test_planted_effect_onboarding_tickets_rated_lower_at_scale_1():
    a = _csat_answers(scale_1())
    by_stage = a.groupby("onboarding").satisfied.agg(["mean", "size"])
    assert by_stage.loc[True, "size"] > 200
    assert by_stage.loc[True, "mean"] < by_stage.loc[False, "mean"] - 0.05


def test_planted_effect_poor_onboarding_churns_more_at_first_renewal_at_scale_1():
    """Customers whose onboarding tickets were rated satisfied less than half the time churn
    more at their first renewal (decided by the first clock) than the others."""
    w = scale_1()
    a = _csat_answers(w)
    onboarding_csat = a[a.onboarding].groupby("company_idx").satisfied.mean()
    d = w.deals
    first = d[(d.renewal_no == 0) & d.won].set_index("company_idx")
    decided = first[first.contract_end <= w.config.clock0]
    churned = w.companies.churned_at.reindex(decided.index) == decided.contract_end
    df = pd.DataFrame({"churned": churned, "csat": onboarding_csat.reindex(decided.index)})
    df = df.dropna()
    poor = df[df.csat < 0.5].churned
    good = df[df.csat >= 0.5].churned
    assert len(poor) >= 10 and len(good) >= 20
    assert poor.mean() > good.mean() + 0.1
