"""Independent recomputation of the monthly CX and EX metrics, in plain pandas.

Reads only the raw schemas that dlt loaded (`raw_hubspot`, `raw_zendesk`, `raw_bamboohr`,
`raw_qualtrics`) and computes every figure from the metric definitions (the marts' dbt docs) plus the
staging layer's documented data-quality rules. Nothing here reads a staging, intermediate or
mart model or reuses dbt SQL: SQL is used only as `select * from raw_<vendor>.<table>`.
The marts are read separately, by the test, only to compare.

Data-quality rules applied (the project's documented choices):
- survey answers are valid only when the value is an integer within the question's scale
  (CSAT 1-5, CES 1-7, NPS/eNPS 0-10, engagement items 1-5); "N/A", out-of-scale numbers and
  omitted QIDs are no answer; month = UTC month of the raw `recorded_date`;
- deleted tickets (current status 'deleted') are left out of ticket metrics;
- a won deal has stage 'closedwon' or its known alias 'closedwon_legacy' (the retired stage
  id of the old pipeline); it is a contract only with a valid period (start and end dates,
  end after start) and an association to a HubSpot company; other won deals are excluded
  (quarantined) and make nobody a customer;
- a contact's company is its association, else the company whose domain is the contact's
  email domain (a domain shared by several companies: the earliest created); an NPS
  respondent's customer is the association of the contact with that email, else the
  company of the respondent email's domain;
- BambooHR dates '0000-00-00' and '' mean no date.

Freshness, per source: a source is loaded through its newest record time (HubSpot companies,
contacts and deals last modified; Zendesk tickets and users and organizations updated,
audits created; BambooHR employees lastChanged; Qualtrics responses recorded). A day's
customer status is decided once the CRM's newest record falls on a later UTC date; a month is
complete once Zendesk and Qualtrics reached the next month and the CRM decided its first day.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

Loader = Callable[[str], pd.DataFrame]

CSAT_SURVEY = "Post-ticket CSAT"
NPS_SURVEY = "Customer relationship NPS"
PULSE_SURVEY = "Employee engagement pulse"
# question scales, as the surveys define them
CSAT_QID, CSAT_SCALE = "QID1", (1, 5)
CES_QID, CES_SCALE = "QID2", (1, 7)
NPS_QID, NPS_SCALE = "QID1", (0, 10)
ENPS_QID, ENPS_SCALE = "QID1", (0, 10)
ENGAGEMENT_QIDS, ENGAGEMENT_SCALE = ("QID2", "QID3", "QID4", "QID5", "QID6"), (1, 5)
MIN_RESPONDENTS = 5
AGENT_ROLES = {"agent", "admin"}
UNASSIGNED = "Unassigned"

_INT_STRING = re.compile(r"^\s*[+-]?\d+\s*$")


# --------------------------------------------------------------------------- loading


def duckdb_loader(con: duckdb.DuckDBPyConnection) -> Loader:
    """`select *` from one raw table; JSON columns come back as text, timestamps in UTC."""
    con.execute("set TimeZone = 'UTC'")

    def load(table: str) -> pd.DataFrame:
        schema, name = table.split(".")
        cols = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        if not cols:
            raise LookupError(f"raw table {table} does not exist")
        select = ", ".join(
            f'cast("{c}" as varchar) as "{c}"' if t.upper() == "JSON" else f'"{c}"' for c, t in cols
        )
        return con.execute(f'select {select} from {schema}."{name}"').df()

    return load


def _latest(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per key (raw is merged already; this only guards against a re-appended row)."""
    if "_dlt_load_id" in df.columns:
        df = df.sort_values("_dlt_load_id", kind="stable")
    return df.drop_duplicates(key, keep="last").reset_index(drop=True)


def _utc(series: pd.Series) -> pd.Series:
    out = pd.to_datetime(series, utc=True)
    return out.dt.tz_convert("UTC")


def utc_month(series: pd.Series) -> pd.Series:
    """First day (naive Timestamp) of the UTC calendar month of each instant."""
    return _utc(series).dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()


def _month_of(day: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, 1)


