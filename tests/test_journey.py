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


# ---- the models, on the session's built warehouse ------------------------------------
import re  # noqa: E402

import duckdb  # noqa: E402

from simulator import hubspot, qualtrics, sla  # noqa: E402
from simulator.server import Simulator  # noqa: E402
from tests.support import recompute as rc  # noqa: E402
from tests.support.world import world  # noqa: E402

JOURNEY_MARTS = (
    "fct_customer_touchpoints",
    "fct_customer_stage_spells",
    "cx_journey_stage_monthly",
    "cx_journey_stage_conversion",
    "cx_onboarding_renewals",
)


@pytest.fixture(scope="module")
def con(request):
    """The session's built warehouse (or XM_JOURNEY_DATA_DIR's, already built from the test
    world at its first clock), read only."""
    import os
    from pathlib import Path

    given = os.environ.get("XM_JOURNEY_DATA_DIR")
    data_dir = Path(given) if given else request.getfixturevalue("built_warehouse")
    c = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    c.execute("set TimeZone = 'UTC'")
    yield c
    c.close()


def _df(con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _counts(con) -> dict[str, int]:
    rows = con.execute(
        "select activity, count(*) from marts.fct_customer_touchpoints group by activity"
    ).fetchall()
    return dict(rows)


# ---- touchpoint ground truth, per source, from the simulator's world ----------------
def _crm_horizon(sim: Simulator) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The UTC days HubSpot's data is loaded and decided through (int_source_horizons): the
    day of the newest last-modified date the API shows by the clock, and the day before."""
    newest = max(
        pd.to_datetime(view[column], utc=True).max()
        for view, column in (
            (hubspot.companies_view(sim), "hs_lastmodifieddate"),
            (hubspot.contacts_view(sim), "lastmodifieddate"),
            (hubspot.deals_view(sim), "hs_lastmodifieddate"),
        )
    )
    loaded = newest.floor("D")
    return loaded, loaded - pd.Timedelta(days=1)


def _lifecycle_truth(sim: Simulator) -> dict[str, int]:
    """Company lifecycle stage changes served by the clock (contacts' are not touchpoints)."""
    h = hubspot.lifecycle_view(sim)
    h = h[h.object_type == "companies"]
    # dirt (unknown enum): a custom stage's numeric id instead of a default stage; staging
    # quarantines it as an unknown lifecycle stage
    assert (h.value == hubspot.CUSTOM_STAGE_ID).any()
    h = h[h.value != hubspot.CUSTOM_STAGE_ID]
    return {
        "lifecycle_stage_entered": int((h.value != "").sum()),
        # a stage moved back: HubSpot clears the value first (a lost first deal)
        "lifecycle_stage_cleared": int((h.value == "").sum()),
    }


def _deal_truth(sim: Simulator) -> dict[str, int]:
    """Deals created, closed and turned into contracts by the clock, and the contracts'
    starts and ends within the CRM's horizon."""
    d = sim.world.deals
    # dirt (missing key): a deal without company association reaches no customer (a won one
    # is quarantined as a won deal without company association, so it is no contract either)
    associated = hubspot.associations_view(sim)[("deals", "companies")].from_id
    d = d[d.deal_id.isin(associated)]  # and created by the clock: the view shows no others
    assert len(d) < len(hubspot.deals_view(sim))  # the dirt is there
    # dirt (timestamp with offset, unknown enum): a `closedate` written with -05:00 is the same
    # instant and `closedwon_legacy` is won (the hubspot_deal_stages seed knows the alias):
    # neither excludes a deal
    closed = d.close_at <= sim.clock
    contracts = d[closed & d.won]  # every won deal has a valid contract period
    # a renewal is a deal after the company's first contract; a renewal whose predecessors
    # were all quarantined (no association) is new business to the warehouse, which knows
    # no earlier contract
    first = contracts.groupby("company_id").renewal_no.min()
    renewal = d.renewal_no > first.reindex(d.company_id).to_numpy()
    # renewed: the company's next contract follows (a churn has none; dirt: neither does a
    # contract whose renewal deal was quarantined, so it looks like a churn, DECISIONS.md)
    succeeded = pd.MultiIndex.from_arrays([contracts.company_id, contracts.renewal_no - 1])
    renewed = pd.MultiIndex.from_arrays([contracts.company_id, contracts.renewal_no]).isin(
        succeeded
    )
    loaded_through, decided_through = _crm_horizon(sim)
    started = contracts.contract_start <= loaded_through  # 00:00 UTC dates
    ended = contracts.contract_end <= decided_through
    return {
        "deal_created": len(d),
        "deal_won": int((closed & d.won & ~renewal).sum()),
        "renewal_won": int((closed & d.won & renewal).sum()),
        "deal_lost": int((closed & ~d.won).sum()),
        "contract_started": int(started.sum()),
        "contract_ended": int(ended.sum()),
        "renewal_lost": int((ended & ~renewed).sum()),
    }


def _helpdesk_truth(sim: Simulator) -> dict[str, int]:
    """Zendesk tickets and their events by the clock, and the SLA engine's breaches."""
    clock = sim.clock
    t = sim.world.tickets
    # every ticket's organization is a company's (matched on its domain, whose noise staging
    # normalises away): no help-desk-only customer in this world
    assert t.organization_id.isin(sim.world.companies.org_id).all()
    # dirt (deleted): a ticket deleted by the clock is dropped with everything that happened
    # to it (sla.outcomes leaves its instances out too). Other ticket dirt excludes nothing:
    # a -05:00 `created_at` is the same instant, `priority: critical` is kept, and a ticket
    # served without `organization_id` belongs to its requester's organization
    t = t[(t.created_at <= clock) & ~(t.deleted_at <= clock)]
    # dirt (SLA): a scrubbed ticket's metric events are quarantined as orphans; the engine's
    # own instances never include them
    outcomes = sla.outcomes(sim.world, clock)
    return {
        "ticket_created": len(t),
        # the first public agent comment: the first reply, else the reply after a reopen
        "first_reply": int((t.first_reply_at.fillna(t.reply2_at) <= clock).sum()),
        "ticket_solved": int((t.solved_at <= clock).sum() + (t.solved2_at <= clock).sum()),
        "ticket_reopened": int((t.reopened_at <= clock).sum()),
        "sla_breached": int((outcomes.status == "breached").sum()),
    }


def _survey_truth(sim: Simulator) -> dict[str, int]:
    """Valid CSAT, CES and NPS answers the Qualtrics export serves by the clock, each about a
    known customer."""
    w = sim.world
    recorded = pd.to_datetime(w.responses.recorded_at, utc=True) <= sim.clock
    kinds = w.surveys.kind.to_numpy()[w.responses.survey_idx.to_numpy()]
    # the activity of each question (the CSAT survey's QID1 is CSAT, QID2 CES)
    activities = {"csat": ("csat_answered", "ces_answered"), "nps": ("nps_answered",)}
    counts = dict.fromkeys([a for names in activities.values() for a in names], 0)
    for served, kind, seen in zip(qualtrics._responses(sim), kinds, recorded, strict=True):
        if not seen or kind not in activities:  # eNPS answers are about employees
            continue
        values = served["values"]
        # dirt (missing key): a CSAT response without `ticket_id` has no customer. With one,
        # the customer is the ticket's organization's company (deleted tickets' too)
        if kind == "csat" and "ticket_id" not in values:
            continue
        for n, (activity, question) in enumerate(
            zip(activities[kind], qualtrics.QUESTIONS[kind], strict=True), start=1
        ):
            # dirt: an unanswered (omitted), non-numeric ("N/A") or out-of-range answer is
            # quarantined: the answer has no score
            answer = values.get(f"QID{n}")
            if isinstance(answer, int) and answer in question.recodes:
                counts[activity] += 1
    # an NPS respondent's customer: the contact's company association, else (dirt: missing
    # `associatedcompanyid`) its email domain's company, which is the same company here (no
    # two companies share a domain); the respondent email's noise is normalised away
    contacts = w.contacts
    domains = w.companies.domain.to_numpy()[contacts.company_idx.to_numpy()]
    assert w.companies.domain.is_unique
    assert (contacts.email.str.split("@").str[1] == domains).all()
    return counts


def test_touchpoint_counts_per_activity_equal_the_simulators_ground_truth(con):
    """Every activity's count, recomputed from the simulator's world as of the clock the
    session warehouse was loaded at (what the APIs served then), less the planted dirt the
    warehouse quarantines or drops (each exclusion named where it is made)."""
    sim = Simulator(world())
    expected = _lifecycle_truth(sim) | _deal_truth(sim) | _helpdesk_truth(sim) | _survey_truth(sim)
    assert len(expected) == 17
    assert _counts(con) == expected
    assert all(v > 0 for v in expected.values()), expected


def test_touchpoints_reconcile_with_raw_and_the_facts(con):
    """Contract and deal touchpoints equal a recomputation from raw; survey answers equal the
    valid answers of fct_survey_responses; ids are unique; every touchpoint after a
    customer's first stage carries the stage of the spell around it."""
    load = rc.duckdb_loader(con)
    raw = rc.journey_stage_touchpoints(load)
    got = _counts(con)
    for activity in ("contract_started", "renewal_lost", "deal_created", "lifecycle_stage_entered"):
        assert got.get(activity, 0) == int((raw.activity == activity).sum()), activity
    kinds = dict(
        con.execute(
            "select survey_kind || '_answered', count(*) from marts.fct_survey_responses "
            "where score is not null and (customer_id is not null or ticket_id in "
            "(select ticket_id from marts.fct_tickets where organization_id is not null)) "
            "group by 1"
        ).fetchall()
    )
    assert {k: got.get(k, 0) for k in kinds} == kinds
    [(n, distinct, unstaged)] = con.execute(
        "select count(*), count(distinct touchpoint_id), "
        "count(*) filter (where journey_stage is null and occurred_at >= ("
        "  select min(entered_at) from marts.fct_customer_stage_spells s "
        "  where s.customer_id = t.customer_id)) "
        "from marts.fct_customer_touchpoints t"
    ).fetchall()
    assert n == distinct and unstaged == 0
    # the stage a touchpoint carries is the spell's around it
    bad = con.execute(
        "select count(*) from marts.fct_customer_touchpoints t "
        "join marts.fct_customer_stage_spells s on t.spell_id = s.spell_id "
        "where t.journey_stage <> s.journey_stage or t.occurred_at < s.entered_at "
        "or t.occurred_at >= coalesce(s.exited_at, t.occurred_at + interval 1 day)"
    ).fetchone()[0]
    assert bad == 0
    # occurrence numbers count 1..n per customer and activity
    [(gaps,)] = con.execute(
        "select count(*) from (select customer_id, activity, max(occurrence_number) m, count(*) c "
        "from marts.fct_customer_touchpoints group by 1, 2) where m <> c"
    ).fetchall()
    assert gaps == 0


@pytest.fixture(scope="module")
def recomputed_spells(con) -> pd.DataFrame:
    load = rc.duckdb_loader(con)
    rules, stages = rc.journey_seeds()
    as_of = con.execute("select max(occurred_at) from marts.fct_customer_touchpoints").fetchone()[0]
    return rc.journey_spells(
        rc.journey_stage_touchpoints(load), rules, stages, pd.Timestamp(as_of).tz_convert("UTC")
    )


def test_spells_equal_an_independent_recomputation_and_tile(con, recomputed_spells):
    mart = _df(
        con,
        "select customer_id, spell_number, journey_stage, entered_at, exited_at, is_regression, "
        "days_in_stage, is_current from marts.fct_customer_stage_spells order by 1, 2",
    )
    expected = recomputed_spells.sort_values(["customer_id", "spell_number"], ignore_index=True)
    assert len(expected) > 100
    cols = ["customer_id", "spell_number", "journey_stage", "is_regression"]
    pd.testing.assert_frame_equal(
        mart[cols].reset_index(drop=True), expected[cols], check_dtype=False
    )
    for c in ("entered_at", "exited_at"):
        a = pd.to_datetime(mart[c], utc=True)
        b = pd.to_datetime(expected[c], utc=True)
        assert ((a == b) | (a.isna() & b.isna())).all(), c
    assert (mart.days_in_stage - expected.days_in_stage).abs().max() < 1e-6
    # tiling: each spell starts where the previous one ended; one current spell per customer
    nxt = mart.groupby("customer_id").entered_at.shift(-1)
    assert ((mart.exited_at == nxt) | (mart.exited_at.isna() & nxt.isna())).all()
    assert (mart.groupby("customer_id").is_current.sum() == 1).all()


def test_stage_conversion_and_time_to_stage_equal_pandas(con, recomputed_spells):
    _, stages = rc.journey_seeds()
    expected = rc.journey_conversion(recomputed_spells, stages)
    mart = _df(
        con,
        "select cohort_month, journey_stage, customers_in_cohort, customers_reached, "
        "conversion_rate, median_days_to_stage from marts.cx_journey_stage_conversion",
    )
    mart["cohort_month"] = pd.to_datetime(mart.cohort_month)
    both = mart.merge(expected, on=["cohort_month", "journey_stage"], suffixes=("", "_pd"))
    assert len(both) == len(mart) == len(expected) > 0
    for c in ("customers_in_cohort", "customers_reached"):
        assert (both[c] == both[f"{c}_pd"]).all(), c
    for c in ("conversion_rate", "median_days_to_stage"):
        diff = (both[c] - both[f"{c}_pd"]).abs()
        assert ((diff < 1e-6) | (both[c].isna() & both[f"{c}_pd"].isna())).all(), c
    assert both.customers_reached.sum() > 0


def test_a_lost_deal_regression_is_flagged(con):
    """Every company whose first deal was lost (HubSpot cleared its stage, then set `lead`)
    has a regression spell into awareness at that `lead`."""
    w = world()
    clock = Simulator(w).clock
    d = w.deals
    lost = d[~d.won & (d.renewal_no == 0) & (d.close_at + pd.Timedelta(seconds=1) <= clock)]
    assert len(lost) > 0
    spells = _df(
        con,
        "select customer_id, journey_stage, entered_at, previous_stage "
        "from marts.fct_customer_stage_spells where is_regression",
    )
    for company_id, close in zip(lost.company_id, lost.close_at, strict=True):
        at = (close + pd.Timedelta(seconds=1)).floor("s")
        s = spells[spells.customer_id == str(company_id)]
        hit = s[(s.journey_stage == "awareness") & (pd.to_datetime(s.entered_at, utc=True) == at)]
        assert len(hit) == 1 and hit.previous_stage.iloc[0] == "purchase", company_id


def test_experience_by_stage_recomputed_from_the_touchpoints(con):
    """CSAT and tickets per month x stage equal a pandas count over the touchpoints (CSAT in
    the stage of the answer's ticket at its creation)."""
    tp = _df(
        con,
        "select activity, ticket_id, occurred_at, journey_stage, score "
        "from marts.fct_customer_touchpoints "
        "where activity in ('ticket_created', 'csat_answered')",
    )
    created = tp[tp.activity == "ticket_created"].dropna(subset=["journey_stage"])
    stage_of = created.set_index("ticket_id").journey_stage
    csat = tp[tp.activity == "csat_answered"].copy()
    csat["journey_stage"] = csat.ticket_id.map(stage_of)
    csat = csat.dropna(subset=["journey_stage"])
    csat["month"] = rc.utc_month(csat.occurred_at)
    created = created.assign(month=rc.utc_month(created.occurred_at))
    exp = (
        csat.assign(sat=csat.score >= 4)
        .groupby(["month", "journey_stage"])
        .agg(csat_responses=("sat", "size"), csat_satisfied=("sat", "sum"))
        .join(
            created.groupby(["month", "journey_stage"]).size().rename("tickets_created"),
            how="outer",
        )
        .fillna(0)
        .astype(int)
    )
    mart = _df(
        con,
        "select month, journey_stage, csat_responses, csat_satisfied, tickets_created "
        "from marts.cx_journey_stage_monthly",
    )
    mart["month"] = pd.to_datetime(mart.month)
    mart = mart.set_index(["month", "journey_stage"])
    mart = mart[(mart.csat_responses > 0) | (mart.tickets_created > 0)]
    pd.testing.assert_frame_equal(
        mart.sort_index()[exp.columns], exp.sort_index(), check_dtype=False, check_names=False
    )
    assert set(exp.index.get_level_values(1)) >= {"onboarding", "support"}
    # a month is final as the recomputation of every CX source's horizon says
    flags = _df(con, "select distinct month, is_complete_month from marts.cx_journey_stage_monthly")
    flags["month"] = pd.to_datetime(flags.month)
    assert flags.month.is_unique
    expected = rc.cx_complete_months(rc.duckdb_loader(con), list(flags.month))
    assert flags.set_index("month").is_complete_month.to_dict() == expected.to_dict()
    assert expected.any() and not expected.all(), "the data end inside a month"


def test_journey_marts_carry_no_personal_data(con):
    """Customers are companies; contacts appear nowhere, not even as keys; no value looks
    like an email address and no column is a name, email or phone."""
    contact_ids = {str(i) for i in world().contacts.contact_id}
    for mart in JOURNEY_MARTS:
        df = _df(con, f"select * from marts.{mart}")
        assert not [c for c in df.columns if re.search(r"email|name|phone|contact", c)], mart
        text = df.select_dtypes(exclude="number")
        for col in text.columns:
            values = {str(v) for v in text[col].dropna()}
            assert not any("@" in v for v in values), (mart, col)
            assert not values & contact_ids, (mart, col)


def test_onboarding_renewals_recomputed_from_the_touchpoints(con):
    """Each first contract's onboarding window (90 days): tickets, CSAT about them, SLA
    breaches in it, the poor-onboarding verdict and the first-renewal outcome, recounted in
    pandas from the touchpoint stream."""
    tp = _df(
        con,
        "select customer_id, activity, activity_value, occurred_at, ticket_id, deal_id, score "
        "from marts.fct_customer_touchpoints",
    )
    tp["occurred_at"] = pd.to_datetime(tp.occurred_at, utc=True)
    starts = tp[(tp.activity == "contract_started") & (tp.activity_value == "first")]
    rows = []
    for s in starts.itertuples():
        end = s.occurred_at + pd.Timedelta(days=ONBOARDING_WINDOW_DAYS)
        mine = tp[tp.customer_id == s.customer_id]
        inside = (mine.occurred_at >= s.occurred_at) & (mine.occurred_at < end)
        tickets = set(mine[inside & (mine.activity == "ticket_created")].ticket_id)
        answers = tp[(tp.activity == "csat_answered") & tp.ticket_id.isin(tickets)]
        breaches = int((inside & (mine.activity == "sla_breached")).sum())
        satisfied = int((answers.score >= 4).sum())
        poor = None if answers.empty else 2 * satisfied < len(answers)
        ended = tp[(tp.activity == "contract_ended") & (tp.deal_id == s.deal_id)]
        outcome = (
            None
            if ended.empty
            else ("renewed" if ended.activity_value.iloc[0] == "renewed" else "churned")
        )
        rows.append((s.customer_id, len(tickets), len(answers), satisfied, breaches, poor, outcome))
    expected = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "onboarding_tickets",
            "onboarding_csat_responses",
            "onboarding_csat_satisfied",
            "onboarding_sla_breaches",
            "is_poor_onboarding",
            "first_renewal_outcome",
        ],
    ).set_index("customer_id")
    mart = _df(
        con, f"select {', '.join(expected.reset_index().columns)} from marts.cx_onboarding_renewals"
    )
    mart = mart.set_index("customer_id").sort_index()
    assert len(mart) == len(expected) > 0
    expected = expected.sort_index()
    for col in expected.columns:
        a, b = mart[col], expected[col]
        same = [(x == y) or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True)]
        assert all(same), col
    assert mart.onboarding_tickets.sum() > 0 and mart.first_renewal_outcome.notna().any()


