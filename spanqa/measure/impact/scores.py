"""Strict span F1 of retrained models with intervals: per-document counts, a document-and-seed bootstrap.

A model's predictions on an evaluation corpus become **counts per document and label** -
matched, predicted, gold spans under the strict rule of :mod:`spanqa.compare.metrics` (same
characters, same label) - an array ``(seeds, documents, labels, 3)``.  Every F1 here is
computed from summed counts (micro over labels, or one label), never averaged per document.

**Interval** (:func:`bootstrap_f1`): a two-level bootstrap.  Each resample draws the
evaluation documents with replacement (the unit a clinical test set is sampled in, so
notes with many spans weigh as they do) and, independently for each model version, the
seeds with replacement; the resample's F1 is the mean over its drawn seeds of each seed's
F1 on the drawn documents.  The 2.5th/97.5th percentiles are the 95% interval, which
therefore covers both the evaluation sample and the training run's seed-to-seed noise.
A **difference** between two versions (:func:`bootstrap_delta`) draws the *same*
documents for both (paired) and their seeds independently; ``p_not_better`` is the share
of resamples where the later version is not above the earlier one.

>>> c = np.array([[[[1, 1, 1]], [[0, 1, 1]]]])   # one seed, two documents, one label
>>> round(float(f1_of(c.sum(axis=(1, 2)))[0]), 3)
0.5
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from spanqa.core.document import Document
from spanqa.core.span import Span

#: bootstrap resamples (documents x seeds)
RESAMPLES = 1000


def doc_counts(predicted: Mapping[str, Sequence[Span]], gold: Sequence[Document], labels: Sequence[str]) -> np.ndarray:
    """``(documents, labels, 3)`` int64: strict matched, predicted and gold spans per document and label.

    Documents follow ``gold``; a document missing from ``predicted`` predicts nothing.
    Labels outside ``labels`` are not counted (pass every label either side holds).
    """
    from spanqa.compare.comparison import compare_spans
    from spanqa.compare.metrics import span_metrics

    index = {lab: i for i, lab in enumerate(labels)}
    out = np.zeros((len(gold), len(labels), 3), dtype=np.int64)
    for i, doc in enumerate(gold):
        per = span_metrics(compare_spans(doc.id, list(predicted.get(doc.id, ())), list(doc.spans or ()))).per_label
        for lab, prf in per.items():
            if lab in index:
                out[i, index[lab]] = (prf.matched, prf.n_labels, prf.n_other)
    return out


def f1_of(sums: np.ndarray) -> np.ndarray:
    """F1 from ``(..., 3)`` summed (matched, predicted, gold); 0 where there is nothing to match."""
    m, p, g = sums[..., 0].astype(float), sums[..., 1].astype(float), sums[..., 2].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(p + g > 0, 2 * m / (p + g), 0.0)
    return f


def _prf(sums: np.ndarray) -> dict[str, float]:
    m, p, g = (float(x) for x in sums)
    return {"precision": m / p if p else 0.0, "recall": m / g if g else 0.0, "f1": 2 * m / (p + g) if p + g else 0.0}


def _draws(n_docs: int, resamples: int, seed: int) -> tuple[np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_docs, np.full(n_docs, 1.0 / n_docs), size=resamples) if n_docs else \
        np.zeros((resamples, 0), dtype=np.int64)
    return weights, rng


def _resampled(counts: np.ndarray, weights: np.ndarray, rng: np.random.Generator, label: int | None) -> np.ndarray:
    """``(resamples,)`` seed-mean F1 of ``counts`` under the document ``weights``, seeds drawn with replacement."""
    c = counts if label is None else counts[:, :, label:label + 1]
    per_doc = c.sum(axis=2)                                    # (seeds, docs, 3)
    sums = np.einsum("bd,sdk->bsk", weights, per_doc)           # (resamples, seeds, 3)
    f = f1_of(sums)                                             # (resamples, seeds)
    pick = rng.integers(0, f.shape[1], size=f.shape)            # seeds with replacement
    return np.take_along_axis(f, pick, axis=1).mean(axis=1)


def _interval(x: np.ndarray) -> list[float]:
    return [round(float(np.percentile(x, 2.5)), 4), round(float(np.percentile(x, 97.5)), 4)]


def bootstrap_f1(counts: np.ndarray, labels: Sequence[str], *, resamples: int = RESAMPLES, seed: int = 0
                 ) -> dict[str, Any]:
    """Micro and per-label strict F1 of one version: the seed mean, each seed, their spread and the 95% interval."""
    n_seeds, n_docs = counts.shape[:2]
    weights, rng = _draws(n_docs, resamples, seed)
    per_seed = [_prf(counts[s].sum(axis=(0, 1))) for s in range(n_seeds)]
    f1s = np.array([p["f1"] for p in per_seed])
    out: dict[str, Any] = {
        "f1": round(float(f1s.mean()), 4),
        "precision": round(float(np.mean([p["precision"] for p in per_seed])), 4),
        "recall": round(float(np.mean([p["recall"] for p in per_seed])), 4),
        "ci95": _interval(_resampled(counts, weights, rng, None)),
        "seed_sd": round(float(f1s.std(ddof=1)), 4) if n_seeds > 1 else 0.0,
        "per_seed": [round(float(x), 4) for x in f1s],
        "per_label": {},
    }
    for j, lab in enumerate(labels):
        lab_f1 = np.array([_prf(counts[s, :, j].sum(axis=0))["f1"] for s in range(n_seeds)])
        gold = int(counts[0, :, j, 2].sum())
        out["per_label"][lab] = {"f1": round(float(lab_f1.mean()), 4), "gold": gold,
                                 "ci95": _interval(_resampled(counts, weights, rng, j))}
    return out


def bootstrap_delta(base: np.ndarray, other: np.ndarray, labels: Sequence[str], *, resamples: int = RESAMPLES,
                    seed: int = 0) -> dict[str, Any]:
    """``other`` minus ``base`` (same evaluation documents): F1 change, 95% interval and ``p_not_better``,
    micro and per label."""
    n_docs = base.shape[1]
    weights, rng = _draws(n_docs, resamples, seed)

    def one(label: int | None) -> dict[str, Any]:
        d = _resampled(other, weights, rng, label) - _resampled(base, weights, rng, label)
        sel = (slice(None),) * 2 + ((slice(None),) if label is None else (slice(label, label + 1),))
        point = float(np.mean(f1_of(other[sel].sum(axis=(1, 2)))) - np.mean(f1_of(base[sel].sum(axis=(1, 2)))))
        return {"f1": round(point, 4), "ci95": _interval(d), "p_not_better": round(float((d <= 0).mean()), 4)}

    return {**one(None), "per_label": {lab: one(j) for j, lab in enumerate(labels)}}


__all__ = ["RESAMPLES", "bootstrap_delta", "bootstrap_f1", "doc_counts", "f1_of"]
