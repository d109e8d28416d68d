"""`xm`: the project's command line, the top of the project: it calls into the simulator,
the loaders, the warehouse, the checks and the Dagster jobs; nothing imports it.

Every command checks its flags and its environment before it touches anything, and fails
with one line on stderr (xm/failures.py); `--debug` shows the traceback."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import time
import warnings
from typing import Annotated

import typer

from warehouse.settings import Settings, WarehouseConfigError
from xm.failures import XmTyper, bad_flag, fail

# an optional package some environments carry warns about pandas 3 when GX imports it
warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")

app = XmTyper(
    help="Experience Warehouse: CX + EX analytics from vendor APIs to published marts.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure (or XM_DEBUG=1).")
    ] = False,
) -> None:
    """Experience Warehouse: CX + EX analytics from vendor APIs to published marts."""


simulate = typer.Typer(
    help="The local stand-in for HubSpot, Zendesk, BambooHR and Qualtrics.", no_args_is_help=True
)
app.add_typer(simulate, name="simulate")

DEFAULT_PORT = 8765
DASHBOARD_PORT = 8501
SUPERSET_PORT = 8088
SimUrl = Annotated[
    str,
    typer.Option("--url", envvar="XM_SIMULATOR_URL", help="Base URL of a running simulator."),
]


def _fail(message: str, code: int = 1) -> None:
    fail(message, code)


def _above_zero(flag: str, value: float, example: str) -> None:
    if not value > 0:
        bad_flag(flag, f"must be above 0, not {value:g} (e.g. {example})")


def _share(flag: str, value: float) -> None:
    if not 0 <= value <= 1:
        bad_flag(flag, f"is a share of records or requests, from 0 to 1, not {value:g}")


def _port_free(flag: str, host: str, port: int) -> None:
    import socket

    if not 0 < port < 65536:
        bad_flag(flag, f"must be a TCP port (1-65535), not {port}")
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError as e:
            _fail(f"cannot listen on {host}:{port} ({e.strerror}): choose another {flag}", 2)


@simulate.command("serve")
def simulate_serve(
    scale: Annotated[
        float, typer.Option(help="Data volume; 1 = ~600 companies, ~30k tickets.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same world.")] = 42,
    port: Annotated[int, typer.Option(help="TCP port.")] = DEFAULT_PORT,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    dirty_rate: Annotated[float, typer.Option(help="Share of records per dirty-data kind.")] = 0.01,
    fault_rate: Annotated[
        float, typer.Option(help="Share of requests answered by a fault (429, 5xx, slow).")
    ] = 0.0,
    horizon_days: Annotated[
        int, typer.Option(help="Days of future generated for `advance`.")
    ] = 120,
    rate_limits: Annotated[
        bool,
        typer.Option(
            "--rate-limits",
            help="Enforce each vendor's published rate limits (429 + Retry-After; simulator/README.md).",
        ),
    ] = False,
    time_scale: Annotated[
        float,
        typer.Option(help="With --rate-limits: run the limits' clock this many times faster."),
    ] = 1.0,
) -> None:
    """Generate a world and serve the four vendor APIs until interrupted."""
    _above_zero("--scale", scale, "--scale 0.1 for a quick look, 1 for the demo's size")
    if seed < 0:
        bad_flag("--seed", f"must be 0 or more, not {seed}")
    _share("--dirty-rate", dirty_rate)
    _share("--fault-rate", fault_rate)
    if horizon_days < 1:
        bad_flag("--horizon-days", f"must be 1 or more, not {horizon_days}")
    _above_zero("--time-scale", time_scale, "--time-scale 60: a minute's limit per second")
    _port_free("--port", host, port)
    import uvicorn

    from simulator import zendesk
    from simulator.generator import SimConfig, World
    from simulator.ratelimits import RateLimiter
    from simulator.server import Simulator, create_app

    started = time.perf_counter()
    typer.echo(f"generating world: scale={scale} seed={seed} dirty_rate={dirty_rate} ...")
    world = World(
        SimConfig(scale=scale, seed=seed, dirty_rate=dirty_rate, horizon_days=horizon_days)
    )
    summary = ", ".join(f"{k}={v:,}" for k, v in world.summary.items())
    typer.echo(f"generated in {time.perf_counter() - started:.1f}s: {summary}")
    limiter = RateLimiter(time_scale=time_scale) if rate_limits else None
    sim = Simulator(world, fault_rate=fault_rate, rate_limits=limiter)
    zendesk.warm_up(sim, echo=typer.echo)
    if limiter:
        typer.echo(f"enforcing the vendors' rate limits, {time_scale:g}x faster than real time")
    base = f"http://{host}:{port}"
    typer.echo(
        f"serving on {base} (clock {sim.clock:%Y-%m-%d}); loader settings: xm ingest --simulator {base}"
    )
    uvicorn.run(create_app(sim), host=host, port=port, log_level="warning")


def _call(url: str, method: str, path: str, flag: str = "--url", **params) -> dict:
    """One request to a simulator's control API; fails in seconds when nothing answers."""
    import requests

    if not url.startswith(("http://", "https://")):
        bad_flag(flag, f"must be an http(s) URL, not {url!r}")
    try:
        r = requests.request(method, url.rstrip("/") + path, params=params, timeout=(5, 300))
        body = r.json()
    except requests.ConnectionError:
        _fail(
            f"no simulator answering at {url}: start one with `xm simulate serve`, "
            f"or pass its address with {flag}"
        )
    except requests.Timeout:
        _fail(f"the simulator at {url} did not answer in time")
    except ValueError:
        _fail(f"{url} answered, but not as the simulator does (HTTP {r.status_code}): wrong URL?")
    if r.status_code >= 400:
        _fail(body.get("error", r.text) if isinstance(body, dict) else r.text)
    return body


