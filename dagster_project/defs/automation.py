"""Jobs, schedules (with time zones), freshness checks, the failure hook and alerts."""

import datetime as dt
import time

import dagster as dg

from dagster_project import alerts
from dagster_project.defs.ingest.assets import LOADERS
from ingestion.vendors import VENDORS
from warehouse.failures import one_line
from warehouse.settings import Settings

SETTINGS = Settings.from_env()
# schedules and sensors: off in development (`xm dev`), on in production (XM_SCHEDULES=on)
SCHEDULES = (
    dg.DefaultScheduleStatus.RUNNING if SETTINGS.schedules else dg.DefaultScheduleStatus.STOPPED
)
SENSORS = dg.DefaultSensorStatus.RUNNING if SETTINGS.schedules else dg.DefaultSensorStatus.STOPPED


@dg.failure_hook(name="record_failure")
def record_failure(context: dg.HookContext) -> None:
    """Record why a step failed: $XM_DATA_DIR/run_failures.jsonl, the run's log, and a POST
    to XM_ALERT_WEBHOOK when set (dagster_project/alerts.py).

    A hook rather than only a run-failure sensor: it also fires for in-process runs (`xm demo`,
    `xm refresh`, tests), which have no daemon to evaluate sensors."""
    entry = alerts.record(
        run_id=context.run_id,
        job=context.job_name,
        step=context.step_key,
        error=alerts.cause(context.op_exception),
        log=context.log.warning,
    )
    context.log.error(f"step {entry['step']} of run {entry['run_id']} failed: {entry['error']}")


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    description=(
        "Records and alerts a failed run that no step failure explains (a killed or lost run "
        "worker, a run that could not start); failed steps are alerted by their hook."
    ),
    default_status=SENSORS,
    minimum_interval_seconds=30,
)
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    if context.get_step_failure_events():
        return  # the failure hook of each failed step has recorded and alerted it
    alerts.record(
        run_id=context.dagster_run.run_id,
        job=context.dagster_run.job_name,
        step=None,
        error=one_line(context.failure_event.message or "the run failed"),
        log=context.log.warning,
    )


# ------------------------------------------------------------------------ freshness
FRESH_WITHIN = dt.timedelta(hours=26)  # a nightly load, plus two hours of slack


def _freshness_check(name: str, keys: list[dg.AssetKey], what: str) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        name=name,
        specs=[
            dg.AssetCheckSpec(
                "fresh_within_26h",
                asset=key,
                description=f"{what}: updated within the last 26 hours (warning)",
            )
            for key in keys
        ],
        can_subset=True,
        description=f"Freshness of {what}: last update within 26 hours (evaluated hourly).",
    )
    def _check(context: dg.AssetCheckExecutionContext):
        now = time.time()
        for check_key in context.selected_asset_check_keys:
            event = context.instance.get_latest_materialization_event(check_key.asset_key)
            age = None if event is None else now - event.timestamp
            passed = age is not None and age <= FRESH_WITHIN.total_seconds()
            yield dg.AssetCheckResult(
                asset_key=check_key.asset_key,
                check_name=check_key.name,
                passed=passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=(
                    "never materialised"
                    if age is None
                    else f"last updated {age / 3600:.1f} hours ago (limit 26)"
                ),
                metadata={"age_hours": None if age is None else round(age / 3600, 2)},
            )

    return _check


raw_freshness = [
    _freshness_check(f"freshness_raw_{name}", sorted(assets.keys), f"raw_{name} (the {name} load)")
    for name, assets in LOADERS.items()
]
published_freshness = _freshness_check(
    "freshness_published", [dg.AssetKey("published_marts")], "the published snapshot"
)
FRESHNESS_CHECKS = [k for c in [*raw_freshness, published_freshness] for k in c.check_keys]
# the jobs leave the freshness checks to their sensor: right after a load they say nothing
NOT_FRESHNESS = dg.AssetSelection.all() - dg.AssetSelection.checks(*FRESHNESS_CHECKS)

# ------------------------------------------------------------------------ jobs
# the help desk and surveys, and everything they feed, down to the published snapshot
cx_refresh = dg.define_asset_job(
    "cx_refresh",
    selection=dg.AssetSelection.assets(
        *(LOADERS[name] for name, vendor in VENDORS.items() if vendor.frequent)
    ).downstream()
    - dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Frequent refresh: help desk + surveys and their downstream models, then publish.",
    hooks={record_failure},
)
full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=NOT_FRESHNESS,
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
    cron_schedule=SETTINGS.cx_refresh_cron,  # XM_CX_REFRESH_CRON
    execution_timezone="America/New_York",  # the help desk's business hours
    default_status=SCHEDULES,
    description="The CX refresh, every 30 minutes in the help desk's business hours.",
)
nightly_schedule = dg.ScheduleDefinition(
    name="full_refresh_nightly",
    job=full_refresh,
    cron_schedule="0 2 * * 1-6",
    execution_timezone="UTC",
    default_status=SCHEDULES,
    description="The full refresh, incremental, at 02:00 UTC Monday to Saturday.",
)
# Sundays the nightly run rebuilds the incremental models too: edits that carry no timestamp
# (schedules, holidays, agent roles, back-dated job history) reach old tickets and responses
weekly_rebuild_schedule = dg.ScheduleDefinition(
    name="full_rebuild_weekly",
    job=full_refresh,
    cron_schedule="0 2 * * 0",
    execution_timezone="UTC",
    run_config=REBUILD_CONFIG,
    default_status=SCHEDULES,
    description="Sundays 02:00 UTC: the full refresh rebuilding incremental models from all history.",
)


@dg.sensor(
    name="freshness_checks_sensor",
    description="Evaluates the freshness checks every hour (they run in no job).",
    asset_selection=dg.AssetSelection.checks(*FRESHNESS_CHECKS),
    minimum_interval_seconds=3600,
    default_status=SENSORS,
)
def freshness_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest:
    # the checks alone: a request without a selection would run the sensor's whole asset job
    return dg.RunRequest(asset_selection=[], asset_check_keys=FRESHNESS_CHECKS)
