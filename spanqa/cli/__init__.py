"""Thin command-line layer: one module per command, each a wrapper over importable functions.

A command module registers itself with ``@app.command()`` on :data:`spanqa.cli._app.app`
and is imported below.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from spanqa.cli._app import app
from spanqa.core.errors import SpanqaError, fail

# Command modules (import order = order in --help).
# (helpers add one import line per command here)
from spanqa.cli import check  # noqa: E402,F401
from spanqa.cli import compare  # noqa: E402,F401
from spanqa.cli import agree  # noqa: E402,F401
from spanqa.cli import consensus  # noqa: E402,F401
from spanqa.cli import audit  # noqa: E402,F401
from spanqa.cli import demo  # noqa: E402,F401
from spanqa.cli import report  # noqa: E402,F401
from spanqa.cli import export  # noqa: E402,F401
from spanqa.cli import apply  # noqa: E402,F401
from spanqa.cli import impact  # noqa: E402,F401
from spanqa.cli import sample  # noqa: E402,F401
from spanqa.cli import estimate  # noqa: E402,F401
from spanqa.cli import rerank  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``spanqa`` console script: every failure leaves as a coded message, never a traceback.

    Coded errors exit 2 with their message.  Anything else is turned into one by
    :func:`unexpected` (disk full ``E409``, cannot write ``E411``, input nested
    too deeply ``E108``, otherwise the bug report ``E900`` naming where it
    happened); ``SPANQA_DEBUG=1`` re-raises it so the traceback is printed.
    """
    try:
        app(args=argv, standalone_mode=True)
    except SpanqaError as err:
        _exit(err)
    except Exception as exc:  # the guard: one coded message for whatever was not foreseen
        if os.environ.get("SPANQA_DEBUG"):
            raise
        _exit(unexpected(exc))


def _exit(err: SpanqaError) -> NoReturn:
    print(f"spanqa: error {err}", file=sys.stderr)
    sys.exit(2)


def unexpected(exc: BaseException) -> SpanqaError:
    """The coded error for an exception no part of spanqa turned into one."""
    from spanqa.core.output import os_error

    if isinstance(exc, OSError):
        path = Path(exc.filename) if exc.filename else Path(".")
        return os_error(exc, path)
    if isinstance(exc, RecursionError):
        return fail("E108", "the input is nested too deeply to read (a JSON value inside thousands of brackets)")
    if isinstance(exc, MemoryError):
        return fail("E900", "out of memory; rerun on a machine with more memory or on a smaller corpus")
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}spanqa{os.sep}" in f.filename] or frames
    where = ours[-1] if ours else None
    at = f" in {Path(where.filename).name}:{where.lineno} ({where.name})" if where else ""
    return fail("E900", f"{type(exc).__name__}: {exc}{at}")
