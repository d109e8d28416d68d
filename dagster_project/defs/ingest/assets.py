"""dlt assets: one asset per raw table, keyed `raw_<vendor>/<table>` like the dbt sources.

Upstream of each sits the vendor stream it reads (`<vendor>_<resource>`), so lineage runs
from the API to the marts. One multi-asset per vendor of `ingestion.vendors`, built with
placeholder settings at definition time (only the resource list is needed) and with the
real dlt config/secrets at run time.
"""

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.pipeline import after_load, check_sources, explain_failure, make_pipeline
from ingestion.progress import RowCounter
from ingestion.vendors import VENDORS, Vendor
from warehouse.settings import Settings


class RawTableTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        vendor = VENDORS[data.resource.source_name]
        table = data.resource.table_name
        return spec.replace_attributes(
            key=dg.AssetKey([vendor.dataset, table]),
            group_name=f"ingest_{vendor.name}",
            kinds={"dlt", Settings.from_env().target},
            description=(
                f"{vendor.dataset}.{table}: the {vendor.product} `{data.resource.name}` stream "
                "as loaded by dlt (raw: what the vendor sent, dirty values included)."
            ),
        )


def stream_specs(vendor: Vendor) -> list[dg.AssetSpec]:
    """The vendor's API streams, upstream of the raw tables: external assets (nothing here
    materialises them), in the vendor's group so the graph starts at the API."""
    translator = DagsterDltTranslator()
    specs: dict[dg.AssetKey, dg.AssetSpec] = {}
    for resource in vendor.source(placeholder=True).resources.values():
        for dep in translator._default_deps_fn(resource):
            specs.setdefault(
                dep,
                dg.AssetSpec(
                    key=dep,
                    group_name=f"ingest_{vendor.name}",
                    kinds={"api"},
                    description=(
                        f"{vendor.product} API: the `{resource.name}` stream "
                        f"(read by load_{vendor.name}; not materialised here)."
                    ),
                ),
            )
    return list(specs.values())


def _build(vendor: Vendor) -> dg.AssetsDefinition:
    def _assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource):
        settings = Settings.from_env()
        task = f"load_{vendor.name}"
        try:
            check_sources([vendor.name], settings)  # settings, credentials, a reachable API
            yield from dlt.run(
                context=context,
                dlt_source=vendor.source(),
                dlt_pipeline=make_pipeline(
                    vendor.name, settings, progress=RowCounter(task, log=context.log.info)
                ),
                loader_file_format=settings.loader_file_format,
            )
            after_load(vendor.name, settings)  # Spark: register the new files in its catalog
        except Exception as e:
            explained = explain_failure(vendor.name, e)
            if explained is None:
                raise
            # the step's failure message, in the UI and on the CLI: one line with the cause
            raise dg.Failure(description=str(explained)) from e

    # the op's description (the step's, in the UI and on the CLI)
    _assets.__doc__ = f"Load {vendor.product} into {vendor.dataset} (dlt, incremental)."
    return dlt_assets(
        dlt_source=vendor.source(placeholder=True),
        dlt_pipeline=make_pipeline(vendor.name),
        name=f"load_{vendor.name}",
        dagster_dlt_translator=RawTableTranslator(),
        pool="warehouse",
    )(_assets)


LOADERS: dict[str, dg.AssetsDefinition] = {name: _build(v) for name, v in VENDORS.items()}


@dg.definitions
def loaders() -> dg.Definitions:
    streams = [spec for vendor in VENDORS.values() for spec in stream_specs(vendor)]
    return dg.Definitions(assets=[*LOADERS.values(), *streams])
