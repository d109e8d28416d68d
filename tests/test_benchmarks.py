"""Smoke test of the benchmark harness: a tiny scale, results written to a temp dir.

One harness run (full refresh, both reference points, the incremental case) shared by every
test; `dbt run` for the dbt-overhead reference is skipped to keep it short."""

from __future__ import annotations

import json

import pytest

from benchmarks.harness import (
    CX_SOURCES,
    INCREMENTAL_STAGES,
    STAGES,
    run_scale,
    write_result,
    write_summary,
)
from ingestion.vendors import SOURCES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    record = run_scale(0.02, workdir=tmp / "work", echo=lambda _: None, measure_dbt_run=False)
    results = tmp / "results"
    path = write_result(record, results)
    md, png = write_summary(results)
    return json.loads(path.read_text()), md, png


def test_every_stage_timed_with_memory(result):
    r, _, _ = result
    assert r["scale"] == 0.02
    for name in STAGES:
        stage = r["stages"][name]
        assert stage["seconds"] > 0, name
        assert stage["peak_rss_mb"] > 50, name
    assert r["peak_rss_mb"] > 100
    assert r["peak_rss_mb"] == pytest.approx(max(s["peak_rss_mb"] for s in r["stages"].values()))
    assert r["getrusage_maxrss_mb"]["self"] > 100
    # dbt runs in a child process
    assert r["getrusage_maxrss_mb"]["children"] > 50


def test_the_simulator_is_measured_apart(result):
    """The simulator served from a process of its own: its memory is a figure of its own,
    held the whole refresh (its world), and not in the product's."""
    r, _, _ = result
    assert r["simulator_process"] == "own"
    world = r["stages"]["generate"]["world"]  # what the simulator process generated
    assert world["tickets"] > 0 and world["employees"] > 0
    for name in STAGES:
        # the world is held from generation to the end: python + numpy + pandas + the frames
        assert r["stages"][name]["simulator_peak_rss_mb"] > 50, name
    assert r["simulator_peak_rss_mb"] == pytest.approx(
        max(s["simulator_peak_rss_mb"] for s in r["stages"].values())
    )
    # the simulator generates while the benchmark process waits: generation's peak is its own
    generate = r["stages"]["generate"]
    assert generate["simulator_peak_rss_mb"] > 0 and generate["peak_rss_mb"] > 0
    for case in r["incremental"].values():
        assert case["simulator_peak_rss_mb"] > 50


def test_total_covers_the_stages(result):
    r, _, _ = result
    stages = sum(r["stages"][n]["seconds"] for n in STAGES)
    assert stages <= r["total_seconds"] <= stages * 1.05 + 2


def test_ingest_per_source(result):
    r, _, _ = result
    sources = r["stages"]["ingest"]["sources"]
    assert set(sources) == set(SOURCES)
    for name, s in sources.items():
        assert s["rows"] > 0, name
        assert s["seconds"] > 0, name
        assert s["rows_per_second"] == pytest.approx(s["rows"] / s["seconds"]), name
    assert r["rows_ingested"] == sum(s["rows"] for s in sources.values())
    assert r["stages"]["ingest"]["seconds"] >= sum(s["seconds"] for s in sources.values())
    assert r["stages"]["quality"]["suites"] > 0
    assert r["stages"]["publish"]["rows"] > 0


FORMAT_LIMIT_FEEDS = ("tickets", "ticket_events", "ticket_metric_events")


def test_format_limit_reference(result):
    r, _, _ = result
    ref = r["reference"]["format_limit"]
    assert all(ref["rows"][feed] > 0 for feed in FORMAT_LIMIT_FEEDS)
    assert ref["rows_loaded"] == ref["rows"]
    assert ref["read_json_seconds"] > 0
    assert ref["ratio"] == pytest.approx(ref["zendesk_ingest_seconds"] / ref["read_json_seconds"])


def test_dbt_overhead_reference(result):
    r, _, _ = result
    ref = r["reference"]["dbt_overhead"]
    assert ref["models"] > 50
    assert ref["materialized"]["view"] > 0 and ref["materialized"]["table"] > 0
    assert ref["raw_tables_copied"] > 0 and ref["raw_rows_copied"] > 0
    assert ref["direct_sql_seconds"] > 0
    assert ref["dbt_build_seconds"] == r["stages"]["dbt_build"]["seconds"]
    assert ref["ratio"] == pytest.approx(ref["dbt_build_seconds"] / ref["direct_sql_seconds"])
    # dbt adds process start, parsing, tests and metadata queries to the same SQL
    assert ref["ratio"] > 1
    assert ref["dbt_run_seconds"] is None and ref["ratio_run"] is None  # skipped here


