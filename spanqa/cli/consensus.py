"""``spanqa consensus A B [C ...] --out DIR``: one consensus corpus from several annotators of the same texts.

A thin wrapper over :mod:`spanqa.compare.consensus` (Dawid-Skene over words by default; ``--method`` for the crowd HMM,
a word majority vote or the exact-extent methods; ``--model`` adds the out-of-fold tagger as one more annotator).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from spanqa.cli._app import app
from spanqa.cli.agree import display_names
from spanqa.cli.compare import problem_lines, read_side
from spanqa.compare.consensus import DEFAULT, LEARN, METHODS, annotator_table, disagreements
from spanqa.compare.consensus import consensus as run_consensus
from spanqa.core.output import atomic_open, write_text
from spanqa.corpus.formats import write_corpus


def annotator_names(paths: List[Path]) -> list[str]:
    """Short unique names: the paths relative to their common folder, without a file suffix when that stays unique."""
    names = display_names(paths)
    bare = [str(Path(n).with_suffix("")) if Path(n).suffix else n for n in names]
    return bare if len(set(bare)) == len(bare) and all(bare) else names


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


@app.command()
def consensus(
    paths: List[Path] = typer.Argument(..., help="Two or more annotations of the same texts (files or folders), one per annotator."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for consensus.jsonl (spans scored by their posterior), annotators.json, disagreements.jsonl (and model.jsonl with --model)."),
    method: str = typer.Option(DEFAULT, "--method", help="word-ds (Dawid-Skene over words), hmm (crowd HMM), word-vote, dawid-skene or vote (exact extents)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of every annotation; detected per path when omitted."),
    doc_break: Optional[str] = typer.Option(None, "--doc-break", help="CoNLL only: file (one document per file, e.g. crowd exports), docstart, sentence or auto."),
    model: bool = typer.Option(False, "--model", help="Add the out-of-fold model as one more annotator: the audit's tagger trained k-fold on the consensus (trains a model)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="With --model: TOML configuration of the tagger."),
    set_: List[str] = typer.Option([], "--set", help="With --model: override one config key (repeatable)."),
    learn: str = typer.Option("all", "--learn", help="word-ds / hmm: learn each annotator's confusions on all words, or only on contested ones (words someone marked and 2 either side) - for automatic sources (rules, gazetteers, LLMs) that mark the same look-alike words wrongly."),
    min_documents: int = typer.Option(5, "--min-documents", help="Flag annotators who saw fewer documents than this (their reliability rests on little)."),
) -> None:
    """Merge annotators into one corpus, weighting each by how reliable they are per label."""
    if method not in METHODS:
        raise typer.BadParameter(f"use one of {', '.join(METHODS)}", param_hint="--method")
    if learn not in LEARN or (learn != "all" and method not in ("word-ds", "hmm")):
        raise typer.BadParameter(f"use one of {', '.join(LEARN)}; contested needs --method word-ds or hmm", param_hint="--learn")
    options = {"doc_break": doc_break} if doc_break else {}
    corpora = [read_side(p, format, options, flag="--doc-break") for p in paths]
    names = annotator_names(paths)
    out.mkdir(parents=True, exist_ok=True)
    if model:
        if method == "vote":
            raise typer.BadParameter("--model joins a fitted consensus; use a method other than vote", param_hint="--model")
        from spanqa.compare.consensus import MODEL_NAME, with_model
        from spanqa.core.config import load_config

        result, predicted = with_model(corpora, load_config(config, set_), names=names, method=method,
                                       learn=learn)
        write_corpus(predicted, out / "model.jsonl", "jsonl")
        names = names + [MODEL_NAME]
    else:
        result = run_consensus(corpora, names, method=method, learn=learn)
    crowd = result.crowd
    write_corpus(result.corpus, out / "consensus.jsonl", "jsonl")
    fitted = {a["name"]: a["accuracy"] for a in result.annotators}
    table = annotator_table(crowd, result.corpus, fitted=fitted, min_documents=min_documents)
    write_text(out / "annotators.json", json.dumps({"method": result.method, "aligned": crowd.aligned,
                                                    "problems": [str(p) for p in result.problems],
                                                    "annotators": table}, indent=1, ensure_ascii=False) + "\n",
               root=out)
    n_dis = 0
    with atomic_open(out / "disagreements.jsonl", root=out) as fh:
        for r in disagreements(crowd, result.corpus):
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            n_dis += 1
    con = Console()
    for line in problem_lines(result.problems):
        con.print(line, markup=False, highlight=False)
    d = Table(title=f"each annotator against the consensus ({result.method}), on the documents they saw")
    for col, just in (("annotator", "left"), ("docs", "right"), ("F1", "right"), ("precision", "right"),
                      ("recall", "right"), ("differences by kind", "left")):
        d.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in sorted(table, key=lambda r: -(r["f1_vs_consensus"] or 0)):
        d.add_row(r["name"] + (" (few documents)" if r["few_documents"] else ""), str(r["documents"]),
                  _pct(r["f1_vs_consensus"]), _pct(r["precision"]), _pct(r["recall"]),
                  ", ".join(f"{k} {v['n']}" for k, v in r["differences"].items()) or "-")
    con.print(d)
    n = sum(len(doc.spans or ()) for doc in result.corpus.documents)
    con.print(f"consensus: {out / 'consensus.jsonl'} ({len(result.corpus)} documents, {n} spans, {result.method}); "
              f"{n_dis} disagreements with who said what: {out / 'disagreements.jsonl'}",
              markup=False, highlight=False)
