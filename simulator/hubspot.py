"""HubSpot CRM v3 + associations v4 stand-in (mounted at /hubspot).

Contract (the vendor's public API reference, summarised in simulator/README.md): Bearer private-app token; list objects with an
opaque `after` cursor and an absolute `paging.next.link`; search with filterGroups, one
sort, numeric-offset paging and the 10,000-results-per-query cap (HTTP 400 beyond it);
v4 batch association reads; object batch reads; property definitions
(`/crm/v3/properties/{type}`), which a loader needs to ask for every property (the list and
search endpoints return only the defaults unless told); lifecycle stage history
(`propertiesWithHistory=lifecyclestage` on the list and batch read endpoints, at most 50
records a page or batch when history is asked; README.md, "Lifecycle stage history").
Every property value is a string or null.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from starlette.requests import Request
from starlette.routing import Route

from simulator.credentials import HUBSPOT_TOKEN
from simulator.server import Simulator, cached_by_clock
from simulator.wire import JSONResponse, absolute, dirty_mask, iso_ms, iso_offset

LIST_MAX = 100
HISTORY_LIST_MAX = 50  # the list endpoint's page size cap when propertiesWithHistory is asked
BATCH_MAX, HISTORY_BATCH_MAX = 100, 50  # batch read inputs, without and with history
SEARCH_MAX = 200
SEARCH_RESULT_CAP = 10_000  # results reachable per search query; tests lower it
DRIFT_DAYS = (
    90  # companies modified in the last 90 days before the first clock carry a new property
)
SENTIMENTS = np.array(["positive", "neutral", "negative"])
OBJECT_TYPES = ("companies", "contacts", "deals")
GROUPS = {
    "companies": "companyinformation",
    "contacts": "contactinformation",
    "deals": "dealinformation",
}
MODIFIED = {
    "companies": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}


@dataclass(frozen=True)
class Prop:
    name: str
    type: str  # string | number | date | datetime | enumeration
    field_type: str
    custom: bool = False
    default: bool = False  # returned when the request names no properties


def _props(*rows: tuple) -> dict[str, Prop]:
    return {r[0]: Prop(*r) for r in rows}


_ALWAYS = [
    ("createdate", "datetime", "date", False, True),
    ("hs_object_id", "number", "number", False, True),
]
LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
             "opportunity", "customer", "evangelist", "other"]  # fmt: skip
CUSTOM_STAGE_ID = "1093265"  # dirty data: a custom lifecycle stage no default list knows
# "Date entered <stage>": the latest time the object entered each lifecycle stage
STAGE_DATES = {f"hs_lifecyclestage_{v}_date": v for v in LIFECYCLE}
DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"]  # fmt: skip
# "Date entered <stage>" of the default deal pipeline (HubSpot's v2 stage calculated properties)
DEAL_STAGE_DATES = {f"hs_v2_date_entered_{s}": s for s in DEAL_STAGES}
_LIFECYCLE_PROPS = [
    ("lifecyclestage", "enumeration", "radio"),
    *[(name, "datetime", "date") for name in STAGE_DATES],
]
PROPERTIES: dict[str, dict[str, Prop]] = {
    "companies": _props(
        ("name", "string", "text", False, True),
        ("domain", "string", "text", False, True),
        ("industry", "enumeration", "select"),
        ("country", "string", "text"),
        ("xm_segment", "enumeration", "select", True),  # custom: the customer's size segment
        *_LIFECYCLE_PROPS,
        ("hs_lastmodifieddate", "datetime", "date", False, True),
        ("hs_csm_sentiment", "enumeration", "select"),  # schema drift (only when dirty_rate > 0)
        *_ALWAYS,
    ),
    "contacts": _props(
        ("email", "string", "text", False, True),
        ("firstname", "string", "text", False, True),
        ("lastname", "string", "text", False, True),
        ("associatedcompanyid", "number", "number"),
        *_LIFECYCLE_PROPS,
        ("lastmodifieddate", "datetime", "date", False, True),
        *_ALWAYS,
    ),
    "deals": _props(
        ("dealname", "string", "text", False, True),
        ("amount", "number", "number", False, True),
        ("dealstage", "enumeration", "radio", False, True),
        ("pipeline", "enumeration", "select", False, True),
        ("closedate", "datetime", "date", False, True),
        ("contract_start_date", "date", "date", True),  # custom
        ("contract_end_date", "date", "date", True),  # custom
        *[(name, "datetime", "date") for name in DEAL_STAGE_DATES],
        ("hs_lastmodifieddate", "datetime", "date", False, True),
        *_ALWAYS,
    ),
}
# what the property definitions say (HubSpot's `description` is required by its OpenAPI)
DESCRIPTIONS = {
    "name": "The name of the company.",
    "domain": "The domain name of the company or organization.",
    "industry": "The type of business the company performs.",
    "country": "The country or region in which the company is located.",
    "xm_segment": "Customer size segment (custom property).",
    "lifecyclestage": "The qualification of contacts to sales readiness.",
    **{
        name: f"The date and time when the record entered the '{v}' lifecycle stage."
        for name, v in STAGE_DATES.items()
    },
    **{
        name: f"The date and time when the deal entered the '{v}' stage of its pipeline."
        for name, v in DEAL_STAGE_DATES.items()
    },
    "hs_lastmodifieddate": "Most recent timestamp of any property update for this object.",
    "hs_csm_sentiment": "The customer success manager's view of the account's health.",
    "createdate": "The date the record was created.",
    "hs_object_id": "The unique ID for this record. This value is set automatically by HubSpot.",
    "email": "A contact's email address.",
    "firstname": "A contact's first name.",
    "lastname": "A contact's last name.",
    "associatedcompanyid": "HubSpot defined ID of a contact's primary associated company.",
    "lastmodifieddate": "Most recent timestamp of any property update for this contact.",
    "dealname": "The name given to this deal.",
    "amount": "The total amount of the deal.",
    "dealstage": "The stage of the deal.",
    "pipeline": "The pipeline the deal is in.",
    "closedate": "Date the deal was closed. Set automatically by HubSpot.",
    "contract_start_date": "First day of the contract term (custom property).",
    "contract_end_date": "Last day of the contract term (custom property).",
}
# enumeration options HubSpot defines (labels as its UI shows them); a retired value such as
# the dirty `closedwon_legacy` stage is, realistically, not among them
# request body fields HubSpot's OpenAPI declares; its JSON binding refuses any other with a 400
SEARCH_FIELDS = {"filterGroups", "sorts", "query", "properties", "limit", "after"}
FILTER_FIELDS = {"propertyName", "operator", "value", "highValue", "values"}
BATCH_READ_FIELDS = {"inputs"}
OBJECT_BATCH_READ_FIELDS = {"inputs", "properties", "propertiesWithHistory", "idProperty"}
BATCH_INPUT_FIELDS = {"id", "after"}
# (from, to) -> (v4 typeId of the primary association, v3 embedded type name)
ASSOCIATIONS = {
    ("deals", "companies"): (5, "deal_to_company"),
    ("companies", "deals"): (6, "company_to_deal"),
    ("contacts", "companies"): (1, "contact_to_company"),
    ("companies", "contacts"): (2, "company_to_contact"),
}


def _error(status: int, message: str, category: str) -> JSONResponse:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return JSONResponse(body, status_code=status)


def _unauthorized() -> JSONResponse:
    return _error(
        401,
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
        "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        "INVALID_AUTHENTICATION",
    )


def _bad(message: str) -> JSONResponse:
    return _error(400, message, "VALIDATION_ERROR")


def _unrecognized(body, allowed: set[str], model: str) -> str | None:
    """HubSpot's message for a body field its request model does not declare, else None."""
    extra = sorted(set(body) - allowed) if isinstance(body, dict) else []
    if not extra:
        return None
    return (
        f'Invalid input JSON on line 1: Unrecognized field "{extra[0]}" (class '
        f"com.hubspot.crm.public.{model}), not marked as ignorable"
    )


