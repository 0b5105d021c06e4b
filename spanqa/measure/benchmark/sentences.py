"""Sentence-level scores, as in cleanlab's token-classification benchmark.

A sentence (the source's own segmentation) is **positive** when it holds a label error: by
default when a change overlaps it (:func:`sentence_truth`); under ``--protocol cleanlab`` when
any of its word tags differs between the original and the corrected labels
(:func:`sentence_truth_from_tags`, cleanlab's own definition, on merged classes or IOB2).

Every method gives each sentence a score (lower = more suspicious).  :func:`sentence_metrics`
reports

- ``auprc``: ``sklearn.metrics.average_precision_score(positive, -score)`` (step-wise, tie-aware);
- ``auprc_trapezoid``: what cleanlab's benchmark computes - sentences ordered by score
  (``argsort``; stable here), precision and recall at every position, then
  ``sklearn.metrics.auc(recall, precision)`` (trapezoids; ties in an arbitrary but fixed order);
- ``auroc``: ``sklearn.metrics.roc_auc_score(positive, -score)``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spanqa.core.document import Corpus
from spanqa.measure.benchmark.scoring import Detection, _overlap
from spanqa.measure.benchmark.truth import Correction

Range = tuple[int, int]


@dataclass(frozen=True)
class Sentence:
    """One sentence of the audited corpus: its document, character range and word index range."""

    doc_id: str
    start: int
    end: int
    words: Range


def corpus_sentences(corpus: Corpus, words: Mapping[str, Sequence[Range]]) -> list[Sentence]:
    """The source's sentences (``Document.sentences``; rule-based when absent), with their word ranges
    in ``words[doc_id]`` (the marginals' words).  Documents without words are skipped."""
    from spanqa.corpus.tokenize import sentence_ranges

    out = []
    for doc in corpus.documents:
        ws = words.get(doc.id)
        if ws is None:
            continue
        sents = doc.sentences if doc.sentences is not None else sentence_ranges(doc.evolve(spans=None))
        starts = [a for a, _ in ws]
        ends = [b for _, b in ws]
        for a, b in sents:
            lo = bisect.bisect_right(ends, a)
            hi = bisect.bisect_left(starts, b)
            out.append(Sentence(doc.id, a, b, (lo, max(lo, hi))))
    return out


def _by_doc(items: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for x in items:
        out[x.doc_id].append(x)
    return out


def sentence_truth(sentences: Sequence[Sentence], changes: Sequence[Correction]) -> np.ndarray:
    """``(n_sentences,)`` bool: some change overlaps the sentence."""
    by_doc = _by_doc(changes)
    return np.array([any(_overlap(s.start, s.end, c.start, c.end) for c in by_doc.get(s.doc_id, ()))
                     for s in sentences], dtype=bool)


def merge_tag(tag: str) -> str:
    """cleanlab's merged class of an IOB2 tag: ``B-X`` and ``I-X`` -> ``X``, ``O`` stays."""
    return tag[2:] if tag[:2] in ("B-", "I-") else tag


def sentence_truth_from_tags(sentences: Sequence[Sentence], given: Mapping[str, Sequence[str]],
                             corrected: Mapping[str, Sequence[str]], *, merged: bool) -> np.ndarray:
    """``(n_sentences,)`` bool: some word of the sentence has another tag in ``corrected`` than in ``given``
    (per document, one IOB2 tag per word); ``merged`` compares :func:`merge_tag` classes (cleanlab's benchmark)."""
    out = np.zeros(len(sentences), dtype=bool)
    for i, s in enumerate(sentences):
        g, c = given.get(s.doc_id), corrected.get(s.doc_id)
        if g is None or c is None:
            continue
        a, b = s.words
        if merged:
            out[i] = any(merge_tag(x) != merge_tag(y) for x, y in zip(g[a:b], c[a:b]))
        else:
            out[i] = list(g[a:b]) != list(c[a:b])
    return out


def sentence_min_scores(sentences: Sequence[Sentence], detections: Sequence[Detection], *,
                        default: float = 1.0) -> np.ndarray:
    """``(n_sentences,)``: the minimum score of the detections overlapping each sentence, ``default`` if none."""
    by_doc = _by_doc(detections)
    out = np.full(len(sentences), default, dtype=np.float64)
    for i, s in enumerate(sentences):
        for d in by_doc.get(s.doc_id, ()):
            if _overlap(s.start, s.end, d.start, d.end) and d.score < out[i]:
                out[i] = d.score
    return out


def trapezoid_auprc(positive: Sequence[bool], scores: Sequence[float]) -> float | None:
    """cleanlab's benchmark AUPRC: order by score (stable), precision/recall at every position,
    ``sklearn.metrics.auc(recall, precision)``.

    >>> trapezoid_auprc([True, False, True, False], [0.1, 0.2, 0.3, 0.9])   # the curve starts at recall 1/2
    0.2917
    """
    from sklearn.metrics import auc

    y = np.asarray(positive, dtype=bool)
    n_pos = int(y.sum())
    if not 0 < n_pos < len(y):
        return None
    hits_ = np.cumsum(y[np.argsort(np.asarray(scores, dtype=np.float64), kind="stable")])
    precision = hits_ / np.arange(1, len(y) + 1)
    recall = hits_ / n_pos
    return round(float(auc(recall, precision)), 4)


def sentence_metrics(positive: Sequence[bool], scores: Sequence[float]) -> dict[str, Any]:
    """AUPRC (step-wise and cleanlab's trapezoid) and AUROC of sentence scores (lower = more suspicious)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(positive, dtype=bool)
    s = -np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    ok = 0 < n_pos < len(y)
    return {"auprc": round(float(average_precision_score(y, s)), 4) if ok else None,
            "auprc_trapezoid": trapezoid_auprc(y, -s),
            "auroc": round(float(roc_auc_score(y, s)), 4) if ok else None,
            "n_sentences": int(len(y)), "n_positive": n_pos, "prevalence": round(n_pos / len(y), 4) if len(y) else None}


__all__ = ["Sentence", "corpus_sentences", "merge_tag", "sentence_metrics", "sentence_min_scores", "sentence_truth",
           "sentence_truth_from_tags", "trapezoid_auprc"]
