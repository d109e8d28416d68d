"""Running dbt on the project's `dbt/` folder against the configured warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from warehouse.settings import DBT_DIR, Settings


class DbtError(RuntimeError):
    """A dbt command failed; the message carries dbt's own output."""


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project venv), else whatever is on PATH."""
    return (
        shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt") or "dbt"
    )


def dbt_vars(settings: Settings) -> list[str]:
    """The `--vars` of every dbt command on the project: the resolved data dir, which the
    DuckDB profile reads (dagster-dbt runs dbt inside dbt/, where a relative XM_DATA_DIR would
    point elsewhere). One value for every command, so that each reuses the last one's partial
    parse: dbt parses the whole project again whenever `--vars` differ (~6 s at every build)."""
    return ["--vars", json.dumps({"xm_data_dir": str(settings.data_dir)})]


def _command(args: list[str], settings: Settings | None) -> tuple[list[str], dict[str, str]]:
    """The dbt command line on the project, and its environment (the warehouse's settings)."""
    settings = settings or Settings.from_env()
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    project = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    extra = [] if "--vars" in args else dbt_vars(settings)
    cmd = [dbt_executable(), *args, *extra, *project]
    return cmd, env


def run_dbt(
    args: list[str], echo: Callable[[str], None] = print, settings: Settings | None = None
) -> None:
    """Run a dbt command on the project against the warehouse; raise with dbt's output on failure."""
    cmd, env = _command(args, settings)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if any(word in line for word in (" OK ", "ERROR", "FAIL", "WARN", "Completed")):
            echo(f"[dbt] {line.split('  ', 1)[-1].strip()}")
    if proc.returncode != 0:
        raise DbtError(
            f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
        )


class DbtRun:
    """A dbt command running in the background (`start_dbt`): `wait()` for it, or `stop()` it."""

    def __init__(self, args: list[str], settings: Settings | None = None) -> None:
        import tempfile

        cmd, env = _command(args, settings)
        self.args = args
        # a file, not a pipe: dbt never blocks on it
        self._out = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by wait() / stop()
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT
        )

    def wait(self) -> None:
        """Block until dbt ends; raise with its output when it failed."""
        code = self.proc.wait()
        self._out.seek(0)
        output = self._out.read()
        self._out.close()
        if code != 0:
            raise DbtError(f"dbt {' '.join(self.args)} failed:\n{output[-8000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self._out.closed:
            self._out.close()


def start_dbt(args: list[str], settings: Settings | None = None) -> DbtRun:
    """Start a dbt command on the project in the background (see `DbtRun`)."""
    return DbtRun(args, settings)


def parse_project(settings: Settings | None = None) -> Path:
    """`dbt parse` when the manifest is missing or older than the project's files: the Dagster
    definitions are built from it (under `dg dev`, `prepare_if_dev()` does the same)."""
    manifest = DBT_DIR / "target" / "manifest.json"
    files = [p for d in ("models", "macros", "seeds", "tests") for p in (DBT_DIR / d).rglob("*")]
    files += [DBT_DIR / "dbt_project.yml", DBT_DIR / "profiles.yml"]
    newest = max(p.stat().st_mtime for p in files if p.is_file())
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        run_dbt(["parse", "--quiet"], echo=lambda _: None, settings=settings)
    return manifest


def mart_names() -> list[str]:
    """The marts, as dbt declares them: the models of the `marts` schema, from the manifest."""
    import json

    nodes = json.loads(parse_project().read_text())["nodes"].values()
    return sorted(
        n["name"]
        for n in nodes
        if n["resource_type"] == "model" and n["config"].get("schema") == "marts"
    )
