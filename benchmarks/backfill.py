"""Backfill planning: how long a first full load and a one-day incremental load would take
against the real services, given their published rate limits.

The loads run against the simulator without limits, which records every request it answers
(`Simulator.trace`: when, which vendor, method and path). `simulator.ratelimits.replay` then
sends the same requests, with the same time between them (the loader's own work), through
the limits in `simulator.ratelimits.LIMITS` on a virtual clock, waiting on each refusal what
the loaders wait (`RetryPolicy` from `.dlt/config.toml`). Per vendor:

    projected seconds = measured load seconds + the waits the limits impose

The network round trip to each vendor is not included (the simulator is on loopback): add
`requests x round trip` for it. Sources load one after another, so a load's total is the sum.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

BACKFILL_DIR = "backfill"  # under the results: <date>-<scale>.json
CONFIG = Path(__file__).resolve().parents[1] / ".dlt" / "config.toml"
LOADS = ("full", "daily")


def project(traces: dict[str, list], seconds: dict[str, dict[str, float]], policy=None) -> dict:
    """{"policy", "limits", "loads": {load: {"sources": {vendor: ...}, "total": ...}}} from
    each load's request trace and its measured seconds per source."""
    from simulator.ratelimits import LIMITS, RetryPolicy, replay

    policy = policy or RetryPolicy.from_config(CONFIG)
    loads = {}
    for load, trace in traces.items():
        projections = replay(trace, LIMITS, policy)
        sources = {}
        for source, measured in seconds[load].items():
            p = projections.get(source)
            wait = p.limit_wait_seconds if p else 0.0
            sources[source] = {
                "requests": p.requests if p else 0,
                "requests_by_limit": p.requests_by_limit if p else {},
                "refusals": p.refusals if p else 0,
                "fails": bool(p and p.failed),
                "measured_seconds": measured,
                "limit_wait_seconds": wait,
                "projected_seconds": measured + wait,
            }
        loads[load] = {
            "sources": sources,
            "total": {
                key: sum(s[key] for s in sources.values())
                for key in (
                    "requests",
                    "refusals",
                    "measured_seconds",
                    "limit_wait_seconds",
                    "projected_seconds",
                )
            }
            | {"fails": any(s["fails"] for s in sources.values())},
        }
    return {
        "policy": dataclasses.asdict(policy),
        "limits": [dataclasses.asdict(lim) for lim in LIMITS],
        "loads": loads,
    }


def run_backfill(
    scale: float,
    seed: int = 42,
    workdir: Path | None = None,
    echo: Callable[[str], None] = print,
) -> dict:
    """A full load into an empty warehouse, then the clock one day on and an incremental load
    of every source, both traced; returns the record with the projection."""
    import time

    from benchmarks.harness import _environ, machine
    from ingestion.pipeline import ingest
    from simulator.credentials import loader_env
    from simulator.generator import SimConfig, World
    from simulator.server import Simulator, serve_in_thread

    own_tmp = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="xm-backfill-")) if own_tmp else Path(workdir)
    data_dir = workdir / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    started_at = dt.datetime.now(dt.UTC)
    traces: dict[str, list] = {}
    seconds: dict[str, dict[str, float]] = {}
    try:
        sim = Simulator(World(SimConfig(scale=scale, seed=seed)))
        env = {"XM_DATA_DIR": str(data_dir), "XM_TARGET": "duckdb"}
        with serve_in_thread(sim) as url, _environ(loader_env(url) | env):
            for load in LOADS:
                if load == "daily":
                    sim.advance(1)
                sim.trace = []
                started = time.perf_counter()
                results = ingest(echo=lambda _: None)
                traces[load], sim.trace = sim.trace, None
                seconds[load] = {r.source: r.seconds for r in results}
                echo(
                    f"[backfill {scale:g}] {load} load {time.perf_counter() - started:.1f}s, "
                    f"{len(traces[load]):,} requests"
                )
    finally:
        if own_tmp:
            shutil.rmtree(workdir, ignore_errors=True)
    return {
        "scale": scale,
        "seed": seed,
        "date": started_at.date().isoformat(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine(),
        "backfill": project(traces, seconds),
    }


def write_backfill(record: dict, results_dir: Path) -> Path:
    out = results_dir / BACKFILL_DIR
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{record['date']}-{record['scale']:g}.json"
    import json

    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def load_backfills(results_dir: Path) -> list[dict]:
    """The latest backfill record per scale, by scale."""
    import json

    latest: dict[float, dict] = {}
    for p in sorted((results_dir / BACKFILL_DIR).glob("*.json")):
        record = json.loads(p.read_text())
        if "backfill" in record:
            latest[record["scale"]] = record  # sorted by file name: date first
    return [latest[s] for s in sorted(latest)]


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def backfill_markdown(records: list[dict]) -> list[str]:
    if not records:
        return []
    lines = [
        "",
        "## Backfill planning: loads against the real services' rate limits",
        "",
        "Each load's requests, as the simulator recorded them, replayed through the vendors' "
        "published limits (`simulator/ratelimits.py`; plans assumed: Zendesk Suite "
        "Enterprise, HubSpot Professional) with the loaders' retry policy (`.dlt/config.toml`). "
        "*projected* = the load's measured seconds + the waits the limits impose; the network "
        "round trip to each vendor is not included (add requests x round trip). *full* = the "
        "first load of all history; *daily* = the incremental load one simulated day later. "
        "Sources load one after another: the total is the sum. "
        "`python -m benchmarks --backfill-only --scales 1 10` refreshes this table.",
        "",
        "| date | scale | load | source | requests | by limit | 429s | measured | "
        "limit wait | projected |",
        "|---|---:|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in records:
        for load, case in r["backfill"]["loads"].items():
            rows = [*case["sources"].items(), ("**total**", case["total"])]
            for source, s in rows:
                by_limit = ", ".join(
                    f"{k} {v:,}" for k, v in s.get("requests_by_limit", {}).items()
                )
                fails = " (fails: retries exhausted)" if s["fails"] else ""
                lines.append(
                    f"| {r['date']} | {r['scale']:g} | {load} | {source} | {s['requests']:,} | "
                    f"{by_limit} | {s['refusals']:,} | {s['measured_seconds']:.1f} s | "
                    f"{s['limit_wait_seconds']:.0f} s | "
                    f"{_duration(s['projected_seconds'])}{fails} |"
                )
    return lines
