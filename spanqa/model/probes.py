"""Probe samples: which documents' training labels come from the injected copy, in which fold, and those labels.

With fast mode, ``fast.dynamics`` and the injected ranking, one training fold of each document trains on the
labels of its injected copy (:func:`spanqa.corpus.injection.inject_errors`) instead of its own, so the margins of
injected errors *while trained on* are recorded (see :func:`probe_labels`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.corpus.bio import spans_to_tags
from spanqa.model.prepare import PreparedDoc

__all__ = ["probe_fold", "probe_labels", "uses_probes"]


def uses_probes(config: AuditConfig) -> bool:
    """Training dynamics are recorded for the injected copy too (fast mode, ``fast.dynamics``, injected ranking,
    at least 3 folds: one training fold of a document sees its copy's labels, the others its own)."""
    return (config.train.mode == "fast" and config.fast.dynamics and config.ranking.method == "injected"
            and config.train.folds >= 3)


def probe_fold(fold: int, n_folds: int) -> int:
    """The one fold whose heads train on a document's injected-copy labels instead of its own (doc in ``fold``)."""
    return (fold - 1) % n_folds


def probe_labels(ann: Sequence[PreparedDoc], tags: Sequence[str], config: AuditConfig
                 ) -> tuple[dict[str, np.ndarray], int]:
    """Tag ids of the injected copy (:func:`spanqa.corpus.injection.inject_errors` with ``ranking.inject_rate``
    and ``ranking.inject_seed`` - the copy :func:`spanqa.score.ranking.ranker.rank_corpus` rebuilds) for the documents
    it changes, and the number of injected errors.

    **Probe samples** (the *threshold samples* of Pleiss et al. 2020): the heads of fold
    :func:`probe_fold` of a document train on these labels in place of the document's own, so
    the margins of injected errors *while trained on* are recorded (``DocMarginals.copy_margins``)
    and the ranking can learn what a trained-on error looks like.  The other ``folds - 2``
    training folds see the real labels (``DocMarginals.margins``); the held-out prediction of
    a document is never affected by its own labels.  Each head thus trains on about
    ``inject_rate / (folds - 1)`` extra noise.
    """
    from spanqa.corpus.injection import inject_errors

    corpus = Corpus.from_docs([p.doc for p in ann])
    noisy, errors = inject_errors(corpus, {p.doc.id: p.enc.words for p in ann}, rate=config.ranking.inject_rate,
                                  seed=config.ranking.inject_seed, systematic=config.ranking.inject_systematic)
    tag_id = {t: i for i, t in enumerate(tags)}
    changed = {e.doc_id for e in errors}
    out = {}
    for d, p in zip(noisy.documents, ann):
        if d.id in changed:
            out[d.id] = np.asarray([tag_id[t] for t in spans_to_tags(p.enc.words, d.spans or ())], dtype=np.int64)
    return out, len(errors)
