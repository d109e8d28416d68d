"""Compare every mart of a DuckDB warehouse with the same mart on PostgreSQL, row for row.

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
        with pg_con.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s",
                [schema],
            )
            on_pg = {r[0] for r in cur.fetchall()}
            for mart in marts:
                if mart not in on_pg:
                    problems[mart] = f"missing on PostgreSQL ({schema})"
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
                cur.execute(f'select {select} from "{schema}"."{mart}"')
                right = _rows(cur.fetchall())
                if len(left) != len(right):
                    problems[mart] = f"{len(left)} rows on DuckDB, {len(right)} on PostgreSQL"
                    continue
                for i, (a, b) in enumerate(zip(left, right, strict=True)):
                    bad = [c for c, x, y in zip(columns, a, b, strict=True) if not _same(x, y, rel)]
                    if bad:
                        problems[mart] = (
                            f"row {i} differs in {bad}: DuckDB {dict(zip(columns, a, strict=True))} "
                            f"vs PostgreSQL {dict(zip(columns, b, strict=True))}"
                        )
                        break
    finally:
        duck.close()
    return marts, problems
