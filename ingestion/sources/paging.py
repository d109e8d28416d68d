"""Paginators for vendor envelopes that dlt's built-ins don't stop on correctly."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import orjson
from dlt.common import jsonpath
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from requests import PreparedRequest, Request, Response, Session


class PagePrefetcher:
    """Sends the request for a paginated resource's next page while dlt processes the
    current one, on the session the resources share.

    A paginator that knows the next page's URL as soon as a page arrives (a next link in the
    body) hands the request to `fetch_ahead`; when dlt's REST client then sends that very
    request (same method and URL), it gets the response fetched ahead, or the error it met.
    The request goes through the session's own `send` (dlt's retries on 429 and 5xx, the
    `Retry-After` waits, the response hooks), so it is the request the client would have
    sent, only earlier: one page ahead per resource, never more. The server's time and
    dlt's per-row work overlap (the Zendesk load waited ~40% of its extract on pages).
    Each fetch runs on a daemon thread of its own, at most `IN_FLIGHT` at a time across the
    resources (the exports share Zendesk's rate limits): a load that stops (an error,
    Ctrl-C) leaves at most one page per resource unread, and never waits at exit for a
    request still being retried."""

    IN_FLIGHT = 2

    def __init__(self, session: Session) -> None:
        self.session = session
        self._send = session.send
        session.send = self._send_or_collect  # type: ignore[method-assign]
        self._ahead: dict[str, Future[Response]] = {}
        self._kwargs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(self.IN_FLIGHT)

    def __deepcopy__(self, memo: dict) -> PagePrefetcher:
        return self  # dlt copies its paginators (and their config): one session for all

    def fetch_ahead(self, request: Request) -> None:
        if request.method.upper() != "GET":
            return  # only a GET is safe to send early (and only a GET is collected)
        prepared = self.session.prepare_request(request)
        with self._lock:
            if prepared.url in self._ahead:
                return
            ahead: Future[Response] = Future()
            self._ahead[prepared.url] = ahead
            kwargs = self._kwargs
        threading.Thread(
            target=self._fetch, args=(ahead, prepared, kwargs), name="page-prefetch", daemon=True
        ).start()

    def _fetch(self, ahead: Future[Response], request: PreparedRequest, kwargs: dict) -> None:
        try:
            with self._in_flight:
                ahead.set_result(self._send(request, **kwargs))
        except BaseException as e:  # handed to the client's own send, which raises it
            ahead.set_exception(e)

    def _send_or_collect(self, request: PreparedRequest, **kwargs: Any) -> Response:
        with self._lock:
            if "allow_redirects" not in kwargs:  # the client's own send, not a redirect's
                self._kwargs = kwargs  # what it sends with (timeouts, verify, proxies)
            ahead = self._ahead.pop(request.url, None) if request.method == "GET" else None
        if ahead is None:
            return self._send(request, **kwargs)
        return ahead.result()


class LinkUntilFlagPaginator(JSONLinkPaginator):
    """Follow a next-page URL in the body until a boolean flag says the stream has ended.

    Zendesk's incremental exports always return a next link (`after_url`, `next_page`),
    even on the last page; `end_of_stream: true` is the only end signal.
    """

    def __init__(
        self,
        next_url_path: str,
        stop_path: str = "end_of_stream",
        stop_when: bool = True,
        prefetcher: PagePrefetcher | None = None,
    ):
        super().__init__(next_url_path=next_url_path)
        self.stop_path = jsonpath.compile_path(stop_path)
        self.stop_when = stop_when
        self.prefetcher = prefetcher

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()  # one parse for the link and the flag (not one each)
        values = jsonpath.find_values(self.next_url_path, body)
        self._next_reference = values[0] if values else None
        flag = jsonpath.find_values(self.stop_path, body)
        if flag and bool(flag[0]) is self.stop_when:
            self._next_reference = None

    def update_request(self, request: Request) -> None:
        super().update_request(request)
        if self.prefetcher is not None and self._next_reference:
            self.prefetcher.fetch_ahead(request)  # the next page, while this one is processed


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
