"""Running `xm` as a user does (a subprocess of this interpreter, this checkout first on the
path), and fingerprints of a data dir to show a failed command left it as it was."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Ran:
    code: int
    out: str
    err: str
    seconds: float

    def __str__(self) -> str:
        return (
            f"exit {self.code} after {self.seconds:.1f}s\nstdout:\n{self.out}\nstderr:\n{self.err}"
        )


def xm_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env.setdefault("COLUMNS", "200")  # help texts and progress lines unwrapped
    return env


def xm_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "xm", *args]


def run_xm(*args: str, env: dict[str, str], timeout: float = 600, wrap=None) -> Ran:
    """`xm args` to completion. `wrap(argv) -> argv` runs it under something (e.g. unshare)."""
    argv = xm_argv(*args)
    if wrap is not None:
        argv = wrap(argv)
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def assert_one_line_failure(ran: Ran, *words: str) -> str:
    """A non-zero exit with exactly one line on stderr (naming `words`), no traceback."""
    assert ran.code != 0, ran
    lines = [line for line in ran.err.splitlines() if line.strip()]
    assert len(lines) == 1, ran
    assert "Traceback" not in ran.out + ran.err, ran
    line = lines[0]
    assert line.startswith("error: "), ran
    for word in words:
        assert word.lower() in line.lower(), (word, line)
    return line


def fingerprint(*paths: Path) -> dict[str, str]:
    """{relative path: sha256 of the bytes, or the target of a symlink} under each path."""
    out: dict[str, str] = {}
    for root in paths:
        if not root.exists() and not root.is_symlink():
            out[str(root)] = "absent"
            continue
        items = [root] if not root.is_dir() or root.is_symlink() else sorted(root.rglob("*"))
        for path in items:
            key = str(path)
            if path.is_symlink():
                out[key] = "-> " + os.readlink(path)
            elif path.is_file():
                out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.is_dir():
                out[key] = "dir"
    return out
