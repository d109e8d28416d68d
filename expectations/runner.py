"""Validate warehouse tables with the suites and build GX Data Docs.

    from expectations import run_suites
    results = run_suites()                      # every suite, against $XM_DATA_DIR
    results = run_suites(layer="marts")         # or a layer, or names=[...], or specs=[...]

Each suite's batch is read through short read-only DuckDB connections into pandas (the
pushed-down aggregates keep it small) and validated with GX's pandas data source; GX has no
working DuckDB SQL data source. Results are stored by a file-backed GX context in
`$XM_DATA_DIR/gx/` (latest result per suite only) and rendered to Data Docs in
`$XM_DATA_DIR/docs/gx/index.html`, which lists every suite with its latest result.

Great Expectations is imported inside the functions here: it takes seconds to import, and
the Dagster code location imports this package at load time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations.spec import ExpectationOutcome, SuiteResult, SuiteSpec
from warehouse.reader import Warehouse

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)

DATASOURCE = "xm_warehouse"
SITE_NAME = "xm_local_site"
KEEP_RESULTS = 1  # validation results kept per suite (the Data Docs index lists what is kept)
MAX_EXAMPLES = 5  # failing rows quoted in a message


def gx_root(data_dir: Path) -> Path:
    return Path(data_dir) / "gx"


def docs_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "docs" / "gx"


def docs_index(data_dir: Path | None = None) -> Path:
    return docs_dir(Warehouse.from_data_dir(data_dir).data_dir) / "index.html"


# --------------------------------------------------------------------------- GX context


def open_context(data_dir: Path) -> AbstractDataContext:
    """The file-backed GX context of this data dir: `<data_dir>/gx/` holds the stores (suites
    are rewritten from code on every run), `<data_dir>/docs/gx/` the Data Docs site."""
    # GX reads its telemetry switch from the environment before any config: off, unless the
    # operator said otherwise (offline, and nobody asked)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(data_dir))
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(docs_dir(data_dir)),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    variables = context.variables
    sites = variables.data_docs_sites or {}
    configured_dir = (sites.get(SITE_NAME) or {}).get("store_backend", {}).get("base_directory")
    changed = False
    if set(sites) != {SITE_NAME} or configured_dir != str(docs_dir(data_dir)):
        variables.data_docs_sites = {SITE_NAME: site}
        changed = True
    bars = variables.progress_bars  # a dict once read back from great_expectations.yml
    bars_on = (
        bars.get("globally", True) if isinstance(bars, dict) else getattr(bars, "globally", True)
    )
    if bars is None or bars_on:
        variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        changed = True
    if context.config.analytics_enabled is not False:  # also when GX_ANALYTICS_ENABLED is unset
        context.config.analytics_enabled = False
        changed = True
    if changed:
        variables.save()
        context = gx.get_context(mode="file", project_root_dir=str(data_dir))
    return context


def _datasource(context: AbstractDataContext):
    try:
        return context.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        return context.data_sources.add_pandas(DATASOURCE)


def _batch_definition(datasource, asset_name: str):
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition("batch")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("batch")


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """One GX writer per data dir at a time (two Dagster runs may check concurrently)."""
    path = gx_root(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with (path / ".xm_lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- running


def select_specs(
    specs: Iterable[SuiteSpec] | None = None,
    *,
    names: Iterable[str] | None = None,
    layer: str | None = None,
) -> list[SuiteSpec]:
    from expectations.registry import all_specs

    chosen = list(specs) if specs is not None else all_specs()
    if names is not None:
        wanted = set(names)
        unknown = wanted - {s.name for s in chosen}
        if unknown:
            raise KeyError(f"unknown suites: {', '.join(sorted(unknown))}")
        chosen = [s for s in chosen if s.name in wanted]
    if layer is not None:
        chosen = [s for s in chosen if s.layer == layer]
    return chosen


def run_suites(
    specs: Iterable[SuiteSpec] | None = None,
    *,
    names: Iterable[str] | None = None,
    layer: str | None = None,
    data_dir: Path | str | None = None,
    run_name: str | None = None,
    build_docs: bool = True,
    echo: Callable[[str], None] | None = None,
) -> list[SuiteResult]:
    """Validate the chosen suites (default: all) against the warehouse in `data_dir`
    (default `$XM_DATA_DIR`), store the results and update the Data Docs."""
    from great_expectations.core.run_identifier import RunIdentifier

    chosen = select_specs(specs, names=names, layer=layer)
    wh = Warehouse.from_data_dir(data_dir)
    run_id = RunIdentifier(run_name=run_name or "adhoc", run_time=dt.datetime.now(dt.UTC))
    results: list[SuiteResult] = []
    with _locked(wh.data_dir):
        context = open_context(wh.data_dir)
        datasource = _datasource(context)
        identifiers = []
        for spec in chosen:
            result, identifier = _run_one(context, datasource, wh, spec, run_id)
            results.append(result)
            if identifier is not None:
                identifiers.append(identifier)
            if echo:
                echo(result.summary())
        if build_docs and identifiers:
            _prune(context, {r.suite for r in results})
            _build_docs(context, identifiers)
            for result in results:
                result.docs_page = _page_for(wh.data_dir, result, identifiers)
    return results


def _run_one(
    context: AbstractDataContext, datasource, wh: Warehouse, spec: SuiteSpec, run_id
) -> tuple[SuiteResult, Any]:
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    started = time.perf_counter()
    base = {"suite": spec.name, "table": spec.table, "severity": spec.severity}
    error = None
    try:
        with wh.session():
            frame = spec.read(wh)
    except Exception as e:  # the batch cannot be read: a failure, said plainly
        log.exception("reading the batch of %s failed", spec.name)
        error = f"could not read {spec.table}: {type(e).__name__}: {e}"
        # validate an empty batch anyway: its expectations fail, so the Data Docs show this
        # run as failed instead of keeping the previous (passing) result on display
        frame = pd.DataFrame()
    suite = context.suites.add_or_update(spec.build())
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(
            name=spec.name, data=_batch_definition(datasource, spec.asset_name), suite=suite
        )
    )
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
    index = [c for c in spec.index_columns if c in frame.columns and len(frame)]
    if index:
        result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": index}
    validation = definition.run(
        batch_parameters={"dataframe": frame}, result_format=result_format, run_id=run_id
    )
    outcomes = [_outcome(r, index) for r in validation.results]
    result = SuiteResult(
        **base,
        success=error is None and bool(validation.success) and all(o.success for o in outcomes),
        rows_validated=len(frame),
        seconds=time.perf_counter() - started,
        expectations=outcomes,
        error=error,
    )
    result.batch = None if error else frame
    if spec.after is not None and error is None:
        spec.after(wh, frame, result)
    identifier = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=spec.name),
        run_id=run_id,
        batch_identifier=_batch_id(validation),
    )
    return result, identifier


def _batch_id(validation: ExpectationSuiteValidationResult) -> str | None:
    batch_id = getattr(validation, "batch_id", None)
    if batch_id:
        return batch_id
    spec = validation.meta.get("active_batch_definition") or {}
    return spec.get("batch_identifier") if isinstance(spec, dict) else None


# --------------------------------------------------------------------------- messages


def _plain(value: Any) -> Any:
    """JSON-able, readable values (numpy scalars, timestamps, NaN, tuples)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return round(value, 6)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _fmt(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_A"):
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _outcome(r, index: Sequence[str]) -> ExpectationOutcome:
    config = r.expectation_config
    kind = config.type
    kwargs = dict(config.kwargs)
    columns = _columns_of(kwargs)
    description = config.description or kind.replace("_", " ")
    res = dict(r.result or {})
    exception = _raised(r.exception_info)
    if exception:
        msg = exception.get("exception_message") or "unknown error"
        return ExpectationOutcome(
            expectation=kind,
            column=", ".join(columns) or None,
            description=description,
            success=False,
            observed=None,
            message=f"{description}: could not be evaluated ({msg})",
        )
    success = bool(r.success)
    observed: Any
    unexpected = res.get("unexpected_count")
    total = res.get("element_count")
    if kind == "expect_column_to_exist":
        observed = "present" if success else "missing"
        detail = f"column `{columns[0]}` is {observed}"
    elif "observed_value" in res:
        observed = _plain(res["observed_value"])
        detail = f"observed {_fmt(observed)}"
    elif unexpected is not None:
        rows = res.get("unexpected_index_list") or []
        if rows and isinstance(rows[0], dict):
            observed = [_plain(row) for row in rows[:MAX_EXAMPLES]]
            examples = "; ".join(_describe_row(row, index, columns) for row in rows[:MAX_EXAMPLES])
        else:
            observed = _plain(list(res.get("partial_unexpected_list") or [])[:MAX_EXAMPLES])
            examples = ", ".join(_fmt(v) for v in observed)
        # rows GX skipped (nulls; pairs with a missing side) are not part of the verdict
        judged = total - (res.get("missing_count") or 0) if total is not None else None
        share = f" ({100 * unexpected / judged:.1f}%)" if judged else ""
        detail = f"{unexpected} of {judged} rows{share} violate it" + (
            f", e.g. {examples}" if unexpected else ""
        )
        if success:
            detail = "all rows satisfy it" if not unexpected else detail
    else:
        observed = _plain(res) or None
        detail = "passed" if success else "failed"
    bounds = _bounds(kwargs)
    message = f"{description}: {detail}" + (
        f" (expected {bounds})" if bounds and not success else ""
    )
    return ExpectationOutcome(
        expectation=kind,
        column=", ".join(columns) or None,
        description=description,
        success=success,
        observed=observed,
        message=message,
        unexpected_count=unexpected,
        element_count=total,
    )


def _raised(info: Any) -> dict:
    """The exception GX caught while evaluating an expectation, if any (the info is flat, or
    keyed by the metric that raised)."""
    if not isinstance(info, dict):
        return {}
    if info.get("raised_exception"):
        return info
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value
    return {}


def _describe_row(row: dict, index: Sequence[str], columns: Sequence[str]) -> str:
    keys = ", ".join(f"{k}={_fmt(row[k])}" for k in index if k in row)
    values = ", ".join(f"{c}={_fmt(row[c])}" for c in row if c not in index)
    return f"{keys}: {values}" if keys else values


def _bounds(kwargs: dict[str, Any]) -> str:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None and hi is not None:
        return f"between {_fmt(lo)} and {_fmt(hi)}"
    if lo is not None:
        return f">= {_fmt(lo)}"
    if hi is not None:
        return f"<= {_fmt(hi)}"
    if kwargs.get("value_set") is not None:
        return f"in {_plain(kwargs['value_set'])}"
    return ""


# --------------------------------------------------------------------------- Data Docs


def _prune(context: AbstractDataContext, suites: set[str], keep: int = KEEP_RESULTS) -> None:
    """Keep only the newest `keep` results of each suite just validated: the Data Docs index
    then shows each suite's latest result (older pages are cleaned when the index rebuilds)."""
    store = context.validation_results_store
    by_suite: dict[str, list] = {}
    for key in store.list_keys():
        name = key.expectation_suite_identifier.name
        if name in suites:
            by_suite.setdefault(name, []).append(key)
    for keys in by_suite.values():
        keys.sort(key=lambda k: str(k.run_id.run_time), reverse=True)
        for old in keys[keep:]:
            with contextlib.suppress(Exception):
                store.remove_key(old)


def _build_docs(context: AbstractDataContext, identifiers: list) -> None:
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    suites = {
        ExpectationSuiteIdentifier(name=i.expectation_suite_identifier.name) for i in identifiers
    }
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[*identifiers, *suites])
    _offline(context)


