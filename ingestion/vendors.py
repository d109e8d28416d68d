"""The vendors the warehouse loads: one declaration each, read by the pipelines, the Dagster
assets and jobs, and the raw-load checks. Adding a vendor is one entry here plus its dlt
source module `ingestion/sources/<name>.py` (see docs/adding-a-source.md)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Vendor:
    name: str  # the module `ingestion.sources.<name>`, its factory `<name>_source`
    product: str  # the vendor API the source follows
    secrets: tuple[str, ...]  # the source's credential arguments (besides `base_url`)
    frequent: bool  # loaded by the frequent CX refresh too, not only nightly

    @property
    def dataset(self) -> str:
        """The raw schema dlt loads into."""
        return f"raw_{self.name}"

    @property
    def credential_hint(self) -> str:
        return " and ".join(f"SOURCES__{self.name.upper()}__{s.upper()}" for s in self.secrets)

    def source(self, placeholder: bool = False, **settings):
        """The dlt source. `placeholder`: built with dummy settings, for its list of
        resources only (Dagster's asset definitions); otherwise `settings` or dlt's config."""
        factory = getattr(
            importlib.import_module(f"ingestion.sources.{self.name}"), f"{self.name}_source"
        )
        if placeholder:
            settings = {"base_url": "http://placeholder", **dict.fromkeys(self.secrets, "-")}
        return factory(**settings)


VENDORS: dict[str, Vendor] = {
    v.name: v
    for v in (
        Vendor("hubspot", "HubSpot CRM v3", ("api_key",), frequent=False),
        Vendor("zendesk", "Zendesk Support", ("email", "api_token"), frequent=True),
        Vendor("bamboohr", "BambooHR", ("api_key",), frequent=False),
        Vendor("qualtrics", "Qualtrics v3", ("api_token",), frequent=True),
    )
}
SOURCES: tuple[str, ...] = tuple(VENDORS)
