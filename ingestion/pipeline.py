"""Run the dlt loaders into the warehouse: one pipeline per vendor (`ingestion.vendors`).

Raw schemas are `raw_<vendor>` in the engine the settings pick (`warehouse.settings`): by
default the file `$XM_DATA_DIR/warehouse.duckdb`. Pipelines run one after another: DuckDB
allows one writer. dlt reads its retry and timeout settings from `.dlt/config.toml` in the
working directory (or `DLT_PROJECT_DIR`); `xm` points it at the project's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from requests import HTTPError

from ingestion.progress import RowCounter
from ingestion.vendors import SOURCES, VENDORS, Vendor
from warehouse.connections import query
from warehouse.failures import OperatorError, chain, explain, writable_dir
from warehouse.progress import Progress, report
from warehouse.settings import Settings


class IngestError(OperatorError):
    """A load failed for a reason the user can act on; the message says how (one line)."""


def make_pipeline(
    source: str, settings: Settings | None = None, progress: RowCounter | None = None
) -> dlt.Pipeline:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"xm_{source}",
        destination=settings.dlt_destination(),
        dataset_name=VENDORS[source].dataset,
        pipelines_dir=str(settings.pipelines_dir),
        **({"progress": progress} if progress is not None else {}),
    )


@dataclass
class LoadResult:
    source: str
    seconds: float
    row_counts: dict[str, int] = field(default_factory=dict)  # rows loaded per table
    cursors: dict[str, str] = field(default_factory=dict)  # resource -> cursor it resumed from
    new_rows: dict[str, int] = field(default_factory=dict)  # per table: rows the table gained

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def incremental(self) -> bool:
        return bool(self.cursors)

    @property
    def new(self) -> int:
        return sum(self.new_rows.values())

    def describe(self) -> str:
        """How this load ran, in words: first load or incremental from which cursors."""
        if not self.cursors:
            return "first load: full history (no cursor stored yet)"
        cursors = ", ".join(f"{r} > {c}" for r, c in sorted(self.cursors.items()))
        return f"incremental from the stored cursors: {cursors}"


def explain_failure(source: str, exc: BaseException) -> IngestError | None:
    """Turn a failed load into one line naming the source, the cause and the fix."""
    hint = "(see .dlt/secrets.toml.example)"
    for e in chain(exc):
        if (
            isinstance(e, HTTPError)
            and e.response is not None
            and e.response.status_code in (401, 403)
        ):
            code = e.response.status_code
            return IngestError(
                f"{source}: the API refused the credentials (HTTP {code} from {e.response.url.split('?')[0]}). "
                f"Set {VENDORS[source].credential_hint} in the environment or [sources.{source}] in .dlt/secrets.toml "
                f"{hint}."
            )
        if isinstance(e, ConfigFieldMissingException):
            fields = ", ".join(e.fields)
            return IngestError(
                f"{source}: missing configuration ({fields}). Set SOURCES__{source.upper()}__<FIELD> "
                f"environment variables or [sources.{source}] in .dlt/secrets.toml {hint}."
            )
    line = explain(exc)
    if line is not None:
        return IngestError(f"{source}: {line}")
    return None


def base_url(vendor: Vendor) -> str | None:
    """The vendor's configured base URL (dlt config: environment, .dlt/*.toml), if any."""
    value = dlt.config.get(f"sources.{vendor.name}.base_url")
    return str(value) if value else None


def check_sources(
    sources: Iterable[str], settings: Settings | None = None, timeout: float = 5.0
) -> list[str]:
    """Everything a load needs, checked before anything is touched: known sources, their
    settings and credentials, a reachable API (seconds, not a minute of retries), a writable
    data dir. Raises IngestError (one line); returns the sources."""
    settings = settings or Settings.from_env()
    sources = list(sources)
    for source in sources:
        if source not in VENDORS:
            raise IngestError(f"unknown source {source!r}: choose from {', '.join(SOURCES)}")
    if settings.target == "duckdb":
        if problem := writable_dir(settings.data_dir):
            raise IngestError(problem)
        if settings.warehouse_path.exists():  # corrupted or locked: say so before loading
            try:
                query("select 1", settings=settings)
            except Exception as e:
                raise IngestError(
                    explain(e) or f"cannot open {settings.warehouse_path}: {e}"
                ) from e
    for source in sources:
        vendor = VENDORS[source]
        try:
            vendor.source()  # resolves the settings and credentials (no request is made)
        except ConfigFieldMissingException as e:
            raise (explain_failure(source, e) or IngestError(str(e))) from e
        url = base_url(vendor)
        if url and (problem := unreachable(url, timeout)):
            raise IngestError(
                f"{source}: cannot reach {url} ({problem}): is the API up and "
                f"SOURCES__{source.upper()}__BASE_URL right? (the simulator: `xm simulate serve`)"
            )
    return sources


