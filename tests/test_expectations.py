"""Great Expectations quality gates: every suite passes on clean simulator data; each failure
mode fails one specific expectation with a readable message; blocking (mart) suites stop the
publish, warning (raw) suites do not; the Data Docs index lists every suite's latest result.

Tampering happens in a private copy of the built warehouse (`built_warehouse` is read-only)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from expectations import all_specs, run_suites
from expectations.raw import MAX_OUT_OF_SCALE_SHARE, MAX_QUARANTINE_SHARE, MIN_VOLUME_RATIO
from expectations.runner import docs_index, read_docs_index
from expectations.state import read_volume_baseline

ALL_SUITES = {s.name for s in all_specs()}


@pytest.fixture
def data_dir(built_warehouse, tmp_path, monkeypatch) -> Path:
    """A private copy of the built warehouse, as `XM_DATA_DIR` (no GX state, no docs yet)."""
    data = tmp_path / "data"
    data.mkdir()
    for f in built_warehouse.glob("warehouse.duckdb*"):  # the file and a WAL, if any
        shutil.copy2(f, data / f.name)
    monkeypatch.setenv("XM_DATA_DIR", str(data))
    return data


def sql(data_dir: Path, statement: str) -> None:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        con.execute(statement)
    finally:
        con.close()


def only(results, name):
    (result,) = [r for r in results if r.suite == name]
    return result


def failed_messages(result) -> list[str]:
    return [o.message for o in result.failures]


# ------------------------------------------------------------------------------ clean data


def test_every_suite_passes_on_clean_data_and_data_docs_list_them(data_dir):
    first = run_suites(data_dir=data_dir)
    assert {r.suite for r in first} == ALL_SUITES
    assert [r.summary() for r in first if not r.success] == []
    # every suite validated something real: rows, or (column suites) the catalogue
    for r in first:
        assert r.expectations and r.error is None, r.suite
        if not r.suite.endswith(".columns"):
            assert r.rows_validated > 0, f"{r.suite} validated an empty batch"
    # a second refresh compares volumes with the first one's baseline, and still passes
    baseline = read_volume_baseline(data_dir)
    assert baseline["raw_zendesk.tickets"]["rows"] > 0
    second = run_suites(data_dir=data_dir)
    assert [r.summary() for r in second if not r.success] == []
    volume = only(second, "raw_zendesk.volume").batch
    assert (volume["ratio_to_previous"] == 1.0).all()

    # Data Docs: one index in $XM_DATA_DIR/docs/gx listing every suite once, latest result
    index = docs_index()
    assert index == data_dir / "docs" / "gx" / "index.html" and index.exists()
    assert read_docs_index(index) == {name: ["Success"] for name in ALL_SUITES}
    for r in second:
        assert r.docs_page is not None and r.docs_page.exists(), r.suite


# ------------------------------------------------------------------------------ raw (warning)


def test_survey_answers_out_of_scale_beyond_tolerance(data_dir):
    # a fifth of the post-ticket CSAT answers become 9 on a 1-5 scale
    sql(
        data_dir,
        """
        update raw_qualtrics.survey_responses
        set "values" = json_merge_patch("values", '{"QID1": 9}')
        where survey_id = (select id from raw_qualtrics.surveys where name = 'Post-ticket CSAT')
          and hash(response_id) % 5 = 0
        """,
    )
    (result,) = run_suites(names=["raw_qualtrics.survey_responses.answer_scales"])
    assert not result.success and result.severity == "warning"
    (failure,) = result.failures
    assert failure.expectation == "expect_column_values_to_be_between"
    assert failure.column == "out_of_scale_share"
    (row,) = failure.observed
    assert row["survey_name"] == "Post-ticket CSAT" and row["question_id"] == "QID1"
    assert row["out_of_scale_share"] > MAX_OUT_OF_SCALE_SHARE
    assert "outside the question's scale" in failure.message
    assert "survey_name=Post-ticket CSAT, question_id=QID1" in failure.message
    assert "scale_min=1, scale_max=5" in failure.message


def test_a_stream_returning_a_fraction_of_its_usual_volume(data_dir):
    (first,) = run_suites(names=["raw_zendesk.volume"])
    assert first.success  # first validation: nothing to compare with, it records a baseline
    before = read_volume_baseline(data_dir)["raw_zendesk.tickets"]["rows"]

    sql(data_dir, "delete from raw_zendesk.tickets where hash(id) % 10 <> 0")  # ~10% remain
    (result,) = run_suites(names=["raw_zendesk.volume"])
    assert not result.success and result.severity == "warning"
    (failure,) = result.failures
    assert failure.column == "ratio_to_previous"
    (row,) = failure.observed  # only the tickets table, the other streams are as before
    assert row["table_name"] == "tickets" and row["previous_rows"] == before
    assert row["ratio_to_previous"] < MIN_VOLUME_RATIO
    assert f"table_name=tickets, rows={row['rows']}, previous_rows={before}" in failure.message
    assert "far fewer rows" in failure.message
    # the baseline stays at the last good count: the alarm repeats until someone looks
    assert read_volume_baseline(data_dir)["raw_zendesk.tickets"]["rows"] == before
    (again,) = run_suites(names=["raw_zendesk.volume"])
    assert not again.success


def test_quarantine_share_above_threshold(data_dir):
    # 15% of the contacts quarantined: above the GX warning (10%), below dbt's block (20%)
    sql(
        data_dir,
        """
        insert into quarantine.quarantine (source_table, source_key, reason)
        select 'raw_hubspot.contacts', id, 'injected by test'
        from raw_hubspot.contacts
        where hash(id) % 100 < 15
        """,
    )
    (result,) = run_suites(names=["quarantine.share"])
    assert not result.success and result.severity == "warning"
    (failure,) = result.failures
    assert failure.column == "quarantined_share"
    (row,) = failure.observed
    assert row["source_table"] == "raw_hubspot.contacts"
    assert MAX_QUARANTINE_SHARE < row["quarantined_share"] < 0.2
    assert "source_table=raw_hubspot.contacts" in failure.message
    assert f"<= {MAX_QUARANTINE_SHARE:.0%}" in failure.message


# ------------------------------------------------------------------------------ marts (blocking)


def tamper_nps(data_dir: Path) -> str:
    """One month's NPS parts no longer add up to its respondents; returns that month."""
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        (month,) = con.execute(
            "select min(month) from marts.cx_metrics_monthly where nps_respondents > 0"
        ).fetchone()
        con.execute(
            "update marts.cx_metrics_monthly set nps_promoters = nps_promoters + 1 where month = ?",
            [month],
        )
    finally:
        con.close()
    return month.isoformat()


