"""One ASGI app serving the four vendor APIs under path prefixes, plus control endpoints.

    /hubspot/...     HubSpot CRM v3 + associations v4   (base URL http://host:port/hubspot)
    /zendesk/...     Zendesk Support API v2             (http://host:port/zendesk/api/v2)
    /bamboohr/...    BambooHR API v1 (legacy gateway)   (http://host:port/bamboohr/api/gateway.php/{domain}/v1)
    /qualtrics/...   Qualtrics API v3                   (http://host:port/qualtrics/API/v3)
    /_sim/...        simulator control: status, clock, faults, rate limits, ground truth,
                     request counts

The world is generated once; the clock decides what the APIs show.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import pandas as pd
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from simulator.generator import SimConfig, World
from simulator.ratelimits import RateLimiter

VENDORS = ("hubspot", "zendesk", "bamboohr", "qualtrics")


class Simulator:
    """The running simulator's state: the world, the clock, faults and request counts."""

    def __init__(
        self,
        world: World,
        fault_rate: float = 0.0,
        slow_seconds: float = 0.3,
        rate_limits: RateLimiter | None = None,
    ):
        self.world = world
        self.config: SimConfig = world.config
        self.clock: pd.Timestamp = self.config.clock0
        self.fault_rate = fault_rate
        self.slow_seconds = slow_seconds
        self._fault_rng = np.random.default_rng([self.config.seed, 7])
        self.requests: collections.Counter[str] = collections.Counter()
        self.faults: collections.Counter[str] = collections.Counter()
        self.exports: dict[str, dict] = {}  # Qualtrics export jobs
        # the vendors' published rate limits (simulator/ratelimits.py), when enforced
        self.rate_limits = rate_limits
        # when a list: (perf_counter seconds, vendor, method, path) of every request answered
        # (not refused by a rate limit), for the benchmark's backfill projection
        self.trace: list[tuple[float, str, str, str]] | None = None
        # when a list: every vendor exchange as it crossed the wire (method, path, query, headers,
        # body, status, response body), for the contract tests against the vendors' specifications
        self.captured: list[dict] | None = None

    def advance(self, days: float) -> pd.Timestamp:
        if not days > 0:  # also NaN
            raise ValueError(f"days must be above 0, not {days}: the clock only moves forward")
        new = self.clock + pd.Timedelta(days=days)
        if new > self.config.end:
            raise ValueError(
                f"cannot advance past the generated horizon {self.config.end:%Y-%m-%d} "
                f"(clock is {self.clock:%Y-%m-%d}); start the simulator with a larger horizon"
            )
        self.clock = new
        return new

    @property
    def clock_epoch(self) -> int:
        return int(self.clock.timestamp())

    def ground_truth(self) -> dict[str, int]:
        from simulator import bamboohr, hubspot, qualtrics, zendesk

        out: dict[str, int] = {}
        for vendor in (hubspot, zendesk, bamboohr, qualtrics):
            out |= vendor.ground_truth(self)
        return out


def cached_by_clock(fn):
    """Memoise a view of the world per (simulator, clock): views are pure functions of both."""

    @lru_cache(maxsize=8)
    def inner(sim: Simulator, clock: pd.Timestamp):
        return fn(sim, clock)

    def wrapper(sim: Simulator):
        return inner(sim, sim.clock)

    return wrapper


