"""The vendors' published rate limits, enforced by the simulator and replayed by the benchmark.

`LIMITS` is the one declaration: per vendor and endpoint class, how many requests a window
allows, the window, how it is counted, and where the number comes from (simulator/README.md,
"Rate limits", has the table with its sources). A request counts against every limit whose
pattern matches it (Zendesk's incremental exports also count against the account's
per-minute limit); a refused request counts against none.

`RateLimiter` applies them to a clock: the simulator's wall clock, sped up by `time_scale`
(a 10-per-minute limit with `time_scale=60` allows 10 requests per second of real time, and
its `Retry-After` says 1 s), or a virtual clock when the benchmark replays a measured load
(`replay`), to project how long the same load would take against the real services.
"""

from __future__ import annotations

import collections
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    vendor: str
    name: str  # the endpoint class, e.g. "incremental_exports"
    pattern: str  # regex on "METHOD /path" (the path below the vendor's prefix in the simulator)
    requests: int  # allowed per window
    window: float  # seconds
    kind: str  # "fixed": the count resets at each window boundary; "rolling": the last `window` s
    published: bool  # False: the vendor publishes no number; this one is an assumption
    source: str
    policy: str = ""  # HubSpot's policyName for this limit

    def matches(self, method: str, path: str) -> bool:
        return re.search(self.pattern, f"{method} {path}") is not None


# Plans assumed: Zendesk Suite Enterprise, HubSpot Professional (a private app). See README.
LIMITS: tuple[Limit, ...] = (
    Limit(
        "zendesk",
        "account",
        r"^\w+ /zendesk/",
        700,
        60,
        "fixed",
        True,
        "developer.zendesk.com/api-reference/introduction/rate-limits (Enterprise plan: 700/min)",
    ),
    Limit(
        "zendesk",
        "incremental_exports",
        r"^GET /zendesk/api/v2/incremental/(?!.*sample)",
        10,
        60,
        "fixed",
        True,
        "developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports "
        "(10 requests/minute; 30 with the High Volume API add-on)",
    ),
    Limit(
        "hubspot",
        "ten_secondly_rolling",
        r"^\w+ /hubspot/(?!crm/v3/objects/\w+/search)",
        190,
        10,
        "rolling",
        True,
        "developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines "
        "(Professional: 190 per 10 s per app)",
        "TEN_SECONDLY_ROLLING",
    ),
    Limit(
        "hubspot",
        "daily",
        r"^\w+ /hubspot/",
        625_000,
        86_400,
        "fixed",
        True,
        "developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines "
        "(Professional: 625,000 per day per account)",
        "DAILY",
    ),
    Limit(
        "hubspot",
        "search",
        r"^POST /hubspot/crm/v3/objects/\w+/search",
        5,
        1,
        "rolling",
        True,
        "developers.hubspot.com/docs/api-reference/search/guide (5 requests/second per account)",
        "SECONDLY",
    ),
    Limit(
        "bamboohr",
        "account",
        r"^\w+ /bamboohr/",
        60,
        60,
        "fixed",
        False,
        "none: BambooHR publishes no number (documentation.bamboohr.com/docs/planned-changes-"
        "to-the-api: 429 with Retry-After from 2026-09-16); 60/min is this project's assumption",
    ),
    Limit(
        "qualtrics",
        "brand",
        r"^\w+ /qualtrics/",
        3000,
        60,
        "fixed",
        False,
        "none in a primary source found: 3,000 requests/minute per brand is the figure commonly "
        "quoted; export endpoints may be lower",
    ),
)


@dataclass
class Decision:
    limit: Limit | None  # the limit that refused the request, None when allowed
    retry_after: float = 0.0  # seconds (of the limiter's clock) until it would be allowed
    remaining: dict[str, tuple[Limit, int, float]] = field(default_factory=dict)
    # per limit name of the request's vendor: (limit, requests left, seconds to reset)

    @property
    def allowed(self) -> bool:
        return self.limit is None


