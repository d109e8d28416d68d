"""The front page of `xm docs serve`: one page linking what the data dir's docs folder holds
(dbt docs, GX Data Docs) and the dashboard when there is one. Self-contained HTML (no CDN)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

SECTIONS = (
    (
        "dbt docs",
        "dbt/index.html",
        "Every model and metric: definitions, columns, tests, lineage from each vendor's raw "
        "tables to the marts, exposures.",
        "`xm demo` (or `dbt docs generate --target-path $XM_DATA_DIR/docs/dbt`) builds them",
    ),
    (
        "Great Expectations Data Docs",
        "gx/index.html",
        "The latest validation of every suite: raw loads (warnings), marts (blocking), "
        "quarantine share, with observed values.",
        "every refresh rebuilds them",
    ),
)


def write_index(root: Path, dashboard: str | None = None) -> Path:
    """Write `root/index.html`; `dashboard`: a URL, or a hint saying how to start one."""
    items = []
    for title, path, what, how in SECTIONS:
        if (root / path).exists():
            items.append(
                f'<li><a href="{path}">{html.escape(title)}</a><p>{html.escape(what)}</p></li>'
            )
        else:
            items.append(
                f"<li>{html.escape(title)} <em>(not built yet: {html.escape(how)})</em>"
                f"<p>{html.escape(what)}</p></li>"
            )
    if dashboard and dashboard.startswith(("http://", "https://")):
        items.append(
            f'<li><a href="{html.escape(dashboard)}">Dashboard</a>'
            "<p>CX, EX and the EX&harr;CX link from the published release.</p></li>"
        )
    elif dashboard:
        items.append(f"<li>Dashboard <em>({html.escape(dashboard)})</em></li>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Experience Warehouse docs</title>
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem;
        color: #1d2733; line-height: 1.45 }}
 h1 {{ font-size: 1.6rem; margin-bottom: .2rem }} .sub {{ color: #5b6673; margin-top: 0 }}
 ul {{ list-style: none; padding: 0 }} li {{ border: 1px solid #d8dee4; border-radius: 6px;
        padding: .8rem 1rem; margin: .8rem 0 }}
 li a {{ font-size: 1.15rem; font-weight: 600; color: #0b5cad; text-decoration: none }}
 li p {{ margin: .3rem 0 0; color: #3d4753 }} em {{ color: #8a5a00 }}
</style></head>
<body>
<h1>Experience Warehouse</h1>
<p class="sub">Documentation of the data dir {html.escape(str(root.parent))},
page written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC</p>
<ul>
{chr(10).join(items)}
</ul>
</body></html>
"""
    root.mkdir(parents=True, exist_ok=True)
    index = root / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
