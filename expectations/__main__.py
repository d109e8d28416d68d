"""`python -m expectations [--layer raw|quarantine|marts] [--suite NAME ...] [--data-dir DIR]`

Validates the warehouse in `$XM_DATA_DIR` (or `--data-dir`) with the suites, prints one line
per suite (and each failed expectation), updates the Data Docs and prints their path. Exit
status 1 when a blocking suite failed, else 0 (warnings are printed, not fatal)."""

from __future__ import annotations

import argparse
import sys

from expectations.registry import all_specs
from expectations.runner import docs_index, run_suites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expectations", description=__doc__)
    parser.add_argument("--layer", choices=["raw", "quarantine", "marts"])
    parser.add_argument(
        "--suite", action="append", dest="suites", choices=[s.name for s in all_specs()]
    )
    parser.add_argument("--data-dir", help="default: $XM_DATA_DIR, else ./data")
    args = parser.parse_args(argv)
    results = run_suites(names=args.suites, layer=args.layer, data_dir=args.data_dir)
    for r in results:
        print(r.summary())
    print(f"GX Data Docs: {docs_index(args.data_dir)}")
    return 1 if any(r.blocking and not r.success for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
