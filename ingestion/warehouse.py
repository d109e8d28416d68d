"""Where the warehouse lives: one setting, `XM_TARGET`, picks the engine for every part.

- `duckdb` (default): the file `$XM_DATA_DIR/warehouse.duckdb`.
- `postgres`: the server named by `XM_POSTGRES_DSN` (``postgresql://user:pass@host:port/db``),
  or by dlt's `[destination.postgres] credentials` in `.dlt/secrets.toml`.

dlt loads with the matching destination, dbt runs the `duckdb` or `postgres` output of
`dbt/profiles.yml` (which reads the `PG*` variables set here from the DSN), and publish
swaps the marts the engine's way (docs/engines.md).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

TARGETS = ("duckdb", "postgres")


class WarehouseConfigError(RuntimeError):
    """The warehouse setting is wrong or incomplete; the message says what to set."""


def data_dir() -> Path:
    return Path(os.environ.get("XM_DATA_DIR", "data")).resolve()


def warehouse_path() -> Path:
    """The DuckDB file (the `duckdb` target)."""
    return data_dir() / "warehouse.duckdb"


def pipelines_dir() -> Path:
    """dlt's local pipeline state (incremental cursors), one directory per target: a cursor
    advanced by loads into DuckDB must not make a first load into PostgreSQL skip history."""
    return data_dir() / ("dlt_pipelines" if target() == "duckdb" else f"dlt_pipelines_{target()}")


def target() -> str:
    name = os.environ.get("XM_TARGET", "duckdb").strip().lower() or "duckdb"
    if name not in TARGETS:
        raise WarehouseConfigError(f"XM_TARGET={name!r}: choose one of {', '.join(TARGETS)}")
    return name


def postgres_dsn() -> str:
    dsn = os.environ.get("XM_POSTGRES_DSN")
    if not dsn:
        import dlt

        dsn = dlt.secrets.get("destination.postgres.credentials")
        if isinstance(dsn, dict):  # the table form of the same credentials
            dsn = (
                f"postgresql://{dsn.get('username', '')}:{dsn.get('password', '')}@"
                f"{dsn.get('host', 'localhost')}:{dsn.get('port', 5432)}/{dsn.get('database', '')}"
            )
    if not dsn:
        raise WarehouseConfigError(
            "XM_TARGET=postgres needs a server: set XM_POSTGRES_DSN="
            "postgresql://user:password@host:5432/database (or [destination.postgres] "
            "credentials in .dlt/secrets.toml). `xm postgres start` runs a local one."
        )
    return str(dsn)


def libpq_env(dsn: str) -> dict[str, str]:
    """The DSN as the standard libpq variables, which dbt's postgres profile reads."""
    url = urlsplit(dsn)
    if url.scheme not in ("postgres", "postgresql") or not url.path.strip("/"):
        raise WarehouseConfigError(
            f"XM_POSTGRES_DSN must look like postgresql://user:password@host:port/database, not {dsn!r}"
        )
    return {
        "PGHOST": url.hostname or "localhost",
        "PGPORT": str(url.port or 5432),
        "PGUSER": unquote(url.username or ""),
        "PGPASSWORD": unquote(url.password or ""),
        "PGDATABASE": url.path.strip("/"),
    }


def engine_env() -> dict[str, str]:
    """Environment for tools run as subprocesses (dbt): the data dir, the target, PG*."""
    env = {"XM_DATA_DIR": str(data_dir()), "XM_TARGET": target()}
    if target() == "postgres":
        env |= libpq_env(postgres_dsn())
    return env


def export_engine_env() -> None:
    """Put `engine_env()` into this process's environment (dbt run by Dagster inherits it)."""
    os.environ.update(engine_env())


def dlt_destination():
    import dlt

    if target() == "postgres":
        return dlt.destinations.postgres(credentials=postgres_dsn())
    return dlt.destinations.duckdb(str(warehouse_path()))


def loader_file_format() -> str:
    # parquet loads into DuckDB far faster than INSERT statements; on PostgreSQL dlt's
    # INSERT files are exact (its CSV files cannot tell an empty string from a null)
    return "insert_values" if target() == "postgres" else "parquet"


def pg_connect(dsn: str | None = None, **kwargs):
    """A psycopg2 connection to the PostgreSQL warehouse."""
    import psycopg2

    return psycopg2.connect(dsn or postgres_dsn(), **kwargs)


def query(sql: str) -> list[tuple]:
    """Run one read-only statement (portable SQL, no parameters) on the warehouse."""
    if target() == "postgres":
        con = pg_connect()
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            con.close()
    import duckdb

    con = duckdb.connect(str(warehouse_path()), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """DuckDB SQL as PostgreSQL SQL, by sqlglot (installed with dlt): `?` parameters become
    `%s`, `/` stays true division. For the project's Python-side queries (checks, summaries);
    the dbt models are portable SQL and need no translation."""
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
