"""Staging and quarantine against raw, on the dirty test world (`built_warehouse`).

Nothing is lost, nothing is double counted: every raw row is a staged row, a quarantined
row, or an older copy of a record whose latest version is staged or quarantined. The counts
here are recomputed from raw and from the seed files, not read back from the base models.
The parsing edge cases the small world may not contain (a HubSpot close date written with
an offset, impossible dates) are pinned by the dbt unit tests, which `dbt build` runs.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from expectations.raw_tables import DBT_DIR, raw_tables

SEEDS = DBT_DIR / "seeds"
ANSWERS = "raw_qualtrics.survey_responses"


def reconciled(dbt_dir: Path = DBT_DIR) -> dict[str, tuple[str, str, str, str]]:
    """raw table -> (staging model, key of a raw row, key of a staged row, FROM clause over
    `raw`): the tables and key expressions of the raw-table registry (dbt_project.yml `vars:
    raw_tables`), keys compared as text. The counts below are recomputed from raw."""
    return {
        name: (
            t.staging_model,
            f"cast({t.raw_key} as varchar)",
            f"cast({t.staged_key} as varchar)",
            t.from_clause,
        )
        for name, t in raw_tables(dbt_dir).items()
        if t.staging_model
    }


RECONCILED = reconciled()
# dlt child tables folded into their parent's staging model or not needed by the contract:
# the registry's tables without a staging model, and child tables it does not list
NOT_STAGED = {name for name, t in raw_tables().items() if not t.staging_model} | {
    "raw_hubspot.deal_companies__association_types",  # association labels (all "Primary")
    "raw_zendesk.tickets__custom_fields",
    "raw_zendesk.tickets__fields",
    "raw_zendesk.tickets__tags",
}
TERMINATION_TYPES = {
    "Resignation (Voluntary)": "voluntary",
    "Termination (Involuntary)": "involuntary",
}
KNOWN_REASONS = re.compile(
    r"missing primary key|missing [a-z_]+|unparseable (timestamp|date|amount)"
    r"|unknown (deal stage|ticket status|time zone|survey kind|lifecycle stage)"
    r"|unsupported event (type|field)|invalid (interval|date range)"
    r"|orphan reference: [a-z ]+|non-numeric answer|answer out of range"
    r"|won deal without (company association|a valid contract period)"
)


@pytest.fixture(scope="module")
def db(built_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(built_warehouse / "warehouse.duckdb"), read_only=True)
    try:
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()[0]


def quarantined(con, source_table: str, *, answers: bool = False) -> dict[str, str]:
    """{source_key: reason} of one raw table's quarantine rows (row- or answer-level)."""
    answer_level = "source_key like '%:%'" if answers else "source_key not like '%:%'"
    if source_table != ANSWERS:
        answer_level = "true"
    return dict(
        rows(
            con,
            f"select source_key, reason from quarantine.quarantine"
            f" where source_table = ? and {answer_level}",
            [source_table],
        )
    )


# ---- reconciliation ------------------------------------------------------------------
def test_every_raw_table_is_staged_or_deliberately_left_out(db):
    raw_tables = {
        f"{schema}.{table}"
        for schema, table in rows(
            db,
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('raw_hubspot', 'raw_zendesk', 'raw_bamboohr', 'raw_qualtrics')"
            " and table_name not like '\\_dlt%' escape '\\'",
        )
    }
    assert raw_tables - NOT_STAGED == set(RECONCILED)


@pytest.mark.parametrize("source_table", sorted(RECONCILED))
def test_raw_rows_are_staged_quarantined_or_superseded(db, source_table):
    model, raw_key, staged_key, from_clause = RECONCILED[source_table]
    raw_rows, keyed_rows, distinct_keys = db.execute(
        f"select count(*), count({raw_key}), count(distinct {raw_key}) from {from_clause}"
    ).fetchone()
    superseded = keyed_rows - distinct_keys  # older copies of a record
    staged = [key for (key,) in rows(db, f"select {staged_key} from staging.{model}")]
    rejected = quarantined(db, source_table)

    assert raw_rows == len(staged) + len(rejected) + superseded
    # ... and each record is in exactly one place
    raw_keys = {key for (key,) in rows(db, f"select distinct {raw_key} from {from_clause}")}
    assert len(staged) == len(set(staged))
    assert not set(staged) & set(rejected)
    missing_key = {key for key in rejected if key.startswith("_dlt_id=")}
    assert set(staged) | (set(rejected) - missing_key) == raw_keys - {None}
    assert len(missing_key) == raw_rows - keyed_rows
    assert all(KNOWN_REASONS.fullmatch(reason) for reason in rejected.values())


