"""The Zendesk load alone against the format limit, and an A/B of two code trees.

`python -m benchmarks.zendesk_ab --scale 1` runs: generate the world at `scale` and serve
it from a process of its own (as `benchmarks.harness` does), load Zendesk into an empty
warehouse (timed: the figure the harness calls "zendesk ingest"), then the harness's format
limit (the same tickets, ticket events and SLA metric events as JSON files, DuckDB
`read_json`); prints one JSON record with the ratio.

`python -m benchmarks.zendesk_ab --scale 1 --ab OLD_TREE NEW_TREE [--rounds 2]` runs that
once per tree per round, alternating, each in a fresh process whose imports and `.dlt/`
come from the tree: a before/after measured side by side on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(scale: float, seed: int = 42, profile: str | None = None) -> dict:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    from benchmarks.harness import _dlt_steps, _environ, format_limit
    from ingestion.pipeline import ingest
    from simulator.credentials import loader_env
    from simulator.process import SimulatorProcess

    workdir = Path(tempfile.mkdtemp(prefix="xm-zd-ab-"))
    sim = SimulatorProcess(scale, seed, log=workdir / "simulator.log")
    with (
        sim,
        _environ(
            {
                **loader_env(url := sim.wait_ready()),
                "XM_DATA_DIR": str(workdir / "data"),
                "XM_TARGET": "duckdb",
            }
        ),
    ):
        cpu0, t0 = time.process_time(), time.perf_counter()
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        [zd] = ingest(["zendesk"], echo=lambda _: None)
        if profile:
            prof.disable()
            prof.dump_stats(profile)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        steps = _dlt_steps("zendesk")
        limit = format_limit(url, workdir / "format_limit")
    return {
        "tree": str(Path(__file__).resolve().parents[1]),
        "scale": scale,
        "zendesk_seconds": seconds,
        "zendesk_cpu_seconds": cpu,
        "dlt_steps": steps,
        "rows": zd.rows,
        "tables": dict(sorted(zd.row_counts.items())),
        "fetch_seconds": limit["fetch_seconds"],
        "read_json_seconds": limit["read_json_seconds"],
        "ratio": seconds / limit["read_json_seconds"],
    }


def ab(scale: float, trees: list[str], rounds: int) -> list[dict]:
    here = Path(__file__).resolve()
    out = []
    for r in range(rounds):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": tree}
            # this file, run from the tree: its imports (and .dlt/config.toml) are the tree's
            proc = subprocess.run(
                [sys.executable, str(here), "--scale", str(scale)],
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            record = json.loads(proc.stdout.strip().splitlines()[-1])
            record |= {"tree": tree, "round": r}
            print(json.dumps(record), flush=True)
            out.append(record)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--ab", nargs="+", metavar="TREE")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--profile", help="write a cProfile of the Zendesk load here")
    args = p.parse_args()
    if args.ab:
        ab(args.scale, args.ab, args.rounds)
    else:
        print(json.dumps(run_once(args.scale, profile=args.profile)))


if __name__ == "__main__":
    main()
