"""``spanqa compare A B``: align two annotations of the same texts and count the kinds of difference.

A thin wrapper over :func:`spanqa.compare.comparison.compare_corpora` and
:mod:`spanqa.compare.metrics`.  ``A`` is the annotation under audit (``labels``), ``B``
the one held to be right (``other``: a model, a second annotator, a corrected
version); precision is the share of A's spans that B confirms.
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Optional

import typer
from rich.console import Console
from rich.table import Table

from spanqa.cli._app import app
from spanqa.compare.comparison import KINDS, Comparison, compare_corpora
from spanqa.compare.metrics import SpanMetrics, metrics_report, span_metrics
from spanqa.core.document import Corpus
from spanqa.core.errors import Problem
from spanqa.core.output import atomic_open
from spanqa.corpus.formats import detect_format, format_module, read_corpus


def reader_options(**given: Any) -> dict[str, Any]:
    """The reader options the user actually gave (``None`` = not given, left to the reader's default)."""
    return {k: v for k, v in given.items() if v is not None}


def read_side(path: Path, fmt: str | None, options: dict[str, Any], *, flag: str = "--format") -> Corpus:
    """Read one side; a reader option the format does not take is a usage error naming the option."""
    name = fmt or detect_format(path)
    params = inspect.signature(format_module(name).read).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for key in options:
        if key not in params and not takes_any:
            raise typer.BadParameter(f"--{key.replace('_', '-')} does not apply to format {name!r} ({path})",
                                     param_hint=flag)
    return read_corpus(path, format=name, **options)


def problem_lines(problems: Iterable[Problem], *, limit: int = 10) -> list[str]:
    """Counts per code, then the first ``limit`` problems verbatim."""
    problems = list(problems)
    if not problems:
        return []
    counts = Counter(p.code for p in problems)
    lines = ["problems: " + ", ".join(f"{code} x{n}" for code, n in sorted(counts.items()))]
    lines += [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... {len(problems) - limit} more (use --json for all)")
    return lines


def kinds_table(cmp: Comparison, *, title: str) -> Table:
    """Rich table: one row per kind, one column per label (a component counts under its labels-side label)."""
    by = cmp.counts_by_kind_label()
    labels = sorted({lab for row in by.values() for lab in row} | set(cmp.labels))
    table = Table(title=title)
    table.add_column("kind")
    table.add_column("action")
    for lab in labels:
        table.add_column(lab, justify="right")
    table.add_column("total", justify="right", style="bold")
    actions = {k: sorted({c.action for c in cmp.components if c.kind is k}) for k in KINDS}
    for k in KINDS:
        row = by[k]
        table.add_row(k.value, "/".join(actions[k]) or "-", *(str(row.get(lab, 0)) for lab in labels),
                      str(sum(row.values())))
    return table


def metrics_table(strict: SpanMetrics, overlap: SpanMetrics) -> Table:
    table = Table(title="span metrics (A scored against B)")
    table.caption = "P/R/F1: strict (same extent and label); ~P/~R/~F1: overlap (same label, one shared character)"
    for col in ("label", "A", "B", "P", "R", "F1", "~P", "~R", "~F1"):
        table.add_column(col, justify="left" if col == "label" else "right")
    rows = [(lab, strict.per_label[lab], overlap.per_label[lab]) for lab in strict.per_label]
    rows += [("micro", strict.micro, overlap.micro), ("macro", strict.macro, overlap.macro)]
    for name, s, o in rows:
        table.add_row(name, str(s.n_labels), str(s.n_other), f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}",
                      f"{o.precision:.3f}", f"{o.recall:.3f}", f"{o.f1:.3f}",
                      style="bold" if name in ("micro", "macro") else None)
    return table


def write_jsonl(records: Iterable[dict], path: Path) -> int:
    n = 0
    with atomic_open(path) as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    return n


@app.command()
def compare(
    a: Path = typer.Argument(..., help="Annotation under audit (labels): file or folder."),
    b: Path = typer.Argument(..., help="Annotation held to be right (other): model output, second annotator, corrected version."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of A (and of B unless --format-b); detected when omitted."),
    format_b: Optional[str] = typer.Option(None, "--format-b", help="Format of B when it differs from A's."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object (kinds, metrics, problems) instead of tables."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write one JSONL record per non-exact component here."),
    match: str = typer.Option("auto", "--match", help="Pair documents by 'id', by 'order', or 'auto' (id when ids are shared, else order)."),
    tag_column: Optional[int] = typer.Option(None, "--tag-column", help="CoNLL: column holding the tag (default: last)."),
    scheme: Optional[str] = typer.Option(None, "--scheme", help="CoNLL: tag scheme IOB1, IOB2 or BIOES (default IOB2)."),
) -> None:
    """Compare two annotations of the same texts: kinds of difference per label, span P/R/F1, fix records."""
    if match not in ("auto", "id", "order"):
        raise typer.BadParameter("use auto, id or order", param_hint="--match")
    options = reader_options(tag_column=tag_column, scheme=scheme)
    labels = read_side(a, format, options)
    other = read_side(b, format_b or format, options, flag="--format-b")
    cmp = compare_corpora(labels, other, match=match)  # type: ignore[arg-type]
    problems = [*labels.problems, *other.problems, *cmp.problems]
    n_out = write_jsonl(cmp.records(), out) if out is not None else None
    if json_out:
        report = metrics_report(cmp)
        payload = {"a": str(a), "b": str(b), "kinds": report.pop("kinds"),
                   "kinds_by_label": {k.value: row for k, row in cmp.counts_by_kind_label().items()},
                   "confusion": [{"labels": x, "other": y, "count": n} for (x, y), n in cmp.confusion().items()],
                   "metrics": report, **cmp.summary(),
                   "problems": [p.to_dict() for p in problems]}
        if out is not None:
            payload["out"] = {"path": str(out), "records": n_out}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    console = Console()
    s = cmp.summary()
    console.print(f"A = {a} ({labels.format}, {len(labels)} docs)   B = {b} ({other.format}, {len(other)} docs)")
    console.print(f"documents matched by {s['match']}: {s['documents_compared']} compared"
                  f" ({s['documents_whitespace_aligned']} aligned across whitespace differences),"
                  f" {len(s['only_labels'])} in A only, {len(s['only_other'])} in B only,"
                  f" {s['unannotated']['labels']} unannotated in A, {s['unannotated']['other']} unannotated in B;"
                  f" spans A {s['spans_labels']}, B {s['spans_other']}")
    console.print(kinds_table(cmp, title="differences, named from A's side if B is right"))
    console.print(metrics_table(span_metrics(cmp, mode="strict"), span_metrics(cmp, mode="overlap")))
    for line in problem_lines(problems):
        console.print(line, markup=False, highlight=False)
    if out is not None:
        console.print(f"wrote {n_out} records to {out}", markup=False)