def _scored_questions(db) -> dict[str, dict[str, tuple[str, int, int]]]:
    """{survey_id: {question_id: (role, scale_min, scale_max)}} from raw surveys and the seeds."""
    with open(SEEDS / "qualtrics_survey_kinds.csv") as f:
        kinds = {r["survey_name"]: r["survey_kind"] for r in csv.DictReader(f)}
    with open(SEEDS / "qualtrics_question_roles.csv") as f:
        roles = {
            (r["survey_kind"], r["question_id"]): (
                r["question_role"],
                int(r["scale_min"]),
                int(r["scale_max"]),
            )
            for r in csv.DictReader(f)
            if r["question_role"] != "text"
        }
    scored: dict[str, dict[str, tuple[str, int, int]]] = {}
    for survey_id, name in rows(db, "select id, name from raw_qualtrics.surveys"):
        kind = kinds.get(name.strip())
        scored[survey_id] = {q: spec for (k, q), spec in roles.items() if k == kind}
    return scored


def _staged_raw_responses(db) -> dict[str, tuple[str, dict]]:
    """{response_id: (survey_id, values)} from raw, for the responses staging kept."""
    kept = {
        r for (r,) in rows(db, "select response_id from staging.stg_qualtrics__survey_responses")
    }
    return {
        response_id: (survey_id, json.loads(values))
        for response_id, survey_id, values in rows(
            db, "select response_id, survey_id, values from raw_qualtrics.survey_responses"
        )
        if response_id in kept
    }


def _raw_answers(db) -> dict[str, object]:
    """{"<response_id>:<question_id>": value} of every scored answer in the raw JSON of the
    responses staging kept (an unanswered question has no key, so no answer)."""
    scored = _scored_questions(db)
    return {
        f"{response_id}:{question_id}": values[question_id]
        for response_id, (survey_id, values) in _staged_raw_responses(db).items()
        for question_id in scored[survey_id]
        if question_id in values
    }


def test_raw_answers_are_staged_or_quarantined_one_by_one(db):
    raw = _raw_answers(db)
    staged = {
        f"{r}:{q}": score
        for r, q, score in rows(
            db, "select response_id, question_id, score from staging.stg_qualtrics__survey_answers"
        )
    }
    rejected = quarantined(db, ANSWERS, answers=True)
    assert len(raw) == len(staged) + len(rejected)
    assert set(raw) == set(staged) | set(rejected)
    assert not set(staged) & set(rejected)


def test_each_answer_lands_where_its_value_says(db):
    scored = _scored_questions(db)
    raw = _raw_answers(db)
    staged = dict(
        (f"{r}:{q}", score)
        for r, q, score in rows(
            db, "select response_id, question_id, score from staging.stg_qualtrics__survey_answers"
        )
    )
    survey_of = dict(
        rows(db, "select response_id, survey_id from staging.stg_qualtrics__survey_responses")
    )
    rejected = quarantined(db, ANSWERS, answers=True)
    seen = {"non-numeric answer": 0, "answer out of range": 0}
    for key, value in raw.items():
        response_id, question_id = key.split(":")
        _, low, high = scored[survey_of[response_id]][question_id]
        if isinstance(value, str) and not re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
            assert rejected[key] == "non-numeric answer", key
            seen["non-numeric answer"] += 1
        elif float(value) != int(float(value)) or not low <= float(value) <= high:
            assert rejected[key] == "answer out of range", key
            seen["answer out of range"] += 1
        else:
            assert staged[key] == int(float(value)), key
    # the dirty world has both kinds, and the "N/A" answers are among the non-numeric ones
    assert seen["non-numeric answer"] > 0 and seen["answer out of range"] > 0
    assert sum(1 for v in raw.values() if v == "N/A") == seen["non-numeric answer"]


def test_unanswered_questions_are_neither_staged_nor_quarantined(db):
    scored = _scored_questions(db)
    responses = _staged_raw_responses(db)
    questions = sum(len(scored[survey_id]) for survey_id, _ in responses.values())
    skipped = sum(
        1
        for survey_id, values in responses.values()
        for question_id in scored[survey_id]
        if question_id not in values
    )
    assert skipped > 0  # dirt: a QID omitted from values
    staged = one(db, "select count(*) from staging.stg_qualtrics__survey_answers")
    rejected = len(quarantined(db, ANSWERS, answers=True))
    assert staged + rejected == questions - skipped


