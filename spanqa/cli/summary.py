"""The console summary of a finished audit (``spanqa audit``, ``spanqa demo``): display only, from ``summary.json``."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from spanqa.score.findings import Finding


def assessed_line(assessed: Mapping[str, Any]) -> str | None:
    """The console's first line when some labelled spans were not judged, naming the labels that lost the most."""
    if not assessed or assessed.get("assessed") == assessed.get("spans"):
        return None
    lost = sorted(((lab, r["spans"] - r["assessed"], r["spans"]) for lab, r in assessed["by_label"].items()
                   if r["spans"] > r["assessed"]), key=lambda t: (-t[1] / t[2], -t[1]))
    why = "; ".join(f"{v['spans']:,} {v['why']}" for v in assessed["not_assessed"].values())
    most = ", ".join(f"{lab} {m:,} of {n:,}" for lab, m, n in lost[:4])
    return (f"Assessed {assessed['assessed']:,} of {assessed['spans']:,} labelled spans ({assessed['share']:.0%}); "
            f"not assessed: {why}. Most affected: {most}. Scores, findings and the error rate cover the assessed "
            "spans only.")


def render_summary(summary: Mapping[str, Any], findings: Sequence[Finding] = (), *, top: int = 5,
                   console: Any = None) -> None:
    """Print a readable summary (rich tables) of a finished audit."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    c = summary["corpus"]
    rate = summary["error_rate"]
    first = assessed_line(summary.get("assessed") or {})
    if first:
        console.print(first, highlight=False)
    table = Table(title="spanqa audit", show_header=True, header_style="bold")
    table.add_column("finding kind")
    table.add_column("count", justify="right")
    for kind, n in summary["findings"]["by_kind"].items():
        if n:
            table.add_row(kind, str(n))
    table.add_row("[bold]total[/bold]", f"[bold]{summary['findings']['total']}[/bold]")
    console.print(table)
    lab = Table(show_header=True, header_style="bold")
    lab.add_column("label")
    lab.add_column("spans", justify="right")
    lab.add_column("mean quality", justify="right")
    lab.add_column("findings", justify="right")
    for name, row in summary["labels"].items():
        mq = "-" if row["mean_quality"] is None else f"{row['mean_quality']:.2f}"
        lab.add_row(name, str(row["n_spans"]), mq, str(row["n_findings"]))
    console.print(lab)
    assessed = rate.get("assessed_labels")
    over = ""
    if rate.get("not_assessed"):
        over = (f" over {', '.join(assessed)} ({rate.get('n_spans', 0):,} spans); not assessable (the model is "
                "unreliable on them): " + ", ".join(f"{lab} (F1 {row['f1']:.2f}, {row['n_spans']} spans)"
                                                    for lab, row in rate["not_assessed"].items()))
    if rate.get("withheld"):
        console.print(f"{c['n_spans']} labelled spans in {c['n_annotated_docs']} annotated notes; error rate "
                      f"[bold]{rate['withheld']}[/bold].", highlight=False)
    elif rate["estimate"] is not None:
        lo, hi = rate["ci95"]
        ci = f" (95% CI {lo:.1%}-{hi:.1%})" if lo is not None else ""
        ub = (rate.get("upper_bound") or {}).get("estimate")
        ubs = f"; every doubt of the model counted: {ub:.1%} (an upper bound)" if ub is not None else ""
        console.print(f"{c['n_spans']} labelled spans in {c['n_annotated_docs']} annotated notes; "
                      f"estimated error rate [bold]{rate['estimate']:.1%}[/bold]{ci} by confident learning{over}{ubs}.",
                      highlight=False)
    agree = summary.get("model_agreement")
    if agree:
        console.print(f"Out-of-fold model vs labels: span F1 {agree['f1']:.2f} (precision {agree['precision']:.2f}, "
                      f"recall {agree['recall']:.2f}). Every finding is a disagreement of the model or of the "
                      "corpus with a label; the lower this F1, the more of them are the model's own mistakes.",
                      highlight=False)
    rk = summary.get("ranking") or {}
    if rk.get("method") == "injected" and "heldout_ap" in rk:
        console.print(f"Ranking fitted on {rk['n_injected']} errors injected into a copy of this corpus "
                      f"(held-out AP on the copy {rk['heldout_ap']:.2f}).", highlight=False)
        rec = rk.get("recovery") or {}
        weak = [f"{k} {v['share']:.0%}" for part in ("by_kind", "by_label") for k, v in (rec.get(part) or {}).items()
                if v["injected"] >= 5 and v["share"] < 0.5]
        if weak:
            console.print("Injected errors it recovers least (share among its first candidates, held out): "
                          + ", ".join(weak) + " - expect fewer findings there than there are errors.", highlight=False)
    if c["n_unalignable_spans"]:
        console.print(f"Spans scored on their hull (not alignable to one tag path): {c['n_unalignable_spans']}")
    if findings:
        console.print(f"Most suspicious findings (of {len(findings)}; all in findings.jsonl):", highlight=False)
    for x in list(findings)[:top]:
        console.print(f"- [{x.kind}] {x.doc_id} (score {x.score:.2f}): {x.message}", markup=False, highlight=False)


__all__ = ["assessed_line", "render_summary"]
