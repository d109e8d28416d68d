"""A real browser for the tests: Debian's chromium driven by Playwright (from PyPI).

Playwright's own browser download is never used (`playwright install` fetches from a host
this project does not reach): the tests launch `/usr/bin/chromium`, installing Debian's
package with apt-get first when it is missing, as the PostgreSQL tests do for the server.
Every page is confined to loopback: a request to any other host is aborted and recorded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import requests

CHROMIUM = Path("/usr/bin/chromium")
PACKAGES = ["chromium", "fonts-dejavu-core"]


def ensure_chromium() -> Path:
    """Debian's chromium binary; installed with apt-get (as root or password-less sudo) if absent."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{CHROMIUM} is missing and apt-get is not available to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        [*apt, "update", "-qq"],
        [*apt, "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed {PACKAGES} but {CHROMIUM} is missing")
    return CHROMIUM


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless chromium (Playwright `Browser`)."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def loopback_only(page, blocked: list[str]) -> None:
    """Abort (and record in `blocked`) every request of `page` to a host other than loopback."""

    def route(r) -> None:
        host = r.request.url.split("/")[2].split(":")[0] if "://" in r.request.url else ""
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)


def wait_http(url: str, timeout: float = 120, process: subprocess.Popen | None = None) -> None:
    """Until `url` answers 200 (or `process` dies, or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")