def unreachable(url: str, timeout: float = 5.0) -> str | None:
    """Why nothing answers at `url` (a TCP connect to its host and port), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except socket.gaierror:
        return "host not found"
    except TimeoutError:
        return f"no answer within {timeout:.0f}s"
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as e:
        return e.strerror or str(e)


def _cursors(pipeline: dlt.Pipeline, source: str) -> dict[str, str]:
    """The incremental cursors stored for the source's resources: {resource: value}."""
    # a wiped local state resumes from the destination's; nothing loaded yet: no state
    with contextlib.suppress(Exception):
        pipeline.sync_destination()
    resources = pipeline.state.get("sources", {}).get(source, {}).get("resources", {})
    out = {}
    for resource, state in resources.items():
        for cursor in (state.get("incremental") or {}).values():
            value = cursor.get("last_value") if isinstance(cursor, dict) else None
            if value is not None:
                out[resource] = _fmt_cursor(value)
    return out


def _fmt_cursor(value) -> str:
    if isinstance(value, int | float) and value > 10**8:  # epoch seconds
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def table_rows(dataset: str, settings: Settings) -> dict[str, int]:
    """Rows per table of a raw schema now (empty when the warehouse does not exist yet)."""
    if settings.target == "duckdb" and not settings.warehouse_path.exists():
        return {}
    if settings.target == "spark":  # no information_schema: SHOW TABLES (the raw views)
        from warehouse import spark

        con = spark.connect(settings)
        try:
            tables = spark.tables(con, dataset)
        finally:
            con.close()
    else:
        tables = [
            t
            for (t,) in query(
                "select table_name from information_schema.tables where table_schema = ?",
                [dataset],
                settings=settings,
            )
        ]
    if not tables:
        return {}

    def ident(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    sql = " union all ".join(
        f"select ? as t, count(*) as n from {ident(dataset)}.{ident(t)}" for t in tables
    )
    return dict(query(sql, tables, settings=settings))


def ingest(
    sources: Iterable[str] = SOURCES,
    echo: Callable[[str], None] = print,
    settings: Settings | None = None,
) -> list[LoadResult]:
    settings = settings or Settings.from_env()
    sources = check_sources(sources, settings)
    results = []
    for source in sources:
        vendor = VENDORS[source]
        echo(f"[{source}] loading into {settings.where()} ({vendor.dataset}) ...")
        started = time.perf_counter()
        try:
            pipeline = make_pipeline(source, settings, progress=RowCounter(f"load_{source}"))
            cursors = _cursors(pipeline, source)
            echo(f"[{source}] " + LoadResult(source, 0, cursors=cursors).describe())
            before = table_rows(vendor.dataset, settings)
            pipeline.run(vendor.source(), loader_file_format=settings.loader_file_format)
            after_load(source, settings)  # on Spark the load is only seen once registered
            after = table_rows(vendor.dataset, settings)
        except Exception as e:
            raise (explain_failure(source, e) or e) from e
        finally:
            report(Progress(f"load_{source}", "", 0, finished=True))
        counts = {
            t: n
            for t, n in pipeline.last_trace.last_normalize_info.row_counts.items()
            if not t.startswith("_dlt")
        }
        new = {t: max(after.get(t, 0) - before.get(t, 0), 0) for t in counts}
        result = LoadResult(source, time.perf_counter() - started, counts, cursors, new)
        results.append(result)
        for table, n in sorted(counts.items()):
            echo(
                f"[{source}]   {table:<40} {n:>9,} rows ({new[table]:,} new, "
                f"{max(n - new[table], 0):,} updated or re-sent)"
            )
        echo(
            f"[{source}] done in {result.seconds:.1f}s: {result.rows:,} rows "
            f"({result.new:,} new, {max(result.rows - result.new, 0):,} updated or re-sent)"
        )
    return results


def after_load(source: str, settings: Settings | None = None) -> None:
    """Make a finished load visible to the engine. On Spark the raw tables are Parquet files
    in the lake: (re)register the vendor's tables in Spark's catalog (new files, new
    columns; `warehouse/spark.py`). Other engines see a load as soon as dlt commits it."""
    settings = settings or Settings.from_env()
    if settings.target == "spark":
        from warehouse.spark import register_raw

        register_raw([VENDORS[source].dataset], settings)


def raw_table_counts(
    sources: Iterable[str] = SOURCES, settings: Settings | None = None
) -> dict[str, tuple[int, int]]:
    """{"raw_<source>.<table>": (rows, distinct primary keys)} for every root table with a key.

    Keys come from each pipeline's stored dlt schema, so this reads what the loaders declared.
    """
    out: dict[str, tuple[int, int]] = {}
    for source in sources:
        try:
            schema = make_pipeline(source, settings).default_schema
        except Exception:  # never loaded: no schema yet
            continue
        for table in schema.data_table_names():
            cols = schema.get_table_columns(table)
            keys = [c for c, spec in cols.items() if spec.get("primary_key")]
            if not keys:
                continue
            key = ", ".join(f'"{k}"' for k in keys)
            [(rows, distinct)] = query(
                f'select count(*), count(distinct ({key})) from "raw_{source}"."{table}"',
                settings=settings,
            )
            out[f"raw_{source}.{table}"] = (rows, distinct)
    return out
