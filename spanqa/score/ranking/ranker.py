"""Rank a corpus: candidates and signals for the real labels and for an injected copy, fit, score.

:func:`rank_corpus` is what ``spanqa audit`` runs after k-fold:

1. the corpus's :class:`~spanqa.score.ranking.consistency.SurfaceIndex` and every candidate with its
   signals (:func:`spanqa.score.ranking.signals.doc_candidates`);
2. a copy with ``rate`` x spans injected errors (:func:`spanqa.corpus.injection.inject_errors`,
   seeded), judged the same way with the same marginals; a candidate of the copy is *positive*
   when it overlaps an injected error;
3. a :class:`~spanqa.score.ranking.combine.RankingModel` fitted on the copy's candidates (and, as a
   check reported in the summary, one fitted on half of the copy's documents and scored on
   the other half: the candidate-level average precision of finding injected errors);
4. ``p_error`` of every real candidate.

With ``method = "model"`` steps 2-3 are skipped and ``p_error = 1 - P(labels right)`` (the
out-of-fold model alone, spanqa's ranking before this module existed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

import numpy as np

from spanqa.compare.comparison import compare_spans
from spanqa.core.config import RankingConfig
from spanqa.core.document import Corpus
from spanqa.core.span import Span
from spanqa.corpus.injection import inject_errors
from spanqa.score.competence import weights
from spanqa.score.quality import TagLattice
from spanqa.score.ranking.combine import RankingModel
from spanqa.score.ranking.consistency import SurfaceIndex
from spanqa.score.ranking.signals import (
    Candidate,
    candidate_key,
    coordination_splits,
    doc_candidates,
    feature_matrix,
    feature_names,
)

Method = Literal["injected", "model"]
#: features left out when no training dynamics of the injected copy were recorded: they cannot be fitted on
#: errors the heads never trained on
DYNAMICS_FEATURES = ("margin", "margin_missing")


@dataclass
class Ranking:
    """Every candidate of the corpus, its ``p_error``, the fitted model (None for ``method="model"``), fit facts."""

    candidates: list[Candidate]
    p_error: np.ndarray
    model: RankingModel | None
    fit: dict[str, Any] = field(default_factory=dict)
    features: np.ndarray | None = None
    #: the fitted model's own p_error before :func:`spanqa.score.competence.weights` (None: no weighing)
    p_model: np.ndarray | None = None
    #: per candidate, the factors its p_error was multiplied by
    factors: list[dict[str, float]] | None = None

    def by_key(self) -> dict[tuple, int]:
        """``(doc_id, labels keys, suggestion keys) -> candidate index``."""
        return {candidate_key(c.doc_id, c.labels, c.suggestion): i for i, c in enumerate(self.candidates)}


def corpus_candidates(corpus: Corpus, words: Mapping[str, Sequence[tuple[int, int]]],
                      lattices: Mapping[str, TagLattice], predictions: Mapping[str, Sequence[Span]],
                      margins: Mapping[str, np.ndarray | None] | None = None,
                      reliability: Mapping[str, float] | None = None) -> list[Candidate]:
    """Candidates of every annotated document that has a lattice, in corpus order."""
    surface = SurfaceIndex(corpus, words)
    coordination = coordination_splits([(d.text, s) for d in corpus.documents for s in d.spans or ()])
    out: list[Candidate] = []
    for doc in corpus.documents:
        if doc.spans is None or doc.id not in lattices:
            continue
        comps = compare_spans(doc.id, list(doc.spans), list(predictions.get(doc.id, ())))
        out.extend(doc_candidates(doc.id, words[doc.id], lattices[doc.id], comps, surface=surface,
                                  margins=None if margins is None else margins.get(doc.id), text=doc.text,
                                  reliability=reliability, labels=doc.spans, coordination=coordination))
    return out


def _positives(cands: Sequence[Candidate], errors: Sequence[Any]) -> np.ndarray:
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for e in errors:
        by_doc.setdefault(e.doc_id, []).append((e.start, e.end))
    return np.asarray([any(c.start < b and a < c.end for a, b in by_doc.get(c.doc_id, ())) for c in cands], bool)


def rank_corpus(corpus: Corpus, words: Mapping[str, Sequence[tuple[int, int]]],
                lattices: Mapping[str, TagLattice], predictions: Mapping[str, Sequence[Span]], *,
                method: Method = RankingConfig.method, rate: float = RankingConfig.inject_rate,
                seed: int = RankingConfig.inject_seed,
                margins: Mapping[str, np.ndarray | None] | None = None,
                copy_margins: Mapping[str, np.ndarray | None] | None = None,
                reliability: Mapping[str, float] | None = None, systematic: float = 0.0) -> Ranking:
    """Candidates of ``corpus`` with ``p_error`` (module docstring).  ``words``/``lattices``: per annotated
    document with marginals; ``predictions``: the decoded out-of-fold spans.

    ``margins`` / ``copy_margins``: training dynamics of the real labels and of the injected
    copy's labels (``DocMarginals.margins`` / ``copy_margins``, recorded by k-fold with probe
    samples, :func:`spanqa.model.probes.probe_labels`); the margin features enter the ranking only
    when both were recorded.  ``reliability``: per label, the out-of-fold model's span F1 against the labels
    (the ``label_f1`` signal; the same values judge the injected copy).
    """
    t0 = time.perf_counter()
    dynamics = _recorded(margins) and _recorded(copy_margins)
    cands = corpus_candidates(corpus, words, lattices, predictions, margins if dynamics else None, reliability)
    names = feature_names()
    keep = [i for i, n in enumerate(names) if dynamics or n not in DYNAMICS_FEATURES]
    x = feature_matrix(cands)[:, keep]
    if method == "model" or not cands:
        p = 1.0 - np.exp(np.asarray([c.values["log_p_labels"] for c in cands], dtype=np.float64))
        return Ranking(cands, np.clip(p, 0.0, 1.0), None, {"method": "model", "seconds": round(time.perf_counter() - t0, 3)},
                       x)
    noisy, errors = inject_errors(corpus, words, rate=rate, seed=seed, systematic=systematic)
    fake = corpus_candidates(noisy, words, lattices, predictions, copy_margins if dynamics else None, reliability)
    xf = feature_matrix(fake)[:, keep]
    yf = _positives(fake, errors)
    fit: dict[str, Any] = {"method": "injected", "rate": rate, "seed": seed, "systematic": systematic,
                           "n_injected": len(errors),
                           "dynamics": dynamics,
                           "injected_by_kind": _count(e.kind for e in errors),
                           "n_candidates_copy": len(fake), "n_positive_copy": int(yf.sum())}
    if len(errors) == 0 or yf.all() or not yf.any():
        fit["fallback"] = "too few labelled spans to inject errors into; ranked by the model alone"
        p = 1.0 - np.exp(np.asarray([c.values["log_p_labels"] for c in cands], dtype=np.float64))
        return Ranking(cands, np.clip(p, 0.0, 1.0), None, fit, x)
    fit["heldout_ap"] = _heldout_ap(fake, xf, yf, [names[i] for i in keep])
    fit["recovery"] = heldout_recovery(fake, xf, yf, [names[i] for i in keep], errors)
    model = RankingModel.fit(xf, yf, [names[i] for i in keep], meta={"rate": rate, "seed": seed})
    fit["seconds"] = round(time.perf_counter() - t0, 3)
    p_model = model.p_error(x)
    factors = [weights(c.kind, c.action, c.labels, c.suggestion, c.surface, reliability or {}, context=c.context)
               for c in cands]
    p = np.asarray([pm * float(np.prod(list(f.values()))) if f else pm for pm, f in zip(p_model, factors)])
    fit["weighed"] = {"candidates": int(sum(1 for f in factors if f)),
                      "rule": "p_error x the corpus and competence factors of spanqa.score.competence.weights"}
    return Ranking(cands, p, model, fit, x, p_model=p_model, factors=factors)


def _recorded(margins: Mapping[str, np.ndarray | None] | None) -> bool:
    if not margins:
        return False
    return any(m is not None for m in margins.values())


def _heldout_ap(cands: Sequence[Candidate], x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> float | None:
    """Candidate-level AP on the odd documents of the copy of a model fitted on the even ones."""
    from sklearn.metrics import average_precision_score

    ids = sorted({c.doc_id for c in cands})
    even = {d for d in ids[::2]}
    tr = np.asarray([c.doc_id in even for c in cands], bool)
    if tr.all() or not tr.any() or y[tr].all() or not y[tr].any() or not y[~tr].any():
        return None
    m = RankingModel.fit(x[tr], y[tr], names)
    return round(float(average_precision_score(y[~tr], m.p_error(x[~tr]))), 4)


def _split_even(cands: Sequence[Candidate]) -> np.ndarray:
    ids = sorted({c.doc_id for c in cands})
    even = set(ids[::2])
    return np.asarray([c.doc_id in even for c in cands], bool)


def heldout_recovery(cands: Sequence[Candidate], x: np.ndarray, y: np.ndarray, names: Sequence[str],
                     errors: Sequence[Any]) -> dict[str, Any] | None:
    """Where the ranking finds errors and where it does not: of the injected errors in the copy's odd documents, the
    share a ranking fitted on the even ones puts among its first R candidates (R = those errors' number), per kind
    and per label (the label the error took away or put in).  None when the copy is too small to split."""
    tr = _split_even(cands)
    if tr.all() or not tr.any() or y[tr].all() or not y[tr].any() or not y[~tr].any():
        return None
    m = RankingModel.fit(x[tr], y[tr], names)
    test = [c for c, t in zip(cands, tr) if not t]
    p = m.p_error(x[~tr])
    odd_docs = {c.doc_id for c in test}
    errs = [e for e in errors if e.doc_id in odd_docs]
    top = [test[i] for i in np.argsort(-p, kind="stable")[:len(errs)]]
    hit: dict[str, list[tuple[int, int]]] = {}
    for c in top:
        hit.setdefault(c.doc_id, []).append((c.start, c.end))
    kinds: dict[str, list[int]] = {}
    labels: dict[str, list[int]] = {}
    for e in errs:
        found = int(any(a < e.end and e.start < b for a, b in hit.get(e.doc_id, ())))
        for key, table in [(e.kind, kinds)] + [(lab, labels) for lab in sorted({s.label for s in e.clean + e.noisy})]:
            table.setdefault(key, [0, 0])
            table[key][0] += found
            table[key][1] += 1

    def rows(table: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
        return {k: {"recovered": v[0], "injected": v[1], "share": round(v[0] / v[1], 3)} for k, v in sorted(table.items())}

    return {"by_kind": rows(kinds), "by_label": rows(labels), "errors": len(errs),
            "rule": "injected errors of the copy's odd documents among the first R candidates of a ranking fitted on "
                    "the even ones (R = their number); an error counts for each label it took away or put in"}


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for k in items:
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


__all__ = ["DYNAMICS_FEATURES", "Method", "Ranking", "candidate_key", "corpus_candidates", "rank_corpus"]
