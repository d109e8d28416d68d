"""Publish on PostgreSQL: build the new marts beside the old ones, swap them in at once.

1. Copy every mart from `marts` into a fresh schema `published_next` (stamped with the run
   id, comments carried over, SELECT granted to the BI role) and commit. BI readers keep
   reading `published` meanwhile.
2. Swap in one short transaction: lock the current `published` tables without waiting
   (`NOWAIT`: if a reader holds one, roll back, wait a moment and try again, so the swap
   never queues in front of readers), rename `published` to `published_old` and
   `published_next` to `published`, commit. A query that starts during the swap waits
   for the commit (milliseconds) and then reads the new tables; a query or transaction that
   already read an old table keeps the swap waiting until it ends, so no statement and no
   transaction sees tables of two refreshes.
3. Drop `published_old`.

The BI role (`XM_BI_ROLE`, default `xm_bi`) is created by `xm postgres setup-bi`; it may
read `published` and nothing else.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from psycopg2 import errors, sql

from ingestion.warehouse import pg_connect

PUBLISHED = "published"
NEXT = "published_next"
OLD = "published_old"
SOURCE = "marts"
RUN_ID_COLUMN = "_published_run_id"
SWAP_ATTEMPTS = 200  # x up to 0.5 s back-off: a reader holding a table for ~1 min
SWAP_WAIT_SECONDS = 60  # then wait in the lock queue, at most this long


def bi_role() -> str:
    return os.environ.get("XM_BI_ROLE", "xm_bi")


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _tables(cur, schema: str) -> list[str]:
    cur.execute(
        "select table_name from information_schema.tables "
        "where table_schema = %s and table_type = 'BASE TABLE' order by 1",
        [schema],
    )
    return [r[0] for r in cur.fetchall()]


def _role_exists(cur, role: str) -> bool:
    cur.execute("select 1 from pg_roles where rolname = %s", [role])
    return cur.fetchone() is not None


def publish_postgres(run_id: str, marts: list[str] | None = None) -> dict[str, int]:
    con = pg_connect()
    counts: dict[str, int] = {}
    try:
        with con.cursor() as cur:
            available = _tables(cur, SOURCE)
            tables = [m for m in (marts or available) if m in available]
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(NEXT)))
            cur.execute(sql.SQL("create schema {}").format(_ident(NEXT)))
            for table in tables:
                cur.execute(
                    sql.SQL("create table {} as select *, cast(%s as text) as {} from {}").format(
                        _ident(NEXT, table), _ident(RUN_ID_COLUMN), _ident(SOURCE, table)
                    ),
                    [run_id],
                )
                counts[table] = cur.rowcount
                _copy_comments(cur, table)
            cur.execute(
                sql.SQL("create table {} (run_id text, published_at timestamptz)").format(
                    _ident(NEXT, "_publish_info")
                )
            )
            cur.execute(
                sql.SQL("insert into {} values (%s, %s)").format(_ident(NEXT, "_publish_info")),
                [run_id, dt.datetime.now(dt.UTC)],
            )
            role = bi_role()
            if _role_exists(cur, role):
                cur.execute(
                    sql.SQL("grant usage on schema {} to {}").format(_ident(NEXT), _ident(role))
                )
                cur.execute(
                    sql.SQL("grant select on all tables in schema {} to {}").format(
                        _ident(NEXT), _ident(role)
                    )
                )
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(OLD)))
        con.commit()
        _swap(con)
        with con.cursor() as cur:
            cur.execute("set lock_timeout = '30s'")
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(OLD)))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()
    return counts


def _swap(con) -> None:
    """Rename published -> published_old and published_next -> published, atomically."""
    for attempt in range(SWAP_ATTEMPTS + 1):
        last = attempt == SWAP_ATTEMPTS
        try:
            with con.cursor() as cur:
                if last:
                    cur.execute("set local lock_timeout = %s", [f"{SWAP_WAIT_SECONDS}s"])
                old = _tables(cur, PUBLISHED)
                if old:
                    cur.execute(
                        sql.SQL(
                            "lock table {} in access exclusive mode" + ("" if last else " nowait")
                        ).format(sql.SQL(", ").join(_ident(PUBLISHED, t) for t in old))
                    )
                    cur.execute(
                        sql.SQL("alter schema {} rename to {}").format(
                            _ident(PUBLISHED), _ident(OLD)
                        )
                    )
                cur.execute(
                    sql.SQL("alter schema {} rename to {}").format(_ident(NEXT), _ident(PUBLISHED))
                )
            con.commit()
            return
        except errors.LockNotAvailable:
            con.rollback()
            if last:
                raise
            time.sleep(min(0.5, 0.01 * 2**attempt))


def _copy_comments(cur, table: str) -> None:
    """Carry the dbt descriptions (table and column comments) from marts to the copy."""
    cur.execute(
        "select obj_description(c.oid, 'pg_class') from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s and c.relname = %s",
        [SOURCE, table],
    )
    row = cur.fetchone()
    if row and row[0]:
        cur.execute(sql.SQL("comment on table {} is %s").format(_ident(NEXT, table)), [row[0]])
    cur.execute(
        "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped "
        "and col_description(a.attrelid, a.attnum) is not null",
        [SOURCE, table],
    )
    for column, text in cur.fetchall():
        cur.execute(
            sql.SQL("comment on column {}.{} is %s").format(_ident(NEXT, table), _ident(column)),
            [text],
        )


def setup_bi_role(password: str, role: str | None = None) -> str:
    """Create (or update) the read-only BI login: CONNECT, and SELECT on `published` only."""
    role = role or bi_role()
    con = pg_connect()
    try:
        with con.cursor() as cur:
            if _role_exists(cur, role):
                cur.execute(
                    sql.SQL("alter role {} with login password %s").format(_ident(role)), [password]
                )
            else:
                cur.execute(
                    sql.SQL(
                        "create role {} with login nosuperuser nocreatedb nocreaterole password %s"
                    ).format(_ident(role)),
                    [password],
                )
            cur.execute("select current_database()")
            database = cur.fetchone()[0]
            cur.execute(
                sql.SQL("grant connect on database {} to {}").format(_ident(database), _ident(role))
            )
            cur.execute(
                sql.SQL("alter role {} set default_transaction_read_only = on").format(_ident(role))
            )
            cur.execute(
                sql.SQL("alter role {} set search_path = {}").format(
                    _ident(role), _ident(PUBLISHED)
                )
            )
            if _tables(cur, PUBLISHED):
                cur.execute(
                    sql.SQL("grant usage on schema {} to {}").format(
                        _ident(PUBLISHED), _ident(role)
                    )
                )
                cur.execute(
                    sql.SQL("grant select on all tables in schema {} to {}").format(
                        _ident(PUBLISHED), _ident(role)
                    )
                )
        con.commit()
    finally:
        con.close()
    return role


def read_published_run_ids(con=None) -> set[str]:
    """The run ids across all published marts, read in one statement."""
    own = con is None
    con = con or pg_connect()
    try:
        with con.cursor() as cur:
            tables = [t for t in _tables(cur, PUBLISHED) if t != "_publish_info"]
            if not tables:
                return set()
            cur.execute(
                sql.SQL(" union ").join(
                    sql.SQL("select distinct {} from {}").format(
                        _ident(RUN_ID_COLUMN), _ident(PUBLISHED, t)
                    )
                    for t in tables
                )
            )
            return {r[0] for r in cur.fetchall()}
    finally:
        if own:
            con.close()
