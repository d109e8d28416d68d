"""The warehouse's settings, read from the environment in one place, into one object.

- `XM_DATA_DIR` (default `data`): where everything the project writes lives (the DuckDB
  warehouse, dlt state, the published release, docs, logs). A relative path is relative to
  the project root (the folder holding `dbt/`), whatever the working directory.
  On DuckDB it may not contain an apostrophe: dlt's DuckDB loader splices load file paths
  into `read_parquet('...')` unescaped, so it would fail mid-load; the setting is refused
  up front instead (`WarehouseConfigError`). Spaces and other characters are fine.
- `XM_BI_ROLE` (default `xm_bi`): the read-only login BI tools use on PostgreSQL.
- `XM_RELEASE_GRACE_HOURS` (default 24): how long a superseded published release stays on
  disk for readers that resolved it before the switch (`warehouse.publish`).
- `XM_DUCKDB_MEMORY_LIMIT` (default `1GB`): DuckDB's `memory_limit` for the loader, dbt
  and the publish (a size such as `512MB`, `4GB`, or a share of RAM such as `50%`). DuckDB's
  own default is 80% of RAM, and it keeps what it reads cached up to its limit: a build at
  scale 10 held 5 GB. Under the limit DuckDB spills sorts and hash tables to disk
  (DECISIONS.md, "Memory").
- `XM_TARGET` (default `duckdb`): the engine of every part.
  - `duckdb`: the file `$XM_DATA_DIR/warehouse.duckdb`.
  - `postgres`: the server named by libpq's own variables `PGHOST`, `PGPORT`, `PGUSER`,
    `PGPASSWORD`, `PGDATABASE`, which dbt's profile, psycopg2 and `psql` read as they are.
  - `spark`: raw Parquet files in the lake `XM_LAKE_DIR` (default `$XM_DATA_DIR/lake`; a
    path, relative to the project root like `XM_DATA_DIR`), the models on the Spark SQL
    (Thrift) endpoint `XM_SPARK_HOST`:`XM_SPARK_PORT` (default 127.0.0.1:10000), which
    `xm spark start` runs locally on a standalone cluster.

Orchestration (read by the Dagster code location; docs/operations.md):
- `XM_SCHEDULES` (`off` | `on`, default `off`): whether the schedules and sensors start
  running when the code location loads. Off for development (`xm dev`), on in production.
- `XM_CX_REFRESH_CRON` (default every 30 minutes in the help desk's business hours): when
  the CX refresh runs.
- `XM_ALERT_WEBHOOK` (default none): a URL that receives a JSON POST (Slack-compatible
  `text`) for every failed step or run.

`Settings.from_env()` is the only reader of these variables; nothing writes them back: a dbt
subprocess gets `dbt_env()` passed to it, and dbt's profile reads the same variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = PROJECT_ROOT / "dbt"
TARGETS = ("duckdb", "postgres", "spark")
PG_VARIABLES = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE")
CX_REFRESH_CRON = "*/30 7-20 * * 1-5"  # America/New_York: the help desk's business hours
DUCKDB_MEMORY_LIMIT = "1GB"  # also dbt/profiles.yml's default (tests/test_operations.py)
MIN_MEMORY_LIMIT_MIB = 64  # below this DuckDB fails its first queries


class WarehouseConfigError(RuntimeError):
    """The warehouse setting is wrong or incomplete; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    target: str = "duckdb"
    postgres: Mapping[str, str] | None = None  # the PG* variables (target postgres)
    bi_role: str = "xm_bi"  # XM_BI_ROLE: the read-only login of BI tools (PostgreSQL)
    release_grace_hours: float = 24.0  # XM_RELEASE_GRACE_HOURS: superseded releases kept
    duckdb_memory_limit: str = DUCKDB_MEMORY_LIMIT  # XM_DUCKDB_MEMORY_LIMIT
    schedules: bool = False  # XM_SCHEDULES: schedules and sensors running when loaded
    cx_refresh_cron: str = CX_REFRESH_CRON  # XM_CX_REFRESH_CRON
    alert_webhook: str | None = None  # XM_ALERT_WEBHOOK: POSTed on every failure
    lake_dir: Path | None = None  # XM_LAKE_DIR: dlt's raw Parquet (target spark)
    spark_host: str = "127.0.0.1"  # XM_SPARK_HOST / XM_SPARK_PORT: the Spark SQL endpoint
    spark_port: int = 10000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("XM_DATA_DIR") or "data").expanduser()
        if not data_dir.is_absolute():
            data_dir = PROJECT_ROOT / data_dir
        target = (env.get("XM_TARGET") or "duckdb").strip().lower() or "duckdb"
        if target not in TARGETS:
            raise WarehouseConfigError(
                f"XM_TARGET={target!r} is not an engine this project runs on: "
                f"choose one of {', '.join(TARGETS)}"
            )
        postgres = None
        if target == "postgres":
            postgres = {k: env[k] for k in PG_VARIABLES if env.get(k)}
            missing = [k for k in ("PGHOST", "PGUSER", "PGDATABASE") if k not in postgres]
            if missing:
                raise WarehouseConfigError(
                    f"XM_TARGET=postgres needs a server: set {', '.join(missing)} (libpq's "
                    "PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE). `xm postgres start` "
                    "runs a local one and prints them."
                )
        if target == "duckdb" and "'" in str(data_dir):
            raise WarehouseConfigError(
                f"XM_DATA_DIR={str(data_dir)!r} contains an apostrophe, which dlt's DuckDB "
                "loader cannot load from (it writes load file paths into read_parquet('...') "
                "unescaped): choose a folder without one"
            )
        grace = (env.get("XM_RELEASE_GRACE_HOURS") or "24").strip()
        try:
            release_grace_hours = float(grace)
        except ValueError:
            release_grace_hours = -1.0
        if not release_grace_hours >= 0:  # also refuses nan
            raise WarehouseConfigError(
                f"XM_RELEASE_GRACE_HOURS={grace!r} is not a number of hours >= 0"
            )
        memory_limit = _memory_limit(
            (env.get("XM_DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT).strip()
        )
        lake_dir = Path(env.get("XM_LAKE_DIR") or data_dir / "lake").expanduser()
        if not lake_dir.is_absolute():
            lake_dir = PROJECT_ROOT / lake_dir
        try:
            spark_port = int(env.get("XM_SPARK_PORT") or 10000)
        except ValueError:
            raise WarehouseConfigError(
                f"XM_SPARK_PORT={env.get('XM_SPARK_PORT')!r} is not a port number"
            ) from None
        return cls(
            data_dir=data_dir.resolve(),
            target=target,
            postgres=postgres,
            bi_role=env.get("XM_BI_ROLE") or "xm_bi",
            release_grace_hours=release_grace_hours,
            duckdb_memory_limit=memory_limit,
            **_orchestration(env),
            lake_dir=lake_dir.resolve(),
            spark_host=env.get("XM_SPARK_HOST") or "127.0.0.1",
            spark_port=spark_port,
        )

    # ------------------------------------------------------------------ where things live
    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file (the `duckdb` target)."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def pipelines_dir(self) -> Path:
        """dlt's local pipeline state (incremental cursors), one directory per target: a
        cursor advanced by loads into DuckDB must not make a first PostgreSQL load skip history."""
        suffix = "" if self.target == "duckdb" else f"_{self.target}"
        return self.data_dir / f"dlt_pipelines{suffix}"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def docs_dir(self) -> Path:
        return self.data_dir / "docs"

    @property
    def dagster_home(self) -> Path:
        """The Dagster instance of this data dir: runs, event logs, schedule ticks."""
        return self.data_dir / "dagster_home"

    # ------------------------------------------------------------------ engines
    @property
    def postgres_dsn(self) -> str:
        pg = self.postgres or {}
        if not pg:
            raise WarehouseConfigError("the postgres target is not configured (XM_TARGET)")
        auth = quote(pg["PGUSER"], safe="")
        if pg.get("PGPASSWORD"):
            auth += ":" + quote(pg["PGPASSWORD"], safe="")
        port = pg.get("PGPORT", "5432")
        return f"postgresql://{auth}@{pg['PGHOST']}:{port}/{pg['PGDATABASE']}"

    @property
    def lake(self) -> Path:
        """Where dlt writes the raw tables as Parquet (target spark): `<lake>/<dataset>/<table>/`."""
        return self.lake_dir or self.data_dir / "lake"

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt's profile reads, for a dbt subprocess."""
        spark = {}
        if self.target == "spark":
            spark = {"XM_SPARK_HOST": self.spark_host, "XM_SPARK_PORT": str(self.spark_port)}
        return {
            "XM_DATA_DIR": str(self.data_dir),
            "XM_TARGET": self.target,
            "XM_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            **(self.postgres or {}),
            **spark,
        }

    @property
    def loader_file_format(self) -> str:
        # parquet loads into DuckDB far faster than INSERT statements; on PostgreSQL dlt's
        # INSERT files are exact (its CSV files cannot tell an empty string from a null)
        return "insert_values" if self.target == "postgres" else "parquet"

    def dlt_destination(self):
        import dlt

        if self.target == "postgres":
            return dlt.destinations.postgres(credentials=self.postgres_dsn)
        if self.target == "spark":
            # plain Parquet files, appended per load (no table format: no merge, see
            # warehouse/spark.py for how Spark reads them as dlt's merge would have left them)
            return dlt.destinations.filesystem(bucket_url=self.lake.as_uri())
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        return dlt.destinations.duckdb(
            DuckDbCredentials(str(self.warehouse_path), global_config=self.duckdb_config)
        )

    @property
    def duckdb_config(self) -> dict[str, str]:
        """The settings every DuckDB connection that writes or builds opens with."""
        return {"memory_limit": self.duckdb_memory_limit}

    def where(self) -> str:
        """The warehouse in words, for progress lines."""
        if self.target == "postgres":
            pg = self.postgres or {}
            return (
                f"PostgreSQL {pg.get('PGHOST')}:{pg.get('PGPORT', '5432')}/{pg.get('PGDATABASE')}"
            )
        if self.target == "spark":
            return f"the lake {self.lake} (Spark SQL at {self.spark_host}:{self.spark_port})"
        return str(self.warehouse_path)


@lru_cache(maxsize=8)
def _memory_limit(value: str) -> str:
    """XM_DUCKDB_MEMORY_LIMIT as DuckDB itself reads it (a size such as `512MB` or `4GB`, a
    share of RAM such as `50%`), refused here rather than mid-run if DuckDB would not take
    it or it is too small to run a query."""
    import duckdb

    problem = f"XM_DUCKDB_MEMORY_LIMIT={value!r}"
    too_small = f"too little to build the warehouse; give at least {MIN_MEMORY_LIMIT_MIB}MiB"
    try:
        with duckdb.connect(config={"memory_limit": value}) as con:
            shown = con.execute("select current_setting('memory_limit')").fetchone()[0]
    except duckdb.OutOfMemoryException:
        raise WarehouseConfigError(f"{problem} is {too_small}") from None
    except duckdb.Error as e:
        raise WarehouseConfigError(
            f"{problem} is not a memory limit DuckDB takes ({str(e).splitlines()[0]}): give "
            "a size such as 512MB or 4GB, or a share of RAM such as 50%"
        ) from None
    number, unit = shown.split()  # DuckDB shows it as e.g. "953.6 MiB"
    scale = {"bytes": 0, "KiB": 1, "MiB": 2, "GiB": 3, "TiB": 4, "PiB": 5}.get(unit, 5)
    if float(number) * 1024**scale < MIN_MEMORY_LIMIT_MIB * 1024**2:
        raise WarehouseConfigError(f"{problem} leaves DuckDB {shown}: {too_small}")
    return value


def _orchestration(env: Mapping[str, str]) -> dict:
    switch = (env.get("XM_SCHEDULES") or "off").strip().lower()
    if switch not in ("on", "off", "true", "false", "1", "0"):
        raise WarehouseConfigError(f"XM_SCHEDULES={switch!r}: set it to `on` or `off`")
    cron = (env.get("XM_CX_REFRESH_CRON") or CX_REFRESH_CRON).strip()
    if len(cron.split()) != 5:
        raise WarehouseConfigError(
            f"XM_CX_REFRESH_CRON={cron!r} is not a cron schedule of five fields "
            "(minute hour day month weekday), e.g. '*/30 7-20 * * 1-5'"
        )
    webhook = (env.get("XM_ALERT_WEBHOOK") or "").strip() or None
    if webhook and not webhook.startswith(("http://", "https://")):
        raise WarehouseConfigError(
            f"XM_ALERT_WEBHOOK={webhook!r} is not an http(s) URL (failures are POSTed to it)"
        )
    return {
        "schedules": switch in ("on", "true", "1"),
        "cx_refresh_cron": cron,
        "alert_webhook": webhook,
    }


def libpq_env(dsn: str) -> dict[str, str]:
    """A postgresql:// URL as libpq's variables (for `xm postgres start` and the tests)."""
    from urllib.parse import unquote, urlsplit

    url = urlsplit(dsn)
    if url.scheme not in ("postgres", "postgresql") or not url.path.strip("/"):
        raise WarehouseConfigError(
            f"a PostgreSQL URL looks like postgresql://user:password@host:port/database, not {dsn!r}"
        )
    return {
        "PGHOST": url.hostname or "localhost",
        "PGPORT": str(url.port or 5432),
        "PGUSER": unquote(url.username or ""),
        "PGPASSWORD": unquote(url.password or ""),
        "PGDATABASE": url.path.strip("/"),
    }
