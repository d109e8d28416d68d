"""Why something failed, in one line naming the cause and the fix.

Failures of the environment (the data dir, the warehouse file, the network) arrive deep in
other libraries' exceptions: dlt wraps DuckDB's, Dagster wraps dlt's, and the real cause may
sit three `__cause__`s down or only in a message. `explain()` walks the whole chain and
answers for the causes an operator can act on; anything else is left to the caller (None).
The `xm` CLI prints the line; the Dagster steps fail with it as their message.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from pathlib import Path


class OperatorError(RuntimeError):
    """An expected failure: its message is one line saying what happened and what to do."""


def chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception behind it (causes, contexts, exceptions held in args or in
    an `exception` attribute, as dlt's step failures do), each once."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen or not isinstance(e, BaseException):
            continue
        seen.add(id(e))
        yield e
        stack += [
            getattr(e, "exception", None),
            e.__context__,
            e.__cause__,
            *(a for a in getattr(e, "args", ()) if isinstance(a, BaseException)),
        ]


def one_line(text: str, limit: int = 300) -> str:
    """The first meaningful line of a message, shortened."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


_LOCK = re.compile(r'Could not set lock on file "([^"]+)".*?(?:\(PID (\d+)\))?', re.S)
_CORRUPT = (
    re.compile(r'The file "([^"]+)" exists, but it is not a valid DuckDB database file'),
    re.compile(r'Could not read enough bytes from file "([^"]+)"'),
    re.compile(r"(Corrupt database file)"),
    re.compile(r'file "([^"]+)" is not a valid (?:DuckDB )?database', re.I),
)
_HOST = re.compile(r"host='([^']+)', port=(\d+)")


def _os_error(e: OSError) -> str | None:
    where = e.filename or "the data directory"
    if e.errno == errno.ENOSPC:
        return (
            f"no space left on the device holding {where}: free some space, or set "
            "XM_DATA_DIR to a folder on a disk with room"
        )
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"cannot write {where}: {e.strerror.lower() if e.strerror else 'permission denied'}"
            ". Make the data directory writable, or set XM_DATA_DIR to one that is"
        )
    if e.errno == errno.EDQUOT:
        return f"disk quota exceeded writing {where}: free space or raise the quota"
    return None


def explain(exc: BaseException) -> str | None:
    """One line naming the cause and the fix, for failures of the environment; else None."""
    for e in chain(exc):
        if isinstance(e, OperatorError):
            return one_line(str(e), limit=1000)
        if isinstance(e, OSError) and (line := _os_error(e)):
            return line
    text = "\n".join(str(e) for e in chain(exc))
    if m := _LOCK.search(text):
        who = f" (process {m.group(2)})" if m.group(2) else ""
        return (
            f"the warehouse {m.group(1)} is in use by another process{who}: wait for that "
            "run to finish (one writer at a time), or stop it"
        )
    for pattern in _CORRUPT:
        if m := pattern.search(text):
            path = m.group(1) if m.group(1).startswith("/") else "the warehouse file"
            return (
                f"{path} is corrupted ({one_line(m.group(0), 120)}): restore it from a "
                f"backup, or move it aside and reload with `xm demo` / `xm refresh --job full` "
                "(the published release is untouched)"
            )
    if "No space left on device" in text:
        return "no space left on the device of the data directory: free some space"
    if "Read-only file system" in text:
        return (
            "the data directory is on a read-only file system: set XM_DATA_DIR to a writable folder"
        )
    for e in chain(exc):
        name = type(e).__name__
        if name in ("ConnectionError", "NewConnectionError", "MaxRetryError") or (
            "Connection refused" in str(e) or "Name or service not known" in str(e)
        ):
            m = _HOST.search(text)
            where = f"{m.group(1)}:{m.group(2)}" if m else "the vendor API"
            why = (
                "connection refused"
                if "refused" in text
                else "host not found"
                if "not known" in text or "resolve" in text
                else "connection failed"
            )
            return (
                f"cannot reach {where} ({why}): is the service up and its base URL right? "
                "(the simulator: `xm simulate serve`)"
            )
    return None


def writable_dir(path: Path) -> str | None:
    """Why `path` (a directory, created if missing) cannot be written, or None."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".xm-write-test-"):
            pass
    except OSError as e:
        return _os_error(e) or f"cannot write {path}: {e.strerror or e}"
    return None
