"""Smoke test of the benchmark harness: a tiny scale, results written to a temp dir."""

from __future__ import annotations

import json

import pytest

from benchmarks.harness import STAGES, run_scale, write_result, write_summary
from ingestion.pipeline import SOURCES


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    record = run_scale(0.02, workdir=tmp / "work", echo=lambda _: None)
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


def test_format_limit_reference(result):
    r, _, _ = result
    ref = r["reference"]["format_limit"]
    assert ref["rows"]["tickets"] > 0 and ref["rows"]["ticket_events"] > 0
    assert ref["rows_loaded"] == ref["rows"]
    assert ref["read_json_seconds"] > 0
    assert ref["ratio"] == pytest.approx(ref["zendesk_ingest_seconds"] / ref["read_json_seconds"])


def test_machine_described(result):
    r, _, _ = result
    m = r["machine"]
    assert m["cores_logical"] >= 1 and m["memory_gib"] > 0 and m["python"]
    for dist in ("duckdb", "dlt", "dbt-core"):
        assert m["versions"][dist], dist


def test_summary_and_plot(result):
    _, md, png = result
    text = md.read_text()
    assert "| 0.02 |" in text and "zendesk" in text
    assert png is not None and png.stat().st_size > 0
