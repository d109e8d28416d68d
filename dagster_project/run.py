"""Run a job of the code location in this process, for `xm` (the CLI never imports Dagster).

One progress line per step goes to `echo`; everything else the steps print (dbt's log
lines) goes to the log file."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

VERBS = {
    "STEP_START": "running",
    "STEP_SUCCESS": "done",
    "STEP_FAILURE": "FAILED",
    "STEP_SKIPPED": "skipped",
}


@dataclass
class JobOutcome:
    success: bool
    failures: list[tuple[str, str]]  # (step, message) of every failed step


def run_job(name: str, echo: Callable[[str], None], log: Path) -> JobOutcome:
    from dagster_project.definitions import defs

    class StepProgress(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "dagster_meta", {}).get("dagster_event")
            if event is not None and event.event_type_value in VERBS:
                verb = VERBS[event.event_type_value]
                echo(f"      {time.strftime('%H:%M:%S')} {event.step_key:<24} {verb}")

    @dg.logger
    def progress(_init_context) -> logging.Logger:
        logger = logging.Logger("xm.progress", level=logging.DEBUG)
        logger.addHandler(StepProgress())
        return logger

    job = defs().resolve_job_def(name).with_logger_defs({"progress": progress})
    log.parent.mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test() as instance, log.open("w") as out, contextlib.redirect_stdout(out):
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config={"loggers": {"progress": {}}}
        )
    failures = [
        (e.step_key, e.event_specific_data.error.message.strip())
        for e in result.all_events
        if e.is_step_failure
    ]
    return JobOutcome(result.success, failures)
