"""Raw-load suites (warning severity: a person should look; they never stop a refresh).

- `raw_<vendor>.columns`: the columns staging cannot do without are present in every table.
- `raw_<vendor>.volume`: no table holds far fewer rows than at its previous passing validation.
- `raw_qualtrics.survey_responses.answer_scales`: answers fall within their question's scale
  (out-of-scale and non-numeric shares under a tolerance), and no answer is keyed to a
  question the survey definition does not have.
- `quarantine.share`: the share of each source table's rows that staging quarantined.

Every batch is computed in DuckDB (counts, shares) or is a zero-row frame (columns), so the
frames stay a few dozen rows at any scale.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from expectations.raw_tables import DBT_DIR, raw_tables, vendors
from expectations.spec import SuiteResult, SuiteSpec, new_suite
from expectations.state import read_volume_baseline, update_volume_baseline

if TYPE_CHECKING:
    import great_expectations as gx

    from warehouse.reader import Warehouse

# the vendors of the raw-table registry (dbt_project.yml `vars: raw_tables`)
VENDORS = vendors()

# A table holding less than this share of the rows it held at its previous passing validation
# is an alarm: dlt merges on primary keys, so a raw table only shrinks when rows were lost.
MIN_VOLUME_RATIO = 0.5
# Survey answers: tolerated shares of numeric answers outside the question's scale, and of
# answers that are not numbers at all, per survey question. Questions with fewer answers than
# MIN_ANSWERS are not judged (one dirty answer in three is noise, not a broken feed).
MAX_OUT_OF_SCALE_SHARE = 0.05
MAX_NON_NUMERIC_SHARE = 0.05
MIN_ANSWERS = 30
QID = re.compile(r"QID[0-9]+")
# Quarantined share of a source table's rows that deserves a look. dbt's blocking test
# (`assert_quarantine_share_within_tolerance`) stops the refresh at 20%; this warns earlier.
MAX_QUARANTINE_SHARE = 0.10

# The raw columns staging reads directly (columns read through `column_or_null`, which may
# legitimately be absent while no row carried a value, are not required): `required_columns`
# of each table of the raw-table registry.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    name: t.required_columns for name, t in raw_tables().items() if t.required_columns
}


def root_table(table: str) -> str:
    """dlt child tables (`tickets__tags`) belong to the asset of their root table."""
    return table.split("__", 1)[0]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------- required columns


def columns_suite(vendor: str, dbt_dir: Path | str = DBT_DIR) -> gx.ExpectationSuite:
    """The required columns of `vendor`'s tables in the raw-table registry of `dbt_dir`."""
    import great_expectations.expectations as gxe

    expectations = [
        gxe.ExpectColumnToExist(
            column=f"{table.split('.', 1)[1]}.{column}",
            description=f"`{table}` has column `{column}` (staging reads it)",
        )
        for table, t in raw_tables(dbt_dir).items()
        if t.schema == f"raw_{vendor}"
        for column in t.required_columns
    ]
    return new_suite(
        f"raw_{vendor}.columns",
        blocking=False,
        description=(
            f"raw_{vendor}: the columns staging reads directly are present. The batch has no "
            "rows: one column `<table>.<column>` per column of every table of the schema."
        ),
        expectations=expectations,
    )


def _read_columns(vendor: str):
    schema = f"raw_{vendor}"

    def read(wh: Warehouse) -> pd.DataFrame:
        # zero rows: only the catalogue is read, whatever the size of the tables
        cols = wh.catalog(schema)
        names = [f"{t}.{c}" for t, c in zip(cols["table_name"], cols["column_name"], strict=True)]
        return pd.DataFrame(columns=names)

    return read


def column_specs() -> list[SuiteSpec]:
    return [
        SuiteSpec(
            name=f"raw_{vendor}.columns",
            layer="raw",
            table=f"raw_{vendor}.*",
            check="gx_required_columns",
            blocking=False,
            description=f"Required columns of every raw_{vendor} table",
            build=lambda v=vendor: columns_suite(v),
            read=_read_columns(vendor),
            batch="columns only",
        )
        for vendor in VENDORS
    ]


# --------------------------------------------------------------------- volume


