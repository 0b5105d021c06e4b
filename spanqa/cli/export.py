"""``spanqa export RUN_DIR --to labelstudio|brat|csv --out PATH``: findings for annotation tools.

A thin wrapper over :func:`spanqa.review.exports.export_run`; the formats are described there.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from spanqa.cli._app import app
from spanqa.review.exports import export_run, labelstudio_path
from spanqa.run.reader import load_run, warn_if_changed


class ReviewFormat(str, Enum):
    labelstudio = "labelstudio"
    brat = "brat"
    csv = "csv"
    argilla = "argilla"


def counts_line(counts: dict) -> str:
    of = counts.get("of_findings")
    return ", ".join(f"{k} {v}" + (f" of {of}" if k == "findings" and of is not None else "")
                     for k, v in counts.items() if k != "of_findings")


@app.command()
def export(
    run_dir: Path = typer.Argument(..., help="Run folder written by `spanqa audit --out`."),
    to: ReviewFormat = typer.Option(..., "--to", help="labelstudio (tasks JSON), brat (folder), csv (sheet) or argilla (records + settings folder)."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write (a folder for brat; for labelstudio a folder or a name without .json gets export.json inside)."),
    suggested: Optional[Path] = typer.Option(None, "--suggested", help="brat only: also write the suggestions applied into this folder."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="The audited corpus, if it moved since the audit."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of --corpus; detected when omitted."),
    top: Optional[int] = typer.Option(None, "--top", min=1, help="Only the first N findings in the ranking's order (a pattern counts once)."),
    max_score: Optional[float] = typer.Option(None, "--max-score", min=0.0, max=1.0, help="Only findings whose score (P(the labels are right); lower = more suspicious) is at most this."),
) -> None:
    """Export findings for review with scores: Label Studio tasks, brat with AnnotatorNotes, or a CSV sheet."""
    if suggested is not None and to is not ReviewFormat.brat:
        raise typer.BadParameter("--suggested only applies to --to brat", param_hint="--suggested")
    run = load_run(run_dir, corpus=corpus, corpus_format=format)
    warn_if_changed(run)
    counts = export_run(run, to.value, out, suggested_out=suggested, top=top, max_score=max_score)
    shown = labelstudio_path(out) if to is ReviewFormat.labelstudio else out
    Console().print(f"{to.value}: {shown} ({counts_line(counts)})", markup=False, highlight=False)
    if to is ReviewFormat.labelstudio:
        Console().print(f"labelling config: {shown.with_name(shown.stem + '.config.xml')} (paste it into the project's "
                        "Labeling Interface, then import the tasks)", markup=False, highlight=False)
    if to is ReviewFormat.argilla:
        Console().print("push: settings = rg.Settings.from_dict(json.load(open('settings.json'))) (or build it from "
                        "that file), rg.Dataset(name, settings=settings).create(), then dataset.records.log("
                        "[rg.Record.from_dict(r) for r in json.load(open('records.json'))]); after the review: "
                        f"export the records (dataset.records.to_json) and spanqa apply {run_dir} --accept FILE",
                        markup=False, highlight=False)
    if to is ReviewFormat.csv:
        Console().print("fill the decision column (accept/reject; label/start/end to override), then: "
                        f"spanqa apply {run_dir} --accept {out} --out NEW_VERSION", markup=False, highlight=False)
