"""Live row counts of a load: a dlt progress collector that reports per table.

dlt calls `update(table, inc)` as it extracts pages; the counts go to whoever listens
(`warehouse.progress`: the `xm` CLI draws a bar per table) and, every `log_every` seconds,
as one line to `log` (a Dagster step's log, so a run launched from the UI shows them too).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from dlt.common.runtime.collector_base import Collector

from warehouse.progress import Progress, report

# dlt's own counters, not tables
_NOT_TABLES = {"Resources", "Files", "Items", "Jobs"}


class RowCounter(Collector):
    def __init__(
        self, task: str, log: Callable[[str], None] | None = None, log_every: float = 15.0
    ) -> None:
        self.task = task
        self.log = log
        self.log_every = log_every
        self.rows: dict[str, int] = defaultdict(int)
        self.step = ""
        self._logged = time.monotonic()

    def update(
        self,
        name: str,
        inc: int = 1,
        total: int | None = None,
        inc_total: int | None = None,
        message: str | None = None,
        label: str | None = None,
    ) -> None:
        if (
            not self.step.startswith("Extract")
            or name in _NOT_TABLES
            or label
            or name.startswith("_dlt")
        ):
            return
        self.rows[name] += inc
        report(Progress(self.task, name, self.rows[name]))
        if self.log and time.monotonic() - self._logged >= self.log_every:
            self._logged = time.monotonic()
            self.log(f"{self.task}: extracted so far " + self.summary())

    def summary(self) -> str:
        return ", ".join(f"{t} {n:,}" for t, n in sorted(self.rows.items()) if n) or "nothing"

    def _start(self, step: str) -> None:
        self.step = step

    def _stop(self) -> None:
        if self.step.startswith("Extract") and self.log and self.rows:
            self.log(f"{self.task}: extracted " + self.summary())
        self.step = ""
