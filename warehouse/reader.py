"""Short read-only reads of the warehouse into pandas, on DuckDB or PostgreSQL (the checks' reader).

DuckDB allows one writer per file and, while it writes, no other process can even open the
file read-only. So every read here opens its own read-only connection, runs one query, and
closes it at once: the checks never hold the file between statements, and big tables are
aggregated in SQL so only a small frame crosses into pandas.

The checks' SQL is written once, in DuckDB's dialect; on PostgreSQL it is translated with
sqlglot (already installed with dlt) and run in a read-only transaction.
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
    engine: str = "duckdb"  # or "postgres": the server of the PG* settings
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
            with con.cursor() as cur:
                pg_execute(cur, sql, params)
                frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
            return _plain_numbers(frame)

    def tables(self, schema: str) -> list[str]:
        """Base tables of a schema (dlt's own `_dlt_*` bookkeeping tables excluded)."""
        rows = self.frame(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE' "
            "and table_name not like '\\_dlt\\_%' escape '\\' order by 1",
            [schema],
        )
        return list(rows["table_name"])

    def columns(self, schema: str, table: str) -> list[str]:
        rows = self.frame(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
        return list(rows["column_name"])

    def exists(self, schema: str, table: str) -> bool:
        return bool(self.columns(schema, table))


def _plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """PostgreSQL's numeric arrives as Decimal objects; the checks compare floats."""
    for column in frame.columns:
        values = frame[column].dropna()
        if frame[column].dtype == object and len(values) and isinstance(values.iloc[0], Decimal):
            frame[column] = frame[column].astype("float64")
    return frame
