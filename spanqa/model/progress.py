"""Console progress of a run on stderr: progress bars on a terminal, plain timestamped lines otherwise.

Where stderr is not a terminal (a job on a shared server, CI, ``nohup``), the bars cannot show; :func:`log_lines`
then prints a line per finished fold, and :func:`progress_bars` prints every :data:`HEARTBEAT_S` seconds a line per
running step - what it is, how far, how long so far, and how long still to go where that can be told - so a log
never goes silent for the minutes one fold takes on a large corpus::

    03:05:18 encode words (frozen encoder, once): 5,120/13,312 windows (38%), 1.5 min so far, about 2.4 min to go
    03:05:48 fold 1/5 head: 2.0 min so far
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

__all__ = ["HEARTBEAT_S", "log_lines", "progress_bars", "step_lines"]

#: seconds between the plain progress lines of running steps when stderr is not a terminal
HEARTBEAT_S = 30.0


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _printer(console: Any) -> Callable[[str], None]:
    return lambda msg: console.print(f"{time.strftime('%H:%M:%S')} {msg}", soft_wrap=True, highlight=False,
                                     markup=False)


def log_lines(enabled: bool) -> Callable[[str], None] | None:
    """Plain progress lines on stderr when it is not a terminal (where the progress bars cannot show); else None."""
    if not enabled:
        return None
    console = _stderr()
    return None if console.is_terminal else _printer(console)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def step_lines(tasks: Any) -> list[str]:
    """One line per running step of a rich progress display: description, done/total, time so far and to go.

    >>> from types import SimpleNamespace as T
    >>> step_lines([T(description="encode", completed=50, total=200, elapsed=30.0, finished=False, visible=True),
    ...             T(description="fold 1/5 head", completed=0, total=None, elapsed=125.0, finished=False, visible=True)])
    ['encode: 50/200 (25%), 30 s so far, about 1.5 min to go', 'fold 1/5 head: 2.1 min so far']
    """
    out = []
    for t in tasks:
        if t.finished or not t.visible or t.elapsed is None:
            continue
        line = f"{t.description}:"
        if t.total:
            line += f" {int(t.completed):,}/{int(t.total):,} ({100 * t.completed / t.total:.0f}%),"
        line += f" {_duration(t.elapsed)} so far"
        if t.total and t.completed:  # the mean pace so far (rich's own estimate forgets samples after 30 s)
            line += f", about {_duration(t.elapsed / t.completed * (t.total - t.completed))} to go"
        out.append(line)
    return out


@contextmanager
def progress_bars(enabled: bool, *, heartbeat: float | None = None) -> Iterator[Any]:
    """A rich progress display on stderr (its value is the bar; ``None`` when not ``enabled``).

    When stderr is not a terminal the bars are not drawn; instead every ``heartbeat`` seconds (0: never) a plain
    line per running step is printed (:func:`step_lines`; ``None``: :data:`HEARTBEAT_S`)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = _stderr()
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, transient=True)
    heartbeat = HEARTBEAT_S if heartbeat is None else heartbeat
    with bar:
        if console.is_terminal or heartbeat <= 0:
            yield bar
            return
        say, stop = _printer(console), threading.Event()

        def beat() -> None:
            while not stop.wait(heartbeat):
                for line in step_lines(list(bar.tasks)):
                    say(line)

        thread = threading.Thread(target=beat, name="spanqa-progress", daemon=True)
        thread.start()
        try:
            yield bar
        finally:
            stop.set()
            thread.join()
