"""``spanqa agree A B [C ...]``: agreement between annotators of the same texts.

A thin wrapper over :func:`spanqa.compare.agreement.agreement`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from spanqa.cli._app import app
from spanqa.cli.compare import problem_lines, read_side, reader_options, write_jsonl
from spanqa.compare.agreement import Agreement, agreement


def display_names(paths: List[Path]) -> list[str]:
    """Short unique names: the paths relative to their common folder (the full path when that is not unique)."""
    resolved = [p.resolve() for p in paths]
    try:
        common = Path(os.path.commonpath(resolved))
        names = [str(p.relative_to(common)) if p != common else p.name for p in resolved]
    except ValueError:
        names = [str(p) for p in paths]
    return names if len(set(names)) == len(names) and all(names) else [str(p) for p in paths]


def _fmt(x: float | None) -> str:
    return "-" if x is None or x != x else f"{x:.3f}"


def agreement_tables(ag: Agreement) -> list[Table]:
    pairs = Table(title="pairwise agreement")
    for col in ("A", "B", "F1 strict", "F1 overlap", "kappa (words)", "disagreements"):
        pairs.add_column(col, justify="left" if col in ("A", "B") else "right")
    for p in ag.pairs:
        pairs.add_row(p.a, p.b, _fmt(p.strict.f1), _fmt(p.overlap.f1), _fmt(p.kappa),
                      str(sum(n for k, n in p.kinds.items() if k != "exact")))
    labels = Table(title="agreement per label")
    for col in ("label", "spans", "F1 strict", "F1 overlap", "alpha"):
        labels.add_column(col, justify="left" if col == "label" else "right")
    for lab, d in ag.per_label.items():
        labels.add_row(lab, str(int(d["spans"])), _fmt(d["f1_strict"]), _fmt(d["f1_overlap"]), _fmt(d["alpha"]))
    return [pairs, labels]


@app.command()
def agree(
    paths: List[Path] = typer.Argument(..., help="Two or more annotations of the same texts (files or folders)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of every annotation; detected per path when omitted."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write one JSONL disagreement record per non-exact component and pair."),
    match: str = typer.Option("auto", "--match", help="Pair documents with the first annotation by 'id', 'order' or 'auto'."),
    flag_share: float = typer.Option(0.15, "--flag-share", help="Flag when more than this share of documents hold a disagreement."),
    tag_column: Optional[int] = typer.Option(None, "--tag-column", help="CoNLL: column holding the tag (default: last)."),
    scheme: Optional[str] = typer.Option(None, "--scheme", help="CoNLL: tag scheme IOB1, IOB2 or BIOES (default IOB2)."),
) -> None:
    """Annotator agreement: pairwise span F1, word-level Cohen's kappa, Krippendorff's alpha, per label."""
    if len(paths) < 2:
        raise typer.BadParameter("give at least two annotations", param_hint="PATHS")
    if match not in ("auto", "id", "order"):
        raise typer.BadParameter("use auto, id or order", param_hint="--match")
    options = reader_options(tag_column=tag_column, scheme=scheme)
    corpora = [read_side(p, format, options) for p in paths]
    ag = agreement(corpora, names=display_names(paths), match=match, flag_share=flag_share)  # type: ignore[arg-type]
    problems = [p for c in corpora for p in c.problems] + list(ag.problems)
    n_out = write_jsonl(ag.records(), out) if out is not None else None
    if json_out:
        payload = ag.to_dict()
        payload["problems"] = [p.to_dict() for p in problems]
        if out is not None:
            payload["out"] = {"path": str(out), "records": n_out}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(f"{len(paths)} annotators, {ag.documents} documents shared by all, {ag.n_words} words;"
                  f" Krippendorff's alpha (nominal, word tags) = {_fmt(ag.alpha)}", markup=False)
    for table in agreement_tables(ag):
        console.print(table)
    verdict = ("FLAG: instructions likely unclear" if ag.flagged else "ok")
    console.print(f"documents with any disagreement: {ag.documents_disagreeing}/{ag.documents}"
                  f" ({ag.disagreement_share:.1%}; threshold {ag.flag_share:.0%}) -> {verdict}", markup=False)
    for line in problem_lines(problems):
        console.print(line, markup=False, highlight=False)
    if out is not None:
        console.print(f"wrote {n_out} records to {out}", markup=False)
