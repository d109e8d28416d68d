"""GX Data Docs work without internet, and `xm docs serve` opens on a front page.

The Data Docs are built by GX from its own templates, which load their CSS/JS from CDNs;
the build rewrites every page to the copies shipped in `expectations/static/datadocs/`.
With chromium on the machine, the index page is rendered headless (no network here: a page
that needs a CDN renders unstyled with an empty table) and its table must be drawn by the
bootstrap-table script."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import requests

from expectations.offline_docs import ASSETS, CDN, STATIC, localize, remote_references
from expectations.runner import docs_dir, open_context, rebuild_docs
from simulator.server import free_port
from tests.support.cli import ROOT, xm_argv, xm_env


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import great_expectations as gx

    data_dir = tmp_path_factory.mktemp("gx") / "data"
    # a site with one suite: GX's index page lists it in a bootstrap-table
    context = open_context(data_dir)
    suite = context.suites.add(gx.ExpectationSuite(name="offline_check"))
    suite.add_expectation(gx.expectations.ExpectColumnToExist(column="id"))
    rebuild_docs(data_dir)
    return docs_dir(data_dir)


def test_every_cdn_asset_is_shipped():
    for url, path in CDN.items():
        assert (STATIC / path).is_file(), f"{url}: {path} is not shipped"


def test_pages_load_nothing_from_a_cdn(site):
    assert (site / "index.html").exists()
    assert remote_references(site) == {}
    assert (site / ASSETS / "jquery" / "jquery.min.js").exists()
    assert localize(site) == 0, "localizing twice changes nothing"


@pytest.mark.skipif(not shutil.which("chromium"), reason="no chromium on this machine")
def test_the_index_renders_offline_in_a_browser(site):
    proc = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
            (site / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = proc.stdout
    # bootstrap-table's script wraps each table in its container: it ran, from the local copy
    assert 'class="fixed-table-container' in dom, "the index tables were not drawn"
    assert "offline_check" in dom


def test_docs_serve_opens_on_a_front_page(site, tmp_path):
    data_dir = site.parent.parent
    (data_dir / "docs" / "dbt").mkdir(exist_ok=True)
    (data_dir / "docs" / "dbt" / "index.html").write_text("<html>dbt docs</html>")
    port = free_port()
    proc = subprocess.Popen(
        xm_argv("docs", "serve", "--port", str(port)),
        env=xm_env(XM_DATA_DIR=str(data_dir), XM_DASHBOARD_URL="http://127.0.0.1:8501"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.5)
        assert page.status_code == 200
        assert 'href="dbt/index.html"' in page.text and 'href="gx/index.html"' in page.text
        assert 'href="http://127.0.0.1:8501"' in page.text  # the dashboard
        assert requests.get(f"http://127.0.0.1:{port}/gx/index.html", timeout=5).ok
    finally:
        proc.terminate()
        proc.wait(timeout=30)
