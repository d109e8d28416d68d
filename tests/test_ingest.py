"""End-to-end loads: simulator over HTTP -> dlt -> DuckDB, reconciled with the generator's truth."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingestion import pipeline
from simulator import zendesk
from simulator.credentials import loader_env
from simulator.server import Simulator, serve_in_thread
from tests.support.warehouse_diff import diff
from tests.support.world import world
from warehouse.settings import Settings


def query(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(Settings.from_env().warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def load_into(data_dir: Path, url: str, monkeypatch) -> None:
    for key, value in loader_env(url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XM_DATA_DIR", str(data_dir))
    pipeline.ingest(echo=lambda _: None)


def test_full_load_reconciles_with_ground_truth(warehouse):
    sim, _, _ = warehouse
    results = pipeline.ingest(echo=lambda _: None)
    assert [r.source for r in results] == list(pipeline.SOURCES)
    truth = sim.ground_truth()
    counts = pipeline.raw_table_counts()
    assert {t for t in truth} <= set(counts), "every stream the simulator serves is loaded"
    for table, expected in truth.items():
        rows, distinct = counts[table]
        assert (table, rows, distinct) == (table, expected, expected)
    # raw keeps what the vendor sent: the deleted tickets and the offset timestamps are there
    assert query("select count(*) from raw_zendesk.tickets where status = 'deleted'")[0][0] > 0


@pytest.mark.slow
def test_incremental_load_fetches_only_changes_and_merges_updates(warehouse):
    sim, _, _ = warehouse
    pipeline.ingest(["zendesk", "bamboohr"], echo=lambda _: None)
    full_pages = sim.requests["GET /zendesk/api/v2/incremental/ticket_events"]
    before = dict(query("select id, status from raw_zendesk.tickets"))
    reopened: set[int] = set()
    terminated: set[str] = set()
    for _ in range(20):  # advance in 3-day steps until both a reopen and a termination happened
        last_gts = int(zendesk.tickets_view(sim).gts.max())
        sim.requests.clear()
        sim.advance(3)
        (zd, _hr) = pipeline.ingest(["zendesk", "bamboohr"], echo=lambda _: None)
        view = zendesk.tickets_view(sim)
        # only changed tickets travel: one page of the export, exactly the changed rows
        assert sim.requests["GET /zendesk/api/v2/incremental/tickets/cursor"] == 1
        assert sim.requests["GET /zendesk/api/v2/incremental/ticket_events"] <= max(
            1, full_pages // 10
        )
        assert zd.row_counts.get("tickets", 0) == int((view.gts > last_gts).sum())
        # merged rows carry the updates: every ticket's status equals the vendor's current one
        after = dict(query("select id, status from raw_zendesk.tickets"))
        assert after == dict(zip(view.id, view.status, strict=True))
        reopened |= {
            t for t, s in after.items() if before.get(t) == "solved" and s in ("open", "pending")
        }
        before = after
        new_terms = query(
            "select e.id from raw_bamboohr.employees e join raw_bamboohr.employment_status s "
            "on s.employee_id = e.id where e.status = 'Inactive' and s.employment_status = 'Terminated' "
            "and s._dlt_load_id = (select max(_dlt_load_id) from raw_bamboohr.employment_status)"
        )
        terminated |= {r[0] for r in new_terms}
        if reopened and terminated:
            break
    assert reopened, "a ticket reopened after the first load shows its new status"
    assert terminated, "a termination after the first load is merged into the employee"
    counts = pipeline.raw_table_counts(["zendesk", "bamboohr"])
    for table, expected in sim.ground_truth().items():
        if table.startswith(("raw_zendesk", "raw_bamboohr")):
            assert counts[table] == (expected, expected), table


@pytest.mark.slow
def test_faults_do_not_change_what_lands(tmp_path, monkeypatch):
    clean, faulty = tmp_path / "clean", tmp_path / "faulty"
    with serve_in_thread(Simulator(world())) as url:
        load_into(clean, url, monkeypatch)
    sim = Simulator(world(), fault_rate=0.2, slow_seconds=0.05)
    with serve_in_thread(sim) as url:
        load_into(faulty, url, monkeypatch)
    assert sum(sim.faults.values()) > 5, sim.faults
    assert {k.split()[1] for k in sim.faults} == {"429", "5xx", "slow"}
    assert diff(clean / "warehouse.duckdb", faulty / "warehouse.duckdb") == {}


def _xm(*args: str, env: dict[str, str]) -> subprocess.Popen:
    xm = Path(sys.executable).with_name("xm")
    return subprocess.Popen(
        [str(xm), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow
def test_killed_load_reruns_to_the_same_tables(tmp_path, monkeypatch):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    with serve_in_thread(Simulator(world())) as url:
        load_into(reference, url, monkeypatch)
    sim = Simulator(world(), slow_seconds=0.2)
    with serve_in_thread(sim) as url:
        env = {**os.environ, **loader_env(url), "XM_DATA_DIR": str(killed)}
        proc = _xm("ingest", env=env)
        deadline = time.monotonic() + 120
        # kill it in the middle of the help-desk load, after the CRM has landed
        while sim.requests["zendesk"] < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert proc.poll() is None, "the load finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rerun = _xm("ingest", env=env)
        _out, err = rerun.communicate(timeout=600)
        assert rerun.returncode == 0, err
    assert diff(reference / "warehouse.duckdb", killed / "warehouse.duckdb") == {}


def test_wrong_credential_fails_fast_with_a_fix(served, tmp_path):
    sim, url = served
    env = {
        **os.environ,
        **loader_env(url),
        "SOURCES__ZENDESK__API_TOKEN": "not-the-token",
        "XM_DATA_DIR": str(tmp_path),
    }
    proc = _xm("ingest", "--source", "zendesk", env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "zendesk" in err and "401" in err and "SOURCES__ZENDESK__API_TOKEN" in err
    assert "Traceback" not in out + err
    # 401 is final: no endpoint is retried
    zendesk_calls = {k: v for k, v in sim.requests.items() if k.startswith("GET /zendesk")}
    assert zendesk_calls and max(zendesk_calls.values()) == 1


@pytest.mark.parametrize("source", pipeline.SOURCES)
def test_missing_configuration_names_what_to_set(source, tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("SOURCES__"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))  # no secrets.toml there
    with pytest.raises(
        pipeline.IngestError,
        match=rf"{source}: missing configuration .*SOURCES__{source.upper()}__",
    ):
        pipeline.ingest([source], echo=lambda _: None)


def test_export_pages_are_fetched_ahead_once_each(served):
    """The Zendesk exports' next page is requested while the current one is processed
    (`PagePrefetcher`), through dlt's REST client on the loader's session: when a page
    reaches the loader the simulator has already been asked for the next, every page is
    requested once, and the pages are the export's records in order, as without it."""
    import requests
    from dlt.sources.helpers.requests import Client
    from dlt.sources.helpers.rest_client import RESTClient

    from ingestion.sources.paging import LinkUntilFlagPaginator, PagePrefetcher, parse_json_once

    _sim, url = served
    env = loader_env(url)
    path = "incremental/ticket_metric_events"

    def served_pages() -> int:
        counts = requests.get(f"{url}/_sim/requests", timeout=10).json()["requests"]
        return sum(n for k, n in counts.items() if k.startswith("GET ") and path in k)

    def export(prefetch: bool) -> tuple[list[int], list[int]]:
        requests.delete(f"{url}/_sim/requests", timeout=10)
        session = Client(raise_for_status=False).session
        ahead = PagePrefetcher(session) if prefetch else None
        client = RESTClient(
            base_url=env["SOURCES__ZENDESK__BASE_URL"].rstrip("/") + "/",
            auth=(f"{env['SOURCES__ZENDESK__EMAIL']}/token", env["SOURCES__ZENDESK__API_TOKEN"]),
            session=session,
        )
        ids, asked = [], []
        for page in client.paginate(
            path,
            params={"start_time": 0},
            paginator=LinkUntilFlagPaginator("next_page", prefetcher=ahead),
            data_selector="ticket_metric_events",
            hooks={"response": [parse_json_once]},
        ):
            time.sleep(0.05)  # the loader's work on the page: the next one arrives meanwhile
            asked.append(served_pages())
            ids += [e["id"] for e in page]
        assert served_pages() == len(asked)  # every page once, none twice
        return ids, asked

    plain_ids, plain_asked = export(prefetch=False)
    ids, asked = export(prefetch=True)
    assert len(asked) > 3 and ids == plain_ids
    assert plain_asked == list(range(1, len(asked) + 1))
    # while page k is in hand, page k+1 has been asked for (the last page has no next)
    assert asked == [*range(2, len(asked) + 1), len(asked)]
    # only a GET goes ahead: a POST handed over is not sent early
    requests.delete(f"{url}/_sim/requests", timeout=10)
    PagePrefetcher(Client(raise_for_status=False).session).fetch_ahead(
        requests.Request("POST", f"{env['SOURCES__ZENDESK__BASE_URL'].rstrip('/')}/{path}")
    )
    time.sleep(0.2)
    assert not requests.get(f"{url}/_sim/requests", timeout=10).json()["requests"]


def test_a_page_fetched_ahead_never_holds_the_process_at_exit():
    """A load that stops (an error, Ctrl-C) with a next page still being fetched, from a
    server that does not answer, exits at once: the fetch is not waited for."""
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        code = (
            "from dlt.sources.helpers.requests import Client\n"
            "from requests import Request\n"
            "from ingestion.sources.paging import PagePrefetcher\n"
            "ahead = PagePrefetcher(Client(raise_for_status=False).session)\n"
            f"ahead.fetch_ahead(Request('GET', 'http://127.0.0.1:{silent.getsockname()[1]}/p2'))\n"
            "print('stopping', flush=True)\n"
        )
        started = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        elapsed = time.monotonic() - started
    assert out.returncode == 0 and "stopping" in out.stdout, out.stderr
    assert elapsed < 20, elapsed  # dlt's request timeout is 60 s, retried up to 10 times
