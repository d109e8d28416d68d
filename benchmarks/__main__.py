"""`python -m benchmarks [--scales 1 5] [--results DIR]`: run the harness, write the results.

Per scale: a full refresh from an empty warehouse timed per stage, the two reference points
(DuckDB `read_json` of the served records; the models' compiled SQL run directly), and the
incremental case (one simulated day, then the CX refresh; one more, then the nightly
refresh). Writes `<results>/<date>-<scale>.json`, then `summary.md` and `scaling.png` from
every result in `<results>`.

With `--history-days 91 365 730`: one scale, one run per length of the simulator's history
(same daily volume), without the reference points, into `<results>/history/`: how the
one-day refreshes grow with history alone.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

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
    parser.add_argument("--no-summary", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
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
            subprocess.run(cmd, check=True)
        args.summary_only = True
    for scale, days in [] if args.summary_only else runs:
        workdir = args.workdir / f"scale-{scale:g}" if args.workdir else None
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
    if args.no_summary:
        return 0
    md, png = write_summary(args.results)
    print(f"summary: {md}" + (f", plot: {png}" if png else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
