"""The published snapshot: downstream of every mart and of their blocking checks."""

import dagster as dg

from dagster_project.defs.transform.assets import mart_keys
from warehouse.publish import publish, published_location
from warehouse.settings import Settings

MART_KEYS = mart_keys()


@dg.asset(
    deps=MART_KEYS,
    group_name="publish",
    kinds={"postgres"} if Settings.from_env().target == "postgres" else {"duckdb", "parquet"},
    pool="warehouse",
    description=(
        "The marts BI reads, swapped in whole: published/marts.duckdb + Parquet on DuckDB "
        "and Spark, the `published` schema on PostgreSQL."
    ),
)
def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = Settings.from_env()
    counts = publish(
        run_id=context.run_id, marts=[k.path[-1] for k in MART_KEYS], settings=settings
    )
    context.log.info(f"published {len(counts)} marts to {published_location(settings)}")
    return dg.MaterializeResult(
        metadata={
            "location": published_location(settings),
            "run_id": context.run_id,
            **{f"rows_{t}": n for t, n in counts.items()},
        }
    )
