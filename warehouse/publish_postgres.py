"""Publish on PostgreSQL: build the new marts beside the old ones, swap them in at once.

1. Copy every mart from `marts` into a fresh schema `published_next` (stamped with the run
   id, comments carried over, SELECT granted to the BI role) and commit. BI readers keep
   reading `published` meanwhile.
2. Swap in one short transaction: lock the current `published` tables without ever
   waiting while holding a lock (see `_swap`: readers are held up for at most half a
   second and are never part of a lock cycle), rename `published` to `published_old` and
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
import random
import time

from psycopg2 import errors, sql

from warehouse.connections import pg_connect
from warehouse.publish import CHECK_COLUMNS, CHECKS_TABLE, CheckResult
from warehouse.settings import Settings

PUBLISHED = "published"
NEXT = "published_next"
OLD = "published_old"
SOURCE = "marts"
RUN_ID_COLUMN = "_published_run_id"
LOCK_WAIT = "500ms"  # the longest a reader queues behind a swap attempt
SWAP_DEADLINE_SECONDS = 600


class PublishError(RuntimeError):
    pass


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


def _grant_read(cur, schema: str, role: str) -> None:
    cur.execute(sql.SQL("grant usage on schema {} to {}").format(_ident(schema), _ident(role)))
    cur.execute(
        sql.SQL("grant select on all tables in schema {} to {}").format(
            _ident(schema), _ident(role)
        )
    )


def publish_postgres(
    run_id: str,
    marts: list[str] | None = None,
    settings: Settings | None = None,
    checks: list[CheckResult] | None = None,
) -> dict[str, int]:
    settings = settings or Settings.from_env()
    con = pg_connect(settings)
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
            cur.execute(
                sql.SQL(
                    "create table {} (asset text, check_name text, passed boolean, "
                    "severity text, description text)"
                ).format(_ident(NEXT, CHECKS_TABLE))
            )
            if checks:
                cur.executemany(
                    sql.SQL("insert into {} values (%s, %s, %s, %s, %s)").format(
                        _ident(NEXT, CHECKS_TABLE)
                    ),
                    [[getattr(c, k) for k in CHECK_COLUMNS] for c in checks],
                )
            if _role_exists(cur, settings.bi_role):
                _grant_read(cur, NEXT, settings.bi_role)
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(OLD)))
        con.commit()
        _swap(con)
        with con.cursor() as cur:
            # nobody can still be reading the old tables (the swap held them all); if the drop
            # cannot get its locks quickly, the next publish drops the schema first
            cur.execute("set lock_timeout = %s", [LOCK_WAIT])
            try:
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(OLD)))
                con.commit()
            except (errors.LockNotAvailable, errors.DeadlockDetected):
                con.rollback()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()
    return counts


def _swap(con) -> None:
    """Rename published -> published_old and published_next -> published, atomically.

    The old tables are locked (ACCESS EXCLUSIVE) for the rename: the swap waits (at most
    `LOCK_WAIT`) only for its first table, holding nothing, and takes the others with NOWAIT,
    so it never waits while holding a lock: no lock cycle with a reader, and a reader queued
    behind the swap waits at most `LOCK_WAIT`. A busy table rolls the attempt back; the next
    attempt waits for that table first. Gives up after `SWAP_DEADLINE_SECONDS`."""
    deadline = time.monotonic() + SWAP_DEADLINE_SECONDS
    attempt, first = 0, None
    while True:
        table = None
        try:
            with con.cursor() as cur:
                cur.execute("set local lock_timeout = %s", [LOCK_WAIT])
                old = _tables(cur, PUBLISHED)
                # Never wait while holding a lock (so no lock cycle with a reader): wait (at
                # most LOCK_WAIT) only for the first table, the one a reader held last time,
                # then take the rest with NOWAIT; if one is busy, roll back and start over.
                for i, table in enumerate(sorted(old, key=lambda t: t != first)):
                    cur.execute(
                        sql.SQL(
                            "lock table {} in access exclusive mode" + (" nowait" if i else "")
                        ).format(_ident(PUBLISHED, table))
                    )
                if old:
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
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            con.rollback()
            attempt, first = attempt + 1, table
            if time.monotonic() > deadline:
                raise PublishError(
                    f"could not swap in the new marts: readers held the published tables for "
                    f"{SWAP_DEADLINE_SECONDS} s ({attempt} attempts). The new marts are in "
                    f"schema {NEXT}; publish again when readers are idle."
                ) from None
            time.sleep(random.uniform(0.01, 0.05))


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
    settings = Settings.from_env()
    role = role or settings.bi_role
    con = pg_connect(settings)
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
                _grant_read(cur, PUBLISHED, role)
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
            tables = [t for t in _tables(cur, PUBLISHED) if not t.startswith("_")]
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