def test_nps_parts_that_do_not_add_up_fail_the_blocking_mart_suite(data_dir):
    month = tamper_nps(data_dir)
    (result,) = run_suites(names=["marts.cx_metrics_monthly"])
    assert not result.success and result.blocking
    parts = [f for f in result.failures if f.expectation == "expect_column_pair_values_to_be_equal"]
    (failure,) = parts
    assert failure.column == "nps_parts, nps_respondents"
    (row,) = failure.observed
    assert row["month"] == month and row["nps_parts"] == row["nps_respondents"] + 1
    assert failure.message.startswith("NPS promoters + passives + detractors = nps_respondents")
    assert f"month={month}" in failure.message
    # the NPS ratio no longer matches its parts either; nothing else is reported
    assert {f.column for f in result.failures} == {"nps_parts, nps_respondents", "nps_vs_parts"}

    # the Data Docs index shows this latest (failed) result
    assert read_docs_index()["marts.cx_metrics_monthly"] == ["Failed"]
    assert "nps_respondents" in result.docs_page.read_text()


# ------------------------------------------------------------------------------ Dagster


@pytest.fixture(scope="module")
def gate():
    """The code location plus a job running only the GX checks of the given layer and the
    publish: the marts are already built in the copy, so no dbt run undoes the tampering."""
    from dagster_project.definitions import defs as load_defs
    from dagster_project.defs.quality.checks import gx_check_keys

    defs = load_defs()

    def run(layer: str) -> dg.ExecuteInProcessResult:
        job = dg.define_asset_job(
            f"gx_{layer}_then_publish",
            selection=dg.AssetSelection.assets("published_marts")
            | dg.AssetSelection.checks(*gx_check_keys(layer)),
        )
        merged = dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
        with dg.instance_for_test() as instance:
            return merged.resolve_job_def(job.name).execute_in_process(
                instance=instance, raise_on_error=False
            )

    return run


def publish_started(result: dg.ExecuteInProcessResult) -> bool:
    return any(
        e.event_type_value == "STEP_START" and e.step_key == "published_marts"
        for e in result.all_events
    )


def seed_previous_snapshot(data_dir: Path) -> str:
    """A previous good snapshot for BI readers; returns its hash."""
    path = data_dir / "published" / "marts.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create table previous_refresh as select 'good' as state")
    con.close()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_failed_mart_check_blocks_publish_and_keeps_the_snapshot(data_dir, gate):
    clean = gate("marts")
    evaluations = clean.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [
        e.description for e in evaluations if not e.passed
    ]
    assert publish_started(clean), "on clean marts the gate opens"

    month = tamper_nps(data_dir)
    before = seed_previous_snapshot(data_dir)
    result = gate("marts")
    assert not result.success
    (failed,) = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed.asset_key == dg.AssetKey(["marts", "cx_metrics_monthly"])
    assert failed.check_name == "gx_invariants" and failed.blocking
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert "NPS promoters + passives + detractors = nps_respondents" in failed.description
    table = failed.metadata["failed_expectations"].value  # markdown, readable in the UI
    assert "nps_parts, nps_respondents" in table and month in table
    assert Path(failed.metadata["data_docs"].value).exists()

    assert not publish_started(result), "publish must not run after a failed blocking check"
    assert dg.AssetKey("published_marts") not in {
        e.asset_key for e in result.get_asset_materialization_events()
    }
    path = data_dir / "published" / "marts.duckdb"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_failed_raw_check_warns_without_blocking_publish(data_dir, gate):
    sql(
        data_dir,
        """
        update raw_qualtrics.survey_responses
        set "values" = json_merge_patch("values", '{"QID1": 9}')
        where survey_id = (select id from raw_qualtrics.surveys where name = 'Post-ticket CSAT')
          and hash(response_id) % 5 = 0
        """,
    )
    result = gate("raw")
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key, e.check_name) for e in failed] == [
        (dg.AssetKey(["raw_qualtrics", "survey_responses"]), "gx_answer_scales")
    ]
    assert failed[0].severity == dg.AssetCheckSeverity.WARN and not failed[0].blocking
    assert "Post-ticket CSAT" in failed[0].description
    assert publish_started(result), "a warning does not stop the refresh"


def test_the_code_location_does_not_import_great_expectations(tmp_path):
    """GX costs seconds to import: only the check functions import it, at run time."""
    code = textwrap.dedent(
        """
        import sys
        import dagster_project.defs.quality.checks as checks
        assert checks.gx_dbt_models and checks.raw_checks
        print("great_expectations" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "XM_DATA_DIR": str(tmp_path)},
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
