"""Connections to the warehouse engine, and short read-only queries on it.

DuckDB allows one writer per file and, while it writes, no other process can even open the
file read-only: every read here opens its own read-only connection and closes it at once.
SQL is written once, in DuckDB's dialect; on PostgreSQL and Spark it is translated with sqlglot.
"""

from __future__ import annotations

from functools import lru_cache

from warehouse.settings import Settings


def pg_connect(settings: Settings | None = None, **kwargs):
    """A psycopg2 connection to the PostgreSQL warehouse."""
    import psycopg2

    return psycopg2.connect((settings or Settings.from_env()).postgres_dsn, **kwargs)


def query(sql: str, params: list | None = None, settings: Settings | None = None) -> list[tuple]:
    """Run one read-only statement (DuckDB dialect) on the warehouse; its rows."""
    settings = settings or Settings.from_env()
    if settings.target == "postgres":
        con = pg_connect(settings)
        try:
            return pg_fetchall(con, sql, params)
        finally:
            con.close()
    if settings.target == "spark":
        from warehouse.spark import query as spark_query

        return spark_query(sql, params, settings)
    import duckdb

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """DuckDB SQL as PostgreSQL SQL, by sqlglot: `?` parameters become `%s`, `/` stays true
    division. For the project's Python-side queries (checks, summaries); the dbt models are
    portable SQL and need no translation."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="postgres")[0]


def pg_execute(cur, sql: str, params: list | None = None) -> None:
    """Run DuckDB-dialect `sql` on a psycopg2 cursor: translated, "%" escaped for params."""
    if params:  # psycopg2 reads "%" as a placeholder once there are parameters
        cur.execute(to_postgres(sql.replace("%", "%%")), params)
    else:
        cur.execute(to_postgres(sql))


def pg_fetchall(con, sql: str, params: list | None = None) -> list[tuple]:
    """`pg_execute` on a new cursor of `con`; the rows, if the statement returns any."""
    with con.cursor() as cur:
        pg_execute(cur, sql, params)
        return cur.fetchall() if cur.description else []
