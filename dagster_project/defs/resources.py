"""Resources shared by every asset; the in-process executor serialises warehouse writers."""

import importlib.metadata
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource
from packaging import version

from warehouse.dbt import dbt_executable
from warehouse.settings import DBT_DIR


class WarehouseDbt(DbtCliResource):
    """dagster-dbt's resource without two things it does before every dbt command, which
    this project does not use (~5 s of every build, before dbt starts):

    - `dbt --version` in a subprocess (~3 s of importing dbt), to learn the version of the
      executable: here always the venv's `dbt`, i.e. the dbt-core installed beside Dagster;
    - a dbt adapter opened in this process (~1.7 s: it loads dbt's macros), which only
      `fetch_row_counts()` / `fetch_column_metadata()` use; no asset calls them.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "dlt": DagsterDltResource(),
            "dbt": WarehouseDbt(
                project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
            ),
        },
        # DuckDB allows one writer per file: run every step in one process, one at a time
        executor=dg.in_process_executor,
    )
