"""docs/adding-a-source.md, followed for real: its Statuspage source and vendor entry (taken
from the page itself), against a local stand-in of Statuspage's incidents API, load with the
report and appear in Dagster as an asset in their own group that materialises."""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import sys
import threading
import types
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pytest
from dagster_dlt import DagsterDltResource

from ingestion import vendors
from tests.support.world import environ

DOC = Path(__file__).resolve().parent.parent / "docs" / "adding-a-source.md"
INCIDENTS = [
    {
        "id": f"inc{i:04d}",
        "name": f"Incident {i}",
        "status": "resolved",
        "impact": "minor",
        "created_at": f"2026-10-{1 + i % 28:02d}T10:00:00Z",
        "updated_at": f"2026-10-{1 + i % 28:02d}T12:00:00Z",
    }
    for i in range(250)
]
API_KEY = "statuspage-test-key"


def doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


@contextlib.contextmanager
def statuspage_api():
    """GET /v1/pages/p1/incidents?page=N&per_page=M with `Authorization: OAuth <key>`."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            seen.append(self.path)
            if self.headers.get("Authorization") != f"OAuth {API_KEY}":
                self.send_response(401)
                self.end_headers()
                return
            if url.path != "/v1/pages/p1/incidents":
                self.send_response(404)
                self.end_headers()
                return
            query = parse_qs(url.query)
            page, size = int(query["page"][0]), int(query["per_page"][0])
            body = json.dumps(INCIDENTS[(page - 1) * size : page * size]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/pages/p1", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def statuspage(monkeypatch):
    """Steps 1 and 2 of the page: the source module and the vendor entry, as written."""
    [source_code] = [b for b in doc_blocks("python") if "def statuspage_source" in b]
    module = types.ModuleType("ingestion.sources.statuspage")
    module.__file__ = str(DOC)
    monkeypatch.setitem(sys.modules, "ingestion.sources.statuspage", module)  # before dlt looks
    exec(compile(source_code, str(DOC), "exec"), module.__dict__)
    [entry] = [b for b in doc_blocks("python") if b.strip().startswith("Vendor(")]
    vendor = eval(entry.strip().rstrip(","), {"Vendor": vendors.Vendor})
    monkeypatch.setitem(vendors.VENDORS, vendor.name, vendor)
    return vendor


def test_the_documented_source_loads_and_becomes_an_asset(statuspage, tmp_path):
    from dagster_project.defs.ingest.assets import _build, stream_specs
    from ingestion.pipeline import ingest
    from warehouse.connections import query

    data_dir = tmp_path / "data"
    with (
        statuspage_api() as (url, seen),
        environ(
            {
                "XM_DATA_DIR": str(data_dir),
                "SOURCES__STATUSPAGE__BASE_URL": url,
                "SOURCES__STATUSPAGE__API_KEY": API_KEY,
            }
        ),
    ):
        lines: list[str] = []
        [result] = ingest(["statuspage"], echo=lines.append)
        assert result.row_counts == {"incidents": 250} and result.new == 250
        assert any("first load: full history" in line for line in lines)
        assert query("select count(*) from raw_statuspage.incidents") == [(250,)]
        assert any("page=3" in path for path in seen)  # paged, 100 a page

        # step 5: the Dagster asset, built from the vendor entry alone
        assets = _build(statuspage)
        assert assets.keys == {dg.AssetKey(["raw_statuspage", "incidents"])}
        assert set(assets.group_names_by_key.values()) == {"ingest_statuspage"}
        assert assets.node_def.name == "load_statuspage" and assets.node_def.description
        [stream] = stream_specs(statuspage)
        assert stream.key == dg.AssetKey("statuspage_incidents")
        assert stream.group_name == "ingest_statuspage"
        result = dg.materialize(
            [assets, stream], resources={"dlt": DagsterDltResource()}, raise_on_error=False
        )
        assert result.success
        assert {e.asset_key for e in result.get_asset_materialization_events()} == assets.keys
