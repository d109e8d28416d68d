"""The simulator in a process of its own, for the demo and the benchmark.

In a thread of the caller, the simulator's world (numpy/pandas frames) lived in the same
process as the loaders and competed with them for the GIL: nobody could tell the product's
own memory from the simulator's, and its start-up (generating the world) blocked the caller.
`SimulatorProcess` starts `python -m simulator.process ...` (the world is generated there)
and returns at once, so the caller can prepare its own work meanwhile; `wait_ready()` blocks
until the APIs answer. Stopping it (or leaving the `with` block) terminates it and reaps it;
on Linux it is also killed if the process that started it dies, so it is never left behind.

    with SimulatorProcess(scale=1, seed=42, log=Path("sim.log")) as sim:
        ...                     # the world is being generated meanwhile
        url = sim.wait_ready()  # http://127.0.0.1:<port>
        sim.advance(1)          # the control API: the clock moves one day
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the directory holding the `simulator` package


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM this process when the thread that started it exits (PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SimulatorError(RuntimeError):
    """The simulator process exited or did not answer in time; the message has its log's end."""


class SimulatorProcess:
    """`python -m simulator.process` serving the four vendor APIs on host:port (see module doc)."""

    def __init__(
        self,
        scale: float = 1.0,
        seed: int = 42,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        dirty_rate: float = 0.01,
        fault_rate: float = 0.0,
        history_days: int | None = None,
        horizon_days: int = 120,
        log: Path | None = None,
    ) -> None:
        self.port = port or _free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "simulator.process", "--host", host, "--port", str(self.port)]
        cmd += [
            "--scale",
            repr(float(scale)),
            "--seed",
            str(seed),
            "--dirty-rate",
            repr(dirty_rate),
        ]
        cmd += ["--fault-rate", repr(fault_rate), "--horizon-days", str(horizon_days)]
        cmd += ["--history-days", str(history_days)] if history_days is not None else []
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            out = log.open("w")
        else:
            out = subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                cmd,
                cwd=str(ROOT),  # `-m simulator.process` imports this very package
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            if log is not None:
                out.close()
        self.started = time.monotonic()
        self.ready_seconds: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _get(self, path: str, method: str = "GET", timeout: float = 30) -> dict:
        req = urllib.request.Request(f"{self.url}/_sim{path}", method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())

    def _log_tail(self, lines: int = 15) -> str:
        if self.log is None or not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 900) -> str:
        """Block until the APIs answer (the world is generated); returns the base URL."""
        deadline = self.started + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                raise SimulatorError(
                    f"the simulator exited with code {code} before serving:\n{self._log_tail()}"
                )
            try:
                self._get("/status", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise SimulatorError(
                        f"the simulator did not answer on {self.url} within {timeout:.0f}s:\n"
                        f"{self._log_tail()}"
                    ) from None
                time.sleep(0.05)
        if self.ready_seconds is None:
            self.ready_seconds = time.monotonic() - self.started
        return self.url

    def status(self) -> dict:
        return self._get("/status")

    def advance(self, days: float = 1):
        """Move the simulator clock on; returns the new clock (a pandas Timestamp)."""
        import pandas as pd

        return pd.Timestamp(self._get(f"/advance?days={days:g}", method="POST")["clock"])

    def stop(self, timeout: float = 15) -> int | None:
        """Terminate (SIGTERM, then SIGKILL after `timeout`) and reap; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """The child: generate the world, then serve it until SIGTERM / SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m simulator.process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dirty-rate", type=float, default=0.01)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--history-days", type=int, default=None)
    parser.add_argument("--horizon-days", type=int, default=120)
    args = parser.parse_args(argv)

    import dataclasses

    import uvicorn

    from simulator import zendesk
    from simulator.generator import SimConfig, World
    from simulator.server import Simulator, create_app

    started = time.perf_counter()
    config = SimConfig(
        scale=args.scale, seed=args.seed, dirty_rate=args.dirty_rate, horizon_days=args.horizon_days
    )
    if args.history_days is not None:
        config = dataclasses.replace(config, history_days=args.history_days)
    print(f"generating world: scale={args.scale:g} seed={args.seed} ...", flush=True)
    world = World(config)
    summary = ", ".join(f"{k}={v:,}" for k, v in world.summary.items())
    print(f"generated in {time.perf_counter() - started:.1f}s: {summary}", flush=True)
    sim = Simulator(world, fault_rate=args.fault_rate)
    zendesk.warm_up(sim, echo=lambda line: print(line, flush=True))
    print(f"serving on http://{args.host}:{args.port} (clock {sim.clock:%Y-%m-%d})", flush=True)
    uvicorn.run(
        create_app(sim), host=args.host, port=args.port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
