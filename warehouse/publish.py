"""Publish the marts as a read-only snapshot that BI tools read while the pipeline runs.

On DuckDB (the default target) the marts are copied into the `main` schema of a new DuckDB file (named `marts.duckdb`,
so `marts.<table>` also resolves, through the catalog name) and one Parquet file each,
stamped with the run id, made read-only, and swapped into `$XM_DATA_DIR/published/marts.duckdb` with one
atomic rename: a reader sees the previous snapshot or the new one, never a mix, and never
blocks the pipeline (DuckDB's writer lock is on the warehouse file, not this one).

On PostgreSQL (`XM_TARGET=postgres`) the marts are copied into the schema `published_next`
and swapped in as `published` with two schema renames in one transaction: see
`publish_postgres`. On Spark (`XM_TARGET=spark`) the marts leave the cluster as Parquet and
become the same snapshot as on DuckDB: see `publish_spark`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

from warehouse.settings import Settings

SNAPSHOT_NAME = "marts.duckdb"
RUN_ID_COLUMN = "_published_run_id"


def snapshot_path(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_env()).published_dir / SNAPSHOT_NAME


def published_location(settings: Settings | None = None) -> str:
    """Where BI finds the published marts, for logs and asset metadata."""
    settings = settings or Settings.from_env()
    if settings.target == "postgres":
        return "schema published (PostgreSQL)"
    return str(snapshot_path(settings))


def publish(
    run_id: str, marts: list[str] | None = None, settings: Settings | None = None
) -> dict[str, int]:
    """Publish `marts.*` (all, or those named) the target engine's way. Returns row counts."""
    settings = settings or Settings.from_env()
    if settings.target == "postgres":
        from warehouse.publish_postgres import publish_postgres

        return publish_postgres(run_id, marts, settings)
    if settings.target == "spark":
        from warehouse.publish_spark import publish_spark

        return publish_spark(run_id, marts, settings)
    return publish_duckdb(run_id, marts, settings)


def publish_duckdb(
    run_id: str,
    marts: list[str] | None = None,
    settings: Settings | None = None,
    source: Path | None = None,
) -> dict[str, int]:
    """Copy `marts.*` from the warehouse (or the DuckDB file `source`) into a new snapshot and
    swap it in. Returns row counts."""
    settings = settings or Settings.from_env()
    out = settings.published_dir
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".publishing-{run_id}.duckdb"
    parquet = out / f"parquet-{run_id}"
    tmp.unlink(missing_ok=True)
    shutil.rmtree(parquet, ignore_errors=True)
    parquet.mkdir()
    counts: dict[str, int] = {}
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"attach '{source or settings.warehouse_path}' as wh (read_only)")
        available = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'wh' and table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        tables = [m for m in (marts or available) if m in available]
        for table in tables:
            con.execute(
                f"create table {table} as "
                f"select *, cast(? as varchar) as {RUN_ID_COLUMN} from wh.marts.{table}",
                [run_id],
            )
            _copy_comments(con, table)
            counts[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
            con.execute(f"copy {table} to '{parquet / table}.parquet' (format parquet)")
        con.execute(
            "create table _publish_info as select ? as run_id, ? as published_at",
            [run_id, dt.datetime.now(dt.UTC)],
        )
        con.execute("detach wh")
    finally:
        con.close()
    os.chmod(tmp, 0o444)
    os.replace(tmp, snapshot_path(settings))  # atomic on POSIX: readers see old or new
    _swap_symlink(out / "parquet", parquet.name)
    for old in out.glob("parquet-*"):
        if old.name != parquet.name:
            shutil.rmtree(old, ignore_errors=True)
    return counts


def _copy_comments(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Carry the warehouse's table and column comments (the dbt descriptions) to the snapshot."""
    comment = con.execute(
        "select comment from duckdb_tables() where database_name = 'wh' and schema_name = 'marts' and table_name = ?",
        [table],
    ).fetchone()
    if comment and comment[0]:
        con.execute(f"comment on table {table} is {_quote(comment[0])}")
    for column, text in con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = 'wh' and schema_name = 'marts' and table_name = ? and comment is not null",
        [table],
    ).fetchall():
        con.execute(f'comment on column {table}."{column}" is {_quote(text)}')


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _swap_symlink(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(tmp, link)


def read_snapshot_run_ids(settings: Settings | None = None) -> set[str]:
    """The run ids found across all marts of the current snapshot (one, if publish is atomic)."""
    con = duckdb.connect(str(snapshot_path(settings)), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' and table_name <> '_publish_info'"
            ).fetchall()
        ]
        ids: set[str] = set()
        for t in tables:
            ids |= {
                r[0] for r in con.execute(f"select distinct {RUN_ID_COLUMN} from {t}").fetchall()
            }
        return ids
    finally:
        con.close()


def query_published(
    sql: str, params: list | None = None, settings: Settings | None = None
) -> list[tuple]:
    """One DuckDB-dialect query on the published marts, wherever the target keeps them."""
    settings = settings or Settings.from_env()
    if settings.target == "postgres":
        from warehouse.connections import pg_connect, pg_fetchall

        con = pg_connect(settings, options="-c search_path=published")
        try:
            return pg_fetchall(con, sql, params)
        finally:
            con.close()
    con = duckdb.connect(str(snapshot_path(settings)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
