"""EX <-> CX: support teams' engagement beside the CSAT and resolution times of the
tickets they solved, one point per published team-month; suppressed team-months apart."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.data import (
    Correlation,
    Filters,
    Marts,
    between_within,
    fmt_number,
    mart_correlation,
    pearson,
    published_pairs,
    team_monthly,
)
from dashboard.views import tile

PAIRS = [
    ("engagement", "csat", "Engagement (% favourable)", "CSAT (%)"),
    (
        "engagement",
        "full_resolution_median_business_minutes",
        "Engagement (% favourable)",
        "Median resolution (business hours)",
    ),
]
NAMES = {
    "engagement": "engagement",
    "enps": "eNPS",
    "turnover_rate": "turnover",
    "csat": "CSAT",
    "full_resolution_median_business_minutes": "resolution time (business)",
    "first_reply_median_business_minutes": "first reply time (business)",
    "one_touch_rate": "one-touch rate",
}


def r_text(c: Correlation | None) -> str:
    if c is None or c.r is None:
        return "n/a"
    return fmt_number(c.r, 2)


def detail(c: Correlation | None) -> str:
    if c is None:
        return "not in xm_link_summary"
    if c.r is None:
        return f"n = {c.n}: too few team-months (or no variation) for r"
    ci = f"95% CI {c.low:.2f} to {c.high:.2f}, " if c.low is not None else "no CI (n <= 3), "
    return f"{ci}n = {c.n}"


def render(marts: Marts, filters: Filters) -> None:
    st.title("EX ↔ CX: team engagement and customer experience")
    st.caption(
        "One point per support team per month (`xm_team_monthly`): the team's pulse-survey "
        "engagement beside the CSAT and resolution time of the tickets it solved that month. "
        "Suppressed team-months (fewer than 5 respondents) have no engagement: they are counted "
        "apart and are in no r. Correlation, not cause; team-months of one team are not "
        "independent, so read the intervals as too narrow."
    )
    teams = team_monthly(marts, filters)
    for x, y, x_title, y_title in PAIRS:
        mart = mart_correlation(marts, x, y)
        pairs = published_pairs(teams, x, y)
        selected = pearson(pairs, x, y)
        st.subheader(f"{NAMES[x].capitalize()} vs {NAMES[y]}")
        left, right = st.columns(2)
        tile(left, "r, all published team-months (xm_link_summary)", r_text(mart), detail(mart))
        tile(right, "r, this selection", r_text(selected), detail(selected))
        if pairs.empty:
            st.info(
                "No published team-month in this selection: every team-month here is suppressed "
                "or lacks the CX figure."
            )
        else:
            plot = pairs.copy()
            if y.endswith("_minutes"):
                plot[y] = plot[y].astype(float) / 60
            st.altair_chart(charts.scatter(plot, x, y, x_title, y_title), width="stretch")
        hidden = teams[teams["is_suppressed"].astype(bool) & teams[y].notna()]
        st.caption(
            f"{len(pairs)} published team-months drawn; {len(hidden)} suppressed team-months "
            f"with a {NAMES[y]} are not drawn and not in r (their engagement is not published)."
        )

    st.subheader("Team-months in this selection")
    counts = (
        teams.assign(suppressed=teams["is_suppressed"].astype(bool))
        .groupby("team")
        .agg(team_months=("month", "size"), suppressed=("suppressed", "sum"))
        .reset_index()
    )
    counts["published"] = counts["team_months"] - counts["suppressed"]
    st.table(
        counts.rename(
            columns={
                "team": "Team",
                "team_months": "Team-months",
                "published": "Published",
                "suppressed": "Suppressed (not in r)",
            }
        )[["Team", "Team-months", "Published", "Suppressed (not in r)"]],
        hide_index=True,
    )

    st.subheader("Between teams or within a team? (this selection)")
    st.caption(
        "Pooled r mixes teams that are always more engaged and better rated (between) with "
        "months in which a team does better than its own average (within)."
    )
    rows = []
    for x, y, _, _ in PAIRS:
        pairs = published_pairs(teams, x, y)
        split = between_within(pairs, x, y)
        pooled = pearson(pairs, x, y)
        rows.append(
            {
                "Pair": f"{NAMES[x]} vs {NAMES[y]}",
                "Pooled r (team-months)": f"{r_text(pooled)} (n = {pooled.n})",
                "Between teams r (teams)": f"{r_text(split['between teams'])} (n = {split['between teams'].n})",
                "Within teams r": r_text(split["within teams"]),
            }
        )
    st.table(pd.DataFrame(rows), hide_index=True)

    st.subheader("Every pair, as published (xm_link_summary)")
    table = []
    for _, row in marts.link.iterrows():
        c = mart_correlation(marts, row["ex_metric"], row["cx_metric"])
        table.append(
            {
                "EX metric": NAMES.get(row["ex_metric"], row["ex_metric"]),
                "CX metric": NAMES.get(row["cx_metric"], row["cx_metric"]),
                "n (team-months)": c.n,
                "r": r_text(c),
                "95% CI (Fisher z)": "n/a" if c.low is None else f"{c.low:.2f} to {c.high:.2f}",
            }
        )
    st.table(pd.DataFrame(table), hide_index=True)
