"""Published releases on DuckDB: one release, one pointer (warehouse/publish.py).

Each publish writes a complete, immutable release and makes it current by one symlink swap;
readers that resolve the pointer once read one release throughout; superseded releases stay
for a grace period; a publish killed at any step leaves the DuckDB file and the Parquet set on
one release and its leftovers are removed by the next publish. Paths are SQL parameters: a
data dir with spaces and an apostrophe publishes, and on DuckDB XM_DATA_DIR with an
apostrophe is refused up front (dlt's loader cannot load from it) in one line.

These tests use a small synthetic warehouse (a `marts` schema of a dozen tables), so they
need no simulator run; the Dagster tests publish the real marts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from warehouse import publish as pub
from warehouse.settings import Settings, WarehouseConfigError

ROOT = Path(__file__).resolve().parent.parent
TABLES = [f"mart_{i:02d}" for i in range(12)]


def make_warehouse(data_dir: Path, rows: int = 2000) -> None:
    """A warehouse file holding only `marts.*`: TABLES, with comments like dbt's."""
    data_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        con.execute("create schema if not exists marts")
        for i, table in enumerate(TABLES):
            con.execute(
                f"create or replace table marts.{table} as select range as id, "
                f"'row ' || range as label, range * {i + 1}.5 as amount from range({rows + i})"
            )
            con.execute(f"comment on table marts.{table} is 'mart number {i}, it''s a test'")
            con.execute(f"comment on column marts.{table}.amount is 'an amount'")
    finally:
        con.close()


def settings_for(data_dir: Path, grace_hours: float = 24.0) -> Settings:
    # built directly: Settings.from_env refuses an apostrophe (for dlt), publish needs none
    return Settings(data_dir=data_dir, release_grace_hours=grace_hours)


def run_ids_of_duckdb(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        ids: set[str] = set()
        for table in TABLES:
            ids |= {
                r[0]
                for r in con.execute(f"select distinct _published_run_id from {table}").fetchall()
            }
        return ids
    finally:
        con.close()


def run_ids_of_parquet(folder: Path) -> set[str]:
    with duckdb.connect() as con:
        return {
            r[0]
            for r in con.execute(
                "select distinct _published_run_id from read_parquet(?)",
                [str(folder / "*.parquet")],
            ).fetchall()
        }


# --------------------------------------------------------------------------- layout


def test_a_release_is_complete_immutable_and_current_by_one_pointer(tmp_path):
    data_dir = tmp_path / "it's a data dir with spaces"
    make_warehouse(data_dir)
    settings = settings_for(data_dir)
    first = pub.publish_duckdb("run-1", settings=settings)
    counts = pub.publish_duckdb("run-2", settings=settings)
    assert counts == {t: 2000 + i for i, t in enumerate(TABLES)}

    out = data_dir / "published"
    release = pub.current_release(settings)
    assert release is not None and release.parent == out / "releases"
    assert os.readlink(out / "current") == f"releases/{release.name}"
    assert os.readlink(out / "marts.duckdb") == "current/marts.duckdb"
    assert os.readlink(out / "parquet") == "current/parquet"
    manifest = pub.read_manifest(release)
    assert manifest["run_id"] == "run-2" and manifest["release"] == release.name
    assert manifest["tables"] == counts and first == counts
    assert dt.datetime.fromisoformat(manifest["published_at"]).tzinfo is not None
    # every file of a release is read-only; the DuckDB file and the Parquet set hold one run
    files = [p for p in release.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"marts.duckdb", "manifest.json"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o444 for p in files)
    assert run_ids_of_duckdb(pub.snapshot_path(settings)) == {"run-2"}
    assert run_ids_of_parquet(out / "parquet") == {"run-2"}
    with duckdb.connect(str(release / "marts.duckdb"), read_only=True) as con:
        for table, n in counts.items():
            assert con.execute(f"select count(*) from {table}").fetchone() == (n,)
            assert (
                con.execute("select comment from duckdb_tables() where table_name = ?", [table])
                .fetchone()[0]
                .endswith("it's a test")
            )
    # the previous release is still there (grace period), complete, on its own run
    older = [r for r in (out / "releases").iterdir() if r != release]
    assert len(older) == 1 and pub.read_manifest(older[0])["run_id"] == "run-1"
    assert run_ids_of_parquet(older[0] / "parquet") == {"run-1"}


def test_the_release_file_is_readable_by_duckdb_1x(tmp_path):
    """Written with storage_compatibility_version v1.0.0, so BI drivers on DuckDB 1.x open it."""
    make_warehouse(tmp_path / "data", rows=10)
    settings = settings_for(tmp_path / "data")
    pub.publish_duckdb("run-1", settings=settings)
    with duckdb.connect(str(pub.snapshot_path(settings)), read_only=True) as con:
        (version,) = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 'marts'"
        ).fetchone()
    assert version.startswith("v1."), version


