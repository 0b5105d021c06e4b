"""Console progress of a run on stderr: progress bars on a terminal, plain timestamped lines otherwise."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Callable

__all__ = ["log_lines", "progress_bars"]


def log_lines(enabled: bool) -> Callable[[str], None] | None:
    """Plain progress lines on stderr when it is not a terminal (where the progress bars cannot show); else None."""
    if not enabled:
        return None
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        return None
    return lambda msg: console.print(f"{time.strftime('%H:%M:%S')} {msg}", soft_wrap=True, highlight=False,
                                     markup=False)


def progress_bars(enabled: bool):
    """A rich progress display on stderr (a context manager whose value is the bar), or ``nullcontext(None)``."""
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)