def test_incremental_case(result):
    r, _, _ = result
    inc = r["incremental"]
    assert set(inc) == {"cx_refresh", "nightly_refresh"}
    assert inc["cx_refresh"]["sources"] == list(CX_SOURCES)
    assert inc["nightly_refresh"]["sources"] == list(SOURCES)
    assert inc["cx_refresh"]["clock"] < inc["nightly_refresh"]["clock"]
    for name, case in inc.items():
        assert case["advanced_days"] == 1, name
        for stage in INCREMENTAL_STAGES:
            assert case["stages"][stage]["seconds"] > 0, (name, stage)
            assert case["stages"][stage]["peak_rss_mb"] > 50, (name, stage)
        stages = sum(case["stages"][n]["seconds"] for n in INCREMENTAL_STAGES)
        assert stages <= case["total_seconds"] <= stages * 1.05 + 2, name
        sources = case["stages"]["ingest"]["sources"]
        assert set(sources) == set(case["sources"]), name
        assert case["rows_ingested"] == sum(s["rows"] for s in sources.values()), name
        # one day of new records: some, and far fewer than the full refresh loaded
        assert 0 < case["rows_ingested"] < r["rows_ingested"] / 2, name
        assert case["rows_per_second"] > 0, name
        assert case["peak_rss_mb"] == pytest.approx(
            max(s["peak_rss_mb"] for s in case["stages"].values())
        )
        assert case["stages"]["quality"]["suites"] > 0, name
        assert case["stages"]["quality"]["failed"] == [], name
        assert case["stages"]["publish"]["rows"] > 0, name
        assert case["stages"]["dbt_build"]["nodes"].get("model_success", 0) > 0, name
    # the CX refresh builds a subset of what the nightly builds, and checks a subset
    cx, nightly = inc["cx_refresh"]["stages"], inc["nightly_refresh"]["stages"]
    assert (
        cx["dbt_build"]["nodes"]["model_success"] < nightly["dbt_build"]["nodes"]["model_success"]
    )
    assert cx["quality"]["suites"] < nightly["quality"]["suites"]


def test_machine_described(result):
    r, _, _ = result
    m = r["machine"]
    assert m["cores_logical"] >= 1 and m["memory_gib"] > 0 and m["python"]
    for dist in ("duckdb", "dlt", "dbt-core"):
        assert m["versions"][dist], dist


def test_summary_and_plot(result):
    r, md, png = result
    text = md.read_text()
    assert "| 0.02 |" in text and "zendesk" in text
    # the product's peak RSS and the simulator's, in columns of their own
    assert "| product peak RSS MB | simulator peak RSS MB |" in text
    row = next(line for line in text.splitlines() if line.startswith(f"| {r['date']} | 0.02 | "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert f"{r['peak_rss_mb']:,.0f}" in cells and f"{r['simulator_peak_rss_mb']:,.0f}" in cells
    assert "cx_refresh" in text and "nightly_refresh" in text and "build / direct" in text
    assert png is not None and png.stat().st_size > 0


def test_history_runs_are_kept_apart(result, tmp_path):
    """A run without reference points (`--history-days`) is written under history/ and
    summarised in its own table, leaving the per-scale tables to the full runs."""
    r, _, _ = result
    assert r["history_days"] == 730  # the simulator's default, recorded
    for days in (91, 365):
        write_result(r | {"reference": {}, "history_days": days}, tmp_path)
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == [
        f"{r['date']}-0.02-h365.json",
        f"{r['date']}-0.02-h91.json",
    ]
    md, _ = write_summary(tmp_path)
    text = md.read_text()
    before, history = text.split("## One-day refreshes vs length of history")
    assert "| 0.02 | 91 |" in history and "| 0.02 | 365 |" in history
    assert "## Full refresh" in before and "| 0.02 |" not in before


def test_backfill_projection(tmp_path):
    """A full and a one-day load traced, replayed through the vendors' rate limits."""
    from benchmarks.backfill import load_backfills, run_backfill, write_backfill

    record = run_backfill(0.02, workdir=tmp_path / "work", echo=lambda _: None)
    full, daily = record["backfill"]["loads"]["full"], record["backfill"]["loads"]["daily"]
    assert set(full["sources"]) == set(daily["sources"]) == set(SOURCES)
    zendesk = full["sources"]["zendesk"]
    # more export pages than a minute allows: the limit makes the loader wait
    assert zendesk["requests_by_limit"]["incremental_exports"] > 10
    assert zendesk["refusals"] > 0 and zendesk["limit_wait_seconds"] > 0
    assert (
        zendesk["projected_seconds"] == zendesk["measured_seconds"] + zendesk["limit_wait_seconds"]
    )
    assert 0 < daily["total"]["requests"] < full["total"]["requests"]
    assert not full["total"]["fails"] and not daily["total"]["fails"]
    write_backfill(record, tmp_path / "results")
    assert load_backfills(tmp_path / "results") == [record]
    md, _ = write_summary(tmp_path / "results")
    assert (
        "## Backfill planning" in md.read_text() and "| 0.02 | full | zendesk |" in md.read_text()
    )
