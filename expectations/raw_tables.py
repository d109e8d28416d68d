"""The raw-table registry, read from the dbt project (`vars: raw_tables` in dbt_project.yml).

Each raw table the warehouse reads is declared there once (dbt/README.md, "Raw-table
registry"); dbt builds the quarantine union and its reconciliation tests from it, and the
raw GX columns suites (expectations/raw.py) and tests/test_staging.py read it through
`raw_tables()`. Plain YAML: no dbt run or manifest needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"


@dataclass(frozen=True)
class Exploded:
    """Rows staging explodes out of each raw row (survey answers out of responses)."""

    name: str  # "survey_answers": judged as "<source>.<name>" by the quarantine share checks
    base_model: str
    staging_model: str


@dataclass(frozen=True)
class RawTable:
    table: str  # "raw_zendesk.tickets": dbt source name and table = raw schema and table
    required_columns: tuple[str, ...] = ()
    base_model: str | None = None  # feeds the quarantine; None: not staged on its own
    staging_model: str | None = None
    raw_key: str | None = None  # SQL over `raw` (and `parent`): the key as the base model reads it
    staged_key: str | None = None  # SQL over the staging model's columns: the same key
    parent: str | None = None  # dlt parent table, joined as `parent` for the key
    quarantine_share: bool = False  # judged by dbt's blocking quarantine-share test
    exploded: Exploded | None = None

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def from_clause(self) -> str:
        """The raw rows as `raw` (with their dlt parent as `parent`), for `raw_key`."""
        clause = f"{self.table} as raw"
        if self.parent:
            clause += (
                f" left join {self.schema}.{self.parent} as parent"
                " on raw._dlt_parent_id = parent._dlt_id"
            )
        return clause


def raw_tables(dbt_dir: Path | str = DBT_DIR) -> dict[str, RawTable]:
    """{"raw_zendesk.tickets": RawTable(...)} in declaration order, from `dbt_dir`'s project."""
    return dict(_read(str(Path(dbt_dir).resolve())))


@cache
def _read(dbt_dir: str) -> tuple[tuple[str, RawTable], ...]:
    project = yaml.safe_load((Path(dbt_dir) / "dbt_project.yml").read_text())
    entries = []
    for table, spec in project["vars"]["raw_tables"].items():
        spec = dict(spec or {})
        exploded = spec.pop("exploded", None)
        entries.append(
            (
                table,
                RawTable(
                    table=table,
                    required_columns=tuple(spec.pop("required_columns", ())),
                    exploded=Exploded(**exploded) if exploded else None,
                    **spec,
                ),
            )
        )
    return tuple(entries)


def vendors(dbt_dir: Path | str = DBT_DIR) -> tuple[str, ...]:
    """The vendors of the registered tables ("hubspot", ...) in declaration order."""
    return tuple(dict.fromkeys(t.schema.removeprefix("raw_") for t in raw_tables(dbt_dir).values()))
