"""The dashboard as a browser sees it: serving it (`xm dashboard`'s command) and reading what a
page shows (KPI tiles, static tables), for tests/test_dashboard.py (DuckDB snapshot) and
tests/test_postgres.py (PostgreSQL `published`, as the BI role)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from dashboard.serve import command, environment
from tests.support.browser import wait_http
from warehouse.local_postgres import free_port

TIMEOUT_MS = 60_000


@contextlib.contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """`xm dashboard`'s command on a free port with `env` added: its base URL."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            command(port), env=environment(env), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/_stcore/health", process=proc)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def tiles(page) -> dict[str, tuple[str, str]]:
    """Every KPI tile on the page: label -> (value, note)."""
    out = {}
    for metric in page.get_by_test_id("stMetric").all():
        note = metric.get_by_test_id("stMetricDelta")
        out[metric.get_by_test_id("stMetricLabel").inner_text().strip()] = (
            metric.get_by_test_id("stMetricValue").inner_text().strip(),
            note.inner_text().strip() if note.count() else "",
        )
    return out


def table(page, index: int = 0) -> list[dict[str, str]]:
    """The rows of the index-th static table on the page, as {header: cell}."""
    grid = page.get_by_test_id("stTable").nth(index)
    grid.locator("thead th").first.wait_for(timeout=TIMEOUT_MS)
    headers = [h.strip() for h in grid.locator("thead th").all_inner_texts()]
    return [
        dict(
            zip(headers, [c.strip() for c in row.locator("th, td").all_inner_texts()], strict=False)
        )
        for row in grid.locator("tbody tr").all()
    ]


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text.split(" (")[0]))


def close(text: str, expected: float, digits: int = 1) -> bool:
    return abs(number(text) - expected) <= 0.5 * 10**-digits + 1e-9


def open_page(page, url: str) -> float:
    """Load a page until its first KPI tile is drawn: seconds."""
    started = time.perf_counter()
    page.goto(url)
    page.get_by_test_id("stMetric").first.wait_for(timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - started
    page.wait_for_timeout(500)  # the charts after the tiles
    return seconds


def settled(page) -> None:
    """Until Streamlit's rerun has finished (its status widget gone)."""
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=TIMEOUT_MS
    )


def choose(page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def wait_for_tile(page, label: str, value: str) -> float:
    """Until the tile `label` shows `value`: seconds (the filter's response time)."""
    started = time.perf_counter()
    deadline = started + TIMEOUT_MS / 1000
    while time.perf_counter() < deadline:
        shown = tiles(page).get(label, ("",))[0]
        if shown == value:
            return time.perf_counter() - started
        page.wait_for_timeout(100)
    raise AssertionError(f"tile {label!r} shows {tiles(page).get(label)}, expected {value!r}")


def screenshot(page, folder, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert (folder / f"{name}.png").stat().st_size > 20_000
