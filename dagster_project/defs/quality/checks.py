"""Great Expectations suites (`expectations/`) as Dagster asset checks.

- Marts: one blocking check `gx_mart_volume` per mart (its row-level rules are dbt tests,
  blocking checks too, which would pass on an empty table). A failure (severity ERROR) fails the
  checks' step, and Dagster skips everything downstream in the run: `published_marts` is not
  materialised and the last good snapshot stays in place. The mart checks and the quarantine
  check run in one step (`gx_dbt_models`) right after dbt, which builds all models in one step.
- Raw loads: `gx_required_columns` and `gx_volume` on every dlt asset and `gx_answer_scales`
  on `raw_qualtrics/survey_responses` (one step per vendor, right after its load), and
  `gx_quarantine_share` on the quarantine model: severity WARN, non-blocking: a person should
  look, the refresh goes on.

Keys come from the asset definitions themselves (the dlt assets' keys,
`get_asset_key_for_model` for dbt models): a check on a mistyped key would silently attach
to a phantom asset. Each check's metadata names the failed expectations with their observed
values, and links the GX Data Docs page, rebuilt on every run in `$XM_DATA_DIR/docs/gx/`.
Great Expectations is imported inside the check functions only (it takes seconds).
"""

from collections.abc import Iterable

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.defs.ingest.assets import LOADERS
from dagster_project.defs.transform.assets import dbt_models
from expectations.raw import MIN_VOLUME_RATIO, root_table
from expectations.registry import all_specs
from expectations.spec import SuiteResult, SuiteSpec

POOL = "warehouse"  # DuckDB: one writer, and no reader while it writes
WARN = dg.AssetCheckSeverity.WARN
ERROR = dg.AssetCheckSeverity.ERROR

SPECS: dict[str, SuiteSpec] = {s.name: s for s in all_specs()}


def _run(specs: list[SuiteSpec], context: dg.AssetCheckExecutionContext) -> list[SuiteResult]:
    from expectations.runner import docs_index, run_suites  # GX is imported in there, lazily

    results = run_suites(specs, run_name=context.op_execution_context.run_id)
    for r in results:
        (context.log.info if r.success else context.log.warning)(r.summary())
    context.log.info(f"GX Data Docs: {docs_index()}")
    return results


def _md_table(outcomes: Iterable) -> str:
    rows = ["| expectation | column | observed | message |", "|---|---|---|---|"]
    for o in outcomes:
        observed = str(o.observed).replace("|", "\\|")
        if len(observed) > 300:
            observed = observed[:297] + "..."
        message = o.message.replace("|", "\\|")
        rows.append(f"| {o.expectation} | {o.column or ''} | {observed} | {message} |")
    return "\n".join(rows)


def _metadata(result: SuiteResult, outcomes: list | None = None) -> dict:
    outcomes = result.expectations if outcomes is None else outcomes
    failed = [o for o in outcomes if not o.success]
    from expectations.runner import docs_index

    meta: dict = {
        "suite": result.suite,
        "severity": result.severity,
        "rows_validated": result.rows_validated,
        "expectations": len(outcomes),
        "failed": len(failed),
        "seconds": round(result.seconds, 3),
        "data_docs_index": dg.MetadataValue.path(str(docs_index())),
    }
    if result.docs_page:
        meta["data_docs"] = dg.MetadataValue.path(str(result.docs_page))
    if result.error:
        meta["error"] = result.error
    if failed:
        meta["failed_expectations"] = dg.MetadataValue.md(_md_table(failed))
        meta["failed_messages"] = dg.MetadataValue.json([o.message for o in failed])
    return meta


def _description(result: SuiteResult, outcomes: list | None = None) -> str:
    outcomes = result.expectations if outcomes is None else outcomes
    if result.error:
        return result.error
    failed = [o for o in outcomes if not o.success]
    if not failed:
        return f"{result.suite}: {len(outcomes)} expectations passed"
    return f"{result.suite}: " + "; ".join(o.message for o in failed)


# ------------------------------------------------------------------------------ dbt models

# dbt builds every model in one step, so the suites of the tables it builds (the marts,
# blocking; the quarantine, warning) are validated together in one step right after it: one
# GX context and one Data Docs update instead of one per table.
_quarantine_spec = SPECS["quarantine.share"]
_mart_specs = [s for s in SPECS.values() if s.layer == "marts"]


def _model_key(spec: SuiteSpec) -> dg.AssetKey | None:
    try:
        return get_asset_key_for_model([dbt_models], spec.table.split(".", 1)[1])
    except Exception:  # a model this project version does not build (yet)
        return None


_model_specs: dict[dg.AssetCheckKey, SuiteSpec] = {
    dg.AssetCheckKey(key, spec.check): spec
    for spec in [*_mart_specs, _quarantine_spec]
    if (key := _model_key(spec)) is not None
}


@dg.multi_asset_check(
    name="gx_dbt_models",
    specs=[
        dg.AssetCheckSpec(
            spec.check,
            asset=check_key.asset_key,
            blocking=spec.blocking,
            description=f"GX suite `{spec.name}` ({spec.severity}): {spec.description}",
            metadata={"suite": spec.name, "severity": spec.severity},
        )
        for check_key, spec in _model_specs.items()
    ],
    can_subset=True,
    pool=POOL,
    description="GX suites of the dbt-built tables: marts (blocking), quarantine (warning).",
)
def gx_dbt_models(context: dg.AssetCheckExecutionContext) -> Iterable[dg.AssetCheckResult]:
    selected = sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.path)
    specs = [_model_specs[k] for k in selected]
    for check_key, spec, result in zip(selected, specs, _run(specs, context), strict=True):
        meta = _metadata(result)
        if spec is _quarantine_spec and result.batch is not None and len(result.batch):
            meta["shares"] = dg.MetadataValue.md(_frame_md(result.batch))
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=result.success,
            severity=ERROR if spec.blocking else WARN,
            metadata=meta,
            description=_description(result),
        )


