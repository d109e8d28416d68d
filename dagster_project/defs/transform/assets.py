"""dbt assets: every model, seed and snapshot of `dbt/`, with dbt tests as asset checks.

Sources keep dbt's default key `[source_name, table]` = `raw_<vendor>/<table>`, the key of
the dlt asset that loads the table, so each source hangs off its loader. Child tables that
dlt writes alongside a parent (e.g. `ticket_events__child_events`) point at the parent's
asset through `meta.dagster.asset_key` in the sources yml. Tests with `severity: error`
are blocking checks.
"""

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from ingestion.pipeline import DBT_DIR, data_dir, dbt_executable
from ingestion.warehouse import export_engine_env

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def _ensure_manifest(project: DbtProject) -> Path:
    """`dbt parse` when the manifest is missing or older than the project's files
    (`prepare_if_dev` only acts under `dg dev`; tests and CI load definitions directly)."""
    manifest = Path(project.manifest_path)
    sources = [
        p
        for d in ("models", "macros", "seeds", "tests")
        for p in (DBT_DIR / d).rglob("*")
        if p.is_file()
    ]
    newest = max((p.stat().st_mtime for p in [*sources, DBT_DIR / "dbt_project.yml"]), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        env = {
            **os.environ,
            "XM_DATA_DIR": str(data_dir()),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--quiet",
            ],
            env=env,
            check=True,
        )
    return manifest


class LayerTranslator(DagsterDbtTranslator):
    """Groups by layer (staging, intermediate, marts, quarantine) for a readable graph."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dbt_resource_props["config"].get("schema") or "transform"
        return super().get_group_name(dbt_resource_props)


translator = LayerTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        enable_source_tests_as_checks=True,
        enable_duplicate_source_asset_keys=True,  # dlt child tables map to their parent's asset
    )
)


class DbtBuildConfig(dg.Config):
    """How the scheduled jobs run `dbt build` on the selected models."""

    full_refresh: bool = False  # rebuild incremental models from all history (`--full-refresh`)


@dbt_assets(
    manifest=_ensure_manifest(dbt_project),
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool="warehouse",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    export_engine_env()  # the profile reads XM_DATA_DIR (absolute), XM_TARGET and PG*
    # unit tests check the SQL, not the data: they run in CI (`make test`), not on every refresh
    args = ["build", "--exclude-resource-type", "unit_test"]
    yield from dbt.cli(
        [*args, "--full-refresh"] if config.full_refresh else args, context=context
    ).stream()