def _use_simulator(url: str) -> None:
    """Point this process's loaders at a running simulator (checked first)."""
    _call(url, "GET", "/_sim/status", flag="--simulator")
    from simulator.credentials import loader_env

    os.environ.update(loader_env(url))  # dlt's config, for this process's loads


@simulate.command("advance")
def simulate_advance(
    days: Annotated[float, typer.Option(help="Days to move the clock forward.")] = 1.0,
    url: SimUrl = f"http://127.0.0.1:{DEFAULT_PORT}",
) -> None:
    """Move a running simulator's clock: new records appear, old ones change."""
    _above_zero("--days", days, "--days 1; the simulated clock only moves forward")
    typer.echo(f"clock is now {_call(url, 'POST', '/_sim/advance', days=days)['clock']}")


@simulate.command("status")
def simulate_status(url: SimUrl = f"http://127.0.0.1:{DEFAULT_PORT}") -> None:
    """Show a running simulator's clock and settings."""
    typer.echo(json.dumps(_call(url, "GET", "/_sim/status"), indent=2))


@simulate.command("ground-truth")
def simulate_ground_truth(url: SimUrl = f"http://127.0.0.1:{DEFAULT_PORT}") -> None:
    """Distinct records per raw table that a full load at the current clock must produce."""
    typer.echo(json.dumps(_call(url, "GET", "/_sim/ground-truth"), indent=2))


@app.command()
def ingest(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Load only this source (repeatable).")
    ] = None,
    simulator: Annotated[
        str | None,
        typer.Option(help="Load from a running simulator at this URL, with its demo credentials."),
    ] = None,
) -> None:
    """Load vendor data into the raw_<vendor> schemas of the warehouse. Each source says
    whether it loaded incrementally (from which cursors) and how many rows were new."""
    from ingestion.pipeline import IngestError
    from ingestion.pipeline import ingest as run
    from ingestion.vendors import SOURCES
    from warehouse.progress import listening
    from xm.display import RunDisplay

    settings = _settings()
    if simulator:
        _use_simulator(simulator)
    try:
        with RunDisplay() as display, listening(display.update):
            results = run(source or SOURCES, echo=display.echo, settings=settings)
    except IngestError as e:
        _fail(str(e), code=2)
    total = sum(r.rows for r in results)
    new = sum(r.new for r in results)
    seconds = sum(r.seconds for r in results)
    typer.echo(
        f"loaded {total:,} rows ({new:,} new) from {len(results)} source(s) in {seconds:.1f}s"
    )
    typer.echo(
        "next: `xm refresh --job full --skip-loads` builds the models on what was loaded, "
        "runs the checks and publishes"
    )


