"""Run a job of the code location in this process, for `xm` (the CLI never imports Dagster).

The run is recorded in the data dir's persistent instance (`dagster_project/instance.py`):
`make ui` / `xm dev` afterwards show its runs, materializations and check results. One
progress line per step goes to `echo` (with what the step does, and what it produced);
live counts (rows per table, dbt nodes) go to `on_progress`; everything the steps print
(dbt's log lines) goes to the log file.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from dagster_project.instance import open_instance
from warehouse.failures import one_line
from warehouse.progress import Listener, Progress, listening, report
from warehouse.settings import Settings

JOBS = {"cx": "cx_refresh", "full": "full_refresh"}


@dataclass
class JobOutcome:
    success: bool
    run_id: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)  # (step, one-line cause)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (asset: check, why)
    failed_checks: list[tuple[str, str]] = field(default_factory=list)  # blocking, failed
    materialized: int = 0
    checks_passed: int = 0
    dagster_home: Path | None = None


def load_job(name: str) -> dg.JobDefinition:
    """The job `name` of the code location, resolved once per process and target: loading the
    definitions imports dlt, dbt and GX and reads dbt's manifest (the Dagster start-up, which a
    caller can start early, e.g. while the simulator generates its world)."""
    return _load_job(name, Settings.from_env().target)


@functools.cache
def _load_job(name: str, target: str) -> dg.JobDefinition:
    from dagster_project.definitions import defs

    return defs().resolve_job_def(name)


def prepare(name: str, settings: Settings | None = None) -> None:
    """Everything `run_job(name)` does before its first step that does not depend on the
    vendors: load the definitions (`load_job`) and open the data dir's instance once (a new
    instance creates and migrates its SQLite storage: seconds)."""
    load_job(name)
    with open_instance(settings or Settings.from_env(), in_process=True) as instance:
        instance.get_runs(limit=1)


def step_descriptions(name: str) -> dict[str, str]:
    """{step key: what the step does} for a job (the ops' descriptions, first sentence)."""
    job = load_job(name)
    out = {}
    for node in job.graph.nodes:
        text = (node.definition.description or "").strip().split("\n")[0]
        out[node.name] = text.split(". ")[0].rstrip(".")
    return out


def failure_message(data) -> str:
    """A step failure's cause in one line: the step's own `Failure` description when it
    gave one, else the innermost error behind Dagster's wrappers."""
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return one_line(user.description, limit=1000)
    error = getattr(data, "error", None)
    if error is None:
        return "unknown error"
    while error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {one_line(error.message.split(': ', 1)[-1])}"


class _Steps(logging.Handler):
    """Turns the run's events into progress lines and the outcome's lists."""

    def __init__(self, echo: Callable[[str], None], descriptions: dict[str, str]) -> None:
        super().__init__()
        self.echo, self.descriptions = echo, descriptions
        self.started: dict[str, float] = {}
        self.produced: dict[str, Counter] = {}
        self.outcome = JobOutcome(success=False)

    def line(self, step: str, text: str) -> None:
        self.echo(f"      {time.strftime('%H:%M:%S')} {step:<24} {text}")

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None or not event.step_key:
            return
        step, kind = event.step_key, event.event_type_value
        counts = self.produced.setdefault(step, Counter())
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
            what = self.descriptions.get(step, "")
            self.line(step, "running" + (f": {what}" if what else ""))
        elif kind == "ASSET_MATERIALIZATION":
            counts["assets"] += 1
            self.outcome.materialized += 1
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}"
            why = one_line(evaluation.description or "", limit=200)
            if evaluation.passed:
                counts["checks passed"] += 1
                self.outcome.checks_passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                counts["warned"] += 1
                self.outcome.warnings.append((name, why))
            else:
                counts["failed"] += 1
                self.outcome.failed_checks.append((name, why))
        elif kind == "STEP_SUCCESS":
            seconds = time.monotonic() - self.started.get(step, time.monotonic())
            made = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
            report(Progress(step, "", 0, finished=True))
            self.line(step, f"done in {seconds:.0f}s" + (f" ({made})" if made else ""))
        elif kind == "STEP_FAILURE":
            message = failure_message(event.event_specific_data)
            self.outcome.failures.append((step, message))
            report(Progress(step, "", 0, finished=True))
            self.line(step, f"FAILED: {message}")
        elif kind == "STEP_SKIPPED":
            self.line(step, "skipped (an upstream step failed)")


def run_job(
    name: str,
    echo: Callable[[str], None],
    log: Path,
    *,
    settings: Settings | None = None,
    run_config: dict | None = None,
    skip_loads: bool = False,
    on_progress: Listener | None = None,
) -> JobOutcome:
    """Run job `name` in process on the data dir's instance. `skip_loads`: everything but
    the dlt loads (build, check and publish what is already loaded)."""
    settings = settings or Settings.from_env()
    steps = _Steps(echo, step_descriptions(name))

    @dg.logger
    def progress(_init_context) -> logging.Logger:
        logger = logging.Logger("xm.progress", level=logging.DEBUG)
        logger.addHandler(steps)
        return logger

    job = load_job(name).with_logger_defs({"progress": progress})
    if skip_loads:
        graph = job.asset_layer.asset_graph
        keys = {
            key
            for key in job.asset_layer.selected_asset_keys
            if not graph.get(key).is_external and not _is_load(job, key)
        }
        checks = job.asset_check_selection
        if checks is None:  # the job's own selection: every check of its assets
            checks = set(graph.asset_check_keys)
        job = job.get_subset(
            asset_selection=keys,
            asset_check_selection={c for c in checks if c.asset_key in keys},
        )
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        open_instance(settings, in_process=True) as instance,
        log.open("w") as out,
        contextlib.redirect_stdout(out),
        listening(on_progress) if on_progress else contextlib.nullcontext(),
        sigterm_kept(),
    ):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={**(run_config or {}), "loggers": {"progress": {}}},
            tags={"xm/launched_by": "xm", **({"xm/skip_loads": "true"} if skip_loads else {})},
        )
    outcome = steps.outcome
    outcome.success = result.success
    outcome.run_id = result.run_id
    outcome.dagster_home = settings.dagster_home
    return outcome


@contextlib.contextmanager
def sigterm_kept():
    """Restore this process's SIGTERM handling after a Dagster execution in it. Dagster maps
    SIGTERM to SIGINT's handler while it runs and leaves it so: in a process started in the
    background (a script's `xm refresh &`, nohup, some CI runners), where SIGINT is ignored,
    `xm` then ignored SIGTERM, and so did every process it started afterwards (the demo's
    `dbt docs generate`)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread handles signals (and Dagster leaves them alone there)
        return
    saved = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved)


def _is_load(job: dg.JobDefinition, key: dg.AssetKey) -> bool:
    node = job.asset_layer.asset_graph.get(key)
    return node.assets_def.node_def.name.startswith("load_")
