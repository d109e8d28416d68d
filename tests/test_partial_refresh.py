"""A CX-only refresh never decides what only the CRM or the HR system can decide.

Drives the real Dagster jobs against the simulator as the schedules would: the nightly
`full_refresh` (every source) and the frequent `cx_refresh` (Zendesk and Qualtrics only),
with the simulator clock moved in between. Each source decides its states up to its own
horizon (int_source_horizons), so every CRM- and HR-derived column a CX refresh publishes
must equal what the last full refresh of the same CRM and HR data published:

1. the first instant of a month (a full refresh at 00:00 on the 1st), then a CX refresh
   shortly after midnight UTC on the 2nd, before the next nightly: the month that just
   ended gets no premature churn;
2. a renewal that closes at 11:06 UTC on the day the old contract ends, after that day's
   nightly (02:00), then a CX refresh at noon: the company stays active, with no churned
   date (the old single as-of date took the CX data's day and published a churn);
3. the next nightly loads the renewal: still active, the renewal is a contract.

At each publish the monthly marts mark exactly the incomplete months (`is_complete_month`,
recomputed from raw in pandas), at the first instant of a month and mid-month alike.
"""

from __future__ import annotations

import math
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagster_project.definitions import defs as load_defs
from simulator.credentials import loader_env
from simulator.server import Simulator, serve_in_thread
from simulator.wire import dirty_mask
from tests.support import recompute as rc
from tests.support.world import environ, world

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# columns a refresh of the help desk and surveys alone must leave as the CRM / HR data say:
# mart -> (key columns, compared columns or None for all but the keys and `except`)
CRM_HR_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None, tuple[str, ...]]] = {
    "dim_customers": (("customer_id",), None, ("zendesk_organization_id",)),
    "cx_metrics_monthly": (
        ("month",),
        (
            "customers_start",
            "customers_end",
            "customers_new",
            "customers_churned",
            "churn_rate",
            "retention_rate",
            "excluded_contracts_start",
            "excluded_contract_value_start",
        ),
        (),
    ),
    "cx_segment_monthly": (("month", "segment"), None, ()),
    "data_health": (("subject", "verdict"), None, ()),
    # the help desk agent, and the manager (resolved by name, agents' names included), also
    # read Zendesk
    "dim_employees": (("employee_id",), None, ("helpdesk_agent_id", "manager_id")),
    "ex_metrics_monthly": (
        ("month", "department"),
        (
            "headcount_start",
            "headcount_end",
            "average_headcount",
            "hires",
            "separations",
            "voluntary_separations",
            "involuntary_separations",
            "transfers_in",
            "transfers_out",
            "turnover_rate",
            "voluntary_turnover_rate",
            "involuntary_turnover_rate",
        ),
        (),
    ),
    "xm_team_monthly": (
        ("month", "team"),
        ("headcount_start", "headcount_end", "average_headcount", "separations", "turnover_rate"),
        (),
    ),
}
# rows of the long marts that only the CRM or the HR system feed
CRM_HR_ROWS = {
    "source_freshness": ("source", {"hubspot", "bamboohr"}),
    "identity_match_rates": ("link", {"deal_company", "contact_company"}),
}
# CRM-derived columns of a month a CX refresh adds must be undecided (null)
NEW_MONTH_CRM_COLUMNS = CRM_HR_COLUMNS["cx_metrics_monthly"][1]


def run_job(defs: dg.Definitions, name: str) -> None:
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def(name).execute_in_process(
            instance=instance, raise_on_error=False
        )
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    assert result.success, f"{name} failed in {failed}"