ONBOARDING_WINDOW_DAYS = 90  # the journey_stage_rules seed's onboarding max_days


# ---- the planted effects through the whole warehouse, at scale 1 ---------------------
def _scale_1(data_dir, sql: str) -> pd.DataFrame:
    c = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return c.execute(sql).df()
    finally:
        c.close()


@pytest.mark.e2e
@pytest.mark.timeout(3600)  # the scale-1 warehouse (session fixture): ~4 min alone
def test_warehouse_finds_onboarding_tickets_rated_lower_at_scale_1(scale_1_warehouse):
    """cx_journey_stage_monthly, summed over the months: CSAT of tickets created in the
    onboarding stage is lower than in steady-state support, as the simulator planted it
    (test_planted_effect_onboarding_...)."""
    by_stage = _scale_1(
        scale_1_warehouse,
        "select journey_stage, sum(csat_satisfied) satisfied, sum(csat_responses) responses "
        "from marts.cx_journey_stage_monthly group by journey_stage",
    ).set_index("journey_stage")
    csat = by_stage.satisfied / by_stage.responses
    assert by_stage.loc["onboarding", "responses"] > 200, by_stage
    assert by_stage.loc["support", "responses"] > 1000, by_stage
    assert csat["onboarding"] < csat["support"] - 0.05, csat


@pytest.mark.e2e
@pytest.mark.timeout(3600)  # the scale-1 warehouse (session fixture): ~4 min alone
def test_warehouse_finds_poor_onboardings_churn_more_at_scale_1(scale_1_warehouse):
    """cx_onboarding_renewals: over the onboardings the help desk saw whole and whose first
    renewal is decided, churn after a poor onboarding exceeds churn after a good one, as the
    simulator planted it (test_planted_effect_poor_onboarding_...)."""
    rows = _scale_1(
        scale_1_warehouse,
        "select is_poor_onboarding, first_renewal_outcome = 'churned' as churned "
        "from marts.cx_onboarding_renewals where is_onboarding_observed "
        "and is_poor_onboarding is not null and first_renewal_outcome is not null",
    )
    churn = rows.groupby("is_poor_onboarding").churned.agg(["mean", "size"])
    assert churn.loc[True, "size"] >= 10 and churn.loc[False, "size"] >= 20, churn
    assert churn.loc[True, "mean"] > churn.loc[False, "mean"] + 0.1, churn