@app.command()
def demo(
    scale: Annotated[float, typer.Option(help="Simulated data volume (1 = ~30k tickets).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    fresh: Annotated[
        bool, typer.Option(help="Start from an empty warehouse (says what it removes first).")
    ] = True,
) -> None:
    """From nothing: simulate the vendors, run the full refresh through Dagster, summarise."""
    import threading

    from simulator.credentials import loader_env
    from simulator.process import SimulatorError, SimulatorProcess

    # everything is checked before anything is removed
    _above_zero("--scale", scale, "--scale 0.1 for a quick look, 1 for the demo's size")
    if seed < 0:
        bad_flag("--seed", f"must be 0 or more, not {seed}")
    settings = _settings()
    _check_data_dir(settings)
    if settings.target == "postgres":
        _check_postgres(settings)
    started = time.perf_counter()
    # the simulator generates its world in a process of its own while this one prepares the
    # run (dbt's manifest, the fresh start, loading the Dagster definitions)
    sim_log = settings.logs_dir / "simulator.log"
    typer.echo(f"[1/4] simulator: generating scale={scale:g} seed={seed} (its log: {sim_log}) ...")
    with SimulatorProcess(scale, seed, log=sim_log) as sim:
        ready = threading.Thread(target=_announce, args=(sim, started), daemon=True)
        ready.start()
        _parse(settings)  # the manifest the Dagster definitions are built from
        if fresh:
            _fresh_start(settings)
        from dagster_project.run import prepare

        prepare("full_refresh", settings)  # imports dlt, dbt, GX; opens the instance
        ready.join()
        try:
            url = sim.wait_ready()
        except SimulatorError as e:
            _fail(str(e).replace("\n", " | ")[:600])
        os.environ.update(loader_env(url))  # dlt's config, for this process's loads
        typer.echo("[2/4] dagster: full_refresh (load -> dbt build + checks -> publish) ...")
        outcome = _run_job(settings, "full_refresh")
    if not outcome.success:
        _job_failed("the full refresh", outcome)
    # the docs read the warehouse, the summary the published release: both at once (what the
    # summary reads of the warehouse, the quarantine, is read before dbt opens it)
    quarantined = _quarantined(settings)
    typer.echo("[3/4] dbt docs generate (in the background, while the summary is read) ...")
    docs_run = _dbt_docs_start(settings, outcome.run_id)
    try:
        typer.echo("[4/4] summary")
        _summary(settings, outcome, quarantined)
        docs = _dbt_docs_wait(docs_run)
    finally:
        docs_run[1].stop()
    _look_next(settings, docs, time.perf_counter() - started)


def _announce(sim, started: float) -> None:
    """Say when the simulator serves (from a thread: while the Dagster definitions load)."""
    with contextlib.suppress(Exception):
        url = sim.wait_ready()
        typer.echo(
            f"      serving HubSpot, Zendesk, BambooHR, Qualtrics on {url} "
            f"(up after {time.perf_counter() - started:.0f}s; simulator pid {sim.pid})"
        )


@app.command()
def refresh(
    job: Annotated[
        str,
        typer.Option(
            help="cx: help desk + surveys and what they feed (the 30-minute job); "
            "full: every source (the nightly job)."
        ),
    ] = "full",
    simulator: Annotated[
        str | None,
        typer.Option(help="Load from a running simulator at this URL, with its demo credentials."),
    ] = None,
    skip_loads: Annotated[
        bool,
        typer.Option(help="Build, check and publish what is already loaded (after `xm ingest`)."),
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option(help="Rebuild incremental models from all history (what Sundays do)."),
    ] = False,
) -> None:
    """Run a Dagster job (load -> dbt build + checks -> publish) with progress, recorded in the
    data dir's Dagster instance like the demo's runs (`make ui` shows them)."""
    from dagster_project.run import JOBS
    from ingestion.pipeline import IngestError, check_sources
    from ingestion.vendors import VENDORS

    if job not in JOBS:
        bad_flag("--job", f"choose one of {', '.join(JOBS)}, not {job!r}")
    settings = _settings()
    _check_data_dir(settings)
    if settings.target == "postgres":
        _check_postgres(settings)
    if simulator:
        _use_simulator(simulator)
    if not skip_loads:
        sources = [n for n, v in VENDORS.items() if job == "full" or v.frequent]
        try:
            check_sources(sources, settings)
        except IngestError as e:
            _fail(str(e), code=2)
    elif settings.target == "duckdb":
        if not settings.warehouse_path.exists():
            _fail(f"nothing loaded yet in {settings.warehouse_path}: run `xm ingest` first", 2)
        _check_warehouse(settings)
    _parse(settings)
    name = JOBS[job]
    what = "build + checks -> publish" if skip_loads else "load -> dbt build + checks -> publish"
    typer.echo(f"dagster: {name} ({what}) ...")
    started = time.perf_counter()
    config = {"ops": {"dbt_models": {"config": {"full_refresh": True}}}} if rebuild else None
    outcome = _run_job(settings, name, run_config=config, skip_loads=skip_loads)
    if not outcome.success:
        _job_failed(f"the {job} refresh", outcome)
    _report_outcome(settings, outcome)
    typer.echo(f"done in {time.perf_counter() - started:.0f}s (run {outcome.run_id})")


@app.command()
def dev(
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface of the Dagster UI.")] = "127.0.0.1",
    scale: Annotated[float, typer.Option(help="Scale of the simulator started.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the simulator started.")] = 42,
    simulator: Annotated[
        str | None, typer.Option(help="Use this running simulator instead of starting one.")
    ] = None,
    vendors: Annotated[
        bool,
        typer.Option(
            "--vendors",
            help="No simulator: the real vendors configured in .dlt/secrets.toml or SOURCES__*.",
        ),
    ] = False,
) -> None:
    """The Dagster UI (webserver + daemon) on the data dir's instance, with a simulator and the
    loader settings pointing at it, so jobs launched from the UI work. Schedules stay off."""
    import subprocess

    from dagster_project.instance import ui_command, ui_environment
    from simulator.credentials import loader_env

    settings = _settings()
    _above_zero("--scale", scale, "--scale 0.1")
    _port_free("--port", host, port)
    _check_data_dir(settings)
    if simulator:
        _call(simulator, "GET", "/_sim/status", flag="--simulator")
    _parse(settings)
    with contextlib.ExitStack() as stack:
        url = simulator
        if not simulator and not vendors:
            from simulator.generator import SimConfig, World
            from simulator.server import Simulator, serve_in_thread

            typer.echo(f"simulator: generating scale={scale} seed={seed} ...")
            url = stack.enter_context(serve_in_thread(Simulator(World(SimConfig(scale, seed)))))
        env = ui_environment(settings, loader_env(url) if url else None)
        env["XM_SCHEDULES"] = "off"  # development: nothing runs unless launched
        typer.echo(f"vendors:   {url or 'the real APIs configured for dlt'}")
        typer.echo(f"instance:  {env['DAGSTER_HOME']} (the runs of `xm demo` / `xm refresh`)")
        typer.echo(f"Dagster UI http://{host}:{port} (schedules off; Ctrl-C to stop)")
        proc = subprocess.Popen(ui_command(host, port, settings), env=env, cwd=str(_project_root()))
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(timeout=60)


def _project_root():
    from warehouse.settings import PROJECT_ROOT

    return PROJECT_ROOT


def _check_data_dir(settings: Settings) -> None:
    from warehouse.failures import writable_dir

    if problem := writable_dir(settings.data_dir):
        _fail(problem, 2)


def _check_warehouse(settings: Settings) -> None:
    """The warehouse opens (not corrupted, not locked by a writer) before any step runs."""
    from warehouse.connections import query
    from warehouse.failures import explain

    try:
        query("select 1", settings=settings)
    except Exception as e:
        _fail(explain(e) or f"cannot open {settings.where()}: {e}", 2)


def _check_postgres(settings: Settings) -> None:
    from warehouse.connections import pg_connect

    try:
        pg_connect(settings, connect_timeout=5).close()
    except Exception as e:
        from warehouse.failures import one_line

        _fail(f"cannot connect to {settings.where()}: {one_line(str(e))} (check PG* settings)", 2)


def _parse(settings: Settings) -> None:
    from warehouse.dbt import DbtError, parse_project

    try:
        parse_project(settings)
    except DbtError as e:
        _fail(f"dbt parse failed: {e}".replace("\n", " ")[:600])


def _fresh_start(settings: Settings) -> None:
    """Remove what the loaders and dbt built, saying what (the published release, the docs and
    the Dagster history stay)."""
    import shutil

    if settings.target == "postgres":
        typer.echo(
            f"      fresh start: dropping the raw_*, staging, intermediate, marts and "
            f"quarantine schemas of {settings.where()} (`published` stays)"
        )
        _drop_pipeline_schemas(settings)
    elif settings.target == "spark":
        from warehouse.spark import drop_warehouse

        typer.echo(
            f"      fresh start: dropping the raw tables and models of {settings.where()} "
            "and its lake (the published release stays)"
        )
        drop_warehouse(settings)
    else:
        paths = [
            settings.data_dir / name
            for name in ("warehouse.duckdb", "warehouse.duckdb.wal")
            if (settings.data_dir / name).exists()
        ]
        if paths:
            typer.echo(
                "      fresh start: removing "
                + ", ".join(str(p) for p in paths)
                + " (the published release stays until the new one replaces it)"
            )
        for path in paths:
            path.unlink()
    if settings.pipelines_dir.exists():
        typer.echo(f"      fresh start: removing the loaders' state {settings.pipelines_dir}")
        shutil.rmtree(settings.pipelines_dir)


def _run_job(settings: Settings, name: str, **kwargs):
    """A Dagster job in this process, with the demo's progress lines and live bars."""
    from dagster_project.run import run_job
    from xm.display import RunDisplay

    log = settings.logs_dir / f"{name}.log"
    with RunDisplay() as display:
        display.echo(f"      (step output: {log}; runs: {settings.dagster_home})")
        return run_job(
            name,
            echo=display.echo,
            log=log,
            settings=settings,
            on_progress=display.update,
            **kwargs,
        )


def _job_failed(what: str, outcome) -> None:
    """One line: which step failed and why; the last good release is still current."""
    if outcome.failed_checks and not outcome.failures:
        names = ", ".join(n for n, _ in outcome.failed_checks[:3])
        cause = f"{len(outcome.failed_checks)} blocking check(s) failed: {names}"
    elif outcome.failures:
        step, message = outcome.failures[0]
        cause = f"step {step} failed: {message}"
    else:
        cause = "the run did not succeed"
    _fail(
        f"{what} failed ({cause}); the last good release is still current. "
        f"Details: `make ui` (run {outcome.run_id[:8]})"
    )


def _report_outcome(settings: Settings, outcome, quarantined=False) -> None:
    """Warnings raised and rows quarantined: what a person should look at (`quarantined`:
    what `_quarantined` read, when it was read before)."""
    typer.echo(
        f"      {outcome.materialized} assets materialised, {outcome.checks_passed} checks "
        f"passed, {len(outcome.warnings)} warned"
    )
    for name, why in outcome.warnings[:10]:
        typer.echo(f"      warning: {name}: {why}")
    if len(outcome.warnings) > 10:
        typer.echo(f"      ... and {len(outcome.warnings) - 10} more warnings (see `make ui`)")
    if quarantined is False:
        quarantined = _quarantined(settings)
    if quarantined is not None:
        total, top = quarantined
        reasons = "; ".join(f"{reason} {n:,}" for reason, n in top)
        typer.echo(
            f"      quarantined {total:,} raw rows (staging rejected them, with a reason)"
            + (f": {reasons}" if reasons else "")
        )


def _quarantined(settings: Settings):
    """(rows in quarantine, [(reason, rows)] of the top three reasons), or None."""
    from warehouse.connections import query

    try:
        rows = query(
            "select reason, count(*) from quarantine.quarantine group by reason order by 2 desc, 1",
            settings=settings,
        )
    except Exception:  # not built (a failed run) or another engine's naming
        return None
    return sum(n for _, n in rows), rows[:3]


def _dbt_docs_start(settings: Settings, run_id: str):
    """`dbt docs generate` into the data dir's docs, started in the background.

    The run's `dbt build` compiled every node already: its manifest (in the target path
    dagster-dbt gave the invocation, `dbt_models-<run id>-*`) goes into the docs with that
    invocation's partial parse (the same `--vars`, so dbt does not parse the project again),
    and dbt only writes the catalog (`--no-compile`: ~3.5 s, not ~18 s). Where that manifest
    is not found, dbt compiles the project again."""
    import shutil

    from warehouse.dbt import DBT_DIR, start_dbt

    docs = settings.docs_dir / "dbt"
    args = ["docs", "generate", "--target-path", str(docs)]
    target = DBT_DIR / "target"
    built = sorted(
        target.glob(f"dbt_models-{run_id[:7]}-*/manifest.json"), key=lambda p: p.stat().st_mtime
    )
    if built:
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], docs / "manifest.json")
        with contextlib.suppress(FileNotFoundError):
            parsed = built[-1].parent / "partial_parse.msgpack"
            shutil.copyfile(parsed, docs / "partial_parse.msgpack")
        args.append("--no-compile")
    return docs, start_dbt(args, settings=settings)


