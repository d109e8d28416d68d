"""Compare every mart of a DuckDB warehouse with the same mart on another engine (PostgreSQL,
or the snapshot Spark publishes), row for row.

Rows are matched after sorting both sides on every column (floats rounded for the sort
key only); values must be equal, floats within a relative tolerance, timestamps as the
same instant.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb


def _norm(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def _sort_key(row: tuple) -> tuple:
    out = []
    for v in row:
        if v is None:
            out.append((0, ""))
        elif isinstance(v, float):
            out.append((1, f"{v:.6g}" if math.isfinite(v) else str(v)))
        else:
            out.append((1, str(v)))
    return tuple(out)


def _same(a, b, rel: float) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return a == b


def _rows(cur_rows) -> list[tuple]:
    return sorted((tuple(_norm(v) for v in r) for r in cur_rows), key=_sort_key)


def diff_marts(
    duckdb_path: Path, pg_con, schema: str = "marts", rel: float = 1e-9
) -> tuple[list[str], dict[str, str]]:
    """(the marts compared, {mart: first difference}); the dict is empty when all are equal."""
    with pg_con.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            [schema],
        )
        on_pg = {r[0] for r in cur.fetchall()}

        def fetch(mart: str, select: str) -> list[tuple]:
            cur.execute(f'select {select} from "{schema}"."{mart}"')
            return cur.fetchall()

        return _diff(duckdb_path, on_pg, fetch, f"PostgreSQL ({schema})", rel)


def diff_snapshot(
    duckdb_path: Path, snapshot: Path, engine: str, rel: float = 1e-9
) -> tuple[list[str], dict[str, str]]:
    """The same comparison against a published snapshot file (its marts in schema `main`),
    e.g. the one the Spark target publishes."""
    other = duckdb.connect(str(snapshot), read_only=True)
    try:
        other.execute("set TimeZone = 'UTC'")
        present = {
            r[0]
            for r in other.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        return _diff(
            duckdb_path,
            present,
            lambda mart, select: other.execute(f"select {select} from main.{mart}").fetchall(),
            engine,
            rel,
        )
    finally:
        other.close()


def _diff(duckdb_path: Path, present: set[str], fetch, engine: str, rel: float):
    duck = duckdb.connect(str(duckdb_path), read_only=True)
    problems: dict[str, str] = {}
    try:
        duck.execute("set TimeZone = 'UTC'")
        marts = [
            r[0]
            for r in duck.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        for mart in marts:
            if mart not in present:
                problems[mart] = f"missing on {engine}"
                continue
            columns = [
                r[0]
                for r in duck.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                    [mart],
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            left = _rows(duck.execute(f"select {select} from marts.{mart}").fetchall())
            right = _rows(fetch(mart, select))
            if len(left) != len(right):
                problems[mart] = f"{len(left)} rows on DuckDB, {len(right)} on {engine}"
                continue
            for i, (a, b) in enumerate(zip(left, right, strict=True)):
                bad = [c for c, x, y in zip(columns, a, b, strict=True) if not _same(x, y, rel)]
                if bad:
                    problems[mart] = (
                        f"row {i} differs in {bad}: DuckDB {dict(zip(columns, a, strict=True))} "
                        f"vs {engine} {dict(zip(columns, b, strict=True))}"
                    )
                    break
    finally:
        duck.close()
    return marts, problems
