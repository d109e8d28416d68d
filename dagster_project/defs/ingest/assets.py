"""dlt assets: one asset per raw table, keyed `raw_<vendor>/<table>` like the dbt sources.

Upstream of each sits the vendor stream it reads (`<vendor>_<resource>`), so lineage runs
from the API to the marts. One multi-asset per vendor of `ingestion.vendors`, built with
placeholder settings at definition time (only the resource list is needed) and with the
real dlt config/secrets at run time.
"""

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.pipeline import after_load, make_pipeline
from ingestion.vendors import VENDORS, Vendor
from warehouse.settings import Settings


class RawTableTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        vendor = VENDORS[data.resource.source_name]
        return spec.replace_attributes(
            key=dg.AssetKey([vendor.dataset, data.resource.table_name]),
            group_name=f"ingest_{vendor.name}",
            kinds={"dlt", Settings.from_env().target},
        )


def _build(vendor: Vendor) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=vendor.source(placeholder=True),
        dlt_pipeline=make_pipeline(vendor.name),
        name=f"load_{vendor.name}",
        dagster_dlt_translator=RawTableTranslator(),
        pool="warehouse",
    )
    def _assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource):
        settings = Settings.from_env()
        yield from dlt.run(
            context=context,
            dlt_source=vendor.source(),
            dlt_pipeline=make_pipeline(vendor.name, settings),
            loader_file_format=settings.loader_file_format,
        )
        after_load(vendor.name, settings)  # Spark: register the new files in its catalog

    return _assets


LOADERS: dict[str, dg.AssetsDefinition] = {name: _build(v) for name, v in VENDORS.items()}


@dg.definitions
def loaders() -> dg.Definitions:
    return dg.Definitions(assets=list(LOADERS.values()))
