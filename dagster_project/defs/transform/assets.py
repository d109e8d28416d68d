"""dbt assets: every model, seed and snapshot of `dbt/`, with dbt tests as asset checks.

Sources keep dbt's default key `[source_name, table]` = `raw_<vendor>/<table>`, the key of
the dlt asset that loads the table, so each source hangs off its loader. Child tables that
dlt writes alongside a parent (e.g. `ticket_events__child_events`) point at the parent's
asset through `meta.dagster.asset_key` in the sources yml. Tests with `severity: error`
are blocking checks.

The manifest is dbt's: `prepare_if_dev()` parses under `dg dev`; elsewhere run `dbt parse`
first (`xm` and the test suite do; a deployment does it when it builds its image).
"""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from warehouse.settings import DBT_DIR, Settings

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
dbt_project.prepare_if_dev()


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
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool="warehouse",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    """`dbt build` of the selected models, seeds and tests (unit tests run in CI, not here)."""
    settings = Settings.from_env()
    # dagster-dbt runs dbt inside dbt/: hand it the resolved data dir (the profile reads it)
    args = ["build", "--exclude-resource-type", "unit_test"]
    args += ["--vars", json.dumps({"xm_data_dir": str(settings.data_dir)})]
    yield from dbt.cli(
        [*args, "--full-refresh"] if config.full_refresh else args, context=context
    ).stream()


def mart_keys() -> list[dg.AssetKey]:
    """The marts, as dbt declares them (models in the `marts` schema)."""
    return sorted(
        (key for key, group in dbt_models.group_names_by_key.items() if group == "marts"),
        key=lambda k: k.to_user_string(),
    )
