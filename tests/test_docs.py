"""Docs an analyst or a BI tool reads: the dbt docs site and the comments in the snapshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.support.world import environ
from warehouse.dbt import mart_names, run_dbt
from warehouse.settings import DBT_DIR

MARTS = mart_names()


def metric_doc_blocks() -> set[str]:
    """Every `{% docs name %}` block written in the marts' docs files."""
    names: set[str] = set()
    for path in (DBT_DIR / "models" / "marts").rglob("*.md"):
        names |= set(re.findall(r"{%\s*docs\s+(\w+)\s*%}", path.read_text()))
    return names


@pytest.mark.slow
def test_dbt_docs_site_has_every_mart_and_metric_definition(built_warehouse, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(built_warehouse, data_dir)
    site = tmp_path / "site"
    with environ({"XM_DATA_DIR": str(data_dir)}):
        run_dbt(["docs", "generate", "--target-path", str(site)], echo=lambda _: None)
    assert (site / "index.html").stat().st_size > 10_000
    manifest = json.loads((site / "manifest.json").read_text())
    catalog = json.loads((site / "catalog.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    documented = {d["name"]: d for d in manifest["docs"].values()}
    blocks = metric_doc_blocks()
    assert len(blocks) >= 20, blocks
    assert blocks <= documented.keys()
    assert all(documented[b]["block_contents"].strip() for b in blocks)
    cataloged = {n.split(".")[-1] for n in catalog["nodes"]}
    for mart in MARTS:
        assert mart in models and mart in cataloged, mart
        assert models[mart]["description"].strip(), f"{mart} has no description"
        undocumented = [
            c for c, spec in models[mart]["columns"].items() if not spec["description"].strip()
        ]
        assert undocumented == [], f"{mart}: undocumented columns {undocumented}"
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {"ex_cx_link_notebook", "bi_published_snapshot", "xm_dashboard"} <= exposures.keys()
    # "every mart is published": the snapshot's exposure names each of them
    published = {
        n.split(".")[-1] for n in exposures["bi_published_snapshot"]["depends_on"]["nodes"]
    }
    assert published == set(MARTS)


READ_COMMENTS = textwrap.dedent(
    """
    import json, sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    tables = dict(con.execute(
        "select table_name, comment from duckdb_tables() where schema_name = 'main'").fetchall())
    columns = con.execute(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'main'"
    ).fetchall()
    con.close()
    print(json.dumps({"tables": tables, "columns": columns}))
    """
)


def test_published_snapshot_carries_column_comments(built_warehouse, tmp_path):
    from warehouse.publish import publish, snapshot_path

    data_dir = tmp_path / "data"
    shutil.copytree(built_warehouse, data_dir)
    with environ({"XM_DATA_DIR": str(data_dir)}):
        publish(run_id="docs-test", marts=MARTS)
        path = snapshot_path()
    # a separate process, read-only, as a BI tool would open it
    out = subprocess.run(
        [sys.executable, "-c", READ_COMMENTS, str(path)], capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout)
    for mart in MARTS:
        assert (found["tables"].get(mart) or "").strip(), f"{mart}: no table comment"
    missing = [
        (t, c)
        for t, c, comment in found["columns"]
        if t in MARTS and c != "_published_run_id" and not (comment or "").strip()
    ]
    assert missing == []
