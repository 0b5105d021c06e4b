"""``spanqa audit PATH``: k-fold out-of-fold tagging, span quality scores and findings, into a run folder.

A thin wrapper over :func:`spanqa.run.pipeline.audit`; rerunning with the same ``--out`` resumes
from the folds already finished.  With ``--ray ADDRESS`` the corpus shards and folds run
first as Ray tasks (:func:`spanqa.model.distributed.run_kfold_ray`, into the same run folder),
and the audit then finds every fold finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from spanqa.cli._app import app, resumable
from spanqa.cli.summary import render_summary
from spanqa.core.config import AuditConfig, load_config
from spanqa.corpus.formats import read_corpus
from spanqa.model.predictions import load_user_predictions
from spanqa.review.report import write_run_report
from spanqa.run.pipeline import audit as run_audit

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
    ray: Optional[str] = typer.Option(None, "--ray", help="Run corpus shards and folds as Ray tasks: a cluster "
                                      "address ('auto' = the cluster this machine joined), or 'local' for a Ray "
                                      "started here (pip install 'spanqa[ray]')."),
    shards: Optional[int] = typer.Option(None, "--shards", min=1, help="With --ray in fast mode: encoding tasks "
                                         "(default: train.folds)."),
    predictions: Optional[Path] = typer.Option(None, "--predictions", help="Audit against your own model (no tagger is trained): "
                                               "OUT-OF-SAMPLE word marginals (.npz: spanqa's layout or cleanlab's "
                                               "pred_probs + class_names) or predicted spans in any corpus format."),
) -> None:
    """Find likely annotation errors: out-of-fold model vs labels, with span quality scores and suggested fixes."""
    cfg = build_config(config, set_, model=model, format=format)
    fmt = None if cfg.data.format in ("", "auto") else cfg.data.format
    corpus = read_corpus(path, format=fmt)
    oof = load_user_predictions(predictions, corpus) if predictions is not None else None
    if oof is not None and ray is not None:
        raise typer.BadParameter("--predictions audits your model's output; --ray trains spanqa's", param_hint="--ray")
    with resumable(out):
        if ray is not None:
            _folds_on_ray(path, cfg, fmt, out, address=None if ray == "local" else ray, shards=shards)
        result = run_audit(corpus, cfg, out=out, progress=not quiet, oof=oof)
    report = write_run_report(out, corpus)
    if not quiet:
        render_summary(result.summary, result.findings, console=Console())
        Console().print(f"run folder: {out} (findings.jsonl, spans.jsonl, summary.json)\nreport: {report}",
                        markup=False, highlight=False)
    else:  # quiet still says where the result is
        Console().print(f"report: {report}", markup=False, highlight=False, soft_wrap=True)


def _folds_on_ray(path: Path, cfg: AuditConfig, fmt: Optional[str], out: Path, *, address: Optional[str],
                  shards: Optional[int]) -> None:
    """Every fold (and, in fast mode, the corpus encoding) as Ray tasks, finished into ``out/folds``."""
    from spanqa.core.errors import fail

    try:
        import ray  # noqa: F401
    except ImportError:
        raise fail("E407", "--ray needs Ray (pip install 'spanqa[ray]')", key="--ray") from None
    from spanqa.model.distributed import reachable, run_kfold_ray

    if address is not None and not reachable(address):  # Ray itself would retry for minutes
        raise fail("E413", f"nothing answers at {address}", key="--ray")
    run_kfold_ray(path, cfg, out, address=address, format=fmt, shards=shards)
