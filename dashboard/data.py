"""The dashboard's data: the published marts, read once per snapshot, and the figures each
page shows, filtered. No Streamlit here, so the figures can be tested on their own.

Where the marts are: the DuckDB snapshot `$XM_DATA_DIR/published/marts.duckdb`, opened
read-only for the few milliseconds of one load (a publish swaps the file by rename, so the
dashboard never blocks a refresh and sees the new snapshot on its next rerun), or, with
`XM_TARGET=postgres`, the schema `published` (as whatever role the PG* settings name:
the BI role of `xm postgres setup-bi` is enough). Never the warehouse.

Figures are the marts' own. Two things are computed here, by the marts' definitions:
the CX figures of one customer segment (from `fct_tickets` and `fct_survey_responses`,
checked against `cx_metrics_monthly` for all segments by tests/test_dashboard.py) and the
correlations of a filtered set of team-months (Pearson r as `xm_link_summary` computes it,
the confidence interval by Fisher's z).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from warehouse.publish import snapshot_path
from warehouse.settings import Settings

ALL = None  # a filter that keeps everything
MIN_RESPONDENTS_NOTE = "fewer than 5 respondents, or hidden so another group cannot be derived"
SUPPRESSED = "suppressed"

SURVEY_COLUMNS = [
    "respondents",
    "enps_promoters",
    "enps_passives",
    "enps_detractors",
    "enps",
    "engagement_answers",
    "engagement_favorable",
    "engagement",
]


class SnapshotMissing(RuntimeError):
    """Nothing is published yet (or the snapshot is not where the settings say)."""


# ---------------------------------------------------------------------------- the source
@dataclass(frozen=True)
class Source:
    """The published marts of one `Settings`: a DuckDB file or PostgreSQL's `published`."""

    settings: Settings

    @classmethod
    def from_env(cls) -> Source:
        return cls(Settings.from_env())

    @property
    def is_postgres(self) -> bool:
        return self.settings.target == "postgres"

    def describe(self) -> str:
        if self.is_postgres:
            pg = self.settings.postgres or {}
            return (
                f"schema published on PostgreSQL {pg.get('PGHOST')}:{pg.get('PGPORT', '5432')}/"
                f"{pg.get('PGDATABASE')} as {pg.get('PGUSER')}"
            )
        return f"{snapshot_path(self.settings)} (read-only)"

    def version(self) -> str:
        """Changes whenever a new snapshot is published: the cache key of `load`."""
        if self.is_postgres:
            with self.connect() as con:
                info = self.read(con, "select run_id, published_at from _publish_info")
            return f"{info.iat[0, 0]}@{info.iat[0, 1]}"
        path = snapshot_path(self.settings)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise SnapshotMissing(
                f"no published snapshot at {path}: run `xm demo` (or a Dagster refresh) first"
            ) from None
        return f"{path}:{stat.st_ino}:{stat.st_mtime_ns}"

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        if self.is_postgres:
            from warehouse.connections import pg_connect

            con = pg_connect(self.settings, options="-c search_path=published")
            con.set_session(readonly=True, autocommit=True)
        else:
            path = snapshot_path(self.settings)
            if not path.exists():
                raise SnapshotMissing(f"no published snapshot at {path}")
            con = duckdb.connect(str(path), read_only=True)
        try:
            yield con
        finally:
            con.close()

    def read(self, con: Any, sql: str, params: list | None = None) -> pd.DataFrame:
        """One DuckDB-dialect query as a frame (translated for PostgreSQL)."""
        if self.is_postgres:
            from warehouse.connections import pg_execute

            with con.cursor() as cur:
                pg_execute(cur, sql, params)
                return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
        return con.execute(sql, params or []).df()


