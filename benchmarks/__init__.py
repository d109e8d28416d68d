"""Benchmarks: how the warehouse's cost grows with data, and where the time goes (issue 7).

Run `make bench` (or `python -m benchmarks --scales 1 5`). Results are data, not tests:
`benchmarks/results/<date>-<scale>.json`, `summary.md` and `scaling.png`.
"""
