"""Incremental marts equal a full refresh after the simulator clock moves on.

Loads the test world and builds, then three times advances the clock, ingests and builds
incrementally; a copy of the resulting warehouse is then rebuilt with --full-refresh and
the incremental marts must match it row for row. Also checks that the incremental runs
really took the incremental path (lookback filter compiled in) and selected only a small
part of the table, so a model silently rebuilding everything each time would fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from ingestion.pipeline import ingest, run_dbt
from ingestion.simulator.credentials import loader_env
from ingestion.simulator.server import Simulator, serve_in_thread
from tests.conftest import environ, world

INCREMENTAL_MARTS = ("fct_tickets", "fct_survey_responses")
COMPILED_DIR = Path("compiled/experience_warehouse/models/marts/cx")


def _quiet(_: str) -> None:
    pass


def _build(data_dir: Path, target: Path, *extra: str) -> None:
    with environ({"XM_DATA_DIR": str(data_dir)}):
        run_dbt(["build", "--target-path", str(target), *extra], echo=_quiet)


def _model_statuses(target: Path) -> dict[str, str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}


def test_incremental_equals_full_refresh(tmp_path):
    inc_dir = tmp_path / "incremental"
    full_dir = tmp_path / "full"
    target = tmp_path / "target"
    full_target = tmp_path / "full_target"

    sim = Simulator(world())
    with serve_in_thread(sim) as url, environ({**loader_env(url), "XM_DATA_DIR": str(inc_dir)}):
        ingest(echo=_quiet)
        _build(inc_dir, target)

        counts = []
        for _ in range(3):
            sim.advance(10)
            ingest(echo=_quiet)
            _build(inc_dir, target)
            statuses = _model_statuses(target)
            for model in INCREMENTAL_MARTS:
                assert statuses[model] == "success", (model, statuses[model])

            warehouse = inc_dir / "warehouse.duckdb"
            with duckdb.connect(str(warehouse), read_only=True) as con:
                for model in INCREMENTAL_MARTS:
                    compiled = (target / COMPILED_DIR / f"{model}.sql").read_text()
                    # only the incremental branch has the lookback cutoff
                    assert "cutoff" in compiled, f"{model} did not build incrementally"
                    total = con.execute(f"select count(*) from marts.{model}").fetchone()[0]
                    selected = con.execute(f"select count(*) from ({compiled})").fetchone()[0]
                    assert total > 0
                    assert selected < total / 2, (model, selected, total)
                counts.append(
                    con.execute("select count(*) from marts.fct_survey_responses").fetchone()[0]
                )
        # the clock moved on: new responses were added incrementally
        assert counts[-1] > counts[0], counts

    full_dir.mkdir()
    shutil.copy(inc_dir / "warehouse.duckdb", full_dir / "warehouse.duckdb")
    _build(full_dir, full_target, "--full-refresh")

    with duckdb.connect() as con:
        con.execute(f"attach '{inc_dir / 'warehouse.duckdb'}' as inc (read_only)")
        con.execute(f"attach '{full_dir / 'warehouse.duckdb'}' as full_ (read_only)")
        for model in INCREMENTAL_MARTS:
            n_inc, n_full = (
                con.execute(f"select count(*) from {db}.marts.{model}").fetchone()[0]
                for db in ("inc", "full_")
            )
            assert n_inc == n_full, (model, n_inc, n_full)
            for left, right in (("inc", "full_"), ("full_", "inc")):
                diff = con.execute(
                    f"select * from {left}.marts.{model} except all "
                    f"select * from {right}.marts.{model}"
                ).fetchall()
                assert diff == [], f"{model}: rows in {left} not in {right}: {diff[:5]}"
