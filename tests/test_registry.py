"""The raw-table registry (dbt_project.yml `vars: raw_tables`) is the one list of raw tables.

Declaring a table there (with the dbt source, base model and staging model any raw table
needs) puts it in the quarantine union, in the reconciliation tests (dbt and
tests/test_staging.py) and in the raw GX columns suite, without editing any of them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from expectations.raw import REQUIRED_COLUMNS, columns_suite
from expectations.raw_tables import DBT_DIR, raw_tables
from tests.test_staging import reconciled

NEW = "raw_zendesk.satisfaction_ratings"
ENTRY = {
    "base_model": "base_zendesk__satisfaction_ratings",
    "staging_model": "stg_zendesk__satisfaction_ratings",
    "raw_key": "raw.id",
    "staged_key": "rating_id",
    "required_columns": ["id", "score", "ticket_id"],
    "quarantine_share": True,
}
BASE_MODEL = """
select
    id as rating_id,
    score,
    _dlt_load_id,
    case when id is null then 'missing primary key' end as _quarantine_reason,
    1 as _dedup_rank,
    {{ source_key(['id']) }} as _source_key
from {{ source('raw_zendesk', 'satisfaction_ratings') }}
"""
STAGING_MODEL = """
select rating_id, score
from {{ ref('base_zendesk__satisfaction_ratings') }}
where _quarantine_reason is null and _dedup_rank = 1
"""
MODEL = "model.experience_warehouse"
NODES = [
    "quarantine",
    "assert_staging_reconciles_with_raw",
    "assert_quarantine_share_within_tolerance",
]


def add_table(project: Path) -> None:
    """Declare NEW in a copy of the dbt project: the dbt source, the registry entry, and a
    trivial base and staging model. Nothing that reads the registry is touched."""
    sources_yml = project / "models" / "staging" / "zendesk" / "_zendesk__sources.yml"
    sources = yaml.safe_load(sources_yml.read_text())
    sources["sources"][0]["tables"].append({"name": "satisfaction_ratings"})
    sources_yml.write_text(yaml.safe_dump(sources, sort_keys=False))

    project_yml = project / "dbt_project.yml"
    config = yaml.safe_load(project_yml.read_text())
    config["vars"]["raw_tables"][NEW] = ENTRY
    project_yml.write_text(yaml.safe_dump(config, sort_keys=False))

    zendesk = project / "models" / "staging" / "zendesk"
    (zendesk / "base" / "base_zendesk__satisfaction_ratings.sql").write_text(BASE_MODEL)
    (zendesk / "stg_zendesk__satisfaction_ratings.sql").write_text(STAGING_MODEL)


def start_compile(project: Path, data_dir: Path) -> subprocess.Popen:
    """`dbt compile` of the registry's readers in the background (no data needed)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
    env = {
        **os.environ,
        "XM_TARGET": "duckdb",
        "XM_DATA_DIR": str(data_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.Popen(
        [dbt, "compile", "--project-dir", str(project), "--profiles-dir", str(project),
         "--select", *NODES],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def manifest_of(compiling: subprocess.Popen, project: Path) -> dict:
    output, _ = compiling.communicate(timeout=300)
    assert compiling.returncode == 0, output[-4000:]
    return json.loads((project / "target" / "manifest.json").read_text())


def test_registry_lists_the_tables_it_replaced():
    registry = raw_tables()
    assert list(REQUIRED_COLUMNS) == list(registry)
    staged = [t for t in registry.values() if t.staging_model]
    assert all(t.base_model and t.raw_key and t.staged_key for t in staged)
    assert registry["raw_zendesk.schedules__intervals"].from_clause == (
        "raw_zendesk.schedules__intervals as raw left join raw_zendesk.schedules as parent"
        " on raw._dlt_parent_id = parent._dlt_id"
    )
    answers = registry["raw_qualtrics.survey_responses"].exploded
    assert answers and answers.base_model == "base_qualtrics__survey_answers"


@pytest.mark.slow
def test_declaring_a_raw_table_wires_quarantine_reconciliation_and_gx(tmp_path):
    project = tmp_path / "dbt"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    add_table(project)
    compiling = start_compile(project, tmp_path / "data")
    try:
        # the raw GX columns suite of its vendor requires its columns (built while dbt compiles)
        columns = {e.column for e in columns_suite("zendesk", dbt_dir=project).expectations}
        assert {"satisfaction_ratings.id", "satisfaction_ratings.score"} <= columns
        before = {e.column for e in columns_suite("zendesk").expectations}
        assert "satisfaction_ratings.id" not in before
        # tests/test_staging.py reconciles it (counts recomputed from raw)
        assert reconciled(project)[NEW] == (
            "stg_zendesk__satisfaction_ratings",
            "cast(raw.id as varchar)",
            "cast(rating_id as varchar)",
            f"{NEW} as raw",
        )

        manifest = manifest_of(compiling, project)
    finally:
        if compiling.poll() is None:
            compiling.kill()
    nodes = {n["name"]: n for n in manifest["nodes"].values()}
    quarantine, reconcile, share = (nodes[name] for name in NODES)
    # the union reads the new base model, and dbt knows it must build it first
    assert f"{MODEL}.base_zendesk__satisfaction_ratings" in quarantine["depends_on"]["nodes"]
    # (the string type is the engine's: TEXT on DuckDB, string on Spark)
    assert re.search(rf"cast\('{NEW}' as \w+\) as source_table", quarantine["compiled_code"])
    assert '"base_zendesk__satisfaction_ratings"' in quarantine["compiled_code"]
    # the dbt reconciliation counts it, with its key, against its staging model
    assert f"{MODEL}.stg_zendesk__satisfaction_ratings" in reconcile["depends_on"]["nodes"]
    assert f"'{NEW}' as source_table" in reconcile["compiled_code"]
    assert "count(raw.id) - count(distinct raw.id)" in reconcile["compiled_code"]
    assert '"raw_zendesk"."satisfaction_ratings" as raw' in reconcile["compiled_code"]
    # ... and so does the blocking quarantine-share test
    assert f"'{NEW}' as source_table" in share["compiled_code"]
    # the quarantine may hold its rows
    rules = next(
        n
        for n in nodes.values()
        if (n.get("test_metadata") or {}).get("name") == "column_rules"
        and n["attached_node"] == f"{MODEL}.quarantine"
    )
    assert re.search(rf"source_table not in \([^)]*'{re.escape(NEW)}'", rules["compiled_code"])
