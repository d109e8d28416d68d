"""Great Expectations quality gates for the warehouse: suites as code and their runner.

Importing this package does not import Great Expectations (seconds of import time): the
suites are built and validated lazily, by `run_suites`.
"""

from expectations.registry import all_specs
from expectations.runner import docs_index, run_suites
from expectations.spec import BLOCKING, WARNING, ExpectationOutcome, SuiteResult, SuiteSpec

__all__ = [
    "BLOCKING",
    "WARNING",
    "ExpectationOutcome",
    "SuiteResult",
    "SuiteSpec",
    "all_specs",
    "docs_index",
    "run_suites",
]
