"""GX Data Docs that work without internet: the CSS/JS their pages load from CDNs are
shipped in `expectations/static/datadocs/` (README there: versions, licenses), copied next
to the generated site, and every page is rewritten to load the copies (relative links, so
the site also opens from the file system).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

STATIC = Path(__file__).parent / "static" / "datadocs"
ASSETS = "_static_offline"  # the copies, inside the Data Docs site

# each CDN URL GX 1.24's templates name -> the shipped copy
CDN = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper/umd/popper.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/js/bootstrap.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/css/bootstrap.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # the templates name 1.19.0's stylesheet (minified and not): 1.19.1's is the same
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/css/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-dark/css/bootstrap-prefers-dark.min.css",
}
_URL = re.compile(r"""(?P<attr>src|href)=(?P<q>["'])(?P<url>https?://[^"']+)(?P=q)""")
# a local copy's bytes differ from nothing GX pinned, but keep the browser from checking
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)=(["'])[^"']*\1""")
# the GX logo comes from GX's web assets (with tracking parameters); the site has a copy
_LOGO = re.compile(r"https://great-expectations-web-assets\.[^\"']*/(logo-long\.png)[^\"']*")
REMOTE = re.compile(
    r"""src=["']https?://|href=["']https?://(?:cdn|unpkg|code\.jquery|maxcdn|stackpath)"""
)


def localize(site: Path) -> int:
    """Copy the assets into `site` and point its pages at them; the pages changed."""
    site = Path(site)
    if not site.is_dir():
        return 0
    target = site / ASSETS
    if not target.exists() or _stale(target):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(STATIC, target)
    changed = 0
    for page in site.rglob("*.html"):
        if ASSETS in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = _rewrite(text, os.path.relpath(target, page.parent))
        new = _LOGO.sub(os.path.relpath(site / "static" / "images", page.parent) + r"/\1", new)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def _rewrite(html: str, prefix: str) -> str:
    def local(m: re.Match) -> str:
        path = CDN.get(m.group("url"))
        if path is None:
            return m.group(0)
        return f"{m.group('attr')}={m.group('q')}{prefix}/{path}{m.group('q')}"

    out = []
    for line in html.splitlines(keepends=True):
        new = _URL.sub(local, line)
        if new != line:
            new = _SRI.sub("", new)
        out.append(new)
    return "".join(out)


def _stale(target: Path) -> bool:
    shipped = {p.relative_to(STATIC) for p in STATIC.rglob("*") if p.is_file()}
    copied = {p.relative_to(target) for p in target.rglob("*") if p.is_file()}
    return shipped != copied


def remote_references(site: Path) -> dict[str, list[str]]:
    """{page: CDN URLs it still loads}: empty when the site works offline."""
    out = {}
    for page in Path(site).rglob("*.html"):
        urls = [
            m.group("url")
            for m in _URL.finditer(page.read_text(encoding="utf-8"))
            if REMOTE.search(m.group(0))
        ]
        if urls:
            out[str(page.relative_to(site))] = urls
    return out