def _dbt_docs_wait(started):
    from warehouse.dbt import DbtError

    docs, run = started
    try:
        run.wait()
    except DbtError as e:
        _fail(f"dbt docs generate failed: {e}".replace("\n", " ")[:600])
    return docs


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except WarehouseConfigError as e:
        _fail(str(e), code=2)


def _drop_pipeline_schemas(settings: Settings) -> None:
    """A fresh start on PostgreSQL: drop what the loaders and dbt built (not `published`)."""
    from warehouse.connections import pg_connect

    con = pg_connect(settings)
    try:
        with con.cursor() as cur:
            cur.execute(
                "select nspname from pg_namespace where nspname like 'raw\\_%' "
                "or nspname in ('main', 'staging', 'intermediate', 'marts', 'quarantine')"
            )
            for (schema,) in cur.fetchall():
                cur.execute(f'drop schema "{schema}" cascade')
        con.commit()
    finally:
        con.close()


def _summary(settings: Settings, outcome, quarantined) -> None:
    """What the published marts say, read as they are (nothing is recomputed here)."""
    from warehouse.publish import query_published

    def q(sql: str, params: list | None = None) -> list[tuple]:
        return query_published(sql, params, settings=settings)

    schema = "published" if settings.target == "postgres" else "main"
    tables = [
        r[0]
        for r in q(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_name <> '_publish_info' order by 1",
            [schema],
        )
    ]
    counts = {t: q(f"select count(*) from {t}")[0][0] for t in tables}
    typer.echo("      published marts: " + ", ".join(f"{t} ({n:,})" for t, n in counts.items()))
    # the last month the tickets cover to its end (they arrive daily)
    last = q(
        "select month, csat, csat_responses, first_reply_median_business_minutes, "
        "first_reply_median_calendar_minutes from cx_metrics_monthly "
        "where month + interval '1 month' <= (select greatest(max(created_at), max(last_solved_at)) "
        "from fct_tickets) + interval '1 day' order by month desc limit 1"
    )
    if not last:
        typer.echo("      no complete month of tickets yet")
    else:
        month, csat, csat_n, reply_business, reply_calendar = last[0]
        # the relationship NPS survey runs quarterly: its latest month with answers
        nps = q(
            "select month, nps, nps_respondents from cx_metrics_monthly "
            "where nps is not null and month <= ? order by month desc limit 1",
            [month],
        )
        nps_text = f"NPS {nps[0][1]:.1f} ({nps[0][0]:%Y-%m}, n={nps[0][2]})" if nps else "no NPS"
        typer.echo(
            f"      CX {month:%Y-%m}: {nps_text}, CSAT {_fmt(csat, '.1f')}% (n={csat_n}), "
            f"median first reply {_fmt(reply_business, '.0f')} business minutes "
            f"(help-desk hours; {_fmt(reply_calendar, '.0f')} calendar minutes)"
        )
        departments = q(
            "select department, turnover_rate, enps, is_suppressed from ex_metrics_monthly "
            "where month = ? order by department",
            [month],
        )
        typer.echo(
            f"      EX {month:%Y-%m} by department (turnover, eNPS): "
            + "; ".join(
                f"{d} {_fmt(t and 100 * t, '.1f')}%, "
                + ("suppressed" if suppressed else _fmt(enps, ".0f"))
                for d, t, enps, suppressed in departments
            )
        )
    link = q(
        "select pearson_r, n from xm_link_summary where ex_metric = 'engagement' and cx_metric = 'csat'"
    )
    if link:
        typer.echo(
            f"      team engagement vs CSAT: r = {_fmt(link[0][0], '.2f')} over {link[0][1]} team-months"
        )
    _report_outcome(settings, outcome, quarantined)


