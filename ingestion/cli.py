"""`xm`: the project's command line."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Annotated

import typer

from ingestion.warehouse import target

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

    from ingestion.simulator.generator import SimConfig, World
    from ingestion.simulator.server import Simulator, create_app

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
    from ingestion.pipeline import SOURCES, IngestError
    from ingestion.pipeline import ingest as run

    if simulator:
        from ingestion.simulator.credentials import loader_env

        os.environ.update(loader_env(simulator))
    try:
        results = run(source or SOURCES, echo=typer.echo)
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

    from ingestion.pipeline import data_dir, run_dbt
    from ingestion.simulator.credentials import loader_env
    from ingestion.simulator.generator import SimConfig, World
    from ingestion.simulator.server import Simulator, serve_in_thread

    started = time.perf_counter()
    os.environ["XM_DATA_DIR"] = str(data_dir())  # absolute, for dbt's profile
    if fresh:
        from ingestion.warehouse import pipelines_dir

        shutil.rmtree(pipelines_dir(), ignore_errors=True)
        if target() == "postgres":
            _drop_pipeline_schemas()
        else:
            for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
                (data_dir() / name).unlink(missing_ok=True)
    typer.echo(f"[1/4] simulator: generating scale={scale} seed={seed} ...")
    world = World(SimConfig(scale=scale, seed=seed))
    with serve_in_thread(Simulator(world)) as url:
        typer.echo(f"      serving HubSpot, Zendesk, BambooHR, Qualtrics on {url}")
        os.environ.update(loader_env(url))
        typer.echo("[2/4] dagster: full_refresh (load -> dbt build + checks -> publish) ...")
        result = _run_job("full_refresh")
    if not result.success:
        failed = [e for e in result.all_events if e.is_step_failure]
        for event in failed:
            typer.secho(
                f"      step {event.step_key} failed: {event.event_specific_data.error.message.strip()[:2000]}",
                fg="red",
                err=True,
            )
        _fail("the full refresh failed; the last good snapshot (if any) is unchanged")
    typer.echo("[3/4] dbt docs generate ...")
    docs = data_dir() / "docs" / "dbt"
    run_dbt(["docs", "generate", "--target-path", str(docs)], echo=lambda _: None)
    typer.echo("[4/4] summary")
    _summary(docs, time.perf_counter() - started)


def _drop_pipeline_schemas() -> None:
    """A fresh start on PostgreSQL: drop what the loaders and dbt built (not `published`)."""
    from ingestion.warehouse import pg_connect

    con = pg_connect()
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


def _run_job(name: str):
    """Execute a job of the code location in this process, printing one line per step.

    Everything else the steps print (dbt's log lines) goes to $XM_DATA_DIR/logs/<job>.log."""
    import contextlib
    import logging

    import dagster as dg

    from dagster_project.definitions import defs
    from ingestion.pipeline import data_dir

    terminal = sys.stdout

    class StepProgress(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "dagster_meta", {}).get("dagster_event")
            if event is None:
                return
            kind = event.event_type_value
            if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
                verb = {
                    "STEP_START": "running",
                    "STEP_SUCCESS": "done",
                    "STEP_FAILURE": "FAILED",
                    "STEP_SKIPPED": "skipped",
                }[kind]
                typer.echo(
                    f"      {time.strftime('%H:%M:%S')} {event.step_key:<24} {verb}", file=terminal
                )

    @dg.logger
    def progress(_init_context) -> logging.Logger:
        logger = logging.Logger("xm.progress", level=logging.DEBUG)
        logger.addHandler(StepProgress())
        return logger

    job = defs().resolve_job_def(name).with_logger_defs({"progress": progress})
    log = data_dir() / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    typer.echo(f"      (step output: {log})")
    with dg.instance_for_test() as instance, log.open("w") as out, contextlib.redirect_stdout(out):
        return job.execute_in_process(
            instance=instance, raise_on_error=False, run_config={"loggers": {"progress": {}}}
        )


def _summary(docs, seconds: float) -> None:
    from dagster_project.publish import published_location, query_published

    q = query_published
    tables = [
        r[0]
        for r in q(
            "select table_name from information_schema.tables where table_schema = "
            f"'{'published' if target() == 'postgres' else 'main'}' "
            "and table_name <> '_publish_info' order by 1"
        )
    ]
    counts = {t: q(f"select count(*) from {t}")[0][0] for t in tables}
    typer.echo("      published marts: " + ", ".join(f"{t} ({n:,})" for t, n in counts.items()))
    # the last month the data covers to its end (tickets arrive daily)
    month, csat, reply = q(
        "select month, csat, first_reply_median_calendar_minutes from cx_metrics_monthly "
        "where month + interval '1 month' <= (select greatest(max(created_at), max(last_solved_at)) "
        "from fct_tickets) + interval '1 day' "
        "order by month desc limit 1"
    )[0]
    # the relationship NPS survey runs quarterly: its latest month with answers
    nps_month, nps = (
        q(
            "select month, nps from cx_metrics_monthly where nps is not null and month <= ? "
            "order by month desc limit 1",
            [month],
        )
        or [(None, None)]
    )[0]
    turnover, enps = q(
        "select 1.0 * sum(separations) / nullif(sum(average_headcount), 0), "
        "100.0 * (sum(enps_promoters) - sum(enps_detractors)) / nullif(sum(enps_promoters + enps_passives + enps_detractors), 0) "
        "from ex_metrics_monthly where month = ?",
        [month],
    )[0]
    link = (
        q(
            "select pearson_r, n from xm_link_summary where ex_metric = 'engagement' and cx_metric = 'csat'"
        )
        or [None]
    )[0]

    def fmt(v, spec):
        return "n/a" if v is None else format(v, spec)

    typer.echo(
        f"      last full month {month:%Y-%m}: NPS {fmt(nps, '.1f')} ({f'{nps_month:%Y-%m}' if nps_month else 'no answers'}), CSAT {fmt(csat, '.1f')}%, "
        f"median first reply {fmt(reply, '.0f')} min, turnover {fmt(turnover and 100 * turnover, '.1f')}%, "
        f"eNPS {fmt(enps, '.1f')}"
    )
    if link:
        typer.echo(
            f"      team engagement vs CSAT: r = {fmt(link[0], '.2f')} over {link[1]} team-months"
        )
    typer.echo(f"      done in {seconds:.0f}s. Look next:")
    if target() == "postgres":
        typer.echo(
            f"        published marts     {published_location()} (BI role: xm postgres setup-bi)"
        )
    else:
        typer.echo(
            f"        published snapshot  duckdb -readonly {published_location()}  (+ Parquet beside it)"
        )
    typer.echo("        asset graph         .venv/bin/dg dev   (then http://127.0.0.1:3000)")
    typer.echo(f"        dbt docs            {docs / 'index.html'}")
    from expectations import docs_index

    typer.echo(f"        GX Data Docs        {docs_index()}")
    typer.echo("        both, served        .venv/bin/xm docs serve")


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

    from ingestion.local_postgres import LocalPostgres, LocalPostgresError

    server = LocalPostgres(Path(directory).resolve(), port=port)
    if server.is_running():
        typer.echo(f"already running: {server.dsn}")
        return
    try:
        server.start(echo=typer.echo)
    except LocalPostgresError as e:
        _fail(str(e))
    typer.echo(f"export XM_TARGET=postgres XM_POSTGRES_DSN={server.dsn}")


@postgres_app.command("stop")
def postgres_stop(directory: PgDir = "data/postgres") -> None:
    """Stop the local server started by `xm postgres start`."""
    from pathlib import Path

    from ingestion.local_postgres import LocalPostgres

    LocalPostgres(Path(directory).resolve()).stop()
    typer.echo("stopped")


@postgres_app.command("setup-bi")
def postgres_setup_bi(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, envvar="XM_BI_PASSWORD")],
    role: Annotated[str, typer.Option(envvar="XM_BI_ROLE", help="Login role for BI.")] = "xm_bi",
) -> None:
    """Create (or update) the read-only BI login: SELECT on the published marts, nothing else."""
    from dagster_project.publish_postgres import setup_bi_role
    from ingestion.warehouse import WarehouseConfigError

    try:
        setup_bi_role(password, role)
    except WarehouseConfigError as e:
        _fail(str(e))
    typer.echo(f"role {role}: may read schema `published` (and is refused everything else)")


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

    from ingestion.pipeline import data_dir

    root = data_dir() / "docs"
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


def main() -> None:  # pragma: no cover
    sys.exit(app())
