"""Resources shared by every asset; the in-process executor serialises warehouse writers."""

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource

from warehouse.dbt import dbt_executable
from warehouse.settings import DBT_DIR


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "dlt": DagsterDltResource(),
            "dbt": DbtCliResource(
                project_dir=str(DBT_DIR), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
            ),
        },
        # DuckDB allows one writer per file: run every step in one process, one at a time
        executor=dg.in_process_executor,
    )