def volume_suite(vendor: str) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    return new_suite(
        f"raw_{vendor}.volume",
        blocking=False,
        description=(
            f"raw_{vendor}: each table holds at least {MIN_VOLUME_RATIO:.0%} of the rows it held "
            "at its previous passing validation (first validation: nothing to compare, passes)."
        ),
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="ratio_to_previous",
                min_value=MIN_VOLUME_RATIO,
                description=(
                    f"rows now / rows at the previous passing validation >= {MIN_VOLUME_RATIO} "
                    "(a stream that suddenly returns far fewer rows is an alarm)"
                ),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="rows", min_value=1, description="every loaded table has rows"
            ),
        ],
    )


def _read_volume(vendor: str):
    schema = f"raw_{vendor}"

    def read(wh: Warehouse) -> pd.DataFrame:
        tables = wh.tables(schema)
        baseline = read_volume_baseline(wh.data_dir)
        rows = []
        if tables:
            parts = []
            for t in tables:
                has_load_id = "_dlt_load_id" in wh.columns(schema, t)
                newest = (
                    f"count(*) filter (where _dlt_load_id = (select max(_dlt_load_id) "
                    f"from {_quote(schema)}.{_quote(t)}))"
                    if has_load_id
                    else "cast(null as bigint)"
                )
                newest_id = "max(_dlt_load_id)" if has_load_id else "cast(null as varchar)"
                parts.append(
                    f"select '{t}' as table_name, count(*) as rows, {newest} as newest_load_rows, "
                    f"{newest_id} as newest_load_id from {_quote(schema)}.{_quote(t)}"
                )
            counts = wh.frame(" union all ".join(parts))
            for rec in counts.to_dict("records"):
                prev = baseline.get(f"{schema}.{rec['table_name']}", {}).get("rows")
                rec["previous_rows"] = prev
                rec["ratio_to_previous"] = (rec["rows"] / prev) if prev else None
                rows.append(rec)
        frame = pd.DataFrame(
            rows,
            columns=[
                "table_name",
                "rows",
                "newest_load_rows",
                "newest_load_id",
                "previous_rows",
                "ratio_to_previous",
            ],
        )
        frame["ratio_to_previous"] = frame["ratio_to_previous"].astype("float64")
        frame["previous_rows"] = frame["previous_rows"].astype("Float64")
        return frame

    return read


def _after_volume(vendor: str):
    schema = f"raw_{vendor}"

    def after(wh: Warehouse, frame: pd.DataFrame, result: SuiteResult) -> None:
        """Move the baseline forward for the tables that passed; failing ones keep theirs."""
        if result.error:
            return
        ok = frame["ratio_to_previous"].isna() | (frame["ratio_to_previous"] >= MIN_VOLUME_RATIO)
        counts = {
            f"{schema}.{r['table_name']}": {
                "rows": int(r["rows"]),
                "load_id": None if pd.isna(r["newest_load_id"]) else str(r["newest_load_id"]),
            }
            for r in frame[ok & (frame["rows"] > 0)].to_dict("records")
        }
        update_volume_baseline(wh.data_dir, counts)

    return after


def volume_specs() -> list[SuiteSpec]:
    return [
        SuiteSpec(
            name=f"raw_{vendor}.volume",
            layer="raw",
            table=f"raw_{vendor}.*",
            check="gx_volume",
            blocking=False,
            description=f"Row counts of every raw_{vendor} table against the previous validation",
            build=lambda v=vendor: volume_suite(v),
            read=_read_volume(vendor),
            batch="one row per table",
            index_columns=("table_name", "rows", "previous_rows"),
            after=_after_volume(vendor),
        )
        for vendor in VENDORS
    ]


# --------------------------------------------------------------------- survey answer scales


def answer_scales_suite() -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    return new_suite(
        "raw_qualtrics.survey_responses.answer_scales",
        blocking=False,
        description=(
            "Survey answers (the QID keys of `values`) fall within their question's scale, per "
            f"survey question with at least {MIN_ANSWERS} answers."
        ),
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="out_of_scale_share",
                min_value=0,
                max_value=MAX_OUT_OF_SCALE_SHARE,
                description=(
                    "share of numeric answers outside the question's scale "
                    f"<= {MAX_OUT_OF_SCALE_SHARE:.0%}"
                ),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="non_numeric_share",
                min_value=0,
                max_value=MAX_NON_NUMERIC_SHARE,
                description=(
                    f'share of non-numeric answers (e.g. "N/A") <= {MAX_NON_NUMERIC_SHARE:.0%}'
                ),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="is_defined",
                value_set=[True],
                description="every answered question (QID) is defined in its survey",
            ),
        ],
    )