def _search_body_problem(body: dict) -> str | None:
    problem = _unrecognized(body, SEARCH_FIELDS, "PublicObjectSearchRequest")
    for group in body.get("filterGroups") or []:
        problem = problem or _unrecognized(group, {"filters"}, "FilterGroup")
        for f in (group.get("filters") or []) if isinstance(group, dict) else []:
            problem = problem or _unrecognized(f, FILTER_FIELDS, "Filter")
    return problem


def _obj(values) -> pd.Series:
    """Strings with None for missing (not NaN): the wire's `null`."""
    return pd.Series([None if pd.isna(v) else str(v) for v in values], dtype=object)


def _dirty(sim: Simulator, stream: str, values: pd.Series, dirty) -> pd.Series:
    """Replace the masked records' values; the mask spans the whole timeline, so it is stable."""
    mask = dirty_mask(sim, f"hubspot.{stream}", len(values))
    return values.where(~mask, dirty)


# ---- static per-world tables (computed once per simulator) -------------------
@cache
def _companies_static(sim: Simulator) -> pd.DataFrame:
    c = sim.world.companies
    return pd.DataFrame(
        {
            "id": c.company_id.to_numpy(),
            "name": _obj(c.name),
            "domain": _obj(c.domain),
            "industry": _obj(c.industry),
            "country": _obj(c.country),
            "xm_segment": _obj(c.segment),
            "createdate": _obj(iso_ms(c.created_at)),
            "hs_object_id": _obj(c.company_id),
        }
    )


