"""`xm`: the project's command line."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Annotated

import typer

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
    """From nothing: simulate the four vendors on a free port, load them all, summarise."""
    import shutil

    from ingestion.pipeline import SOURCES, IngestError, data_dir, raw_table_counts, warehouse_path
    from ingestion.pipeline import ingest as run
    from ingestion.simulator.credentials import loader_env
    from ingestion.simulator.generator import SimConfig, World
    from ingestion.simulator.server import Simulator, serve_in_thread

    started = time.perf_counter()
    if fresh:
        warehouse_path().unlink(missing_ok=True)
        shutil.rmtree(data_dir() / "dlt_pipelines", ignore_errors=True)
    typer.echo(f"[simulator] generating world: scale={scale} seed={seed} ...")
    sim = Simulator(World(SimConfig(scale=scale, seed=seed)))
    with serve_in_thread(sim) as url:
        typer.echo(f"[simulator] serving on {url} (clock {sim.clock:%Y-%m-%d})")
        os.environ.update(loader_env(url))
        try:
            run(SOURCES, echo=typer.echo)
        except IngestError as e:
            _fail(str(e), code=2)
        truth = sim.ground_truth()
    counts = raw_table_counts()
    typer.echo("\nraw table                              rows   expected")
    bad = 0
    for table, expected in sorted(truth.items()):
        rows = counts.get(table, (0, 0))[0]
        bad += rows != expected
        typer.echo(
            f"{table:<34} {rows:>9,} {expected:>10,}" + ("" if rows == expected else "  MISMATCH")
        )
    typer.echo(f"\nwarehouse: {warehouse_path()}  ({time.perf_counter() - started:.0f}s)")
    typer.echo(
        f"look next: duckdb -readonly {warehouse_path()}  |  xm simulate serve  |  make test"
    )
    if bad:
        _fail(f"{bad} raw table(s) do not reconcile with the simulator's ground truth")


def main() -> None:  # pragma: no cover
    sys.exit(app())