def question_scales(wh: Warehouse) -> pd.DataFrame:
    """(survey_id, question_id, scale_min, scale_max) of every question in the raw survey
    definitions. Choices come as an object keyed by recode ("1".."5") or, for NPS selectors,
    as a list of displays "0".."10"; questions without choices (text entry) have no scale."""
    questions = wh.frame(
        "select survey_id, question_id, selector, cast(choices as varchar) as choices "
        "from raw_qualtrics.survey_questions"
    )
    rows = []
    for q in questions.to_dict("records"):
        values: list[float] = []
        try:
            choices = json.loads(q["choices"]) if q["choices"] else None
        except (TypeError, json.JSONDecodeError):
            choices = None
        if q["selector"] == "NPS":
            values = [0, 10]
        elif isinstance(choices, dict):
            values = [float(k) for k in choices if _is_number(k)]
        elif isinstance(choices, list):
            shown = [c.get("Display") if isinstance(c, dict) else c for c in choices]
            values = [float(v) for v in shown if _is_number(v)] or [1, len(shown)]
        lo, hi = (min(values), max(values)) if values else (None, None)
        rows.append((q["survey_id"], q["question_id"], lo, hi))
    frame = pd.DataFrame(rows, columns=["survey_id", "question_id", "scale_min", "scale_max"])
    return frame.astype({"scale_min": "float64", "scale_max": "float64"})


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _score(answer) -> float | None:
    """An answer as a number, as a cast of its text would read it: 7, "7", "7.0" -> 7.0;
    "N/A", true, lists and objects -> None."""
    if isinstance(answer, (bool, list, dict)):
        return None
    try:
        return float(str(answer).strip())
    except ValueError:
        return None


def read_answer_scales(wh: Warehouse) -> pd.DataFrame:
    """Per survey question: answers, numeric answers, answers outside the scale, and shares.

    The responses' `values` JSON is read as text and exploded here (portable across
    engines; one short read of two columns)."""
    scales = question_scales(wh)
    responses = wh.frame(
        'select survey_id, cast("values" as varchar) as v from raw_qualtrics.survey_responses'
    )
    answers = [
        (survey_id, question_id, _score(answer))
        for survey_id, text in zip(responses["survey_id"], responses["v"], strict=True)
        if text
        for question_id, answer in json.loads(text).items()
        if QID.fullmatch(question_id) and answer is not None
    ]
    frame = pd.DataFrame(answers, columns=["survey_id", "question_id", "score"])
    frame = frame.merge(scales.assign(is_defined=True), on=["survey_id", "question_id"], how="left")
    frame["is_defined"] = frame["is_defined"].astype("boolean").fillna(False).astype(bool)
    frame["is_out"] = (frame["score"] < frame["scale_min"]) | (frame["score"] > frame["scale_max"])
    per_question = (
        frame.groupby(["survey_id", "question_id"], sort=True)
        .agg(
            is_defined=("is_defined", "any"),
            scale_min=("scale_min", "first"),
            scale_max=("scale_max", "first"),
            answers=("question_id", "size"),
            numeric_answers=("score", "count"),
            out_of_scale=("is_out", "sum"),
        )
        .reset_index()
    )
    per_question["non_numeric"] = per_question["answers"] - per_question["numeric_answers"]
    names = wh.frame("select id as survey_id, name as survey_name from raw_qualtrics.surveys")
    per_question = per_question.merge(names, on="survey_id", how="left")
    per_question["survey_name"] = per_question["survey_name"].fillna(per_question["survey_id"])
    judged = (per_question["answers"] >= MIN_ANSWERS) & per_question["scale_max"].notna()
    per_question["out_of_scale_share"] = (
        per_question["out_of_scale"] / per_question["numeric_answers"]
    ).where(judged & (per_question["numeric_answers"] > 0))
    per_question["non_numeric_share"] = (
        per_question["non_numeric"] / per_question["answers"]
    ).where(judged)
    columns = [
        "survey_id",
        "survey_name",
        "question_id",
        "is_defined",
        "scale_min",
        "scale_max",
        "answers",
        "numeric_answers",
        "out_of_scale",
        "non_numeric",
        "out_of_scale_share",
        "non_numeric_share",
    ]
    return per_question[columns].astype(
        {c: "int64" for c in ("answers", "numeric_answers", "out_of_scale", "non_numeric")}
    )


