"""`python -m benchmarks.dashboard --data-dir DIR --label NAME`: how fast the dashboard
answers, in Debian's chromium (as tests/test_dashboard.py drives it), on the snapshot a
refresh published under DIR (`xm demo --scale 10` with XM_DATA_DIR=DIR, for example).

Per page: the first paint (until its first KPI tile is drawn) on the first visit after the
server starts (cold: the marts are read once per snapshot) and on later visits (warm);
per filter: from choosing an option until the tile it changes shows the new value. Each
timing is the median of `--runs` visits; all are written to
`benchmarks/results/dashboard-<label>.json`. The aim (issue 17): every page under 2 s warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from benchmarks.harness import RESULTS_DIR
from dashboard import data
from dashboard.serve import PAGES
from tests.support.browser import chromium
from tests.support.dashboard import choose, open_page, served, settled
from warehouse.settings import Settings


def _tile(page, label: str) -> str | None:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    try:
        return metric.get_by_test_id("stMetricValue").first.inner_text(timeout=1000)
    except PlaywrightError:  # redrawn while read
        return None


def _changed(page, label: str, option: str, tile: str) -> float:
    """Choose `option` in the select box `label`; seconds until the tile `tile` changes."""
    before = _tile(page, tile)
    started = time.perf_counter()
    choose(page, label, option)
    while time.perf_counter() < started + 60:
        if _tile(page, tile) not in (before, None):
            seconds = time.perf_counter() - started
            settled(page)
            return seconds
        page.wait_for_timeout(25)
    raise RuntimeError(f"choosing {option!r} in {label!r} did not change the tile {tile!r}")


def measure(data_dir: Path, runs: int) -> dict[str, float]:
    marts = data.load(data.Source(Settings(data_dir=data_dir)))
    segment = marts.segment_names[0]
    department = marts.department_names[0]
    out: dict[str, list[float]] = {}
    with (
        served({"XM_DATA_DIR": str(data_dir)}, data_dir / "dashboard-bench.log") as url,
        chromium() as browser,
    ):
        page = browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
        out["cx first paint, cold"] = [open_page(page, url + "/")]
        for _ in range(runs):
            for title, path in PAGES.items():
                out.setdefault(f"{title}: first paint, warm", []).append(
                    open_page(page, f"{url}/{path}")
                )
            open_page(page, url + "/")
            out.setdefault("segment filter (cx)", []).append(
                _changed(page, "Customer segment", segment, "CSAT")
            )
            open_page(page, url + "/ex")
            out.setdefault("department filter (ex)", []).append(
                _changed(page, "Department", department, "Headcount")
            )
            out.setdefault("department filter cleared (ex)", []).append(
                _changed(page, "Department", "All departments", "Headcount")
            )
    return {name: round(statistics.median(values), 3) for name, values in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--label", required=True, help="e.g. scale-10")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    timings = measure(args.data_dir.resolve(), args.runs)
    result = {
        "label": args.label,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": args.runs,
        "seconds": timings,
    }
    path = args.results / f"dashboard-{args.label}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for name, seconds in timings.items():
        print(f"{name:40} {seconds:6.2f} s")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
