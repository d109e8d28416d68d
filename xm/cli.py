"""`xm`: the project's command line, the top of the project: it calls into the simulator,
the loaders, the warehouse, the checks and the Dagster jobs; nothing imports it."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import time
from typing import Annotated

import typer

from warehouse.settings import Settings, WarehouseConfigError

app = typer.Typer(
    help="Experience Warehouse: CX + EX analytics from vendor APIs to published marts.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
simulate = typer.Typer(
    help="The local stand-in for HubSpot, Zendesk, BambooHR and Qualtrics.", no_args_is_help=True
)
app.add_typer(simulate, name="simulate")

DEFAULT_PORT = 8765
SimUrl = Annotated[
    str,
    typer.Option("--url", envvar="XM_SIMULATOR_URL", help="Base URL of a running simulator."),
]


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


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
) -> None:
    """Generate a world and serve the four vendor APIs until interrupted."""
    import uvicorn

    from simulator.generator import SimConfig, World
    from simulator.server import Simulator, create_app

    started = time.perf_counter()
    typer.echo(f"generating world: scale={scale} seed={seed} dirty_rate={dirty_rate} ...")
    world = World(
        SimConfig(scale=scale, seed=seed, dirty_rate=dirty_rate, horizon_days=horizon_days)
    )
    summary = ", ".join(f"{k}={v:,}" for k, v in world.summary.items())
    typer.echo(f"generated in {time.perf_counter() - started:.1f}s: {summary}")
    sim = Simulator(world, fault_rate=fault_rate)
    base = f"http://{host}:{port}"
    typer.echo(
        f"serving on {base} (clock {sim.clock:%Y-%m-%d}); loader settings: xm ingest --simulator {base}"
    )
    uvicorn.run(create_app(sim), host=host, port=port, log_level="warning")


def _call(url: str, method: str, path: str, **params) -> dict:
    import requests

    try:
        r = requests.request(method, url.rstrip("/") + path, params=params, timeout=120)
    except requests.ConnectionError:
        _fail(f"no simulator answering at {url} (start one with `xm simulate serve`)")
    if r.status_code >= 400:
        _fail(r.json().get("error", r.text))
    return r.json()


@simulate.command("advance")
def simulate_advance(
    days: Annotated[float, typer.Option(help="Days to move the clock forward.")] = 1.0,
    url: SimUrl = f"http://127.0.0.1:{DEFAULT_PORT}",
) -> None:
    """Move a running simulator's clock: new records appear, old ones change."""
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
    """Load vendor data into raw_<vendor> schemas of $XM_DATA_DIR/warehouse.duckdb."""
    from ingestion.pipeline import IngestError
    from ingestion.pipeline import ingest as run
    from ingestion.vendors import SOURCES

    if simulator:
        from simulator.credentials import loader_env

        os.environ.update(loader_env(simulator))  # dlt's config, for this process's loads
    try:
        results = run(source or SOURCES, echo=typer.echo, settings=_settings())
    except IngestError as e:
        _fail(str(e), code=2)
    total = sum(r.rows for r in results)
    seconds = sum(r.seconds for r in results)
    typer.echo(f"loaded {total:,} rows from {len(results)} source(s) in {seconds:.1f}s")


@app.command()
def demo(
    scale: Annotated[float, typer.Option(help="Simulated data volume.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    fresh: Annotated[bool, typer.Option(help="Start from an empty warehouse.")] = True,
) -> None:
    """From nothing: simulate the vendors, run the full refresh through Dagster, summarise."""
    import shutil

    from dagster_project.run import run_job
    from simulator.credentials import loader_env
    from simulator.generator import SimConfig, World
    from simulator.server import Simulator, serve_in_thread
    from warehouse.dbt import DbtError, parse_project, run_dbt

    settings = _settings()
    started = time.perf_counter()
    if fresh:
        shutil.rmtree(settings.pipelines_dir, ignore_errors=True)
        if settings.target == "postgres":
            _drop_pipeline_schemas(settings)
        elif settings.target == "spark":
            from warehouse.spark import drop_warehouse

            drop_warehouse(settings)
        else:
            for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
                (settings.data_dir / name).unlink(missing_ok=True)
    typer.echo(f"[1/4] simulator: generating scale={scale} seed={seed} ...")
    world = World(SimConfig(scale=scale, seed=seed))
    parse_project(settings)  # the manifest the Dagster definitions are built from
    with serve_in_thread(Simulator(world)) as url:
        typer.echo(f"      serving HubSpot, Zendesk, BambooHR, Qualtrics on {url}")
        os.environ.update(loader_env(url))  # dlt's config, for this process's loads
        typer.echo("[2/4] dagster: full_refresh (load -> dbt build + checks -> publish) ...")
        log = settings.logs_dir / "full_refresh.log"
        typer.echo(f"      (step output: {log})")
        outcome = run_job(
            "full_refresh", echo=functools.partial(typer.echo, file=sys.stdout), log=log
        )
    if not outcome.success:
        for step, message in outcome.failures:
            typer.secho(f"      step {step} failed: {message[:2000]}", fg="red", err=True)
        _fail("the full refresh failed; the last good snapshot (if any) is unchanged")
    typer.echo("[3/4] dbt docs generate ...")
    docs = settings.docs_dir / "dbt"
    try:
        run_dbt(
            ["docs", "generate", "--target-path", str(docs)], echo=lambda _: None, settings=settings
        )
    except DbtError as e:
        _fail(str(e))
    typer.echo("[4/4] summary")
    _summary(settings, docs, time.perf_counter() - started)


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


def _summary(settings: Settings, docs, seconds: float) -> None:
    """What the published marts say, read as they are (nothing is recomputed here)."""
    from expectations import docs_index
    from warehouse.publish import published_location, query_published

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
            f"median first reply {_fmt(reply_business, '.0f')} business min "
            f"({_fmt(reply_calendar, '.0f')} calendar)"
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
    typer.echo(f"      done in {seconds:.0f}s. Look next:")
    if settings.target == "postgres":
        typer.echo(
            f"        published marts     {published_location(settings)} (BI role: xm postgres setup-bi)"
        )
    else:
        typer.echo(
            f"        published snapshot  duckdb -readonly {published_location(settings)}  (+ Parquet beside it)"
        )
    typer.echo("        asset graph         make ui   (then http://127.0.0.1:3000)")
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
) -> None:
    """Serve $XM_DATA_DIR/docs (dbt docs under /dbt/, GX Data Docs under /gx/) until interrupted."""
    import functools
    import http.server

    root = _settings().docs_dir
    if not root.exists():
        _fail(f"no docs in {root}: run `make demo` (or `xm demo`) first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        for name, path in (("dbt docs", "dbt/index.html"), ("GX Data Docs", "gx/index.html")):
            if (root / path).exists():
                typer.echo(f"{name:<13} http://{host}:{port}/{path}")
        typer.echo("Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
