"""The benchmark harness: one full refresh from an empty warehouse per scale, timed per stage.

Stages (in order, all in this process tree): simulator generation, ingest (per source),
`dbt build`, quality checks (`run_suites`), publish. Peak RSS is sampled for the whole
process tree (this process and every child, e.g. dbt) by a background thread, and also
taken from `getrusage` as a cross-check.

Reference point, measured in the same run so results are ratios: "ingest vs the format's
limit" -- the Zendesk ticket and ticket-event pages the simulator served, written as JSON
files and read by DuckDB's `read_json` into a fresh database file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import psutil

RESULTS_DIR = Path(__file__).resolve().parent / "results"
STAGES = ("generate", "ingest", "dbt_build", "quality", "publish")
MB = 1024 * 1024

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


# ---- memory ------------------------------------------------------------------------------
class TreeRSSSampler:
    """Samples the summed RSS of this process and all its descendants every `interval` s."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        self.peak = max(self.peak, total)
        return total

    def reset(self) -> int:
        """Start a new window; returns the peak of the window that ended."""
        peak, self.peak = self.peak, 0
        self.sample()
        return max(peak, self.peak)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeRSSSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _maxrss_bytes(who: int) -> int:
    kb = resource.getrusage(who).ru_maxrss  # kilobytes on Linux
    return kb * (1 if sys.platform == "darwin" else 1024)


# ---- machine -----------------------------------------------------------------------------
def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "versions": {
            d: _version(d)
            for d in ("duckdb", "dlt", "dbt-core", "dbt-duckdb", "great_expectations", "dagster")
        },
    }


# ---- reference point: the format's limit -------------------------------------------------
def _fetch_pages(url: str, path: str, params: dict, key: str, next_key: str) -> Iterator[list]:
    import requests

    from ingestion.simulator.credentials import ZENDESK_EMAIL, ZENDESK_TOKEN

    auth = (f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN)
    session = requests.Session()
    next_url: str | None = f"{url}/zendesk/api/v2/{path}"
    query: dict | None = params
    while next_url:
        resp = session.get(next_url, params=query, auth=auth, timeout=120)
        resp.raise_for_status()
        body = resp.json()
        yield body[key]
        next_url = None if body.get("end_of_stream") else body.get(next_key)
        query = None


def format_limit(url: str, workdir: Path) -> dict:
    """Fetch the Zendesk tickets and ticket events once, write JSON files, time `read_json`."""
    import duckdb

    from ingestion.sources.zendesk import INITIAL_EPOCH

    json_dir = workdir / "json"
    json_dir.mkdir(parents=True, exist_ok=True)
    feeds = {
        "tickets": ("incremental/tickets/cursor", {}, "after_url"),
        "ticket_events": ("incremental/ticket_events", {"include": "comment_events"}, "next_page"),
    }
    rows: dict[str, int] = {}
    started = time.perf_counter()
    for key, (path, extra, next_key) in feeds.items():
        params = {"start_time": INITIAL_EPOCH, "per_page": 1000, **extra}
        rows[key] = 0
        for i, records in enumerate(_fetch_pages(url, path, params, key, next_key)):
            if records:
                (json_dir / f"{key}-{i:05d}.json").write_text(json.dumps(records))
                rows[key] += len(records)
    fetch_seconds = time.perf_counter() - started

    db = workdir / "read_json.duckdb"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    try:
        for key in feeds:
            con.execute(
                f"create table {key} as select * from read_json(?, format = 'array')",
                [str(json_dir / f"{key}-*.json")],
            )
        loaded = {k: con.execute(f"select count(*) from {k}").fetchone()[0] for k in feeds}
    finally:
        con.close()
    read_seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "rows_loaded": loaded,
        "json_bytes": sum(p.stat().st_size for p in json_dir.iterdir()),
        "fetch_seconds": fetch_seconds,
        "read_json_seconds": read_seconds,
    }


