"""Nested annotation audited layer by layer (``data.layers = "auto"``, the default), merged into one run folder.

A flat tagger holds one span per word, so of overlapping spans only the longer is judged.  With
``data.layers = "auto"`` the labels are split into layers that never overlap
(:func:`spanqa.corpus.layers.label_layers`).  In the fast mode one k-fold run serves every layer
(:func:`spanqa.model.layered.run_kfold_layers`: one head per fold with one softmax per layer); with
fine-tuning each layer gets its own k-fold model.  Each layer is then audited as a flat corpus of its own -
span qualities, findings, ranking, error rate - in ``OUT/layers/layerN/``, and the results are merged into
``OUT``:

- ``spans.jsonl``: every labelled span once, from the layer that holds its label (``"layer": N``);
- ``findings.jsonl``: every layer's findings, in one ranking order (each finding's ``evidence.layer``);
- ``predictions.jsonl``: every layer's decoded spans (``"layer"``);
- ``problems.jsonl``: the corpus's problems once, then each layer's;
- ``summary.json``: counts over the merged spans and findings; ``assessed`` per label; model agreement
  micro-averaged over the layers (labels are disjoint, so per label it is the layer's own); the error rate
  pooled over the layers (:func:`pooled_rate`); ``layers``: each layer's labels, run folder, agreement,
  error rate and ranking check.

The layers' marginals stay in their run folders.  On PHEE's test split the fast mode costs 1.4x a flat audit.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.core.output import write_text
from spanqa.run.files import FILES, NESTED, AuditResult, notify, write_jsonl


def pooled_rate(rates: Sequence[Mapping[str, Any]], agreement: Mapping[str, Any]) -> dict[str, Any]:
    """One error rate from the layers' (each over its assessable labels): errors and spans summed; the 95%
    interval from the layers' intervals as independent normal parts (delta method) - an approximation, said so.
    Withheld, as for one layer, when the pooled agreement is below ``MIN_AGREEMENT`` or nothing is assessable."""
    from spanqa.score.competence import MIN_AGREEMENT

    n = sum(int(r.get("n_spans") or 0) for r in rates)
    e = sum(float(r.get("n_errors") or 0.0) for r in rates)
    var = 0.0
    for r in rates:
        lo, hi = (r.get("ci95") or [None, None])[:2]
        k = int(r.get("n_spans") or 0)
        if lo is not None and hi is not None and k:
            var += ((hi - lo) / 3.92 * k) ** 2
    est = e / n if n else None
    half = 1.96 * var ** 0.5 / n if n else None
    out: dict[str, Any] = {
        "estimate": None if est is None else round(est, 6),
        "ci95": [None, None] if est is None or half is None
        else [round(max(0.0, est - half), 6), round(min(1.0, est + half), 6)],
        "n_errors": round(e, 4), "n_spans": n,
        "assessed_labels": sorted({lab for r in rates for lab in r.get("assessed_labels") or ()}),
        "not_assessed": {lab: row for r in rates for lab, row in (r.get("not_assessed") or {}).items()},
        "method": "pooled over the layers: each layer's confident-learning count over its assessable labels, summed; "
                  "interval from the layers' bootstrap intervals as independent normal parts (approximate)"}
    f1 = float(agreement.get("f1") or 0.0)
    if f1 < MIN_AGREEMENT or not n:
        out["withheld"] = (f"not estimated: the out-of-fold models agree with the labels at span F1 {f1:.2f} over all "
                           f"layers, below {MIN_AGREEMENT}; most disagreements would be their own mistakes"
                           if f1 < MIN_AGREEMENT else "not estimated: no label is assessable in any layer")
        out["estimate"], out["ci95"] = None, [None, None]
    return out


def pooled_agreement(agreements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Micro span P/R/F1 over the layers (matched, labelled and predicted spans summed); per label, its layer's."""
    matched = sum(int(a.get("matched") or 0) for a in agreements)
    n_lab = sum(int(a.get("n_labels") or 0) for a in agreements)
    n_pred = sum(int(a.get("n_predicted") or 0) for a in agreements)
    per_label = {lab: row for a in agreements for lab, row in (a.get("per_label") or {}).items()}
    return {"f1": round(2 * matched / (n_lab + n_pred), 4) if n_lab + n_pred else 0.0,
            "precision": round(matched / n_pred, 4) if n_pred else 0.0,
            "recall": round(matched / n_lab, 4) if n_lab else 0.0,
            "matched": matched, "n_labels": n_lab, "n_predicted": n_pred, "per_label": dict(sorted(per_label.items())),
            "method": "strict span match per layer, micro-averaged over the layers"}


