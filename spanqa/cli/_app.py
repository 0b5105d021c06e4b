"""The typer application every command module registers on, and the interrupt guard of long commands."""

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import typer

app = typer.Typer(
    name="spanqa",
    help="Find annotation errors in clinical NER corpora. The flow: check a corpus, audit it, review the findings "
         "(report, export, sample, estimate, rerank), apply the accepted fixes, compare the versions, measure their "
         "impact. Also: demo (a synthetic corpus with known errors), agree and consensus (several annotators).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[...]" is shown as written, and no "<bool>" type tags
)


def _version(value: bool) -> None:
    if value:
        from spanqa._version import __version__

        print(f"spanqa {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Find annotation errors in clinical NER corpora."""

#: exit status after Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 130


@contextmanager
def resumable(out: Path) -> Iterator[None]:
    """Ctrl-C inside: say that the finished folds in ``out`` are kept and how to resume, then exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        print(f"spanqa: interrupted. The folds already finished are kept in {out}; rerun the same command with the "
              f"same --out to resume from them.", file=sys.stderr)
        raise typer.Exit(INTERRUPTED) from None
