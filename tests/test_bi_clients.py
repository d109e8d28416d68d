"""The published snapshot opened by the clients BI tools embed: DuckDB 1.x (Superset's
duckdb-engine, Metabase's and the ODBC drivers, Evidence, duckdb-wasm) as well as 2.x, and
its Parquet files. The 1.x client runs in a throwaway virtual environment built here."""

from __future__ import annotations

import json
import subprocess
import textwrap

import duckdb
import pytest

from dashboard.venvs import build_venv
from warehouse.dbt import mart_names
from warehouse.publish import RUN_ID_COLUMN, snapshot_path
from warehouse.settings import Settings

pytestmark = pytest.mark.slow  # installs duckdb<2 from the package index (seconds, cached)

MARTS = mart_names()

READ_ALL = textwrap.dedent(
    """
    import json, sys, duckdb
    snapshot, parquet = sys.argv[1], sys.argv[2]
    con = duckdb.connect(snapshot, read_only=True)
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'main' order by 1").fetchall()]
    out = {"version": duckdb.__version__, "tables": {}}
    for t in tables:
        comment = con.execute(
            "select comment from duckdb_tables() where schema_name = 'main' and table_name = ?", [t]
        ).fetchone()[0]
        columns = dict(con.execute(
            "select column_name, comment from duckdb_columns() "
            "where schema_name = 'main' and table_name = ?", [t]).fetchall())
        rows = con.execute(f"select count(*) from {t}").fetchone()[0]
        out["tables"][t] = {"rows": rows, "comment": comment, "columns": columns}
    out["csat"] = con.execute(
        "select strftime(month, '%Y-%m'), csat_responses, csat from marts.cx_metrics_monthly "
        "order by month").fetchall()
    out["parquet"] = {
        t: con.execute(f"select count(*) from read_parquet('{parquet}/{t}.parquet')").fetchone()[0]
        for t in tables if not t.startswith("_")
    }
    con.close()
    print(json.dumps(out))
    """
)


def read_with(python: str, data_dir) -> dict:
    settings = Settings(data_dir=data_dir)
    out = subprocess.run(
        [
            python,
            "-c",
            READ_ALL,
            str(snapshot_path(settings)),
            str(settings.published_dir / "parquet"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def duckdb_1x(tmp_path_factory) -> str:
    """A python whose duckdb is the newest 1.x."""
    return str(
        build_venv(tmp_path_factory.mktemp("duckdb1") / "venv", ["duckdb<2"], echo=lambda _: None)
    )


def test_duckdb_1x_reads_every_mart_and_comment(published_snapshot, duckdb_1x):
    import sys

    old = read_with(duckdb_1x, published_snapshot)
    new = read_with(sys.executable, published_snapshot)
    assert old["version"].startswith("1."), old["version"]
    assert new["version"] == duckdb.__version__ and not new["version"].startswith("1.")
    assert set(MARTS) <= set(old["tables"]), sorted(set(MARTS) - set(old["tables"]))
    assert "_publish_info" in old["tables"]
    # the same tables, rows, table and column comments as the 2.x reading
    assert old["tables"] == new["tables"]
    for mart in MARTS:
        seen = old["tables"][mart]
        assert seen["rows"] > 0, f"{mart} is empty"
        assert (seen["comment"] or "").strip(), f"{mart}: no table comment under 1.x"
        uncommented = [c for c, text in seen["columns"].items() if c != RUN_ID_COLUMN and not text]
        assert uncommented == [], f"{mart}: columns without comments under 1.x: {uncommented}"
    assert old["csat"] == new["csat"] and old["csat"]
    # the Parquet files too, with the same rows as the tables
    assert old["parquet"] == {
        t: v["rows"] for t, v in new["tables"].items() if not t.startswith("_")
    }
