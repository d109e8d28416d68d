"""Every suite of the project, as code (no GX import: safe at Dagster load time)."""

from __future__ import annotations

from functools import cache

from expectations.spec import SuiteSpec


@cache
def _specs() -> tuple[SuiteSpec, ...]:
    from expectations.marts import mart_specs
    from expectations.raw import quarantine_share_spec, raw_specs

    specs = (*raw_specs(), quarantine_share_spec(), *mart_specs())
    names = [s.name for s in specs]
    assert len(names) == len(set(names)), "suite names must be unique"
    return specs


def all_specs() -> list[SuiteSpec]:
    return list(_specs())
