"""How well findings recover known, injected errors: the demo's check of the plumbing.

:func:`evaluate_findings` scores a run's findings (:class:`spanqa.score.findings.Finding`) against the demo's manifest
of injected errors (:mod:`spanqa.measure.demo.noise`): per kind, the share of errors some finding would fix if accepted
(:func:`fixes`) or at least points at (:func:`flags`), and the share of findings that do. The demo's errors share a
generator with the ranking's injected errors, so this checks plumbing, not detection quality
(docs/benchmark.md measures that on real corrections).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from spanqa.core.document import Corpus
from spanqa.core.output import write_text
from spanqa.core.span import Span
from spanqa.run.files import FILES, AuditResult
from spanqa.score.quality import calibration


def _keys(spans: Sequence[Any]) -> set[tuple[int, int, str]]:
    out = set()
    for s in spans:
        if isinstance(s, Span):
            out.add((s.start, s.end, s.label))
        else:
            out.add((int(s["start"]), int(s["end"]), str(s["label"])))
    return out


def _overlaps(key: tuple[int, int, str], region: tuple[int, int]) -> bool:
    return key[0] < region[1] and region[0] < key[1]


def fixes(finding: Any, clean: Sequence[Any], noisy: Sequence[Any]) -> bool:
    """True when accepting ``finding`` turns the ``noisy`` spans of one injected error into the ``clean`` ones.

    Precisely, with ``region`` = the character hull of the error's clean and noisy spans,
    ``before``/``after`` = the finding's labels/suggestion spans overlapping ``region``
    (by ``(start, end, label)``): every noisy span is in ``before``, and
    ``after == (before - noisy) | clean`` - the fix removes exactly the injected spans,
    restores exactly the clean ones, and leaves the rest of the region as it was.
    A ``review`` finding without a suggestion fixes nothing.
    """
    c, n = _keys(clean), _keys(noisy)
    if not (c or n) or (finding.action == "review" and not finding.suggestion):
        return False
    spans = c | n
    region = (min(k[0] for k in spans), max(k[1] for k in spans))
    before = {k for k in _keys(finding.labels) if _overlaps(k, region)}
    after = {k for k in _keys(finding.suggestion) if _overlaps(k, region)}
    return n <= before and after == (before - n) | c


def flags(finding: Any, clean: Sequence[Any], noisy: Sequence[Any]) -> bool:
    """True when any span of ``finding`` (labels or suggestion) overlaps the error's region."""
    spans = _keys(clean) | _keys(noisy)
    if not spans:
        return False
    region = (min(k[0] for k in spans), max(k[1] for k in spans))
    return any(_overlaps(k, region) for k in _keys(finding.labels) | _keys(finding.suggestion))


def evaluate_findings(findings: Sequence[Any], injected: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Recall and precision of ``findings`` against known injected errors, per kind.

    ``injected``: records ``{id, doc_id, kind, clean: [{start, end, label}], noisy: [...]}``
    (the demo manifest).  For each kind K (of injected errors and of findings) and ``"all"``:

    - ``recall``: share of injected errors of kind K that some finding :func:`fixes`;
    - ``recall_flagged``: share that some finding :func:`flags` at all (any kind);
    - ``precision``: share of findings of kind K that flag some injected error (any kind)
      of their document; ``precision_fix``: share that fix one;
    - ``n``: injected errors of kind K; ``n_findings``: findings of kind K.

    Out-of-distribution findings concern whole notes and are counted under their own kind
    only (precision: share of flagged notes holding an injected error).
    """
    by_doc: dict[str, list[Any]] = {}
    for f in findings:
        by_doc.setdefault(f.doc_id, []).append(f)
    inj_doc: dict[str, list[Mapping[str, Any]]] = {}
    for e in injected:
        inj_doc.setdefault(str(e["doc_id"]), []).append(e)
    kinds = sorted({str(e["kind"]) for e in injected} | {f.kind for f in findings})
    out: dict[str, dict[str, Any]] = {}
    tallies = {k: {"n": 0, "fixed": 0, "flagged": 0, "n_findings": 0, "tp": 0, "tp_fix": 0} for k in kinds + ["all"]}
    for e in injected:
        fs = by_doc.get(str(e["doc_id"]), [])
        fixed = any(fixes(f, e["clean"], e["noisy"]) for f in fs)
        flagged = any(flags(f, e["clean"], e["noisy"]) for f in fs)
        for k in (str(e["kind"]), "all"):
            tallies[k]["n"] += 1
            tallies[k]["fixed"] += fixed
            tallies[k]["flagged"] += flagged
    for f in findings:
        errs = inj_doc.get(f.doc_id, [])
        if f.kind == "out_of_distribution":
            tp, tp_fix = bool(errs), False
        else:
            tp = any(flags(f, e["clean"], e["noisy"]) for e in errs)
            tp_fix = any(fixes(f, e["clean"], e["noisy"]) for e in errs)
        for k in (f.kind, "all"):
            tallies[k]["n_findings"] += 1
            tallies[k]["tp"] += tp
            tallies[k]["tp_fix"] += tp_fix
    ratio = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    for k, t in tallies.items():
        out[k] = {"recall": ratio(t["fixed"], t["n"]), "recall_flagged": ratio(t["flagged"], t["n"]),
                  "precision": ratio(t["tp"], t["n_findings"]), "precision_fix": ratio(t["tp_fix"], t["n_findings"]),
                  "n": t["n"], "n_findings": t["n_findings"]}
    return out



def evaluate_demo(result: AuditResult, clean: Corpus, manifest: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Score an audit of a corpus with known injected errors; adds ``demo_eval`` and ``calibration``
    to ``result.summary`` and rewrites ``summary.json``.

    - ``demo_eval``: :func:`spanqa.measure.demo.evaluate.evaluate_findings` per kind (``recall`` = share of
      injected errors some finding's suggestion fixes exactly, ``recall_flagged`` = share
      any finding overlaps, ``precision`` = share of findings of the kind that overlap an
      injected error, ``n``).
    - ``calibration``: reliability table (10 bins) and ECE of the span quality against the
      clean annotation (a labelled span is *right* when the clean document has a span with
      the same characters and label), plus the ECE of the two alternative estimators kept
      as evidence (raw product of marginals, weakest marginal) for comparison.
    """
    if result.out is None:
        raise ValueError("evaluate_demo needs a written run (audit with out=...)")
    clean_keys = {d.id: {(s.pieces, s.label) for s in (d.spans or ())} for d in clean.documents}
    scored = [q for q in result.spans if q.quality is not None]
    right = [(q.span.pieces, q.span.label) in clean_keys.get(q.span.doc_id, set()) for q in scored]
    cal = calibration([q.quality for q in scored if q.quality is not None], right)  # the filter drops none
    alt = {}
    for name, attr in (("product_of_marginals", "p_product"), ("weakest_marginal", "p_min")):
        pairs = [(getattr(q, attr), r) for q, r in zip(scored, right) if getattr(q, attr) is not None]
        alt[name] = calibration([p for p, _ in pairs], [r for _, r in pairs])["ece"] if pairs else None
    cal["ece_alternatives"] = alt
    cal["definition"] = "a labelled span is right when the clean annotation has the same characters and label"
    demo_eval = evaluate_findings(result.findings, manifest)
    result.summary["demo_eval"] = demo_eval
    result.summary["calibration"] = cal
    write_text(result.out / FILES["summary"], json.dumps(result.summary, indent=2, ensure_ascii=False) + "\n",
               root=result.out)
    return {"demo_eval": demo_eval, "calibration": cal}


__all__ = ["evaluate_demo", "evaluate_findings", "fixes", "flags"]
