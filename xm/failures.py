"""How `xm` fails: one line on stderr naming the cause and the fix, a non-zero exit, and a
traceback only with `--debug` (anywhere on the command line) or XM_DEBUG=1.

Exit codes: 2 for a wrong flag or setting (nothing was touched), 1 for a failure while
working, 130 for Ctrl-C.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import typer
from typer.main import get_command

from warehouse.failures import explain, one_line


def debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("XM_DEBUG", "") not in ("", "0", "false")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `error: message` (one line) on stderr and exit with `code`."""
    typer.secho(f"error: {one_line(message, limit=2000)}", fg="red", err=True)
    raise typer.Exit(code)


def bad_flag(flag: str, message: str) -> NoReturn:
    """A flag's value is wrong: exit 2 before anything is touched."""
    raise typer.BadParameter(message, param_hint=f"'{flag}'")


class XmTyper(typer.Typer):
    """A Typer app whose every failure is one line (see the module's docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = list(kwargs.pop("args", None) or sys.argv[1:])
        debug = debug_requested(argv)
        argv = [a for a in argv if a != "--debug"]
        command = get_command(self)
        try:
            code = command.main(
                args=argv, prog_name=kwargs.pop("prog_name", "xm"), standalone_mode=False
            )
        except Exception as e:
            # click's exceptions, by name: typer vendors its own copy of click
            if _is(e, "NoArgsIsHelpError"):
                e.show()
                sys.exit(0)
            if _is(e, "UsageError"):
                where = e.ctx.command_path if getattr(e, "ctx", None) else "xm"
                _stderr(f"error: {one_line(e.format_message())} (see `{where} --help`)")
                sys.exit(e.exit_code)
            if _is(e, "ClickException"):
                _stderr(f"error: {one_line(e.format_message())}")
                sys.exit(e.exit_code)
            if _is(e, "Abort"):
                _stderr("error: aborted")
                sys.exit(130)
            if debug:
                raise
            line = explain(e) or (
                f"unexpected {type(e).__name__}: {one_line(str(e)) or 'no message'} "
                "(run again with --debug for the traceback)"
            )
            _stderr(f"error: {line}")
            code = 1
        sys.exit(code if isinstance(code, int) else 0)


def _is(exc: BaseException, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def _stderr(line: str) -> None:
    typer.secho(line, fg="red", err=True)
