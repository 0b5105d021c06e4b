"""``spanqa estimate RUN_DIR --decisions SHEET``: the error rate from a reviewed stratified sample, with its interval.

A thin wrapper over :func:`spanqa.review.estimate.estimate` and :func:`spanqa.review.estimate.plan`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from spanqa.cli._app import app
from spanqa.review.estimate import estimate as run_estimate
from spanqa.review.estimate import expected_errors, plan, read_verdicts
from spanqa.run.reader import load_run


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@app.command()
def estimate(
    run_dir: Path = typer.Argument(..., help="Run folder written by `spanqa audit --out`."),
    decisions: Path = typer.Option(..., "--decisions", help="The sheet written by `spanqa sample --design stratified`, filled in."),
    target: float = typer.Option(0.02, "--target", help="The error rate to reach (0.02 = 2%)."),
    json_out: bool = typer.Option(False, "--json", help="Print the estimate as JSON."),
) -> None:
    """Estimate the corpus error rate from reviewed sample verdicts, and how many findings to review to reach a target."""
    run = load_run(run_dir)
    d, verdicts, blank = read_verdicts(decisions)
    est = run_estimate(d, verdicts)
    top, model = expected_errors(run)
    p = plan(est, top, model, target=target)
    est.pop("_draws")
    est["model_estimate"] = (run.summary.get("error_rate") or {}).get("estimate")
    est["unreviewed_rows"] = blank
    est["plan"] = p
    if json_out:
        print(json.dumps(est, indent=1))
        return
    con = Console()
    say = lambda s: con.print(s, markup=False, highlight=False)  # noqa: E731
    lo, hi = est["ci95"]
    say(f"error rate from the review sample: {_pct(est['error_rate'])} (95% interval {_pct(lo)}-{_pct(hi)}), "
        f"{est['reviewed_spans']} spans and {est['reviewed_sentences']} sentences reviewed"
        + (f", {blank} rows left blank (not counted)" if blank else ""))
    if est["model_estimate"] is not None:
        say(f"the model's own estimate: {_pct(est['model_estimate'])}")
    say(f"labelled spans wrong: {_pct(est['span_error_rate'])} ({_pct(est['span_ci95'][0])}-{_pct(est['span_ci95'][1])}); "
        f"entities missing: about {est['missing_entities']:.0f} ({est['missing_ci95'][0]:.0f}-{est['missing_ci95'][1]:.0f})")
    for lab, r in est["per_label"].items():
        if r["ci95"]:
            say(f"  {lab}: {_pct(r['error_rate'])} ({_pct(r['ci95'][0])}-{_pct(r['ci95'][1])}), "
                f"{r['reviewed']} of {r['spans']} spans reviewed")
    kinds = ", ".join(f"{k} {v['per_100_spans']:.1f}" for k, v in est["per_kind"].items() if v["errors"])
    if kinds:
        say(f"  per 100 labelled spans: {kinds}")
    if p["review_top"] is None:
        say(f"to reach {_pct(target)}: reviewing all {p['findings']} findings is not expected to be enough "
            f"(expected remaining {_pct(p['expected_remaining_rate'])}, {_pct(p['ci95'][0])}-{_pct(p['ci95'][1])})")
    else:
        say(f"to reach {_pct(target)}: review the top {p['review_top']} findings; expected remaining rate "
            f"{_pct(p['expected_remaining_rate'])} ({_pct(p['ci95'][0])}-{_pct(p['ci95'][1])})")