def _frame_md(frame) -> str:
    import pandas as pd

    cols = list(frame.columns)
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in frame.itertuples(index=False):
        cells = []
        for v in rec:
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                cells.append("")
            elif isinstance(v, float):
                cells.append(f"{v:.4g}")
            else:
                cells.append(str(v))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


# ------------------------------------------------------------------------------ raw


def _raw_check(vendor: str, assets: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    columns_spec = SPECS[f"raw_{vendor}.columns"]
    volume_spec = SPECS[f"raw_{vendor}.volume"]
    scales_spec = SPECS.get("raw_qualtrics.survey_responses.answer_scales")
    keys = sorted(assets.keys, key=lambda k: k.to_user_string())
    specs = []
    for key in keys:
        specs.append(
            dg.AssetCheckSpec(
                columns_spec.check,
                asset=key,
                description=f"GX suite `{columns_spec.name}` (warning): required columns present",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                volume_spec.check,
                asset=key,
                description=(
                    f"GX suite `{volume_spec.name}` (warning): rows >= {MIN_VOLUME_RATIO:.0%} of "
                    "the previous passing validation"
                ),
            )
        )
    scales_key = dg.AssetKey(["raw_qualtrics", "survey_responses"])
    if vendor == "qualtrics" and scales_spec and scales_key in keys:
        specs.append(
            dg.AssetCheckSpec(
                scales_spec.check,
                asset=scales_key,
                description=f"GX suite `{scales_spec.name}` (warning): {scales_spec.description}",
            )
        )

    @dg.multi_asset_check(
        specs=specs,
        name=f"gx_raw_{vendor}",
        can_subset=True,
        pool=POOL,
        description=f"GX raw-load suites of raw_{vendor} (warning severity, non-blocking).",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> Iterable[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        names = {k.name for k in selected}
        to_run = [
            s
            for s in (columns_spec, volume_spec, scales_spec)
            if s is not None and s.check in names
        ]
        by_check = {
            r_spec.check: r for r_spec, r in zip(to_run, _run(to_run, context), strict=True)
        }
        for check_key in sorted(selected, key=lambda k: (k.asset_key.to_user_string(), k.name)):
            result = by_check[check_key.name]
            table = check_key.asset_key.path[-1]
            if check_key.name == columns_spec.check:
                yield _columns_result(check_key, result, table)
            elif check_key.name == volume_spec.check:
                yield _volume_result(check_key, result, table)
            else:
                yield dg.AssetCheckResult(
                    asset_key=check_key.asset_key,
                    check_name=check_key.name,
                    passed=result.success,
                    severity=WARN,
                    metadata=_metadata(result),
                    description=_description(result),
                )

    return _check


def _columns_result(check_key: dg.AssetCheckKey, result: SuiteResult, table: str):
    mine = [o for o in result.expectations if root_table((o.column or "").split(".")[0]) == table]
    passed = result.error is None and all(o.success for o in mine)
    return dg.AssetCheckResult(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=passed,
        severity=WARN,
        metadata=_metadata(result, mine),
        description=_description(result, mine),
    )


def _volume_result(check_key: dg.AssetCheckKey, result: SuiteResult, table: str):
    frame = result.batch
    meta = _metadata(result, [])
    problems = []
    if result.error or frame is None:
        problems.append(result.error or "no batch")
    else:
        import pandas as pd

        mine = frame[[root_table(t) == table for t in frame["table_name"]]]
        for row in mine.to_dict("records"):
            name = f"{check_key.asset_key.path[0]}.{row['table_name']}"
            prev = None if pd.isna(row["previous_rows"]) else int(row["previous_rows"])
            meta[f"{row['table_name']}: rows"] = int(row["rows"])
            meta[f"{row['table_name']}: rows at previous validation"] = (
                prev if prev is not None else "none (first validation)"
            )
            ratio = None if pd.isna(row["ratio_to_previous"]) else float(row["ratio_to_previous"])
            if row["rows"] == 0:
                problems.append(f"{name} has no rows")
            elif ratio is not None and ratio < MIN_VOLUME_RATIO:
                problems.append(
                    f"{name} holds {int(row['rows'])} rows, {ratio:.0%} of the {prev} at the "
                    f"previous passing validation (alarm below {MIN_VOLUME_RATIO:.0%})"
                )
    meta["failed"] = len(problems)
    if problems:
        meta["failed_messages"] = dg.MetadataValue.json(problems)
    return dg.AssetCheckResult(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=not problems,
        severity=WARN,
        metadata=meta,
        description="; ".join(problems) if problems else f"{result.suite}: volume as expected",
    )


raw_checks = [_raw_check(vendor, assets) for vendor, assets in LOADERS.items()]


def gx_check_keys(layer: str | None = None) -> list[dg.AssetCheckKey]:
    """Keys of the GX checks (of one layer: "marts", "raw", "quarantine"), for job selections."""
    keys = {
        "marts": [k for k, s in _model_specs.items() if s.layer == "marts"],
        "quarantine": [k for k, s in _model_specs.items() if s.layer == "quarantine"],
        "raw": [k for d in raw_checks for k in d.check_keys],
    }
    return [k for layer_, ks in keys.items() if layer in (None, layer_) for k in ks]
