"""SLAs: Zendesk's own SLA outcomes (`cx_sla_monthly`: achieved and breached instances by
month, SLA metric, priority and support team), attainment with its denominator, and how
often the project's own recomputation agrees with the engine (`sla_cross_check`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.data import (
    ALL,
    Filters,
    Marts,
    attainment,
    fmt_count,
    fmt_number,
    month_label,
    sla_monthly,
)
from dashboard.views import tile

METRICS = {
    "first_reply_time": "First reply",
    "next_reply_time": "Next reply",
    "periodic_update_time": "Periodic update",
    "pausable_update_time": "Pausable update",
    "requester_wait_time": "Requester wait",
    "agent_work_time": "Agent work",
    "total_resolution_time": "Total resolution",
}
DEFINITION = "Achieved / (achieved + breached) SLA instances; active ones are not counted yet."


def _pct(value) -> str:
    return fmt_number(value, 1, "%")


def render(marts: Marts, filters: Filters) -> None:
    st.title("SLAs")
    scope = "all support teams" if filters.team is ALL else f"team **{filters.team}**"
    st.caption(
        f"Zendesk's own SLA engine (`cx_sla_monthly`, {scope}): an instance counts in the "
        "month it was achieved or breached, for the team its assignee was in when the SLA "
        "applied. Attainment = achieved / (achieved + breached); instances still running are "
        "not counted. The customer segment filter does not apply here."
    )
    if marts.sla.empty:
        st.info("This snapshot has no SLA marts (published before SLAs were loaded).")
        return
    months = sla_monthly(marts, filters)
    if months.empty:
        st.info("No SLA outcome in this selection.")
        return
    span = f"{months['month'].min():%Y-%m} to {months['month'].max():%Y-%m}"
    last_month = months["month"].max()
    total = attainment(months).iloc[0]
    last = attainment(months[months["month"] == last_month]).iloc[0]
    row = st.columns(4)
    tile(
        row[0],
        "SLA attainment",
        _pct(total["attainment"]),
        f"{span}: {fmt_count(total['achieved'] + total['breached'])} decided instances",
        DEFINITION,
    )
    tile(
        row[1],
        "SLA breaches",
        fmt_count(total["breached"]),
        span,
        "Instances Zendesk marked breached (a breach event not later withdrawn).",
    )
    tile(
        row[2],
        "SLA attainment, last month",
        _pct(last["attainment"]),
        f"{month_label(last_month, marts)}: "
        f"{fmt_count(last['achieved'] + last['breached'])} decided instances",
        DEFINITION,
    )
    checked = marts.sla_cross_check
    if not checked.empty:
        checked = filters.months(checked)
        agree = int(checked.loc[checked["agrees"].astype(bool), "instances"].sum())
        count = int(checked["instances"].sum())
        tile(
            row[3],
            "Cross-check agreement",
            _pct(100 * agree / count) if count else "n/a",
            f"{span}: {fmt_count(count)} instances recomputed",
            "First-reply and requester-wait SLA outcomes recomputed from the project's own "
            "reply times, status history and business minutes (sla_cross_check), all teams.",
        )

    st.subheader(f"By SLA metric and priority, {span}")
    by_metric = attainment(months, ["sla_metric", "priority"])
    st.table(metric_table(by_metric), hide_index=True)

    left, right = st.columns(2)
    trend = attainment(months, ["month", "sla_metric"])
    trend["sla_metric"] = trend["sla_metric"].map(lambda m: METRICS.get(m, m))
    left.altair_chart(
        charts.lines(
            trend, {"attainment": "attainment"}, "Attainment by month", "%", color="sla_metric"
        ),
        width="stretch",
    )
    teams = attainment(months.dropna(subset=["team"]), ["month", "team"])
    if not teams.empty:
        right.altair_chart(
            charts.lines(
                teams, {"attainment": "attainment"}, "Attainment by support team", "%", color="team"
            ),
            width="stretch",
        )

    st.subheader(f"By support team, {span}")
    st.table(team_table(attainment(months, ["team"])), hide_index=True)

    if not checked.empty:
        st.subheader("Where the recomputation disagrees with Zendesk")
        off = checked[~checked["agrees"].astype(bool)]
        if off.empty:
            st.caption("Every recomputed instance in this range agrees with the engine.")
        else:
            reasons = off.groupby("reason", dropna=False)["instances"].sum().reset_index()
            st.table(
                pd.DataFrame(
                    {
                        "Reason": reasons["reason"].fillna("(none)"),
                        "Instances": reasons["instances"].map(fmt_count),
                    }
                ),
                hide_index=True,
            )


def metric_table(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values(["sla_metric", "priority"], na_position="last")
    return pd.DataFrame(
        {
            "SLA metric": frame["sla_metric"].map(lambda m: METRICS.get(m, m)),
            "Priority": frame["priority"].fillna("(none)"),
            "Achieved": frame["achieved"].map(fmt_count),
            "Breached": frame["breached"].map(fmt_count),
            "Attainment": frame["attainment"].map(_pct),
        }
    )


def team_table(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("team", na_position="last")
    return pd.DataFrame(
        {
            "Team": frame["team"].fillna("(no team known)"),
            "Achieved": frame["achieved"].map(fmt_count),
            "Breached": frame["breached"].map(fmt_count),
            "Attainment": frame["attainment"].map(_pct),
        }
    )