def snapshot(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Every published mart as BI reads it (the read-only snapshot)."""
    con = duckdb.connect(str(data_dir / "published" / "marts.duckdb"), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
            if not t.startswith("_")
        ]
        return {
            t: con.execute(f"select * from {t}").df().drop(columns="_published_run_id")
            for t in tables
        }
    finally:
        con.close()


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def crm_hr_differences(full: dict[str, pd.DataFrame], cx: dict[str, pd.DataFrame]) -> list[str]:
    """Cells of CRM- and HR-derived columns that the CX refresh publishes differently from the
    full refresh of the same CRM and HR data (rows both publish), and CRM columns a CX refresh
    decides for a month the full refresh did not publish."""
    found = []
    for mart, (keys, columns, skip) in CRM_HR_COLUMNS.items():
        a, b = full[mart].set_index(list(keys)), cx[mart].set_index(list(keys))
        cols = columns or [c for c in a.columns if c not in skip]
        for key in a.index.intersection(b.index):
            for col in cols:
                if not _same(a.at[key, col], b.at[key, col]):
                    found.append(
                        f"{mart}[{key}].{col}: full {a.at[key, col]!r}, cx {b.at[key, col]!r}"
                    )
        if mart == "cx_metrics_monthly":
            for key in b.index.difference(a.index):
                decided = [c for c in NEW_MONTH_CRM_COLUMNS if not pd.isna(b.at[key, c])]
                if decided:
                    found.append(f"{mart}[{key}]: a CX refresh decided {decided} for a new month")
    for mart, (key, rows) in CRM_HR_ROWS.items():
        a = full[mart][full[mart][key].isin(rows)].set_index(key).sort_index()
        b = cx[mart][cx[mart][key].isin(rows)].set_index(key).sort_index()
        if not a.index.equals(b.index):
            found.append(f"{mart}: rows {list(a.index)} vs {list(b.index)}")
            continue
        for k in a.index:
            for col in a.columns:
                if not _same(a.at[k, col], b.at[k, col]):
                    found.append(f"{mart}[{k}].{col}: full {a.at[k, col]!r}, cx {b.at[k, col]!r}")
    return found


def assert_complete_months_marked(data_dir: Path, marts: dict[str, pd.DataFrame]) -> None:
    """The published is_complete_month flags are exactly the recomputed ones: every source
    of the row has passed the month (the CRM also the first day of the next month)."""
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        load = rc.duckdb_loader(con)
        cx = marts["cx_metrics_monthly"].assign(month=lambda f: pd.to_datetime(f["month"]))
        expected = rc.cx_complete_months(load, cx["month"])
        h = rc.source_horizons(load)
    finally:
        con.close()
    published = cx.set_index("month")["is_complete_month"]
    wrong = published.index[published != expected.reindex(published.index)]
    assert wrong.empty, f"cx_metrics_monthly is_complete_month wrong in {list(wrong)}"
    assert not published.iloc[-1], "the last month is the month to date"
    ex = marts["ex_metrics_monthly"].assign(month=lambda f: pd.to_datetime(f["month"]))
    for month, flag in zip(ex["month"], ex["is_complete_month"], strict=True):
        done = h["bamboohr"].decides(month + pd.offsets.MonthEnd(0)) and h["qualtrics"].reached(
            month + pd.DateOffset(months=1)
        )
        assert flag == done, f"ex_metrics_monthly {month.date()}: is_complete_month {flag}"


def _utc(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def clean_renewal(sim: Simulator) -> pd.Series:
    """A won renewal closing after the first clock, at least a month ahead, whose deal and
    whose predecessor (the contract it renews) carry no CRM dirt."""
    deals = sim.world.deals
    dirty = dirty_mask(sim, "hubspot.deals.no_company", len(deals)) | dirty_mask(
        sim, "hubspot.deals.unknown_stage", len(deals)
    )
    clock0 = sim.config.clock0
    for i, deal in deals.sort_values("close_at").iterrows():
        if not (deal.won and deal.renewal_no > 0 and not dirty[i]):
            continue
        if not (
            clock0 + pd.Timedelta(days=35)
            < _utc(deal.close_at)
            < sim.config.end - pd.Timedelta(days=2)
        ):
            continue
        before = deals[
            (deals.company_idx == deal.company_idx)
            & (pd.to_datetime(deals.contract_end, utc=True) == _utc(deal.contract_start))
        ]
        if len(before) == 1 and not dirty[before.index[0]] and before.iloc[0].won:
            return deal
    pytest.skip("the test world has no clean renewal in its horizon")


@pytest.mark.timeout(3600)  # five Dagster runs: ~6 minutes alone, far more on a busy machine
def test_cx_refresh_never_decides_crm_or_hr_states(tmp_path):
    defs = load_defs()
    sim = Simulator(world())
    renewal = clean_renewal(sim)
    company_id = str(sim.world.companies.company_id.iloc[renewal.company_idx])
    renewal_day = _utc(renewal.contract_start).normalize()
    close_at = _utc(renewal.close_at)
    clock0 = sim.config.clock0
    first_of_month = (clock0 + pd.offsets.MonthBegin(1)).normalize()
    assert first_of_month < renewal_day - pd.Timedelta(days=2)

    def move_to(when: pd.Timestamp) -> None:
        sim.advance((when - sim.clock) / pd.Timedelta(days=1))
        assert abs(sim.clock - when) < pd.Timedelta(seconds=1)

    data_dir = tmp_path / "data"
    with serve_in_thread(sim) as url, environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}):
        # 1. the first instant of a month: a full refresh, then a CX refresh on the 2nd at 00:30
        move_to(first_of_month)
        run_job(defs, "full_refresh")
        full = snapshot(data_dir)
        assert_complete_months_marked(data_dir, full)
        move_to(first_of_month + pd.Timedelta(days=1, minutes=30))
        run_job(defs, "cx_refresh")
        cx = snapshot(data_dir)
        assert_complete_months_marked(data_dir, cx)
        assert crm_hr_differences(full, cx) == []
        # the month that just ended: its end state waits for the CRM (loaded before day 1 was
        # over), however fresh the help desk is
        month_ended = (first_of_month - pd.offsets.MonthBegin(1)).tz_localize(None)
        monthly = cx["cx_metrics_monthly"]
        row = monthly.set_index(pd.to_datetime(monthly["month"])).loc[month_ended]
        assert pd.isna(row["customers_churned"]) and not row["is_complete_month"]

        # 2. the renewal day: the nightly at 02:00, the renewal closes at `close_at`, a CX
        #    refresh an hour later
        move_to(renewal_day + pd.Timedelta(hours=2))
        run_job(defs, "full_refresh")
        full = snapshot(data_dir)
        assert close_at > renewal_day + pd.Timedelta(hours=2)
        move_to(close_at.ceil("h") + pd.Timedelta(hours=1))
        run_job(defs, "cx_refresh")
        cx = snapshot(data_dir)
        assert_complete_months_marked(data_dir, cx)  # mid-month
        assert crm_hr_differences(full, cx) == []
        customer = cx["dim_customers"].set_index("customer_id").loc[company_id]
        assert customer["is_active"], "a renewal closing after the last CRM load became a churn"
        assert pd.isna(customer["churned_date"])
        assert pd.Timestamp(customer["status_date"]) < renewal_day.tz_localize(None)

        # 3. the next nightly loads the renewal: still active, and it is a contract
        move_to(renewal_day + pd.Timedelta(days=1, hours=2))
        run_job(defs, "full_refresh")
        nightly = snapshot(data_dir)
        customer = nightly["dim_customers"].set_index("customer_id").loc[company_id]
        assert customer["is_active"] and pd.isna(customer["churned_date"])
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        contracts = {
            d
            for (d,) in con.execute(
                "select deal_id from intermediate.int_customer_contracts"
            ).fetchall()
        }
    assert str(renewal.deal_id) in contracts
