"""The Spark target (`XM_TARGET=spark`): its SQL endpoint, and the lake's raw tables in its
catalog.

dlt's `filesystem` destination writes each raw table as Parquet files under
`<lake>/<dataset>/<table>/`, one or more files per load, and keeps its schema beside them
(`<lake>/<dataset>/_dlt_version/`). Plain Parquet has no row-level delete, so dlt cannot
merge there: every load is appended, and a record changed five times is in the lake five
times. `register_raw` puts each dataset into Spark's catalog in two layers:

- `<dataset>_history.<table>`: an external Parquet table over the table's folder, every
  load's rows (schema merged across files, so columns added by later loads appear);
- `<dataset>.<table>`: a view with what dlt's merge would have left in a database: per
  primary key, the rows of the newest load (rows with a null key part are all kept, as a
  merge never matches them); a child table keeps the rows whose parent row is kept.

dbt's sources read `<dataset>.<table>`, so staging sees the same raw tables on every engine,
and its dedup ranks settle duplicates within one load as they do elsewhere. Without the
view, staging would rank all history by the vendor's cursor, and an older copy could win
over the newest one (a cursor that went back, or a newest copy whose timestamp does not
parse and sorts last): staging would show stale state where DuckDB quarantines.

Everything goes through the Spark Thrift server (HiveServer2 protocol, PyHive), the one
process that owns the catalog. Python-side queries are written in DuckDB's dialect and
translated by sqlglot, as for PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from warehouse.settings import Settings

HISTORY_SUFFIX = "_history"
LOAD_ORDER = "cast(_dlt_load_id as double)"  # load ids are epoch seconds as text


def connect(settings: Settings | None = None):
    """A PyHive connection to the Spark SQL endpoint (`XM_SPARK_HOST`:`XM_SPARK_PORT`)."""
    from pyhive import hive

    settings = settings or Settings.from_env()
    return hive.connect(
        host=settings.spark_host,
        port=settings.spark_port,
        username="xm",
        # the Python-side reads expect what DuckDB and PostgreSQL do: UTC, errors on bad casts
        configuration={"spark.sql.session.timeZone": "UTC"},
    )


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """DuckDB SQL as Spark SQL, by sqlglot (`?` parameters stay `?`)."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def execute(cur, sql: str, params: list | None = None, translate: bool = True) -> None:
    """Run one statement on a PyHive cursor; DuckDB-dialect `sql` is translated first.
    PyHive binds `%s` parameters client-side (quoted and escaped)."""
    text = to_spark(sql) if translate else sql
    if params:
        cur.execute(text.replace("%", "%%").replace("?", "%s"), tuple(params))
    else:
        cur.execute(text)


def fetchall(con, sql: str, params: list | None = None, translate: bool = True) -> list[tuple]:
    cur = con.cursor()
    try:
        execute(cur, sql, params, translate)
        return cur.fetchall() if cur.description else []
    finally:
        cur.close()


def query(sql: str, params: list | None = None, settings: Settings | None = None) -> list[tuple]:
    """One DuckDB-dialect statement on Spark; its rows."""
    con = connect(settings)
    try:
        return fetchall(con, sql, params)
    finally:
        con.close()


# ---------------------------------------------------------------------------- catalog


def tables(con, schema: str) -> list[str]:
    """Tables and views of a schema (Spark has no information_schema); [] if it is missing."""
    if not schema_exists(con, schema):
        return []
    rows = fetchall(con, f"show tables in `{schema}`", translate=False)
    # (namespace, tableName, isTemporary)
    return sorted(r[1] for r in rows if not r[2])


def schema_exists(con, schema: str) -> bool:
    rows = fetchall(con, "show databases", translate=False)
    return schema.lower() in {r[0].lower() for r in rows}


def columns(con, schema: str, table: str) -> list[str]:
    """A table's columns in order; [] if it does not exist."""
    if table.lower() not in {t.lower() for t in tables(con, schema)}:
        return []
    rows = fetchall(con, f"describe `{schema}`.`{table}`", translate=False)
    out = []
    for name, *_ in rows:
        if not name or name.startswith("#"):  # partition information follows
            break
        out.append(name)
    return out


# ---------------------------------------------------------------------------- the lake


