"""Serving the dashboard: `streamlit run dashboard/app.py`, on loopback, without telemetry."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from warehouse.settings import PROJECT_ROOT

APP = Path(__file__).resolve().with_name("app.py")
PAGES = {
    "Customer experience": "",
    "Employee experience": "ex",
    "EX ↔ CX": "ex-cx",
    "SLAs": "sla",
    "Data health": "health",
}


def command(port: int, host: str = "127.0.0.1") -> list[str]:
    """The `streamlit run` command line: headless, bound to `host`, no usage statistics, no
    file watcher, no developer toolbar. `server.address` also keeps Streamlit from looking up
    the machine's external IP address."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
        "--theme.base=light",
    ]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment for Streamlit: the project importable (whether or not it is
    installed) and usage statistics off."""
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return env


def page_urls(base: str) -> dict[str, str]:
    return {title: f"{base.rstrip('/')}/{path}" for title, path in PAGES.items()}
