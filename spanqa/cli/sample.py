"""``spanqa sample RUN_DIR --n 50 --seed S --to csv --out PATH``: a random audit batch of labelled spans.

A thin wrapper over :func:`spanqa.review.sample.write_sample` (stratified by label) and, with
``--design stratified``, over :func:`spanqa.review.estimate.design` (spans stratified by the model's quality plus
sentences for missing entities; ``spanqa estimate`` reads the filled-in sheet).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional, cast

import typer
from rich.console import Console

from spanqa.cli._app import app
from spanqa.cli.export import ReviewFormat, counts_line
from spanqa.review.sample import SampleFormat, write_sample
from spanqa.run.reader import load_run, warn_if_changed


class DesignChoice(str, Enum):
    random = "random"
    stratified = "stratified"


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
    design: DesignChoice = typer.Option(DesignChoice.random, "--design", help="random (by label) or stratified: spans by model quality + sentences for missing entities, for `spanqa estimate` (CSV)."),
    sentences: int = typer.Option(20, "--sentences", min=0, help="With --design stratified: sentences to check for missing entities."),
) -> None:
    """Draw a random batch of labelled spans (not only findings), stratified by label, for a blind audit."""
    run = load_run(run_dir, corpus=corpus, corpus_format=format)
    warn_if_changed(run)
    if design is DesignChoice.stratified:
        from spanqa.review.estimate import design as draw
        from spanqa.review.estimate import design_path, population, write_design

        if to is not ReviewFormat.csv:
            raise typer.BadParameter("the stratified design is written as a CSV sheet", param_hint="--to")
        spans, sents = population(run, run.corpus())
        counts = write_design(run.corpus(), draw(spans, sents, n=n, n_sentences=sentences, seed=seed), out)
        Console().print(f"stratified sample: {out} ({counts['spans']} spans: verdict correct/incorrect; "
                        f"{counts['sentences']} sentences: missing = entities the labels lack) and "
                        f"{design_path(out).name}; then: spanqa estimate {run_dir} --decisions {out}",
                        markup=False, highlight=False)
        return
    # --to argilla is not a sample format: write_sample refuses it (E507)
    counts = write_sample(run, n, out, to=cast(SampleFormat, to.value), seed=seed, allocation=allocation.value)
    Console().print(f"sample ({to.value}): {out} ({counts_line(counts)})", markup=False, highlight=False)
