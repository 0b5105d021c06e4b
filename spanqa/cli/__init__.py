"""Thin command-line layer: one module per command, each a wrapper over importable functions.

A command module registers itself with ``@app.command()`` on :data:`spanqa.cli._app.app`
and is imported below.
"""

from __future__ import annotations

import sys

from spanqa.cli._app import app
from spanqa.errors import SpanqaError

# Command modules (import order = order in --help).
# (helpers add one import line per command here)
from spanqa.cli import check  # noqa: E402,F401
from spanqa.cli import compare  # noqa: E402,F401
from spanqa.cli import agree  # noqa: E402,F401
from spanqa.cli import audit  # noqa: E402,F401
from spanqa.cli import demo  # noqa: E402,F401
from spanqa.cli import report  # noqa: E402,F401
from spanqa.cli import export  # noqa: E402,F401
from spanqa.cli import apply  # noqa: E402,F401
from spanqa.cli import sample  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``spanqa`` console script; coded errors exit 2 with their message."""
    try:
        app(args=argv, standalone_mode=True)
    except SpanqaError as err:
        print(f"spanqa: error {err}", file=sys.stderr)
        sys.exit(2)
