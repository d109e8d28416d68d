"""What `xm` shows while a job runs: one line per step, and on a terminal live progress bars
(rich): rows per table while a source loads, nodes done of all during `dbt build`.

Off a terminal (a log file, CI, a pipe) only the step lines are printed: they say what each
step produced when it ends.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from warehouse.progress import Progress as Report


class RunDisplay:
    def __init__(self, live: bool | None = None) -> None:
        self.console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal if live is None else live
        self.bars = Progress(
            SpinnerColumn(),
            TextColumn("      {task.description:<40}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.tasks: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> RunDisplay:
        if self.live:
            self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.bars.stop()

    def echo(self, line: str) -> None:
        """A line that stays (above the bars)."""
        if self.live:
            self.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.console.file, flush=True)

    def update(self, report: Report) -> None:
        """A live count (warehouse.progress): one bar per (step, item)."""
        if not self.live:
            return
        if report.finished:
            for key in [k for k in self.tasks if k[0] == report.task]:
                self.bars.remove_task(self.tasks.pop(key))
            return
        key = (report.task, report.item)
        if key not in self.tasks:
            label = report.item if report.unit == "rows" else f"{report.task} {report.item}"
            self.tasks[key] = self.bars.add_task(
                f"{report.task.removeprefix('load_')} {label}" if report.unit == "rows" else label,
                total=report.total,
                unit=report.unit,
            )
        self.bars.update(self.tasks[key], completed=report.done, total=report.total)
