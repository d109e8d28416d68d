"""`python -m benchmarks [--scales 1 5] [--results DIR]`: run the harness, write the results."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.harness import RESULTS_DIR, run_scale, write_result, write_summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the data here")
    args = parser.parse_args(argv)
    for scale in args.scales:
        workdir = args.workdir / f"scale-{scale:g}" if args.workdir else None
        result = run_scale(scale, workdir=workdir, seed=args.seed)
        path = write_result(result, args.results)
        print(
            f"[bench {scale:g}] total {result['total_seconds']:.1f}s, "
            f"peak RSS {result['peak_rss_mb']:.0f} MB, "
            f"format-limit ratio {result['reference']['format_limit']['ratio']:.1f}x -> {path}"
        )
    md, png = write_summary(args.results)
    print(f"summary: {md}" + (f", plot: {png}" if png else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
