"""The benchmark harness: one full refresh from an empty warehouse per scale, timed per stage.

Stages (in order): simulator generation, ingest (per source), `dbt build`, quality checks
(`run_suites`), publish. The simulator runs in a process of its own (`simulator/process.py`;
"generate" is the time until it serves). Peak RSS is sampled by a background thread for the
product's process tree (this process: loaders, GX, publish; every child but the simulator,
e.g. dbt) and, apart, for the simulator's process; `getrusage` is kept as a cross-check (its
children figure includes the simulator).

Then, in the same run:

- reference point "ingest vs the format's limit": the Zendesk ticket, ticket-event and SLA
  metric-event pages the simulator served (the exports that are nearly all of the Zendesk
  load's rows), written as JSON files and read by DuckDB's `read_json` into a fresh database
  file;
- reference point "dbt overhead": the compiled SQL of the same models (from the manifest of
  the timed `dbt build`) executed directly in one DuckDB connection, in DAG order, against a
  copy of the raw warehouse; compared with `dbt build` and with `dbt run` on another copy;
- the incremental case: the simulator clock moves one day, then the CX refresh (what the
  Dagster job `cx_refresh` runs: Zendesk + Qualtrics loads, their downstream dbt models and
  tests, the GX suites of the selected assets, publish); the clock moves another day, then
  the nightly refresh (`full_refresh`: every load, `dbt build`, every suite, publish).

The benchmark measures the default DuckDB target (it sets XM_TARGET=duckdb for its runs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import psutil

RESULTS_DIR = Path(__file__).resolve().parent / "results"
HISTORY_DIR = "history"  # under the results: one scale, several history lengths
STAGES = ("generate", "ingest", "dbt_build", "quality", "publish")
INCREMENTAL_STAGES = ("ingest", "dbt_build", "quality", "publish")
MB = 1024 * 1024

# What the Dagster job `cx_refresh` selects (AssetSelection.groups("ingest_zendesk",
# "ingest_qualtrics").downstream()), as the functions its assets call. Checked against the
# job's resolved selection: the same 56 dbt models, every mart, the quarantine.
CX_SOURCES = ("zendesk", "qualtrics")
CX_DBT_SELECT = ("source:raw_zendesk+", "source:raw_qualtrics+")
CX_EXCLUDED_SUITE_PREFIXES = ("raw_hubspot.", "raw_bamboohr.")
# what the Dagster dbt asset adds to `dbt build` (unit tests run in CI, not on refreshes)
DBT_BUILD_ARGS = ("--exclude-resource-type", "unit_test")

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


# ---- memory ------------------------------------------------------------------------------
class TreeRSSSampler:
    """Samples the summed RSS of this process and all its descendants every `interval` s.

    The simulator runs in a process of its own (a child of this one): once `separate_pid` is
    set, that process and its descendants are summed apart, so `peak` is the product's own
    process tree (this process: loaders, GX, publish; children: dbt) and `simulator_peak` the
    simulator's.

    The list of descendants is refreshed every `children_every` samples: listing them scans
    every process on the machine (psutil reads /proc/*/stat), which at every 50 ms sample cost
    the profiled scale-10 run ~7% of a core, competing with the work it measures."""

    def __init__(self, interval: float = 0.05, children_every: int = 10):
        self.interval = interval
        self.children_every = children_every
        self.proc = psutil.Process()
        self.separate_pid: int | None = None
        self.peak = 0
        self.simulator_peak = 0
        self._tick = 0
        self._children: list[psutil.Process] = []
        self._separate: list[psutil.Process] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self, refresh: bool = False) -> int:
        if refresh or self._tick % self.children_every == 0:
            with contextlib.suppress(psutil.Error):
                self._children = self.proc.children(recursive=True)
            if self.separate_pid is not None:
                # a listing that fails (a process ending meanwhile) keeps the last one: the
                # simulator must never be summed into the product (a scale-10 run once was)
                with contextlib.suppress(psutil.Error):
                    sim = psutil.Process(self.separate_pid)
                    self._separate = [sim, *sim.children(recursive=True)]
        self._tick += 1
        apart = {p.pid for p in self._separate} | {self.separate_pid}
        total = simulator = 0
        for p in [self.proc, *self._children]:
            if p.pid not in apart:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
        for p in self._separate:
            with contextlib.suppress(psutil.Error):
                simulator += p.memory_info().rss
        self.peak = max(self.peak, total)
        self.simulator_peak = max(self.simulator_peak, simulator)
        return total

    def reset(self) -> tuple[int, int]:
        """Start a new window; returns the peaks (product, simulator) of the window that ended."""
        peak, self.peak = self.peak, 0
        simulator, self.simulator_peak = self.simulator_peak, 0
        self.sample(refresh=True)
        return max(peak, self.peak), max(simulator, self.simulator_peak)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeRSSSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _maxrss_bytes(who: int) -> int:
    kb = resource.getrusage(who).ru_maxrss  # kilobytes on Linux
    return kb * (1 if sys.platform == "darwin" else 1024)


# ---- machine -----------------------------------------------------------------------------
def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "versions": {
            d: _version(d)
            for d in ("duckdb", "dlt", "dbt-core", "dbt-duckdb", "great_expectations", "dagster")
        },
    }


# ---- reference point: the format's limit -------------------------------------------------
def _fetch_pages(url: str, path: str, params: dict, key: str, next_key: str) -> Iterator[list]:
    import requests

    from simulator.credentials import ZENDESK_EMAIL, ZENDESK_TOKEN

    auth = (f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN)
    session = requests.Session()
    next_url: str | None = f"{url}/zendesk/api/v2/{path}"
    query: dict | None = params
    while next_url:
        resp = session.get(next_url, params=query, auth=auth, timeout=120)
        resp.raise_for_status()
        body = resp.json()
        yield body[key]
        next_url = None if body.get("end_of_stream") else body.get(next_key)
        query = None


def format_limit(url: str, workdir: Path) -> dict:
    """Fetch the Zendesk tickets, ticket events and SLA metric events once, write JSON files,
    time `read_json` (the metric events since 2026-12-01: before, the reference left out what
    is ~70% of the Zendesk load's rows, and its ratio compared unlike loads)."""
    import duckdb

    from ingestion.sources.zendesk import INITIAL_EPOCH

    json_dir = workdir / "json"
    json_dir.mkdir(parents=True, exist_ok=True)
    feeds = {
        "tickets": ("incremental/tickets/cursor", {}, "after_url"),
        "ticket_events": ("incremental/ticket_events", {"include": "comment_events"}, "next_page"),
        "ticket_metric_events": ("incremental/ticket_metric_events", {}, "next_page"),
    }
    rows: dict[str, int] = {}
    started = time.perf_counter()
    for key, (path, extra, next_key) in feeds.items():
        params = {"start_time": INITIAL_EPOCH, "per_page": 1000, **extra}
        rows[key] = 0
        for i, records in enumerate(_fetch_pages(url, path, params, key, next_key)):
            if records:
                (json_dir / f"{key}-{i:05d}.json").write_text(json.dumps(records))
                rows[key] += len(records)
    fetch_seconds = time.perf_counter() - started

    db = workdir / "read_json.duckdb"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    # DuckDB's defaults: the format's own limit (under the product's 1 GB, read_json of the
    # scale-10 tickets runs out of memory; the loader never reads JSON with DuckDB)
    con = duckdb.connect(str(db))
    try:
        for key in feeds:
            con.execute(
                f"create table {key} as select * from read_json(?, format = 'array')",
                [str(json_dir / f"{key}-*.json")],
            )
        loaded = {k: con.execute(f"select count(*) from {k}").fetchone()[0] for k in feeds}
    finally:
        con.close()
    read_seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "rows_loaded": loaded,
        "json_bytes": sum(p.stat().st_size for p in json_dir.iterdir()),
        "fetch_seconds": fetch_seconds,
        "read_json_seconds": read_seconds,
    }


# ---- reference point: dbt overhead -------------------------------------------------------
def _dag_order(nodes: dict[str, dict]) -> list[str]:
    """Unique ids of `nodes` with every node after the nodes it depends on."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(uid: str) -> None:
        if state.get(uid) == 2:
            return
        if state.get(uid) == 1:
            raise ValueError(f"cycle at {uid}")
        state[uid] = 1
        for dep in nodes[uid].get("depends_on", {}).get("nodes", []):
            if dep in nodes:
                visit(dep)
        state[uid] = 2
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return order


def _copy_raw(source_db: Path, dest_db: Path, seeds: list[tuple[str, str]]) -> dict[str, int]:
    """A new warehouse file holding only the raw schemas (and the seed tables) of `source_db`."""
    import duckdb

    dest_db.parent.mkdir(parents=True, exist_ok=True)
    dest_db.unlink(missing_ok=True)
    con = duckdb.connect(str(dest_db))
    try:
        con.execute("attach ? as src (read_only)", [str(source_db)])
        wanted = set(seeds)
        tables = [
            (schema, table)
            for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'src'"
            ).fetchall()
            if schema.startswith("raw_") or (schema, table) in wanted
        ]
        rows = {}
        for schema, table in tables:
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(
                f'create table "{schema}"."{table}" as select * from src."{schema}"."{table}"'
            )
            rows[f"{schema}.{table}"] = con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
        con.execute("detach src")
    finally:
        con.close()
    return rows


def dbt_overhead(
    manifest_path: Path,
    warehouse: Path,
    workdir: Path,
    dbt_build_seconds: float,
    measure_dbt_run: bool = True,
) -> dict:
    """Time the compiled SQL of every model, run directly in one DuckDB connection.

    The models come from the manifest of the timed `dbt build` (a full refresh from an empty
    warehouse, so incremental models hold their full-refresh SQL); each becomes
    `create or replace view|table <relation> as <compiled_code>`, in DAG order, against a copy
    of the raw warehouse (raw schemas plus the seed tables dbt loaded). No tests, no docs.
    With `measure_dbt_run`, `dbt run` (models only, no tests, no seeds) runs on a second copy.
    """
    import duckdb

    from warehouse.dbt import run_dbt
    from warehouse.settings import Settings

    manifest = json.loads(manifest_path.read_text())
    nodes = {
        uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")
    }
    seeds = [(n["schema"], n["alias"]) for n in nodes.values() if n["resource_type"] == "seed"]
    models = [
        uid
        for uid in _dag_order(nodes)
        if nodes[uid]["resource_type"] == "model"
        and nodes[uid]["config"]["materialized"] != "ephemeral"
    ]
    missing = [uid for uid in models if not nodes[uid].get("compiled_code")]
    if missing:
        raise RuntimeError(f"no compiled SQL in the manifest for {missing[:5]}")

    # same file name, so the catalog is "warehouse" as in the compiled relation names
    direct_db = workdir / "direct" / warehouse.name
    run_db = workdir / "dbt_run" / warehouse.name
    started = time.perf_counter()
    copied = _copy_raw(warehouse, direct_db, seeds)
    if measure_dbt_run:
        run_db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(direct_db, run_db)
    copy_seconds = time.perf_counter() - started

    materialized: dict[str, int] = {}
    started = time.perf_counter()
    # the product's DuckDB settings (its memory_limit): the same engine as dbt's
    con = duckdb.connect(str(direct_db), config=Settings.from_env().duckdb_config)
    try:
        for uid in models:
            node = nodes[uid]
            kind = node["config"]["materialized"]
            kind = "view" if kind == "view" else "table"  # table, incremental (full refresh)
            con.execute(f'create schema if not exists "{node["schema"]}"')
            con.execute(
                f"create or replace {kind} {node['relation_name']} as\n{node['compiled_code']}"
            )
            materialized[kind] = materialized.get(kind, 0) + 1
    finally:
        con.close()
    direct_seconds = time.perf_counter() - started

    out = {
        "models": len(models),
        "materialized": materialized,
        "raw_tables_copied": len(copied),
        "raw_rows_copied": sum(copied.values()),
        "copy_seconds": copy_seconds,
        "direct_sql_seconds": direct_seconds,
        "dbt_build_seconds": dbt_build_seconds,
        "ratio": dbt_build_seconds / direct_seconds,
        "dbt_run_seconds": None,
        "ratio_run": None,
    }
    if measure_dbt_run:
        target = ["--target-path", str(workdir / "dbt_run_target")]
        with _environ({"XM_DATA_DIR": str(run_db.parent), "XM_TARGET": "duckdb"}):
            # parsed first, untimed: the timed `dbt build` starts from a warm parse too
            run_dbt(["parse", *target], echo=lambda _: None)
            started = time.perf_counter()
            run_dbt(["run", *target], echo=lambda _: None)
        out["dbt_run_seconds"] = time.perf_counter() - started
        out["ratio_run"] = out["dbt_run_seconds"] / direct_seconds
    return out


# ---- the run -----------------------------------------------------------------------------
@dataclass
class Stage:
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # the product's process tree
    simulator_peak_rss_mb: float = 0.0  # the simulator's process
    extra: dict = field(default_factory=dict)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _dlt_steps(source: str) -> dict[str, float]:
    """Seconds of dlt's extract / normalize / load steps of the source's last run."""
    from ingestion.pipeline import make_pipeline

    trace = make_pipeline(source).last_trace
    if trace is None:
        return {}
    return {
        s.step: (s.finished_at - s.started_at).total_seconds()
        for s in trace.steps
        if s.step in ("extract", "normalize", "load") and s.finished_at
    }


def _ingest_record(loads) -> dict:
    sources = {}
    for r in loads:
        rows = sum(n for t, n in r.row_counts.items() if not t.startswith("_dlt"))
        sources[r.source] = {
            "seconds": r.seconds,
            "rows": rows,
            "rows_per_second": rows / r.seconds if r.seconds else 0.0,
            "dlt_steps": _dlt_steps(r.source),
            "tables": dict(sorted(r.row_counts.items())),
        }
    return sources


def _cx_specs() -> list:
    from expectations.registry import all_specs

    return [s for s in all_specs() if not s.name.startswith(CX_EXCLUDED_SUITE_PREFIXES)]


def run_scale(
    scale: float,
    workdir: Path | None = None,
    seed: int = 42,
    echo: Callable[[str], None] = print,
    measure_dbt_run: bool = True,
    history_days: int | None = None,
    references: bool = True,
) -> dict:
    """A full refresh from an empty warehouse at `scale`, the two reference points and the
    incremental case (CX refresh, nightly refresh); returns the result record.
    `history_days` sets how much history the simulator's world has before its clock (default
    SimConfig's 730); `references=False` skips the two reference points."""
    from expectations import run_suites
    from ingestion.pipeline import ingest
    from simulator.credentials import loader_env
    from simulator.generator import SimConfig
    from simulator.process import SimulatorProcess
    from warehouse.dbt import run_dbt
    from warehouse.publish import publish
    from warehouse.settings import Settings

    own_tmp = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="xm-bench-")) if own_tmp else Path(workdir)
    data_dir = workdir / "data"
    target = workdir / "dbt_target"  # the manifest of this run's builds, and dbt's parse cache
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    quiet = lambda _: None  # noqa: E731
    stages: dict[str, Stage] = {}
    incremental: dict[str, dict] = {}
    started_at = dt.datetime.now(dt.UTC)
    run_id = f"bench-{started_at:%Y%m%dT%H%M%S}"
    try:
        with TreeRSSSampler() as rss:

            def finish(name: str, started: float, into: dict | None = None, **extra) -> Stage:
                product, simulator = rss.reset()
                stage = Stage(time.perf_counter() - started, product / MB, simulator / MB, extra)
                (stages if into is None else into)[name] = stage
                echo(
                    f"[bench {scale:g}] {name:<18} {stage.seconds:8.2f}s  "
                    f"peak {stage.peak_rss_mb:7.0f} MB (simulator {stage.simulator_peak_rss_mb:,.0f} MB)"
                )
                return stage

            def refresh(
                into: dict,
                sources: tuple[str, ...] | None,
                select: tuple[str, ...],
                specs: list | None,
                run_name: str,
            ) -> None:
                started = time.perf_counter()
                loads = ingest(sources, echo=quiet) if sources else ingest(echo=quiet)
                finish("ingest", started, into, sources=_ingest_record(loads))

                started = time.perf_counter()
                selection = ["--select", *select] if select else []
                build = ["build", *selection, *DBT_BUILD_ARGS, "--target-path", str(target)]
                run_dbt(build, echo=quiet)
                finish("dbt_build", started, into, **_dbt_summary(target))

                started = time.perf_counter()
                suites = run_suites(specs, run_name=run_name)
                finish(
                    "quality",
                    started,
                    into,
                    suites=len(suites),
                    failed=sorted(s.suite for s in suites if not s.success),
                    rows_validated=sum(s.rows_validated for s in suites),
                )

                started = time.perf_counter()
                published = publish(run_name)
                finish(
                    "publish", started, into, rows=sum(published.values()), tables=len(published)
                )

            # dbt parses the project once, untimed, as a deployment would have done (Dagster
            # loads a prepared manifest); the timed builds then parse partially, as in service
            with _environ({"XM_DATA_DIR": str(data_dir), "XM_TARGET": "duckdb"}):
                run_dbt(["parse", "--target-path", str(target)], echo=quiet)

            rss.reset()
            config = SimConfig(scale=scale, seed=seed)
            if history_days is not None:
                config = dataclasses.replace(config, history_days=history_days)
            # the simulator in a process of its own: its world's memory and its serving work
            # are apart from the product's (the peaks are sampled apart)
            t0 = started = time.perf_counter()
            sim = SimulatorProcess(
                scale, seed, history_days=history_days, log=workdir / "simulator.log"
            )
            rss.separate_pid = sim.pid
            rss.sample(refresh=True)
            with (
                sim,
                _environ(
                    {**loader_env(sim.url), "XM_DATA_DIR": str(data_dir), "XM_TARGET": "duckdb"}
                ),
            ):
                url = sim.wait_ready()
                finish("generate", started, world=sim.status().get("world", {}))
                refresh(stages, None, (), None, run_id)
                total = time.perf_counter() - t0
                tree_peak = max(s.peak_rss_mb for s in stages.values())
                simulator_peak = max(s.simulator_peak_rss_mb for s in stages.values())

                # reference points, after the timed refresh (not part of the total)
                reference: dict = {}
                if references:
                    started = time.perf_counter()
                    limit = format_limit(url, workdir / "format_limit")
                    finish("format_limit", started)
                    zendesk = stages["ingest"].extra["sources"].get("zendesk", {})
                    reference["format_limit"] = limit | {
                        # zendesk's whole ingest (all its resources) vs read_json of its feeds
                        "zendesk_ingest_seconds": zendesk.get("seconds"),
                        "ratio": zendesk.get("seconds", 0.0) / limit["read_json_seconds"],
                        "seconds": stages["format_limit"].seconds,
                        "peak_rss_mb": stages["format_limit"].peak_rss_mb,
                        "simulator_peak_rss_mb": stages["format_limit"].simulator_peak_rss_mb,
                    }

                    started = time.perf_counter()
                    overhead = dbt_overhead(
                        target / "manifest.json",
                        Settings.from_env().warehouse_path,
                        workdir / "dbt_overhead",
                        stages["dbt_build"].seconds,
                        measure_dbt_run=measure_dbt_run,
                    )
                    finish("dbt_overhead", started)
                    reference["dbt_overhead"] = overhead | {
                        "seconds": stages["dbt_overhead"].seconds,
                        "peak_rss_mb": stages["dbt_overhead"].peak_rss_mb,
                    }

                # the incremental case: one simulated day before each refresh
                for name, sources, select, specs in (
                    ("cx_refresh", CX_SOURCES, CX_DBT_SELECT, _cx_specs()),
                    ("nightly_refresh", None, (), None),
                ):
                    clock = sim.advance(1)
                    case: dict[str, Stage] = {}
                    started = time.perf_counter()
                    refresh(case, sources, select, specs, f"{run_id}-{name}")
                    incremental[name] = _incremental_record(
                        case, time.perf_counter() - started, clock, sources, select
                    )
    finally:
        if own_tmp:
            shutil.rmtree(workdir, ignore_errors=True)

    ingest_stage = stages["ingest"]
    rows_total = sum(s["rows"] for s in ingest_stage.extra["sources"].values())
    return {
        "scale": scale,
        "seed": seed,
        "history_days": config.history_days,
        "date": started_at.date().isoformat(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "machine": machine(),
        "stages": {name: _stage_record(stages[name]) for name in STAGES},
        "total_seconds": total,
        "rows_ingested": rows_total,
        "rows_per_second": rows_total / ingest_stage.seconds,
        # the product's process tree (this process: loaders, GX, publish; children: dbt) and,
        # apart, the simulator's process, each the peak of its summed RSS over the full refresh
        "peak_rss_mb": tree_peak,
        "simulator_peak_rss_mb": simulator_peak,
        "simulator_process": "own",  # older results: "thread" (its memory in peak_rss_mb)
        "getrusage_maxrss_mb": {
            "self": _maxrss_bytes(resource.RUSAGE_SELF) / MB,
            "children": _maxrss_bytes(resource.RUSAGE_CHILDREN) / MB,
        },
        "reference": reference,
        "incremental": incremental,
    }


def _stage_record(stage: Stage) -> dict:
    return {
        "seconds": stage.seconds,
        "peak_rss_mb": stage.peak_rss_mb,
        "simulator_peak_rss_mb": stage.simulator_peak_rss_mb,
    } | stage.extra


def _dbt_summary(target: Path) -> dict:
    """Counts of what the last dbt command did, by resource type and status."""
    path = target / "run_results.json"
    if not path.exists():
        return {}
    counts: dict[str, int] = {}
    node_seconds: dict[str, float] = {}
    results = json.loads(path.read_text())["results"]
    for r in results:
        kind = r["unique_id"].split(".", 1)[0]
        key = f"{kind}_{r['status']}"
        counts[key] = counts.get(key, 0) + 1
        node_seconds[kind] = node_seconds.get(kind, 0.0) + r["execution_time"]
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:8]
    return {
        "nodes": dict(sorted(counts.items())),
        # summed over dbt's threads, so it can exceed the wall seconds
        "node_seconds": {k: round(v, 2) for k, v in sorted(node_seconds.items())},
        "slowest": {
            r["unique_id"].split(".", 2)[-1]: round(r["execution_time"], 2) for r in slowest
        },
    }


def _incremental_record(
    case: dict[str, Stage],
    total: float,
    clock,
    sources: tuple[str, ...] | None,
    select: tuple[str, ...],
) -> dict:
    from ingestion.vendors import SOURCES

    rows = sum(s["rows"] for s in case["ingest"].extra["sources"].values())
    return {
        "advanced_days": 1,
        "clock": clock.isoformat(),
        "sources": list(sources or SOURCES),
        "dbt_select": list(select) or None,
        "stages": {name: _stage_record(case[name]) for name in INCREMENTAL_STAGES},
        "total_seconds": total,
        "rows_ingested": rows,
        "rows_per_second": rows / case["ingest"].seconds if case["ingest"].seconds else 0.0,
        "peak_rss_mb": max(s.peak_rss_mb for s in case.values()),
        "simulator_peak_rss_mb": max(s.simulator_peak_rss_mb for s in case.values()),
    }


# ---- results -----------------------------------------------------------------------------
def write_result(result: dict, results_dir: Path = RESULTS_DIR) -> Path:
    """`<date>-<scale>.json`; a run without the reference points (a history run) goes to
    `history/<date>-<scale>-h<history days>.json`."""
    if not result["reference"]:
        results_dir = results_dir / HISTORY_DIR
        name = f"{result['date']}-{result['scale']:g}-h{result['history_days']}.json"
    else:
        name = f"{result['date']}-{result['scale']:g}.json"
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / name
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return path


def load_results(results_dir: Path = RESULTS_DIR) -> list[dict]:
    out = []
    for p in sorted(results_dir.glob("*.json")):
        with contextlib.suppress(ValueError, KeyError):
            record = json.loads(p.read_text())
            if "scale" in record and "stages" in record:
                out.append(record | {"_file": p.name})
    return sorted(out, key=lambda r: (r["date"], r["scale"]))


def _latest_per_scale(results: list[dict]) -> list[dict]:
    latest = {r["scale"]: r for r in results}  # results are sorted by date
    return [latest[s] for s in sorted(latest)]


def _mb(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _rss_cells(record: dict) -> str:
    """'product | simulator' peak RSS cells: results from before the simulator had a process of
    its own (no `simulator_peak_rss_mb`) show their one figure, simulator included, marked †."""
    if record.get("simulator_peak_rss_mb") is None:
        return f"{record['peak_rss_mb']:,.0f}† | in process†"
    return f"{record['peak_rss_mb']:,.0f} | {record['simulator_peak_rss_mb']:,.0f}"


RSS_NOTE = (
    "*product peak RSS* = the product's process tree (the benchmark process: loaders, GX, "
    "publish; its children: dbt); *simulator peak RSS* = the simulator's own process (since "
    "the simulator runs in one, `simulator/process.py`). † = a run from before: the simulator "
    "served from a thread of the benchmark process, so the one figure is product + simulator."
)


def summary_markdown(
    results: list[dict],
    changes: list[dict] | None = None,
    notes: str | None = None,
    history: list[dict] | None = None,
    backfills: list[dict] | None = None,
) -> str:
    lines = ["# Benchmark results", ""]
    if results:
        m = results[-1]["machine"]
        v = m["versions"]
        lines += [
            f"Machine (latest run): {m['cores_logical']} logical cores, {m['memory_gib']} GiB, "
            f"Python {m['python']}, duckdb {v.get('duckdb')}, dlt {v.get('dlt')}, "
            f"dbt-core {v.get('dbt-core')}, dbt-duckdb {v.get('dbt-duckdb')}; {m['platform']}.",
            "The machine is shared with other work, so absolute seconds are noisy; the ratios to "
            "the two reference points, measured in the same run, are the figures to compare.",
            "",
        ]
    lines += [
        "## Full refresh from an empty warehouse",
        "",
        "Seconds per stage. " + RSS_NOTE + " *format limit* = Zendesk ingest seconds / DuckDB "
        "`read_json` seconds of the same tickets, ticket events and (from 2026-12-01) SLA "
        "metric events from JSON files. *dbt overhead* = `dbt build` seconds / seconds of "
        "the same models' compiled SQL run directly in one DuckDB connection.",
        "",
        "| date | scale | generate | ingest | dbt build | quality | publish | total "
        "| rows ingested | rows/s | product peak RSS MB | simulator peak RSS MB | format limit "
        "| dbt overhead |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["stages"]
        ratio = r["reference"]["format_limit"]["ratio"]
        overhead = r["reference"].get("dbt_overhead")
        lines.append(
            f"| {r['date']} | {r['scale']:g} | "
            + " | ".join(f"{s[n]['seconds']:.1f}" for n in STAGES)
            + f" | {r['total_seconds']:.1f} | {r['rows_ingested']:,} | "
            f"{r['rows_per_second']:,.0f} | {_rss_cells(r)} | {ratio:.1f}x | "
            + (f"{overhead['ratio']:.1f}x |" if overhead else "|")
        )
    lines += ["", "Peak RSS per stage (MB; the product's process tree, † with the simulator):", ""]
    lines += [
        "| date | scale | " + " | ".join(STAGES) + " |",
        "|---|---:|" + "---:|" * len(STAGES),
    ]
    for r in results:
        lines.append(
            f"| {r['date']} | {r['scale']:g} | "
            + " | ".join(
                _mb(r["stages"][n]["peak_rss_mb"])
                + ("" if "simulator_peak_rss_mb" in r["stages"][n] else "†")
                for n in STAGES
            )
            + " |"
        )

    lines += ["", "## Ingest per source (full refresh)", ""]
    lines += [
        "dlt's own step timings (extract / normalize / load) are in the JSON.",
        "",
        "| date | scale | source | seconds | extract | normalize | load | rows | rows/s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, src in r["stages"]["ingest"]["sources"].items():
            steps = src.get("dlt_steps") or {}
            step_cells = " | ".join(
                f"{steps[k]:.1f}" if k in steps else "" for k in ("extract", "normalize", "load")
            )
            lines.append(
                f"| {r['date']} | {r['scale']:g} | {name} | {src['seconds']:.1f} | {step_cells} | "
                f"{src['rows']:,} | {src['rows_per_second']:,.0f} |"
            )

    with_inc = [r for r in results if r.get("incremental")]
    if with_inc:
        lines += [
            "",
            "## Incremental: one simulated day after a full refresh",
            "",
            "After the full refresh the simulator clock moves one day and the CX refresh runs "
            "(what the Dagster job `cx_refresh` runs: Zendesk + Qualtrics loads, "
            "`dbt build --select source:raw_zendesk+ source:raw_qualtrics+`, the GX suites of "
            "those assets, publish); the clock moves one more day and the nightly refresh runs "
            "(`full_refresh`: every load, `dbt build`, every suite, publish). *vs full* = the "
            "refresh's total / the full refresh's total at the same scale.",
            "",
            "| date | scale | refresh | ingest | dbt build | quality | publish | total "
            "| rows ingested | rows/s | product peak RSS MB | simulator peak RSS MB | vs full |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in with_inc:
            for name, case in r["incremental"].items():
                s = case["stages"]
                lines.append(
                    f"| {r['date']} | {r['scale']:g} | {name} | "
                    + " | ".join(f"{s[n]['seconds']:.1f}" for n in INCREMENTAL_STAGES)
                    + f" | {case['total_seconds']:.1f} | {case['rows_ingested']:,} | "
                    f"{case['rows_per_second']:,.0f} | {_rss_cells(case)} | "
                    f"{case['total_seconds'] / r['total_seconds']:.2f} |"
                )

    if history:
        lines += [
            "",
            "## One-day refreshes vs length of history (same scale)",
            "",
            "The scales above grow the day's volume with the history. Here the scale (so the "
            "day's volume) is fixed and the simulator's world has more or less history before "
            "its clock; each run is the full refresh, then the same one-day CX and nightly "
            "refreshes (`python -m benchmarks --scales 1 --history-days ...`, no reference "
            "points). *raw rows* = rows the full refresh loaded.",
            "",
            "| date | scale | history days | raw rows | refresh | ingest | dbt build | quality "
            "| publish | total | rows ingested |",
            "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in sorted(history, key=lambda r: (r["date"], r["scale"], r["history_days"])):
            for name, case in r["incremental"].items():
                s = case["stages"]
                lines.append(
                    f"| {r['date']} | {r['scale']:g} | {r['history_days']} | "
                    f"{r['rows_ingested']:,} | {name} | "
                    + " | ".join(f"{s[n]['seconds']:.1f}" for n in INCREMENTAL_STAGES)
                    + f" | {case['total_seconds']:.1f} | {case['rows_ingested']:,} |"
                )

    with_dbt = [r for r in results if r["reference"].get("dbt_overhead")]
    if with_dbt:
        lines += [
            "",
            "## Reference points",
            "",
            "| date | scale | zendesk ingest s | read_json s | format limit | dbt build s "
            "| dbt run s | direct SQL s | build / direct | run / direct |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in with_dbt:
            fl, d = r["reference"]["format_limit"], r["reference"]["dbt_overhead"]
            run_s = "" if d.get("dbt_run_seconds") is None else f"{d['dbt_run_seconds']:.1f}"
            run_r = "" if d.get("ratio_run") is None else f"{d['ratio_run']:.1f}x"
            lines.append(
                f"| {r['date']} | {r['scale']:g} | {fl['zendesk_ingest_seconds']:.1f} | "
                f"{fl['read_json_seconds']:.2f} | {fl['ratio']:.1f}x | "
                f"{d['dbt_build_seconds']:.1f} | {run_s} | {d['direct_sql_seconds']:.1f} | "
                f"{d['ratio']:.1f}x | {run_r} |"
            )

    if backfills:
        from benchmarks.backfill import backfill_markdown

        lines += backfill_markdown(backfills)

    if changes:
        lines += ["", "## Changes made from the profile (before / after)", ""]
        for c in changes:
            lines += [f"### {c['title']}", "", c["description"], ""]
            lines += ["| measurement | before | after |", "|---|---:|---:|"]
            for m in c["measurements"]:
                lines.append(f"| {m['what']} | {m['before']} | {m['after']} |")
            lines.append("")
    if notes:
        lines += ["", notes.strip()]
    lines.append("")
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> Path | None:
    """Time vs scale per stage, log-log (latest run per scale): full refresh and incremental."""
    latest = _latest_per_scale(results)
    if not latest:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = [r["scale"] for r in latest]
    with_inc = [r for r in latest if r.get("incremental")]
    panels = 1 + (1 if with_inc else 0)
    fig, axes = plt.subplots(1, panels, figsize=(7 * panels, 5), squeeze=False)
    ax = axes[0][0]
    names = (*STAGES, "total")
    color = {name: f"C{i}" for i, name in enumerate(names)}  # one color per stage, both panels
    for name in names:
        ys = [
            r["total_seconds"] if name == "total" else r["stages"][name]["seconds"] for r in latest
        ]
        ax.plot(
            scales,
            ys,
            marker="o",
            label=name,
            color=color[name],
            linestyle="--" if name == "total" else "-",
        )
    ax.set_title("Full refresh: time per stage vs scale")
    if with_inc:
        ax2 = axes[0][1]
        inc_scales = [r["scale"] for r in with_inc]
        for case, style in (("cx_refresh", "-"), ("nightly_refresh", ":")):
            for name in (*INCREMENTAL_STAGES, "total"):
                ys = [
                    r["incremental"][case]["total_seconds"]
                    if name == "total"
                    else r["incremental"][case]["stages"][name]["seconds"]
                    for r in with_inc
                ]
                ax2.plot(
                    inc_scales,
                    ys,
                    color=color[name],
                    marker="o" if name == "total" else ".",
                    linestyle=style,
                    linewidth=2.5 if name == "total" else 1.2,
                    label=f"{case.split('_')[0]} {name}",
                )
        ax2.set_title("One simulated day: CX (solid) and nightly (dotted) refresh")
    for ax in axes[0]:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("simulator scale")
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def load_changes(results_dir: Path = RESULTS_DIR) -> list[dict]:
    path = results_dir / "changes" / "changes.json"
    return json.loads(path.read_text()) if path.exists() else []


def write_summary(results_dir: Path = RESULTS_DIR) -> tuple[Path, Path | None]:
    from benchmarks.backfill import load_backfills

    results = load_results(results_dir)
    md = results_dir / "summary.md"
    notes = results_dir / "notes.md"  # hand-written: findings, what could not be run and why
    md.write_text(
        summary_markdown(
            results,
            load_changes(results_dir),
            notes.read_text() if notes.exists() else None,
            load_results(results_dir / HISTORY_DIR),
            load_backfills(results_dir),
        )
    )
    return md, plot(results, results_dir / "scaling.png")