# ---- the run -----------------------------------------------------------------------------
@dataclass
class Stage:
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    extra: dict = field(default_factory=dict)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_scale(
    scale: float,
    workdir: Path | None = None,
    seed: int = 42,
    echo: Callable[[str], None] = print,
) -> dict:
    """A full refresh from an empty warehouse at `scale`; returns the result record."""
    from dagster_project.publish import publish
    from expectations import run_suites
    from ingestion.pipeline import ingest, run_dbt
    from ingestion.simulator.credentials import loader_env
    from ingestion.simulator.generator import SimConfig, World
    from ingestion.simulator.server import Simulator, serve_in_thread

    own_tmp = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="xm-bench-")) if own_tmp else Path(workdir)
    data_dir = workdir / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    quiet = lambda _: None  # noqa: E731
    stages: dict[str, Stage] = {}
    started_at = dt.datetime.now(dt.UTC)
    run_id = f"bench-{started_at:%Y%m%dT%H%M%S}"
    try:
        with TreeRSSSampler() as rss:

            def finish(name: str, started: float, **extra) -> Stage:
                stage = Stage(time.perf_counter() - started, rss.reset() / MB, extra)
                stages[name] = stage
                echo(
                    f"[bench {scale:g}] {name:<10} {stage.seconds:8.2f}s  "
                    f"peak {stage.peak_rss_mb:7.0f} MB"
                )
                return stage

            rss.reset()
            t0 = started = time.perf_counter()
            world = World(SimConfig(scale=scale, seed=seed))
            finish("generate", started, world=dict(world.summary))

            sim = Simulator(world)
            with (
                serve_in_thread(sim) as url,
                _environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}),
            ):
                started = time.perf_counter()
                loads = ingest(echo=quiet)
                sources = {}
                for r in loads:
                    rows = sum(n for t, n in r.row_counts.items() if not t.startswith("_dlt"))
                    sources[r.source] = {
                        "seconds": r.seconds,
                        "rows": rows,
                        "rows_per_second": rows / r.seconds if r.seconds else 0.0,
                        "tables": dict(sorted(r.row_counts.items())),
                    }
                finish("ingest", started, sources=sources)

                started = time.perf_counter()
                run_dbt(["build"], echo=quiet)
                finish("dbt_build", started)

                started = time.perf_counter()
                suites = run_suites(run_name=run_id)
                finish(
                    "quality",
                    started,
                    suites=len(suites),
                    failed=sorted(s.suite for s in suites if not s.success),
                    rows_validated=sum(s.rows_validated for s in suites),
                )

                started = time.perf_counter()
                published = publish(run_id)
                finish("publish", started, rows=sum(published.values()), tables=len(published))
                total = time.perf_counter() - t0
                tree_peak = max(s.peak_rss_mb for s in stages.values())

                # reference point, after the timed refresh (not part of the total)
                started = time.perf_counter()
                limit = format_limit(url, workdir / "format_limit")
                finish("format_limit", started)
    finally:
        if own_tmp:
            shutil.rmtree(workdir, ignore_errors=True)

    ingest_stage = stages["ingest"]
    zendesk = ingest_stage.extra["sources"].get("zendesk", {})
    rows_total = sum(s["rows"] for s in ingest_stage.extra["sources"].values())
    return {
        "scale": scale,
        "seed": seed,
        "date": started_at.date().isoformat(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine(),
        "stages": {
            name: {"seconds": stages[name].seconds, "peak_rss_mb": stages[name].peak_rss_mb}
            | stages[name].extra
            for name in STAGES
        },
        "total_seconds": total,
        "rows_ingested": rows_total,
        "rows_per_second": rows_total / ingest_stage.seconds,
        "peak_rss_mb": tree_peak,
        "getrusage_maxrss_mb": {
            "self": _maxrss_bytes(resource.RUSAGE_SELF) / MB,
            "children": _maxrss_bytes(resource.RUSAGE_CHILDREN) / MB,
        },
        "reference": {
            "format_limit": limit
            | {
                # zendesk's whole ingest (all its resources) vs read_json of its two big feeds
                "zendesk_ingest_seconds": zendesk.get("seconds"),
                "ratio": zendesk.get("seconds", 0.0) / limit["read_json_seconds"],
                "seconds": stages["format_limit"].seconds,
            },
            "dbt_overhead": None,  # not yet measured (issue 7)
        },
        "incremental": None,  # not yet measured (issue 7)
    }


# ---- results -----------------------------------------------------------------------------
def write_result(result: dict, results_dir: Path = RESULTS_DIR) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result['date']}-{result['scale']:g}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return path


