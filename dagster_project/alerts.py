"""Where failures go: a line in `$XM_DATA_DIR/run_failures.jsonl` (always) and a JSON POST to
`XM_ALERT_WEBHOOK` (when set). The POST carries a Slack-compatible `text` plus the fields,
so a Slack or Teams incoming webhook, a PagerDuty/Opsgenie bridge or a small HTTP receiver
can take it as it is. Posting never fails the run: a receiver that is down is logged."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from warehouse.failures import explain, one_line
from warehouse.settings import Settings


def cause(error: BaseException | None) -> str:
    """A failure's cause in one line (the environment's, when `explain` knows it)."""
    if error is None:
        return "unknown"
    return explain(error) or f"{type(error).__name__}: {one_line(str(error))}"


def record(
    *,
    run_id: str,
    job: str,
    step: str | None,
    error: str,
    settings: Settings | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Append the failure to run_failures.jsonl and post it to the webhook, if one is set."""
    settings = settings or Settings.from_env()
    entry = {
        "run_id": run_id,
        "job": job,
        "step": step,
        "failed_at": dt.datetime.now(dt.UTC).isoformat(),
        "error": error,
        "data_dir": str(settings.data_dir),
    }
    path = settings.data_dir / "run_failures.jsonl"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(json.dumps(entry) + "\n")
    except OSError as e:  # a full or read-only data dir must not hide the original failure
        log(f"could not record the failure in {path}: {e}")
    if settings.alert_webhook:
        post(settings.alert_webhook, entry, log=log)
    return entry


def post(url: str, entry: dict, log: Callable[[str], None] = print, timeout: float = 10) -> bool:
    import requests

    where = f"step {entry['step']} of " if entry.get("step") else ""
    text = f"xm: {where}{entry['job']} failed (run {entry['run_id'][:8]}): {entry['error']}"
    try:
        response = requests.post(url, json={"text": text, **entry}, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as e:
        log(f"alert webhook {url} did not take the alert: {one_line(str(e))}")
        return False
    return True