@cache
def _contacts_static(sim: Simulator) -> pd.DataFrame:
    ct = sim.world.contacts
    email = _dirty(sim, "contacts.email_noise", ct.email, " " + ct.email.str.upper() + "  ")
    company = _obj(_dirty(sim, "contacts.missing_company", _obj(ct.company_id), None))
    created = _obj(iso_ms(ct.created_at))
    return pd.DataFrame(
        {
            "id": ct.contact_id.to_numpy(),
            "email": _obj(email),
            "firstname": _obj(ct.first_name),
            "lastname": _obj(ct.last_name),
            "associatedcompanyid": company,
            "createdate": created,
            "hs_object_id": _obj(ct.contact_id),
        }
    )


@cache
def _deals_static(sim: Simulator) -> pd.DataFrame:
    w = sim.world
    d = w.deals
    start, end = (pd.to_datetime(d[c], utc=True) for c in ("contract_start", "contract_end"))
    company = pd.Series(w.companies.name.to_numpy()[d.company_idx])
    kind = ("Renewal " + d.renewal_no.astype(str)).where(d.renewal_no > 0, "New Business")
    closedate = _dirty(sim, "deals.offset_closedate", iso_ms(d.close_at), iso_offset(d.close_at))
    return pd.DataFrame(
        {
            "id": d.deal_id.to_numpy(),
            "dealname": _obj(company + " - " + kind),
            "amount": _obj(d.amount.map("{:.2f}".format)),
            "pipeline": "default",
            "closedate": _obj(closedate),
            "contract_start_date": _obj(start.dt.strftime("%Y-%m-%d")),
            "contract_end_date": _obj(end.dt.strftime("%Y-%m-%d")),
            "createdate": _obj(iso_ms(d.created_at)),
            "hs_object_id": _obj(d.deal_id),
        }
    )


# ---- views as of the clock: one row per visible record, sorted by id ------------
def _finish(static: pd.DataFrame, visible: np.ndarray, **clocked) -> pd.DataFrame:
    """The visible rows of a static table, with the columns that depend on the clock."""
    return static.assign(**clocked)[visible].sort_values("id", ignore_index=True)


@cache
def _lifecycle_static(sim: Simulator) -> pd.DataFrame:
    """The world's lifecycle history with its wire values (ISO timestamps, strings)."""
    h = sim.world.lifecycle
    # dirty: a portal's own (custom) lifecycle stage, sent as its numeric internal id
    custom = dirty_mask(sim, "hubspot.lifecycle.custom_stage", len(h)) & (h.value != "").to_numpy()
    return h.assign(
        value=h.value.where(~custom, CUSTOM_STAGE_ID),
        timestamp=iso_ms(h.ts).to_numpy(),
        updated_by=np.where(h.updated_by_user_id > 0, h.updated_by_user_id, None),
    )


@cached_by_clock
def lifecycle_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    """Lifecycle stage changes that happened by the clock (ordered by object, then time)."""
    h = _lifecycle_static(sim)
    return h[(h.ts <= clock).to_numpy()].reset_index(drop=True)


def _lifecycle_now(sim: Simulator, object_type: str, ids: pd.Series) -> dict[str, np.ndarray]:
    """Per object (in `ids` order): the current lifecycle stage, the time of its latest change
    and each stage's `hs_lifecyclestage_<stage>_date` (latest entry), as of the clock."""
    h = lifecycle_view(sim)
    h = h[(h.object_type == object_type).to_numpy()]
    last = h.groupby("object_id").tail(1).set_index("object_id").reindex(ids.to_numpy())
    stage = last.value.where(last.value.fillna("") != "")
    out = {
        "lifecyclestage": _obj(stage).to_numpy(),
        "_lifecycle_changed": pd.to_datetime(last.ts, utc=True).to_numpy(),
    }
    entered = h.groupby(["object_id", "value"]).timestamp.max()
    for name, value in STAGE_DATES.items():
        at = (
            entered.xs(value, level="value") if value in entered.index.get_level_values(1) else None
        )
        col = at.reindex(ids.to_numpy()) if at is not None else pd.Series([None] * len(ids))
        out[name] = _obj(col).to_numpy()
    return out


