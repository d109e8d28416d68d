"""Data health: which snapshot this is (run, publish time), what it holds, how well the
sources' identities matched; quarantine and check results where the snapshot has them."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.data import Filters, Marts, fmt_count, fmt_rate
from dashboard.views import tile


def render(marts: Marts, filters: Filters) -> None:
    st.title("Data health")
    st.caption(f"Source: {marts.source}")
    published = marts.published_at
    age = dt.datetime.now(dt.UTC) - (
        published if published.tzinfo else published.replace(tzinfo=dt.UTC)
    )
    row = st.columns(4)
    tile(
        row[0],
        "Last publish (UTC)",
        f"{published:%Y-%m-%d}",
        f"{published:%H:%M:%S}, {_age(age)} ago",
    )
    tile(row[1], "Run id", marts.run_id, "every published row carries it")
    tile(row[2], "Data as of (UTC)", f"{marts.as_of:%Y-%m-%d}", "newest ticket or survey answer")
    tile(
        row[3],
        "Published tables",
        fmt_count(len(marts.tables)),
        f"{fmt_count(marts.tables['rows'].sum())} rows",
    )

    st.subheader("Published tables")
    tables = marts.tables.copy()
    tables["rows"] = tables["rows"].map(fmt_count)
    st.table(tables.rename(columns={"table": "Table", "rows": "Rows"}), hide_index=True)

    st.subheader("Identity matching across sources (identity_match_rates)")
    rates = marts.match_rates.copy()
    st.table(
        rates.assign(
            match_rate=rates["match_rate"].map(fmt_rate),
            total=rates["total"].map(fmt_count),
            matched=rates["matched"].map(fmt_count),
            unmatched=rates["unmatched"].map(fmt_count),
        )[["link", "total", "matched", "unmatched", "match_rate"]],
        hide_index=True,
    )
    if not marts.unmatched.empty:
        st.caption("Unmatched records by reason (identity_unmatched)")
        st.table(marts.unmatched, hide_index=True)

    st.subheader("Rows quarantined by reason")
    if marts.quarantine:
        for name, frame in marts.quarantine.items():
            st.caption(name)
            st.table(frame, hide_index=True)
    else:
        st.info(
            "Not in the published snapshot: quarantined rows (every raw row staging rejects, "
            "with its reason) stay in the warehouse's `quarantine` schema, which this dashboard "
            "never reads. See the Dagster UI (`make ui`: the dbt tests and Great Expectations "
            "checks on quarantine shares) or query the warehouse directly."
        )
    st.subheader("Checks that warned")
    st.info(
        "Not in the published snapshot: check results live in Dagster (asset checks of the "
        "last run, `make ui`) and in the Great Expectations Data Docs (`xm docs serve`). A "
        "snapshot is only published when every blocking check passed."
    )


def _age(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"
