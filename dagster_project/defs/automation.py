"""Jobs, schedules (with time zones), freshness checks and the failure recorder hook."""

import datetime as dt
import json

import dagster as dg

from dagster_project.defs.ingest.assets import LOADERS
from ingestion.vendors import VENDORS
from warehouse.settings import Settings


@dg.failure_hook(name="record_failure")
def record_failure(context: dg.HookContext) -> None:
    """Append why a step failed to $XM_DATA_DIR/run_failures.jsonl (and the run's log).

    A hook rather than a run-failure sensor: it also fires for in-process runs (`xm demo`,
    tests), which have no daemon to evaluate sensors."""
    error = context.op_exception
    record = {
        "run_id": context.run_id,
        "job": context.job_name,
        "step": context.step_key,
        "failed_at": dt.datetime.now(dt.UTC).isoformat(),
        "error": f"{type(error).__name__}: {error}" if error else "unknown",
    }
    path = Settings.from_env().data_dir / "run_failures.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")
    context.log.error(f"step {record['step']} of run {record['run_id']} failed: {record['error']}")


# the help desk and surveys, and everything they feed, down to the published snapshot
cx_refresh = dg.define_asset_job(
    "cx_refresh",
    selection=dg.AssetSelection.assets(
        *(LOADERS[name] for name, vendor in VENDORS.items() if vendor.frequent)
    ).downstream(),
    description="Frequent refresh: help desk + surveys and their downstream models, then publish.",
    hooks={record_failure},
)
full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=dg.AssetSelection.all(),
    description=(
        "Nightly: every source, every model, every check, publish. Incremental models take "
        "what was loaded; with `full_refresh: true` (Sundays) they are rebuilt from all history."
    ),
    hooks={record_failure},
)
# run config of the weekly rebuild: `dbt build --full-refresh`
REBUILD_CONFIG = {"ops": {"dbt_models": {"config": {"full_refresh": True}}}}

cx_refresh_schedule = dg.ScheduleDefinition(
    name="cx_refresh_every_30_minutes",
    job=cx_refresh,
    cron_schedule="*/30 7-20 * * 1-5",
    execution_timezone="America/New_York",  # the help desk's business hours
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
nightly_schedule = dg.ScheduleDefinition(
    name="full_refresh_nightly",
    job=full_refresh,
    cron_schedule="0 2 * * 1-6",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
# Sundays the nightly run rebuilds the incremental models too: edits that carry no timestamp
# (schedules, holidays, agent roles, back-dated job history) reach old tickets and responses
weekly_rebuild_schedule = dg.ScheduleDefinition(
    name="full_rebuild_weekly",
    job=full_refresh,
    cron_schedule="0 2 * * 0",
    execution_timezone="UTC",
    run_config=REBUILD_CONFIG,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

raw_freshness = dg.build_last_update_freshness_checks(
    assets=list(LOADERS.values()),
    lower_bound_delta=dt.timedelta(hours=26),
)
published_freshness = dg.build_last_update_freshness_checks(
    assets=[dg.AssetKey("published_marts")], lower_bound_delta=dt.timedelta(hours=26)
)
freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=[*raw_freshness, *published_freshness], name="freshness_checks_sensor"
)
