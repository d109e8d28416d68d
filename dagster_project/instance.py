"""The Dagster instance of a data dir: `$XM_DATA_DIR/dagster_home`.

Every run of the data dir is recorded there, whoever starts it: `xm demo` and `xm refresh`
(in process), the UI (`xm dev`, `make ui`) and the daemon's schedules. So the UI shows what
the demo did, and the CLI's runs queue behind nothing they cannot see.

`dagster.yaml` is written here (telemetry off, storage, logs and run queue under the home);
an operator who edits it removes the `managed by xm` line and it is left alone from then on
(docs/operations.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

from warehouse.settings import PROJECT_ROOT, Settings

MARKER = "# managed by xm (dagster_project/instance.py): remove this line to keep your edits"


IN_PROCESS = "dagster-in-process.yaml"  # the same instance for `xm`'s in-process runs
_LOCAL_LOGS = """# each step's stdout/stderr, linked from the run page
compute_logs:
  module: dagster._core.storage.local_compute_log_manager
  class: LocalComputeLogManager
  config:
    base_dir: {logs}
"""
# `xm` sends the steps' output to its own log file; Dagster's capture would mirror it back
# to the terminal through `tail -F` processes that outlive a finished command
_NO_LOGS = """# in-process runs of `xm`: step output goes to $XM_DATA_DIR/logs/<job>.log instead
compute_logs:
  module: dagster._core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
"""


def dagster_yaml(home: Path, capture_logs: bool = True) -> str:
    home = home.resolve()
    logs = _LOCAL_LOGS.format(logs=home / "logs") if capture_logs else _NO_LOGS
    return f"""{MARKER}
telemetry:
  enabled: false
# runs, event logs (materializations, check results), schedule and sensor ticks: SQLite, in
# the files of `storage: sqlite:`; the event log keeps its files open between writes
run_storage:
  module: dagster._core.storage.runs
  class: SqliteRunStorage
  config:
    base_dir: {home / "storage" / "history"}
event_log_storage:
  module: dagster_project.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {home / "storage" / "history" / "runs"}
schedule_storage:
  module: dagster._core.storage.schedules
  class: SqliteScheduleStorage
  config:
    base_dir: {home / "storage" / "schedules"}
{logs.rstrip()}
local_artifact_storage:
  module: dagster._core.storage.root
  class: LocalArtifactStorage
  config:
    base_dir: {home}
# loading the code location parses dbt's manifest and imports dlt, dbt and GX: give a busy
# machine time before a code server counts as failed to start
code_servers:
  local_startup_timeout: 600
# DuckDB has one writer: runs launched by the UI or the schedules wait their turn
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
# a run whose worker died is marked failed (and its failure alerted) instead of hanging
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  poll_interval_seconds: 30
retention:
  schedule:
    purge_after_days: 90
  sensor:
    purge_after_days:
      skipped: 7
      failure: 90
      success: 30
"""


LOCATION = "experience_warehouse"  # the code location's name ([tool.dg.project] says the same)


def workspace_yaml() -> str:
    return f"""{MARKER}
load_from:
  - python_module:
      module_name: dagster_project.definitions
      location_name: {LOCATION}
      working_directory: {PROJECT_ROOT}
"""


def ensure_home(settings: Settings | None = None) -> Path:
    """The data dir's DAGSTER_HOME, with its dagster.yaml and workspace.yaml (rewritten while
    they are ours)."""
    settings = settings or Settings.from_env()
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    for name, wanted in (
        ("dagster.yaml", dagster_yaml(home)),
        (IN_PROCESS, dagster_yaml(home, capture_logs=False)),
        ("workspace.yaml", workspace_yaml()),
    ):
        path = home / name
        if not path.exists() or (
            path.read_text().startswith(MARKER) and path.read_text() != wanted
        ):
            path.write_text(wanted)
    return home


def open_instance(settings: Settings | None = None, in_process: bool = False) -> dg.DagsterInstance:
    """The persistent instance of the data dir (close it, or use it as a context manager).
    `in_process`: the same storage, without Dagster's capture of the steps' output."""
    home = ensure_home(settings)
    return dg.DagsterInstance.from_config(str(home), IN_PROCESS if in_process else "dagster.yaml")


def ui_environment(settings: Settings, loader_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the webserver and daemon of this data dir (and so of the runs
    they launch): its DAGSTER_HOME and data dir, the loaders' settings, telemetry off."""
    return {
        **os.environ,
        **(loader_env or {}),
        **settings.dbt_env(),
        "DAGSTER_HOME": str(ensure_home(settings)),
        "XM_SCHEDULES": "on" if settings.schedules else "off",
        "DAGSTER_DISABLE_TELEMETRY": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "GX_ANALYTICS_ENABLED": "false",
    }


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _workspace(settings: Settings | None) -> list[str]:
    return ["-w", str(ensure_home(settings) / "workspace.yaml")]


def ui_command(
    host: str = "127.0.0.1", port: int = 3000, settings: Settings | None = None
) -> list[str]:
    """`dagster dev`: the webserver, the daemon (schedules, sensors, run queue) and the code
    server, as one process tree."""
    return [_bin("dagster"), "dev", *_workspace(settings), "--host", host, "--port", str(port)]


def daemon_command(settings: Settings | None = None) -> list[str]:
    """`dagster-daemon run` alone (production runs it and `dagster-webserver` as services)."""
    return [_bin("dagster-daemon"), "run", *_workspace(settings)]


def webserver_command(
    host: str = "127.0.0.1", port: int = 3000, settings: Settings | None = None
) -> list[str]:
    return [_bin("dagster-webserver"), *_workspace(settings), "--host", host, "--port", str(port)]
