"""Independent recomputation: the monthly marts equal plain-pandas metrics from the raw tables.

`tests/support/recompute.py` computes NPS, CSAT, CES (with their 95% intervals and the trailing
3-month NPS), median first reply (calendar minutes), customers and churn (stage aliases mapped,
won deals without a company or a valid period excluded, statuses decided by the CRM's own
horizon), excluded contracts, complete months, headcount, hires, separations, turnover, eNPS
and engagement, the customer status of dim_customers, the CRM identity match rates and the
data-health figures straight from the raw_<vendor> schemas and the metric definitions
(dbt/models/marts/*/_*__docs.md), without reading any staging, intermediate or mart model.
These tests compare every month of `marts.cx_metrics_monthly` and every month x department of
`marts.ex_metrics_monthly` with it: counts exactly, floats within 1e-9 relative. A failure
prints a small table of the disagreeing cells. The test world is dirty (2%) and its clock is
the first instant of a month.

Set XM_RECOMPUTE_DATA_DIR to a data dir holding an already built `warehouse.duckdb` to check
that warehouse instead of building the test world.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.support import recompute as rc

CX_SURVEY_COUNTS = [
    "nps_respondents",
    "nps_promoters",
    "nps_passives",
    "nps_detractors",
    "csat_responses",
    "csat_satisfied",
    "ces_responses",
    "ces_score_sum",
]
CX_SURVEY_FLOATS = ["nps", "csat", "ces"]
CX_TICKET_COUNTS = ["tickets_created", "tickets_with_first_reply", "tickets_created_now_solved"]
CX_TICKET_FLOATS = ["first_reply_median_calendar_minutes"]
CX_CUSTOMER_COUNTS = [
    "customers_start",
    "customers_end",
    "customers_new",
    "customers_churned",
    "excluded_contracts_start",
]
CX_CUSTOMER_FLOATS = ["churn_rate", "retention_rate", "excluded_contract_value_start"]
CX_SMALL_SAMPLE_COUNTS = [
    "nps_trailing_3m_respondents",
    "nps_trailing_3m_promoters",
    "nps_trailing_3m_detractors",
]
CX_SMALL_SAMPLE_FLOATS = [
    "nps_ci_low",
    "nps_ci_high",
    "nps_trailing_3m",
    "nps_trailing_3m_ci_low",
    "nps_trailing_3m_ci_high",
    "csat_ci_low",
    "csat_ci_high",
    "ces_ci_low",
    "ces_ci_high",
]
EX_HR_COUNTS = [
    "headcount_start",
    "headcount_end",
    "hires",
    "separations",
    "voluntary_separations",
    "involuntary_separations",
]
EX_HR_FLOATS = [
    "average_headcount",
    "turnover_rate",
    "voluntary_turnover_rate",
    "involuntary_turnover_rate",
]
EX_SURVEY_COUNTS = [
    "respondents",
    "enps_promoters",
    "enps_passives",
    "enps_detractors",
    "engagement_answers",
    "engagement_favorable",
]
EX_SURVEY_FLOATS = ["enps", "engagement"]


@dataclass
class Recomputed:
    cx: pd.DataFrame  # recomputed, index month
    ex: pd.DataFrame  # recomputed, index (month, department)
    cx_mart: pd.DataFrame
    ex_mart: pd.DataFrame
    as_of: pd.Timestamp
    horizons: dict[str, rc.Horizon]
    customers: pd.DataFrame  # recomputed dim_customers status, index customer_id
    customers_mart: pd.DataFrame
    won_deals: pd.DataFrame  # recomputed verdict of every won deal
    contract_deals: set[str]  # deal ids of intermediate.int_customer_contracts
    deal_quarantine: dict[str, str | None]  # raw_hubspot.deals key -> reason, quarantine model
    match_rates: pd.DataFrame  # recomputed CRM links
    match_rates_mart: pd.DataFrame
    health: pd.DataFrame
    health_mart: pd.DataFrame


@pytest.fixture(scope="module")
def recomputed(request) -> Recomputed:
    override = os.environ.get("XM_RECOMPUTE_DATA_DIR")
    data_dir = Path(override) if override else request.getfixturevalue("built_warehouse")
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        load = rc.duckdb_loader(con)
        cx = rc.cx_metrics_monthly(load)
        ex = rc.ex_metrics_monthly(load)
        as_of = rc.data_as_of(load)
        horizons = rc.source_horizons(load)
        customers = rc.dim_customer_status(load)
        won = rc.won_deals(load)
        match_rates = rc.crm_match_rates(load)
        health = rc.data_health(load)
        cx_mart = con.execute("select * from marts.cx_metrics_monthly").df()
        ex_mart = con.execute("select * from marts.ex_metrics_monthly").df()
        customers_mart = con.execute("select * from marts.dim_customers").df()
        contract_deals = {
            d
            for (d,) in con.execute(
                "select deal_id from intermediate.int_customer_contracts"
            ).fetchall()
        }
        deal_quarantine = dict(
            con.execute(
                "select source_key, reason from quarantine.quarantine "
                "where source_table = 'raw_hubspot.deals'"
            ).fetchall()
        )
        match_rates_mart = con.execute("select * from marts.identity_match_rates").df()
        health_mart = con.execute("select * from marts.data_health").df()
    finally:
        con.close()
    cx_mart["month"] = pd.to_datetime(cx_mart["month"])
    ex_mart["month"] = pd.to_datetime(ex_mart["month"])
    for col in ("status_date", "churned_date"):
        customers_mart[col] = pd.to_datetime(customers_mart[col])
    return Recomputed(
        cx=cx,
        ex=ex,
        cx_mart=cx_mart.set_index("month").sort_index(),
        ex_mart=ex_mart.set_index(["month", "department"]).sort_index(),
        as_of=as_of,
        horizons=horizons,
        customers=customers,
        customers_mart=customers_mart.set_index("customer_id").sort_index(),
        won_deals=won,
        contract_deals=contract_deals,
        deal_quarantine=deal_quarantine,
        match_rates=match_rates,
        match_rates_mart=match_rates_mart.set_index("link"),
        health=health,
        health_mart=health_mart[health_mart["subject"] == "won_deals"].set_index("verdict"),
    )


def _show(frame: pd.DataFrame, limit: int = 40) -> str:
    with pd.option_context(
        "display.width", 200, "display.max_columns", 20, "display.precision", 15
    ):
        text = frame.head(limit).to_string(index=False)
    return text + (f"\n... {len(frame) - limit} more" if len(frame) > limit else "")


def _assert_equal(expected, actual, counts, floats, what: str) -> None:
    diff = rc.mismatches(expected, actual, counts, floats)
    assert diff.empty, (
        f"{what}: {len(diff)} cells differ (expected = recomputed from raw)\n{_show(diff)}"
    )


# --------------------------------------------------------------------------- the test world


def test_the_world_exercises_every_metric(recomputed):
    """Guard against a vacuous pass: the recomputation sees real data for each metric."""
    cx, ex = recomputed.cx, recomputed.ex
    assert (
        cx["nps_respondents"].sum() > 0
        and cx["csat_responses"].sum() > 0
        and cx["ces_responses"].sum() > 0
    )
    assert cx["first_reply_median_calendar_minutes"].notna().sum() >= 12
    assert cx["customers_start"].max() > 0 and cx["customers_churned"].sum() > 0
    assert ex["separations"].sum() > 0 and ex["hires"].sum() > 0
    assert (~ex["is_suppressed"]).sum() > 0 and ex["is_suppressed"].sum() > 0
    # the dirty CRM data the rules are about is there: excluded won deals, the stage alias,
    # contacts and NPS respondents matched by the email-domain fallback, an open month
    assert (recomputed.won_deals["verdict"] != "contract").sum() > 0
    assert recomputed.match_rates["matched_by_fallback"].sum() > 0
    assert (~cx["is_complete_month"]).sum() > 0 and cx["is_complete_month"].sum() > 12


# --------------------------------------------------------------------------- CX


def test_cx_months_are_the_recomputed_months(recomputed):
    mine, mart = set(recomputed.cx.index), set(recomputed.cx_mart.index)
    assert mart, "marts.cx_metrics_monthly is empty"
    assert recomputed.cx_mart.index.is_unique
    missing = sorted(d.date() for d in mine - mart)
    extra = sorted(d.date() for d in mart - mine)
    assert not missing and not extra, f"months the mart misses: {missing}; months it adds: {extra}"


def test_cx_survey_metrics(recomputed):
    """NPS, CSAT and CES with their parts, by month recorded."""
    _assert_equal(
        recomputed.cx, recomputed.cx_mart, CX_SURVEY_COUNTS, CX_SURVEY_FLOATS, "cx survey metrics"
    )


def test_cx_first_reply_median(recomputed):
    """Tickets created (deleted excluded), with a first public agent reply, and the median."""
    _assert_equal(
        recomputed.cx, recomputed.cx_mart, CX_TICKET_COUNTS, CX_TICKET_FLOATS, "cx ticket metrics"
    )


def test_cx_customers_and_churn(recomputed):
    """Customers on day 1, new and churned customers, churn and retention, and the excluded
    won deals covering day 1, with the documented rules: the stage alias is a won deal; won
    deals without a company association or a valid period make nobody a customer; a status is
    published only once the CRM data has passed its day (else null), whatever the help desk
    and the surveys say."""
    cx, mart = recomputed.cx, recomputed.cx_mart.reindex(recomputed.cx.index)
    _assert_equal(cx, mart, CX_CUSTOMER_COUNTS, CX_CUSTOMER_FLOATS, "customers and churn")
    crm = recomputed.horizons["hubspot"]
    undecided = [m for m in cx.index if not crm.decides(m + pd.DateOffset(months=1))]
    assert undecided, "the test world should end with a month whose end state is open"
    assert mart.loc[undecided, "customers_churned"].isna().all()
    assert mart.loc[undecided, "customers_new"].isna().all()


def test_cx_complete_months(recomputed):
    """No row is an incomplete month unless it says so: a month is complete once the help
    desk and the surveys have reached the next month and the CRM has passed its first day.
    The clock of the test world is the first instant of a month: the month that just ended
    is not complete yet (no source has data of the new month, the CRM has not decided its
    first day), and no row of the new month is published as anything but open."""
    cx, mart = recomputed.cx, recomputed.cx_mart.reindex(recomputed.cx.index)
    wrong = cx.index[mart["is_complete_month"].astype("boolean") != cx["is_complete_month"]]
    assert wrong.empty, f"is_complete_month differs in {[m.date() for m in wrong]}"
    h = recomputed.horizons
    for month in mart.index[mart["is_complete_month"]]:
        nxt = month + pd.DateOffset(months=1)
        assert (
            h["zendesk"].reached(nxt) and h["qualtrics"].reached(nxt) and h["hubspot"].decides(nxt)
        )
    last = mart.index.max()
    assert not mart.loc[last, "is_complete_month"]
    complete = mart.index[mart["is_complete_month"]]
    assert list(complete) == list(mart.index[: len(complete)]), "open months only at the end"


def test_cx_small_sample_intervals_and_trailing_nps(recomputed):
    """95% intervals of NPS (adjusted Wald), CSAT (Wilson) and CES (normal), and the trailing
    3-month NPS with its parts, every month."""
    _assert_equal(
        recomputed.cx,
        recomputed.cx_mart,
        CX_SMALL_SAMPLE_COUNTS,
        CX_SMALL_SAMPLE_FLOATS,
        "survey intervals and trailing NPS",
    )
    mart = recomputed.cx_mart
    with_nps = mart[mart["nps_respondents"] > 0]
    assert (with_nps["nps_ci_low"] <= with_nps["nps"]).all()
    assert (with_nps["nps"] <= with_nps["nps_ci_high"]).all()
    assert (with_nps["nps_ci_high"] > with_nps["nps_ci_low"]).all(), (
        "never a zero-width NPS interval"
    )


def test_dim_customers_status_is_the_monthly_rule(recomputed):
    """is_active is the customer-status rule of the monthly marts on the CRM's decided day:
    a company is active when a contract covers status_date; churned_date is the end of its
    last contract begun by then."""
    mine, mart = recomputed.customers, recomputed.customers_mart
    assert set(mine.index) == set(mart.index)
    mart = mart.reindex(mine.index)
    assert (mart["status_date"] == recomputed.horizons["hubspot"].decided_through_date).all()
    diff = mine.index[mine["is_active"] != mart["is_active"]]
    assert diff.empty, f"is_active differs for {list(diff)}"
    churned = pd.to_datetime(mine["churned_date"])
    same = (churned == mart["churned_date"]) | (churned.isna() & mart["churned_date"].isna())
    assert same.all(), mine.loc[~same].join(mart[["churned_date"]], rsuffix="_mart")


def test_every_won_deal_is_a_contract_or_quarantined(recomputed):
    """With dirty data on, every won deal (stage closedwon or its alias closedwon_legacy) is
    either a contract or in quarantine with a reason, never both and never neither, and the
    reason is the documented one."""
    won = recomputed.won_deals.set_index("deal_id")
    assert len(won) > 0
    contracts, quarantined = recomputed.contract_deals, recomputed.deal_quarantine
    for deal_id, verdict in won["verdict"].items():
        if verdict == "contract":
            assert deal_id in contracts and deal_id not in quarantined, deal_id
        else:
            assert deal_id not in contracts, deal_id
            assert quarantined.get(deal_id) == verdict, (deal_id, quarantined.get(deal_id), verdict)
    assert contracts <= set(won.index), "a contract that is no won deal"


def test_crm_identity_match_rates_are_published(recomputed):
    """deal_company, contact_company and nps_respondent_customer are published and equal the
    recomputation (association, else the email-domain fallback, counted apart)."""
    mine = recomputed.match_rates
    mart = recomputed.match_rates_mart.reindex(mine.index)
    _assert_equal(
        mine,
        mart,
        ["total", "matched", "unmatched", "matched_by_fallback", "pending"],
        ["match_rate"],
        "CRM identity match rates",
    )


def test_data_health_counts_excluded_contracts(recomputed):
    """Per verdict of the won deals: records, their amount and annualised value, shares."""
    mine, mart = recomputed.health, recomputed.health_mart
    assert set(mine.index) == set(mart.index)
    assert (mart.loc[mine.index, "is_excluded"] == mine["is_excluded"]).all()
    _assert_equal(
        mine,
        mart,
        ["records"],
        ["amount", "annual_contract_value", "share_of_records", "share_of_amount"],
        "data_health",
    )


# --------------------------------------------------------------------------- EX


def test_ex_rows_are_the_recomputed_rows(recomputed):
    """Months: the pulse survey window. Rows: month x department with headcount, a hire, a
    separation or a survey response (a department with only transfers would be missing here)."""
    mine, mart = recomputed.ex, recomputed.ex_mart
    assert not mart.empty, "marts.ex_metrics_monthly is empty"
    assert mart.index.is_unique
    months_mine = set(mine.index.get_level_values("month"))
    months_mart = set(mart.index.get_level_values("month"))
    missing = sorted(d.date() for d in months_mine - months_mart)
    extra = sorted(d.date() for d in months_mart - months_mine)
    assert not missing and not extra, f"months the mart misses: {missing}; months it adds: {extra}"
    rows_missing = sorted((m.date(), d) for m, d in set(mine.index) - set(mart.index))
    assert not rows_missing, f"month x department rows the mart misses: {rows_missing}"
    extra_rows = mart.loc[sorted(set(mart.index) - set(mine.index))]
    extra_rows = extra_rows[
        (extra_rows[["headcount_start", "headcount_end", "hires", "separations"]] != 0).any(axis=1)
    ]
    assert extra_rows.empty, f"mart rows with HR activity the recomputation lacks:\n{extra_rows}"


def test_ex_complete_months(recomputed):
    """An EX month is complete once the HR data has passed its last day and the survey data
    has reached the next month."""
    mine = recomputed.ex
    mart = recomputed.ex_mart.reindex(mine.index)
    wrong = mine.index[mart["is_complete_month"].astype("boolean") != mine["is_complete_month"]]
    assert wrong.empty, f"is_complete_month differs: {list(wrong)[:5]}"


def test_ex_headcount_separations_turnover(recomputed):
    _assert_equal(
        recomputed.ex, recomputed.ex_mart, EX_HR_COUNTS, EX_HR_FLOATS, "ex headcount and turnover"
    )


def test_ex_suppression(recomputed):
    """A department row is suppressed exactly when fewer than 5 respondents stand behind its
    survey figures (all, eNPS, engagement); department rows get no secondary suppression
    (no company total is published). Suppressed rows publish no survey figure."""
    mine = recomputed.ex
    mart = recomputed.ex_mart.reindex(mine.index)
    flag = mart["is_suppressed"].astype("boolean")
    wrong = mine.loc[
        flag.isna() | (flag != mine["is_suppressed"]),
        ["respondents", "enps_respondents", "engagement_respondents", "is_suppressed"],
    ]
    wrong = wrong.assign(mart_is_suppressed=flag.reindex(wrong.index))
    assert wrong.empty, (
        f"is_suppressed differs (left: recomputed):\n{wrong.reset_index().to_string(index=False)}"
    )
    suppressed = mart[flag.fillna(True).astype(bool)]
    leaked = suppressed[EX_SURVEY_COUNTS + EX_SURVEY_FLOATS].notna().any(axis=1)
    assert not leaked.any(), f"suppressed rows publishing survey figures:\n{suppressed[leaked]}"


def test_ex_enps_and_engagement(recomputed):
    """eNPS (with its parts), engagement and respondents of every published department row."""
    mine = recomputed.ex[~recomputed.ex["is_suppressed"]]
    mart = recomputed.ex_mart.reindex(mine.index)
    _assert_equal(
        mine, mart, EX_SURVEY_COUNTS, EX_SURVEY_FLOATS, "ex eNPS and engagement (published rows)"
    )
