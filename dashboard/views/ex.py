"""Employee experience: headcount, hires, separations, turnover (voluntary and
involuntary), eNPS and engagement by department and support team. Suppressed survey cells
read "suppressed", never 0 or blank; HR counts are never suppressed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.data import (
    ALL,
    Filters,
    Marts,
    ex_monthly,
    fmt_count,
    fmt_number,
    fmt_rate,
    month_label,
    pooled_turnover,
    survey_cell,
    team_monthly,
)
from dashboard.views import tile


def render(marts: Marts, filters: Filters) -> None:
    st.title("Employee experience")
    scope = "all departments" if filters.department is ALL else f"**{filters.department}**"
    st.caption(
        f"`ex_metrics_monthly` ({scope}) and, per support team, `xm_team_monthly`. Survey "
        "figures of fewer than 5 respondents are **suppressed** (and so is the smallest other "
        "group when subtraction could reveal one); no company-wide survey figure is published."
    )
    departments = ex_monthly(marts, filters)
    teams = team_monthly(marts, filters)
    if departments.empty:
        st.info("No EX months in the selected range.")
        return
    last_month = departments["month"].max()
    now = departments[departments["month"] == last_month]
    tiles(departments, now, marts, filters)

    st.subheader(f"By department, {month_label(last_month, marts)}")
    st.table(department_table(now), hide_index=True)

    left, right = st.columns(2)
    left.altair_chart(
        charts.lines(
            departments,
            {"headcount_end": "headcount"},
            "Headcount at month end",
            "employees",
            color="department",
        ),
        width="stretch",
    )
    flows = departments.groupby("month", as_index=False)[
        ["hires", "separations", "voluntary_separations", "involuntary_separations"]
    ].sum()
    right.altair_chart(
        charts.bars(
            flows,
            {"hires": "hires", "separations": "separations"},
            "Hires and separations",
            "people",
        ),
        width="stretch",
    )
    pooled = departments.groupby("month", as_index=False)[
        ["voluntary_separations", "involuntary_separations", "average_headcount"]
    ].sum()
    for kind in ("voluntary", "involuntary"):
        pooled[kind] = pooled[f"{kind}_separations"] / pooled["average_headcount"].where(
            pooled["average_headcount"] > 0
        )
    left.altair_chart(
        charts.lines(
            pooled,
            {"voluntary": "voluntary", "involuntary": "involuntary"},
            "Monthly turnover by type",
            "% of average headcount",
            scale=100,
        ),
        width="stretch",
    )
    right.altair_chart(
        charts.heatmap(
            departments, "department", "engagement", "Engagement by department", (0, 100)
        ),
        width="stretch",
    )
    st.altair_chart(
        charts.heatmap(
            departments, "department", "enps", "eNPS by department", (-100, 100), "redblue"
        ),
        width="stretch",
    )

    st.subheader("Support teams")
    if teams.empty:
        st.info(
            "No support team in this selection (`xm_team_monthly` covers the help desk's teams)."
        )
        return
    team_last = teams[teams["month"] == teams["month"].max()]
    st.caption(f"{month_label(teams['month'].max(), marts)}; a team filter narrows this table.")
    st.table(team_table(team_last), hide_index=True)
    st.altair_chart(
        charts.heatmap(teams, "team", "engagement", "Engagement by support team", (0, 100)),
        width="stretch",
    )


def tiles(departments: pd.DataFrame, now: pd.DataFrame, marts: Marts, filters: Filters) -> None:
    month = month_label(now["month"].iloc[0], marts)
    span = f"{departments['month'].min():%Y-%m} to {departments['month'].max():%Y-%m}"
    rates = pooled_turnover(departments)
    row = st.columns(4)
    tile(row[0], "Headcount", fmt_count(now["headcount_end"].sum()), f"last day of {month}")
    tile(row[1], "Hires", fmt_count(departments["hires"].sum()), span)
    tile(
        row[2],
        "Separations",
        fmt_count(departments["separations"].sum()),
        f"{span}: {fmt_count(departments['voluntary_separations'].sum())} voluntary, "
        f"{fmt_count(departments['involuntary_separations'].sum())} involuntary",
    )
    tile(
        row[3],
        "Monthly turnover",
        fmt_rate(rates["turnover"], 2),
        f"voluntary {fmt_rate(rates['voluntary'], 2)}, involuntary "
        f"{fmt_rate(rates['involuntary'], 2)} ({span})",
        "Separations / summed average headcount over the months: the average monthly rate.",
    )
    if filters.department is not ALL and len(now) == 1:
        current = now.iloc[0]
        row = st.columns(4)
        tile(row[0], "eNPS", survey_cell(current, "enps"), month)
        tile(row[1], "Engagement", survey_cell(current, "engagement"), month)
        tile(row[2], "Survey respondents", survey_cell(current, "respondents"), month)


def department_table(now: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Department": r["department"],
                "Headcount start": fmt_count(r["headcount_start"]),
                "Headcount end": fmt_count(r["headcount_end"]),
                "Hires": fmt_count(r["hires"]),
                "Separations": fmt_count(r["separations"]),
                "Voluntary": fmt_count(r["voluntary_separations"]),
                "Involuntary": fmt_count(r["involuntary_separations"]),
                "Turnover": fmt_rate(r["turnover_rate"]),
                "Respondents": survey_cell(r, "respondents"),
                "eNPS": survey_cell(r, "enps"),
                "Engagement": survey_cell(r, "engagement"),
            }
            for _, r in now.sort_values("department").iterrows()
        ]
    )


def team_table(now: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Team": r["team"],
                "Headcount end": fmt_count(r["headcount_end"]),
                "Separations": fmt_count(r["separations"]),
                "Turnover": fmt_rate(r["turnover_rate"]),
                "Respondents": survey_cell(r, "respondents"),
                "eNPS": survey_cell(r, "enps"),
                "Engagement": survey_cell(r, "engagement"),
                "CSAT (responses)": f"{fmt_number(r['csat'], 1, '%')} ({fmt_count(r['csat_responses'])})",
            }
            for _, r in now.sort_values("team").iterrows()
        ]
    )