def _latest(*stamps) -> pd.Series:
    """Row-wise latest of timestamp columns (NaT ignored)."""
    return pd.concat([pd.Series(pd.to_datetime(s, utc=True)) for s in stamps], axis=1).max(axis=1)


@cached_by_clock
def companies_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    c = sim.world.companies
    acquired = (c.acquired_at <= clock).fillna(False).to_numpy(bool)
    life = _lifecycle_now(sim, "companies", c.company_id)
    modified = c.created_at.where(~acquired, np.maximum(c.created_at, c.acquired_at))
    modified = _latest(modified.to_numpy(), life.pop("_lifecycle_changed"))
    drift = (modified >= sim.config.clock0 - pd.Timedelta(days=DRIFT_DAYS)) & (
        sim.config.dirty_rate > 0
    )
    sentiment = SENTIMENTS[c.company_id.to_numpy() % len(SENTIMENTS)]
    return _finish(
        _companies_static(sim),
        (c.created_at <= clock).to_numpy(),
        **life,
        hs_lastmodifieddate=_obj(iso_ms(modified)).to_numpy(),
        hs_csm_sentiment=_obj(pd.Series(sentiment).where(drift.to_numpy())).to_numpy(),
    )


@cached_by_clock
def contacts_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    ct = sim.world.contacts
    life = _lifecycle_now(sim, "contacts", ct.contact_id)
    modified = _latest(ct.created_at.to_numpy(), life.pop("_lifecycle_changed"))
    return _finish(
        _contacts_static(sim),
        (ct.created_at <= clock).to_numpy(),
        **life,
        lastmodifieddate=_obj(iso_ms(modified)).to_numpy(),
    )


@cached_by_clock
def deals_view(sim: Simulator, clock: pd.Timestamp) -> pd.DataFrame:
    d = sim.world.deals
    closed = (d.close_at <= clock).to_numpy()
    won = d.won.to_numpy()
    legacy = dirty_mask(sim, "hubspot.deals.unknown_stage", len(d))  # a retired stage id
    stage = np.select(
        [~closed, won & legacy, won],
        ["contractsent", "closedwon_legacy", "closedwon"],
        "closedlost",
    )
    modified = d.created_at.where(~closed, d.close_at)
    created, close = _obj(iso_ms(d.created_at)), _obj(iso_ms(d.close_at))
    entered = {name: _obj([None] * len(d)).to_numpy() for name in DEAL_STAGE_DATES}
    entered["hs_v2_date_entered_contractsent"] = created.to_numpy()  # deals start there
    for name, reached in (("closedwon", closed & won & ~legacy), ("closedlost", closed & ~won)):
        entered[f"hs_v2_date_entered_{name}"] = close.where(reached).to_numpy()
    return _finish(
        _deals_static(sim),
        (d.created_at <= clock).to_numpy(),
        **entered,
        dealstage=stage,
        hs_lastmodifieddate=_obj(iso_ms(modified)).to_numpy(),
    )


VIEWS = {"companies": companies_view, "contacts": contacts_view, "deals": deals_view}
HISTORY_TYPES = ("companies", "contacts")  # objects whose lifecycle stage history is kept


@cached_by_clock
def associations_view(sim: Simulator, clock: pd.Timestamp) -> dict[tuple[str, str], pd.DataFrame]:
    """(from, to) -> DataFrame(from_id, to_id) of visible records, sorted by from_id."""
    w = sim.world
    ct = w.contacts[(w.contacts.created_at <= clock).to_numpy()]
    orphan = dirty_mask(sim, "hubspot.deals.no_company", len(w.deals))
    d = w.deals[(w.deals.created_at <= clock).to_numpy() & ~orphan]
    pairs = {
        ("contacts", "companies"): (ct.contact_id, ct.company_id),
        ("deals", "companies"): (d.deal_id, d.company_id),
    }
    out = {}
    for (a, b), (src, dst) in pairs.items():
        fwd = pd.DataFrame({"from_id": src.to_numpy(), "to_id": dst.to_numpy()})
        out[(a, b)] = fwd.sort_values(["from_id", "to_id"], ignore_index=True)
        rev = fwd.rename(columns={"from_id": "to_id", "to_id": "from_id"})
        out[(b, a)] = rev.sort_values(["from_id", "to_id"], ignore_index=True)
    return out


