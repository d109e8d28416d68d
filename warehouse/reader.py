"""Short read-only reads of the warehouse into pandas, on DuckDB, PostgreSQL or Spark (the checks' reader).

DuckDB allows one writer per file and, while it writes, no other process can even open the
file read-only. So every read here opens its own read-only connection, runs one query, and
closes it at once: the checks never hold the file between statements, and big tables are
aggregated in SQL so only a small frame crosses into pandas.

The checks' SQL is written once, in DuckDB's dialect; on PostgreSQL it is translated with
sqlglot (already installed with dlt) and run in a read-only transaction; on Spark it is
translated the same way and sent to the Spark SQL endpoint (which has no information_schema:
the catalogue reads below use SHOW/DESCRIBE there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from warehouse.connections import pg_connect, pg_execute
from warehouse.settings import Settings


@dataclass
class Warehouse:
    path: Path  # the warehouse.duckdb file (the duckdb target)
    data_dir: Path  # $XM_DATA_DIR: state and Data Docs live beside the warehouse
    engine: str = "duckdb"  # or "postgres" (the PG* settings), "spark" (XM_SPARK_HOST/PORT)
    _con: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Warehouse:
        settings = settings or Settings.from_env()
        return cls(path=settings.warehouse_path, data_dir=settings.data_dir, engine=settings.target)

    @classmethod
    def from_data_dir(cls, data_dir: Path | str | None = None) -> Warehouse:
        """The warehouse of the settings, or of another data dir on the same engine."""
        settings = Settings.from_env()
        if data_dir is not None:
            settings = replace(settings, data_dir=Path(data_dir).resolve())
        return cls.from_settings(settings)

    def _open(self) -> Any:
        if self.engine == "postgres":
            con = pg_connect()
            con.set_session(readonly=True, autocommit=True)
            return con
        if self.engine == "spark":
            from warehouse import spark

            return spark.connect()
        return duckdb.connect(str(self.path), read_only=True)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A read-only connection: the session's if one is open, else a new one closed after."""
        if self._con is not None:
            yield self._con
            return
        con = self._open()
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def session(self) -> Iterator[Warehouse]:
        """Share one read-only connection across the few queries that build one batch; it is
        closed as soon as the batch is read (before validation starts)."""
        if self._con is not None:
            yield self
            return
        self._con = self._open()
        try:
            yield self
        finally:
            self._con.close()
            self._con = None

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """One query, one short read-only connection, a pandas frame."""
        with self.connect() as con:
            if self.engine == "duckdb":
                return con.execute(sql, params or []).df()
            if self.engine == "spark":
                return _spark_frame(con, sql, params)
            with con.cursor() as cur:
                pg_execute(cur, sql, params)
                frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
            return _plain_numbers(frame)

    def tables(self, schema: str) -> list[str]:
        """Base tables of a schema (dlt's own `_dlt_*` bookkeeping tables excluded). On
        Spark, tables and views: its raw tables are views over the lake (warehouse/spark.py)."""
        if self.engine == "spark":
            from warehouse import spark

            with self.connect() as con:
                return [t for t in spark.tables(con, schema) if not t.startswith("_dlt_")]
        rows = self.frame(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE' "
            "and table_name not like '\\_dlt\\_%' escape '\\' order by 1",
            [schema],
        )
        return list(rows["table_name"])

    def columns(self, schema: str, table: str) -> list[str]:
        if self.engine == "spark":
            from warehouse import spark

            with self.connect() as con:
                return spark.columns(con, schema, table)
        rows = self.frame(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
        return list(rows["column_name"])

    def exists(self, schema: str, table: str) -> bool:
        return bool(self.columns(schema, table))

    def catalog(self, schema: str) -> pd.DataFrame:
        """(table_name, column_name) of every table of a schema, in column order."""
        if self.engine == "spark":
            with self.session():
                pairs = [(t, c) for t in self.tables(schema) for c in self.columns(schema, t)]
            return pd.DataFrame(pairs, columns=["table_name", "column_name"])
        return self.frame(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position",
            [schema],
        )


def _spark_frame(con, sql: str, params: list[Any] | None) -> pd.DataFrame:
    """A query on the Spark SQL endpoint as a frame, typed as DuckDB would give it: the
    Thrift protocol sends timestamps and dates as text, decimals as Decimal."""
    from warehouse import spark

    cur = con.cursor()
    try:
        spark.execute(cur, sql, params)
        frame = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
        types = {d[0]: d[1] for d in cur.description}
    finally:
        cur.close()
    for column, kind in types.items():
        kind = (kind or "").upper().removesuffix("_TYPE")  # PyHive: "TIMESTAMP_TYPE"
        if kind.startswith("TIMESTAMP"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        elif kind == "DATE":
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return _plain_numbers(frame)


def _plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """PostgreSQL's numeric arrives as Decimal objects; the checks compare floats."""
    for column in frame.columns:
        values = frame[column].dropna()
        if frame[column].dtype == object and len(values) and isinstance(values.iloc[0], Decimal):
            frame[column] = frame[column].astype("float64")
    return frame
