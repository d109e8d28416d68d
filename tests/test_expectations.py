"""Quality gates: every GX suite passes on clean simulator data; each failure mode fails one
specific expectation with a readable message; blocking (mart) suites stop the publish, warning
(raw) suites do not; the Data Docs index lists every suite's latest result. The mart rules that
live in dbt (row-level rules; GX keeps the marts' volumes) fail on planted bad rows.

Tampering happens in a private copy of the built warehouse (`built_warehouse` is read-only)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from expectations import all_specs, run_suites
from expectations.raw import MAX_OUT_OF_SCALE_SHARE, MAX_QUARANTINE_SHARE, MIN_VOLUME_RATIO
from expectations.runner import docs_index, read_docs_index
from expectations.state import read_volume_baseline
from warehouse.dbt import DbtError, run_dbt

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


@pytest.mark.slow
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


def empty_mart(data_dir: Path, mart: str = "cx_metrics_monthly") -> None:
    """A mart built empty: every dbt test on it passes vacuously; its GX volume suite must not."""
    sql(data_dir, f"delete from marts.{mart}")


def test_an_empty_or_short_mart_fails_its_blocking_volume_suite(data_dir):
    empty_mart(data_dir)
    sql(data_dir, "delete from marts.xm_link_summary where ex_metric = 'enps'")  # 10 of 15 pairs
    results = run_suites(names=["marts.cx_metrics_monthly", "marts.xm_link_summary"])
    assert [r.suite for r in results if r.success] == []
    cx, link = (only(results, f"marts.{m}") for m in ("cx_metrics_monthly", "xm_link_summary"))
    assert cx.blocking and link.blocking
    ((cx_failure,), (link_failure,)) = cx.failures, link.failures
    assert cx_failure.column == "row_count" and cx_failure.observed == 0
    assert cx_failure.message == (
        "cx_metrics_monthly holds at least 1 row: observed 0 (expected >= 1)"
    )
    assert link_failure.observed == 10
    assert link_failure.message == (
        "xm_link_summary holds exactly 15 rows: observed 10 (expected between 15 and 15)"
    )

    # the Data Docs index shows this latest (failed) result
    assert read_docs_index()["marts.cx_metrics_monthly"] == ["Failed"]
    assert "row_count" in cx.docs_page.read_text()


# The rules of the marts that live in dbt (moved there from the GX mart suites, or extended
# there), one planted bad row each: (the dbt test that must fail on exactly that row, the
# planting). The built warehouse ran `dbt build`, so each of these tests passed on clean data.
# Each planting breaks one rule only (e.g. a ratio tampered where it is no part of another).
CX = "marts.cx_metrics_monthly"
SEG = "marts.cx_segment_monthly"
EX = "marts.ex_metrics_monthly"
XM = "marts.xm_team_monthly"


def _first(table: str, where: str, order: str = "month", offset: int = 0) -> str:
    return f"(select rowid from {table} where {where} order by {order} limit 1 offset {offset})"


def _second_month(table: str, where: str = "true") -> str:
    return (
        f"delete from {table} where {where} and month = "
        f"(select distinct month from {table} where {where} order by month limit 1 offset 1)"
    )


DBT_MART_RULES: list[tuple[str, str]] = [
    # cx_metrics_monthly
    ("months_without_gaps: cx_metrics_monthly.month", _second_month(CX)),
    *[
        (
            f"ratio_matches_parts: cx_metrics_monthly.{ratio}",
            f"update {CX} set {change} where rowid = {_first(CX, where)}",
        )
        for ratio, change, where in [
            ("csat", "csat = csat / 2", "csat > 0"),
            ("ces", "ces = null", "ces_responses > 0"),
            ("resolution_rate", "resolution_rate = resolution_rate / 2", "resolution_rate > 0"),
            ("one_touch_rate", "one_touch_rate = null", "solved_tickets > 0"),
            ("reopen_rate", "reopen_rate = reopen_rate / 2", "reopen_rate > 0"),
            ("churn_rate", "churn_rate = null", "churn_rate is not null"),
            ("retention_rate", "retention_rate = retention_rate - 0.25", "retention_rate >= 0.25"),
        ]
    ],
    (
        "assert_cx_metric_ranges",  # median business minutes above median calendar minutes
        f"update {CX} set first_reply_median_business_minutes = "
        f"first_reply_median_calendar_minutes + 60 "
        f"where rowid = {_first(CX, 'first_reply_median_calendar_minutes is not null')}",
    ),
    (
        "assert_cx_ticket_timeline_ordered",  # a reply without its calendar minutes
        "update marts.fct_tickets set first_reply_calendar_minutes = null, "
        "first_reply_business_minutes = null where ticket_id = "
        "(select min(ticket_id) from marts.fct_tickets where first_reply_at is not null)",
    ),
    # cx_segment_monthly
    (
        "months_without_gaps: cx_segment_monthly.month",
        _second_month(SEG, f"segment = (select min(segment) from {SEG})"),
    ),
    *[
        (
            f"ratio_matches_parts: cx_segment_monthly.{ratio}",
            f"update {SEG} set {change} where rowid = {_first(SEG, where, 'segment, month')}",
        )
        for ratio, change, where in [
            ("churn_rate", "churn_rate = null", "churn_rate is not null"),
            (
                "annual_churn_rate",
                "trailing_12m_churned = trailing_12m_churned + 1",
                "trailing_12m_churned < trailing_12m_customers_start",
            ),
            (
                "expected_lifetime_years",
                "expected_lifetime_years = 2 * expected_lifetime_years",
                "expected_lifetime_years > 0",
            ),
            ("clv", "clv = 2 * clv", "clv > 0"),
        ]
    ],
    (
        "assert_cx_segment_metric_ranges",  # a negative contract value (no CLV that month)
        f"update {SEG} set average_annual_contract_value = -1 "
        f"where rowid = {_first(SEG, 'annual_churn_rate is null', 'segment, month')}",
    ),
    # ex_metrics_monthly and xm_team_monthly
    ("months_without_gaps: ex_metrics_monthly.month", _second_month(EX)),
    ("months_without_gaps: xm_team_monthly.month", _second_month(XM)),
    *[
        (
            f"ratio_matches_parts: {table.split('.')[1]}.{ratio}",
            f"update {table} set {change} where rowid = {_first(table, where, order)}",
        )
        for table, order in ((EX, "month, department"), (XM, "month, team"))
        for ratio, change, where in [
            # no separations that month: the turnover rates do not depend on it
            (
                "average_headcount",
                "average_headcount = average_headcount / 2",
                "separations = 0 and average_headcount > 0",
            ),
            ("turnover_rate", "turnover_rate = null", "average_headcount > 0"),
            ("enps", "enps = enps + 1", "not is_suppressed and enps <= 99"),
            ("engagement", "engagement = engagement - 1", "not is_suppressed and engagement >= 1"),
        ]
    ],
    *[
        (
            f"ratio_matches_parts: ex_metrics_monthly.{ratio}",
            f"update {EX} set {ratio} = "
            f"{ratio} + 0.25 where rowid = {_first(EX, f'{ratio} is not null', 'month, department')}",
        )
        for ratio in ("voluntary_turnover_rate", "involuntary_turnover_rate")
    ],
    (
        "assert_ex_metric_ranges",  # more favorable answers than answers, engagement to match
        f"update {EX} set engagement_favorable = engagement_answers + 1, "
        f"engagement = 100.0 * (engagement_answers + 1) / engagement_answers "
        f"where rowid = {_first(EX, 'not is_suppressed', 'month desc, department desc')}",
    ),
    (
        "assert_ex_metrics_headcount_reconciles",  # one more at the end, no flow to explain it
        f"update {EX} set headcount_end = headcount_end + 1, "
        f"average_headcount = (headcount_start + headcount_end + 1) / 2 where rowid = "
        f"{_first(EX, 'separations = 0 and average_headcount > 0', 'month, department', 1)}",
    ),
    *[
        (
            f"ratio_matches_parts: xm_team_monthly.{ratio}",
            f"update {XM} set {change} where rowid = {_first(XM, where, 'month, team')}",
        )
        for ratio, change, where in [
            ("csat", "csat = csat - 1", "csat >= 1"),
            ("one_touch_rate", "one_touch_rate = null", "tickets_solved > 0"),
            ("sla_attainment", "sla_attainment = null", "sla_achieved + sla_breached > 0"),
        ]
    ],
    (
        "assert_xm_team_metric_ranges",  # more satisfied CSAT answers than answers, CSAT to match
        f"update {XM} set csat_satisfied = csat_responses + 1, "
        f"csat = 100.0 * (csat_responses + 1) / csat_responses "
        f"where rowid = {_first(XM, 'csat_responses > 0', 'month desc, team desc')}",
    ),
    (
        "assert_xm_pearson_r_matches_definition",  # one pair's n off its team-months
        "update marts.xm_link_summary set n = n + 1 where rowid = "
        f"{_first('marts.xm_link_summary', 'true', 'ex_metric, cx_metric')}",
    ),
    # identity_match_rates
    (
        "ratio_matches_parts: identity_match_rates.match_rate",
        "update marts.identity_match_rates set match_rate = match_rate / 2 "
        "where link = 'nps_respondent_contact'",
    ),
    (
        "identity_match_rates_parts_add_up",
        "update marts.identity_match_rates set unmatched = unmatched + 1 "
        "where link = 'organization_customer'",
    ),
    (
        "identity_match_rates_rate_is_a_fraction",  # parts and ratio agree, but matched > total
        "update marts.identity_match_rates set matched = 2 * total, unmatched = -total, "
        "match_rate = 2.0 where link = 'agent_employee'",
    ),
    # dimensions
    (
        "dim_employees_hired_before_terminated",
        "update marts.dim_employees set termination_date = hire_date - 1 where employee_id = "
        "(select min(employee_id) from marts.dim_employees where termination_date is not null)",
    ),
    (
        "dim_employees_original_hire_first",
        "update marts.dim_employees set original_hire_date = hire_date + 1 "
        "where employee_id = (select min(employee_id) from marts.dim_employees)",
    ),
    (
        "dim_employees_termination_type_needs_date",
        "update marts.dim_employees set termination_type = 'voluntary' where employee_id = "
        "(select min(employee_id) from marts.dim_employees where termination_date is null)",
    ),
    (
        "dim_customers_churned_after_customer_since",
        "update marts.dim_customers set churned_date = customer_since_date - 1 where customer_id "
        "= (select min(customer_id) from marts.dim_customers where customer_since_date is not null)",
    ),
    # SLAs
    (
        "ratio_matches_parts: cx_sla_monthly.attainment",
        "update marts.cx_sla_monthly set attainment = attainment / 2 where rowid = "
        f"{_first('marts.cx_sla_monthly', 'attainment > 0', 'month, sla_metric, priority, team')}",
    ),
    (
        "fct_sla_outcomes_decided_rows_have_an_outcome_time",
        "update marts.fct_sla_outcomes set outcome_at = null where sla_instance_id = "
        "(select min(sla_instance_id) from marts.fct_sla_outcomes where status = 'achieved')",
    ),
    (
        "sla_cross_check_every_disagreement_has_a_reason",
        "update marts.sla_cross_check set agrees = false where sla_instance_id = "
        "(select min(sla_instance_id) from marts.sla_cross_check where agrees)",
    ),
    # the journey
    (
        "fct_customer_stage_spells_exit_after_entry",
        "update marts.fct_customer_stage_spells set exited_at = entered_at where spell_id = "
        "(select min(spell_id) from marts.fct_customer_stage_spells where exited_at is not null)",
    ),
    (
        "fct_customer_stage_spells_current_iff_open",
        "update marts.fct_customer_stage_spells set is_current = true where spell_id = "
        "(select max(spell_id) from marts.fct_customer_stage_spells where exited_at is not null)",
    ),
    (
        "cx_journey_stage_monthly_parts_within_totals",  # more satisfied answers than answers
        "update marts.cx_journey_stage_monthly set csat_satisfied = csat_responses + 1 "
        f"where rowid = {_first('marts.cx_journey_stage_monthly', 'true', 'month, journey_stage')}",
    ),
    (
        "cx_journey_stage_conversion_reached_within_cohort",
        "update marts.cx_journey_stage_conversion set customers_reached = customers_in_cohort + 1 "
        "where rowid = "
        f"{_first('marts.cx_journey_stage_conversion', 'true', 'cohort_month, journey_stage')}",
    ),
    (
        "not_null: fct_tickets.count_reopens",
        "update marts.fct_tickets set count_reopens = null "
        "where ticket_id = (select max(ticket_id) from marts.fct_tickets)",
    ),
]
# the models whose column rules (one test each; each failing row names its rule and column)
# hold a planted break above
COLUMN_RULES_ON = sorted(
    {
        rule.split(": ")[1].split(".")[0]
        for rule, _ in DBT_MART_RULES
        if rule.startswith(("ratio_matches_parts: ", "not_null: "))
    }
)


def _label(node: dict) -> str:
    """A dbt test as named above: `<generic test>: <model>.<column>` for column tests, else its
    name (singular tests, and model tests named in the YAML)."""
    meta = node.get("test_metadata") or {}
    if meta and node.get("column_name"):
        return f"{meta['name']}: {node['attached_node'].split('.')[-1]}.{node['column_name']}"
    return node["name"]


@pytest.mark.slow
def test_mart_rules_in_dbt_fail_on_planted_rows(data_dir, tmp_path):
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        for rule, statement in DBT_MART_RULES:
            ((changed,),) = con.execute(statement).fetchall()
            assert changed > 0, f"nothing planted for {rule}"
    finally:
        con.close()

    expected = {rule: ("fail", 1) for rule, _ in DBT_MART_RULES}
    assert len(expected) == len(DBT_MART_RULES), "one planting per rule"
    target = tmp_path / "dbt_target"
    # every instance of the project's generic mart-rule tests, the column rules of the models
    # planted on, and the singular tests above
    select = [
        "test_name:months_without_gaps",
        "test_name:expression_is_true",
        *(f"test_name:column_rules,{model}" for model in COLUMN_RULES_ON),
        *(rule for rule in expected if rule.startswith("assert_")),
    ]
    with pytest.raises(DbtError, match="dbt test"):
        run_dbt(["test", "--select", *select, "--target-path", str(target)], echo=lambda _: None)

    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    results = json.loads((target / "run_results.json").read_text())["results"]
    outcome: dict[str, tuple[str, int]] = {}
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        for r in results:
            node = nodes[r["unique_id"]]
            if (node.get("test_metadata") or {}).get("name") != "column_rules":
                outcome[_label(node)] = (r["status"], r["failures"])
                continue
            # one test per model: each failing row is one broken rule, named
            model = node["attached_node"].split(".")[-1]
            rows = con.execute(f"select rule, column_name from ({r['compiled_code']})").fetchall()
            assert (r["status"], r["failures"]) == ("fail" if rows else "pass", len(rows)), model
            for rule, column in rows:
                label = f"{rule}: {model}.{column}"
                outcome[label] = (r["status"], outcome.get(label, ("", 0))[1] + 1)
    finally:
        con.close()
    # every rule ran and failed on exactly its planted row, as an error ("fail", not "warn"):
    # blocking, as the GX mart suites they come from were
    assert outcome == expected


@pytest.mark.slow
def test_column_rules_name_each_broken_rule(data_dir, tmp_path):
    """The one test per model holding dbt's not_null, unique, accepted_values and relationships
    (and keys of several columns) fails with one row per broken rule instance, as dbt's own
    tests count: a null cell, a duplicated value (key), a distinct unaccepted value, a row
    whose value its parent model lacks; a null is neither a duplicate, nor an unaccepted
    value, nor an orphan."""
    sla, journey = "marts.fct_sla_outcomes", "marts.cx_journey_stage_monthly"
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        # (only the column_rules tests run below: other rules may break too)
        rows = [
            r[0]
            for r in con.execute(
                f"select sla_instance_id from {sla} order by sla_instance_id limit 6"
            ).fetchall()
        ]
        assert len(rows) == 6, "six SLA instances to plant on"
        # a null target (a null cell); two other rows with one unaccepted status (one failure:
        # a distinct value), one of them taking the first one's id (a duplicated id)
        con.execute(f"update {sla} set target_minutes = null where sla_instance_id = ?", [rows[2]])
        con.execute(
            f"update {sla} set status = 'bogus', "
            f"sla_instance_id = case when sla_instance_id = ? then ? else sla_instance_id end "
            "where sla_instance_id in (?, ?)",
            [rows[0], rows[2], rows[0], rows[1]],
        )
        # a ticket fct_tickets does not hold (an orphan, its parent model upstream)
        con.execute(f"update {sla} set ticket_id = -1 where sla_instance_id = ?", [rows[5]])
        # two null ids (two null cells, not a duplicated value), a null status (a null cell,
        # not an unaccepted value) and a null ticket (a null cell, not an orphan)
        con.execute(
            f"update {sla} set sla_instance_id = null, "
            f"status = case when sla_instance_id = ? then null else status end, "
            f"ticket_id = case when sla_instance_id = ? then null else ticket_id end "
            "where sla_instance_id in (?, ?)",
            [rows[3], rows[4], rows[3], rows[4]],
        )
        # a month with two journey stages: the first takes the second's stage (a duplicated key)
        month, first, second = con.execute(
            f"select month, min(journey_stage), max(journey_stage) from {journey} "
            "group by month having count(*) > 1 order by month limit 1"
        ).fetchone()
        con.execute(
            f"update {journey} set journey_stage = ? where month = ? and journey_stage = ?",
            [second, month, first],
        )
    finally:
        con.close()

    target = tmp_path / "dbt_target"
    models = [m.split(".")[1] for m in (sla, journey)]
    select = [f"test_name:column_rules,{model}" for model in models]
    with pytest.raises(DbtError, match="dbt test"):
        run_dbt(["test", "--select", *select, "--target-path", str(target)], echo=lambda _: None)

    # the two models' own tests (a test reading fct_sla_outcomes as a parent runs too)
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    results = [
        r
        for r in json.loads((target / "run_results.json").read_text())["results"]
        if nodes[r["unique_id"]]["attached_node"].split(".")[-1] in models
    ]
    assert {r["status"] for r in results} == {"fail"} and len(results) == 2
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        failing = Counter(
            tuple(row)
            for r in results
            for row in con.execute(
                f"select rule, column_name, value from ({r['compiled_code']})"
            ).fetchall()
        )
    finally:
        con.close()
    assert failing == Counter(
        [
            ("accepted_values", "status", "bogus"),
            ("unique", "sla_instance_id", rows[2]),
            ("not_null", "target_minutes", None),
            ("not_null", "sla_instance_id", None),
            ("not_null", "sla_instance_id", None),
            ("not_null", "status", None),
            ("not_null", "ticket_id", None),
            ("relationships", "ticket_id", "-1"),
            ("unique", "month, journey_stage", f"{month.isoformat()}, {second}"),
        ]
    )
    assert sorted(r["failures"] for r in results) == [1, 8]


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


@pytest.mark.slow
def test_failed_mart_check_blocks_publish_and_keeps_the_snapshot(data_dir, gate):
    clean = gate("marts")
    evaluations = clean.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [
        e.description for e in evaluations if not e.passed
    ]
    assert publish_started(clean), "on clean marts the gate opens"

    empty_mart(data_dir)
    before = seed_previous_snapshot(data_dir)
    result = gate("marts")
    assert not result.success
    (failed,) = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed.asset_key == dg.AssetKey(["marts", "cx_metrics_monthly"])
    assert failed.check_name == "gx_mart_volume" and failed.blocking
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert "cx_metrics_monthly holds at least 1 row: observed 0" in failed.description
    table = failed.metadata["failed_expectations"].value  # markdown, readable in the UI
    assert "row_count" in table and "expected >= 1" in table
    assert Path(failed.metadata["data_docs"].value).exists()

    assert not publish_started(result), "publish must not run after a failed blocking check"
    assert dg.AssetKey("published_marts") not in {
        e.asset_key for e in result.get_asset_materialization_events()
    }
    path = data_dir / "published" / "marts.duckdb"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.slow
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


@pytest.mark.slow
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