# ---- the dirt, case by case ---------------------------------------------------------
def test_staged_emails_are_lower_case_and_trimmed(db):
    for model, column in [
        ("stg_hubspot__contacts", "email"),
        ("stg_zendesk__users", "email"),
        ("stg_bamboohr__employees", "work_email"),
        ("stg_qualtrics__survey_responses", "respondent_email"),
    ]:
        emails = [e for (e,) in rows(db, f"select {column} from staging.{model}") if e is not None]
        assert emails, model
        assert all(e == e.strip().lower() and e for e in emails), model
    # the noisy raw values were normalised, not dropped
    noisy = rows(
        db,
        "select raw.properties__email, stg.email from raw_hubspot.contacts as raw"
        " join staging.stg_hubspot__contacts as stg on raw.id = stg.contact_id"
        " where raw.properties__email <> lower(trim(raw.properties__email))",
    )
    assert noisy and all(stg == raw.strip().lower() for raw, stg in noisy)
    noisy = rows(
        db,
        "select raw.email, stg.email from raw_zendesk.users as raw"
        " join staging.stg_zendesk__users as stg on raw.id = stg.user_id"
        " where raw.email <> lower(trim(raw.email))",
    )
    assert noisy and all(stg == raw.strip().lower() for raw, stg in noisy)


def test_no_empty_vendor_date_reaches_staging(db):
    empty = rows(
        db,
        "select raw.termination_date, stg.termination_date from raw_bamboohr.employees as raw"
        " join staging.stg_bamboohr__employees as stg on raw.id = stg.employee_id"
        " where raw.termination_date in ('0000-00-00', '')",
    )
    assert {raw for raw, _ in empty} == {"0000-00-00", ""}  # both spellings are in the world
    assert all(stg is None for _, stg in empty)
    # no text column anywhere in staging holds the placeholder, no date column a year-0 date
    for table, column, data_type in rows(
        db,
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = 'staging' and table_name like 'stg\\_%' escape '\\'"
        " and data_type in ('VARCHAR', 'DATE')",
    ):
        if data_type == "VARCHAR":
            hits = one(
                db, f"select count(*) from staging.{table} where {column} like '%0000-00-00%'"
            )
            assert hits == 0, (table, column)
        else:
            oldest = one(db, f"select min({column}) from staging.{table}")
            assert oldest is None or oldest >= date(1900, 1, 1), (table, column)


def test_timestamps_keep_the_instant_the_vendor_sent(db):
    deals = rows(
        db,
        "select raw.properties__closedate, stg.close_at from raw_hubspot.deals as raw"
        " join staging.stg_hubspot__deals as stg on raw.id = stg.deal_id"
        " where raw.properties__closedate is not null",
    )
    assert deals
    for sent, staged in deals:
        assert staged == datetime.fromisoformat(sent), sent
    employees = rows(
        db,
        "select raw.last_changed, stg.updated_at from raw_bamboohr.employees as raw"
        " join staging.stg_bamboohr__employees as stg on raw.id = stg.employee_id",
    )
    assert employees
    for sent, staged in employees:
        assert staged == datetime.fromisoformat(sent), sent
    assert str(staged.tzinfo) in {"UTC", "Etc/UTC"}


def test_tickets_unknown_priority_missing_organization_and_deleted_are_kept(db):
    critical = rows(
        db,
        "select stg.priority from raw_zendesk.tickets as raw"
        " join staging.stg_zendesk__tickets as stg on raw.id = stg.ticket_id"
        " where raw.priority = 'critical'",
    )
    assert critical and all(p is None for (p,) in critical)
    assert one(db, "select count(*) from raw_zendesk.tickets where priority = 'critical'") == len(
        critical
    )
    no_org = one(db, "select count(*) from raw_zendesk.tickets where organization_id is null")
    assert no_org > 0
    assert (
        one(db, "select count(*) from staging.stg_zendesk__tickets where organization_id is null")
        == no_org
    )
    deleted = one(db, "select count(*) from raw_zendesk.tickets where status = 'deleted'")
    assert deleted > 0
    assert one(db, "select count(*) from staging.stg_zendesk__tickets where is_deleted") == deleted


def test_deal_stage_alias_is_mapped_and_unusable_won_deals_are_quarantined(db):
    # the retired stage id means closed won (a row of the hubspot_deal_stages seed): staged
    legacy_sql = "select id from raw_hubspot.deals where properties__dealstage = 'closedwon_legacy'"
    legacy = {deal_id for (deal_id,) in rows(db, legacy_sql)}
    assert legacy
    staged_won = {
        deal_id
        for (deal_id,) in rows(db, "select deal_id from staging.stg_hubspot__deals where is_won")
    }
    rejected = quarantined(db, "raw_hubspot.deals")
    assert all(d in staged_won or d in rejected for d in legacy)
    assert "unknown deal stage" not in {rejected.get(d) for d in legacy}
    # a won deal without a company association cannot be a contract: quarantined, and its
    # absence from staging is the reason it is not in the contracts
    unassociated_won = {
        deal_id
        for (deal_id,) in rows(
            db,
            "select id from raw_hubspot.deals"
            " where properties__dealstage in ('closedwon', 'closedwon_legacy')"
            " and id not in (select deal_id from raw_hubspot.deal_companies)",
        )
    }
    assert unassociated_won
    assert {rejected.get(d) for d in unassociated_won} == {"won deal without company association"}
    assert not unassociated_won & staged_won
    # an open or lost deal without a company association is still a deal (the test world
    # may have none: its few unassociated deals can all be won)
    unassociated_other = {
        deal_id
        for (deal_id,) in rows(
            db,
            "select id from raw_hubspot.deals"
            " where properties__dealstage not in ('closedwon', 'closedwon_legacy')"
            " and id not in (select deal_id from raw_hubspot.deal_companies)",
        )
    }
    staged = {d for (d,) in rows(db, "select deal_id from staging.stg_hubspot__deals")}
    assert unassociated_other <= staged


