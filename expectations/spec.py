"""What a suite is, and what validating one returns. No Great Expectations import here:
the Dagster code location imports this at definition time, and GX costs seconds to import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

    from warehouse.reader import Warehouse

Layer = Literal["raw", "quarantine", "marts"]
WARNING = "warning"
BLOCKING = "blocking"

# Bump when a suite's expectations or thresholds change: stamped into every suite's meta
# (and so into every validation result and the Data Docs), next to the package version.
SUITES_VERSION = 2


@dataclass(frozen=True)
class SuiteSpec:
    """One GX suite, the batch it validates and where it surfaces in Dagster.

    `build` returns the `gx.ExpectationSuite` (the expectations, as code); `read` produces the
    pandas batch through short read-only DuckDB reads, usually an aggregate computed in SQL so
    the frame stays small at any scale; `after` runs once the result is known (e.g. to move the
    volume baseline forward)."""

    name: str  # GX suite name, e.g. "marts.cx_metrics_monthly"
    layer: Layer
    table: str  # the warehouse table it describes, "schema.table"
    check: str  # Dagster check name on the table's asset
    blocking: bool
    description: str
    build: Callable[[], gx.ExpectationSuite]
    read: Callable[[Warehouse], pd.DataFrame]
    batch: str = ""  # what one row of the batch is (shown in Data Docs as the data asset)
    index_columns: tuple[str, ...] = ()  # identify failing rows in messages
    after: Callable[[Warehouse, pd.DataFrame, SuiteResult], None] | None = None

    @property
    def severity(self) -> str:
        return BLOCKING if self.blocking else WARNING

    @property
    def asset_name(self) -> str:
        return f"{self.table} ({self.batch})" if self.batch else self.table


@dataclass
class ExpectationOutcome:
    """One expectation's verdict, in words a person can act on."""

    expectation: str  # GX type, e.g. "expect_column_pair_values_to_be_equal"
    column: str | None  # the column(s) it is about
    description: str  # what is expected, in words
    success: bool
    observed: Any  # JSON-able: the observed value, or the failing rows (capped)
    message: str  # readable verdict: what was expected and what was seen
    unexpected_count: int | None = None
    element_count: int | None = None


@dataclass
class SuiteResult:
    suite: str
    table: str
    severity: str
    success: bool
    rows_validated: int
    seconds: float
    expectations: list[ExpectationOutcome] = field(default_factory=list)
    error: str | None = None  # the batch could not be read or validated at all
    docs_page: Path | None = None  # this result's Data Docs page
    batch: Any = field(default=None, repr=False, compare=False)  # the validated frame

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def summary(self) -> str:
        if self.error:
            return f"{self.suite}: could not validate: {self.error}"
        if self.success:
            return f"{self.suite}: all {len(self.expectations)} expectations passed"
        lines = [
            f"{self.suite} ({self.severity}): {len(self.failures)} of "
            f"{len(self.expectations)} expectations failed"
        ]
        lines += [f"  - {e.message}" for e in self.failures]
        return "\n".join(lines)


def new_suite(
    name: str, *, blocking: bool, description: str, expectations: list[Any]
) -> gx.ExpectationSuite:
    """A suite stamped with its severity and version (imports GX: call lazily).

    The expectations go in through the constructor: `suite.add_expectation` looks the suite up
    in the project's store and, once a suite of that name was ever saved, writes the store on
    every call (and compares each new expectation with every earlier one): seconds per suite."""
    from importlib.metadata import PackageNotFoundError, version

    import great_expectations as gx

    try:
        project_version = version("experience-warehouse")
    except PackageNotFoundError:  # running from a checkout that was never installed
        project_version = "unknown"
    return gx.ExpectationSuite(
        name=name,
        expectations=list(expectations),
        meta={
            "severity": BLOCKING if blocking else WARNING,
            "description": description,
            "notes": {"format": "markdown", "content": [description]},
            "suites_version": SUITES_VERSION,
            "project_version": project_version,
            "defined_in": "expectations/ (suites as code; edits here are the only source)",
        },
    )
