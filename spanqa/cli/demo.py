"""``spanqa demo``: generate synthetic notes with injected errors, audit the noisy copy, score the audit.

Steps (each an importable function): :func:`spanqa.measure.demo.write_demo` writes ``OUT/corpus/``
(``clean/`` and ``noisy/`` brat folders and ``manifest.jsonl``, one injected error a line);
:func:`spanqa.run.pipeline.audit` audits ``noisy/`` into ``OUT/run/``; :func:`spanqa.measure.demo.evaluate.evaluate_demo`
compares the findings with the manifest (per-kind recall and precision) and the span
qualities with the clean annotation (calibration), and adds both to ``OUT/run/summary.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, List, Sequence

import typer
from rich.console import Console
from rich.table import Table

from spanqa.cli._app import app, resumable
from spanqa.cli.summary import render_summary
from spanqa.core.config import load_config
from spanqa.corpus.formats import read_corpus
from spanqa.measure.demo.evaluate import evaluate_demo
from spanqa.review.report import write_run_report
from spanqa.run.pipeline import AuditResult, audit

DEFAULT_OUT = Path("spanqa-demo")
#: the demo's patients are the id prefix (p012_n2 -> p012), so folds keep a patient's notes together
DEMO_GROUP_REGEX = r"^([^_]+)_"


def _demo_paths(written: Any, corpus_dir: Path) -> tuple[Path, Path, Path]:
    """``(clean, noisy, manifest)`` from whatever :func:`write_demo` returned (object, mapping or None)."""
    def get(name: str, default: Path) -> Path:
        if isinstance(written, dict) and name in written:
            return Path(written[name])
        if hasattr(written, name):
            return Path(getattr(written, name))
        return default

    return (get("clean", corpus_dir / "clean"), get("noisy", corpus_dir / "noisy"),
            get("manifest", corpus_dir / "manifest.jsonl"))


def run_demo(out: Path, *, n_notes: int = 150, seed: int = 0, rate: float = 0.10, overrides: Sequence[str] = (),
             progress: bool = True) -> tuple[AuditResult, dict[str, Any]]:
    """Generate, audit and evaluate; returns the audit result and ``{"demo_eval", "calibration"}``."""
    from spanqa.measure.demo import write_demo

    out = Path(out)
    t0 = time.perf_counter()
    written = write_demo(out / "corpus", n_notes=n_notes, seed=seed, rate=rate)
    clean_dir, noisy_dir, manifest_path = _demo_paths(written, out / "corpus")
    t_gen = time.perf_counter() - t0
    sets = list(overrides)
    if not any(s.strip().startswith("data.group_regex") for s in sets):
        sets.insert(0, f"data.group_regex='{DEMO_GROUP_REGEX}'")
    cfg = load_config(overrides=sets)
    noisy = read_corpus(noisy_dir, format="brat")
    clean = read_corpus(clean_dir, format="brat")
    manifest = [json.loads(line) for line in manifest_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = audit(noisy, cfg, out=out / "run", progress=progress)
    result.summary["timings"]["generate_s"] = round(t_gen, 3)
    result.summary["demo"] = {"n_notes": n_notes, "seed": seed, "rate": rate, "injected_errors": len(manifest),
                              "corpus": str((out / "corpus").resolve())}
    evaluation = evaluate_demo(result, clean, manifest)
    return result, evaluation


def demo_tables(evaluation: dict[str, Any]) -> list[Table]:
    ev = evaluation["demo_eval"]
    t = Table(title="findings vs injected errors", header_style="bold",
              caption="recall: share of injected errors a finding's suggestion fixes exactly; flagged: share any "
                      "finding overlaps; precision: share of findings that overlap an injected error")
    for col in ("kind", "injected", "recall", "flagged", "findings", "precision"):
        t.add_column(col, justify="left" if col == "kind" else "right", no_wrap=True)
    fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    for kind, row in ev.items():
        if kind == "all":
            continue
        t.add_row(kind, str(row["n"]), fmt(row["recall"]), fmt(row["recall_flagged"]), str(row["n_findings"]),
                  fmt(row["precision"]))
    a = ev["all"]
    t.add_row("[bold]all[/bold]", str(a["n"]), fmt(a["recall"]), fmt(a["recall_flagged"]), str(a["n_findings"]),
              fmt(a["precision"]))
    cal = evaluation["calibration"]
    c = Table(title=f"span quality calibration (ECE {fmt(cal['ece'])}, n={cal['n']})", header_style="bold")
    for col in ("quality bin", "spans", "mean quality", "share right"):
        c.add_column(col, justify="right")
    for b in cal["bins"]:
        c.add_row(f"{b['lo']:.1f}-{b['hi']:.1f}", str(b["n"]), fmt(b["mean_score"]), fmt(b["accuracy"]))
    return [t, c]


@app.command()
def demo(
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="Folder for the demo corpus (corpus/) and the run (run/)."),
    notes: int = typer.Option(150, "--notes", "-n", help="Number of synthetic notes."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generator and the error injection."),
    rate: float = typer.Option(0.10, "--rate", help="Share of spans that get an injected error."),
    set_: List[str] = typer.Option([], "--set", help="Override one config key: --set train.epochs=1 (repeatable)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or tables."),
) -> None:
    """Generate a synthetic clinical corpus with known errors, audit it, and report recall, precision and calibration."""
    with resumable(out / "run"):
        result, evaluation = run_demo(out, n_notes=notes, seed=seed, rate=rate, overrides=set_, progress=not quiet)
    report = write_run_report(out / "run")
    if quiet:
        return
    console = Console()
    render_summary(result.summary, result.findings, console=console)
    for table in demo_tables(evaluation):
        console.print(table)
    console.print(f"demo corpus: {out / 'corpus'}   run folder: {out / 'run'}\nreport: {report} (open it in a "
                  "browser to review the findings)", markup=False, highlight=False)


__all__ = ["run_demo", "demo_tables", "DEMO_GROUP_REGEX"]
