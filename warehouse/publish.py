"""Publish the marts as read-only releases that BI tools read while the pipeline runs.

On DuckDB (the default target) every publish writes one complete, immutable release and
makes it current with one atomic switch:

    $XM_DATA_DIR/published/
      releases/<stamp>-<run id>/      one release: never changed once written
        marts.duckdb                    the marts in `main` (the catalog is `marts`), mode 0444
        parquet/<mart>.parquet          the same tables, one file each, mode 0444
        manifest.json                   run id, release, published_at, row count per table
      current -> releases/<...>       THE pointer: swapped by os.replace, nothing else moves
      marts.duckdb -> current/marts.duckdb   stable paths through the pointer, for tools
      parquet -> current/parquet             that take one path

A release is built in `.publishing-<name>/`, sealed (files 0444), renamed into `releases/`
and then made current by replacing the `current` symlink (rename(2): atomic). A reader that
resolves `current` once (`current_release()`, or opening `marts.duckdb`, one file) reads one
release throughout, because a superseded release stays on disk for `XM_RELEASE_GRACE_HOURS`
(default 24) after the switch before it is removed. Whatever a killed publish leaves behind
(`.publishing-*`, a release renamed in but never made current) is removed by the next one.
Stamping every row with the run id makes a mixed read detectable; DuckDB's writer lock is on
the warehouse file, never on a release, so readers never block the pipeline.

On PostgreSQL (`XM_TARGET=postgres`) the marts are copied into the schema `published_next`
and swapped in as `published` with two schema renames in one transaction: see
`publish_postgres`. On Spark (`XM_TARGET=spark`) the marts leave the cluster as Parquet and
become the same snapshot as on DuckDB: see `publish_spark`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.settings import Settings

SNAPSHOT_NAME = "marts.duckdb"
PARQUET_DIR = "parquet"
MANIFEST_NAME = "manifest.json"
RELEASES_DIR = "releases"
CURRENT_LINK = "current"
BUILDING_PREFIX = ".publishing-"
RUN_ID_COLUMN = "_published_run_id"
STORAGE_VERSION = "v1.0.0"  # readable by DuckDB 1.0 and later (docs/bi.md)
_STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"


def snapshot_path(settings: Settings | None = None) -> Path:
    """The stable path of the published DuckDB file (a symlink through `current`)."""
    return (settings or Settings.from_env()).published_dir / SNAPSHOT_NAME


def current_release(settings: Settings | None = None) -> Path | None:
    """The current release's directory, resolved once: read every file of one read under it."""
    link = (settings or Settings.from_env()).published_dir / CURRENT_LINK
    try:
        target = os.readlink(link)
    except (FileNotFoundError, OSError):
        return None
    return (link.parent / target).resolve()


def read_manifest(release: Path) -> dict:
    return json.loads((release / MANIFEST_NAME).read_text())


def published_location(settings: Settings | None = None) -> str:
    """Where BI finds the published marts, for logs and asset metadata."""
    settings = settings or Settings.from_env()
    if settings.target == "postgres":
        return "schema published (PostgreSQL)"
    return str(snapshot_path(settings))


CHECKS_TABLE = "_check_results"  # the checks of the publishing run (see CheckResult)
CHECK_COLUMNS = ("asset", "check_name", "passed", "severity", "description")


@dataclass(frozen=True)
class CheckResult:
    """One check the publishing run evaluated before it published: its asset, name, whether
    it passed, its severity (ERROR blocks a publish, WARN does not) and what it checks.
    Published in `_check_results`, so readers of a release see which checks warned."""

    asset: str
    check_name: str
    passed: bool
    severity: str
    description: str = ""


def publish(
    run_id: str,
    marts: list[str] | None = None,
    settings: Settings | None = None,
    checks: list[CheckResult] | None = None,
) -> dict[str, int]:
    """Publish `marts.*` (all, or those named) the target engine's way, with the run's check
    results beside them (`_check_results`, empty when none are given). Returns row counts."""
    settings = settings or Settings.from_env()
    if settings.target == "postgres":
        from warehouse.publish_postgres import publish_postgres

        return publish_postgres(run_id, marts, settings, checks)
    if settings.target == "spark":
        from warehouse.publish_spark import publish_spark

        return publish_spark(run_id, marts, settings, checks)
    return publish_duckdb(run_id, marts, settings, checks)


