"""README's "Using it" section runs: every command of every code block in it, in order, in a
temporary data dir, against the simulator the block starts.

Commands run as written, with three substitutions a test needs: `.venv/bin/xm` is this
interpreter's `xm`, the simulator's port 8765 is a free port (XM_SIMULATOR_URL says so to
commands without a URL), and `--scale 1` is the test scale. A command ending in `&`, or one
that serves (simulator, docs, dashboard, UI), runs in the background and must still be up
when the block ends; every other command must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from simulator.server import free_port
from tests.support.cli import ROOT, xm_argv, xm_env

pytestmark = pytest.mark.e2e

SERVERS = re.compile(r"\b(simulate serve|docs serve|dashboard|dev|ui)\b")


def using_it_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """The commands of the code blocks in README's "## Using it" (up to the next "## ")."""
    text = readme.read_text()
    section = text.split("\n## Using it", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```[^\n]*\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            command = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_the_section_has_commands():
    commands = using_it_commands()
    assert any("ingest" in c for c in commands) and any("refresh" in c for c in commands)


def _argv(command: str, port: int) -> list[str]:
    command = command.replace("127.0.0.1:8765", f"127.0.0.1:{port}")
    command = re.sub(r"--scale\s+1\b", "--scale 0.05", command)
    words = shlex.split(command.rstrip("&").strip())
    assert words[0].endswith("xm"), f"not an xm command: {command}"
    args = words[1:]
    if args[:2] == ["simulate", "serve"] and "--port" not in args:
        args += ["--port", str(port)]
    return xm_argv(*args)


@pytest.mark.timeout(3600)  # a first load and a dbt build, on a shared 2-core machine
def test_every_using_it_command_runs(tmp_path):
    port = free_port()
    env = xm_env(
        XM_DATA_DIR=str(tmp_path / "data"),
        XM_SIMULATOR_URL=f"http://127.0.0.1:{port}",
    )
    background: list[tuple[str, subprocess.Popen]] = []
    log = tmp_path / "commands.log"
    try:
        with log.open("w") as out:
            for command in using_it_commands():
                out.write(f"$ {command}\n")
                out.flush()
                argv = _argv(command, port)
                if command.endswith("&") or SERVERS.search(command):
                    proc = subprocess.Popen(
                        argv,
                        env=env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                    background.append((command, proc))
                    if "simulate serve" in command:
                        _wait_for_simulator(port, proc)
                    continue
                ran = subprocess.run(
                    argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1800
                )
                out.write(ran.stdout + ran.stderr)
                assert ran.returncode == 0, f"`{command}` failed:\n{ran.stdout}\n{ran.stderr}"
                assert "Traceback" not in ran.stdout + ran.stderr, command
        for command, proc in background:
            assert proc.poll() is None, f"`{command}` stopped: see {log}"
    finally:
        for _, proc in background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
    text = log.read_text()
    # what the section promises to show
    assert "first load: full history" in text
    assert "incremental from the stored cursors" in text
    assert "published_marts" in text and "done in" in text


def _wait_for_simulator(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the simulator exited"
        try:
            requests.get(f"http://127.0.0.1:{port}/_sim/status", timeout=5).raise_for_status()
            return
        except requests.RequestException:
            time.sleep(1)
    raise AssertionError("the simulator did not come up")
