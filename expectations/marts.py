"""Mart suites (blocking: a failure stops the publish of the marts).

One home per mart rule. Every row-level rule on a mart is a dbt test of severity error,
beside the mart (`dbt/models/marts/**/_*__models.yml`: keys, relationships, accepted
values, ratios equal to their parts, calendar completeness, row expressions) or in
`dbt/tests/` (ranges, numerators <= denominators, parts that add up, flows that reconcile,
anonymity). GX holds what dbt tests express poorly; for the marts that is their volume: a dbt
test passes vacuously on an empty table, so each suite checks its mart's row count (at least
one row; `xm_link_summary` exactly its 3 x 5 metric pairs).

Each batch is one row, the mart's row count computed in the warehouse, so nothing but a
number crosses into pandas at any scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.spec import SuiteSpec, new_suite

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

    from warehouse.reader import Warehouse

# mart: (fewest rows, most rows or None: no bound, its grain)
VOLUMES: dict[str, tuple[int, int | None, str]] = {
    "cx_metrics_monthly": (1, None, "one row per month"),
    "ex_metrics_monthly": (1, None, "one row per month and department"),
    "xm_team_monthly": (1, None, "one row per month and support team"),
    "fct_tickets": (1, None, "one row per ticket"),
    "cx_segment_monthly": (1, None, "one row per month and segment"),
    "xm_link_summary": (15, 15, "one row per EX x CX metric pair: 3 x 5, always"),
    "fct_sla_outcomes": (1, None, "one row per SLA instance"),
    "cx_sla_monthly": (1, None, "one row per month, SLA metric, priority and team"),
    "sla_cross_check": (1, None, "one row per decided first-reply or requester-wait SLA instance"),
    "identity_match_rates": (1, None, "one row per identity link"),
    "dim_employees": (1, None, "one row per employee"),
    "dim_customers": (1, None, "one row per HubSpot company"),
    "fct_customer_touchpoints": (1, None, "one row per customer touchpoint"),
    "fct_customer_stage_spells": (1, None, "one row per customer x journey-stage spell"),
    "cx_journey_stage_monthly": (1, None, "one row per month and journey stage"),
    "cx_journey_stage_conversion": (1, None, "one row per cohort month and journey stage"),
    "cx_onboarding_renewals": (1, None, "one row per customer whose first contract started"),
}


def _expected_rows(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {lo} row" + ("s" if lo > 1 else "")
    return f"exactly {lo} rows" if lo == hi else f"{lo} to {hi} rows"


def _description(mart: str) -> str:
    lo, hi, grain = VOLUMES[mart]
    return (
        f"Volume: {mart} holds {_expected_rows(lo, hi)} ({grain}); its row-level "
        "rules are dbt tests, which would pass vacuously on an empty table."
    )


def volume_suite(mart: str) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    lo, hi, _ = VOLUMES[mart]
    return new_suite(
        f"marts.{mart}",
        blocking=True,
        description=_description(mart),
        expectations=[
            # the batch is one row: its minimum is the row count (observed value in messages)
            gxe.ExpectColumnMinToBeBetween(
                column="row_count",
                min_value=lo,
                max_value=hi,
                description=f"{mart} holds {_expected_rows(lo, hi)}",
            )
        ],
    )


def _read_row_count(mart: str):
    def read(wh: Warehouse) -> pd.DataFrame:
        return wh.frame(f"select count(*) as row_count from marts.{mart}")

    return read


def mart_specs() -> list[SuiteSpec]:
    return [
        SuiteSpec(
            name=f"marts.{mart}",
            layer="marts",
            table=f"marts.{mart}",
            check="gx_mart_volume",
            blocking=True,
            description=_description(mart),
            build=lambda mart=mart: volume_suite(mart),
            read=_read_row_count(mart),
            batch="row count",
        )
        for mart in VOLUMES
    ]
