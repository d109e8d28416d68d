"""Data health: which snapshot this is (run, publish time), what it holds, how well the
sources' identities matched, how far each source is loaded, the won deals data health keeps
out, the rows quarantined by reason and the checks that warned."""

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

    if not marts.freshness.empty:
        st.subheader("How far each source is loaded (source_freshness)")
        st.caption(
            "Each source decides its own states only up to its own horizon: a help-desk "
            "refresh never moves a customer's status."
        )
        st.table(marts.freshness, hide_index=True)
    if not marts.health.empty:
        st.subheader("Won deals: in the contracts or excluded, and why (data_health)")
        health = marts.health.copy()
        for column in ("share_of_records", "share_of_amount"):
            if column in health:
                health[column] = health[column].map(fmt_rate)
        st.table(health, hide_index=True)

    st.subheader("Rows quarantined by reason (quarantine_summary)")
    if marts.quarantine.empty:
        st.info(
            "No quarantined rows in this release's data, or a release from before "
            "quarantine_summary was published."
        )
    else:
        quarantine = marts.quarantine.copy()
        st.caption(
            f"{fmt_count(quarantine['quarantined_rows'].sum())} raw rows kept out of the "
            "metrics by staging, with the reason. The rows themselves (keys, load ids) stay in "
            "the warehouse's `quarantine` schema, which this dashboard never reads."
        )
        quarantine["quarantined_rows"] = quarantine["quarantined_rows"].map(fmt_count)
        st.table(
            quarantine.rename(
                columns={
                    "source_table": "Raw table",
                    "reason": "Reason",
                    "quarantined_rows": "Rows",
                }
            ),
            hide_index=True,
        )

    st.subheader("Checks that warned (_check_results)")
    if marts.checks.empty:
        st.info(
            "This release carries no check results (published outside a Dagster run). Check "
            "results live in Dagster (`make ui`) and the Great Expectations Data Docs "
            "(`xm docs serve`)."
        )
    else:
        warned = marts.checks[~marts.checks["passed"].astype(bool)]
        st.caption(
            f"{fmt_count(len(marts.checks))} checks ran before this publish; "
            f"{fmt_count(len(warned))} warned. A release is only published when every "
            "blocking (ERROR) check passed, so every check listed here is a warning."
        )
        if warned.empty:
            st.success("No check warned.")
        else:
            st.table(
                warned[["asset", "check_name", "severity", "description"]].rename(
                    columns={
                        "asset": "Asset",
                        "check_name": "Check",
                        "severity": "Severity",
                        "description": "What it checks",
                    }
                ),
                hide_index=True,
            )


def _age(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"
