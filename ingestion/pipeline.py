"""Run the dlt loaders into the warehouse: one pipeline per vendor.

Raw schemas are `raw_<vendor>` in the engine `XM_TARGET` picks (ingestion/warehouse.py):
by default the file `$XM_DATA_DIR/warehouse.duckdb` (default `./data`). Pipelines run one
after another: DuckDB allows one writer.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.pipeline.exceptions import PipelineStepFailed
from requests import HTTPError

from ingestion.warehouse import (
    data_dir,
    dlt_destination,
    engine_env,
    loader_file_format,
    pipelines_dir,
    query,
    target,
    warehouse_path,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("hubspot", "zendesk", "bamboohr", "qualtrics")

# dlt reads .dlt/config.toml (retries, timeouts) from the project, wherever xm is run from
os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_ROOT))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

CREDENTIAL_HINTS = {
    "hubspot": "SOURCES__HUBSPOT__API_KEY (a private app access token)",
    "zendesk": "SOURCES__ZENDESK__EMAIL and SOURCES__ZENDESK__API_TOKEN",
    "bamboohr": "SOURCES__BAMBOOHR__API_KEY",
    "qualtrics": "SOURCES__QUALTRICS__API_TOKEN",
}


class IngestError(RuntimeError):
    """A load failed for a reason the user can act on; the message says how."""


def make_pipeline(source: str) -> dlt.Pipeline:
    data_dir().mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"xm_{source}",
        destination=dlt_destination(),
        dataset_name=f"raw_{source}",
        pipelines_dir=str(pipelines_dir()),
    )


def load_source(source: str):
    module = importlib.import_module(f"ingestion.sources.{source}")
    return getattr(module, f"{source}_source")()


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
                f"Set {CREDENTIAL_HINTS[source]} in the environment or [sources.{source}] in .dlt/secrets.toml "
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
    sources: Iterable[str] = SOURCES, echo: Callable[[str], None] = print
) -> list[LoadResult]:
    results = []
    for source in sources:
        if source not in SOURCES:
            raise IngestError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
        where = warehouse_path() if target() == "duckdb" else "postgres"
        echo(f"[{source}] loading into {where} (raw_{source}) ...")
        started = time.perf_counter()
        pipeline = make_pipeline(source)
        try:
            pipeline.run(load_source(source), loader_file_format=loader_file_format())
        except (PipelineStepFailed, ConfigFieldMissingException) as e:
            raise (_explain(source, e) or e) from e
        counts = dict(pipeline.last_trace.last_normalize_info.row_counts)
        result = LoadResult(source, time.perf_counter() - started, counts)
        results.append(result)
        for table, n in sorted(counts.items()):
            if not table.startswith("_dlt"):
                echo(f"[{source}]   {table:<40} {n:>9,} rows")
        echo(f"[{source}] done in {result.seconds:.1f}s ({result.rows:,} rows)")
    return results


def raw_table_counts(sources: Iterable[str] = SOURCES) -> dict[str, tuple[int, int]]:
    """{"raw_<source>.<table>": (rows, distinct primary keys)} for every root table with a key.

    Keys come from each pipeline's stored dlt schema, so this reads what the loaders declared.
    """
    out: dict[str, tuple[int, int]] = {}
    for source in sources:
        try:
            schema = make_pipeline(source).default_schema
        except Exception:  # never loaded: no schema yet
            continue
        for table in schema.data_table_names():
            cols = schema.get_table_columns(table)
            keys = [c for c, spec in cols.items() if spec.get("primary_key")]
            if not keys:
                continue
            key = ", ".join(f'"{k}"' for k in keys)
            [(rows, distinct)] = query(
                f'select count(*), count(distinct ({key})) from "raw_{source}"."{table}"'
            )
            out[f"raw_{source}.{table}"] = (rows, distinct)
    return out


DBT_DIR = PROJECT_ROOT / "dbt"


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project venv), else whatever is on PATH."""
    import shutil
    import sys

    return (
        shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt") or "dbt"
    )


def run_dbt(args: list[str], echo: Callable[[str], None] = print) -> None:
    """Run a dbt command on the project against $XM_DATA_DIR; raise with dbt's output on failure."""
    import subprocess

    dbt = dbt_executable()
    env = {**os.environ, **engine_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [dbt, *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if (
            " OK " in line
            or "ERROR" in line
            or "FAIL" in line
            or "WARN" in line
            or "Completed" in line
        ):
            echo(f"[dbt] {line.split('  ', 1)[-1].strip()}")
    if proc.returncode != 0:
        raise IngestError(
            f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
        )