def ground_truth(sim: Simulator) -> dict[str, int]:
    return {
        "raw_hubspot.companies": len(companies_view(sim)),
        "raw_hubspot.contacts": len(contacts_view(sim)),
        "raw_hubspot.deals": len(deals_view(sim)),
        "raw_hubspot.deal_companies": len(associations_view(sim)[("deals", "companies")]),
        **{
            f"raw_hubspot.{t}_lifecycle_history": int((lifecycle_view(sim).object_type == t).sum())
            for t in HISTORY_TYPES
        },
    }


# ---- rendering ----------------------------------------------------------------
def _selected(object_type: str, requested: list[str] | None, sim: Simulator) -> list[str]:
    """Requested known properties (unknown names are ignored, as HubSpot does), else the defaults;
    the object id, create and modify dates always come back."""
    known = PROPERTIES[object_type]
    if requested is None:
        names = [p for p, meta in known.items() if meta.default]
    else:
        names = [p for p in dict.fromkeys(requested) if p in known]
    if sim.config.dirty_rate <= 0 and "hs_csm_sentiment" in names:
        names.remove("hs_csm_sentiment")
    return list(dict.fromkeys([*names, "hs_object_id", "createdate", MODIFIED[object_type]]))


def _records(view: pd.DataFrame, object_type: str, props: list[str]) -> list[dict]:
    modified = MODIFIED[object_type]
    values = view[props].to_numpy(dtype=object)
    out = []
    for i, row in enumerate(values):
        p = {k: (v if isinstance(v, str) else None) for k, v in zip(props, row, strict=True)}
        out.append(
            {
                "id": str(view.id.iat[i]),
                "properties": p,
                "createdAt": view.createdate.iat[i],
                "updatedAt": view[modified].iat[i],
                "archived": False,
            }
        )
    return out


def _histories(
    sim: Simulator, object_type: str, page: pd.DataFrame, names: list[str]
) -> list[dict]:
    """`propertiesWithHistory` of each record: every change, newest first (as HubSpot sends
    it). Only `lifecyclestage` has a recorded history here; any other known property comes
    back as one entry, its current value when the record last changed."""
    known = PROPERTIES[object_type]
    names = [n for n in dict.fromkeys(names) if n in known]
    out: list[dict] = [{} for _ in range(len(page))]
    if not names:
        return out
    h = lifecycle_view(sim)
    h = h[(h.object_type == object_type).to_numpy() & h.object_id.isin(page.id).to_numpy()]
    by_id = {k: g for k, g in h.groupby("object_id")} if "lifecyclestage" in names else {}
    modified = MODIFIED[object_type]
    for k in range(len(page)):
        row = page.iloc[k]
        for name in names:
            if name == "lifecyclestage":
                g = by_id.get(row.id)
                entries = (
                    []
                    if g is None
                    else [
                        {
                            "value": v,
                            "timestamp": ts,
                            "sourceType": st,
                            "sourceId": sid,
                            **({"updatedByUserId": int(u)} if u is not None else {}),
                        }
                        for v, ts, st, sid, u in zip(
                            g.value,
                            g.timestamp,
                            g.source_type,
                            g.source_id,
                            g.updated_by,
                            strict=True,
                        )
                    ][::-1]
                )
            else:
                value = row.get(name)
                entries = (
                    []
                    if not isinstance(value, str)
                    else [{"value": value, "timestamp": row[modified], "sourceType": "CRM_UI"}]
                )
            out[k][name] = entries
    return out


def _embedded(sim: Simulator, object_type: str, ids: np.ndarray, to_types: list[str]) -> list[dict]:
    """v3 `associations` of each record (only types with at least one association appear)."""
    out: list[dict] = [{} for _ in ids]
    assoc = associations_view(sim)
    for to in to_types:
        if (object_type, to) not in assoc:
            continue
        pairs = assoc[(object_type, to)]
        name = ASSOCIATIONS[(object_type, to)][1]
        lo = np.searchsorted(pairs.from_id.to_numpy(), ids, "left")
        hi = np.searchsorted(pairs.from_id.to_numpy(), ids, "right")
        for k in np.flatnonzero(hi > lo):
            targets = pairs.to_id.to_numpy()[lo[k] : hi[k]]
            out[k][to] = {"results": [{"id": str(t), "type": name} for t in targets]}
    return out


# ---- search filters -----------------------------------------------------------
def _typed(view: pd.DataFrame, object_type: str, prop: str) -> pd.Series:
    """A property's string values as comparable values (dates as instants, numbers as floats)."""
    kind = PROPERTIES[object_type][prop].type
    col = view[prop]
    if kind in ("datetime", "date"):
        return pd.to_datetime(col, utc=True, format="ISO8601")
    if kind == "number":
        return pd.to_numeric(col)
    return col


