"""The volume baseline: each raw table's row count at its last passing volume validation.

A small JSON file beside the warehouse (`$XM_DATA_DIR/quality/volume_baseline.json`), not a
warehouse table: the checks only ever read the warehouse. A table whose volume check fails
keeps its old baseline, so the alarm repeats until someone looks; after a deliberate drop
(a purge, a re-scoped source) reset it with `reset_volume_baseline(table)`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

BASELINE_FILE = "volume_baseline.json"


def baseline_path(data_dir: Path) -> Path:
    return Path(data_dir) / "quality" / BASELINE_FILE


def read_volume_baseline(data_dir: Path) -> dict[str, dict[str, Any]]:
    """{"raw_zendesk.tickets": {"rows": 622, "load_id": "...", "validated_at": "..."}}"""
    path = baseline_path(data_dir)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:  # a torn write: start again rather than fail the checks
        return {}


def write_volume_baseline(data_dir: Path, baseline: dict[str, dict[str, Any]]) -> None:
    path = baseline_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(baseline, indent=2, sort_keys=True))
    os.replace(tmp, path)  # atomic: a reader never sees half a file


def update_volume_baseline(data_dir: Path, counts: dict[str, dict[str, Any]]) -> None:
    baseline = read_volume_baseline(data_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for table, entry in counts.items():
        baseline[table] = {**entry, "validated_at": now}
    write_volume_baseline(data_dir, baseline)


def reset_volume_baseline(data_dir: Path, table: str | None = None) -> None:
    """Forget the baseline of one table (`"raw_zendesk.tickets"`) or of all of them."""
    baseline = {} if table is None else read_volume_baseline(data_dir)
    baseline.pop(table, None)
    write_volume_baseline(data_dir, baseline)
