"""Publish on Spark: the marts leave the cluster as Parquet and become the same read-only
snapshot the DuckDB target publishes (`published/marts.duckdb` + `published/parquet/`).

1. Spark writes each mart of `marts` to `published/.spark-<run_id>/<mart>/` as Parquet
   (`INSERT OVERWRITE DIRECTORY ... USING parquet`), one file per mart, timestamps as
   Parquet's UTC-adjusted microseconds so instants stay instants.
2. DuckDB loads those files into a scratch DuckDB file (`marts.<mart>`), with the dbt
   descriptions as table and column comments (from the manifest: dbt-spark persists
   column comments only on Delta/Hudi/Iceberg tables, not on Parquet).
3. `publish_duckdb` builds the snapshot from the scratch file exactly as it does from the
   DuckDB warehouse (run id column, comments, Parquet per mart, atomic swap).

Publishing runs only after the checks pass (the Dagster asset is downstream of the blocking
checks), so a failed refresh leaves the last good snapshot in place, as on DuckDB.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from warehouse import spark
from warehouse.settings import Settings


def export_marts(
    marts: list[str] | None, out: Path, settings: Settings, con=None
) -> dict[str, Path]:
    """Write the marts (all of schema `marts`, or those named and present) as Parquet under
    `out/<mart>/`; returns {mart: folder}."""
    own = con is None
    con = con or spark.connect(settings)
    try:
        available = spark.tables(con, "marts")
        tables = [m for m in (marts or available) if m in available]
        cur = con.cursor()
        try:
            cur.execute("set spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS")
            folders = {}
            for table in tables:
                folder = out / table
                cur.execute(
                    f"insert overwrite directory '{folder.resolve().as_uri()}' using parquet "
                    f"select /*+ coalesce(1) */ * from marts.`{table}`"
                )
                folders[table] = folder
            return folders
        finally:
            cur.close()
    finally:
        if own:
            con.close()


def _descriptions() -> dict[str, tuple[str, dict[str, str]]]:
    """{mart: (description, {column: description})} from the dbt manifest."""
    import json

    from warehouse.dbt import parse_project

    nodes = json.loads(parse_project().read_text())["nodes"].values()
    return {
        n["name"]: (
            n.get("description") or "",
            {c: v.get("description") or "" for c, v in n.get("columns", {}).items()},
        )
        for n in nodes
        if n["resource_type"] == "model" and n["config"].get("schema") == "marts"
    }


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build_scratch(folders: dict[str, Path], path: Path, settings: Settings) -> None:
    """A DuckDB file whose `marts` schema holds the exported marts, with their comments
    (opened with the settings every DuckDB connection that writes has: the memory limit)."""
    path.unlink(missing_ok=True)
    docs = _descriptions()
    con = duckdb.connect(str(path), config=settings.duckdb_config)
    try:
        con.execute("create schema marts")
        for table, folder in folders.items():
            files = sorted(str(p) for p in folder.glob("*.parquet"))
            con.execute(f"create table marts.{table} as select * from read_parquet(?)", [files])
            description, columns = docs.get(table, ("", {}))
            if description:
                con.execute(f"comment on table marts.{table} is {_quote(description)}")
            present = {r[0] for r in con.execute(f"describe marts.{table}").fetchall()}
            for column, text in columns.items():
                if text and column in present:
                    con.execute(f'comment on column marts.{table}."{column}" is {_quote(text)}')
    finally:
        con.close()


def publish_spark(
    run_id: str,
    marts: list[str] | None = None,
    settings: Settings | None = None,
    checks: list | None = None,
) -> dict[str, int]:
    """Export the marts from Spark and publish them as the DuckDB target does. Row counts."""
    from warehouse.publish import publish_duckdb

    settings = settings or Settings.from_env()
    out = settings.published_dir
    out.mkdir(parents=True, exist_ok=True)
    exported = out / f".spark-{run_id}"
    scratch = out / f".spark-{run_id}.duckdb"
    shutil.rmtree(exported, ignore_errors=True)
    try:
        folders = export_marts(marts, exported, settings)
        build_scratch(folders, scratch, settings)
        return publish_duckdb(run_id, list(folders), settings, checks, source=scratch)
    finally:
        shutil.rmtree(exported, ignore_errors=True)
        scratch.unlink(missing_ok=True)
