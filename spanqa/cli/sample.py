"""``spanqa sample RUN_DIR --n 50 --seed S --to csv --out PATH``: a random audit batch of labelled spans.

A thin wrapper over :func:`spanqa.review.sample.write_sample` (stratified by label).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from spanqa.cli._app import app
from spanqa.cli.export import ReviewFormat, counts_line
from spanqa.review.run import load_run, warn_if_changed
from spanqa.review.sample import write_sample


class AllocationChoice(str, Enum):
    proportional = "proportional"
    equal = "equal"


@app.command()
def sample(
    run_dir: Path = typer.Argument(..., help="Run folder written by `spanqa audit --out`."),
    n: int = typer.Option(50, "--n", min=1, help="Number of labelled spans to draw."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same run, --n and --seed give the same batch."),
    to: ReviewFormat = typer.Option(ReviewFormat.csv, "--to", help="csv (sheet with a verdict column), labelstudio or brat."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write (a folder for brat)."),
    allocation: AllocationChoice = typer.Option(AllocationChoice.proportional, "--allocation", help="proportional (at least one per label) or equal per label."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="The audited corpus, if it moved since the audit."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of --corpus; detected when omitted."),
) -> None:
    """Draw a random batch of labelled spans (not only findings), stratified by label, for a blind audit."""
    run = load_run(run_dir, corpus=corpus, corpus_format=format)
    warn_if_changed(run)
    counts = write_sample(run, n, out, to=to.value, seed=seed, allocation=allocation.value)
    Console().print(f"sample ({to.value}): {out} ({counts_line(counts)})", markup=False, highlight=False)
