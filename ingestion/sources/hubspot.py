"""HubSpot CRM (v3 objects, v4 associations): companies, contacts and deals loaded
incrementally through the search API, plus the company association of each deal fetched
and the lifecycle stage history of each company and contact fetched.

Lifecycle history: the search API does not return `propertiesWithHistory`, so the history of
the records a run fetched is read with the batch read endpoint (`propertiesWithHistory=
lifecyclestage`, at most 50 records per call when history is asked). HubSpot moves a
record's `hs_lastmodifieddate`/`lastmodifieddate` on every stage change, so the records
whose history grew are exactly those the incremental search returns; entries are merged on
(record, timestamp, value), so reading a record's whole history again adds nothing twice.

Why hand-written resources rather than declarative `rest_api`: the list endpoint has no
"modified since" filter, so incremental loads need search, a POST whose filter and cursor
live in the JSON body; and one search query reaches at most 10,000 results (HTTP 400 past
that), after which the query must start again from the last modified value seen, skipping
the records already yielded at that value. That loop reads more clearly as code.

Property values are kept exactly as HubSpot sends them (strings): no type detection, and
no cleaning of dirty values (that happens in the models).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt
from dlt.sources import DltResource
from dlt.sources.helpers import requests

MODIFIED = {
    "companies": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
SEARCH_PAGE = 200  # the search API's maximum page size
BATCH_SIZE = 100  # deals per association batch read
HISTORY_BATCH = 50  # records per object batch read when history is asked (HubSpot's cap)
HISTORY_TYPES = ("companies", "contacts")
INITIAL_MODIFIED = "1970-01-01T00:00:00.000Z"  # first run: everything


def _epoch_ms(iso: str) -> str:
    """HubSpot's documented form for date filter values."""
    return str(round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000))


def _property_names(client: requests.Client, base_url: str, object_type: str) -> list[str]:
    """Every defined property: search returns only a few defaults unless asked, and asking
    for all of them lets new properties (schema drift) reach the warehouse."""
    response = client.get(f"{base_url}/crm/v3/properties/{object_type}")
    return sorted(p["name"] for p in response.json()["results"] if not p.get("archived"))


def search_modified_since(
    client: requests.Client, base_url: str, object_type: str, properties: list[str], since: str
) -> Iterator[list[dict[str, Any]]]:
    """Pages of records modified at or after `since` (ISO), oldest first.

    When a query hits the result cap, search again from the newest modified value yielded
    (GTE) and drop the records already yielded at exactly that value (dedupe by id).
    """
    prop = MODIFIED[object_type]
    url = f"{base_url}/crm/v3/objects/{object_type}/search"
    start, after = since, 0
    last, at_last = since, set[str]()  # newest modified value yielded, and the ids yielded at it
    while True:
        since_filter = {"propertyName": prop, "operator": "GTE", "value": _epoch_ms(start)}
        body = {
            "filterGroups": [{"filters": [since_filter]}],
            "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": SEARCH_PAGE,
            "after": str(after),
        }
        try:
            page = client.post(url, json=body).json()
        except requests.HTTPError as e:
            if e.response is None or e.response.status_code != 400 or after == 0:
                raise
            if last == start:  # a whole query's worth of records share one timestamp
                raise RuntimeError(f"hubspot {object_type}: cannot page past {last}") from e
            start, after = last, 0
            continue
        fresh = []
        for record in page["results"]:
            modified = record["properties"][prop]
            if modified == last and record["id"] in at_last:
                continue
            if modified != last:
                last, at_last = modified, set()
            at_last.add(record["id"])
            fresh.append(record)
        if fresh:
            yield fresh
        next_page = (page.get("paging") or {}).get("next")
        if not next_page:
            return
        after = int(next_page["after"])


def _objects(client: requests.Client, base_url: str, object_type: str) -> DltResource:
    cursor = f"properties.{MODIFIED[object_type]}"

    @dlt.resource(name=object_type, primary_key="id", write_disposition="merge")
    def objects(
        modified=dlt.sources.incremental(cursor, initial_value=INITIAL_MODIFIED),  # noqa: B008 (dlt idiom)
    ) -> Iterator[list[dict[str, Any]]]:
        names = _property_names(client, base_url, object_type)
        yield from search_modified_since(client, base_url, object_type, names, modified.last_value)

    return objects


@dlt.source(name="hubspot")
def hubspot_source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
) -> Iterator[DltResource]:
    """`base_url` is `https://api.hubapi.com` (or the simulator's); `api_key` a private app token."""
    dlt.current.source_schema().remove_type_detection("iso_timestamp")  # keep vendor strings
    base_url = base_url.rstrip("/")
    client = requests.Client(session_attrs={"headers": {"Authorization": f"Bearer {api_key}"}})
    companies, contacts, deals = (_objects(client, base_url, t) for t in MODIFIED)

    @dlt.transformer(
        data_from=deals,
        name="deal_companies",
        primary_key=("deal_id", "company_id"),
        write_disposition="merge",
    )
    def deal_companies(page: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """The companies of the deals fetched in this run (v4 batch read; deals without a
        company have no result)."""
        url = f"{base_url}/crm/v4/associations/deals/companies/batch/read"
        for i in range(0, len(page), BATCH_SIZE):
            inputs = [{"id": d["id"]} for d in page[i : i + BATCH_SIZE]]
            results = client.post(url, json={"inputs": inputs}).json()["results"]
            yield [
                {
                    "deal_id": r["from"]["id"],
                    "company_id": to["toObjectId"],
                    "association_types": to["associationTypes"],
                }
                for r in results
                for to in r["to"]
            ]

    def lifecycle_history(parent: DltResource, object_type: str) -> DltResource:
        @dlt.transformer(
            data_from=parent,
            name=f"{object_type}_lifecycle_history",
            primary_key=("object_id", "timestamp", "value"),
            write_disposition="merge",
        )
        def history(page: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
            """Every lifecycle stage change of the records fetched in this run, one row per
            entry as sent (`value` "" is a cleared stage; order is not relied on)."""
            url = f"{base_url}/crm/v3/objects/{object_type}/batch/read"
            for i in range(0, len(page), HISTORY_BATCH):
                body = {
                    "inputs": [{"id": r["id"]} for r in page[i : i + HISTORY_BATCH]],
                    "properties": [],
                    "propertiesWithHistory": ["lifecyclestage"],
                }
                results = client.post(url, json=body).json()["results"]
                yield [
                    {"object_id": r["id"], **entry}
                    for r in results
                    for entry in (r.get("propertiesWithHistory") or {}).get("lifecyclestage") or []
                ]

        return history

    histories = (lifecycle_history(companies, "companies"), lifecycle_history(contacts, "contacts"))
    yield from (companies, contacts, deals, deal_companies, *histories)