def in_context(finding: Any, doc: Any, layer_of: Mapping[str, int]) -> Any:
    """``finding`` with the labelled span of another layer it sits inside named in its sentence and evidence ("It
    sits inside the Treatment 'aspirin 81mg PO daily'.") - the smallest such span; the finding itself when none."""
    from dataclasses import replace

    from spanqa.score.messages import with_notes

    spans = (*finding.labels, *finding.suggestion)
    if not spans or not doc.spans or finding.kind == "pattern":  # a pattern speaks for many occurrences
        return finding
    a, b = min(s.start for s in spans), max(s.end for s in spans)
    mine = layer_of.get(spans[0].label)
    outer = [s for s in doc.spans if s.start <= a and b <= s.end and layer_of.get(s.label) != mine
             and (s.start, s.end) != (a, b)]
    if not outer:
        return finding
    o = min(outer, key=lambda s: (s.end - s.start, s.start))
    note = f"It sits inside the {o.label} '{doc.text[o.start:o.end]}'."
    return replace(finding, message=with_notes(finding.message, note),
                   evidence=dict(finding.evidence, inside={"start": o.start, "end": o.end, "label": o.label}))


def audit_layers(corpus: Corpus, config: AuditConfig, layers: Sequence[Sequence[str]], *, out: Path,
                 audit_flat: Callable[..., AuditResult], summarize: Callable[..., dict], progress: bool = True,
                 on_fold_done: Any = None) -> AuditResult:
    """Audit each layer of ``corpus`` in ``out/layers/layerN`` with ``audit_flat`` (the flat audit) and merge the
    results into ``out`` (module docstring), the summary made by ``summarize``; returns the merged
    :class:`spanqa.run.files.AuditResult` (its ``oof`` is the first layer's)."""
    from spanqa.corpus.bio import tag_inventory
    from spanqa.corpus.layers import layer_corpora
    from spanqa.model.fingerprint import fingerprint
    from spanqa.model.foldstore import check_run_dir
    from spanqa.model.plan import resolve
    from spanqa.score.findings import sort_findings

    say = notify(progress)
    t0 = time.perf_counter()
    flat = config.replace(**{"data.layers": "flat"})
    # one marker for the whole layered run: a folder of another corpus, setting or layering is refused (E406)
    resolved, chosen = resolve(flat, corpus)
    assert chosen is not None  # resolve plans whenever it is given a corpus
    fp = hashlib.sha256((fingerprint(corpus, tag_inventory(corpus.labels), resolved)
                         + json.dumps([list(x) for x in layers])).encode()).hexdigest()
    check_run_dir(out, fp)
    shared = resolved.train.mode == "fast"
    how = ("one k-fold run whose head has one output per layer, then each layer scored and ranked on its own"
           if shared else f"each layer fine-tuned and audited on its own - about {len(layers)}x the time of one audit")
    say(f"Nested labels: {len(layers)} layers that never overlap, so every span is judged: {how} "
        "(--set data.layers=flat: one layer, nested spans not assessed). Layers: "
        + "; ".join(f"{i}: {', '.join(labs)}" for i, labs in enumerate(layers, 1)))
    oofs = None
    if shared:
        from spanqa.model.layered import run_kfold_layers

        say(chosen.sentence())
        oofs = run_kfold_layers(corpus, resolved, layers, run_dir=out / "layers" / "kfold", progress=progress,
                                on_fold_done=on_fold_done)
    results, layer_of = [], {}
    for i, (labels, sub) in enumerate(zip(layers, layer_corpora(corpus, layers)), 1):
        sub_out = out / "layers" / f"layer{i}"
        say(f"layer {i} of {len(layers)}: {', '.join(labels)}")
        results.append(audit_flat(sub, flat, out=sub_out, progress=progress,
                             oof=None if oofs is None else oofs[i - 1],
                             on_fold_done=on_fold_done if oofs is None else None))
        layer_of.update({lab: i for lab in labels})

    by_id = corpus.by_id()
    order = {d.id: n for n, d in enumerate(corpus.documents)}
    qualities = sorted((q for r in results for q in r.spans),
                       key=lambda q: (order[q.span.doc_id], q.span.start, q.span.end, q.span.label))
    findings = sort_findings([in_context(f, by_id[f.doc_id], layer_of) for r in results for f in r.findings])
    candidates = [c for r in results for c in r.candidates]
    predictions: dict[str, list] = {}
    for r in results:
        for doc_id, spans in r.predictions.items():
            predictions.setdefault(doc_id, []).extend(spans)
    predictions = {d: sorted(v, key=lambda s: (s.start, s.end, s.label)) for d, v in predictions.items()}

    span_recs = []
    for q in qualities:
        rec = q.to_dict(by_id[q.span.doc_id].text)
        rec["layer"] = layer_of.get(q.span.label)
        span_recs.append(rec)
    write_jsonl(out / FILES["spans"], span_recs)
    finding_recs = []
    for f in findings:
        rec = f.to_dict(by_id[f.doc_id].text)
        labs = [s.label for s in (*f.labels, *f.suggestion)]
        rec["evidence"] = dict(rec.get("evidence") or {}, layer=layer_of.get(labs[0]) if labs else None)
        finding_recs.append(rec)
    write_jsonl(out / FILES["findings"], finding_recs)
    pred_recs: list[dict[str, Any]] = []
    for i, r in enumerate(results, 1):
        pred_recs.extend(dict(rec, layer=i) for rec in r.rows["predictions"])
    write_jsonl(out / FILES["predictions"], pred_recs)
    problems = [p.to_dict() for p in corpus.problems]
    seen = {json.dumps(p, sort_keys=True) for p in problems}
    for r in results:  # each layer repeats the corpus's problems: every problem once
        for rec in r.rows["problems"]:
            key = json.dumps(rec, sort_keys=True)
            if key not in seen:
                seen.add(key)
                problems.append(rec)
    write_jsonl(out / FILES["problems"], problems)

    per_doc: dict[str, list[float]] = {}
    for q in qualities:
        if q.quality is not None and q.reason != NESTED:
            acc = per_doc.setdefault(q.span.doc_id, [0.0, 0])
            acc[0] += 1.0 - q.quality
            acc[1] += 1
    for c in candidates:
        per_doc.setdefault(c.span.doc_id, [0.0, 0])[0] += c.p_entity
    agreement = pooled_agreement([r.summary["model_agreement"] or {} for r in results])
    rate = pooled_rate([r.summary["error_rate"] for r in results], agreement)
    timings = {"layers_s": time.perf_counter() - t0,
               **{f"layer{i}_s": float(r.summary["timings"].get("total_s", 0.0)) for i, r in enumerate(results, 1)}}
    summary = summarize(corpus, config, results[0].oof, qualities, findings, candidates,
                            [v[0] for v in per_doc.values()], [int(v[1]) for v in per_doc.values()],
                            problems=problems, timings=timings, n_predicted=len(pred_recs), agreement=agreement,
                            confident=rate, ranking=None)
    summary["layers"] = [{"n": i, "labels": list(labels), "run": f"layers/layer{i}",
                          "assessed": r.summary.get("assessed"),
                          "model_agreement": {k: (r.summary["model_agreement"] or {}).get(k)
                                              for k in ("f1", "precision", "recall")},
                          "error_rate": {k: r.summary["error_rate"].get(k) for k in ("estimate", "ci95", "withheld")},
                          "ranking": {k: (r.summary.get("ranking") or {}).get(k)
                                      for k in ("method", "n_injected", "heldout_ap")},
                          "findings": r.summary["findings"]["total"]}
                         for i, (labels, r) in enumerate(zip(layers, results), 1)]
    summary["plan"] = dict(chosen.to_dict(), layers=len(layers), shared_head=shared)
    if "span_edges" in results[0].summary:
        summary["span_edges"] = results[0].summary["span_edges"]
    summary["findings"]["withheld"] = {
        "split_or_merge_without_support": dict(sum((Counter(r.summary["findings"].get("withheld", {})
                                                            .get("split_or_merge_without_support", {}))
                                                    for r in results), Counter())),
        "rule": "a split or merge only the model's path supports is not offered as a fix (spanqa.score.competence)"}
    write_text(out / FILES["summary"], json.dumps(summary, indent=2, ensure_ascii=False) + "\n", root=out)
    return AuditResult(out, results[0].oof, qualities, findings, predictions, candidates, summary, None,
                       {"spans": span_recs, "findings": finding_recs, "predictions": pred_recs, "problems": problems})


__all__ = ["audit_layers", "in_context", "pooled_agreement", "pooled_rate"]