def test_superseded_releases_are_removed_after_the_grace_period(tmp_path):
    data_dir = tmp_path / "data"
    make_warehouse(data_dir, rows=10)
    out = data_dir / "published"
    kept = settings_for(data_dir, grace_hours=24)
    for i in range(3):
        pub.publish_duckdb(f"run-{i}", settings=kept)
    assert len(list((out / "releases").iterdir())) == 3
    # grace counts from when a release stopped being current (its successor's publish):
    # "ancient" was superseded by "old" long ago and goes; "old" was superseded by run-0 a
    # moment ago and stays, however old it is itself
    (out / "releases" / "20000101T000000000000Z-ancient").mkdir()
    (out / "releases" / "20000102T000000000000Z-old").mkdir()
    pub.publish_duckdb("run-3", settings=dataclasses.replace(kept, release_grace_hours=1))
    names = sorted(p.name for p in (out / "releases").iterdir())
    assert not any(n.endswith("-ancient") for n in names), names
    assert names[0].endswith("-old") and len(names) == 5, names
    # grace 0: only the current release remains after a publish
    pub.publish_duckdb("run-4", settings=settings_for(data_dir, grace_hours=0))
    releases = list((out / "releases").iterdir())
    assert releases == [pub.current_release(kept)]
    assert pub.read_manifest(releases[0])["run_id"] == "run-4"


def test_leftovers_of_killed_publishes_and_the_old_layout_are_cleaned(tmp_path):
    data_dir = tmp_path / "data"
    make_warehouse(data_dir, rows=10)
    out = data_dir / "published"
    settings = settings_for(data_dir, grace_hours=0)
    # the previous layout: a plain file, a link to parquet-<run>, a stray build file
    (out / "parquet-old").mkdir(parents=True)
    (out / "parquet-old" / "x.parquet").write_text("old")
    (out / "parquet").symlink_to("parquet-old")
    (out / "marts.duckdb").write_text("old snapshot")
    (out / ".publishing-dead.duckdb").write_text("half")
    pub.publish_duckdb("run-1", settings=settings)
    assert os.readlink(out / "marts.duckdb") == "current/marts.duckdb"
    assert os.readlink(out / "parquet") == "current/parquet"
    assert not (out / "parquet-old").exists() and not (out / ".publishing-dead.duckdb").exists()
    # a killed publish: a build folder, a complete release never switched to, a stray link
    (out / ".publishing-20990101T000000000000Z-dead" / "parquet").mkdir(parents=True)
    never = out / "releases" / "20990101T000000000000Z-never-current"
    never.mkdir()
    (out / ".current.link").symlink_to("releases/nowhere")
    assert pub.current_release(settings).name < never.name
    pub.publish_duckdb("run-2", settings=settings)
    leftovers = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert leftovers == [] and not never.exists()
    assert [pub.read_manifest(r)["run_id"] for r in (out / "releases").iterdir()] == ["run-2"]