def _look_next(settings: Settings, docs, seconds: float) -> None:
    from expectations import docs_index
    from warehouse.publish import published_location

    typer.echo(f"      done in {seconds:.0f}s. Look next:")
    if settings.target == "postgres":
        typer.echo(
            f"        published marts     {published_location(settings)} (BI role: xm postgres setup-bi)"
        )
    else:
        typer.echo(
            f"        published snapshot  duckdb -readonly {published_location(settings)}  (+ Parquet beside it)"
        )
    typer.echo(
        f"        dashboard           .venv/bin/xm dashboard   (then http://127.0.0.1:{DASHBOARD_PORT})"
    )
    typer.echo(
        "        Superset            .venv/bin/xm bi superset (the marts in Apache Superset)"
    )
    typer.echo(
        "        asset graph, runs   make ui   (then http://127.0.0.1:3000: this run, its "
        "materialisations and check results)"
    )
    typer.echo(f"        dbt docs            {docs / 'index.html'}")
    typer.echo(f"        GX Data Docs        {docs_index(settings.data_dir)}")
    typer.echo("        both, served        .venv/bin/xm docs serve")


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


postgres_app = typer.Typer(
    help="The PostgreSQL target (XM_TARGET=postgres; docs/engines.md).", no_args_is_help=True
)
app.add_typer(postgres_app, name="postgres")
PgDir = Annotated[
    str, typer.Option("--dir", help="Where the local cluster lives.", envvar="XM_PG_DIR")
]