def _offline(context: AbstractDataContext) -> None:
    """The site's CDN assets served from the site itself (expectations/offline_docs.py)."""
    from expectations.offline_docs import localize

    site = (context.variables.data_docs_sites or {}).get(SITE_NAME) or {}
    base = (site.get("store_backend") or {}).get("base_directory")
    if base:
        localize(Path(base))


def _page_for(data_dir: Path, result: SuiteResult, identifiers: list) -> Path | None:
    for identifier in identifiers:
        if identifier.expectation_suite_identifier.name == result.suite:
            parts = identifier.to_tuple()
            page = docs_dir(data_dir) / "validations" / Path(*parts[:-1]) / f"{parts[-1]}.html"
            return page if page.exists() else docs_dir(data_dir) / "index.html"
    return None


def rebuild_docs(data_dir: Path | str | None = None) -> Path:
    """Rebuild the whole Data Docs site from the stored results; returns the index path."""
    wh = Warehouse.from_data_dir(data_dir)
    with _locked(wh.data_dir):
        context = open_context(wh.data_dir)
        context.build_data_docs(site_names=[SITE_NAME])
        _offline(context)
    return docs_dir(wh.data_dir) / "index.html"


def read_docs_index(path: Path | None = None) -> dict[str, list[str]]:
    """{suite name: ["Success" | "Failed", ...]} for the validation results the Data Docs
    index lists (one per suite: only the latest result is kept). The index renders its tables
    client-side from rows embedded in the page; this reads those rows."""
    import re

    path = Path(path) if path is not None else docs_index()
    listed: dict[str, list[str]] = {}
    for suite, status in re.findall(
        r"'_expectation_suite_name_sort': '([^']+)'.*?'_validation_success_text': '(\w+)'",
        path.read_text(),
        flags=re.S,
    ):
        listed.setdefault(suite, []).append(status)
    return listed
