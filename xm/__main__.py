"""`python -m xm`: the same as the `xm` command."""

from xm.cli import app

app()