# ---------------------------------------------------------------------------- the marts
@dataclass
class Marts:
    """Every frame the pages show, as published (one load per snapshot)."""

    run_id: str
    published_at: dt.datetime
    as_of: dt.date  # the newest ticket or survey activity: the data's as-of date
    tables: pd.DataFrame  # table, rows
    cx: pd.DataFrame  # cx_metrics_monthly
    segments: pd.DataFrame  # cx_segment_monthly
    customers: pd.DataFrame  # dim_customers: customer_id, segment
    tickets: pd.DataFrame  # fct_tickets with created_month, solved_month
    surveys: pd.DataFrame  # fct_survey_responses with month, segment
    ex: pd.DataFrame  # ex_metrics_monthly
    teams: pd.DataFrame  # xm_team_monthly (+ department, from dim_employees)
    link: pd.DataFrame  # xm_link_summary
    match_rates: pd.DataFrame  # identity_match_rates
    unmatched: pd.DataFrame  # identity_unmatched, counted by link and detail
    # quarantine_summary: rows quarantined per raw table and reason (the rows stay in the
    # warehouse); _check_results: the checks the publishing run evaluated
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""
    health: pd.DataFrame = field(default_factory=pd.DataFrame)  # data_health (if published)
    freshness: pd.DataFrame = field(default_factory=pd.DataFrame)  # source_freshness

    @property
    def months(self) -> list[dt.date]:
        """Every month any CX or EX mart covers, oldest first."""
        return sorted(set(self.cx["month"]) | set(self.ex["month"]) | set(self.teams["month"]))

    def is_complete(self, month: dt.date) -> bool:
        """The month is final: `cx_metrics_monthly.is_complete_month` (every source the month
        depends on loaded past its end), or, for a month that mart lacks, the data reaches
        the month's last day."""
        if "is_complete_month" in self.cx:
            flags = self.cx.loc[self.cx["month"] == month, "is_complete_month"]
            if not flags.empty:
                return bool(flags.iloc[0])
        return self.as_of >= _month_end(month)

    @property
    def segment_names(self) -> list[str]:
        return sorted(self.customers["segment"].dropna().unique())

    @property
    def department_names(self) -> list[str]:
        return sorted(self.ex["department"].dropna().unique())

    def team_names(self, department: str | None = ALL) -> list[str]:
        teams = self.teams
        if department is not ALL:
            teams = teams[teams["department"] == department]
        return sorted(teams["team"].dropna().unique())


def _as_of(*dates: Any) -> dt.date:
    known = [pd.Timestamp(d).date() for d in dates if d is not None and not pd.isna(d)]
    return max(known) if known else dt.date.today()