@postgres_app.command("start")
def postgres_start(
    directory: PgDir = "data/postgres",
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 54329,
) -> None:
    """Start a local PostgreSQL server for trying the postgres target (installs Debian's
    postgresql package with apt-get if the machine has none)."""
    from pathlib import Path

    from warehouse.local_postgres import LocalPostgres, LocalPostgresError

    server = LocalPostgres(Path(directory).resolve(), port=port)
    if server.is_running():
        typer.echo(f"already running: {server.dsn}")
        return
    try:
        server.start(echo=typer.echo)
    except LocalPostgresError as e:
        _fail(str(e))
    from warehouse.settings import libpq_env

    exports = " ".join(f"{k}={v}" for k, v in libpq_env(server.dsn).items())
    typer.echo(f"export XM_TARGET=postgres {exports}")


@postgres_app.command("stop")
def postgres_stop(directory: PgDir = "data/postgres") -> None:
    """Stop the local server started by `xm postgres start`."""
    from pathlib import Path

    from warehouse.local_postgres import LocalPostgres

    LocalPostgres(Path(directory).resolve()).stop()
    typer.echo("stopped")


@postgres_app.command("setup-bi")
def postgres_setup_bi(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, envvar="XM_BI_PASSWORD")],
    role: Annotated[str, typer.Option(envvar="XM_BI_ROLE", help="Login role for BI.")] = "xm_bi",
) -> None:
    """Create (or update) the read-only BI login: SELECT on the published marts, nothing else."""
    from warehouse.publish_postgres import setup_bi_role

    try:
        setup_bi_role(password, role)
    except WarehouseConfigError as e:
        _fail(str(e))
    typer.echo(f"role {role}: may read schema `published` (and is refused everything else)")