def _checkpoint(step: str) -> None:
    """Called between the steps of a DuckDB publish. Does nothing; the tests replace it to
    kill the publishing process at every step and check what readers are left with."""


def publish_duckdb(
    run_id: str,
    marts: list[str] | None = None,
    settings: Settings | None = None,
    checks: list[CheckResult] | None = None,
    source: Path | None = None,
) -> dict[str, int]:
    """Write `marts.*` from the warehouse (or the DuckDB file `source`: Spark's export) as a
    new release and make it current. Row counts."""
    settings = settings or Settings.from_env()
    out = settings.published_dir
    (out / RELEASES_DIR).mkdir(parents=True, exist_ok=True)
    clean_leftovers(settings)
    _checkpoint("cleaned")

    published_at = dt.datetime.now(dt.UTC)
    name = f"{published_at.strftime(_STAMP_FORMAT)}-{_safe_name(run_id)}"
    building = out / f"{BUILDING_PREFIX}{name}"
    (building / PARQUET_DIR).mkdir(parents=True)
    _checkpoint("building")
    counts = _write_release(building, run_id, marts, settings, published_at, checks or [], source)
    manifest = {
        "run_id": run_id,
        "release": name,
        "published_at": published_at.isoformat(),
        "tables": counts,
        "duckdb": SNAPSHOT_NAME,
        "parquet": {t: f"{PARQUET_DIR}/{t}.parquet" for t in counts},
    }
    (building / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    _checkpoint("written")
    for path in building.rglob("*"):
        if path.is_file():
            os.chmod(path, 0o444)
    _checkpoint("sealed")

    release = out / RELEASES_DIR / name
    os.rename(building, release)  # complete, but not current until the switch
    _checkpoint("renamed")
    _replace_symlink(out / CURRENT_LINK, f"{RELEASES_DIR}/{name}")  # THE switch
    _checkpoint("switched")
    _ensure_stable_links(out)
    _checkpoint("linked")
    remove_expired_releases(settings)
    _checkpoint("expired")
    return counts


def _write_release(
    building: Path,
    run_id: str,
    marts: list[str] | None,
    settings: Settings,
    published_at: dt.datetime,
    checks: list[CheckResult],
    source: Path | None = None,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    # the storage format every supported client reads: DuckDB 1.x (BI tools embed it) cannot
    # open 2.0's default format; tests/test_bi_clients.py opens the snapshot with duckdb<2
    con = duckdb.connect(
        str(building / SNAPSHOT_NAME),
        config={"storage_compatibility_version": STORAGE_VERSION, **settings.duckdb_config},
    )
    try:
        # paths are parameters, never spliced into the SQL (a data dir may hold any character)
        con.execute("attach ? as wh (read_only)", [str(source or settings.warehouse_path)])
        available = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'wh' and table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        tables = [m for m in (marts or available) if m in available]
        for table in tables:
            ident = _ident(table)
            con.execute(
                f"create table {ident} as "
                f"select *, cast(? as varchar) as {RUN_ID_COLUMN} from wh.marts.{ident}",
                [run_id],
            )
            _copy_comments(con, table)
            counts[table] = con.execute(f"select count(*) from {ident}").fetchone()[0]
            con.execute(
                f"copy {ident} to ? (format parquet)",
                [str(building / PARQUET_DIR / f"{table}.parquet")],
            )
            _checkpoint("table")
        con.execute(
            "create table _publish_info as select ? as run_id, ? as published_at",
            [run_id, published_at],
        )
        con.execute(
            f"create table {CHECKS_TABLE} (asset varchar, check_name varchar, passed boolean, "
            "severity varchar, description varchar)"
        )
        if checks:
            con.executemany(
                f"insert into {CHECKS_TABLE} values (?, ?, ?, ?, ?)",
                [[getattr(c, k) for k in CHECK_COLUMNS] for c in checks],
            )
        con.execute("detach wh")
    finally:
        con.close()
    return counts


def clean_leftovers(settings: Settings | None = None) -> list[Path]:
    """Remove what killed publishes left: build folders (`.publishing-*`, and the single
    files of the old layout), releases renamed in but never made current, stray link files.
    Nothing here was ever reachable through `current`. Returns what was removed."""
    out = (settings or Settings.from_env()).published_dir
    removed: list[Path] = []
    for path in [*out.glob(f"{BUILDING_PREFIX}*"), *out.glob(".*.link")]:
        _remove(path)
        removed.append(path)
    current = current_release(settings)
    for release in _releases(out):
        # release names sort by publish time: newer than current = never switched to
        if current is None or release.name > current.name:
            _remove(release)
            removed.append(release)
    return removed


def remove_expired_releases(settings: Settings | None = None) -> list[Path]:
    """Remove superseded releases once the grace period has passed since they stopped being
    current (the publish time of the release after them). Never the current one."""
    settings = settings or Settings.from_env()
    out = settings.published_dir
    current = current_release(settings)
    if current is None:
        return []
    grace = dt.timedelta(hours=settings.release_grace_hours)
    now = dt.datetime.now(dt.UTC)
    releases = [r for r in _releases(out) if r.name <= current.name]
    removed = []
    for release, successor in itertools.pairwise(releases):
        superseded_at = _stamp(successor.name)
        if release != current and superseded_at is not None and now - superseded_at >= grace:
            _remove(release)
            removed.append(release)
    # the previous layout's Parquet folders (parquet-<run id>), once their grace has passed
    for old in out.glob("parquet-*"):
        age = now - dt.datetime.fromtimestamp(old.lstat().st_mtime, dt.UTC)
        if age >= grace:
            _remove(old)
            removed.append(old)
    return removed


def _releases(out: Path) -> list[Path]:
    folder = out / RELEASES_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _stamp(name: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(name.split("-", 1)[0], _STAMP_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _safe_name(run_id: str) -> str:
    """The run id as a folder name (Dagster's are UUIDs; anything else is made safe)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)[:100] or "run"


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _ensure_stable_links(out: Path) -> None:
    """`marts.duckdb` and `parquet` as links through `current` (created once; this also
    migrates the previous layout: a plain file and a link to `parquet-<run id>`)."""
    for name in (SNAPSHOT_NAME, PARQUET_DIR):
        link, target = out / name, f"{CURRENT_LINK}/{name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)  # an old real folder: a rename cannot replace it
        _replace_symlink(link, target)


def _copy_comments(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Carry the warehouse's table and column comments (the dbt descriptions) to the snapshot."""
    comment = con.execute(
        "select comment from duckdb_tables() where database_name = 'wh' and schema_name = 'marts' and table_name = ?",
        [table],
    ).fetchone()
    if comment and comment[0]:
        con.execute(f"comment on table {_ident(table)} is {_quote(comment[0])}")
    for column, text in con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = 'wh' and schema_name = 'marts' and table_name = ? and comment is not null",
        [table],
    ).fetchall():
        con.execute(f"comment on column {_ident(table)}.{_ident(column)} is {_quote(text)}")


def _quote(text: str) -> str:
    """A SQL string literal (for statements that take no parameters, such as COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` with one rename(2): a reader sees the old target or the new."""
    tmp = link.with_name(f".{link.name}.link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def read_snapshot_run_ids(settings: Settings | None = None) -> set[str]:
    """The run ids found across all marts of the current snapshot (one, if publish is atomic)."""
    con = duckdb.connect(str(snapshot_path(settings)), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' "
                "and not starts_with(table_name, '_')"
            ).fetchall()
        ]
        ids: set[str] = set()
        for t in tables:
            ids |= {
                r[0]
                for r in con.execute(f"select distinct {RUN_ID_COLUMN} from {_ident(t)}").fetchall()
            }
        return ids
    finally:
        con.close()


def query_published(
    sql: str, params: list | None = None, settings: Settings | None = None
) -> list[tuple]:
    """One DuckDB-dialect query on the published marts, wherever the target keeps them."""
    settings = settings or Settings.from_env()
    if settings.target == "postgres":
        from warehouse.connections import pg_connect, pg_fetchall

        con = pg_connect(settings, options="-c search_path=published")
        try:
            return pg_fetchall(con, sql, params)
        finally:
            con.close()
    con = duckdb.connect(str(snapshot_path(settings)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