def test_bamboohr_labels_are_mapped(db):
    mapped = rows(
        db,
        "select raw.employment_status, raw.termination_type_id, raw.termination_regrettable_id,"
        " stg.is_termination, stg.termination_type, stg.is_regretted"
        " from raw_bamboohr.employment_status as raw"
        " join staging.stg_bamboohr__employment_status as stg on raw.id = stg.employment_status_id",
    )
    assert len(mapped) == one(db, "select count(*) from staging.stg_bamboohr__employment_status")
    for status, kind, regrettable, is_termination, termination_type, is_regretted in mapped:
        assert is_termination == (status == "Terminated")
        if status == "Terminated":
            assert termination_type == TERMINATION_TYPES[kind]
            assert is_regretted == (regrettable == "Regrettable")
        else:
            assert (termination_type, is_regretted) == (None, None)
    assert "Seasonal" in {m[0] for m in mapped}  # the unknown label is kept, not a termination


def test_survey_responses_keep_only_their_own_identity(db):
    by_kind = dict(
        rows(
            db,
            "select survey_kind, count(*) from staging.stg_qualtrics__survey_responses group by 1",
        )
    )
    assert set(by_kind) == {"csat", "nps", "enps"}
    leaks = one(
        db,
        "select count(*) from staging.stg_qualtrics__survey_responses"
        " where survey_kind = 'enps' and (ticket_id is not null or respondent_email is not null)",
    )
    assert leaks == 0
    answer_columns = {
        c
        for (c,) in rows(
            db,
            "select column_name from information_schema.columns"
            " where table_schema = 'staging' and table_name = 'stg_qualtrics__survey_answers'",
        )
    }
    assert answer_columns == {
        "response_id",
        "survey_id",
        "survey_kind",
        "question_id",
        "question_role",
        "score",
        "recorded_at",
    }
    # a CSAT response without its ticket id is kept, with a null ticket_id
    no_ticket = {
        r
        for r, v in rows(
            db,
            "select response_id, values from raw_qualtrics.survey_responses"
            " where survey_id in (select survey_id from staging.stg_qualtrics__surveys where survey_kind = 'csat')",
        )
        if "ticket_id" not in json.loads(v)
    }
    assert no_ticket
    staged = dict(
        rows(db, "select response_id, ticket_id from staging.stg_qualtrics__survey_responses")
    )
    assert all(r in staged and staged[r] is None for r in no_ticket)


def test_zendesk_reference_data_is_normalised(db):
    assert rows(db, "select time_zone from staging.stg_zendesk__schedules") == [
        ("America/New_York",)
    ]
    domains = [
        d
        for (d,) in rows(db, "select domain from staging.stg_zendesk__organizations")
        if d is not None
    ]
    assert domains and all(d == d.strip().lower() and not d.startswith("www.") for d in domains)
    inactive_agents = one(
        db,
        "select count(*) from raw_zendesk.users where role = 'agent' and not active",
    )
    assert inactive_agents > 0
    assert (
        one(
            db,
            "select count(*) from staging.stg_zendesk__users where role = 'agent' and not is_active",
        )
        == inactive_agents
    )


def test_sla_metric_events_of_scrubbed_tickets_are_quarantined_as_orphans(db):
    """The simulator sends some metric events of scrubbed tickets (permanently deleted: no
    ticket export lists them); they are quarantined as orphans, not staged."""
    orphans = {
        str(i)
        for (i,) in rows(
            db,
            "select id from raw_zendesk.ticket_metric_events"
            " where ticket_id not in (select id from raw_zendesk.tickets)",
        )
    }
    assert orphans
    reasons = quarantined(db, "raw_zendesk.ticket_metric_events")
    assert {k: reasons.get(k) for k in orphans} == dict.fromkeys(
        orphans, "orphan reference: ticket"
    )
