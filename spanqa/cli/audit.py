"""``spanqa audit PATH``: k-fold out-of-fold tagging, span quality scores and findings, into a run folder.

A thin wrapper over :func:`spanqa.audit.audit`; rerunning with the same ``--out`` resumes
from the folds already finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from spanqa.audit import audit as run_audit
from spanqa.audit import render_summary
from spanqa.cli._app import app
from spanqa.config import AuditConfig, load_config
from spanqa.formats import read_corpus

DEFAULT_OUT = Path("spanqa-audit")


def build_config(config_file: Optional[Path], sets: List[str], *, model: Optional[Path] = None,
                 format: Optional[str] = None) -> AuditConfig:
    """Defaults < ``--config`` file < ``--set`` overrides < ``--model`` / ``--format``."""
    cfg = load_config(config_file, overrides=list(sets))
    direct = {}
    if model is not None:
        direct["model.path"] = str(model)
    if format is not None:
        direct["data.format"] = format
    return cfg.replace(**direct) if direct else cfg


@app.command()
def audit(
    path: Path = typer.Argument(..., help="The corpus to audit (file or folder)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Corpus format; detected when omitted (config data.format)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML configuration file (see configs/audit.toml)."),
    set_: List[str] = typer.Option([], "--set", help="Override one config key: --set train.folds=3 (repeatable)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Local Hugging Face checkpoint directory (config model.path)."),
    out: Path = typer.Option(DEFAULT_OUT, "--out", "-o", help="Run folder; an interrupted run there resumes."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or tables."),
) -> None:
    """Find likely annotation errors: out-of-fold model vs labels, with span quality scores and suggested fixes."""
    cfg = build_config(config, set_, model=model, format=format)
    fmt = None if cfg.data.format in ("", "auto") else cfg.data.format
    corpus = read_corpus(path, format=fmt)
    result = run_audit(corpus, cfg, out=out, progress=not quiet)
    if not quiet:
        render_summary(result.summary, result.findings, console=Console())
        Console().print(f"run folder: {out} (findings.jsonl, spans.jsonl, summary.json)", markup=False,
                        highlight=False)
