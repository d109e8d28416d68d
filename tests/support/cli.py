"""Running `xm` as a user does (a subprocess of this interpreter, this checkout first on the
path), and fingerprints of a data dir to show a failed command left it as it was."""

from __future__ import annotations

import contextlib
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


def group_members(pgid: int) -> list[str]:
    """'pid command line' of every live process in process group `pgid` (zombies aside)."""
    import psutil

    out = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])}")
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return out


def run_xm_alone(
    *args: str, env: dict[str, str], out_dir: Path, timeout: float = 600
) -> tuple[Ran, list[str]]:
    """`xm args` in a process group (and session) of its own, its output in files (a process
    left behind holding a pipe would not block the caller): (what it did, the processes still
    in its group a moment after it exited)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (out_dir / "stdout").open("w") as out, (out_dir / "stderr").open("w") as err:
        proc = subprocess.Popen(
            xm_argv(*args),
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            raise
    seconds = time.monotonic() - started
    time.sleep(1)  # a process that outlives the command would still be here
    left = group_members(proc.pid)
    for line in left:  # leave nothing running after the test either
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), 9)
    ran = Ran(code, (out_dir / "stdout").read_text(), (out_dir / "stderr").read_text(), seconds)
    return ran, left


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