def _value(kind: str, value):
    """A filter value as comparable: dates come as epoch milliseconds (or ISO strings)."""
    if kind in ("datetime", "date"):
        s = str(value)
        if s.lstrip("-").isdigit():
            return pd.Timestamp(int(s), unit="ms", tz="UTC")
        ts = pd.Timestamp(s)
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if kind == "number":
        return float(value)
    return str(value)


def _filter_mask(view: pd.DataFrame, object_type: str, f: dict) -> np.ndarray:
    prop, op = f.get("propertyName"), f.get("operator", "EQ")
    if prop not in PROPERTIES[object_type]:
        raise ValueError(f"Unknown property {prop!r} for {object_type}")
    col = _typed(view, object_type, prop)
    kind = PROPERTIES[object_type][prop].type
    has = col.notna().to_numpy()
    if op == "HAS_PROPERTY":
        return has
    if op == "NOT_HAS_PROPERTY":
        return ~has
    if op in ("IN", "NOT_IN"):
        inside = col.isin([_value(kind, v) for v in f.get("values", [])]).to_numpy()
        return inside if op == "IN" else has & ~inside
    if op == "BETWEEN":
        lo, hi = _value(kind, f["value"]), _value(kind, f["highValue"])
        return has & ((col >= lo) & (col <= hi)).fillna(False).to_numpy(bool)
    compare = {
        "EQ": "__eq__",
        "NEQ": "__ne__",
        "LT": "__lt__",
        "LTE": "__le__",
        "GT": "__gt__",
        "GTE": "__ge__",
    }
    if op not in compare:
        raise ValueError(f"Unsupported operator {op!r}")
    result = getattr(col, compare[op])(_value(kind, f["value"]))
    return has & result.fillna(False).to_numpy(bool)


def _search_rows(view: pd.DataFrame, object_type: str, body: dict) -> pd.DataFrame:
    groups = body.get("filterGroups") or []
    if groups:  # OR of groups, AND within a group
        keep = np.zeros(len(view), bool)
        for g in groups:
            m = np.ones(len(view), bool)
            for f in g.get("filters", []):
                m &= _filter_mask(view, object_type, f)
            keep |= m
        view = view[keep]
    sorts = body.get("sorts") or []
    if len(sorts) > 1:
        raise ValueError("Only one sort is supported")
    if sorts:
        s = sorts[0] if isinstance(sorts[0], dict) else {"propertyName": str(sorts[0])}
        prop = s.get("propertyName")
        if prop not in PROPERTIES[object_type]:
            raise ValueError(f"Unknown sort property {prop!r}")
        asc = s.get("direction", "ASCENDING") != "DESCENDING"
        key = _typed(view, object_type, prop)
        order = pd.DataFrame({"k": key.to_numpy(), "id": view.id.to_numpy()})
        order = order.sort_values(["k", "id"], ascending=[asc, True], na_position="last")
        view = view.iloc[order.index.to_numpy()]
    return view


# ---- property definitions ---------------------------------------------------------
@cache
def _options(sim: Simulator, object_type: str) -> dict[str, list[str]]:
    """The defined values of each enumeration property."""
    c = sim.world.companies
    if object_type == "companies":
        return {
            "industry": sorted(c.industry.dropna().unique()),
            "xm_segment": sorted(c.segment.dropna().unique()),
            "lifecyclestage": LIFECYCLE,
            "hs_csm_sentiment": list(SENTIMENTS),
        }
    if object_type == "contacts":
        return {"lifecyclestage": LIFECYCLE}
    if object_type == "deals":
        return {
            "dealstage": DEAL_STAGES,
            "pipeline": ["default"],
        }  # fmt: skip
    return {}


# ---- routes -------------------------------------------------------------------
def _encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode()


def _decode(cursor: str) -> int:
    return int(base64.urlsafe_b64decode(cursor.encode()).decode())


