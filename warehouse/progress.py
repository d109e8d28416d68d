"""Progress of long work, for whoever shows it.

Producers (the loaders' dlt collector, the dbt step) call `report(...)` as they go; a
consumer (the `xm` CLI draws progress bars) subscribes with `listening(fn)` for the length
of a run in the same process. With no listener a report costs a list lookup. Runs launched
by the Dagster daemon have no listener: their steps log counts to the run's event log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    task: str  # the step doing the work: "load_zendesk", "dbt_models"
    item: str  # what is counted: a table, "nodes"
    done: int  # so far (absolute, not an increment)
    total: int | None = None  # when known
    unit: str = "rows"
    finished: bool = False  # the task is over: drop its bars


Listener = Callable[[Progress], None]
_listeners: list[Listener] = []


def report(progress: Progress) -> None:
    for listener in list(_listeners):
        with contextlib.suppress(Exception):  # a display must never fail the work
            listener(progress)


def active() -> bool:
    return bool(_listeners)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
