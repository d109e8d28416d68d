"""dlt assets: one asset per raw table, keyed `raw_<vendor>/<table>` like the dbt sources.

Upstream of each sits the vendor stream it reads (`<vendor>_<resource>`), so lineage runs
from the API to the marts. Sources are built with placeholder settings at definition time
(only their resource list is needed) and with the real dlt config/secrets at run time.
"""

import importlib

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.pipeline import SOURCES, loader_file_format, make_pipeline
from ingestion.warehouse import target

GROUP = "ingest"
PLACEHOLDER = {
    "hubspot": ("base_url", "api_key"),
    "zendesk": ("base_url", "email", "api_token"),
    "bamboohr": ("base_url", "api_key"),
    "qualtrics": ("base_url", "api_token"),
}


class RawTableTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        source = data.resource.source_name
        return spec.replace_attributes(
            key=dg.AssetKey([f"raw_{source}", data.resource.table_name]),
            group_name=f"{GROUP}_{source}",
            kinds={"dlt", target()},
        )


def _source(name: str, placeholder: bool = False):
    module = importlib.import_module(f"ingestion.sources.{name}")
    factory = getattr(module, f"{name}_source")
    if placeholder:
        return factory(
            **{arg: "http://placeholder" if arg == "base_url" else "-" for arg in PLACEHOLDER[name]}
        )
    return factory()


def _build(name: str) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=_source(name, placeholder=True),
        dlt_pipeline=make_pipeline(name),
        name=f"load_{name}",
        dagster_dlt_translator=RawTableTranslator(),
        pool="warehouse",
    )
    def _assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource):
        yield from dlt.run(
            context=context,
            dlt_source=_source(name),
            dlt_pipeline=make_pipeline(name),
            loader_file_format=loader_file_format(),
        )

    return _assets


load_hubspot, load_zendesk, load_bamboohr, load_qualtrics = (_build(name) for name in SOURCES)
