"""The corpus error rate with the model's own mistakes taken out: confident learning over spans.

Summing ``1 - quality`` counts every doubt of the out-of-fold model as an error, and a model
that agrees with the labels at span F1 0.85 doubts many right labels: on CoNLL-2003 that sum
reads 13-22% where the published corrections change 2-11% of the spans.  Confident learning
(Northcutt, Jiang & Chuang 2021, the method behind cleanlab) counts only *confident*
disagreements, with a threshold per class learned from the model's own behaviour on that class:

1. **Thresholds.**  For each label ``L``, ``t_L`` = the mean quality (probability of being
   exactly right) of the spans labelled ``L``: how sure the model usually is of an ``L`` it
   agrees with.  For "no entity", ``t_O`` = the mean marginal of ``O`` over the words labelled ``O``.
2. **Confident joint.**  A labelled span is counted *confidently right* when its quality is
   at least ``t_L``, and *confidently something else* when the probability of its best
   competing explanation (:meth:`spanqa.score.quality.TagLattice.best_alternative`: another label,
   other boundaries, no entity) is at least that explanation's threshold and higher than the
   span's own quality.  Spans confident in neither count in neither.
3. **Calibration.**  Per label, the off-diagonal share among the confident spans is scaled to
   all ``n_L`` spans of the label: ``errors_L = off_L / (off_L + right_L) * n_L`` (the
   confident joint calibrated to the label counts, as cleanlab's ``calibrate_confident_joint``).
4. **Missing entities.**  A predicted span over unlabelled words counts as a confidently
   missing entity when its entity probability is at least the threshold of its predicted label.

``rate = (sum_L errors_L + confident missing) / labelled spans``.  Its 95% interval is a
bootstrap over documents (each document's spans keep the corpus's per-label calibration factor).
Nested spans a flat tagger never saw are left out, as everywhere.

>>> from spanqa.core.span import Span
>>> from spanqa.score.quality import SpanQuality
>>> def q(label, qual, alt_p, alt_label="B"):
...     return SpanQuality(Span("d", 0, 1, label), qual, True, alternative={"kind": "label", "label": alt_label,
...                        "p": alt_p, "words": [0, 1]})
>>> spans = [q("A", 0.9, 0.05), q("A", 0.9, 0.05), q("A", 0.1, 0.85), q("B", 0.8, 0.1)]
>>> r = confident_error_rate(spans, [], o_threshold=0.9)
>>> r["thresholds"]["A"], r["n_errors"], r["estimate"]
(0.6333, 1.0, 0.25)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Collection, Mapping, Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
NESTED = "overlap_dropped"


def o_threshold(marginals: Mapping[str, Any], gold_tags: Mapping[str, Sequence[str]], tags: Sequence[str]) -> float:
    """Mean marginal of ``O`` over the words labelled ``O`` (``gold_tags[doc]``: one IOB2 tag per word)."""
    o = list(tags).index("O")
    total, n = 0.0, 0
    for d, m in marginals.items():
        g = gold_tags.get(d)
        if g is None or not len(m.words):
            continue
        sel = np.asarray([t == "O" for t in g], dtype=bool)
        total += float(np.asarray(m.probs, dtype=np.float64)[sel, o].sum())
        n += int(sel.sum())
    return total / n if n else 1.0


def bootstrap_ratio(errors: np.ndarray, spans: np.ndarray, *, resamples: int, seed: int
                    ) -> tuple[float | None, list[float | None]]:
    """``sum(errors) / sum(spans)`` and its 95% interval from ``resamples`` bootstrap resamples of the
    documents (one entry of each array per document), seeded."""
    total = float(spans.sum())
    est = float(errors.sum() / total) if total else None
    ci: list[float | None] = [None, None]
    if total and len(errors) > 1:
        rng = np.random.default_rng(seed)
        draw = rng.integers(0, len(errors), size=(resamples, len(errors)))
        den = spans[draw].sum(axis=1)
        ok = den > 0
        ratios = errors[draw].sum(axis=1)[ok] / den[ok]
        ci = [float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))]
    return est, ci


def confident_error_rate(qualities: Sequence[Any], candidates: Sequence[Any], *, o_threshold: float,
                         resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                         docs: Collection[str] | None = None, labels: Collection[str] | None = None
                         ) -> dict[str, Any]:
    """The confident-learning error rate (module docstring).

    ``qualities``: :class:`spanqa.score.quality.SpanQuality` of every labelled span; ``candidates``:
    :class:`spanqa.score.quality.CandidateScore` of the predicted spans no label overlaps (their
    ``span.label`` is the predicted label).  ``docs``: report the rate of these documents only,
    with thresholds and calibration still learned from every span (one audit of a whole corpus,
    read per file).  ``labels``: assess the spans of these labels only, and the missing entities
    predicted with them (the labels the model can judge, :func:`spanqa.score.competence.assessable_labels`);
    thresholds still come from every label.
    """
    scored = [q for q in qualities if q.quality is not None and q.reason != NESTED]
    by_label: dict[str, list[float]] = defaultdict(list)
    for q in scored:
        by_label[q.span.label].append(float(q.quality))
    t: dict[str | None, float] = {lab: float(np.mean(v)) for lab, v in by_label.items()}  # get(None): no label

    def threshold(alt: Mapping[str, Any]) -> float:
        return o_threshold if alt.get("kind") == "none" else t.get(alt.get("label"), 1.0)

    off: dict[str, int] = defaultdict(int)
    right: dict[str, int] = defaultdict(int)
    n_label: dict[str, int] = defaultdict(int)
    flags: list[tuple[str, str, bool]] = []           # (doc, label, confidently wrong)
    for q in scored:
        lab = q.span.label
        if labels is not None and lab not in labels:
            continue
        n_label[lab] += 1
        own = float(q.quality) if q.quality >= t[lab] else None
        alt = q.alternative or {}
        other = float(alt["p"]) if alt and alt["p"] >= threshold(alt) else None
        wrong = other is not None and (own is None or other > own)
        if wrong:
            off[lab] += 1
        elif own is not None:
            right[lab] += 1
        flags.append((q.span.doc_id, lab, wrong))
    factor = {lab: (n_label[lab] / (off[lab] + right[lab]) if off[lab] + right[lab] else 0.0) for lab in n_label}
    per_doc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])   # doc -> [errors, spans]
    for d, lab, wrong in flags:
        per_doc[d][1] += 1
        if wrong:
            per_doc[d][0] += factor[lab]
    n_missing = 0
    for c in candidates:
        if docs is not None and c.span.doc_id not in docs or labels is not None and c.span.label not in labels:
            continue
        if c.p_entity >= t.get(c.span.label, 1.0):
            n_missing += 1
            per_doc[c.span.doc_id][0] += 1.0
    docs = sorted(per_doc) if docs is None else sorted(d for d in per_doc if d in docs)
    e = np.asarray([per_doc[d][0] for d in docs], dtype=np.float64)
    n = np.asarray([per_doc[d][1] for d in docs], dtype=np.float64)
    total = float(n.sum())
    est, ci = bootstrap_ratio(e, n, resamples=resamples, seed=seed)
    return {"estimate": None if est is None else round(est, 6),
            "ci95": [None if c is None else round(c, 6) for c in ci],
            "n_errors": round(float(e.sum()), 4), "n_spans": int(total),
            "labelled_errors": round(float(e.sum()) - n_missing, 4),
            "missing_entities": n_missing,
            "thresholds": {lab: round(v, 4) for lab, v in sorted(t.items())} | {"O": round(o_threshold, 4)},
            "per_label": {lab: {"n": n_label[lab], "confident_right": right[lab], "confident_other": off[lab],
                                "errors": round(off[lab] * factor[lab], 4)} for lab in sorted(n_label)},
            "method": "confident learning over spans: per-label thresholds = mean quality of the label's spans "
                      "(O: mean O marginal of unlabelled words); a span counts when its best competing explanation "
                      "passes that explanation's threshold and beats the span's own quality; counts calibrated to "
                      "each label's spans; plus predicted entities on unlabelled words above their label's threshold",
            "bootstrap": {"resamples": resamples, "seed": seed, "unit": "document"}}


def upper_bound_rate(per_doc_errors: Sequence[float], per_doc_spans: Sequence[int], *,
                     resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    """Every doubt of the model counted, an upper bound: ``sum(errors) / sum(spans)`` with a document-bootstrap 95%
    interval (``summary.json``'s ``error_rate.upper_bound``).

    >>> r = upper_bound_rate([1.0, 0.0, 1.0, 0.0], [10, 10, 10, 10])
    >>> r["estimate"], r["ci95"][0] <= 0.05 <= r["ci95"][1]
    (0.05, True)
    """
    est, ci = bootstrap_ratio(np.asarray(per_doc_errors, dtype=np.float64),
                              np.asarray(per_doc_spans, dtype=np.float64), resamples=resamples, seed=seed)
    return {"estimate": None if est is None else round(est, 6),
            "ci95": [None if c is None else round(c, 6) for c in ci],
            "method": "(sum of (1 - quality) over labelled spans + sum of p_entity over candidate missing entities)"
                      " / labelled spans; 95% interval: bootstrap over documents",
            "bootstrap": {"resamples": resamples, "seed": seed, "unit": "document"}}


__all__ = ["BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "bootstrap_ratio", "confident_error_rate", "o_threshold",
           "upper_bound_rate"]
