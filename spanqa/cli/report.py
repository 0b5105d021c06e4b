"""``spanqa report RUN_DIR``: one self-contained HTML page to review an audit run.

A thin wrapper over :func:`spanqa.review.report.write_report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from spanqa.cli._app import app
from spanqa.review.report import CONTEXT_CHARS, write_report
from spanqa.run.reader import load_run, warn_if_changed


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="Run folder written by `spanqa audit --out`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default RUN_DIR/report.html)."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="The audited corpus, if it moved since the audit."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of --corpus; detected when omitted."),
    context: int = typer.Option(CONTEXT_CHARS, "--context", min=0, help="Characters of note text shown each side of a finding."),
) -> None:
    """Write an HTML review page: overview charts, guideline hints, findings with filters (no network needed)."""
    run = load_run(run_dir, corpus=corpus, corpus_format=format)
    warn_if_changed(run)
    path = write_report(run, out or run_dir / "report.html", context=context)
    Console().print(f"report: {path} ({len(run.findings)} findings, {path.stat().st_size // 1024} KiB)",
                    markup=False, highlight=False)