def lake_schema(dataset_dir: Path) -> dict:
    """The newest dlt schema stored with a dataset in the lake (`_dlt_version/*.jsonl`)."""
    newest: dict | None = None
    for path in sorted((dataset_dir / "_dlt_version").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if newest is None or (row["version"], row["inserted_at"]) > (
                newest["version"],
                newest["inserted_at"],
            ):
                newest = row
    if newest is None:
        return {"tables": {}}
    return json.loads(newest["schema"])


def _ident(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f"`{name}`"


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.parquet"))


def raw_statements(dataset: str, lake: Path) -> list[str]:
    """The statements that (re)register one dataset of the lake: history tables, then the
    merged views, parents before children. Tables without files yet are left out, as a
    database would not have them either."""
    dataset_dir = lake / dataset
    schema = lake_schema(dataset_dir)
    specs = {
        name: spec
        for name, spec in schema.get("tables", {}).items()
        if not name.startswith("_dlt") and _has_files(dataset_dir / name)
    }
    history = dataset + HISTORY_SUFFIX
    out = [
        f"create database if not exists {_ident(dataset)}",
        f"create database if not exists {_ident(history)}",
    ]
    for name in specs:
        location = (dataset_dir / name).resolve().as_uri()
        out += [
            f"drop table if exists {_ident(history)}.{_ident(name)}",
            f"create table {_ident(history)}.{_ident(name)} using parquet "
            f"options (mergeSchema 'true') location '{location}'",
        ]

    def depth(name: str) -> int:
        parent = specs[name].get("parent")
        return 0 if parent not in specs else 1 + depth(parent)

    for name in sorted(specs, key=lambda n: (depth(n), n)):
        out.append(
            f"create or replace view {_ident(dataset)}.{_ident(name)} as "
            + _merged_select(dataset, name, specs)
        )
    return out


def _merged_select(dataset: str, name: str, specs: dict) -> str:
    spec = specs[name]
    source = f"{_ident(dataset + HISTORY_SUFFIX)}.{_ident(name)}"
    parent = spec.get("parent")
    if parent in specs:
        # a child row belongs to one parent row (_dlt_parent_id = the parent's _dlt_id): it
        # stays while that row stays, as dlt's merge replaces a record's children with it
        return (
            f"select child.* from {source} as child "
            f"left semi join {_ident(dataset)}.{_ident(parent)} as parent "
            "on child._dlt_parent_id = parent._dlt_id"
        )
    keys = [c for c, col in spec.get("columns", {}).items() if col.get("primary_key")]
    if spec.get("write_disposition") != "merge" or not keys:
        return f"select * from {source}"  # appended (or replaced) as in a database
    partition = ", ".join(_ident(k) for k in keys)
    any_null = " or ".join(f"{_ident(k)} is null" for k in keys)
    return (
        "select * except (_xm_newest_load) from ("
        f"select *, max({LOAD_ORDER}) over (partition by {partition}) as _xm_newest_load "
        f"from {source}) as loads "
        f"where {LOAD_ORDER} = _xm_newest_load or {any_null}"
    )


def register_raw(
    datasets: Iterable[str] | None = None, settings: Settings | None = None, con=None
) -> list[str]:
    """Register the lake's datasets (all `raw_*` folders, or those named) in Spark's
    catalog; returns the tables registered as `<dataset>.<table>`. Run after every load:
    the history tables are recreated so columns new in this load are seen."""
    settings = settings or Settings.from_env()
    lake = settings.lake
    if datasets is None:
        datasets = sorted(p.name for p in lake.glob("raw_*") if p.is_dir())
    own = con is None
    con = con or connect(settings)
    registered = []
    try:
        cur = con.cursor()
        try:
            for dataset in datasets:
                for sql in raw_statements(dataset, lake):
                    cur.execute(sql)
                    if sql.startswith("create or replace view"):
                        registered.append(sql.split()[4].replace("`", ""))
        finally:
            cur.close()
    finally:
        if own:
            con.close()
    return registered


LAYERS = ("main", "staging", "intermediate", "marts", "quarantine")


def drop_warehouse(settings: Settings | None = None) -> None:
    """A fresh start on Spark: drop the raw and model schemas (the lake's history tables are
    external: their files go with the lake folder, removed here too). The published snapshot
    is left alone."""
    import shutil

    settings = settings or Settings.from_env()
    con = connect(settings)
    try:
        for (schema,) in fetchall(con, "show databases", translate=False):
            if schema.startswith("raw_") or schema in LAYERS:
                fetchall(con, f"drop database if exists {_ident(schema)} cascade", translate=False)
    finally:
        con.close()
    shutil.rmtree(settings.lake, ignore_errors=True)
