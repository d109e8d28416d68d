"""dbt assets: every model, seed and snapshot of `dbt/`, with dbt tests as asset checks.

Sources keep dbt's default key `[source_name, table]` = `raw_<vendor>/<table>`, the key of
the dlt asset that loads the table, so each source hangs off its loader. Child tables that
dlt writes alongside a parent (e.g. `ticket_events__child_events`) point at the parent's
asset through `meta.dagster.asset_key` in the sources yml. Tests with `severity: error`
are blocking checks.

The manifest is dbt's: `parse_project()` runs `dbt parse` (the venv's dbt, not whatever is on
PATH: `dagster dev` started by `xm dev` or a test has no venv on PATH) when it is missing or
older than the project's files; a deployment parses when it builds its image.
"""

import os
import re
import shutil
import tempfile
import time
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

from warehouse.dbt import dbt_vars, parse_project
from warehouse.failures import explain, one_line
from warehouse.progress import Progress, report
from warehouse.settings import DBT_DIR, Settings

# a relationship's parent model as the YAML writes it
REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*\)""")

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
parse_project()


class LayerTranslator(DagsterDbtTranslator):
    """Groups by layer (staging, intermediate, marts, quarantine) for a readable graph."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dbt_resource_props["config"].get("schema") or "transform"
        return super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """dbt tests as checks, each with a description saying what it tests and whether it
        blocks publishing (dbt's own test names stay the check names)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        test = manifest["nodes"].get(unique_id, {})
        meta = test.get("test_metadata") or {}
        column = (meta.get("kwargs") or {}).get("column_name") or test.get("column_name")
        severity = str((test.get("config") or {}).get("severity", "error")).lower()
        what = f"dbt test `{meta.get('name') or test.get('name', unique_id)}`"
        on = f" on `{column}`" if column else ""
        if meta.get("name") == "column_rules":  # one test for many columns: name them
            on = f" ({column_rules(meta.get('kwargs') or {})})"
        gate = "error: fails the build, blocks publishing" if severity == "error" else "warning"
        return spec._replace(description=f"{what}{on} ({gate})")


def column_rules(kwargs: Mapping[str, Any]) -> str:
    """What a `column_rules` test checks, from its arguments: "not null: a, b; unique: c,
    (d, e); accepted values: f; ratios: g; relationships: h -> model.column"."""
    keys = [k if isinstance(k, str) else f"({', '.join(k)})" for k in kwargs.get("unique", [])]
    parents = [  # `to` as the YAML writes it: ref('model')
        column + " -> " + REF.sub(r"\1", parent["to"]) + "." + parent["field"]
        for column, parent in kwargs.get("relationships", {}).items()
    ]
    parts = {
        "not null": list(kwargs.get("not_null", [])),
        "unique": keys,
        "accepted values": list(kwargs.get("accepted_values", {})),
        "ratios": list(kwargs.get("ratios", {})),
        "relationships": parents,
    }
    return "; ".join(f"{rule}: {', '.join(columns)}" for rule, columns in parts.items() if columns)


translator = LayerTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True,
        enable_source_tests_as_checks=True,
        enable_duplicate_source_asset_keys=True,  # dlt child tables map to their parent's asset
    )
)


# dagster-dbt's per-run target folders kept: the last ~10 hours of CX refreshes
KEPT_INVOCATIONS = 20


def prune_invocations(target: Path, keep: int = KEPT_INVOCATIONS) -> list[Path]:
    """Remove all but the newest `keep` of the target folders dagster-dbt gives each
    invocation (`dbt_models-<run id>-<uuid>`: manifest, run results, compiled SQL, ~15 MB):
    nothing else removes them, and a CX refresh every 30 minutes adds ~50 a day. Best
    effort: a folder another process removes or still writes is skipped, never an error.
    The newest are kept, so the running build's and the one `xm demo`'s docs read stay."""

    def modified(folder: Path) -> float:
        try:
            return folder.stat().st_mtime
        except OSError:
            return float("inf")  # gone meanwhile (or unreadable): never picked

    runs = sorted(target.glob("dbt_models-*"), key=modified, reverse=True)
    old = [p for p in runs[keep:] if p.is_dir()]
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return old


def keep_partial_parse(invocation: Path, target: Path) -> bool:
    """The invocation's partial parse becomes the project's (`target/partial_parse.msgpack`):
    dagster-dbt starts each invocation from the project's, and dbt parses the whole project
    again (~5 s) when that was parsed with other `--vars` (another data dir's `dbt parse`).
    Atomic (another build may be reading it); best effort, like `prune_invocations`."""
    partial = None
    try:
        handle, partial = tempfile.mkstemp(prefix=".partial_parse.", dir=target)
        os.close(handle)
        shutil.copyfile(invocation / "partial_parse.msgpack", partial)
        os.replace(partial, target / "partial_parse.msgpack")
    except OSError:
        if partial is not None:
            Path(partial).unlink(missing_ok=True)
        return False
    return True


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
    """dbt build: the selected models, seeds and tests (blocking tests stop the publish)."""
    settings = Settings.from_env()
    # dagster-dbt's rule for where invocations go: $DBT_TARGET_PATH, else target/ in the project
    target = DBT_DIR / os.environ.get("DBT_TARGET_PATH", "target")
    prune_invocations(target)
    # the same --vars as parse_project(): dbt reuses its partial parse (warehouse/dbt.py)
    args = ["build", "--exclude-resource-type", "unit_test", *dbt_vars(settings)]
    if config.full_refresh:
        args.append("--full-refresh")
    # one event per node built or tested: the node count of the progress bar
    total = len(context.selected_asset_keys) + len(context.selected_asset_check_keys)
    done, failed_tests, last_log = 0, [], time.monotonic()
    invocation = None
    try:
        invocation = dbt.cli(args, context=context)
        for event in invocation.stream():
            done += 1
            report(Progress("dbt_models", "nodes", min(done, total), total, unit="nodes"))
            if time.monotonic() - last_log > 15:
                last_log = time.monotonic()
                context.log.info(f"dbt build: {min(done, total)}/{total} nodes")
            if (
                isinstance(event, dg.AssetCheckResult)
                and not event.passed
                and event.severity == dg.AssetCheckSeverity.ERROR
            ):
                failed_tests.append(event.check_name)
            yield event
    except Exception as e:
        if failed_tests:
            shown = ", ".join(failed_tests[:5]) + (" ..." if len(failed_tests) > 5 else "")
            raise dg.Failure(
                description=f"dbt build failed: {len(failed_tests)} blocking test(s) failed "
                f"({shown}); the last good release stays published"
            ) from e
        line = explain(e)
        if line is None:
            raise
        raise dg.Failure(description=f"dbt build failed: {one_line(line)}") from e
    finally:
        if invocation is not None:
            keep_partial_parse(invocation.target_path, target)
        report(Progress("dbt_models", "nodes", min(done, total), total, "nodes", finished=True))


def mart_keys() -> list[dg.AssetKey]:
    """The marts, as dbt declares them (models in the `marts` schema)."""
    return sorted(
        (key for key, group in dbt_models.group_names_by_key.items() if group == "marts"),
        key=lambda k: k.to_user_string(),
    )