def _month_end(month: dt.date) -> dt.date:
    return (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()


def _month(column: str) -> str:
    """The UTC calendar month (first day) of a timestamp column, as the CX marts define it."""
    return f"cast(date_trunc('month', {column} at time zone 'UTC') as date)"


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def load(source: Source) -> Marts:
    """Read the published marts (one connection, a few queries, closed at once)."""
    with source.connect() as con:

        def q(sql: str) -> pd.DataFrame:
            return source.read(con, sql)

        schema = "published" if source.is_postgres else "main"
        names = q(
            "select table_name from information_schema.tables "
            f"where table_schema = '{schema}' order by table_name"
        )["table_name"].tolist()
        info = q("select run_id, published_at from _publish_info")
        counts = [(t, int(q(f"select count(*) as n from {t}").iat[0, 0])) for t in names]
        tickets = q(
            f"select ticket_id, customer_id, team, {_month('created_at')} as created_month, "
            f"{_month('last_solved_at')} as solved_month, first_reply_at is not null as replied, "
            "first_reply_calendar_minutes, first_reply_business_minutes, "
            "full_resolution_calendar_minutes, full_resolution_business_minutes, "
            "is_solved, is_one_touch_resolution, count_reopens from fct_tickets"
        )
        surveys = q(
            f"select r.survey_kind, r.score, {_month('r.recorded_at')} as month, r.customer_id, "
            "c.segment from fct_survey_responses as r "
            "left join dim_customers as c on r.customer_id = c.customer_id"
        )
        as_of = q(
            "select cast(greatest(max(created_at at time zone 'UTC'), "
            "max(last_solved_at at time zone 'UTC')) as date) as d from fct_tickets"
        ).iat[0, 0]
        survey_as_of = q(
            "select cast(max(recorded_at at time zone 'UTC') as date) as d from fct_survey_responses"
        ).iat[0, 0]
        employees = q("select distinct team, department from dim_employees where team is not null")
        marts = Marts(
            run_id=str(info.iat[0, 0]),
            published_at=pd.Timestamp(info.iat[0, 1]).to_pydatetime(),
            as_of=_as_of(as_of, survey_as_of),
            tables=pd.DataFrame(counts, columns=["table", "rows"]),
            cx=_dates(q("select * from cx_metrics_monthly order by month"), "month"),
            segments=_dates(q("select * from cx_segment_monthly order by month, segment"), "month"),
            customers=q("select customer_id, segment from dim_customers"),
            tickets=_dates(tickets, "created_month", "solved_month"),
            surveys=_dates(surveys, "month"),
            ex=_dates(q("select * from ex_metrics_monthly order by month, department"), "month"),
            teams=_dates(q("select * from xm_team_monthly order by month, team"), "month"),
            link=q("select * from xm_link_summary order by ex_metric, cx_metric"),
            match_rates=q("select * from identity_match_rates order by link"),
            unmatched=q(
                "select link, detail, count(*) as records from identity_unmatched "
                "group by link, detail order by link, records desc"
            ),
            quarantine=(
                q(
                    "select source_table, reason, quarantined_rows from quarantine_summary "
                    "order by quarantined_rows desc, source_table, reason"
                )
                if "quarantine_summary" in names
                else pd.DataFrame()
            ),
            checks=(
                q("select * from _check_results order by passed, severity, asset, check_name")
                if "_check_results" in names
                else pd.DataFrame()
            ),
            source=source.describe(),
            health=(
                q("select * from data_health order by subject, verdict")
                if "data_health" in names
                else pd.DataFrame()
            ),
            freshness=(
                q("select * from source_freshness order by source")
                if "source_freshness" in names
                else pd.DataFrame()
            ),
        )
    # a team's department: where its members are now (support teams sit in one department)
    departments = employees.drop_duplicates("team").set_index("team")["department"]
    marts.teams["department"] = marts.teams["team"].map(departments)
    return marts


# ---------------------------------------------------------------------------- filters
@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    segment: str | None = ALL
    department: str | None = ALL
    team: str | None = ALL

    def months(self, frame: pd.DataFrame, column: str = "month") -> pd.DataFrame:
        return frame[(frame[column] >= self.start) & (frame[column] <= self.end)]


def default_range(marts: Marts, months: int = 12) -> tuple[dt.date, dt.date]:
    """The last `months` complete months (the current, incomplete month left out)."""
    complete = [m for m in marts.months if marts.is_complete(m)] or marts.months
    return complete[max(0, len(complete) - months)], complete[-1]


# ---------------------------------------------------------------------------- CX
CX_COLUMNS = [
    "nps_respondents",
    "nps_promoters",
    "nps_passives",
    "nps_detractors",
    "nps",
    "csat_responses",
    "csat_satisfied",
    "csat",
    "ces_responses",
    "ces_score_sum",
    "ces",
    "tickets_created",
    "tickets_with_first_reply",
    "first_reply_median_calendar_minutes",
    "first_reply_median_business_minutes",
    "tickets_last_solved",
    "full_resolution_median_calendar_minutes",
    "full_resolution_median_business_minutes",
    "tickets_created_now_solved",
    "resolution_rate",
    "solved_tickets",
    "one_touch_tickets",
    "one_touch_rate",
    "reopened_tickets",
    "reopen_rate",
    "customers_start",
    "customers_churned",
    "churn_rate",
    "retention_rate",
]
# the 95% intervals and the trailing-3-month NPS (published since the marts carry them)
CX_INTERVALS = [
    "nps_ci_low",
    "nps_ci_high",
    "nps_trailing_3m_respondents",
    "nps_trailing_3m",
    "nps_trailing_3m_ci_low",
    "nps_trailing_3m_ci_high",
    "csat_ci_low",
    "csat_ci_high",
    "ces_ci_low",
    "ces_ci_high",
]


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    return (scale * numerator / denominator.where(denominator > 0)).astype(float)


def cx_from_facts(marts: Marts, segment: str | None = ALL) -> pd.DataFrame:
    """`cx_metrics_monthly`'s survey and ticket figures computed from the fact marts, for the
    customers of one segment (or all): same months, same definitions."""
    months = pd.DataFrame({"month": marts.cx["month"]})
    surveys, tickets = marts.surveys, marts.tickets
    if segment is not ALL:
        surveys = surveys[surveys["segment"] == segment]
        ids = set(marts.customers.loc[marts.customers["segment"] == segment, "customer_id"])
        tickets = tickets[tickets["customer_id"].isin(ids)]

    def kind(name: str, low: int, high: int) -> pd.DataFrame:
        answers = surveys[(surveys["survey_kind"] == name) & surveys["score"].between(low, high)]
        return answers.groupby("month")["score"]

    nps = kind("nps", 0, 10)
    csat = kind("csat", 1, 5)
    ces = kind("ces", 1, 7)
    parts = [
        nps.size().rename("nps_respondents"),
        nps.apply(lambda s: (s >= 9).sum()).rename("nps_promoters"),
        nps.apply(lambda s: s.between(7, 8).sum()).rename("nps_passives"),
        nps.apply(lambda s: (s <= 6).sum()).rename("nps_detractors"),
        csat.size().rename("csat_responses"),
        csat.apply(lambda s: (s >= 4).sum()).rename("csat_satisfied"),
        ces.size().rename("ces_responses"),
        ces.sum().rename("ces_score_sum"),
    ]
    created = tickets.groupby("created_month")
    parts += [
        created.size().rename("tickets_created"),
        created["replied"].sum().rename("tickets_with_first_reply"),
        created["first_reply_calendar_minutes"]
        .median()
        .rename("first_reply_median_calendar_minutes"),
        created["first_reply_business_minutes"]
        .median()
        .rename("first_reply_median_business_minutes"),
        created["is_solved"].sum().rename("tickets_created_now_solved"),
    ]
    solved = tickets[tickets["solved_month"].notna()].groupby("solved_month")
    parts += [
        solved.size().rename("tickets_last_solved"),
        solved["full_resolution_calendar_minutes"]
        .median()
        .rename("full_resolution_median_calendar_minutes"),
        solved["full_resolution_business_minutes"]
        .median()
        .rename("full_resolution_median_business_minutes"),
        solved["is_one_touch_resolution"].sum().rename("one_touch_tickets"),
        solved["count_reopens"].apply(lambda s: (s > 0).sum()).rename("reopened_tickets"),
    ]
    out = months.set_index("month").join([p.rename_axis("month") for p in parts])
    counts = [c for c in out.columns if not c.endswith("_minutes")]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["nps"] = _ratio(out["nps_promoters"] - out["nps_detractors"], out["nps_respondents"], 100)
    out["csat"] = _ratio(out["csat_satisfied"], out["csat_responses"], 100)
    out["ces"] = _ratio(out["ces_score_sum"], out["ces_responses"])
    out["resolution_rate"] = _ratio(out["tickets_created_now_solved"], out["tickets_created"])
    out["solved_tickets"] = out["tickets_last_solved"]
    out["one_touch_rate"] = _ratio(out["one_touch_tickets"], out["solved_tickets"])
    out["reopen_rate"] = _ratio(out["reopened_tickets"], out["solved_tickets"])
    return out.reset_index()


def cx_monthly(marts: Marts, filters: Filters) -> pd.DataFrame:
    """The CX page's months: `cx_metrics_monthly` as published (all segments), or one
    segment's figures (facts for surveys and tickets, `cx_segment_monthly` for churn;
    retention is not published per segment: null)."""
    if filters.segment is ALL:
        extra = [c for c in CX_INTERVALS if c in marts.cx]
        frame = marts.cx[["month", *CX_COLUMNS, *extra]].copy()
    else:
        frame = cx_from_facts(marts, filters.segment)
        churn = marts.segments[marts.segments["segment"] == filters.segment]
        frame = frame.merge(
            churn[["month", "customers_start", "customers_churned", "churn_rate"]],
            on="month",
            how="left",
        )
        frame["retention_rate"] = np.nan
    frame = filters.months(frame).reset_index(drop=True)
    frame["complete"] = frame["month"].map(marts.is_complete)
    return frame


def segment_churn(marts: Marts, filters: Filters) -> pd.DataFrame:
    frame = filters.months(marts.segments)
    if filters.segment is not ALL:
        frame = frame[frame["segment"] == filters.segment]
    return frame.reset_index(drop=True)


def latest(frame: pd.DataFrame, column: str, denominator: str) -> pd.Series | None:
    """The newest row of `frame` whose `denominator` is positive (e.g. NPS: the relationship
    survey runs quarterly, so its newest month with respondents)."""
    rows = frame[frame[denominator].fillna(0) > 0]
    return None if rows.empty else rows.iloc[-1]


# ---------------------------------------------------------------------------- EX
def ex_monthly(marts: Marts, filters: Filters) -> pd.DataFrame:
    frame = filters.months(marts.ex)
    if filters.department is not ALL:
        frame = frame[frame["department"] == filters.department]
    return frame.reset_index(drop=True)


def team_monthly(marts: Marts, filters: Filters) -> pd.DataFrame:
    frame = filters.months(marts.teams)
    if filters.department is not ALL:
        frame = frame[frame["department"] == filters.department]
    if filters.team is not ALL:
        frame = frame[frame["team"] == filters.team]
    return frame.reset_index(drop=True)


def pooled_turnover(frame: pd.DataFrame) -> dict[str, float | None]:
    """Average monthly turnover over the rows: separations / summed average headcount."""
    headcount = float(frame["average_headcount"].sum())
    if headcount <= 0:
        return {"turnover": None, "voluntary": None, "involuntary": None}
    return {
        "turnover": float(frame["separations"].sum()) / headcount,
        "voluntary": float(frame["voluntary_separations"].sum()) / headcount,
        "involuntary": float(frame["involuntary_separations"].sum()) / headcount,
    }


# ---------------------------------------------------------------------------- EX <-> CX
@dataclass(frozen=True)
class Correlation:
    n: int
    r: float | None
    low: float | None = None  # 95% confidence interval, Fisher's z (n > 3)
    high: float | None = None


def fisher_ci(r: float | None, n: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """The confidence interval of Pearson's r by Fisher's z; none when n <= 3."""
    if r is None or n <= 3:
        return None, None
    from scipy import stats

    z = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
    half = float(stats.norm.ppf(0.5 + level / 2)) / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def published_pairs(teams: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The team-months `xm_link_summary` correlates: not suppressed, both values present."""
    return teams.loc[~teams["is_suppressed"].astype(bool)].dropna(subset=[x, y])


def pearson(pairs: pd.DataFrame, x: str, y: str) -> Correlation:
    """Pearson r as `xm_link_summary` computes it: null when n < 3 or a value is constant."""
    xs, ys = pairs[x].astype(float), pairs[y].astype(float)
    n = len(pairs)
    if n < 3 or xs.nunique() < 2 or ys.nunique() < 2:
        return Correlation(n, None)
    r = float(np.corrcoef(xs, ys)[0, 1])
    return Correlation(n, r, *fisher_ci(r, n))


def mart_correlation(marts: Marts, x: str, y: str) -> Correlation | None:
    row = marts.link[(marts.link["ex_metric"] == x) & (marts.link["cx_metric"] == y)]
    if row.empty:
        return None
    n = int(row["n"].iloc[0])
    r = row["pearson_r"].iloc[0]
    r = None if pd.isna(r) else float(r)
    return Correlation(n, r, *fisher_ci(r, n))


def between_within(pairs: pd.DataFrame, x: str, y: str) -> dict[str, Correlation]:
    """r of the team averages (between teams) and of the deviations from each team's own
    average (within teams), as the notebook ex_cx_link splits it."""
    pairs = pairs.astype({x: float, y: float})
    means = pairs.groupby("team")[[x, y]].mean()
    within = pairs[[x, y]] - pairs.groupby("team")[[x, y]].transform("mean")
    return {"between teams": pearson(means, x, y), "within teams": pearson(within, x, y)}


# ---------------------------------------------------------------------------- formatting
def fmt_number(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "n/a"
    return f"{float(value):,.{digits}f}{suffix}"


def fmt_rate(value: Any, digits: int = 1) -> str:
    """A fraction 0-1 as a percentage."""
    if value is None or pd.isna(value):
        return "n/a"
    return fmt_number(100 * float(value), digits, "%")


def fmt_hours(minutes: Any) -> str:
    if minutes is None or pd.isna(minutes):
        return "n/a"
    return fmt_number(float(minutes) / 60, 1, " h")


def fmt_count(value: Any) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    return f"{int(value):,}"


def survey_cell(row: pd.Series, column: str, digits: int = 1) -> str:
    """A survey figure of an EX row: the word "suppressed" when suppressed, never 0 or blank."""
    if bool(row["is_suppressed"]):
        return SUPPRESSED
    if column == "respondents":
        return fmt_count(row[column])
    return fmt_number(row[column], digits)


def fmt_interval(low: Any, high: Any, digits: int = 1) -> str:
    """A 95% interval as "low to high", or "" when the mart has none (too few answers)."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    return f"{low:.{digits}f} to {high:.{digits}f}"


def month_label(month: dt.date, marts: Marts | None = None) -> str:
    text = f"{month:%Y-%m}"
    if marts is not None and not marts.is_complete(month):
        text += f" (incomplete: data to {marts.as_of:%d %b})"
    return text