def create_app(sim: Simulator) -> Starlette:
    from simulator import bamboohr, hubspot, qualtrics, zendesk

    async def status(request: Request) -> JSONResponse:
        c = sim.config
        return JSONResponse(
            {
                "clock": sim.clock.isoformat(),
                "horizon": c.end.isoformat(),
                "scale": c.scale,
                "seed": c.seed,
                "dirty_rate": c.dirty_rate,
                "fault_rate": sim.fault_rate,
                "rate_limits": _rate_limits_status(sim),
                "world": {k: int(v) for k, v in sim.world.summary.items()},
            }
        )

    async def advance(request: Request) -> JSONResponse:
        try:
            clock = sim.advance(float(request.query_params.get("days", "1")))
        except ValueError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        return JSONResponse({"clock": clock.isoformat()})

    async def ground_truth(request: Request) -> JSONResponse:
        return JSONResponse(await asyncio.to_thread(sim.ground_truth))

    async def requests_(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            sim.requests.clear()
            sim.faults.clear()
        throttled = dict(sim.rate_limits.throttled) if sim.rate_limits else {}
        if request.method == "DELETE" and sim.rate_limits:
            sim.rate_limits.throttled.clear()
        return JSONResponse(
            {"requests": dict(sim.requests), "faults": dict(sim.faults), "throttled": throttled}
        )

    async def faults(request: Request) -> JSONResponse:
        sim.fault_rate = float(request.query_params.get("rate", sim.fault_rate))
        return JSONResponse({"fault_rate": sim.fault_rate})

    async def rate_limits(request: Request) -> JSONResponse:
        """POST ?time_scale=60 enforces the vendors' limits (that much faster); DELETE stops."""
        if request.method == "POST":
            try:
                scale = float(request.query_params.get("time_scale", "1"))
                sim.rate_limits = RateLimiter(time_scale=scale)
            except ValueError as e:
                return JSONResponse({"error": str(e)}, status_code=400)
        elif request.method == "DELETE":
            sim.rate_limits = None
        return JSONResponse({"rate_limits": _rate_limits_status(sim)})

    control = [
        Route("/status", status),
        Route("/advance", advance, methods=["POST"]),
        Route("/ground-truth", ground_truth),
        Route("/requests", requests_, methods=["GET", "DELETE"]),
        Route("/faults", faults, methods=["POST"]),
        Route("/rate-limits", rate_limits, methods=["GET", "POST", "DELETE"]),
    ]

    async def count_and_fault(request: Request, call_next):
        path = request.url.path
        vendor = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        if vendor not in VENDORS:
            return await call_next(request)
        sim.requests[vendor] += 1
        sim.requests[f"{request.method} {path}"] += 1
        limiter, limited = sim.rate_limits, None  # the limiter this request met
        if limiter is not None:
            limited = limiter.check(request.method, path)
            if not limited.allowed:
                status, headers, body = limiter.refusal(limited)
                return Response(body, status_code=status, headers=headers)
        if sim.trace is not None:
            sim.trace.append((time.perf_counter(), vendor, request.method, path))
        if sim.fault_rate > 0 and sim._fault_rng.random() < sim.fault_rate:
            kind = sim._fault_rng.choice(["429", "5xx", "slow"])
            sim.faults[f"{vendor} {kind}"] += 1
            if kind == "429":
                return JSONResponse(
                    {"error": "RateLimitExceeded", "description": "simulated rate limit"},
                    status_code=429,
                    headers={"Retry-After": "1"},
                )
            if kind == "5xx":
                code = int(sim._fault_rng.choice([500, 502, 503]))
                return Response("simulated server error", status_code=code)
            await asyncio.sleep(sim.slow_seconds)
        # views are CPU-bound pandas work: keep the event loop responsive
        if sim.captured is None:
            response = await call_next(request)
        else:
            response = await _capture(sim.captured, vendor, request, call_next)
        if limited is not None:
            response.headers.update(limiter.headers(limited))
        return response

    app = Starlette(
        routes=[
            Mount("/_sim", routes=control),
            Mount("/hubspot", routes=hubspot.routes(sim)),
            Mount("/zendesk/api/v2", routes=zendesk.routes(sim)),
            Mount("/bamboohr/api/gateway.php/{company_domain}/v1", routes=bamboohr.routes(sim)),
            Mount("/qualtrics/API/v3", routes=qualtrics.routes(sim)),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=count_and_fault)],
    )

    return app


def _rate_limits_status(sim: Simulator) -> dict | None:
    if sim.rate_limits is None:
        return None
    return {
        "time_scale": sim.rate_limits.time_scale,
        "limits": [
            {
                k: getattr(lim, k)
                for k in ("vendor", "name", "requests", "window", "kind", "published")
            }
            for lim in sim.rate_limits.limits
        ],
    }


async def _capture(log: list[dict], vendor: str, request: Request, call_next) -> Response:
    """Serve the request and record both sides as they crossed the wire."""
    body = await request.body()  # Starlette caches it: the route reads the same bytes
    response = await call_next(request)
    chunks = [chunk async for chunk in response.body_iterator]
    content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    log.append(
        {
            "vendor": vendor,
            "method": request.method,
            "path": request.url.path,
            "query": list(request.query_params.multi_items()),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body,
            "status": response.status_code,
            "response_headers": dict(response.headers),
            "response": content,
        }
    )
    return Response(
        content,
        status_code=response.status_code,
        headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"},
    )


# ---- running it ------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(
    sim: Simulator, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[str]:
    """Run the app under uvicorn in a background thread; yields the base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(sim), host=host, port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"simulator did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
