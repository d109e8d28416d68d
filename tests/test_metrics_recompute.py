"""Independent recomputation: the monthly marts equal plain-pandas metrics from the raw tables.

`tests/support/recompute.py` computes NPS, CSAT, CES, median first reply (calendar minutes), customers
and churn, headcount, hires, separations, turnover, eNPS and engagement straight from the
raw_<vendor> schemas and the metric definitions (dbt/models/marts/*/_*__docs.md), without reading any staging, intermediate or
mart model. These tests compare every month of `marts.cx_metrics_monthly` and every
month x department of `marts.ex_metrics_monthly` with it: counts exactly, floats within 1e-9
relative. A failure prints a small table of the disagreeing cells.

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
CX_CUSTOMER_END_STATE = ["customers_end", "customers_new", "customers_churned"]
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
        cx_mart = con.execute("select * from marts.cx_metrics_monthly").df()
        ex_mart = con.execute("select * from marts.ex_metrics_monthly").df()
    finally:
        con.close()
    cx_mart["month"] = pd.to_datetime(cx_mart["month"])
    ex_mart["month"] = pd.to_datetime(ex_mart["month"])
    return Recomputed(
        cx=cx,
        ex=ex,
        cx_mart=cx_mart.set_index("month").sort_index(),
        ex_mart=ex_mart.set_index(["month", "department"]).sort_index(),
        as_of=as_of,
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
    """Customers on day 1, new and churned customers, churn rate.

    The mart may leave the end state (customers_end/new/churned) null only for a
    month whose next day 1 the data has not passed yet and in which some customer of day 1
    is not covered on the next day 1 (a renewal could still come); otherwise it must equal."""
    cx, mart = recomputed.cx, recomputed.cx_mart.reindex(recomputed.cx.index)
    as_of_date = recomputed.as_of.tz_localize(None).normalize()
    null_end = mart[CX_CUSTOMER_END_STATE].isna().any(axis=1)
    next_day_1 = cx.index + pd.DateOffset(months=1)
    allowed = (as_of_date <= next_day_1) & (cx["customers_churned"] > 0)
    bad_nulls = cx.loc[null_end & ~allowed, CX_CUSTOMER_END_STATE]
    assert bad_nulls.empty, (
        f"end state null although final (as of {as_of_date.date()}):\n{bad_nulls}"
    )
    _assert_equal(cx, mart, ["customers_start"], [], "customers_start")
    final = cx.index[~null_end]
    _assert_equal(
        cx.loc[final],
        mart.loc[final],
        CX_CUSTOMER_END_STATE,
        ["churn_rate"],
        "customer end state and churn",
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