def month_range(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    return list(pd.date_range(_month_of(first), _month_of(last), freq="MS"))


# --------------------------------------------------------------------------- surveys


def valid_score(value: object, scale: tuple[int, int]) -> int | None:
    """The answer as an int when it is an integer within the scale, else None (no answer)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        number = int(value)
    elif isinstance(value, str) and _INT_STRING.match(value):
        number = int(value)
    else:
        return None
    lo, hi = scale
    return number if lo <= number <= hi else None


def survey_responses(load: Loader, survey_name: str) -> pd.DataFrame:
    """Responses of one survey (by its name): response_id, recorded_at (UTC), month, values (dict)."""
    surveys = _latest(load("raw_qualtrics.surveys"), "id")
    ids = set(surveys.loc[surveys["name"] == survey_name, "id"])
    assert ids, f"survey {survey_name!r} not in raw_qualtrics.surveys"
    resp = _latest(load("raw_qualtrics.survey_responses"), "response_id")
    resp = resp[resp["survey_id"].isin(ids)].copy()
    resp["recorded_at"] = _utc(resp["recorded_date"])
    resp["month"] = utc_month(resp["recorded_at"])
    resp["values"] = [json.loads(v) if isinstance(v, str) else (v or {}) for v in resp["values"]]
    return resp[["response_id", "recorded_at", "month", "values"]].reset_index(drop=True)


def _scores(resp: pd.DataFrame, qid: str, scale: tuple[int, int]) -> pd.Series:
    return pd.Series(
        [valid_score(v.get(qid), scale) for v in resp["values"]], index=resp.index, dtype="Int64"
    )


# --------------------------------------------------------------------------- CX


def survey_metrics_by_month(load: Loader) -> pd.DataFrame:
    """NPS, CSAT, CES parts and ratios per month recorded."""
    nps = survey_responses(load, NPS_SURVEY)
    nps["score"] = _scores(nps, NPS_QID, NPS_SCALE)
    nps = nps[nps["score"].notna()]
    nps_m = nps.groupby("month").agg(
        nps_respondents=("score", "size"),
        nps_promoters=("score", lambda s: int((s >= 9).sum())),
        nps_passives=("score", lambda s: int(((s >= 7) & (s <= 8)).sum())),
        nps_detractors=("score", lambda s: int((s <= 6).sum())),
    )

    post = survey_responses(load, CSAT_SURVEY)
    post["csat"] = _scores(post, CSAT_QID, CSAT_SCALE)
    post["ces"] = _scores(post, CES_QID, CES_SCALE)
    csat = post[post["csat"].notna()]
    csat_m = csat.groupby("month").agg(
        csat_responses=("csat", "size"),
        csat_satisfied=("csat", lambda s: int(s.isin([4, 5]).sum())),
    )
    ces = post[post["ces"].notna()]
    ces_m = ces.groupby("month").agg(
        ces_responses=("ces", "size"), ces_score_sum=("ces", lambda s: int(s.sum()))
    )
    ces_sd = ces.groupby("month")["ces"].agg(lambda s: s.astype("float64").std(ddof=1))
    out = nps_m.join(csat_m, how="outer").join(ces_m, how="outer").fillna(0).astype("int64")
    out["ces_score_stddev"] = ces_sd.reindex(out.index)
    out["nps"] = _ratio(
        100.0 * (out["nps_promoters"] - out["nps_detractors"]), out["nps_respondents"]
    )
    out["csat"] = _ratio(100.0 * out["csat_satisfied"], out["csat_responses"])
    out["ces"] = _ratio(1.0 * out["ces_score_sum"], out["ces_responses"])
    return out


Z = 1.96


def nps_interval(promoters: float, detractors: float, n: float) -> tuple[float, float]:
    """95% adjusted-Wald interval of an NPS: 0.75 promoter, 1.5 passive and 0.75 detractor
    pseudo-answers added (n + 3), then the Wald formula; clipped to [-100, 100]."""
    if not n or pd.isna(n):
        return (math.nan, math.nan)
    m = n + 3.0
    p, d = (promoters + 0.75) / m, (detractors + 0.75) / m
    half = Z * math.sqrt((p + d - (p - d) ** 2) / m)
    return (100.0 * max(-1.0, p - d - half), 100.0 * min(1.0, p - d + half))


def wilson_interval(successes: float, n: float) -> tuple[float, float]:
    """95% Wilson score interval of a share, on a 100-point scale."""
    if not n or pd.isna(n):
        return (math.nan, math.nan)
    p, z2 = successes / n, Z * Z
    center, den = p + z2 / (2 * n), 1 + z2 / n
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (100.0 * (center - half) / den, 100.0 * (center + half) / den)


def mean_interval(total: float, n: float, sd: float, lo: float, hi: float) -> tuple[float, float]:
    """mean -/+ 1.96 s / sqrt(n), clipped to [lo, hi]; none below 2 answers."""
    if pd.isna(n) or n < 2:
        return (math.nan, math.nan)
    mean, half = total / n, Z * sd / math.sqrt(n)
    return (max(lo, mean - half), min(hi, mean + half))


def small_sample_columns(out: pd.DataFrame) -> pd.DataFrame:
    """Intervals and the trailing 3-month NPS on a gapless month index of survey parts."""
    out = out.sort_index().copy()
    for prefix, (p, d, n) in {
        "nps": ("nps_promoters", "nps_detractors", "nps_respondents"),
    }.items():
        bounds = [nps_interval(a, b, c) for a, b, c in zip(out[p], out[d], out[n], strict=True)]
        out[f"{prefix}_ci_low"] = [b[0] for b in bounds]
        out[f"{prefix}_ci_high"] = [b[1] for b in bounds]
    window = {
        "nps_trailing_3m_respondents": "nps_respondents",
        "nps_trailing_3m_promoters": "nps_promoters",
        "nps_trailing_3m_detractors": "nps_detractors",
    }
    for col, part in window.items():
        out[col] = out[part].astype("float64").rolling(3, min_periods=3).sum()
    out["nps_trailing_3m"] = _ratio(
        100.0 * (out["nps_trailing_3m_promoters"] - out["nps_trailing_3m_detractors"]),
        out["nps_trailing_3m_respondents"],
    )
    bounds = [
        nps_interval(a, b, c)
        for a, b, c in zip(
            out["nps_trailing_3m_promoters"],
            out["nps_trailing_3m_detractors"],
            out["nps_trailing_3m_respondents"],
            strict=True,
        )
    ]
    out["nps_trailing_3m_ci_low"] = [b[0] for b in bounds]
    out["nps_trailing_3m_ci_high"] = [b[1] for b in bounds]
    bounds = [
        wilson_interval(a, b)
        for a, b in zip(out["csat_satisfied"], out["csat_responses"], strict=True)
    ]
    out["csat_ci_low"] = [b[0] for b in bounds]
    out["csat_ci_high"] = [b[1] for b in bounds]
    bounds = [
        mean_interval(a, b, c, 1.0, 7.0)
        for a, b, c in zip(
            out["ces_score_sum"], out["ces_responses"], out["ces_score_stddev"], strict=True
        )
    ]
    out["ces_ci_low"] = [b[0] for b in bounds]
    out["ces_ci_high"] = [b[1] for b in bounds]
    return out


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype("float64")
    den = den.astype("float64")
    return (num / den).where(den != 0)


def ticket_first_replies(load: Loader) -> pd.DataFrame:
    """Per non-deleted ticket: created_at, month, first_reply_at, first_reply_calendar_minutes, is_solved.

    First reply = the earliest public comment whose author is a Zendesk agent or admin, not
    counting the comment of the creation audit (the request itself)."""
    tickets = _latest(load("raw_zendesk.tickets"), "id")
    tickets = tickets[tickets["status"] != "deleted"].copy()
    tickets["created_at"] = _utc(tickets["created_at"])
    tickets["month"] = utc_month(tickets["created_at"])

    audits = _latest(load("raw_zendesk.ticket_events"), "id")
    children = _latest(load("raw_zendesk.ticket_events__child_events"), "_dlt_id")
    children = children.merge(
        audits[["_dlt_id", "id", "ticket_id"]].rename(
            columns={"_dlt_id": "_dlt_parent_id", "id": "audit"}
        ),
        on="_dlt_parent_id",
        how="inner",
    )
    creation_audits = set(children.loc[children["event_type"] == "Create", "audit"])
    users = _latest(load("raw_zendesk.users"), "id")
    agents = set(users.loc[users["role"].isin(AGENT_ROLES), "id"])

    comments = children[
        (children["event_type"] == "Comment")
        & (children["public"] == True)  # noqa: E712  (nullable boolean)
        & children["author_id"].isin(agents)
        & ~children["audit"].isin(creation_audits)
    ].copy()
    comments["created_at"] = _utc(comments["created_at"])
    first = comments.groupby("ticket_id")["created_at"].min().rename("first_reply_at")

    out = tickets.set_index("id")[["created_at", "month", "status"]].join(first)
    out["first_reply_calendar_minutes"] = (
        out["first_reply_at"] - out["created_at"]
    ).dt.total_seconds() / 60.0
    out["is_solved"] = out["status"].isin(["solved", "closed"])
    out.index.name = "ticket_id"
    return out


def ticket_metrics_by_month(load: Loader) -> pd.DataFrame:
    t = ticket_first_replies(load)
    return t.groupby("month").agg(
        tickets_created=("created_at", "size"),
        tickets_with_first_reply=("first_reply_at", "count"),
        # pandas' median interpolates like percentile_cont(0.5) and skips nulls
        first_reply_median_calendar_minutes=("first_reply_calendar_minutes", "median"),
        tickets_created_now_solved=("is_solved", "sum"),
    )


# --------------------------------------------------------------------------- SLAs


SLA_PRIORITIES = ("low", "normal", "high", "urgent")


def sla_outcomes(load: Loader) -> pd.DataFrame:
    """Per SLA instance of a non-deleted ticket, straight from Zendesk's ticket metric events
    (DECISIONS.md, "SLAs"): the latest apply_sla's target, the first breach not marked
    deleted if no later than the fulfilment, the fulfilment (the latest of activate / pause /
    fulfill, if a fulfill); status breached / achieved / paused / active; outcome month; the ticket's priority (low..urgent, else null)."""
    ev = _latest(load("raw_zendesk.ticket_metric_events"), "id")
    ev = ev[ev["instance_id"] >= 1].copy()
    ev["time"] = _utc(ev["time"])
    ev["sla_metric"] = ev["metric"].where(ev["metric"] != "reply_time", "next_reply_time")
    ev.loc[(ev["metric"] == "reply_time") & (ev["instance_id"] == 1), "sla_metric"] = (
        "first_reply_time"
    )
    ev.loc[ev["metric"] == "resolution_time", "sla_metric"] = "total_resolution_time"
    deleted = ev["deleted"].fillna(False).astype(bool) if "deleted" in ev else False
    key = ["ticket_id", "sla_metric", "instance_id"]
    applied = ev[ev["type"] == "apply_sla"].sort_values(["time", "id"])
    out = applied.groupby(key).agg(
        target_minutes=("sla__target", "last"),
        policy_id=("sla__policy__id", "last"),
        applications=("id", "size"),
    )
    # the latest of activate / pause / fulfill says whether the metric runs, waits or is done
    state = (
        ev[ev["type"].isin(["activate", "pause", "fulfill"])]
        .sort_values(["time", "id"])
        .groupby(key)[["type", "time"]]
        .last()
    )
    fulfilled = state["time"].where(state["type"] == "fulfill").rename("fulfilled_at")
    breached = (
        ev[(ev["type"] == "breach") & ~deleted].groupby(key)["time"].min().rename("breached_at")
    )
    out = out.join([fulfilled, breached, state["type"].rename("state")]).reset_index()
    is_breached = out["breached_at"].notna() & ~(out["breached_at"] > out["fulfilled_at"])
    out["status"] = "active"
    out.loc[out["state"] == "pause", "status"] = "paused"
    out.loc[out["fulfilled_at"].notna(), "status"] = "achieved"
    out.loc[is_breached, "status"] = "breached"
    out["outcome_at"] = out["breached_at"].where(is_breached, out["fulfilled_at"])
    out.loc[~out["status"].isin(["achieved", "breached"]), "outcome_at"] = pd.NaT
    out["month"] = utc_month(out["outcome_at"])

    tickets = _latest(load("raw_zendesk.tickets"), "id")
    tickets = tickets[tickets["status"] != "deleted"]
    prio = tickets["priority"].astype("string").str.strip().str.lower()
    prio = prio.where(prio.isin(SLA_PRIORITIES))
    out = out.merge(
        pd.DataFrame({"ticket_id": tickets["id"], "priority": prio}), on="ticket_id", how="inner"
    )
    return out


def sla_attainment_by_month(load: Loader) -> pd.DataFrame:
    """Achieved, breached and attainment (100 x achieved / decided) per outcome month x SLA
    metric x priority (teams summed)."""
    o = sla_outcomes(load)
    o = o[o["status"].isin(["achieved", "breached"])]
    g = (
        o.assign(
            achieved=(o["status"] == "achieved").astype(int),
            breached=(o["status"] == "breached").astype(int),
            priority=o["priority"].fillna("(none)"),
        )
        .groupby(["month", "sla_metric", "priority"])[["achieved", "breached"]]
        .sum()
    )
    g["attainment"] = 100.0 * g["achieved"] / (g["achieved"] + g["breached"])
    return g


# --------------------------------------------------------------------------- freshness


def _parse_instants(series: pd.Series) -> pd.Series:
    """Vendor timestamps (ISO strings with Z or an offset, or typed) as UTC; unreadable -> NaT."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return _utc(series)
    return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")


def _first(df: pd.DataFrame, *columns: str) -> pd.Series:
    """coalesce() of the columns that exist."""
    out = pd.Series([None] * len(df), index=df.index, dtype=object)
    for c in columns:
        if c in df.columns:
            out = out.where(out.notna(), df[c])
    return out


SOURCE_TIMES = {
    "hubspot": [
        ("raw_hubspot.companies", ("properties__hs_lastmodifieddate", "updated_at")),
        ("raw_hubspot.contacts", ("properties__lastmodifieddate", "updated_at")),
        ("raw_hubspot.deals", ("properties__hs_lastmodifieddate", "updated_at")),
    ],
    "zendesk": [
        ("raw_zendesk.tickets", ("updated_at",)),
        ("raw_zendesk.ticket_events", ("created_at",)),
        ("raw_zendesk.users", ("updated_at",)),
        ("raw_zendesk.organizations", ("updated_at",)),
    ],
    "bamboohr": [("raw_bamboohr.employees", ("last_changed",))],
    "qualtrics": [("raw_qualtrics.survey_responses", ("recorded_date",))],
}


@dataclass(frozen=True)
class Horizon:
    """How far one source is loaded: its newest record, that instant's UTC date, and the last
    day it has wholly passed (statuses it decides are final up to that day)."""

    loaded_through_at: pd.Timestamp | None

    @property
    def loaded_through_date(self) -> pd.Timestamp | None:
        if self.loaded_through_at is None:
            return None
        return self.loaded_through_at.tz_convert("UTC").tz_localize(None).normalize()

    @property
    def decided_through_date(self) -> pd.Timestamp | None:
        d = self.loaded_through_date
        return None if d is None else d - pd.Timedelta(days=1)

    def decides(self, day: pd.Timestamp) -> bool:
        d = self.decided_through_date
        return d is not None and day <= d

    def reached(self, day: pd.Timestamp) -> bool:
        """Its data reaches the first instant of `day` (a month's counts are complete once it
        reaches the next month)."""
        d = self.loaded_through_date
        return d is not None and d >= day


def source_horizons(load: Loader) -> dict[str, Horizon]:
    out = {}
    for source, tables in SOURCE_TIMES.items():
        newest = []
        for table, columns in tables:
            t = _parse_instants(_first(load(table), *columns)).max()
            if pd.notna(t):
                newest.append(t)
        out[source] = Horizon(max(newest) if newest else None)
    return out


# --------------------------------------------------------------------------- CRM

WON_STAGES = {"closedwon", "closedwon_legacy"}  # the seed's meaning of the stage ids


def _company_ids(load: Loader) -> set[str]:
    companies = _latest(load("raw_hubspot.companies"), "id")
    return set(companies["id"].dropna().astype(str).str.strip())


def _month_diff(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)


def won_deals(load: Loader) -> pd.DataFrame:
    """Every won deal (latest version): deal_id, customer_ids (associated companies), start,
    end, amount, annual_contract_value, verdict ('contract' or why it was excluded)."""
    deals = _latest(load("raw_hubspot.deals"), "id")
    stage = deals["properties__dealstage"].astype("string").str.strip().str.lower()
    deals = deals[stage.isin(WON_STAGES)].copy()
    companies = _company_ids(load)
    links = load("raw_hubspot.deal_companies")[["deal_id", "company_id"]].dropna()
    links = links.assign(
        deal_id=links["deal_id"].astype(str).str.strip(),
        customer_id=links["company_id"].astype("int64").astype(str),
    )
    links = links[links["customer_id"].isin(companies)].drop_duplicates(["deal_id", "customer_id"])
    by_deal = links.groupby("deal_id")["customer_id"].apply(sorted)
    out = pd.DataFrame(
        {
            "deal_id": deals["id"].astype(str).str.strip(),
            "amount": pd.to_numeric(deals["properties__amount"], errors="coerce"),
            "start": pd.to_datetime(
                deals["properties__contract_start_date"], format="%Y-%m-%d", errors="coerce"
            ),
            "end": pd.to_datetime(
                deals["properties__contract_end_date"], format="%Y-%m-%d", errors="coerce"
            ),
        }
    ).reset_index(drop=True)
    out["customer_ids"] = [by_deal.get(d, []) for d in out["deal_id"]]
    valid = out["start"].notna() & out["end"].notna() & (out["end"] > out["start"])
    months = _month_diff(out["start"], out["end"]).where(valid)
    out["annual_contract_value"] = (out["amount"] * 12.0 / months).where(months > 0)
    out["verdict"] = "contract"
    no_company = out["customer_ids"].map(len) == 0
    out.loc[no_company, "verdict"] = "won deal without company association"
    out.loc[~valid, "verdict"] = "won deal without a valid contract period"
    return out


def customer_contracts(load: Loader) -> pd.DataFrame:
    """Contracts: customer_id, start (date), end (date, exclusive), one row per company."""
    deals = won_deals(load)
    deals = deals[deals["verdict"] == "contract"].explode("customer_ids")
    return pd.DataFrame(
        {
            "deal_id": deals["deal_id"],
            "customer_id": deals["customer_ids"],
            "start": deals["start"],
            "end": deals["end"],
            "annual_contract_value": deals["annual_contract_value"],
        }
    ).reset_index(drop=True)


def customers_on(contracts: pd.DataFrame, day: pd.Timestamp) -> set[str]:
    covered = (contracts["start"] <= day) & (day < contracts["end"])
    return set(contracts.loc[covered, "customer_id"])


def dim_customer_status(load: Loader) -> pd.DataFrame:
    """Per company: status_date (the CRM's decided-through day), is_active (a contract
    covers it) and churned_date (not active: end of the last contract begun by then)."""
    crm = source_horizons(load)["hubspot"]
    day = crm.decided_through_date
    contracts = customer_contracts(load)
    rows = []
    for company in sorted(_company_ids(load)):
        mine = contracts[contracts["customer_id"] == company]
        active = (
            bool(((mine["start"] <= day) & (day < mine["end"])).any()) if day is not None else False
        )
        begun = mine.loc[mine["start"] <= day, "end"] if day is not None else mine["end"].iloc[:0]
        churned = None if active or begun.empty else begun.max()
        rows.append(
            {
                "customer_id": company,
                "status_date": day,
                "is_active": active,
                "churned_date": churned,
            }
        )
    return pd.DataFrame(rows).set_index("customer_id")


def data_as_of(load: Loader) -> pd.Timestamp:
    """The latest instant in the help-desk and survey data (the EX marts' last month)."""
    stamps = [
        _utc(load("raw_zendesk.tickets")["updated_at"]).max(),
        _utc(load("raw_zendesk.tickets")["created_at"]).max(),
        _utc(load("raw_zendesk.ticket_events")["created_at"]).max(),
        _utc(load("raw_qualtrics.survey_responses")["recorded_date"]).max(),
    ]
    return max(s for s in stamps if pd.notna(s))


def customer_metrics_by_month(load: Loader, months: Iterable[pd.Timestamp]) -> pd.DataFrame:
    """Customers on day 1 (null until the CRM decided that day), the end state (null until the
    CRM decided day 1 of the next month), and the excluded won deals covering day 1."""
    contracts = customer_contracts(load)
    excluded = won_deals(load)
    excluded = excluded[(excluded["verdict"] != "contract") & excluded["start"].notna()]
    crm = source_horizons(load)["hubspot"]
    rows = []
    nan = float("nan")
    for m in months:
        nxt = m + pd.DateOffset(months=1)
        start, end = customers_on(contracts, m), customers_on(contracts, nxt)
        cover = (excluded["start"] <= m) & (m < excluded["end"])
        start_known, end_known = crm.decides(m), crm.decides(nxt)
        rows.append(
            {
                "month": m,
                "customers_start": len(start) if start_known else nan,
                "customers_end": len(end) if end_known else nan,
                "customers_new": len(end - start) if end_known else nan,
                "customers_churned": len(start - end) if end_known else nan,
                "excluded_contracts_start": int(cover.sum()) if start_known else nan,
                "excluded_contract_value_start": (
                    float(excluded.loc[cover, "annual_contract_value"].sum())
                    if start_known
                    else nan
                ),
            }
        )
    out = pd.DataFrame(rows).set_index("month")
    out["churn_rate"] = _ratio(1.0 * out["customers_churned"], out["customers_start"])
    out["retention_rate"] = _ratio(
        1.0 * (out["customers_end"] - out["customers_new"]), out["customers_start"]
    )
    return out


def cx_months(load: Loader) -> list[pd.Timestamp]:
    """From the first month with any CX data (survey, ticket, customer) to the month the
    freshest of the help desk, the surveys and the CRM has reached."""
    firsts = [
        survey_responses(load, NPS_SURVEY)["month"].min(),
        survey_responses(load, CSAT_SURVEY)["month"].min(),
        ticket_first_replies(load)["month"].min(),
    ]
    contracts = customer_contracts(load)
    if len(contracts):
        firsts.append(_month_of(contracts["start"].min()))
    h = source_horizons(load)
    last = max(
        h[s].loaded_through_date
        for s in ("zendesk", "qualtrics", "hubspot")
        if h[s].loaded_through_at
    )
    return month_range(min(f for f in firsts if pd.notna(f)), last)


def cx_complete_months(load: Loader, months: Iterable[pd.Timestamp]) -> pd.Series:
    """A month is complete once the help desk and the surveys reached the next month and the
    CRM decided its first day (the month's end state)."""
    h = source_horizons(load)
    flags = {}
    for m in months:
        nxt = m + pd.DateOffset(months=1)
        flags[m] = (
            h["zendesk"].reached(nxt) and h["qualtrics"].reached(nxt) and h["hubspot"].decides(nxt)
        )
    return pd.Series(flags, name="is_complete_month", dtype=bool)


def cx_metrics_monthly(load: Loader) -> pd.DataFrame:
    """The recomputed counterpart of marts.cx_metrics_monthly, indexed by month."""
    months = cx_months(load)
    out = pd.DataFrame(index=pd.Index(months, name="month"))
    out = out.join(survey_metrics_by_month(load)).join(ticket_metrics_by_month(load))
    counts = [
        c
        for c in out.columns
        if c
        not in ("nps", "csat", "ces", "ces_score_stddev", "first_reply_median_calendar_minutes")
    ]
    out[counts] = out[counts].fillna(0).astype("int64")
    out = small_sample_columns(out)
    out = out.join(customer_metrics_by_month(load, months))
    out = out.join(cx_complete_months(load, months))
    return out


# --------------------------------------------------------------------------- identity


def _normalize_domain(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = re.sub(r"^www\.", "", str(value).strip().lower())
    return text or None


def _normalize_email(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip().lower() or None


def _email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.split("@", 1)[1] or None


def company_domains(load: Loader) -> dict[str, str]:
    """Normalised domain -> HubSpot company id (the earliest created when shared)."""
    companies = _latest(load("raw_hubspot.companies"), "id")
    created = _parse_instants(_first(companies, "properties__createdate", "created_at"))
    frame = pd.DataFrame(
        {
            "customer_id": companies["id"].astype(str).str.strip(),
            "domain": [_normalize_domain(d) for d in companies.get("properties__domain", [])],
            "created": created,
        }
    ).dropna(subset=["domain"])
    frame = frame.sort_values(["domain", "created", "customer_id"], kind="stable")
    return dict(frame.drop_duplicates("domain")[["domain", "customer_id"]].itertuples(index=False))


def contact_companies(load: Loader) -> pd.DataFrame:
    """Per contact: email, customer_id (association, else email domain), match_method."""
    contacts = _latest(load("raw_hubspot.contacts"), "id")
    domains = company_domains(load)
    assoc = contacts["properties__associatedcompanyid"].astype("string").str.strip()
    assoc = assoc.where(assoc != "")
    emails = [_normalize_email(e) for e in contacts["properties__email"]]
    fallback = [domains.get(_email_domain(e)) for e in emails]
    out = pd.DataFrame(
        {
            "contact_id": contacts["id"].astype(str).str.strip(),
            "email": emails,
            "associated": assoc.astype(object).where(assoc.notna(), None),
            "fallback": fallback,
            "updated_at": _parse_instants(
                _first(contacts, "properties__lastmodifieddate", "updated_at")
            ),
        }
    )
    out["customer_id"] = out["associated"].where(out["associated"].notna(), out["fallback"])
    out["match_method"] = [
        "association" if a is not None else ("email_domain" if f is not None else None)
        for a, f in zip(out["associated"], out["fallback"], strict=True)
    ]
    return out.set_index("contact_id")


def nps_respondent_customers(load: Loader) -> pd.DataFrame:
    """Per NPS response: contact_id (by email) and customer_id (the contact's association,
    else the respondent email domain's company), customer_match_method."""
    resp = survey_responses(load, NPS_SURVEY)
    contacts = contact_companies(load).reset_index()
    contacts = contacts[contacts["email"].notna()].copy()
    contacts["rank_method"] = (
        contacts["match_method"].map({"association": 0, "email_domain": 1}).fillna(2)
    )
    contacts = contacts.sort_values(
        ["email", "rank_method", "updated_at", "contact_id"],
        ascending=[True, True, False, True],
        kind="stable",
    ).drop_duplicates("email")
    by_email = contacts.set_index("email")
    domains = company_domains(load)
    rows = []
    for rid, recorded_at, values in zip(
        resp["response_id"], resp["recorded_at"], resp["values"], strict=True
    ):
        email = _normalize_email(values.get("recipientEmail"))
        contact = by_email.loc[email] if email in by_email.index else None
        if contact is not None and contact["match_method"] == "association":
            customer, method = contact["customer_id"], "association"
        else:
            customer = domains.get(_email_domain(email))
            method = "email_domain" if customer is not None else None
        rows.append(
            {
                "response_id": rid,
                "contact_id": None if contact is None else contact["contact_id"],
                "customer_id": customer,
                "customer_match_method": method,
                "recorded_at": recorded_at,
            }
        )
    return pd.DataFrame(rows).set_index("response_id")


def crm_match_rates(load: Loader) -> pd.DataFrame:
    """identity_match_rates rows of the CRM links: contact_company, nps_respondent_customer,
    deal_company (total, matched, unmatched, match_rate, matched_by_fallback, pending). An
    unmatched NPS response recorded after the CRM's newest record is pending (its contact may
    not be loaded yet): left out of total."""
    contacts = contact_companies(load)
    nps = nps_respondent_customers(load)
    deals = won_deals(load)
    crm_loaded = source_horizons(load)["hubspot"].loaded_through_at
    nps_pending = nps["customer_id"].isna() & (nps["recorded_at"] > crm_loaded)
    rows = [
        (
            "contact_company",
            len(contacts),
            contacts["customer_id"].notna().sum(),
            (contacts["match_method"] == "email_domain").sum(),
            0,
        ),
        (
            "nps_respondent_customer",
            len(nps) - nps_pending.sum(),
            nps["customer_id"].notna().sum(),
            (nps["customer_match_method"] == "email_domain").sum(),
            nps_pending.sum(),
        ),
        ("deal_company", len(deals), (deals["customer_ids"].map(len) > 0).sum(), 0, 0),
    ]
    out = pd.DataFrame(rows, columns=["link", "total", "matched", "matched_by_fallback", "pending"])
    out["unmatched"] = out["total"] - out["matched"]
    out["match_rate"] = _ratio(out["matched"], out["total"])
    return out.set_index("link")


def data_health(load: Loader) -> pd.DataFrame:
    """data_health rows of won_deals: records, amount, ACV and shares per verdict."""
    deals = won_deals(load)
    out = deals.groupby("verdict").agg(
        records=("deal_id", "size"),
        amount=("amount", lambda s: s.sum(min_count=1)),
        annual_contract_value=("annual_contract_value", lambda s: s.sum(min_count=1)),
    )
    out["is_excluded"] = out.index != "contract"
    out["share_of_records"] = out["records"] / out["records"].sum()
    out["share_of_amount"] = out["amount"] / out["amount"].sum()
    return out


# --------------------------------------------------------------------------- EX


def _bamboo_date(value: object) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    if text in ("", "0000-00-00"):
        return None
    day = pd.to_datetime(text[:10], format="%Y-%m-%d", errors="coerce")
    return None if pd.isna(day) else day


def _termination_type(label: object) -> str | None:
    text = str(label or "").lower()
    if "involuntary" in text:
        return "involuntary"
    if "voluntary" in text:
        return "voluntary"
    return None


@dataclass(frozen=True)
class Period:
    employee_id: str
    hire_date: pd.Timestamp
    termination_date: pd.Timestamp | None
    termination_type: str | None


def employment_periods(load: Loader) -> list[Period]:
    """A 'Terminated' row ends the open period; any other status starts one if none is open."""
    status = _latest(load("raw_bamboohr.employment_status"), "id").copy()
    status["day"] = [_bamboo_date(v) for v in status["date"]]
    status = status[status["day"].notna()]
    status["row_no"] = pd.to_numeric(status["id"], errors="coerce")
    periods: list[Period] = []
    for emp, rows in status.sort_values(["employee_id", "day", "row_no"]).groupby("employee_id"):
        hire = None
        for row in rows.itertuples():
            if row.employment_status == "Terminated":
                if hire is not None:
                    periods.append(
                        Period(str(emp), hire, row.day, _termination_type(row.termination_type_id))
                    )
                    hire = None
            elif hire is None:
                hire = row.day
        if hire is not None:
            periods.append(Period(str(emp), hire, None, None))
    return periods


class JobHistory:
    """Department as of a day: the employee's jobInfo row with the latest date on or before it."""

    def __init__(self, load: Loader):
        jobs = _latest(load("raw_bamboohr.job_info"), "id").copy()
        jobs["day"] = [_bamboo_date(v) for v in jobs["date"]]
        jobs = jobs[jobs["day"].notna()]
        jobs["row_no"] = pd.to_numeric(jobs["id"], errors="coerce")
        jobs = jobs.sort_values(["employee_id", "day", "row_no"])
        self._rows = {
            str(emp): list(zip(g["day"], g["department"], strict=True))
            for emp, g in jobs.groupby("employee_id")
        }

    def department(self, employee_id: str, day: pd.Timestamp) -> str:
        dept = None
        for start, d in self._rows.get(employee_id, []):
            if start <= day:
                dept = d
            else:
                break
        if dept is None or (isinstance(dept, float) and math.isnan(dept)) or not str(dept).strip():
            return UNASSIGNED
        return str(dept)


def headcount_on(periods: list[Period], jobs: JobHistory, day: pd.Timestamp) -> pd.Series:
    """Headcount by department on a day (a person counts once even if two periods touch it)."""
    active = {
        p.employee_id
        for p in periods
        if p.hire_date <= day and (p.termination_date is None or day <= p.termination_date)
    }
    return pd.Series([jobs.department(e, day) for e in active], dtype="object").value_counts()


def hr_metrics_by_month(load: Loader, months: Iterable[pd.Timestamp]) -> pd.DataFrame:
    periods = employment_periods(load)
    jobs = JobHistory(load)
    frames = []
    for m in months:
        last = m + pd.offsets.MonthEnd(0)
        frames.append(
            headcount_on(periods, jobs, m).rename("headcount_start").to_frame().assign(month=m)
        )
        frames.append(
            headcount_on(periods, jobs, last).rename("headcount_end").to_frame().assign(month=m)
        )
    heads = pd.concat(frames).rename_axis("department").reset_index()
    heads = heads.groupby(["month", "department"])[["headcount_start", "headcount_end"]].sum(
        min_count=1
    )

    moves = []
    for p in periods:
        moves.append(
            {
                "month": _month_of(p.hire_date),
                "department": jobs.department(p.employee_id, p.hire_date),
                "hires": 1,
            }
        )
        if p.termination_date is not None:
            moves.append(
                {
                    "month": _month_of(p.termination_date),
                    "department": jobs.department(p.employee_id, p.termination_date),
                    "separations": 1,
                    "voluntary_separations": int(p.termination_type == "voluntary"),
                    "involuntary_separations": int(p.termination_type == "involuntary"),
                }
            )
    moves = pd.DataFrame(moves).groupby(["month", "department"]).sum(min_count=1)
    months = set(months)
    moves = moves[moves.index.get_level_values("month").isin(months)]
    return heads.join(moves, how="outer").fillna(0).astype("int64")


def pulse_metrics_by_month(load: Loader) -> pd.DataFrame:
    """Per month x embedded department: respondents, eNPS and engagement parts, and the
    primary suppression flag (fewer than 5 respondents behind any of the survey figures)."""
    resp = survey_responses(load, PULSE_SURVEY)
    resp["department"] = [
        str(v.get("department")).strip() if str(v.get("department") or "").strip() else UNASSIGNED
        for v in resp["values"]
    ]
    resp["enps_score"] = _scores(resp, ENPS_QID, ENPS_SCALE)
    items = pd.concat(
        [_scores(resp, q, ENGAGEMENT_SCALE).rename(q) for q in ENGAGEMENT_QIDS], axis=1
    )
    resp["engagement_answers"] = items.notna().sum(axis=1)
    resp["engagement_favorable"] = items.isin([4, 5]).sum(axis=1)
    resp["has_answer"] = resp["enps_score"].notna() | (resp["engagement_answers"] > 0)
    resp = resp[resp["has_answer"]]
    s = resp["enps_score"]
    resp = resp.assign(
        enps_respondents=s.notna().astype(int),
        enps_promoters=(s >= 9).fillna(False).astype(int),
        enps_passives=((s >= 7) & (s <= 8)).fillna(False).astype(int),
        enps_detractors=(s <= 6).fillna(False).astype(int),
        engagement_respondents=(resp["engagement_answers"] > 0).astype(int),
        respondents=1,
    )
    cols = [
        "respondents",
        "enps_respondents",
        "enps_promoters",
        "enps_passives",
        "enps_detractors",
        "engagement_respondents",
        "engagement_answers",
        "engagement_favorable",
    ]
    out = resp.groupby(["month", "department"])[cols].sum().astype("int64")
    out["enps"] = _ratio(
        100.0 * (out["enps_promoters"] - out["enps_detractors"]), out["enps_respondents"]
    )
    out["engagement"] = _ratio(100.0 * out["engagement_favorable"], out["engagement_answers"])
    return out


def ex_months(load: Loader) -> list[pd.Timestamp]:
    """The survey window: from the first pulse response's month to the month of the data's as-of."""
    first = survey_responses(load, PULSE_SURVEY)["month"].min()
    return month_range(first, data_as_of(load).tz_localize(None))


def ex_metrics_monthly(load: Loader, months: Iterable[pd.Timestamp] | None = None) -> pd.DataFrame:
    """The recomputed counterpart of marts.ex_metrics_monthly, indexed by (month, department).

    Survey columns are the unsuppressed truth; `is_suppressed` is the primary suppression rule
    (respondents, eNPS respondents or engagement respondents below 5, or no response; all
    eNPS answers in one category, all or no engagement answer favorable; or the month still
    open: no survey response recorded after it yet)."""
    months = list(months) if months is not None else ex_months(load)
    hr = hr_metrics_by_month(load, months)
    pulse = pulse_metrics_by_month(load)
    pulse = pulse[pulse.index.get_level_values("month").isin(set(months))]
    out = hr.join(pulse, how="outer")
    hr_cols = [
        "headcount_start",
        "headcount_end",
        "hires",
        "separations",
        "voluntary_separations",
        "involuntary_separations",
    ]
    out[hr_cols] = out[hr_cols].fillna(0).astype("int64")
    out["average_headcount"] = (out["headcount_start"] + out["headcount_end"]) / 2.0
    for name, num in (
        ("turnover_rate", "separations"),
        ("voluntary_turnover_rate", "voluntary_separations"),
        ("involuntary_turnover_rate", "involuntary_separations"),
    ):
        out[name] = _ratio(out[num], out["average_headcount"])
    survey_counts = [c for c in pulse.columns if c not in ("enps", "engagement")]
    out[survey_counts] = out[survey_counts].fillna(0).astype("int64")
    # all eNPS answers in one category, or all or none of the engagement answers favorable
    enps_n, eng, fav = (
        out["enps_respondents"],
        out["engagement_answers"],
        out["engagement_favorable"],
    )
    categories = out[["enps_promoters", "enps_passives", "enps_detractors"]]
    one_category = ((enps_n > 0) & categories.eq(enps_n, axis=0).any(axis=1)) | (
        (eng > 0) & ((fav == eng) | (fav == 0))
    )
    # open: no survey response recorded after the month yet (figures withheld until closed)
    is_open = out.index.get_level_values("month") >= survey_data_month(load)
    out["is_suppressed"] = (
        (
            out[["respondents", "enps_respondents", "engagement_respondents"]].min(axis=1)
            < MIN_RESPONDENTS
        )
        | one_category
        | is_open
    )
    h = source_horizons(load)
    month_of_row = out.index.get_level_values("month")
    out["is_complete_month"] = [
        h["bamboohr"].decides(m + pd.offsets.MonthEnd(0))
        and h["qualtrics"].reached(m + pd.DateOffset(months=1))
        for m in month_of_row
    ]
    return out.sort_index()


def survey_data_month(load: Loader) -> pd.Timestamp:
    """The month of the newest survey response (any survey): EX survey months before it are
    closed, it and later ones open."""
    resp = _latest(load("raw_qualtrics.survey_responses"), "response_id")
    return utc_month(pd.Series([_utc(resp["recorded_date"]).max()])).iloc[0]


# --------------------------------------------------------------------------- comparison


def mismatches(
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    counts: Iterable[str],
    floats: Iterable[str],
    rel_tol: float = 1e-9,
) -> pd.DataFrame:
    """Rows (key..., column, expected, actual) where the two frames (same index) disagree.

    Counts must be equal (null equals only null); floats within rel_tol (or 1e-12 absolute
    near 0), null equals only null. Index entries missing on one side compare as null."""
    idx = expected.index.union(actual.index)
    e, a = expected.reindex(idx), actual.reindex(idx)
    found = []
    for col in (*counts, *floats):
        is_float = col in set(floats)
        for key, ev, av in zip(idx, e[col], a[col], strict=True):
            en, an = pd.isna(ev), pd.isna(av)
            if en and an:
                continue
            if en != an:
                ok = False
            elif is_float:
                ok = math.isclose(float(ev), float(av), rel_tol=rel_tol, abs_tol=1e-12)
            else:
                ok = int(ev) == int(av)
            if not ok:
                keys = tuple(
                    k.date() if isinstance(k, pd.Timestamp) else k
                    for k in (key if isinstance(key, tuple) else (key,))
                )
                found.append((*keys, col, _plain(ev, is_float), _plain(av, is_float)))
    names = [n or "key" for n in idx.names]
    columns = [*names, "column", "expected", "actual"]
    return pd.DataFrame(
        {c: pd.Series([row[i] for row in found], dtype=object) for i, c in enumerate(columns)}
    )


def _plain(value: object, is_float: bool) -> object:
    """A cell as it should read in a diff: None, an int for counts, a full-precision float."""
    if pd.isna(value):
        return None
    return float(value) if is_float else int(value)


# --------------------------------------------------------------------------- journey

SEEDS_DIR = __import__("pathlib").Path(__file__).resolve().parents[2] / "dbt" / "seeds"


def journey_seeds() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stage rules and stages as configured (the seed files: configuration, not dbt SQL)."""
    rules = pd.read_csv(SEEDS_DIR / "journey_stage_rules.csv", dtype=str, keep_default_na=False)
    rules["max_days"] = pd.to_numeric(rules["max_days"]).astype("Int64")
    stages = pd.read_csv(SEEDS_DIR / "journey_stages.csv")
    return rules, stages


def journey_stage_touchpoints(load: Loader) -> pd.DataFrame:
    """The HubSpot touchpoints that place CRM customers' stages, from raw: lifecycle stage
    entries, deals created (new business or renewal), contracts started (first or renewal)
    and contracts ended unrenewed (renewal_lost, once the CRM has decided the end day).
    Columns: touchpoint_id (as the warehouse names it, for ties), customer_id, occurred_at,
    source_system, activity, activity_value."""
    companies = _company_ids(load)
    parts = []
    hist = load("raw_hubspot.companies_lifecycle_history")
    hist = hist.drop_duplicates(["object_id", "timestamp", "value"])
    # a stage HubSpot does not define by default (a custom stage id) is quarantined
    known = set(pd.read_csv(SEEDS_DIR / "hubspot_lifecycle_stages.csv")["lifecycle_stage"])
    hist = hist[hist["value"].str.strip().str.lower().isin(known | {""})]
    hist = hist[hist["object_id"].astype(str).str.strip().isin(companies)]
    parts.append(
        pd.DataFrame(
            {
                "touchpoint_id": "hubspot:lifecycle:"
                + hist["object_id"].astype(str).str.strip()
                + ":"
                + hist["timestamp"]
                + ":"
                + hist["value"],
                "customer_id": hist["object_id"].astype(str).str.strip(),
                "occurred_at": _parse_instants(hist["timestamp"]),
                "activity": hist["value"].map(
                    lambda v: (
                        "lifecycle_stage_cleared" if v.strip() == "" else "lifecycle_stage_entered"
                    )
                ),
                "activity_value": hist["value"].str.strip().str.lower().replace("", None),
            }
        )
    )
    contracts = customer_contracts(load)
    contracts = contracts.assign(
        started_at=contracts["start"].dt.tz_localize("UTC"),
        ended_at=contracts["end"].dt.tz_localize("UTC"),
    )
    # deals created: every staged deal associated with a staged company (won deals only when
    # they are contracts)
    deals = _latest(load("raw_hubspot.deals"), "id")
    deals = deals.assign(deal_id=deals["id"].astype(str).str.strip())
    won = won_deals(load)
    excluded = set(won.loc[won["verdict"] != "contract", "deal_id"])
    links = load("raw_hubspot.deal_companies")[["deal_id", "company_id"]].dropna()
    links = links.assign(
        deal_id=links["deal_id"].astype(str).str.strip(),
        customer_id=links["company_id"].astype("int64").astype(str),
    ).drop_duplicates(["deal_id", "customer_id"])
    links = links[links["customer_id"].isin(companies)]
    d = deals[~deals["deal_id"].isin(excluded)].merge(links, on="deal_id")
    d["created_at"] = _parse_instants(d["properties__createdate"])
    earlier = d[["deal_id", "customer_id", "created_at"]].merge(
        contracts[["customer_id", "started_at"]], on="customer_id"
    )
    renewal = set(earlier.loc[earlier["started_at"] < earlier["created_at"], "deal_id"])
    parts.append(
        pd.DataFrame(
            {
                "touchpoint_id": "hubspot:deal_created:" + d["deal_id"],
                "customer_id": d["customer_id"],
                "occurred_at": d["created_at"],
                "activity": "deal_created",
                "activity_value": d["deal_id"].map(
                    lambda i: "renewal" if i in renewal else "new_business"
                ),
            }
        )
    )
    horizons = source_horizons(load)["hubspot"]
    c = contracts.sort_values(["customer_id", "start", "deal_id"], kind="stable")
    c = c.assign(number=c.groupby("customer_id").cumcount() + 1)
    started = c[c["start"] <= horizons.loaded_through_date]
    parts.append(
        pd.DataFrame(
            {
                "touchpoint_id": "hubspot:contract_started:" + started["deal_id"],
                "customer_id": started["customer_id"],
                "occurred_at": started["started_at"],
                "activity": "contract_started",
                "activity_value": started["number"].map(lambda n: "first" if n == 1 else "renewal"),
            }
        )
    )
    pairs = c.merge(c, on="customer_id", suffixes=("", "_later"))
    renewed = pairs[(pairs["start_later"] <= pairs["end"]) & (pairs["end_later"] > pairs["end"])]
    ended = c[(c["end"] <= horizons.decided_through_date) & ~c["deal_id"].isin(renewed["deal_id"])]
    parts.append(
        pd.DataFrame(
            {
                "touchpoint_id": "hubspot:renewal_lost:" + ended["deal_id"],
                "customer_id": ended["customer_id"],
                "occurred_at": ended["ended_at"],
                "activity": "renewal_lost",
                "activity_value": None,
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out["source_system"] = "hubspot"
    return out[out["occurred_at"].notna()].reset_index(drop=True)


def journey_spells(
    touchpoints: pd.DataFrame, rules: pd.DataFrame, stages: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Stage spells by the documented rules (fct_customer_stage_spells' description), in a
    plain loop per customer: customer_id, spell_number, journey_stage, entered_at, exited_at,
    is_regression, days_in_stage."""
    order = dict(zip(stages["journey_stage"], stages["stage_order"], strict=True))
    group = dict(zip(stages["journey_stage"], stages["stage_group"], strict=True))
    by_key = {(r.source_system, r.activity, r.activity_value): r for r in rules.itertuples()}
    rows = []
    tp = touchpoints.sort_values(["customer_id", "occurred_at", "touchpoint_id"], kind="stable")
    for customer, events in tp.groupby("customer_id", sort=True):
        matched = []
        for e in events.itertuples():
            rule = by_key.get((e.source_system, e.activity, e.activity_value)) or by_key.get(
                (e.source_system, e.activity, "*")
            )
            if rule is not None:
                matched.append((e.occurred_at, e.touchpoint_id, rule))
        enters = [m for m in matched if m[2].rule_kind == "enter"]
        first_enter = enters[0][0] if enters else None
        kept = [
            m
            for m in matched
            if m[2].rule_kind == "enter" or first_enter is None or m[0] < first_enter
        ]
        # runs of one stage start spells; a time-limited stage gives way after max_days
        timeline: list[tuple[pd.Timestamp, str, str]] = []  # (at, tie, stage)
        for at, tid, rule in kept:
            if timeline and timeline[-1][2] == rule.journey_stage:
                continue
            timeline.append((at, tid, rule.journey_stage))
        changes = []
        for k, (at, tid, stage) in enumerate(timeline):
            changes.append((at, tid, stage))
            rule = next(m[2] for m in kept if m[1] == tid)
            if pd.notna(rule.max_days) and rule.then_stage:
                expiry = at + pd.Timedelta(days=int(rule.max_days))
                nxt = timeline[k + 1][0] if k + 1 < len(timeline) else None
                if expiry <= as_of and (nxt is None or expiry < nxt):
                    changes.append((expiry, "expiry:" + tid, rule.then_stage))
        changes.sort(key=lambda c: (c[0], c[1]))
        spells = []
        for at, _tid, stage in changes:
            if spells and spells[-1][1] == stage:
                continue
            spells.append((at, stage))
        for n, (at, stage) in enumerate(spells, start=1):
            exited = spells[n][0] if n < len(spells) else None
            prev = spells[n - 2][1] if n > 1 else None
            regression = (
                prev is not None
                and order[stage] < order[prev]
                and not (group[stage] == "customer" and group[prev] == "customer")
            )
            rows.append(
                {
                    "customer_id": customer,
                    "spell_number": n,
                    "journey_stage": stage,
                    "entered_at": at,
                    "exited_at": exited,
                    "is_regression": regression,
                    "days_in_stage": (
                        (exited if exited is not None else as_of) - at
                    ).total_seconds()
                    / 86400,
                }
            )
    return pd.DataFrame(rows)


def journey_conversion(spells: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Per cohort month (UTC month of the first spell) x stage: customers_in_cohort,
    customers_reached, conversion_rate, median_days_to_stage."""
    start = spells.groupby("customer_id")["entered_at"].min().rename("journey_started_at")
    cohort = utc_month(start).rename("cohort_month")
    first = spells.groupby(["customer_id", "journey_stage"])["entered_at"].min().reset_index()
    first = first.join(start, on="customer_id").join(cohort, on="customer_id")
    first["days"] = (first["entered_at"] - first["journey_started_at"]).dt.total_seconds() / 86400
    reached = first.groupby(["cohort_month", "journey_stage"]).agg(
        customers_reached=("customer_id", "size"), median_days_to_stage=("days", "median")
    )
    sizes = cohort.value_counts().rename("customers_in_cohort")
    grid = pd.MultiIndex.from_product(
        [sorted(sizes.index), list(stages["journey_stage"])],
        names=["cohort_month", "journey_stage"],
    )
    out = reached.reindex(grid).reset_index()
    out["customers_reached"] = out["customers_reached"].fillna(0).astype(int)
    out["customers_in_cohort"] = out["cohort_month"].map(sizes)
    out["conversion_rate"] = 100.0 * out["customers_reached"] / out["customers_in_cohort"]
    return out
