"""Shared fixtures: a small simulated world, served over real HTTP on loopback."""

from __future__ import annotations

import os
import signal

import pytest

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from simulator.credentials import loader_env
from simulator.server import Simulator, serve_in_thread
from tests.support.world import environ, world

# Dagster's in-process runs (tests run jobs directly, not only through `xm`, whose run_job
# restores it) map SIGTERM to SIGINT's handler and leave it so. Where the suite runs in the
# background (SIGINT ignored), every process a later test started would then ignore SIGTERM.
_SIGTERM_AT_START = signal.getsignal(signal.SIGTERM)


def pytest_runtest_logreport(report):
    """After each phase of a test (its setup, module- and session-scoped fixtures too; its
    call; its teardown), before the next one starts a process."""
    signal.signal(signal.SIGTERM, _SIGTERM_AT_START)


@pytest.fixture
def served():
    """A fresh simulator (clock at its start, no faults) on a free loopback port: (sim, url)."""
    sim = Simulator(world())
    with serve_in_thread(sim) as url:
        yield sim, url


@pytest.fixture
def warehouse(tmp_path, monkeypatch, served):
    """Loader settings pointing at the served simulator and an empty XM_DATA_DIR: (sim, url, data_dir)."""
    sim, url = served
    for key, value in loader_env(url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XM_DATA_DIR", str(tmp_path / "data"))
    return sim, url, tmp_path / "data"


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory):
    """The test world loaded and `dbt build` run once per session (dirty data on): data dir.

    Tests must only read it (open DuckDB read_only)."""
    from ingestion.pipeline import ingest
    from warehouse.dbt import run_dbt

    data_dir = tmp_path_factory.mktemp("built") / "data"
    sim = Simulator(world())
    with serve_in_thread(sim) as url, environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}):
        ingest(echo=lambda _: None)
        run_dbt(["build"], echo=lambda _: None)
    return data_dir


@pytest.fixture(scope="session")
def scale_1_warehouse(tmp_path_factory):
    """The scale-1 world (seed 42, the demo's size) loaded over HTTP and the models the
    planted effects are read from built (`+xm_link_summary`, the journey marts): data dir.
    Built once per session for the e2e checks that the warehouse recovers what the simulator
    planted. Tests must only read it."""
    from ingestion.pipeline import ingest
    from simulator.generator import SimConfig, World
    from warehouse.dbt import run_dbt

    data_dir = tmp_path_factory.mktemp("scale_1") / "data"
    sim = Simulator(World(SimConfig(scale=1.0, seed=42)))
    with serve_in_thread(sim) as url, environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}):
        ingest(echo=lambda _: None)
        run_dbt(["seed"], echo=lambda _: None)
        select = ["+xm_link_summary", "+cx_journey_stage_monthly", "+cx_onboarding_renewals"]
        run_dbt(["run", "--select", *select], echo=lambda _: None)
    return data_dir


@pytest.fixture(scope="session")
def published_snapshot(built_warehouse, tmp_path_factory):
    """The session's test warehouse published (DuckDB snapshot + Parquet), as BI tools and the
    dashboard read it: a data dir of its own (the warehouse linked in). Tests must only read it."""
    from warehouse.publish import publish
    from warehouse.settings import Settings

    data_dir = tmp_path_factory.mktemp("published") / "data"
    data_dir.mkdir()
    (data_dir / "warehouse.duckdb").symlink_to(built_warehouse / "warehouse.duckdb")
    publish(run_id="published-test", settings=Settings(data_dir=data_dir))
    return data_dir


@pytest.fixture(scope="session")
def pg_dsn(tmp_path_factory):
    """A PostgreSQL server for the session: `XM_TEST_POSTGRES_DSN` if set (a database the
    tests may fill), else a throwaway cluster started here (Debian's postgresql package is
    installed with apt-get first when the machine has none)."""
    dsn = os.environ.get("XM_TEST_POSTGRES_DSN")
    if dsn:
        yield dsn
        return
    import shutil
    import tempfile
    from pathlib import Path

    from warehouse.local_postgres import LocalPostgres, free_port

    # not under pytest's tmp dir: as root the server runs as `postgres`, which must reach it
    server = LocalPostgres(Path(tempfile.mkdtemp(prefix="xm-test-pg-")), port=free_port())
    server.start(echo=lambda _: None)
    try:
        yield server.dsn
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright (tests/support/browser.py)."""
    from tests.support.browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    """A fresh page confined to loopback (a request elsewhere fails the test)."""
    from tests.support.browser import loopback_only

    context = browser.new_context(viewport={"width": 1400, "height": 2600})
    page = context.new_page()
    page.blocked = []
    loopback_only(page, page.blocked)
    yield page
    assert page.blocked == [], f"requests left the machine: {page.blocked}"
    context.close()


def pytest_configure(config):
    """The dbt manifest the Dagster definitions are built from (`dbt parse` when stale)."""
    from warehouse.dbt import parse_project

    parse_project()
