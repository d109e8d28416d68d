"""Mart suites (blocking: a failure stops the publish of the marts).

They check what dbt's `unique`/`not_null`/`relationships` tests do not: metric ranges,
additive invariants (parts add up to totals, ratios agree with their shipped parts, flows
reconcile stocks), anonymity (suppressed rows carry no survey figure), and calendar
completeness (no month missing between the first and the last).

Scales, read from the built warehouse and the dbt docs: NPS, eNPS in [-100, 100]; CSAT and
engagement are percentages in [0, 100]; CES is a mean on 1..7; every `*_rate`, `match_rate`
and `pearson_r` is a fraction ([0, 1], r in [-1, 1]); minutes are medians >= 0.

Each batch is the mart with derived columns computed in DuckDB (`*_vs_parts` = relative gap
between a ratio and the ratio recomputed from its parts; `months_since_previous`; flow
identities), or for `fct_tickets` an aggregate per month, so frames stay small at any scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expectations.spec import SuiteSpec, new_suite

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

    from warehouse.reader import Warehouse

# ratios must agree with the ratio recomputed from their shipped parts to this relative gap
RATIO_TOLERANCE = 1e-6
# the anonymity threshold of the dbt project (`var('min_respondents')`)
MIN_RESPONDENTS = 5

# survey figures that anonymity suppression nulls
EX_SURVEY_FIGURES = (
    "respondents",
    "enps_promoters",
    "enps_passives",
    "enps_detractors",
    "enps",
    "engagement_answers",
    "engagement_favorable",
    "engagement",
)


def _gap(ratio: str, recomputed: str) -> str:
    """SQL: relative gap between a shipped ratio and the ratio recomputed from its parts."""
    return f"abs({ratio} - ({recomputed})) / greatest(abs({recomputed}), 1.0)"


def _months_since_previous(partition: str = "") -> str:
    over = f"partition by {partition} order by month" if partition else "order by month"
    return f"date_diff('month', lag(month) over ({over}), month)"


DESCRIPTIONS = {
    "cx_metrics_monthly": "Monthly CX metrics: ranges, parts that add up, ratios that agree with their parts, customer flows that reconcile, no missing month.",
    "ex_metrics_monthly": "Monthly EX metrics per department: ranges, anonymity (suppressed rows carry no survey figure, published ones rest on >= 5 respondents), headcount flows that reconcile, no missing month.",
    "xm_team_monthly": "Support teams' EX beside the CX of the tickets they solved: ranges, anonymity, parts, no missing month.",
    "fct_tickets": "Ticket facts, aggregated per created month in DuckDB (the batch is one row per month, whatever the ticket count): each column counts the tickets breaking one rule.",
    "cx_segment_monthly": "Churn and CLV per segment: fractions within [0, 1], CLV from its parts, no missing month within a segment.",
    "xm_link_summary": "Pearson r of EX against CX metrics over team-months.",
    "identity_match_rates": "Identity links: matched + unmatched = total.",
    "dim_employees": "Employee dimension: dates in order, termination fields together.",
    "dim_customers": "Customer dimension: churn after becoming a customer.",
}


# --------------------------------------------------------------------- expectation helpers


def _gxe():
    import great_expectations.expectations as gxe

    return gxe


def between(column: str, lo: float | None = None, hi: float | None = None, what: str = "", **kw):
    return _gxe().ExpectColumnValuesToBeBetween(
        column=column, min_value=lo, max_value=hi, description=what or None, **kw
    )


def equal(a: str, b: str, what: str):
    return _gxe().ExpectColumnPairValuesToBeEqual(
        column_A=a, column_B=b, ignore_row_if="either_value_is_missing", description=what
    )


def at_most(a: str, b: str, what: str):
    """a <= b on every row where both are known."""
    return _gxe().ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=b,
        column_B=a,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        description=what,
    )


def not_empty(table: str):
    return _gxe().ExpectTableRowCountToBeBetween(
        min_value=1,
        description=f"{table} is not empty (every invariant below would pass vacuously)",
    )


def no_month_gaps(scope: str = ""):
    where = f" within each {scope}" if scope else ""
    return between(
        "months_since_previous",
        1,
        1,
        f"every month between the first and the last is present{where} (no gaps, no repeats)",
    )


def ratio_agrees(ratio: str, formula: str):
    return between(
        f"{ratio}_vs_parts",
        0,
        RATIO_TOLERANCE,
        f"`{ratio}` equals {formula} (relative gap <= {RATIO_TOLERANCE:g})",
    )


def null_when_suppressed(column: str):
    from great_expectations.expectations.row_conditions import Column

    return _gxe().ExpectColumnValuesToBeNull(
        column=column,
        row_condition=(Column("is_suppressed") == True),  # noqa: E712  (a GX condition)
        description=f"suppressed rows carry no `{column}` (anonymity)",
    )


def _when_published(expectation_cls, **kwargs):
    from great_expectations.expectations.row_conditions import Column

    return expectation_cls(row_condition=(Column("is_suppressed") == False), **kwargs)  # noqa: E712


def _suite(table: str, *expectations: Any) -> gx.ExpectationSuite:
    return new_suite(
        f"marts.{table}",
        blocking=True,
        description=DESCRIPTIONS[table],
        expectations=list(expectations),
    )


def _ex_survey_expectations(grain: str) -> list[Any]:
    """Anonymity and survey invariants shared by the department and the team marts."""
    gxe = _gxe()
    return [
        between("enps", -100, 100, "eNPS within [-100, 100]"),
        between("engagement", 0, 100, "engagement (% favorable) within [0, 100]"),
        *[null_when_suppressed(c) for c in EX_SURVEY_FIGURES],
        _when_published(
            gxe.ExpectColumnValuesToBeBetween,
            column="respondents",
            min_value=MIN_RESPONDENTS,
            description=f"published {grain} rows rest on at least {MIN_RESPONDENTS} respondents",
        ),
        _when_published(
            gxe.ExpectColumnValuesToBeBetween,
            column="enps_parts",
            min_value=MIN_RESPONDENTS,
            description=(
                f"published eNPS rests on at least {MIN_RESPONDENTS} valid eNPS answers "
                "(promoters + passives + detractors)"
            ),
        ),
        _when_published(
            gxe.ExpectColumnValuesToNotBeNull,
            column="enps",
            description=f"published {grain} rows carry their eNPS",
        ),
        at_most(
            "enps_parts",
            "respondents",
            "eNPS promoters + passives + detractors <= respondents (a respondent may skip or "
            "spoil the eNPS item, so the parts add up to the valid eNPS answers, not always "
            "to respondents)",
        ),
        at_most("engagement_favorable", "engagement_answers", "favorable answers <= answers"),
        ratio_agrees(
            "enps", "100 * (promoters - detractors) / (promoters + passives + detractors)"
        ),
        ratio_agrees("engagement", "100 * engagement_favorable / engagement_answers"),
        ratio_agrees("average_headcount", "(headcount_start + headcount_end) / 2"),
        ratio_agrees("turnover_rate", "separations / average_headcount"),
        between("turnover_rate", 0, None, "turnover rate >= 0"),
        between("headcount_start", 0, None, "headcount_start >= 0"),
        between("headcount_end", 0, None, "headcount_end >= 0"),
        between("separations", 0, None, "separations >= 0"),
    ]


_EX_SURVEY_SQL = f"""
    enps_promoters + enps_passives + enps_detractors as enps_parts,
    {_gap("enps", "100.0 * (enps_promoters - enps_detractors) / nullif(enps_promoters + enps_passives + enps_detractors, 0)")} as enps_vs_parts,
    {_gap("engagement", "100.0 * engagement_favorable / nullif(engagement_answers, 0)")} as engagement_vs_parts,
    {_gap("average_headcount", "(headcount_start + headcount_end) / 2.0")} as average_headcount_vs_parts,
    {_gap("turnover_rate", "1.0 * separations / nullif(average_headcount, 0)")} as turnover_rate_vs_parts
