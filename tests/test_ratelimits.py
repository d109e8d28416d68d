"""The vendors' rate limits: the simulator enforces them, the loaders wait them out, and the
benchmark's projection replays a load through them (simulator/ratelimits.py)."""

from __future__ import annotations

import dataclasses

import pytest
import requests

from ingestion import pipeline
from simulator import credentials
from simulator.credentials import loader_env
from simulator.ratelimits import LIMITS, RateLimiter, RetryPolicy, replay
from simulator.server import Simulator, serve_in_thread
from tests.support.world import environ, world

EXPORT = "/zendesk/api/v2/incremental/tickets/cursor"


class Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_zendesk_export_limit_is_ten_a_minute_in_fixed_windows():
    clock = Clock(120.0)  # the start of a minute
    limiter = RateLimiter(clock=clock)
    for i in range(10):
        clock.t = 120.0 + i
        assert limiter.check("GET", EXPORT).allowed
    clock.t = 135.0
    refused = limiter.check("GET", EXPORT)
    assert (refused.limit.name, refused.retry_after) == ("incremental_exports", 45.0)
    assert limiter.retry_after_header(refused.retry_after) == "45"
    # other Zendesk endpoints only count against the account's 700 a minute
    assert limiter.check("GET", "/zendesk/api/v2/groups").allowed
    clock.t = 180.0  # the next minute
    assert limiter.check("GET", EXPORT).allowed
    assert limiter.throttled == {"zendesk incremental_exports": 1}


def test_hubspot_limit_rolls_over_ten_seconds_and_search_has_its_own():
    clock = Clock(1000.0)
    limiter = RateLimiter(clock=clock)
    for i in range(190):
        clock.t = 1000.0 + i * 0.01
        assert limiter.check("GET", "/hubspot/crm/v3/objects/contacts").allowed
    clock.t = 1005.0
    refused = limiter.check("GET", "/hubspot/crm/v3/objects/deals")
    assert refused.limit.name == "ten_secondly_rolling"
    assert refused.retry_after == pytest.approx(5.0)  # the first request leaves the window
    # search is limited to 5 a second, apart from the 10-second limit
    search = "/hubspot/crm/v3/objects/contacts/search"
    assert all(limiter.check("POST", search).allowed for _ in range(5))
    assert limiter.check("POST", search).limit.name == "search"
    clock.t = 1010.001  # the first request rolled out: one more is allowed, not a new window
    assert limiter.check("GET", "/hubspot/crm/v3/objects/deals").allowed
    assert not limiter.check("GET", "/hubspot/crm/v3/objects/deals").allowed


def test_time_scale_runs_the_windows_faster_and_retry_after_says_real_seconds():
    clock = Clock(0.0)
    limiter = RateLimiter(time_scale=60, clock=clock)
    for _ in range(10):
        assert limiter.check("GET", EXPORT).allowed
    refused = limiter.check("GET", EXPORT)
    assert refused.retry_after == 60.0  # seconds of the limits' clock
    assert limiter.retry_after_header(refused.retry_after) == "1"  # one real second
    clock.t = 1.0  # one real second = a minute of the limits
    assert limiter.check("GET", EXPORT).allowed


def test_each_vendor_answers_a_refusal_its_own_way():
    full = ("account", "ten_secondly_rolling", "brand")  # every vendor's limit used up
    limits = [dataclasses.replace(lim, requests=0) if lim.name in full else lim for lim in LIMITS]
    limiter = RateLimiter(limits=limits, clock=Clock(45.5))
    status, headers, body = limiter.refusal(limiter.check("GET", EXPORT))
    assert (status, headers["Retry-After"]) == (429, "15")  # 14.5 s to the minute, rounded up
    assert (
        body
        == b'{"error":"APIRateLimitExceeded","description":"Number of allowed API requests per minute exceeded"}'
    )
    status, headers, body = limiter.refusal(limiter.check("GET", "/hubspot/crm/v3/objects/deals"))
    assert status == 429 and "Retry-After" not in headers
    assert b'"policyName":"TEN_SECONDLY_ROLLING"' in body and b'"errorType":"RATE_LIMIT"' in body
    status, headers, body = limiter.refusal(limiter.check("GET", "/bamboohr/x/employees/directory"))
    assert (status, body, headers["X-BambooHR-Error-Message"]) == (429, b"", "Rate limit exceeded")
    status, _, body = limiter.refusal(limiter.check("GET", "/qualtrics/API/v3/surveys"))
    assert status == 429 and b'"httpStatus":"429 - Too Many Requests"' in body


def test_the_projection_replays_a_load_through_the_limits():
    # 25 export pages, one a second from t=0: ten go out in the first minute, the 11th (t=10)
    # is told to wait 50 s, goes at 60 with the next nine, the 21st waits until 120
    trace = [(float(i), "zendesk", "GET", EXPORT) for i in range(25)]
    (p,) = replay(trace, policy=RetryPolicy(max_delay=60)).values()
    assert (p.requests, p.refusals, p.failed) == (25, 2, False)
    assert p.measured_seconds == 24.0
    assert p.limit_wait_seconds == 50.0 + 50.0
    assert p.requests_by_limit == {"account": 25, "incremental_exports": 25}
    # with waits capped at 10 s, a refused page is refused again until the minute turns
    (capped,) = replay(trace, policy=RetryPolicy(max_delay=10)).values()
    assert (capped.refusals, capped.limit_wait_seconds) == (10, 100.0)
    (failing,) = replay(trace, policy=RetryPolicy(max_attempts=3, max_delay=10)).values()
    assert failing.failed