def load_results(results_dir: Path = RESULTS_DIR) -> list[dict]:
    out = []
    for p in sorted(results_dir.glob("*.json")):
        with contextlib.suppress(ValueError, KeyError):
            out.append(json.loads(p.read_text()) | {"_file": p.name})
    return sorted(out, key=lambda r: (r["date"], r["scale"]))


def summary_markdown(results: list[dict]) -> str:
    lines = ["# Benchmark results", ""]
    if results:
        m = results[-1]["machine"]
        v = m["versions"]
        lines += [
            f"Machine (latest run): {m['cores_logical']} logical cores, {m['memory_gib']} GiB, "
            f"Python {m['python']}, duckdb {v.get('duckdb')}, dlt {v.get('dlt')}, "
            f"dbt-core {v.get('dbt-core')}, dbt-duckdb {v.get('dbt-duckdb')}; {m['platform']}.",
            "",
        ]
    lines += [
        "Seconds per stage of a full refresh from an empty warehouse; peak RSS is the whole "
        "process tree. *format limit* = Zendesk ingest seconds / DuckDB `read_json` seconds "
        "of the same tickets and ticket events from JSON files.",
        "",
        "| date | scale | generate | ingest | dbt build | quality | publish | total "
        "| rows ingested | rows/s | peak RSS MB | format limit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["stages"]
        ratio = r["reference"]["format_limit"]["ratio"]
        lines.append(
            f"| {r['date']} | {r['scale']:g} | "
            + " | ".join(f"{s[n]['seconds']:.1f}" for n in STAGES)
            + f" | {r['total_seconds']:.1f} | {r['rows_ingested']:,} | "
            f"{r['rows_per_second']:,.0f} | {r['peak_rss_mb']:,.0f} | {ratio:.1f}x |"
        )
    lines += ["", "## Ingest per source", ""]
    lines += [
        "| date | scale | source | seconds | rows | rows/s |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in results:
        for name, src in r["stages"]["ingest"]["sources"].items():
            lines.append(
                f"| {r['date']} | {r['scale']:g} | {name} | {src['seconds']:.1f} | "
                f"{src['rows']:,} | {src['rows_per_second']:,.0f} |"
            )
    lines += [
        "",
        "Not yet measured: the incremental case (one simulated day after a full refresh) "
        "and the dbt-overhead reference point.",
        "",
    ]
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> Path | None:
    """Time vs scale per stage, log-log (latest run per scale)."""
    latest = {r["scale"]: r for r in results}
    if not latest:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = sorted(latest)
    fig, ax = plt.subplots(figsize=(7, 5))
    for name in (*STAGES, "total"):
        ys = [
            latest[s]["total_seconds"] if name == "total" else latest[s]["stages"][name]["seconds"]
            for s in scales
        ]
        ax.plot(scales, ys, marker="o", label=name, linestyle="--" if name == "total" else "-")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("simulator scale")
    ax.set_ylabel("seconds")
    ax.set_title("Full refresh: time per stage vs scale")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_summary(results_dir: Path = RESULTS_DIR) -> tuple[Path, Path | None]:
    results = load_results(results_dir)
    md = results_dir / "summary.md"
    md.write_text(summary_markdown(results))
    return md, plot(results, results_dir / "scaling.png")