def routes(sim: Simulator) -> list[Route]:
    def guarded(handler):
        async def endpoint(request: Request):
            if request.headers.get("authorization", "") != f"Bearer {HUBSPOT_TOKEN}":
                return _unauthorized()
            object_type = request.path_params.get("object_type")
            if object_type is not None and object_type not in OBJECT_TYPES:
                return _bad(f"Unable to infer object type from: {object_type}")
            body = None
            if request.method == "POST":
                try:
                    body = json.loads(await request.body() or b"{}")
                except json.JSONDecodeError:
                    return _bad("Invalid input JSON on line 1")
                if not isinstance(body, dict):
                    return _bad("Invalid input JSON: expected an object")
            try:
                return handler(request, body)
            except (ValueError, KeyError, TypeError) as e:
                return _bad(str(e))

        return endpoint

    def list_objects(request: Request, _body) -> JSONResponse:
        q = request.query_params
        object_type = request.path_params["object_type"]
        history = [n for n in ",".join(q.getlist("propertiesWithHistory")).split(",") if n]
        # asking for history lowers the page size cap (README.md, "Endpoints served")
        limit = max(1, min(HISTORY_LIST_MAX if history else LIST_MAX, int(q.get("limit", 10))))
        view = VIEWS[object_type](sim)
        if q.get("archived", "false").lower() == "true":  # nothing is ever archived here
            return JSONResponse({"results": []})
        lo = 0
        if q.get("after"):
            try:
                lo = int(np.searchsorted(view.id.to_numpy(), _decode(q["after"]), "right"))
            except (ValueError, binascii.Error):
                return _bad("Invalid 'after' cursor")
        page = view.iloc[lo : lo + limit]
        # comma-separated and/or repeated
        requested = ",".join(q.getlist("properties")).split(",") if "properties" in q else None
        results = _records(page, object_type, _selected(object_type, requested, sim))
        if history:
            for rec, hist in zip(results, _histories(sim, object_type, page, history), strict=True):
                rec["propertiesWithHistory"] = hist
        to_types = [t for t in q.get("associations", "").split(",") if t]
        if to_types:
            for rec, assoc in zip(
                results, _embedded(sim, object_type, page.id.to_numpy(), to_types), strict=True
            ):
                if assoc:
                    rec["associations"] = assoc
        out: dict = {"results": results}
        if lo + limit < len(view):
            after = _encode(int(page.id.iat[-1]))
            link = absolute(request, **{**q, "after": after})  # keeps limit, properties, ...
            out["paging"] = {"next": {"after": after, "link": link}}
        return JSONResponse(out)

    def search(request: Request, body: dict) -> JSONResponse:
        object_type = request.path_params["object_type"]
        problem = _search_body_problem(body)
        if problem:
            return _bad(problem)
        limit = max(1, min(SEARCH_MAX, int(body.get("limit", 10))))
        after = int(body.get("after") or 0)
        if after >= SEARCH_RESULT_CAP:
            return _bad(
                f"Search results are limited to {SEARCH_RESULT_CAP} per query; "
                "narrow the query (e.g. filter on the last modified date) and start again"
            )
        rows = _search_rows(VIEWS[object_type](sim), object_type, body)
        hi = min(after + limit, len(rows), SEARCH_RESULT_CAP)
        page = rows.iloc[after:hi]
        props = _selected(object_type, body.get("properties"), sim)
        out: dict = {"total": len(rows), "results": _records(page, object_type, props)}
        if hi < len(rows):
            out["paging"] = {"next": {"after": str(hi)}}
        return JSONResponse(out)

    def properties(request: Request, _body) -> JSONResponse:
        object_type = request.path_params["object_type"]
        at = iso_ms(pd.Series([sim.config.start - pd.Timedelta(days=400)])).iat[0]
        drift_at = iso_ms(pd.Series([sim.config.clock0 - pd.Timedelta(days=DRIFT_DAYS)])).iat[0]
        results = []
        options = _options(sim, object_type)
        for order, p in enumerate(PROPERTIES[object_type].values()):
            if p.name == "hs_csm_sentiment" and sim.config.dirty_rate <= 0:
                continue
            created = drift_at if p.name == "hs_csm_sentiment" else at
            read_only = p.name in ("hs_object_id", "createdate", MODIFIED[object_type])
            definition = {
                "name": p.name,
                "label": p.name.replace("_", " ").title(),
                "description": DESCRIPTIONS[p.name],
                "type": p.type,
                "fieldType": p.field_type,
                "groupName": GROUPS[object_type],
                "options": [
                    {
                        "label": v.replace("_", " ").title(),
                        "value": v,
                        "hidden": False,
                        "displayOrder": i,
                        "description": "",
                    }
                    for i, v in enumerate(options.get(p.name, []))
                ],
                "displayOrder": -1 if not p.custom else order,
                "calculated": False,
                "externalOptions": False,
                "hasUniqueValue": p.name == "hs_object_id",
                "hidden": False,
                "hubspotDefined": not p.custom,
                "formField": not read_only,
                "dataSensitivity": "non_sensitive",
                "modificationMetadata": {
                    "archivable": p.custom,
                    "readOnlyDefinition": not p.custom,
                    "readOnlyValue": read_only,
                },
                "createdAt": created,
                "updatedAt": created,
                "archived": False,
            }
            if p.custom:  # custom properties carry their creator; HubSpot's own do not
                definition["createdUserId"] = definition["updatedUserId"] = "1000001"
            results.append(definition)
        return JSONResponse({"results": results})

    def objects_batch_read(request: Request, body: dict) -> JSONResponse:
        """`POST /crm/v3/objects/{type}/batch/read`: records by id, with `properties` and
        `propertiesWithHistory`; ids that do not exist (yet) are left out."""
        object_type = request.path_params["object_type"]
        started = pd.Timestamp.now(tz="UTC")
        problem = _unrecognized(
            body, OBJECT_BATCH_READ_FIELDS, "BatchReadInputSimplePublicObjectId"
        )
        for item in body.get("inputs") or []:
            problem = problem or _unrecognized(item, {"id"}, "SimplePublicObjectId")
        if problem:
            return _bad(problem)
        if body.get("idProperty") not in (None, "hs_object_id"):
            return _bad(f"Unsupported idProperty {body['idProperty']!r}")
        inputs, history = body.get("inputs") or [], body.get("propertiesWithHistory") or []
        cap = HISTORY_BATCH_MAX if history else BATCH_MAX
        if len(inputs) > cap:
            return _bad(
                f"Batch read is limited to {cap} inputs"
                + (" with propertiesWithHistory" if history else "")
            )
        view = VIEWS[object_type](sim)
        ids = pd.unique(pd.Series([int(i["id"]) for i in inputs], dtype="int64"))
        page = view[view.id.isin(ids)]
        results = _records(page, object_type, _selected(object_type, body.get("properties"), sim))
        if history:
            for rec, hist in zip(results, _histories(sim, object_type, page, history), strict=True):
                rec["propertiesWithHistory"] = hist
        stamps = iso_ms(pd.Series([started, pd.Timestamp.now(tz="UTC")]))
        return JSONResponse(
            {
                "status": "COMPLETE",
                "results": results,
                "startedAt": stamps.iat[0],
                "completedAt": stamps.iat[1],
            }
        )

    def batch_read(request: Request, body: dict) -> JSONResponse:
        pair = (request.path_params["from_type"], request.path_params["to_type"])
        if not set(pair) <= set(OBJECT_TYPES):
            return _bad(f"Unknown object types {pair[0]!r} -> {pair[1]!r}")
        started = pd.Timestamp.now(tz="UTC")
        problem = _unrecognized(
            body, BATCH_READ_FIELDS, "BatchInputPublicFetchAssociationsBatchRequest"
        )
        for item in body.get("inputs") or []:
            problem = problem or _unrecognized(
                item, BATCH_INPUT_FIELDS, "PublicFetchAssociationsBatchRequest"
            )
        if problem:
            return _bad(problem)
        inputs = body.get("inputs") or []
        if len(inputs) > 1000:
            return _bad("Batch read is limited to 1000 inputs")
        pairs = associations_view(sim).get(pair)
        results = []
        if pairs is not None:
            type_id = ASSOCIATIONS[pair][0]
            from_ids = pairs.from_id.to_numpy()
            for item in inputs:
                key = int(item["id"])
                lo, hi = (
                    np.searchsorted(from_ids, key, "left"),
                    np.searchsorted(from_ids, key, "right"),
                )
                if hi > lo:
                    to = [
                        {
                            "toObjectId": int(t),
                            "associationTypes": [
                                {
                                    "category": "HUBSPOT_DEFINED",
                                    "typeId": type_id,
                                    "label": "Primary",
                                }
                            ],
                        }
                        for t in pairs.to_id.to_numpy()[lo:hi]
                    ]
                    results.append({"from": {"id": str(key)}, "to": to})
        stamps = iso_ms(pd.Series([started, pd.Timestamp.now(tz="UTC")]))
        return JSONResponse(
            {
                "status": "COMPLETE",
                "results": results,
                "startedAt": stamps.iat[0],
                "completedAt": stamps.iat[1],
            }
        )

    return [
        Route("/crm/v3/objects/{object_type}", guarded(list_objects)),
        Route("/crm/v3/objects/{object_type}/search", guarded(search), methods=["POST"]),
        Route(
            "/crm/v3/objects/{object_type}/batch/read",
            guarded(objects_batch_read),
            methods=["POST"],
        ),
        Route("/crm/v3/properties/{object_type}", guarded(properties)),
        Route(
            "/crm/v4/associations/{from_type}/{to_type}/batch/read",
            guarded(batch_read),
            methods=["POST"],
        ),
    ]