# --------------------------------------------------------------------------- paths in SQL


def test_data_dir_with_an_apostrophe_is_refused_up_front_in_one_line():
    with pytest.raises(WarehouseConfigError) as e:
        Settings.from_env({"XM_DATA_DIR": "/tmp/xm data/it's here"})
    message = str(e.value)
    assert "\n" not in message and "apostrophe" in message and "dlt" in message
    assert "read_parquet" in message
    # spaces are fine; on PostgreSQL dlt reads no file by path in SQL, so it is accepted there
    assert Settings.from_env({"XM_DATA_DIR": "/tmp/xm data/with spaces"}).data_dir.name == (
        "with spaces"
    )
    pg = {"XM_TARGET": "postgres", "PGHOST": "h", "PGUSER": "u", "PGDATABASE": "d"}
    assert Settings.from_env({**pg, "XM_DATA_DIR": "/tmp/it's"}).target == "postgres"
    with pytest.raises(WarehouseConfigError, match="XM_RELEASE_GRACE_HOURS"):
        Settings.from_env({"XM_RELEASE_GRACE_HOURS": "a day"})


def test_the_cli_refuses_an_apostrophe_with_one_line(tmp_path):
    env = {**os.environ, "XM_DATA_DIR": str(tmp_path / "it's"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", "from xm.cli import app; app()", "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "apostrophe" in lines[0], proc.stderr
    assert not (tmp_path / "it's").exists()


# --------------------------------------------------------------------------- readers


READER = textwrap.dedent(
    """
    import glob, json, os, sys, time, pathlib, duckdb
    kind, published, stop, out = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]), sys.argv[4]
    passes, errors, mixed, releases = 0, [], [], set()
    con = duckdb.connect()
    while not stop.exists():
        try:
            if kind == "duckdb":
                # one open of the stable path: the file of one release, whatever follows
                db = duckdb.connect(str(published / "marts.duckdb"), read_only=True)
                try:
                    tables = [r[0] for r in db.execute(
                        "select table_name from information_schema.tables "
                        "where table_schema = 'main' and not starts_with(table_name, '_')").fetchall()]
                    ids = set()
                    for t in tables:
                        ids |= {r[0] for r in db.execute(f"select distinct _published_run_id from {t}").fetchall()}
                        counted = db.execute(f"select count(*) from {t}").fetchone()[0]
                    expected = {db.execute("select run_id from _publish_info").fetchone()[0]}
                finally:
                    db.close()
            else:
                # resolve the pointer once per pass, then read only under that release
                release = (published / os.readlink(published / "current")).resolve()
                manifest = json.loads((release / "manifest.json").read_text())
                expected = {manifest["run_id"]}
                ids = set()
                if kind == "parquet-files":
                    for name, rows in sorted(manifest["tables"].items()):
                        path = str(release / "parquet" / f"{name}.parquet")
                        got = con.execute("select count(*), min(_published_run_id), max(_published_run_id) from read_parquet(?)", [path]).fetchone()
                        ids |= {got[1], got[2]}
                        if got[0] != rows:
                            errors.append(f"{name}: {got[0]} rows, manifest says {rows}")
                else:  # a glob over the folder
                    ids = {r[0] for r in con.execute(
                        "select distinct _published_run_id from read_parquet(?)",
                        [str(release / "parquet" / "*.parquet")]).fetchall()}
            passes += 1
            releases |= ids
            if len(ids) != 1 or ids != expected:
                mixed.append(sorted(ids | expected))
        except Exception as e:
            errors.append(repr(e))
    json.dump({"passes": passes, "errors": errors, "mixed": mixed, "runs": sorted(releases)}, open(out, "w"))
    """
)


@pytest.mark.slow
def test_readers_during_publishes_see_one_release_per_read(tmp_path):
    data_dir = tmp_path / "data dir"
    make_warehouse(data_dir, rows=5_000)
    settings = settings_for(data_dir)
    pub.publish_duckdb("run-00", settings=settings)
    published = data_dir / "published"
    stop = tmp_path / "stop"
    kinds = ("duckdb", "parquet-files", "parquet-glob")
    readers = {
        kind: subprocess.Popen(
            [sys.executable, "-c", READER, kind, str(published), str(stop), str(tmp_path / kind)]
        )
        for kind in kinds
    }
    publishes = 24
    try:
        time.sleep(1.0)
        for i in range(1, publishes + 1):
            pub.publish_duckdb(f"run-{i:02d}", settings=settings)
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=120)
    reports = {kind: json.loads((tmp_path / kind).read_text()) for kind in kinds}
    summary = {
        k: (r["passes"], len(r["runs"]), len(r["errors"]), len(r["mixed"]))
        for k, r in reports.items()
    }
    print("passes, releases seen, errors, mixed reads per reader:", summary)
    for kind, report in reports.items():
        assert report["errors"] == [], (kind, report["errors"][:5])
        assert report["mixed"] == [], (kind, report["mixed"][:5])
        assert report["passes"] >= 20, (kind, report["passes"])
        assert len(report["runs"]) >= 3, f"{kind} did not read across publishes: {report['runs']}"


# --------------------------------------------------------------------------- kills

KILLED_PUBLISH = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from warehouse import publish as pub
    from warehouse.settings import Settings
    step, nth, run_id, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    seen = {}
    def checkpoint(name):
        seen[name] = seen.get(name, 0) + 1
        if name == step and seen[name] == nth:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally: a real kill
    pub._checkpoint = checkpoint
    pub.publish_duckdb(run_id, settings=Settings(data_dir=data_dir, release_grace_hours=0))
    print("not killed")
    """
)
# every checkpoint of publish_duckdb, in order (the nth "table" one: after that many tables)
STEPS = [
    ("cleaned", 1),
    ("building", 1),
    ("table", 1),
    ("table", len(TABLES) // 2),
    ("table", len(TABLES)),
    ("written", 1),
    ("sealed", 1),
    ("renamed", 1),
    ("switched", 1),
    ("linked", 1),
    ("expired", 1),
]
SWITCHED = {"switched", "linked", "expired"}


@pytest.mark.slow
def test_a_publish_killed_at_any_step_leaves_duckdb_and_parquet_on_one_release(tmp_path):
    data_dir = tmp_path / "data dir"
    make_warehouse(data_dir, rows=500)
    settings = settings_for(data_dir, grace_hours=0)
    pub.publish_duckdb("good-0", settings=settings)
    published = data_dir / "published"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    last_good = "good-0"
    for i, (step, nth) in enumerate(STEPS):
        run_id = f"killed-{i}-{step}"
        proc = subprocess.run(
            [sys.executable, "-c", KILLED_PUBLISH, step, str(nth), run_id, str(data_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == -9, (step, nth, proc.returncode, proc.stdout, proc.stderr)
        expected = run_id if step in SWITCHED else last_good
        # what a reader of the stable paths and of the pointer finds now
        release = pub.current_release(settings)
        assert pub.read_manifest(release)["run_id"] == expected, (step, nth)
        assert run_ids_of_duckdb(published / "marts.duckdb") == {expected}, (step, nth)
        assert run_ids_of_parquet(published / "parquet") == {expected}, (step, nth)
        assert run_ids_of_parquet(release / "parquet") == {expected}, (step, nth)
        last_good = expected
        # the next good publish removes whatever the killed one left
        pub.publish_duckdb(f"good-{i + 1}", settings=settings)
        last_good = f"good-{i + 1}"
        assert sorted(p.name for p in published.iterdir() if p.name.startswith(".")) == []
        assert [r.name for r in (published / "releases").iterdir()] == [
            pub.current_release(settings).name
        ], step
        assert run_ids_of_duckdb(published / "marts.duckdb") == {last_good}
        assert run_ids_of_parquet(published / "parquet") == {last_good}