"""


# --------------------------------------------------------------------- cx_metrics_monthly


def cx_metrics_monthly_suite() -> gx.ExpectationSuite:
    return _suite(
        "cx_metrics_monthly",
        not_empty("cx_metrics_monthly"),
        no_month_gaps(),
        between("nps", -100, 100, "NPS within [-100, 100]"),
        between("csat", 0, 100, "CSAT (% satisfied) within [0, 100]"),
        between("ces", 1, 7, "CES (mean of 1-7 answers) within [1, 7]"),
        *[
            between(c, 0, 1, f"{c} is a fraction within [0, 1]")
            for c in (
                "resolution_rate",
                "one_touch_rate",
                "reopen_rate",
                "churn_rate",
                "retention_rate",
            )
        ],
        *[
            between(c, 0, None, f"{c} >= 0")
            for c in (
                "first_reply_median_calendar_minutes",
                "first_reply_median_business_minutes",
                "full_resolution_median_calendar_minutes",
                "full_resolution_median_business_minutes",
            )
        ],
        at_most(
            "first_reply_median_business_minutes",
            "first_reply_median_calendar_minutes",
            "median first reply: business minutes <= calendar minutes",
        ),
        at_most(
            "full_resolution_median_business_minutes",
            "full_resolution_median_calendar_minutes",
            "median full resolution: business minutes <= calendar minutes",
        ),
        equal(
            "nps_parts",
            "nps_respondents",
            "NPS promoters + passives + detractors = nps_respondents",
        ),
        at_most("csat_satisfied", "csat_responses", "csat_satisfied <= csat_responses"),
        at_most(
            "tickets_with_first_reply",
            "tickets_created",
            "tickets_with_first_reply <= tickets_created",
        ),
        at_most(
            "tickets_created_now_solved",
            "tickets_created",
            "tickets_created_now_solved <= tickets_created",
        ),
        at_most("one_touch_tickets", "solved_tickets", "one_touch_tickets <= solved_tickets"),
        at_most("reopened_tickets", "solved_tickets", "reopened_tickets <= solved_tickets"),
        at_most("customers_churned", "customers_start", "customers_churned <= customers_start"),
        equal(
            "customers_end",
            "customers_end_from_flows",
            "customers_end = customers_start + customers_new - customers_churned",
        ),
        ratio_agrees("nps", "100 * (nps_promoters - nps_detractors) / nps_respondents"),
        ratio_agrees("csat", "100 * csat_satisfied / csat_responses"),
        ratio_agrees("ces", "ces_score_sum / ces_responses"),
        ratio_agrees("resolution_rate", "tickets_created_now_solved / tickets_created"),
        ratio_agrees("one_touch_rate", "one_touch_tickets / solved_tickets"),
        ratio_agrees("reopen_rate", "reopened_tickets / solved_tickets"),
        ratio_agrees("churn_rate", "customers_churned / customers_start"),
        ratio_agrees("retention_rate", "(customers_end - customers_new) / customers_start"),
    )


def read_cx_metrics_monthly(wh: Warehouse) -> pd.DataFrame:
    return wh.frame(
        f"""
        select *,
            nps_promoters + nps_passives + nps_detractors as nps_parts,
            customers_start + customers_new - customers_churned as customers_end_from_flows,
            {_months_since_previous()} as months_since_previous,
            {_gap("nps", "100.0 * (nps_promoters - nps_detractors) / nullif(nps_respondents, 0)")} as nps_vs_parts,
            {_gap("csat", "100.0 * csat_satisfied / nullif(csat_responses, 0)")} as csat_vs_parts,
            {_gap("ces", "1.0 * ces_score_sum / nullif(ces_responses, 0)")} as ces_vs_parts,
            {_gap("resolution_rate", "1.0 * tickets_created_now_solved / nullif(tickets_created, 0)")} as resolution_rate_vs_parts,
            {_gap("one_touch_rate", "1.0 * one_touch_tickets / nullif(solved_tickets, 0)")} as one_touch_rate_vs_parts,
            {_gap("reopen_rate", "1.0 * reopened_tickets / nullif(solved_tickets, 0)")} as reopen_rate_vs_parts,
            {_gap("churn_rate", "1.0 * customers_churned / nullif(customers_start, 0)")} as churn_rate_vs_parts,
            {_gap("retention_rate", "1.0 * (customers_end - customers_new) / nullif(customers_start, 0)")} as retention_rate_vs_parts
        from marts.cx_metrics_monthly
        order by month
        """
    )


# --------------------------------------------------------------------- ex_metrics_monthly


def ex_metrics_monthly_suite() -> gx.ExpectationSuite:
    return _suite(
        "ex_metrics_monthly",
        not_empty("ex_metrics_monthly"),
        no_month_gaps(),
        *_ex_survey_expectations("department"),
        *[between(c, 0, None, f"{c} >= 0") for c in ("hires", "transfers_in", "transfers_out")],
        between("voluntary_turnover_rate", 0, None, "voluntary turnover rate >= 0"),
        between("involuntary_turnover_rate", 0, None, "involuntary turnover rate >= 0"),
        ratio_agrees("voluntary_turnover_rate", "voluntary_separations / average_headcount"),
        at_most(
            "typed_separations",
            "separations",
            "voluntary + involuntary separations <= separations (an untyped termination counts "
            "in separations only)",
        ),
        equal(
            "headcount_end",
            "headcount_end_from_flows",
            "headcount_end = headcount_start + hires - separations + transfers_in - transfers_out, "
            "less the boundary events already in the snapshots (hires and transfers dated the "
            "1st are in headcount_start; separations dated the last day are still in "
            "headcount_end)",
        ),
    )


def read_ex_metrics_monthly(wh: Warehouse) -> pd.DataFrame:
    # Boundary events come from the movements the mart counts (intermediate, a view): the
    # naive identity fails on real data whenever someone is hired on the 1st or leaves on
    # the last day of a month (7 of 192 department-months at scale 1).
    return wh.frame(
        f"""
        with months as (
            select distinct month from marts.ex_metrics_monthly
        ),
        gaps as (
            select month, {_months_since_previous()} as months_since_previous from months
        ),
        boundary as (
            select month, department,
                count(*) filter (where movement_type = 'hire' and movement_date = month)
                    as hires_on_first_day,
                count(*) filter (where movement_type = 'separation'
                    and movement_date = last_day(month)) as separations_on_last_day,
                count(*) filter (where movement_type = 'transfer_in' and is_department_change
                    and movement_date = month) as transfers_in_on_first_day,
                count(*) filter (where movement_type = 'transfer_out' and is_department_change
                    and movement_date = month) as transfers_out_on_first_day
            from intermediate.int_employee_movements
            group by month, department
        )
        select e.*,
            g.months_since_previous,
            coalesce(b.hires_on_first_day, 0) as hires_on_first_day,
            coalesce(b.separations_on_last_day, 0) as separations_on_last_day,
            coalesce(b.transfers_in_on_first_day, 0) as transfers_in_on_first_day,
            coalesce(b.transfers_out_on_first_day, 0) as transfers_out_on_first_day,
            e.headcount_start
                + (e.hires - coalesce(b.hires_on_first_day, 0))
                - (e.separations - coalesce(b.separations_on_last_day, 0))
                + (e.transfers_in - coalesce(b.transfers_in_on_first_day, 0))
                - (e.transfers_out - coalesce(b.transfers_out_on_first_day, 0))
                as headcount_end_from_flows,
            e.voluntary_separations + e.involuntary_separations as typed_separations,
            {_gap("voluntary_turnover_rate", "1.0 * voluntary_separations / nullif(average_headcount, 0)")} as voluntary_turnover_rate_vs_parts,
            {_EX_SURVEY_SQL}
        from marts.ex_metrics_monthly as e
        left join gaps as g on g.month = e.month
        left join boundary as b on b.month = e.month and b.department = e.department
        order by e.month, e.department
        """
    )


# --------------------------------------------------------------------- xm_team_monthly


def xm_team_monthly_suite() -> gx.ExpectationSuite:
    return _suite(
        "xm_team_monthly",
        not_empty("xm_team_monthly"),
        no_month_gaps(),
        *_ex_survey_expectations("team"),
        between("csat", 0, 100, "CSAT (% satisfied) within [0, 100]"),
        between("one_touch_rate", 0, 1, "one_touch_rate is a fraction within [0, 1]"),
        between(
            "full_resolution_median_business_minutes",
            0,
            None,
            "median resolution business minutes >= 0",
        ),
        between(
            "first_reply_median_business_minutes",
            0,
            None,
            "median first reply business minutes >= 0",
        ),
        at_most("csat_satisfied", "csat_responses", "csat_satisfied <= csat_responses"),
        at_most("one_touch_tickets", "tickets_solved", "one_touch_tickets <= tickets_solved"),
        ratio_agrees("csat", "100 * csat_satisfied / csat_responses"),
        ratio_agrees("one_touch_rate", "one_touch_tickets / tickets_solved"),
    )


def read_xm_team_monthly(wh: Warehouse) -> pd.DataFrame:
    return wh.frame(
        f"""
        with months as (
            select distinct month from marts.xm_team_monthly
        ),
        gaps as (
            select month, {_months_since_previous()} as months_since_previous from months
        )
        select t.*,
            g.months_since_previous,
            {_gap("csat", "100.0 * csat_satisfied / nullif(csat_responses, 0)")} as csat_vs_parts,
            {_gap("one_touch_rate", "1.0 * one_touch_tickets / nullif(tickets_solved, 0)")} as one_touch_rate_vs_parts,
            {_EX_SURVEY_SQL}
        from marts.xm_team_monthly as t
        left join gaps as g on g.month = t.month
        order by t.month, t.team
        """
    )


# --------------------------------------------------------------------- fct_tickets (aggregated)

_TICKET_VIOLATIONS = {
    "first_reply_business_over_calendar": (
        "first_reply_business_minutes > first_reply_calendar_minutes",
        "first reply: business minutes never exceed calendar minutes",
    ),
    "resolution_business_over_calendar": (
        "full_resolution_business_minutes > full_resolution_calendar_minutes",
        "full resolution: business minutes never exceed calendar minutes",
    ),
    "negative_minutes": (
        "first_reply_calendar_minutes < 0 or first_reply_business_minutes < 0 "
        "or full_resolution_calendar_minutes < 0 or full_resolution_business_minutes < 0",
        "no negative minutes (reply and resolution, calendar and business)",
    ),
    "one_touch_inconsistent": (
        "is_one_touch_resolution and not (coalesce(is_solved, false) "
        "and count_public_agent_replies = 1 and count_reopens = 0)",
        "one-touch tickets are solved, with exactly one public agent reply and no reopen",
    ),
    "minutes_without_timestamp": (
        "(first_reply_at is null) <> (first_reply_calendar_minutes is null) "
        "or (last_solved_at is null) <> (full_resolution_calendar_minutes is null)",
        "reply/resolution minutes are present exactly when the reply/solve timestamp is",
    ),
}


def fct_tickets_suite() -> gx.ExpectationSuite:
    return _suite(
        "fct_tickets",
        not_empty("fct_tickets"),
        *[between(column, 0, 0, what) for column, (_, what) in _TICKET_VIOLATIONS.items()],
    )


def read_fct_tickets(wh: Warehouse) -> pd.DataFrame:
    counts = ",\n".join(
        f"count(*) filter (where {cond}) as {column}"
        for column, (cond, _) in _TICKET_VIOLATIONS.items()
    )
    any_violation = " or ".join(f"({cond})" for cond, _ in _TICKET_VIOLATIONS.values())
    return wh.frame(
        f"""
        select
            cast(date_trunc('month', timezone('UTC', created_at)) as date) as month,
            count(*) as tickets,
            {counts},
            min(ticket_id) filter (where {any_violation}) as example_ticket_id
        from marts.fct_tickets
        group by 1
        order by 1
        """
    )


# --------------------------------------------------------------------- cx_segment_monthly


def cx_segment_monthly_suite() -> gx.ExpectationSuite:
    return _suite(
        "cx_segment_monthly",
        not_empty("cx_segment_monthly"),
        no_month_gaps("segment"),
        between("churn_rate", 0, 1, "churn_rate within [0, 1]"),
        between("annual_churn_rate", 0, 1, "annual_churn_rate within [0, 1]"),
        between("average_annual_contract_value", 0, None, "average annual contract value >= 0"),
        between("expected_lifetime_years", 0, None, "expected lifetime >= 0"),
        between("clv", 0, None, "CLV >= 0"),
        at_most("customers_churned", "customers_start", "customers_churned <= customers_start"),
        at_most(
            "trailing_12m_churned",
            "trailing_12m_customers_start",
            "trailing_12m_churned <= trailing_12m_customers_start",
        ),
        ratio_agrees("churn_rate", "customers_churned / customers_start"),
        ratio_agrees("annual_churn_rate", "trailing_12m_churned / trailing_12m_customers_start"),
        ratio_agrees("expected_lifetime_years", "1 / annual_churn_rate"),
        ratio_agrees("clv", "average_annual_contract_value * expected_lifetime_years"),
    )


def read_cx_segment_monthly(wh: Warehouse) -> pd.DataFrame:
    return wh.frame(
        f"""
        select *,
            {_months_since_previous("segment")} as months_since_previous,
            {_gap("churn_rate", "1.0 * customers_churned / nullif(customers_start, 0)")} as churn_rate_vs_parts,
            {_gap("annual_churn_rate", "1.0 * trailing_12m_churned / nullif(trailing_12m_customers_start, 0)")} as annual_churn_rate_vs_parts,
            {_gap("expected_lifetime_years", "1.0 / nullif(annual_churn_rate, 0)")} as expected_lifetime_years_vs_parts,
            {_gap("clv", "average_annual_contract_value * expected_lifetime_years")} as clv_vs_parts
        from marts.cx_segment_monthly
        order by segment, month
        """
    )


# --------------------------------------------------------------------- small marts


def xm_link_summary_suite() -> gx.ExpectationSuite:
    from great_expectations.expectations.row_conditions import Column

    gxe = _gxe()
    return _suite(
        "xm_link_summary",
        not_empty("xm_link_summary"),
        between("pearson_r", -1, 1, "Pearson r within [-1, 1]"),
        between("n", 0, None, "n >= 0"),
        gxe.ExpectColumnValuesToBeNull(
            column="pearson_r",
            row_condition=(Column("n") < 3),
            description="no r from fewer than 3 team-months",
        ),
    )


def identity_match_rates_suite() -> gx.ExpectationSuite:
    return _suite(
        "identity_match_rates",
        not_empty("identity_match_rates"),
        equal("matched_plus_unmatched", "total", "matched + unmatched = total"),
        between("match_rate", 0, 1, "match_rate within [0, 1]"),
        ratio_agrees("match_rate", "matched / total"),
    )


def dim_employees_suite() -> gx.ExpectationSuite:
    from great_expectations.expectations.row_conditions import Column

    gxe = _gxe()
    return _suite(
        "dim_employees",
        not_empty("dim_employees"),
        at_most("hire_date", "termination_date", "hire_date <= termination_date"),
        at_most("original_hire_date", "hire_date", "original_hire_date <= hire_date"),
        gxe.ExpectColumnValuesToBeNull(
            column="termination_type",
            row_condition=Column("termination_date").is_null(),
            description="no termination type without a termination date",
        ),
    )


def dim_customers_suite() -> gx.ExpectationSuite:
    return _suite(
        "dim_customers",
        not_empty("dim_customers"),
        at_most("customer_since_date", "churned_date", "customer_since_date <= churned_date"),
    )


def _read_table(table: str, extra: str = ""):
    def read(wh: Warehouse) -> pd.DataFrame:
        return wh.frame(f"select *{extra} from marts.{table}")

    return read


# --------------------------------------------------------------------- registry

_MARTS: list[tuple[str, Any, Any, str, tuple[str, ...]]] = [
    # (mart, suite, read, what one batch row is, index columns for messages)
    ("cx_metrics_monthly", cx_metrics_monthly_suite, read_cx_metrics_monthly, "", ("month",)),
    (
        "ex_metrics_monthly",
        ex_metrics_monthly_suite,
        read_ex_metrics_monthly,
        "",
        ("month", "department"),
    ),
    ("xm_team_monthly", xm_team_monthly_suite, read_xm_team_monthly, "", ("month", "team")),
    (
        "fct_tickets",
        fct_tickets_suite,
        read_fct_tickets,
        "one row per created month",
        ("month", "tickets", "example_ticket_id"),
    ),
    (
        "cx_segment_monthly",
        cx_segment_monthly_suite,
        read_cx_segment_monthly,
        "",
        ("month", "segment"),
    ),
    (
        "xm_link_summary",
        xm_link_summary_suite,
        _read_table("xm_link_summary"),
        "",
        ("ex_metric", "cx_metric"),
    ),
    (
        "identity_match_rates",
        identity_match_rates_suite,
        _read_table(
            "identity_match_rates",
            ", matched + unmatched as matched_plus_unmatched, "
            + _gap("match_rate", "1.0 * matched / nullif(total, 0)")
            + " as match_rate_vs_parts",
        ),
        "",
        ("link",),
    ),
    (
        "dim_employees",
        dim_employees_suite,
        _read_table("dim_employees"),
        "",
        ("employee_id",),
    ),
    (
        "dim_customers",
        dim_customers_suite,
        _read_table("dim_customers"),
        "",
        ("customer_id",),
    ),
]


def mart_specs() -> list[SuiteSpec]:
    return [
        SuiteSpec(
            name=f"marts.{mart}",
            layer="marts",
            table=f"marts.{mart}",
            check="gx_invariants",
            blocking=True,
            description=DESCRIPTIONS[mart],
            build=build,
            read=read,
            batch=batch,
            index_columns=index,
        )
        for mart, build, read, batch, index in _MARTS
    ]
