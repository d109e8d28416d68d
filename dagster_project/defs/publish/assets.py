"""The published release: downstream of every mart and of their blocking checks."""

import dagster as dg

from dagster_project.defs.transform.assets import mart_keys
from warehouse.failures import explain
from warehouse.publish import CheckResult, current_release, publish, published_location
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
    checks = run_check_results(context.instance, context.run_id)
    try:
        counts = publish(
            run_id=context.run_id,
            marts=[k.path[-1] for k in MART_KEYS],
            settings=settings,
            checks=checks,
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
            "checks_passed": sum(c.passed for c in checks),
            "checks_warned": sum(not c.passed for c in checks),
            **{f"rows_{t}": n for t, n in counts.items()},
        }
    )


def run_check_results(instance: dg.DagsterInstance, run_id: str) -> list[CheckResult]:
    """Every asset check the run evaluated so far (the publish is downstream of all marts and
    their blocking checks, so: every blocking check, and the warnings on raw and staged
    data), the latest evaluation of each, as published in `_check_results`."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    latest: dict[tuple[str, str], CheckResult] = {}
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        asset = evaluation.asset_key.to_user_string()
        latest[(asset, evaluation.check_name)] = CheckResult(
            asset=asset,
            check_name=evaluation.check_name,
            passed=bool(evaluation.passed),
            severity=evaluation.severity.value,
            description=evaluation.description or "",
        )
    return sorted(latest.values(), key=lambda c: (c.passed, c.asset, c.check_name))
