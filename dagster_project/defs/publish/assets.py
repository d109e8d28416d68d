"""The published snapshot: downstream of every mart and of their blocking checks."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.transform.assets import dbt_models
from dagster_project.publish import publish, published_location
from ingestion.warehouse import target

MARTS = [
    "dim_customers",
    "dim_employees",
    "fct_tickets",
    "fct_survey_responses",
    "cx_metrics_monthly",
    "cx_segment_monthly",
    "ex_metrics_monthly",
    "xm_team_monthly",
    "xm_link_summary",
    "identity_match_rates",
    "identity_unmatched",
]


def _mart_keys() -> list[dg.AssetKey]:
    keys = []
    for mart in MARTS:
        try:
            keys.append(get_asset_key_for_model([dbt_models], mart))
        except Exception:  # a mart not built yet in this project version
            continue
    return keys


@dg.asset(
    deps=_mart_keys(),
    group_name="publish",
    kinds={"duckdb", "parquet"} if target() == "duckdb" else {target()},
    pool="warehouse",
    description=(
        "The marts BI reads, swapped in whole: published/marts.duckdb + Parquet on DuckDB, "
        "the `published` schema on PostgreSQL."
    ),
)
def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    counts = publish(run_id=context.run_id, marts=MARTS)
    context.log.info(f"published {len(counts)} marts to {published_location()}")
    return dg.MaterializeResult(
        metadata={
            "location": published_location(),
            "run_id": context.run_id,
            **{f"rows_{t}": n for t, n in counts.items()},
        }
    )
