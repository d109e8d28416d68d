"""The Dagster code location: one asset graph from vendor API to published marts."""

import importlib.util
import sys


def _pyspark_connect_without_exit() -> None:
    """Where pyspark is installed, Great Expectations imports `pyspark.sql.connect`, whose
    import calls `sys.exit(0)` when `__main__` has neither a spec nor a file ("we must be
    running doctests"): exactly the state of `__main__` in Dagster's run workers, so every
    GX check step of a run launched by the UI or the daemon "failed" with `SystemExit: 0`.
    Import it once here with `__main__` looking like a program, then put `__main__` back."""
    main = sys.modules.get("__main__")
    if (
        main is None
        or getattr(main, "__spec__", None) is not None
        or hasattr(main, "__file__")
        or hasattr(sys, "ps1")
        or importlib.util.find_spec("pyspark") is None
    ):
        return
    main.__file__ = sys.argv[0] if sys.argv and sys.argv[0] else "dagster"
    try:
        importlib.import_module("pyspark.sql.connect.dataframe")  # optional, not a dependency
    except Exception:
        # unusable here (its own dependencies are missing): later imports fail as an
        # ImportError, which GX expects, instead of trying again and exiting
        sys.modules["pyspark.sql.connect"] = None  # type: ignore[assignment]
    finally:
        del main.__file__


_pyspark_connect_without_exit()
