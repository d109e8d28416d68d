"""Throwaway virtual environments for tools whose pins conflict with the project's
(Superset: SQLAlchemy < 2, pandas < 2.2, DuckDB < 2) and for testing old clients.

Built with uv when the project's environment has it (fast, cached), else with venv + pip.
Nothing is imported from such an environment: it is only run as a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


class VenvError(RuntimeError):
    pass


def _uv() -> str | None:
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def python_of(directory: Path) -> Path:
    return directory / "bin" / "python"


def build_venv(
    directory: Path,
    requirements: list[str],
    python: str | None = None,
    echo=print,
) -> Path:
    """Create `directory` as a virtual environment with `requirements` installed (pip syntax,
    e.g. "duckdb<2"; "-c file" constraints allowed); returns its python. Idempotent: an
    existing environment is installed into again (a no-op when satisfied)."""
    directory = Path(directory)
    python = python or sys.executable
    uv = _uv()
    env = {**os.environ}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)  # the project's own modules must not leak into the tool's env
    if not python_of(directory).exists():
        echo(f"creating a virtual environment in {directory} ...")
        cmd = (
            [uv, "venv", "--quiet", "--python", python, str(directory)]
            if uv
            else [python, "-m", "venv", str(directory)]
        )
        _run(cmd, env)
    echo(f"installing {' '.join(requirements)} into {directory} ...")
    if uv:
        cmd = [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python_of(directory)),
            *requirements,
        ]
    else:
        cmd = [str(python_of(directory)), "-m", "pip", "install", "--quiet", *requirements]
    _run(cmd, env)
    return python_of(directory)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise VenvError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