class RateLimiter:
    """Counts requests per limit on a clock (seconds); `check` decides and counts one request."""

    def __init__(
        self,
        limits: Iterable[Limit] = LIMITS,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not time_scale > 0:
            raise ValueError(f"time_scale must be above 0, not {time_scale}")
        self.limits = tuple(limits)
        self.time_scale = time_scale
        self._clock = clock
        self._lock = threading.Lock()
        self._fixed: dict[str, tuple[int, int]] = {}  # limit key -> (window index, count)
        self._rolling: dict[str, collections.deque[float]] = {}
        self.throttled: collections.Counter[str] = collections.Counter()  # "vendor name" -> 429s

    def now(self) -> float:
        """The limits' clock: real seconds times the time scale."""
        return self._clock() * self.time_scale

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.time_scale

    def check(self, method: str, path: str, now: float | None = None) -> Decision:
        now = self.now() if now is None else now
        applicable = [lim for lim in self.limits if lim.matches(method, path)]
        with self._lock:
            states = [(lim, *self._state(lim, now)) for lim in applicable]
            refused = [(lim, wait) for lim, used, wait in states if used >= lim.requests]
            if refused:
                lim, wait = max(refused, key=lambda x: x[1])
                self.throttled[f"{lim.vendor} {lim.name}"] += 1
                return Decision(lim, wait)
            remaining = {}
            for lim, used, reset in states:
                self._count(lim, now)
                remaining[lim.name] = (lim, lim.requests - used - 1, reset)
            return Decision(None, 0.0, remaining)

    def _state(self, lim: Limit, now: float) -> tuple[int, float]:
        """(requests counted in the current window, seconds until a request is freed)."""
        key = f"{lim.vendor} {lim.name}"
        if lim.kind == "fixed":
            index = math.floor(now / lim.window)
            start, used = self._fixed.get(key, (index, 0))
            used = used if start == index else 0
            return used, (index + 1) * lim.window - now
        log = self._rolling.setdefault(key, collections.deque())
        while log and log[0] <= now - lim.window:
            log.popleft()
        return len(log), (log[0] + lim.window - now) if log else lim.window

    def _count(self, lim: Limit, now: float) -> None:
        key = f"{lim.vendor} {lim.name}"
        if lim.kind == "fixed":
            index = math.floor(now / lim.window)
            start, used = self._fixed.get(key, (index, 0))
            self._fixed[key] = (index, (used if start == index else 0) + 1)
        else:
            self._rolling[key].append(now)

    # ---- what the vendors send ---------------------------------------------------------
    def retry_after_header(self, seconds: float) -> str:
        """Whole real seconds, at least 1 (Retry-After takes an integer)."""
        return str(max(1, math.ceil(self.real_seconds(seconds))))

    def refusal(self, decision: Decision) -> tuple[int, dict[str, str], bytes]:
        """The vendor's 429: (status, headers, body)."""
        import orjson

        lim = decision.limit
        assert lim is not None
        retry = {"Retry-After": self.retry_after_header(decision.retry_after)}
        if lim.vendor == "zendesk":
            body = {
                "error": "APIRateLimitExceeded",
                "description": "Number of allowed API requests per minute exceeded",
            }
            return 429, retry | {"Content-Type": "application/json"}, orjson.dumps(body)
        if lim.vendor == "hubspot":  # no Retry-After: clients back off (the window is 1-10 s)
            body = {
                "status": "error",
                "message": f"You have reached your {lim.policy.lower()} limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()),
                "policyName": lim.policy,
            }
            return 429, {"Content-Type": "application/json"}, orjson.dumps(body)
        if lim.vendor == "bamboohr":
            return 429, retry | {"X-BambooHR-Error-Message": "Rate limit exceeded"}, b""
        body = {
            "meta": {
                "httpStatus": "429 - Too Many Requests",
                "requestId": str(uuid.uuid4()),
                "error": {"errorCode": "TOO_MANY_REQUESTS", "errorMessage": "Too many requests"},
            }
        }
        return 429, retry | {"Content-Type": "application/json"}, orjson.dumps(body)

    def headers(self, decision: Decision) -> dict[str, str]:
        """The rate-limit headers on an answered request, as each vendor sends them."""
        r = decision.remaining
        if "account" in r and r["account"][0].vendor == "zendesk":
            lim, left, reset = r["account"]
            return {
                "X-Rate-Limit": str(lim.requests),
                "X-Rate-Limit-Remaining": str(left),
                "ratelimit-limit": str(lim.requests),
                "ratelimit-remaining": str(left),
                "ratelimit-reset": str(max(1, math.ceil(self.real_seconds(reset)))),
            }
        if "ten_secondly_rolling" in r:  # search answers carry none (HubSpot's exception list)
            lim, left, _ = r["ten_secondly_rolling"]
            daily, daily_left, _ = r["daily"]
            return {
                "X-HubSpot-RateLimit-Max": str(lim.requests),
                "X-HubSpot-RateLimit-Remaining": str(left),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(
                    round(self.real_seconds(lim.window) * 1000)
                ),
                "X-HubSpot-RateLimit-Daily": str(daily.requests),
                "X-HubSpot-RateLimit-Daily-Remaining": str(daily_left),
            }
        return {}


# ---- the benchmark's projection ----------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """What the loaders do on a 429 (dlt's requests helper, `.dlt/config.toml` [runtime]):
    wait `Retry-After` (whole seconds, capped at `max_delay`), or without one back off
    `backoff_factor * 2**(attempt-1)` capped at `max_delay`; give up after `max_attempts`."""

    max_attempts: int = 10
    backoff_factor: float = 0.5
    max_delay: float = 60.0

    def wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None and int(retry_after) > 0:
            return min(float(int(retry_after)), self.max_delay)
        return min(self.backoff_factor * 2 ** (attempt - 1), self.max_delay)

    @classmethod
    def from_config(cls, path) -> RetryPolicy:
        import tomllib

        runtime = tomllib.loads(path.read_text()).get("runtime", {})
        return cls(
            runtime.get("request_max_attempts", cls.max_attempts),
            runtime.get("request_backoff_factor", cls.backoff_factor),
            runtime.get("request_max_retry_delay", cls.max_delay),
        )


@dataclass
class Projection:
    vendor: str
    requests: int
    requests_by_limit: dict[str, int]
    measured_seconds: float  # the request span measured against the simulator
    limit_wait_seconds: float  # the waits the limits add (retries after 429s)
    refusals: int  # 429s the loader would receive
    failed: bool  # a request would exhaust the retry policy's attempts

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def replay(
    trace: list[tuple[float, str, str, str]],
    limits: Iterable[Limit] = LIMITS,
    policy: RetryPolicy = RetryPolicy(),
) -> dict[str, Projection]:
    """Replay a measured load through the limits on a virtual clock.

    `trace` holds every request as the simulator answered it, `(seconds, vendor, method,
    path)`, in order; the loaders send one request at a time, so the time between two requests
    is the loader's own work (and the simulator's answer), kept as measured. A refused request
    waits what `policy` waits and is sent again; everything after it moves by that wait."""
    limits = tuple(limits)
    limiter = RateLimiter(limits, clock=lambda: 0.0)
    out: dict[str, Projection] = {}
    first: dict[str, float] = {}
    previous: tuple[float, float] | None = None  # (measured time, virtual time) of the last send
    for measured, vendor, method, path in trace:
        p = out.get(vendor)
        if p is None:
            p = out[vendor] = Projection(vendor, 0, {}, 0.0, 0.0, 0, False)
            first[vendor], previous = measured, None
        t = measured if previous is None else previous[1] + (measured - previous[0])
        attempt = 0
        while True:
            decision = limiter.check(method, path, now=t)
            if decision.allowed:
                break
            attempt += 1
            p.refusals += 1
            if attempt >= policy.max_attempts:
                p.failed = True
            hubspot = decision.limit.vendor == "hubspot"  # its 429 has no Retry-After
            retry_after = None if hubspot else limiter.retry_after_header(decision.retry_after)
            wait = policy.wait(attempt, retry_after)
            t += wait
            p.limit_wait_seconds += wait
        previous = (measured, t)
        p.requests += 1
        for lim in limits:
            if lim.vendor == vendor and lim.matches(method, path):
                p.requests_by_limit[lim.name] = p.requests_by_limit.get(lim.name, 0) + 1
        p.measured_seconds = measured - first[vendor]
    return out
