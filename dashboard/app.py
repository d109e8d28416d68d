"""The dashboard: `xm dashboard` serves this script with `streamlit run`.

Pages (dashboard/views/): customer experience, employee experience, EX <-> CX, SLAs, data
health.
The filters in the sidebar (months, segment, department, team) apply to every page and are
kept in the URL, so a filtered view can be shared as a link. The published marts are read
once per snapshot (a new publish is picked up on the next interaction).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import data
from dashboard.views import cx, ex, health, link, sla

ALL_SEGMENTS = "All segments"
ALL_DEPARTMENTS = "All departments"
ALL_TEAMS = "All teams"


@st.cache_resource(max_entries=2, show_spinner="Reading the published marts ...")
def _load(version: str, _source: data.Source) -> data.Marts:
    return data.load(_source)


def _month(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


def sidebar(marts: data.Marts) -> data.Filters:
    options = [f"{m:%Y-%m}" for m in marts.months]
    start, end = data.default_range(marts)
    with st.sidebar:
        st.header("Filters")
        chosen = st.select_slider(
            "Months",
            options=options,
            value=(f"{start:%Y-%m}", f"{end:%Y-%m}"),
            key="months",
            bind="query-params",
            help="UTC calendar months. The default is the last 12 complete months.",
        )
        segment = st.selectbox(
            "Customer segment",
            [ALL_SEGMENTS, *marts.segment_names],
            key="segment",
            bind="query-params",
            help="CX page: the customers of one HubSpot segment.",
        )
        department = st.selectbox(
            "Department",
            [ALL_DEPARTMENTS, *marts.department_names],
            key="department",
            bind="query-params",
            help="EX and EX ↔ CX pages.",
        )
        department = None if department == ALL_DEPARTMENTS else department
        team = st.selectbox(
            "Support team",
            [ALL_TEAMS, *marts.team_names(department)],
            key="team",
            bind="query-params",
            help="EX, EX ↔ CX and SLA pages: one help-desk team.",
        )
        st.caption(
            f"Snapshot {marts.run_id}, published {marts.published_at:%Y-%m-%d %H:%M} UTC; "
            f"data to {marts.as_of:%Y-%m-%d}."
        )
    low, high = sorted(chosen)
    return data.Filters(
        start=_month(low),
        end=_month(high),
        segment=None if segment == ALL_SEGMENTS else segment,
        department=department,
        team=None if team == ALL_TEAMS else team,
    )


def main() -> None:
    st.set_page_config(page_title="Experience Warehouse", page_icon="📊", layout="wide")
    source = data.Source.from_env()
    try:
        marts = _load(source.version(), source)
    except data.SnapshotMissing as e:
        st.error(str(e))
        st.stop()
    context: dict[str, object] = {}

    def page(render):
        def run() -> None:
            render(marts, context["filters"])

        run.__name__ = render.__module__.rsplit(".", 1)[-1]
        return run

    navigation = st.navigation(
        [
            st.Page(page(cx.render), title="Customer experience", default=True),
            st.Page(page(ex.render), title="Employee experience", url_path="ex"),
            st.Page(page(link.render), title="EX ↔ CX", url_path="ex-cx"),
            st.Page(page(sla.render), title="SLAs", url_path="sla"),
            st.Page(page(health.render), title="Data health", url_path="health"),
        ]
    )
    context["filters"] = sidebar(marts)
    navigation.run()


main()