def answer_scales_spec() -> SuiteSpec:
    return SuiteSpec(
        name="raw_qualtrics.survey_responses.answer_scales",
        layer="raw",
        table="raw_qualtrics.survey_responses",
        check="gx_answer_scales",
        blocking=False,
        description="Survey answers within their scales, per survey question",
        build=answer_scales_suite,
        read=read_answer_scales,
        batch="one row per survey question",
        index_columns=("survey_name", "question_id", "scale_min", "scale_max", "answers"),
    )


# --------------------------------------------------------------------- quarantine share


def quarantine_share_suite() -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    return new_suite(
        "quarantine.share",
        blocking=False,
        description=(
            f"Per source table, quarantined rows / raw rows <= {MAX_QUARANTINE_SHARE:.0%} "
            "(dbt blocks the refresh at 20%)."
        ),
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantined_share",
                min_value=0,
                max_value=MAX_QUARANTINE_SHARE,
                description=(
                    f"quarantined share of the source table's rows <= {MAX_QUARANTINE_SHARE:.0%}"
                ),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="raw_rows",
                description="every quarantined row names a source table that exists in raw",
            ),
        ],
    )


def read_quarantine_share(wh: Warehouse) -> pd.DataFrame:
    """Row-level rejections against the raw table's row count; answer-level rejections of
    survey responses (source_key `response:question`) against all answers seen."""
    # rows staging explodes out of a raw row (survey answers) are quarantined under the raw
    # table with keys "<raw key>:<part>" and judged as "<source>.<exploded name>"
    exploded = {
        name: (f"{t.schema}.{t.exploded.name}", t.exploded.staging_model)
        for name, t in raw_tables().items()
        if t.exploded
    }
    whens = "".join(
        f"when source_table = '{name}' and source_key like '%:%' then '{as_name}' "
        for name, (as_name, _) in exploded.items()
    )
    source_table = f"case {whens}else source_table end" if whens else "source_table"
    quarantined = wh.frame(
        f"""
        select
            {source_table} as source_table,
            count(*) as quarantined_rows
        from quarantine.quarantine
        group by 1
        """
    )
    counted = dict(zip(quarantined["source_table"], quarantined["quarantined_rows"], strict=True))
    exploded_names = {as_name for as_name, _ in exploded.values()}
    tables = sorted(
        {t for t in REQUIRED_COLUMNS if "__" not in t}
        | {t for t in counted if t not in exploded_names}
    )
    existing = {f"raw_{v}.{t}" for v in VENDORS for t in wh.tables(f"raw_{v}")}
    parts = [
        f"select '{t}' as source_table, count(*) as raw_rows from {t}"
        for t in tables
        if t in existing
    ]
    for as_name, model in exploded.values():
        if as_name in counted and wh.exists("staging", model):
            # exploded rows: kept rows + quarantined rows = all rows
            parts.append(
                f"select '{as_name}', count(*) + {int(counted[as_name])} from staging.{model}"
            )
    totals = (
        wh.frame(" union all ".join(parts))
        if parts
        else pd.DataFrame(columns=["source_table", "raw_rows"])
    )
    frame = pd.DataFrame({"source_table": sorted(set(totals["source_table"]) | set(counted))})
    frame = frame.merge(totals, on="source_table", how="left")
    frame["quarantined_rows"] = frame["source_table"].map(counted).fillna(0).astype("int64")
    frame["raw_rows"] = frame["raw_rows"].astype("Float64")
    share = frame["quarantined_rows"] / frame["raw_rows"].where(frame["raw_rows"] > 0)
    frame["quarantined_share"] = share.astype("float64")
    return frame


def quarantine_share_spec() -> SuiteSpec:
    return SuiteSpec(
        name="quarantine.share",
        layer="quarantine",
        table="quarantine.quarantine",
        check="gx_quarantine_share",
        blocking=False,
        description="Share of each source table's rows that staging quarantined",
        build=quarantine_share_suite,
        read=read_quarantine_share,
        batch="one row per source table",
        index_columns=("source_table",),
    )


def raw_specs() -> list[SuiteSpec]:
    return [*column_specs(), *volume_specs(), answer_scales_spec()]
