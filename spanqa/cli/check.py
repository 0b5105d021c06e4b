"""``spanqa check PATH``: validate a corpus and summarise it (a thin wrapper over :func:`spanqa.corpus.check.check_corpus`).

Exit codes: 0 = no errors (warnings allowed), 1 = the corpus has errors
(``E2xx`` offsets/text, ``E1xx`` malformed input), 2 = the path or format
could not be read at all (handled in :func:`spanqa.cli.main`).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from spanqa.cli._app import app
from spanqa.core.document import Corpus
from spanqa.core.errors import CATALOGUE
from spanqa.corpus.check import CheckReport, LengthStats, check_corpus, problems_by_code
from spanqa.corpus.formats import detect_format, format_module, read_corpus

DEFAULT_SHOWN = 5


def read_for_check(path: Path, fmt: str | None, options: dict[str, Any]) -> Corpus:
    """Read in collecting mode (errors recorded, bad items skipped); an option the format
    does not take is a usage error naming the option.  Path and format failures raise E1xx."""
    name = fmt or detect_format(path)
    params = inspect.signature(format_module(name).read).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        for key in options:
            if key not in params:
                raise typer.BadParameter(f"--{key.replace('_', '-')} does not apply to format {name!r} ({path})",
                                         param_hint="--format")
    return read_corpus(path, format=name, strict=False, **options)


def summary_table(r: CheckReport) -> Table:
    t = Table(title=f"corpus {r.source} ({r.format})", show_header=False)
    t.add_column("what")
    t.add_column("value")
    t.add_row("documents", f"{r.documents} ({r.annotated} annotated, {r.not_annotated} not annotated, "
                           f"{r.empty} empty, {r.duplicate} duplicate)")
    t.add_row("words", str(r.words))
    t.add_row("sentences", f"{r.sentences} ({r.sentence_source})")
    t.add_row("spans", f"{r.spans} in {len(r.spans_per_label)} labels")
    t.add_row("discontinuous spans", str(r.discontinuous))
    t.add_row("overlapping spans", f"{r.overlapping} ({r.nested} nested pairs, {r.crossing} crossing pairs)")
    if len(r.layers) > 1:
        t.add_row("nested labels", f"{len(r.layers)} layers that never overlap: the audit judges them layer by layer, "
                  f"about {len(r.layers)}x the time of one audit (data.layers = flat: one layer)")
    t.add_row("spans with an edge inside a word", str(r.cross_token_edges))
    t.add_row("spans with an edge on whitespace", str(r.whitespace_edges))
    t.add_row("duplicate spans", str(r.duplicate_spans))
    for name, st in (("span length, words", r.span_words), ("span length, chars", r.span_chars)):
        t.add_row(name, _stats(st))
    t.add_row("problems", f"{r.errors} errors, {r.warnings} warnings")
    return t


def _stats(st: LengthStats) -> str:
    if not st.count:
        return "-"
    return f"min {st.min} / median {st.median:g} / p95 {st.p95:g} / max {st.max}"


def histogram_table(r: CheckReport) -> Table:
    t = Table(title="span length histogram")
    t.add_column("words")
    t.add_column("spans", justify="right")
    t.add_column("chars")
    t.add_column("spans", justify="right")
    wh, ch = list(r.span_words.histogram), list(r.span_chars.histogram)
    for i in range(max(len(wh), len(ch))):
        w = wh[i] if i < len(wh) else ("", "")
        c = ch[i] if i < len(ch) else ("", "")
        t.add_row(w[0], str(w[1]), c[0], str(c[1]))
    return t


def labels_table(r: CheckReport) -> Table:
    t = Table(title="labels")
    t.add_column("label")
    t.add_column("spans", justify="right")
    t.add_column("share", justify="right")
    t.add_column("note")
    for lab, n in r.spans_per_label.items():
        notes = []
        if lab in r.rare_labels:
            notes.append(f"rare (< {r.rare_threshold})")
        if any(c.isspace() for c in lab):
            notes.append("holds whitespace")
        t.add_row(repr(lab) if notes else lab, str(n), f"{n / r.spans:.1%}", ", ".join(notes))
    return t


def print_problems(console: Console, r: CheckReport, *, shown: int) -> None:
    for code, items in problems_by_code(r.problems).items():
        title, remedy = CATALOGUE[code]
        style = "bold red" if code.startswith("E") else "bold yellow"
        console.print(f"{code} {title}: {len(items)}", style=style, markup=False, highlight=False)
        for p in items[:shown]:
            line = f"  {p.where}" + (f": {p.detail}" if p.detail else "")
            console.print(line, markup=False, highlight=False)
        if len(items) > shown:
            console.print(f"  ... {len(items) - shown} more (--max-problems N, or --json)", markup=False,
                          highlight=False)
        console.print(f"  fix: {remedy}", style="dim", markup=False, highlight=False)


@app.command()
def check(
    path: Path = typer.Argument(..., help="Corpus file or folder."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="bioc, brat, conll, hf (Hugging Face datasets), jsonl, labelstudio, pubtator, spacy (DocBin) or xmi (INCEpTION); detected when omitted."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as one JSON object instead of tables."),
    max_problems: Optional[int] = typer.Option(None, "--max-problems", min=0,
                                               help=f"Problems listed per code (tables: default {DEFAULT_SHOWN}; JSON: default all)."),
    rare_threshold: int = typer.Option(5, "--rare-threshold", min=1, help="Labels with fewer spans are reported as rare (W206)."),
    tag_column: Optional[int] = typer.Option(None, "--tag-column", help="CoNLL: column holding the tag (default: last)."),
    scheme: Optional[str] = typer.Option(None, "--scheme", help="CoNLL: tag scheme IOB1, IOB2 or BIOES (default IOB2)."),
) -> None:
    """Validate a corpus and summarise it: documents, words, spans per label, lengths, overlaps, problems.

    Exits 1 when the corpus has errors, 0 otherwise (warnings allowed).
    """
    given = {"tag_column": tag_column, "scheme": scheme}
    corpus = read_for_check(path, format, {k: v for k, v in given.items() if v is not None})
    report = check_corpus(corpus, rare_threshold=rare_threshold)
    if json_out:
        typer.echo(json.dumps(report.to_dict(max_per_code=max_problems), ensure_ascii=False, indent=2))
    else:
        console = Console()
        console.print(summary_table(report))
        if report.spans:
            console.print(labels_table(report))
            console.print(histogram_table(report))
        print_problems(console, report, shown=DEFAULT_SHOWN if max_problems is None else max_problems)
        verdict = "OK: no errors" if report.ok else f"FAILED: {report.errors} error(s)"
        console.print(f"{verdict}, {report.warnings} warning(s)", style="bold green" if report.ok else "bold red",
                      markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(code=1)