spark_app = typer.Typer(
    help="The Spark target (XM_TARGET=spark; docs/engines.md).", no_args_is_help=True
)
app.add_typer(spark_app, name="spark")
SparkDir = Annotated[
    str,
    typer.Option("--dir", help="Where the local cluster keeps its files.", envvar="XM_SPARK_DIR"),
]


@spark_app.command("start")
def spark_start(
    directory: SparkDir = "data/spark",
    port: Annotated[int, typer.Option(help="Spark SQL (Thrift) port on 127.0.0.1.")] = 10000,
    master_port: Annotated[int, typer.Option(help="Standalone master port.")] = 7077,
    ui_port: Annotated[int, typer.Option(help="Master web UI port.")] = 8080,
) -> None:
    """Start a local Spark standalone cluster for the spark target: a master, two workers and
    the Spark Thrift server (installs Debian's openjdk-17-jre-headless if there is no Java)."""
    from pathlib import Path

    from warehouse.local_spark import LocalSpark, LocalSparkError

    running = LocalSpark.load(Path(directory).resolve())
    if running and running.is_running():
        typer.echo(f"already running: {running.master_url}")
        port = running.thrift_port
    else:
        cluster = LocalSpark(
            Path(directory).resolve(),
            master_port=master_port,
            master_ui_port=ui_port,
            thrift_port=port,
        )
        try:
            cluster.start(echo=typer.echo)
        except LocalSparkError as e:
            _fail(str(e))
    typer.echo(f"export XM_TARGET=spark XM_SPARK_HOST=127.0.0.1 XM_SPARK_PORT={port}")


@spark_app.command("stop")
def spark_stop(directory: SparkDir = "data/spark") -> None:
    """Stop the local cluster started by `xm spark start` (its own processes, by pid)."""
    from pathlib import Path

    from warehouse.local_spark import LocalSpark

    cluster = LocalSpark.load(Path(directory).resolve())
    if cluster is None or not cluster.pids:
        typer.echo("not running")
        return
    cluster.stop()
    typer.echo("stopped")


docs_app = typer.Typer(
    help="Documentation sites: dbt docs and Great Expectations Data Docs.", no_args_is_help=True
)
app.add_typer(docs_app, name="docs")


