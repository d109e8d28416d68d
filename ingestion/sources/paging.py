"""Paginators for vendor envelopes that dlt's built-ins don't stop on correctly."""

from __future__ import annotations

from typing import Any

import orjson
from dlt.common import jsonpath
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from requests import Response


class LinkUntilFlagPaginator(JSONLinkPaginator):
    """Follow a next-page URL in the body until a boolean flag says the stream has ended.

    Zendesk's incremental exports always return a next link (`after_url`, `next_page`),
    even on the last page; `end_of_stream: true` is the only end signal.
    """

    def __init__(
        self, next_url_path: str, stop_path: str = "end_of_stream", stop_when: bool = True
    ):
        super().__init__(next_url_path=next_url_path)
        self.stop_path = jsonpath.compile_path(stop_path)
        self.stop_when = stop_when

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()  # one parse for the link and the flag (not one each)
        values = jsonpath.find_values(self.next_url_path, body)
        self._next_reference = values[0] if values else None
        flag = jsonpath.find_values(self.stop_path, body)
        if flag and bool(flag[0]) is self.stop_when:
            self._next_reference = None


def parse_json_once(response: Response, *args: Any, **kwargs: Any) -> Response:
    """A response hook that makes `response.json()` parse the body once and reuse it.

    dlt's REST client parses the body for the data (`data_selector`) and the paginator parses
    it again for the next link; on the big Zendesk export pages (1,000 records, ~1 MB each)
    decoding twice was the largest single cost of the Zendesk load (see benchmarks/).
    Lazy, so a non-JSON error body still fails where it did before. Decoded with orjson
    (requests would use simplejson or the standard library: 2-3x slower on these pages); a
    body orjson refuses goes to requests' own decoder, which raises its usual error."""
    parse = response.json
    parsed: list[Any] = []

    def json(**kw: Any) -> Any:
        if not parsed:
            try:
                parsed.append(orjson.loads(response.content))
            except orjson.JSONDecodeError:
                parsed.append(parse(**kw))
        return parsed[0]

    response.json = json  # type: ignore[method-assign]
    return response
