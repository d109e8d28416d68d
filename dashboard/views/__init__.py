"""One module per dashboard page; each has `render(marts, filters)`."""

from __future__ import annotations


def tile(where, label: str, value: str, note: str | None = None, help: str | None = None) -> None:
    """A KPI tile: the figure, with its month and denominator as a grey note under it."""
    where.metric(
        label,
        value,
        delta=note,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=help,
    )
