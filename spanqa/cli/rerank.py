"""``spanqa rerank RUN_DIR --decisions FILE [...]``: reviewers' decisions re-rank the findings not yet reviewed.

A thin wrapper over :func:`spanqa.review.rerank.rerank` (the model: :mod:`spanqa.score.ranking.feedback`).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from spanqa.cli._app import app
from spanqa.cli.compare import problem_lines
from spanqa.review.decisions import read_decisions, resolve
from spanqa.review.rerank import rerank as run_rerank
from spanqa.review.rerank import write_findings
from spanqa.run.reader import load_run


@app.command()
def rerank(
    run_dir: Path = typer.Argument(..., help="Run folder written by `spanqa audit --out`."),
    decisions: List[Path] = typer.Option(..., "--decisions", help="Decisions so far (the report's file, the CSV sheet, a Label Studio or Argilla export); repeat for several files."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer", help="Reviewer name for decisions that give none."),
    users: Optional[Path] = typer.Option(None, "--users", help="Label Studio: the saved GET /api/users list, to name the user ids of an export."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="The audited corpus, if it moved since the audit."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of --corpus; detected when omitted."),
) -> None:
    """Re-rank the unreviewed findings by how similar findings fared in review; rewrites findings.jsonl (and report.html)."""
    run = load_run(run_dir, corpus=corpus, corpus_format=format)
    got, problems = [], []
    for path in decisions:
        d, p = read_decisions(path, run=run, reviewer=reviewer, users=users)
        got += d
        problems += p
    chosen, conflicts = resolve(got)
    problems += conflicts
    records, summary = run_rerank(run, chosen)
    write_findings(run, records)
    con = Console()
    say = lambda s: con.print(s, markup=False, highlight=False)  # noqa: E731
    for line in problem_lines(problems):
        say(line)
    if (run_dir / "report.html").is_file():
        from spanqa.review.report import write_report

        write_report(load_run(run_dir, corpus=corpus, corpus_format=format), run_dir / "report.html")
    say(f"re-ranked {summary['unreviewed']} unreviewed findings by {summary['decided']} decisions "
        f"({summary['accepted']} accepted, {summary['rejected']} rejected); {summary['moved']} moved. "
        f"{run_dir / 'findings.jsonl'} rewritten (each keeps its audit score as evidence.static_score)")
    if summary["not_in_run"]:
        say(f"  {len(summary['not_in_run'])} decisions name findings not in this run and were not used "
            f"(first: {', '.join(summary['not_in_run'][:3])})")
    if summary["patterns"]:
        say(f"  {summary['patterns']} decisions on patterns were not used: decide their members")
    notes: dict[str, int] = {}
    for r in records:
        note = (r.get("evidence") or {}).get("reviews")
        if note:
            notes[note["text"]] = notes.get(note["text"], 0) + 1
    for text, n in sorted(notes.items(), key=lambda kv: -kv[1])[:5]:
        say(f"  {text}: {n} unreviewed findings moved")
