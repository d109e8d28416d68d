"""The layout's rules, read from the code itself (each module's imports, by its AST).

Layers import only downhill: the warehouse package is the bottom; the simulator stands
alone (it is the vendors' stand-in); ingestion and the checks build on the warehouse;
Dagster code lives in `dagster_project/` only; the `xm` CLI is the top, and nothing imports it.
Every third-party import is a distribution that pyproject.toml declares.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "warehouse",
    "simulator",
    "ingestion",
    "expectations",
    "dagster_project",
    "dashboard",
    "xm",
)
# what each package may import of the project's own packages
ALLOWED = {
    "warehouse": set(),
    "simulator": set(),
    "ingestion": {"warehouse"},
    "expectations": {"warehouse"},
    "dagster_project": {"warehouse", "ingestion", "expectations"},
    "dashboard": {"warehouse"},
    "xm": {"warehouse", "simulator", "ingestion", "expectations", "dagster_project", "dashboard"},
}
DAGSTER = ("dagster", "dagster_dbt", "dagster_dlt", "dagster_webserver", "dagster_dg_cli")


def imports(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (at the top or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_run_downhill(package):
    own = set(PACKAGES)
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imports(path)
        if (name in own and name != package and name not in ALLOWED[package])
        or (name in DAGSTER and package != "dagster_project")
    }
    assert not wrong, sorted(wrong)


def test_the_rules_can_fail(tmp_path, monkeypatch):
    """A module of the warehouse package that imported Dagster would be caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from dagster_project.run import run_job\n    import dagster\n")
    assert imports(bad) == {"dagster_project", "dagster"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]  # dev, and the spark target's
    requirements = [*project["dependencies"], *(r for group in extras.values() for r in group)]
    return {Requirement(r).name.lower().replace("_", "-") for r in requirements}


def test_every_third_party_import_is_declared():
    """Each import that is neither the standard library nor the project resolves to an
    installed distribution named in pyproject.toml (not one that arrives transitively)."""
    dists = packages_distributions()
    declared = _declared()
    undeclared = {}
    for package in (*PACKAGES, "tests", "benchmarks"):
        for path in modules(package):
            for name in imports(path) - set(PACKAGES) - {"tests", "benchmarks"}:
                if name in sys.stdlib_module_names or name == "__future__":
                    continue
                names = {d.lower().replace("_", "-") for d in dists.get(name, [])}
                if not names & declared:
                    undeclared[name] = sorted(names) or ["not installed"]
    assert not undeclared, undeclared
