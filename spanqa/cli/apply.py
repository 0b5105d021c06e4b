"""``spanqa apply RUN_DIR --accept DECISIONS --out NEW``: accepted fixes -> a new corpus version + change log.

A thin wrapper over :func:`spanqa.review.apply.apply_run`; the rules (conflicts,
idempotence, ``--all-above``) are described in :mod:`spanqa.review.apply`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from spanqa.cli._app import app
from spanqa.cli.export import counts_line
from spanqa.review.apply import apply_run
from spanqa.run.reader import load_run

#: problems that mean a reviewer's decision or edit was left out: the command exits 1 after writing the version
NOT_APPLIED = frozenset({"W502", "W506", "W510", "W511"})


@app.command()
def apply(
    run_dir: Path = typer.Argument(..., help="Run folder written by `spanqa audit --out`."),
    accept: Optional[Path] = typer.Option(None, "--accept", help="Decisions: CSV/JSONL (finding_id, decision, [label, start, end, reviewer, reason]) or a Label Studio export of the review tasks."),
    all_above: Optional[float] = typer.Option(None, "--all-above", min=0.0, max=1.0, help="Also accept every finding with a fix whose confidence (evidence p_suggestion, else 1 - score) is > this."),
    out: Path = typer.Option(..., "--out", "-o", help="New version folder (corpus, changelog.jsonl, VERSION.json); the source is never touched."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer", help="Reviewer name for decisions that give none."),
    users: Optional[Path] = typer.Option(None, "--users", help="Label Studio: the saved GET /api/users list, to name the user ids of an export."),
    to: Optional[str] = typer.Option(None, "--to", help="Write the new corpus in this format (default: the source format)."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="The audited corpus, if it moved since the audit."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of --corpus; detected when omitted."),
    max_problems: int = typer.Option(10, "--show-problems", help="How many problems to print."),
) -> None:
    """Apply accepted fixes to a copy of the corpus; write the change log and the version record.

    Exits 1 (after writing the version) when a reviewer's decision or edit could not be applied:
    conflicting fixes (W502), an edit tied to no finding (W506), an override outside the document (W510),
    annotations of one task that disagree (W511).
    """
    from spanqa.cli.compare import problem_lines

    if accept is None and all_above is None:
        raise typer.BadParameter("give --accept DECISIONS, --all-above SCORE, or both", param_hint="--accept")
    run = load_run(run_dir, corpus=corpus, corpus_format=format)
    result, version = apply_run(run, out, accept=accept, all_above=all_above, reviewer=reviewer, format=to,
                                users=users)
    con = Console(stderr=False)
    con.print(f"new version: {out / version['corpus']['path']} ({version['corpus']['format']})", markup=False,
              highlight=False)
    con.print(counts_line(dict(version["counts"])), markup=False, highlight=False)
    con.print(f"parent {version['parent']['hash'][:19]}... -> {version['hash'][:19]}...", markup=False,
              highlight=False)
    err = Console(stderr=True)
    for line in problem_lines(result.problems, limit=max_problems):
        if line.lstrip().startswith("... "):
            line = f"  ... {len(result.problems) - max_problems} more in {out / 'problems.jsonl'}"
        err.print(line, markup=False, highlight=False)
    lost = [p for p in result.problems if p.code in NOT_APPLIED]
    if lost:
        err.print(f"{len(lost)} reviewer decision(s) or edit(s) could not be applied "
                  f"({', '.join(sorted({p.code for p in lost}))}); they are listed in {out / 'problems.jsonl'}. "
                  "Exit status 1.", markup=False, highlight=False)
        raise typer.Exit(code=1)

