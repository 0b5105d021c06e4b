"""``spanqa consensus A B [C ...] --out DIR``: one consensus corpus from several annotators of the same texts.

A thin wrapper over :mod:`spanqa.consensus` (Dawid-Skene by default, ``--method vote`` for the majority vote,
``--model`` to add the out-of-fold tagger as one more annotator).
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
from spanqa.cli.compare import read_side
from spanqa.consensus import annotator_table, dawid_skene, disagreements, majority_vote
from spanqa.formats import write_corpus
from spanqa.output import write_text


@app.command()
def consensus(
    paths: List[Path] = typer.Argument(..., help="Two or more annotations of the same texts (files or folders)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for consensus.jsonl (spans scored by their posterior), annotators.json, disagreements.jsonl (and model.jsonl with --model)."),
    method: str = typer.Option("dawid-skene", "--method", help="dawid-skene (per-annotator confusion, EM) or vote (majority)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of every annotation; detected per path when omitted."),
    model: bool = typer.Option(False, "--model", help="Add the out-of-fold model as one more annotator: the audit's tagger trained k-fold on the Dawid-Skene consensus (CROWDLAB-style; trains a model)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="With --model: TOML configuration of the tagger."),
    set_: List[str] = typer.Option([], "--set", help="With --model: override one config key (repeatable)."),
) -> None:
    """Merge annotators into one corpus, weighting each by how reliable they are per label."""
    if method not in ("dawid-skene", "vote"):
        raise typer.BadParameter("use dawid-skene or vote", param_hint="--method")
    if model and method != "dawid-skene":
        raise typer.BadParameter("--model joins the Dawid-Skene consensus; leave out --method vote", param_hint="--model")
    corpora = [read_side(p, format, {}) for p in paths]
    names = display_names(paths)
    out.mkdir(parents=True, exist_ok=True)
    if model:
        from spanqa.config import load_config
        from spanqa.consensus import MODEL_NAME, with_model

        result, predicted = with_model(corpora, load_config(config, set_), names=names)
        write_corpus(predicted, out / "model.jsonl", "jsonl")
        corpora, names = corpora + [predicted], names + [MODEL_NAME]
    else:
        result = dawid_skene(corpora, names=names) if method == "dawid-skene" else majority_vote(corpora)
    write_corpus(result.corpus, out / "consensus.jsonl", "jsonl")
    table = annotator_table(corpora, names, result)
    write_text(out / "annotators.json", json.dumps({"method": result.method, "annotators": table},
                                                   indent=1, ensure_ascii=False) + "\n", root=out)
    rows = disagreements(corpora, names, result)
    write_text(out / "disagreements.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
               root=out)
    con = Console()
    if result.annotators:
        t = Table(title=f"annotator reliability ({result.method}: P(says the true class))")
        classes = list(result.annotators[0]["accuracy"])
        t.add_column("annotator")
        for c in classes:
            t.add_column(c, justify="right")
        for a in result.annotators:
            t.add_row(a["name"], *(f"{a['accuracy'][c]:.2f}" for c in classes))
        con.print(t)
    d = Table(title="each annotator against the consensus")
    d.add_column("annotator")
    d.add_column("span F1", justify="right")
    d.add_column("differences by kind")
    for r in table:
        d.add_row(r["name"], f"{r['f1_vs_consensus']:.3f}",
                  ", ".join(f"{k} {v['n']}" for k, v in r["differences"].items()) or "-")
    con.print(d)
    n = sum(len(doc.spans or ()) for doc in result.corpus.documents)
    con.print(f"consensus: {out / 'consensus.jsonl'} ({len(result.corpus)} documents, {n} spans, {result.method}); "
              f"{len(rows)} disagreements with who said what: {out / 'disagreements.jsonl'}",
              markup=False, highlight=False)
