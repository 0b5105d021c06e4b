"""``spanqa impact``: retrain the audit's tagger before and after the fixes and measure the difference.

    spanqa impact BEFORE AFTER --eval GOLD --out DIR          # two corpus versions
    spanqa impact RUN --all-above 0.9 --eval GOLD             # a run + the fixes `spanqa apply` would make
    spanqa impact RUN --accept decisions.jsonl                # no --eval: k-fold consistency (not truth)

A thin wrapper over :func:`spanqa.measure.impact.measure_impact` (the method is described in
:mod:`spanqa.measure.impact.measure` and :mod:`spanqa.measure.impact.scores`).  With a run folder the model
and mode are the audit's own (its recorded configuration; ``--set`` overrides), the learning
curve follows the ranking, ``impact.json`` is written into the run folder (or ``--out``) and
the run's ``report.html`` is rebuilt with the chart.  With two corpora ``--out`` is needed and
gets ``impact.json`` and ``impact.html``.
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
from spanqa.core.output import write_text
from spanqa.measure.impact import measure_impact, summary_rows, versions_from_corpora, versions_from_run
from spanqa.review.chart import impact_page


def _batches(text: Optional[str]) -> list[int] | None:
    if text is None:
        return None
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter("a comma-separated list of fix counts, e.g. 50,100,200 (or none)",
                                 param_hint="--batches") from None
    if any(n <= 0 for n in out):
        raise typer.BadParameter("fix counts must be positive", param_hint="--batches")
    return out


@app.command()
def impact(
    paths: List[Path] = typer.Argument(..., help="BEFORE AFTER (two corpus versions), or one RUN folder with --accept / --all-above."),
    eval_: List[Path] = typer.Option([], "--eval", help="Clean, held-out evaluation corpus (repeatable). Without it: k-fold on each version against its own labels (consistency, not truth)."),
    accept: Optional[Path] = typer.Option(None, "--accept", help="RUN mode: the review decisions (as for `spanqa apply`)."),
    all_above: Optional[float] = typer.Option(None, "--all-above", min=0.0, max=1.0, help="RUN mode: accept every fix whose confidence is > this (as for `spanqa apply`)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for impact.json (+ impact.html); RUN mode default: the run folder."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Trainings per version (seeds train.seed, +1, ...)."),
    batches: Optional[str] = typer.Option(None, "--batches", help="Learning-curve points, fixes applied: e.g. 50,100,200 or none. Default: RUN mode 50, 100, 200, ... below the total; two corpora none."),
    resamples: int = typer.Option(1000, "--resamples", min=100, help="Bootstrap resamples for the intervals."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Format of BEFORE/AFTER; detected when omitted."),
    eval_format: Optional[str] = typer.Option(None, "--eval-format", help="Format of --eval; detected when omitted."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="RUN mode: the audited corpus, if it moved since the audit."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML configuration (two corpora; RUN mode starts from the run's own)."),
    set_: List[str] = typer.Option([], "--set", help="Override one config key: --set fast.heads=3 (repeatable)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines."),
) -> None:
    """Measure what the fixes are worth: F1 of the model trained before vs after them, with intervals."""
    from spanqa.core.config import load_config
    from spanqa.core.errors import fail

    err = Console(stderr=True)
    notify = None if quiet else (lambda msg: err.print(f"impact: {msg}", markup=False, highlight=False))
    run = None
    if len(paths) == 1:
        from spanqa.run.reader import load_run

        if accept is None and all_above is None:
            raise typer.BadParameter("with one path (a run folder) give --accept DECISIONS and/or --all-above T",
                                     param_hint="--accept")
        run = load_run(paths[0], corpus=corpus, corpus_format=format)
        cfg = load_config(config, set_, base=run.summary.get("config") if isinstance(run.summary.get("config"), dict)
                          else None)
        decisions, review_problems = _decisions(run, accept, all_above)
        versions, full = versions_from_run(run, decisions, batches=_batches(batches))
        target = out or run.path
    elif len(paths) == 2:
        if accept is not None or all_above is not None:
            raise typer.BadParameter("--accept / --all-above need a run folder, not two corpora", param_hint="--accept")
        if out is None:
            raise typer.BadParameter("give --out DIR for impact.json and impact.html", param_hint="--out")
        cfg = load_config(config, set_)
        before, after = (read_side(p, format, {}) for p in paths)
        b = _batches(batches)
        name_before, name_after = display_names(list(paths))  # one name per path
        versions = versions_from_corpora(before, after, batches=() if b is None else b, seed=cfg.train.seed,
                                         names=(name_before, name_after))
        target = out
    else:
        raise fail("E602", f"{len(paths)} paths given; pass BEFORE AFTER, or one run folder")
    evals = [(name, read_side(p, eval_format, {}, flag="--eval-format"))
             for name, p in zip(display_names(list(eval_)) if eval_ else [], eval_)]
    record = measure_impact(versions, cfg, evals=evals, seeds=seeds, resamples=resamples,
                            cache_dir=(run.path if run is not None else target), notify=notify)
    if run is not None:
        record["run"] = {"path": str(run.path), "accept": str(accept) if accept else None, "all_above": all_above,
                         "apply_counts": dict(full.counts)}
        record["problems"] = [p.to_dict() for p in (*review_problems, *full.problems)] + record["problems"]
    target.mkdir(parents=True, exist_ok=True)
    write_text(target / "impact.json", json.dumps(record, indent=1, ensure_ascii=False) + "\n", root=target)
    pages = [target / "impact.html"]
    write_text(pages[0], impact_page(record), root=target)
    if run is not None and target == run.path:
        from spanqa.review.report import write_run_report

        pages.append(write_run_report(run.path, run.corpus()))
    _print(record, target, pages)


def _decisions(run, accept: Optional[Path], all_above: Optional[float]) -> tuple[list, list]:
    """The decisions ``spanqa apply`` would read, and the problems met reading them."""
    from spanqa.core.errors import Problem
    from spanqa.review.apply import threshold_decisions
    from spanqa.review.decisions import Decision, read_decisions

    decisions: list[Decision] = []
    problems: list[Problem] = []
    if accept is not None:
        decisions, problems = read_decisions(accept, run=run)
    if all_above is not None:
        explicit = {d.finding_id for d in decisions}
        decisions += [d for d in threshold_decisions(run, all_above) if d.finding_id not in explicit]
    return decisions, problems


def _print(record: dict, target: Path, pages: list[Path]) -> None:
    con = Console()
    if record["mode"] == "consistency":
        con.print(f"[bold yellow]Consistency, not truth:[/] {record['note']}")
    rows = summary_rows(record)
    for ev in record["evaluations"]:
        res = record["evaluations"][ev]
        t = Table(title=f"{ev}: strict span F1 of the retrained tagger ({res['documents']} documents, "
                        f"{len(record['seeds'])} seeds, 95% intervals)")
        for col in ("training labels", "fixes", "F1 [95% CI]", "seed sd", "change [95% CI]", "P(not better)"):
            t.add_column(col, justify="left" if col == "training labels" else "right")
        for r in (r for r in rows if r["evaluation"] == ev):
            t.add_row(r["version"], "" if r["fixes"] is None else str(r["fixes"]),
                      f"{r['f1']:.4f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]", f"{r['seed_sd']:.4f}",
                      "reference" if r["delta"] is None else
                      f"{r['delta']:+.4f} [{r['delta_ci95'][0]:+.3f}, {r['delta_ci95'][1]:+.3f}]",
                      "" if r["p_not_better"] is None else f"{r['p_not_better']:.3f}")
        con.print(t)
    from spanqa.core.errors import Location, Problem

    problems = [Problem(p["code"], Location(**p["where"]), p["detail"]) for p in record["problems"]
                if p["code"] not in ("W401", "W403")]  # the tagger's own notes stay in impact.json
    for line in problem_lines(problems):
        Console(stderr=True).print(line, markup=False, highlight=False)
    tm = record["timing"]
    con.print(f"{tm['trainings']} trainings in {tm['wall_s']:.0f} s; {target / 'impact.json'}; "
              + ", ".join(str(p) for p in pages), markup=False, highlight=False)
