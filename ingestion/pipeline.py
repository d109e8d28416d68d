"""Run the dlt loaders into the warehouse: one pipeline per vendor (`ingestion.vendors`).

Raw schemas are `raw_<vendor>` in the engine the settings pick (`warehouse.settings`): by
default the file `$XM_DATA_DIR/warehouse.duckdb`. Pipelines run one after another: DuckDB
allows one writer. dlt reads its retry and timeout settings from `.dlt/config.toml` in the
working directory (or `DLT_PROJECT_DIR`); `xm` points it at the project's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.pipeline.exceptions import PipelineStepFailed
from requests import HTTPError

from ingestion.vendors import SOURCES, VENDORS
from warehouse.connections import query
from warehouse.settings import Settings


class IngestError(RuntimeError):
    """A load failed for a reason the user can act on; the message says how."""


def make_pipeline(source: str, settings: Settings | None = None) -> dlt.Pipeline:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"xm_{source}",
        destination=settings.dlt_destination(),
        dataset_name=VENDORS[source].dataset,
        pipelines_dir=str(settings.pipelines_dir),
    )


@dataclass
class LoadResult:
    source: str
    seconds: float
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


def _explain(source: str, exc: BaseException) -> IngestError | None:
    """Turn a failed load into a message naming the source and the fix, when we can."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if (
            isinstance(e, HTTPError)
            and e.response is not None
            and e.response.status_code in (401, 403)
        ):
            code = e.response.status_code
            return IngestError(
                f"{source}: the API refused the credentials (HTTP {code} from {e.response.url.split('?')[0]}). "
                f"Set {VENDORS[source].credential_hint} in the environment or [sources.{source}] in .dlt/secrets.toml "
                f"(see .dlt/secrets.toml.example)."
            )
        if isinstance(e, ConfigFieldMissingException):
            fields = ", ".join(e.fields)
            return IngestError(
                f"{source}: missing configuration ({fields}). Set SOURCES__{source.upper()}__<FIELD> "
                f"environment variables or [sources.{source}] in .dlt/secrets.toml "
                f"(see .dlt/secrets.toml.example)."
            )
        stack += [
            e.__cause__,
            e.__context__,
            *(a for a in getattr(e, "args", ()) if isinstance(a, BaseException)),
        ]
    return None


def ingest(
    sources: Iterable[str] = SOURCES,
    echo: Callable[[str], None] = print,
    settings: Settings | None = None,
) -> list[LoadResult]:
    settings = settings or Settings.from_env()
    sources = list(sources)
    for source in sources:
        if source not in VENDORS:
            raise IngestError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    results = []
    for source in sources:
        echo(f"[{source}] loading into {settings.where()} ({VENDORS[source].dataset}) ...")
        started = time.perf_counter()
        pipeline = make_pipeline(source, settings)
        try:
            pipeline.run(VENDORS[source].source(), loader_file_format=settings.loader_file_format)
        except (PipelineStepFailed, ConfigFieldMissingException) as e:
            raise (_explain(source, e) or e) from e
        after_load(source, settings)
        counts = dict(pipeline.last_trace.last_normalize_info.row_counts)
        result = LoadResult(source, time.perf_counter() - started, counts)
        results.append(result)
        for table, n in sorted(counts.items()):
            if not table.startswith("_dlt"):
                echo(f"[{source}]   {table:<40} {n:>9,} rows")
        echo(f"[{source}] done in {result.seconds:.1f}s ({result.rows:,} rows)")
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
