"""A throwaway PostgreSQL server for development and the test suite (`xm postgres start`).

Finds the server binaries (Debian's `postgresql` package; installed with apt-get when
missing and we are root or have password-less sudo), creates a cluster in a directory of
ours with `initdb`, and starts it on loopback. Runs the server as the `postgres` system user
when we are root (PostgreSQL refuses to run as root). The cluster uses the C collation and
UTC, so text ordering and time zones match DuckDB's.

This is for a laptop or CI. A real deployment points the PG* variables (PGHOST, PGUSER, ...) at its own server.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "xm"
DATABASE = "warehouse"


class LocalPostgresError(RuntimeError):
    pass


def _bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def ensure_installed(echo=print) -> Path:
    """The directory holding initdb/pg_ctl; installs Debian's postgresql package if needed."""
    bindir = _bindir()
    if bindir:
        return bindir
    apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
    if shutil.which("apt-get") is None or (os.geteuid() != 0 and shutil.which("sudo") is None):
        raise LocalPostgresError(
            "PostgreSQL server binaries not found and apt-get is not usable here: install "
            "PostgreSQL (initdb, pg_ctl) or set PGHOST, PGUSER, PGPASSWORD and PGDATABASE for a running server."
        )
    echo("installing PostgreSQL with apt-get (Debian's postgresql package) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        [*apt, "update", "-qq"],
        [*apt, "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
    ):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise LocalPostgresError(
                f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
    bindir = _bindir()
    if bindir is None:
        raise LocalPostgresError("apt-get installed postgresql but initdb was not found")
    return bindir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalPostgres:
    """A cluster in `directory` (data in `directory/data`, socket and log beside it)."""

    directory: Path
    port: int = 54329
    password: str = "xm-local"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:  # the server refuses to run as root: use the postgres user
            args = ["runuser", "-u", "postgres", "--", *args]
        proc = subprocess.run(args, capture_output=True, text=True)
        if check and proc.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise LocalPostgresError(
                f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}{tail}"
            )
        return proc

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def is_running(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self, echo=print) -> LocalPostgres:
        bindir = ensure_installed(echo)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._chown(self.directory)
        if not (self.data / "PG_VERSION").exists():
            echo(f"initdb {self.data} ...")
            pwfile = self.directory / ".pwfile"
            pwfile.write_text(self.password + "\n")
            self._chown(pwfile)
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            )
            pwfile.unlink()
        if self.is_running():
            raise LocalPostgresError(f"port {self.port} is already in use")
        self.log.touch()
        self._chown(self.log)
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c TimeZone=UTC -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=50 -c shared_buffers=256MB -c work_mem=64MB"
        )
        self._run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "start",
            ]
        )
        self._create_database()
        echo(f"PostgreSQL running: {self.dsn}")
        return self

    def _create_database(self) -> None:
        import psycopg2

        for _ in range(50):
            try:
                con = psycopg2.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=SUPERUSER,
                    password=self.password,
                    dbname="postgres",
                )
                break
            except psycopg2.OperationalError:
                time.sleep(0.2)
        else:
            raise LocalPostgresError(f"server on port {self.port} did not accept connections")
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute("select 1 from pg_database where datname = %s", [DATABASE])
                if cur.fetchone() is None:
                    cur.execute(f"create database {DATABASE}")
        finally:
            con.close()

    def stop(self) -> None:
        bindir = _bindir()
        if bindir and (self.data / "postmaster.pid").exists():
            self._run(
                [str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                check=False,
            )
