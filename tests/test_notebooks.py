"""The analyst notebooks (notebooks/*.ipynb), executed top to bottom with nbclient against a
freshly built warehouse: the session's test world loaded, built and published
(`published_snapshot` in conftest.py, shared with the BI tests; the notebooks read only the
snapshot), then every notebook against it. A failed assertion in a notebook fails its test.

The figures of every run are written as PNG files (to pytest's tmp_path, or wherever
`python tests/test_notebooks.py DATA_DIR OUT_DIR` is pointed, e.g. at a scale-1 snapshot)
so a person can look at them.
"""

from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"ex_cx_link.ipynb", "cx_overview.ipynb", "ex_overview.ipynb", "customer_journey.ipynb"}
# the inline backend renders PNGs into the notebook and never opens a window
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def execute_notebook(path: Path, data_dir: Path, png_dir: Path | None = None, timeout: int = 600):
    """Run a notebook top to bottom (cwd notebooks/, as in Jupyter) against `data_dir`.

    Raises nbclient's CellExecutionError on the first failing cell. Writes each figure to
    `png_dir/<notebook>-<n>.png` when given. Returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {"XM_DATA_DIR": str(data_dir), "MPLBACKEND": INLINE_BACKEND}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if png_dir is not None:
        save_figures(nb, path.stem, png_dir)
    return nb


def save_figures(nb, stem: str, png_dir: Path) -> list[Path]:
    png_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                target = png_dir / f"{stem}-{len(written) + 1:02d}.png"
                target.write_bytes(base64.b64decode(data["image/png"]))
                written.append(target)
    return written


def test_the_three_notebooks_exist():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: strip them"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reads_only_the_published_snapshot_read_only(path):
    import nbformat

    code = "\n".join(
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
    )
    connects = [line for line in code.splitlines() if re.search(r"\bconnect\(", line)]
    assert connects, f"{path.name} opens no database"
    assert all("read_only=True" in line for line in connects), connects
    assert '"published" / "marts.duckdb"' in code
    assert "warehouse.duckdb" not in code and "attach" not in code.lower()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_against_a_fresh_warehouse(path, published_snapshot, tmp_path):
    nb = execute_notebook(path, published_snapshot, png_dir=tmp_path / "figures")
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    figures = sorted((tmp_path / "figures").glob("*.png"))
    assert figures, f"{path.name} drew no figure"
    assert all(f.stat().st_size > 5_000 for f in figures), "an empty-looking figure"


if __name__ == "__main__":
    # python tests/test_notebooks.py DATA_DIR OUT_DIR [notebook names...]: execute against
    # DATA_DIR's snapshot, write the figures and the executed notebooks (outputs kept) to OUT_DIR
    import nbformat

    data, out, *names = sys.argv[1:]
    for nb_path in NOTEBOOKS:
        if not names or nb_path.stem in names or nb_path.name in names:
            executed = execute_notebook(nb_path, Path(data).resolve())
            Path(out).mkdir(parents=True, exist_ok=True)
            nbformat.write(executed, Path(out) / nb_path.name)
            for png in save_figures(executed, nb_path.stem, Path(out)):
                print(png)
