"""Customer experience: NPS, CSAT, CES, reply and resolution times, resolution, one-touch
and reopen rates, churn and retention, by month and segment, with their denominators."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.data import (
    ALL,
    Filters,
    Marts,
    cx_monthly,
    fmt_count,
    fmt_hours,
    fmt_interval,
    fmt_number,
    fmt_rate,
    latest,
    month_label,
    segment_churn,
)
from dashboard.views import tile


def render(marts: Marts, filters: Filters) -> None:
    st.title("Customer experience")
    months = cx_monthly(marts, filters)
    if filters.segment is ALL:
        st.caption(
            "All segments: `cx_metrics_monthly` as published. Months are UTC calendar months."
        )
    else:
        st.caption(
            f"Segment **{filters.segment}**: surveys and tickets of its customers "
            "(`fct_survey_responses`, `fct_tickets`, same definitions as `cx_metrics_monthly`); "
            "churn from `cx_segment_monthly`. Retention is not published per segment. "
            "Responses and tickets without a customer are in no segment."
        )
    if months.empty:
        st.info("No CX months in the selected range.")
        return
    incomplete = [m for m, c in zip(months["month"], months["complete"], strict=True) if not c]
    if incomplete:
        st.warning(
            f"{month_label(incomplete[-1])} is incomplete (data to {marts.as_of:%d %b %Y}): "
            "its figures will still change."
        )
    tiles(months, marts)
    st.subheader("Month by month")
    st.table(month_table(months, marts), hide_index=True)
    st.subheader("Trends")
    mark = incomplete[-1] if incomplete else None
    left, right = st.columns(2)
    left.altair_chart(
        charts.lines(
            months,
            {"nps": "NPS", "nps_trailing_3m": "NPS, trailing 3 months", "csat": "CSAT (%)"}
            if "nps_trailing_3m" in months
            else {"nps": "NPS", "csat": "CSAT (%)"},
            "NPS and CSAT",
            "score",
            mark,
        ),
        width="stretch",
    )
    right.altair_chart(
        charts.lines(months, {"ces": "CES (1-7)"}, "Customer effort", "mean score", mark),
        width="stretch",
    )
    left.altair_chart(
        charts.lines(
            months,
            {
                "first_reply_median_business_minutes": "first reply, business hours",
                "first_reply_median_calendar_minutes": "first reply, calendar hours",
            },
            "Median first reply time",
            "hours",
            mark,
            scale=1 / 60,
        ),
        width="stretch",
    )
    right.altair_chart(
        charts.lines(
            months,
            {
                "full_resolution_median_business_minutes": "resolution, business hours",
                "full_resolution_median_calendar_minutes": "resolution, calendar hours",
            },
            "Median full resolution time",
            "hours",
            mark,
            scale=1 / 60,
        ),
        width="stretch",
    )
    left.altair_chart(
        charts.lines(
            months,
            {
                "resolution_rate": "resolved (of created)",
                "one_touch_rate": "one-touch (of solved)",
                "reopen_rate": "reopened (of solved)",
            },
            "Ticket rates",
            "% of tickets",
            mark,
            scale=100,
        ),
        width="stretch",
    )
    churn = segment_churn(marts, filters)
    right.altair_chart(
        charts.lines(
            churn,
            {"churn_rate": "churn"},
            "Monthly churn by segment (cx_segment_monthly)",
            "% of customers at month start",
            mark,
            scale=100,
            color="segment",
        ),
        width="stretch",
    )


def tiles(months: pd.DataFrame, marts: Marts) -> None:
    """The newest month of the range; survey tiles the newest month with answers (the NPS
    survey is quarterly)."""
    last = months.iloc[-1]
    surveys = st.columns(3)
    for column, (score, n, name, digits, unit) in zip(
        surveys,
        [
            ("nps", "nps_respondents", "NPS", 1, "respondents"),
            ("csat", "csat_responses", "CSAT", 1, "responses"),
            ("ces", "ces_responses", "CES (1-7)", 2, "responses"),
        ],
        strict=True,
    ):
        row = latest(months, score, n)
        if row is None:
            tile(column, name, "n/a", "no answers in the range")
            continue
        interval = fmt_interval(row.get(f"{score}_ci_low"), row.get(f"{score}_ci_high"), digits)
        tile(
            column,
            name,
            fmt_number(row[score], digits, "%" if score == "csat" else ""),
            f"{month_label(row['month'], marts)}: {fmt_count(row[n])} {unit}"
            + (f", 95% CI {interval}" if interval else ""),
            "95% interval: adjusted Wald for NPS, Wilson for CSAT, mean ± 1.96 s/√n for CES "
            "(dbt docs: cx_survey_intervals). Few answers give a wide interval.",
        )
    month = month_label(last["month"], marts)
    created = f"{month}: {fmt_count(last['tickets_created'])} tickets created"
    solved = f"{month}: {fmt_count(last['solved_tickets'])} tickets solved"
    row = st.columns(4)
    tile(
        row[0],
        "First reply, business hours",
        fmt_hours(last["first_reply_median_business_minutes"]),
        created,
        "Median over tickets created in the month, in the help desk's business hours.",
    )
    tile(
        row[1],
        "First reply, calendar hours",
        fmt_hours(last["first_reply_median_calendar_minutes"]),
        created,
        "Median over tickets created in the month, in wall-clock hours.",
    )
    tile(
        row[2],
        "Resolution, business hours",
        fmt_hours(last["full_resolution_median_business_minutes"]),
        solved,
        "Median full resolution time of tickets last solved in the month.",
    )
    tile(
        row[3],
        "Resolution, calendar hours",
        fmt_hours(last["full_resolution_median_calendar_minutes"]),
        solved,
        "Median full resolution time of tickets last solved in the month.",
    )
    customers = f"{month}: of {fmt_count(last['customers_start'])} customers at start"
    row = st.columns(4)
    tile(
        row[0],
        "Resolution rate",
        fmt_rate(last["resolution_rate"]),
        created,
        "Share of the month's new tickets that are solved now.",
    )
    tile(
        row[1],
        "One-touch rate",
        fmt_rate(last["one_touch_rate"]),
        solved,
        "Solved with one public agent reply, never reopened.",
    )
    tile(row[2], "Churn rate", fmt_rate(last["churn_rate"]), customers)
    tile(row[3], "Retention rate", fmt_rate(last["retention_rate"]), customers)


def month_table(months: pd.DataFrame, marts: Marts) -> pd.DataFrame:
    """Newest month first; each figure with its denominator in brackets."""

    def with_n(value: str, n) -> str:
        return f"{value} ({fmt_count(n)})"

    rows = []
    for _, m in months.iloc[::-1].iterrows():
        rows.append(
            {
                "Month": month_label(m["month"], marts),
                "NPS (respondents)": with_n(fmt_number(m["nps"]), m["nps_respondents"]),
                "NPS 95% CI": fmt_interval(m.get("nps_ci_low"), m.get("nps_ci_high")),
                "NPS trailing 3 months (respondents)": (
                    with_n(fmt_number(m["nps_trailing_3m"]), m["nps_trailing_3m_respondents"])
                    if "nps_trailing_3m" in m
                    else ""
                ),
                "CSAT (responses)": with_n(fmt_number(m["csat"], 1, "%"), m["csat_responses"]),
                "CSAT 95% CI": fmt_interval(m.get("csat_ci_low"), m.get("csat_ci_high")),
                "CES (responses)": with_n(fmt_number(m["ces"], 2), m["ces_responses"]),
                "First reply business / calendar": (
                    f"{fmt_hours(m['first_reply_median_business_minutes'])} / "
                    f"{fmt_hours(m['first_reply_median_calendar_minutes'])}"
                ),
                "Resolution business / calendar": (
                    f"{fmt_hours(m['full_resolution_median_business_minutes'])} / "
                    f"{fmt_hours(m['full_resolution_median_calendar_minutes'])}"
                ),
                "Resolved (created)": with_n(fmt_rate(m["resolution_rate"]), m["tickets_created"]),
                "One-touch (solved)": with_n(fmt_rate(m["one_touch_rate"]), m["solved_tickets"]),
                "Reopened (solved)": with_n(fmt_rate(m["reopen_rate"]), m["solved_tickets"]),
                "Churn (customers)": with_n(fmt_rate(m["churn_rate"]), m["customers_start"]),
                "Retention": fmt_rate(m["retention_rate"]),
            }
        )
    return pd.DataFrame(rows)
