"""Dagster's SQLite event log, with its database engines kept open between writes.

Dagster's `SqliteEventLogStorage` creates a SQLAlchemy engine, connects (SQLite's dialect
set-up queries included) and disposes it for every event it stores, up to three times for an
asset event (the run's shard, then the index shard twice). A full refresh stores ~1,700
events (materializations, check evaluations and the events planned for them): 7.7 ms per
materialization, 2.7 ms per log line on this machine, seconds of every run spent opening
files. This storage keeps one engine per recently used shard instead (the index and the
runs being written), and otherwise is Dagster's: the same files, tables and migrations, so
an instance can switch between the two (DECISIONS.md, "Dagster's event log").

Dagster's live logs (the UI's run page) watch a run's `.db` file for changes. A connection
that stays open leaves each write in SQLite's write-ahead log (`.db-wal`) until a
checkpoint, so after each event this storage touches the run's file, as closing the
connection used to change it.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterator

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` keeping the engines of its `MAX_SHARDS` most recently used
    shards (a long-running webserver reads many runs: older engines are disposed)."""

    MAX_SHARDS = 8

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:  # as Dagster's: one connection of this storage at a time
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard),
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
            self._engines[shard] = engine  # the most recently used, last
            while len(self._engines) > self.MAX_SHARDS:
                self._engines.popitem(last=False)[1].dispose()
            with engine.connect() as conn, conn.begin():
                yield conn

    def store_event(self, event) -> None:
        super().store_event(event)
        with contextlib.suppress(OSError):  # the watchers' signal (module docstring)
            os.utime(self.path_for_shard(event.run_id))

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._dispose_engines()  # before Dagster removes the run shards' files
        super().wipe()
        self._dispose_engines()  # any a watcher's thread opened meanwhile

    def upgrade(self) -> None:
        self._dispose_engines()
        super().upgrade()

    def dispose(self) -> None:
        super().dispose()  # the watchers first: they read through this storage
        self._dispose_engines()
