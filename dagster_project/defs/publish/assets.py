"""The published release: downstream of every mart and of their blocking checks."""

import dagster as dg

from dagster_project.defs.transform.assets import mart_keys
from warehouse.failures import explain
from warehouse.publish import current_release, publish, published_location
from warehouse.settings import Settings

MART_KEYS = mart_keys()


@dg.asset(
    deps=MART_KEYS,
    group_name="publish",
    kinds={"postgres"} if Settings.from_env().target == "postgres" else {"duckdb", "parquet"},
    pool="warehouse",
    description=(
        "The marts BI reads, switched in whole: a release (DuckDB file + Parquet + manifest) "
        "behind published/current on DuckDB and Spark, the `published` schema on PostgreSQL."
    ),
)
def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = Settings.from_env()
    try:
        counts = publish(
            run_id=context.run_id, marts=[k.path[-1] for k in MART_KEYS], settings=settings
        )
    except Exception as e:
        if (line := explain(e)) is None:
            raise
        raise dg.Failure(
            description=f"publish failed: {line}; the last release stays current"
        ) from e
    context.log.info(f"published {len(counts)} marts to {published_location(settings)}")
    release = current_release(settings) if settings.target == "duckdb" else None
    return dg.MaterializeResult(
        metadata={
            "location": published_location(settings),
            **({"release": str(release)} if release else {}),
            "run_id": context.run_id,
            **{f"rows_{t}": n for t, n in counts.items()},
        }
    )