@docs_app.command("serve")
def docs_serve(
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    dashboard: Annotated[
        str | None,
        typer.Option(envvar="XM_DASHBOARD_URL", help="URL of a running dashboard, to link."),
    ] = None,
) -> None:
    """Serve $XM_DATA_DIR/docs until interrupted: a front page linking the dbt docs (/dbt/),
    the GX Data Docs (/gx/, usable offline) and the dashboard."""
    import http.server

    from xm.docs_site import write_index

    root = _settings().docs_dir
    if not root.exists():
        _fail(f"no docs in {root}: run `make demo` (or `xm demo`) first", 2)
    _port_free("--port", host, port)
    if dashboard is None and any(c.name == "dashboard" for c in app.registered_commands):
        dashboard = "start it with `xm dashboard`"
    write_index(root, dashboard)
    handler = functools.partial(_QuietHandler, directory=str(root))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        typer.echo(f"docs          http://{host}:{port}/")
        for name, path in (("dbt docs", "dbt/index.html"), ("GX Data Docs", "gx/index.html")):
            if (root / path).exists():
                typer.echo(f"{name:<13} http://{host}:{port}/{path}")
        typer.echo(
            f"{'dashboard':<13} xm dashboard (http://127.0.0.1:{DASHBOARD_PORT}): the marts as charts"
        )
        typer.echo("Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="TCP port.")] = DASHBOARD_PORT,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Serve the dashboard on the published marts (Streamlit) until interrupted.

    Pages: CX, EX, EX <-> CX, data health. Reads the snapshot read-only (or PostgreSQL's
    `published` schema as the PG* login, e.g. the BI role), never the warehouse."""
    from dashboard.data import SnapshotMissing, Source
    from dashboard.serve import command, environment, page_urls

    source = Source(_settings())
    try:
        source.version()
    except SnapshotMissing as e:
        _fail(str(e))
    typer.echo(f"reading {source.describe()}")
    for title, url in page_urls(f"http://{host}:{port}").items():
        typer.echo(f"{title:<20} {url}")
    typer.echo("Ctrl-C to stop", nl=True)
    sys.stdout.flush()
    cmd = command(port, host)
    os.execve(cmd[0], cmd, environment())  # Streamlit in this process: signals reach it


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


bi_app = typer.Typer(help="BI tools on the published marts (docs/bi.md).", no_args_is_help=True)
app.add_typer(bi_app, name="bi")


@bi_app.command("superset")
def bi_superset(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = SUPERSET_PORT,
    home: Annotated[
        str | None,
        typer.Option(
            help="Superset's home (metadata, config, logs); default $XM_DATA_DIR/superset."
        ),
    ] = None,
    venv: Annotated[
        str | None,
        typer.Option(help="Superset's own virtual environment; default a cache directory."),
    ] = None,
    bi_password: Annotated[
        str | None,
        typer.Option(envvar="XM_BI_PASSWORD", help="PostgreSQL: the BI role's password."),
    ] = None,
) -> None:
    """Run Apache Superset on the published marts until interrupted.

    Superset runs from a virtual environment of its own (installed on first use: minutes);
    the snapshot is registered as a read-only database, with one dataset per mart and a
    "CSAT by month" chart."""
    from pathlib import Path

    from dashboard.superset import (
        ADMIN,
        DATABASE_NAME,
        Api,
        Superset,
        SupersetError,
        csat_by_month,
        default_venv,
        duckdb_uri,
    )
    from dashboard.venvs import VenvError
    from warehouse.publish import query_published, snapshot_path

    settings = _settings()
    postgres = settings.target == "postgres"
    if postgres:
        if not bi_password:
            _fail("set XM_BI_PASSWORD (or --bi-password): Superset connects as the BI role")
        pg = settings.postgres or {}
        from urllib.parse import quote

        uri = (
            f"postgresql+psycopg2://{quote(settings.bi_role, safe='')}:{quote(bi_password, safe='')}"
            f"@{pg['PGHOST']}:{pg.get('PGPORT', '5432')}/{pg['PGDATABASE']}"
        )
        schema = "published"
    else:
        snapshot = snapshot_path(settings)
        if not snapshot.exists():
            _fail(f"no published snapshot at {snapshot}: run `xm demo` first")
        uri, schema = duckdb_uri(snapshot), "main"
    superset = Superset(
        home=Path(home).resolve() if home else settings.data_dir / "superset",
        venv=Path(venv).resolve() if venv else default_venv(postgres),
        port=port,
    )
    try:
        superset.install(postgres=postgres, echo=typer.echo)
        superset.initialise(echo=typer.echo)
        superset.start(echo=typer.echo)
    except (SupersetError, VenvError) as e:
        _fail(str(e))
    try:
        api = Api(superset.url, ADMIN, superset.password)
        database = api.database(DATABASE_NAME, uri)
        published = query_published(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_name <> '_publish_info' order by 1",
            [schema],
            settings=settings,
        )
        datasets = {t: api.dataset(database, t, schema) for (t,) in published}
        params, query = csat_by_month(datasets["cx_metrics_monthly"])
        chart = api.chart(
            "CSAT by month", datasets["cx_metrics_monthly"], params["viz_type"], params, query
        )
        typer.echo(f"Superset     {superset.url}  (login {ADMIN} / {superset.password})")
        typer.echo(f"database     {DATABASE_NAME}: {uri.split('@')[-1]}")
        typer.echo(
            f"datasets     {len(datasets)} marts; chart: {superset.url}/explore/?slice_id={chart}"
        )
        typer.echo(f"log          {superset.log}")
        typer.echo("Ctrl-C to stop")
        signal.signal(signal.SIGTERM, _interrupt)  # stop the server on a kill too
        with contextlib.suppress(KeyboardInterrupt):
            superset.process.wait()
    except SupersetError as e:
        _fail(str(e))
    finally:
        superset.stop()


def _quiet_handler():
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # no line per request on the terminal
            pass

    return Quiet


_QuietHandler = _quiet_handler()