def test_served_limits_answer_429_and_count_down_in_headers():
    clock = Clock(0.0)
    limits = [
        dataclasses.replace(lim, requests=2) if lim.name == "account" else lim for lim in LIMITS
    ]
    sim = Simulator(world(), rate_limits=RateLimiter(limits=limits, clock=clock))
    auth = (f"{credentials.ZENDESK_EMAIL}/token", credentials.ZENDESK_TOKEN)
    with serve_in_thread(sim) as url:
        get = lambda: requests.get(f"{url}/zendesk/api/v2/groups", auth=auth)  # noqa: E731
        first, second, third = get(), get(), get()
        assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
        assert [r.headers["X-Rate-Limit-Remaining"] for r in (first, second)] == ["1", "0"]
        assert (
            third.headers["Retry-After"] == "60" and third.json()["error"] == "APIRateLimitExceeded"
        )
        counts = requests.get(f"{url}/_sim/requests").json()
        assert counts["throttled"] == {"zendesk account": 1}
        status = requests.post(f"{url}/_sim/rate-limits", params={"time_scale": 60}).json()
        assert status["rate_limits"]["time_scale"] == 60.0
        assert requests.delete(f"{url}/_sim/rate-limits").json() == {"rate_limits": None}


@pytest.mark.slow
def test_a_rate_limited_load_completes_and_reconciles(tmp_path):
    """The test world through the published limits, 20x faster than real time (Zendesk's
    exports: 10 per 3 s), the other vendors' per-second and per-minute limits tightened
    (HubSpot 1 per half second, BambooHR 1 a window, Qualtrics 3) so the test world's few
    requests meet each vendor's 429 (HubSpot's without Retry-After). BambooHR's window is
    fixed, not rolling: its few requests could straddle a window's end and stay under 3 (one
    CI run); under 1, any three within a window's length have two in one window."""
    limits = [
        dataclasses.replace(lim, requests=1 if lim.vendor in ("hubspot", "bamboohr") else 3)
        if lim.vendor != "zendesk" and lim.window <= 60  # not HubSpot's daily limit
        else lim
        for lim in LIMITS
    ]
    limiter = RateLimiter(limits=limits, time_scale=20)
    sim = Simulator(world(), rate_limits=limiter)
    with serve_in_thread(sim) as url, environ({**loader_env(url), "XM_DATA_DIR": str(tmp_path)}):
        results = pipeline.ingest(echo=lambda _: None)
        counts = pipeline.raw_table_counts()
    assert [r.source for r in results] == list(pipeline.SOURCES)
    vendors = {key.split()[0] for key in limiter.throttled}
    assert vendors == {"zendesk", "hubspot", "bamboohr", "qualtrics"}, limiter.throttled
    assert limiter.throttled["zendesk incremental_exports"] > 0
    # nothing lost, nothing twice: every raw table holds the ground truth's distinct records
    for table, expected in sim.ground_truth().items():
        assert counts[table] == (expected, expected), table


def test_the_backfill_table_sums_the_sources_and_flags_a_failing_load():
    from benchmarks.backfill import backfill_markdown, project

    exports = [(float(i), "zendesk", "GET", EXPORT) for i in range(25)]
    hubspot = [(100.0 + i, "hubspot", "GET", "/hubspot/crm/v3/objects/deals") for i in range(3)]
    traces = {"full": exports + hubspot, "daily": exports[:2]}
    seconds = {"full": {"zendesk": 30.0, "hubspot": 4.0}, "daily": {"zendesk": 2.0}}
    record = project(traces, seconds, RetryPolicy(max_attempts=10, max_delay=60))
    full = record["loads"]["full"]
    assert full["sources"]["zendesk"]["projected_seconds"] == 30.0 + 100.0
    assert full["sources"]["hubspot"]["projected_seconds"] == 4.0  # 3 requests: no wait
    assert full["total"]["projected_seconds"] == 134.0 and not full["total"]["fails"]
    assert record["loads"]["daily"]["total"]["limit_wait_seconds"] == 0.0
    assert {lim["vendor"] for lim in record["limits"]} == {
        "zendesk",
        "hubspot",
        "bamboohr",
        "qualtrics",
    }
    rows = backfill_markdown([{"date": "2026-11-30", "scale": 1, "backfill": record}])
    assert "| 2026-11-30 | 1 | full | **total** | 28 |  | 2 | 34.0 s | 100 s | 2 min |" in rows
    failing = project(traces, seconds, RetryPolicy(max_attempts=3, max_delay=10))
    assert failing["loads"]["full"]["total"]["fails"]
    assert any(
        "fails: retries exhausted" in row
        for row in backfill_markdown([{"date": "2026-11-30", "scale": 1, "backfill": failing}])
    )
