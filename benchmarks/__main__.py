"""`python -m benchmarks [--scales 1 5] [--results DIR]`: run the harness, write the results.

Per scale: a full refresh from an empty warehouse timed per stage, the two reference points
(DuckDB `read_json` of the served records; the models' compiled SQL run directly), and the
incremental case (one simulated day, then the CX refresh; one more, then the nightly
refresh). Writes `<results>/<date>-<scale>.json`, then `summary.md` and `scaling.png` from
every result in `<results>`.

Then per scale the backfill projection (`benchmarks/backfill.py`): a full load and a one-day
incremental load, their requests replayed through the vendors' published rate limits, into
`<results>/backfill/<date>-<scale>.json` (`--backfill-only`: just that; `--no-backfill`:
without it).

With `--history-days 91 365 730`: one scale, one run per length of the simulator's history
(same daily volume), without the reference points, into `<results>/history/`: how the
one-day refreshes grow with history alone.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from benchmarks.backfill import run_backfill, write_backfill
from benchmarks.harness import RESULTS_DIR, run_scale, write_result, write_summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data here")
    parser.add_argument(
        "--no-dbt-run",
        action="store_true",
        help="skip timing `dbt run` for the dbt-overhead reference (saves one dbt run)",
    )
    parser.add_argument(
        "--summary-only", action="store_true", help="only rewrite summary.md and the plot"
    )
    parser.add_argument(
        "--history-days",
        type=int,
        nargs="+",
        default=None,
        help="days of simulated history per run, at one scale (no reference points)",
    )
    parser.add_argument(
        "--backfill-only",
        action="store_true",
        help="only the backfill projection (full + one-day load through the rate limits)",
    )
    parser.add_argument("--no-backfill", action="store_true", help="skip the backfill projection")
    parser.add_argument("--no-summary", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.backfill_only and (args.no_backfill or args.history_days):
        parser.error("--backfill-only takes neither --no-backfill nor --history-days")
    runs = [(scale, None) for scale in args.scales]
    if args.history_days:
        if len(args.scales) != 1:
            parser.error("--history-days takes one scale")
        runs = [(args.scales[0], days) for days in args.history_days]
    if len(runs) > 1 and not args.summary_only:
        # one process per run: peak RSS must not include what an earlier run left behind
        for scale, days in runs:
            cmd = [sys.executable, "-m", "benchmarks", "--scales", f"{scale:g}", "--no-summary"]
            cmd += ["--history-days", str(days)] if days else []
            cmd += ["--seed", str(args.seed), "--results", str(args.results)]
            cmd += ["--workdir", str(args.workdir)] if args.workdir else []
            cmd += ["--no-dbt-run"] if args.no_dbt_run else []
            cmd += ["--backfill-only"] if args.backfill_only else []
            cmd += ["--no-backfill"] if args.no_backfill or days else []
            subprocess.run(cmd, check=True)
        args.summary_only = True
    for scale, days in [] if args.summary_only else runs:
        workdir = args.workdir / f"scale-{scale:g}" if args.workdir else None
        if not args.backfill_only:
            bench(args, scale, days, workdir)
        if not (args.no_backfill or days):  # after the bench: its peak RSS is measured alone
            backfill(args, scale, workdir)
    if args.no_summary:
        return 0
    md, png = write_summary(args.results)
    print(f"summary: {md}" + (f", plot: {png}" if png else ""))
    return 0


def bench(args: argparse.Namespace, scale: float, days: int | None, workdir: Path | None) -> None:
    result = run_scale(
        scale,
        workdir=workdir,
        seed=args.seed,
        measure_dbt_run=not args.no_dbt_run,
        history_days=days,
        references=days is None,
    )
    path = write_result(result, args.results)
    ref = result["reference"]
    inc = result["incremental"]
    ratios = (
        f"format-limit ratio {ref['format_limit']['ratio']:.1f}x, "
        f"dbt-overhead ratio {ref['dbt_overhead']['ratio']:.1f}x, "
        if ref
        else f"history {result['history_days']} days, "
    )
    print(
        f"[bench {scale:g}] total {result['total_seconds']:.1f}s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB "
        f"(simulator, its own process: {result['simulator_peak_rss_mb']:.0f} MB), {ratios}"
        f"cx refresh {inc['cx_refresh']['total_seconds']:.1f}s, "
        f"nightly refresh {inc['nightly_refresh']['total_seconds']:.1f}s -> {path}"
    )


def backfill(args: argparse.Namespace, scale: float, workdir: Path | None) -> None:
    record = run_backfill(scale, seed=args.seed, workdir=workdir / "backfill" if workdir else None)
    loads = record["backfill"]["loads"]
    print(
        f"[backfill {scale:g}] projected against the vendors' limits: full load "
        f"{loads['full']['total']['projected_seconds']:,.0f}s, daily load "
        f"{loads['daily']['total']['projected_seconds']:,.0f}s -> "
        f"{write_backfill(record, args.results)}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
