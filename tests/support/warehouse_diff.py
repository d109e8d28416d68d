"""Compare the raw schemas of two warehouse files by content (dlt bookkeeping columns aside)."""

from __future__ import annotations

from pathlib import Path

import duckdb

# dlt bookkeeping, and `url`: records link to the server that sent them (another port per run)
IGNORED = {"_dlt_id", "_dlt_parent_id", "_dlt_root_id", "_dlt_load_id", "url"}


def raw_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
    rows = con.execute(
        """
        select table_schema || '.' || table_name, column_name
        from information_schema.columns
        where table_catalog = ? and table_schema like 'raw\\_%' escape '\\'
          and table_schema not like '%\\_staging' escape '\\'
          and table_name not like '\\_dlt%' escape '\\'
        order by 1, column_name
        """,
        [catalog],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        if column not in IGNORED:
            out.setdefault(table, []).append(column)
    return out


def diff(a: Path, b: Path) -> dict[str, str]:
    """{table: what differs}; empty when both hold the same rows (as multisets) in every table."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        ta, tb = raw_tables(con, "a"), raw_tables(con, "b")
        problems = {t: "missing in second" for t in ta.keys() - tb.keys()}
        problems |= {t: "missing in first" for t in tb.keys() - ta.keys()}
        for table in ta.keys() & tb.keys():
            if ta[table] != tb[table]:
                problems[table] = f"columns differ: {sorted(set(ta[table]) ^ set(tb[table]))}"
                continue
            cols = ", ".join(f'"{c}"' for c in ta[table])
            only_a, only_b = (
                con.execute(
                    f"select count(*) from (select {cols} from {x}.{table} except all select {cols} from {y}.{table})"
                ).fetchone()[0]
                for x, y in (("a", "b"), ("b", "a"))
            )
            if only_a or only_b:
                problems[table] = f"{only_a} rows only in first, {only_b} only in second"
        return problems
    finally:
        con.close()
