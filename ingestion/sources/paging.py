"""Paginators for vendor envelopes that dlt's built-ins don't stop on correctly."""

from __future__ import annotations

from typing import Any

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
        super().update_state(response, data)
        flag = jsonpath.find_values(self.stop_path, response.json())
        if flag and bool(flag[0]) is self.stop_when:
            self._next_reference = None
