"""Train one tagger on a whole corpus and predict other documents: the model ``spanqa impact`` retrains.

The audit's k-fold never trains on the documents it predicts; :class:`Retrainer` is the
other use of the same tagger - train on *all* annotated documents of one corpus version
and predict a held-out evaluation corpus (or, for :meth:`Retrainer.kfold`, each version's
own documents out of fold).  It uses the audit's model and mode unchanged (``[model]``,
``[train]``, ``[fast]``), so what it measures is what the audit's own tagger gains from
the fixes:

- **fast mode**: a document's frozen-encoder features depend on its text only, never on
  its labels, so every text is encoded once (:mod:`spanqa.model.features`, cached in
  ``cache_dir/features/`` when given) and shared by every corpus version and seed; each
  training is ``fast.heads`` heads on those features (:func:`spanqa.model.kfold.heads_and_predict`).
- **finetune mode**: the transformer is fine-tuned from the checkpoint for every training
  (:func:`spanqa.model.kfold.finetune_and_predict`) - slow; meant for a GPU.

A training is seeded with ``seed`` (``train.seed`` is replaced by it): results are
deterministic for a given seed, thread count and machine, and different seeds give the
seed-to-seed spread that ``spanqa impact`` reports.  Documents are identified by
``(id, sha256(text), forced word splits)``, so a training document and an evaluation
document that share an id but not a text never share features.  Training documents are
split into words at their own span edges as in the audit; the documents predicted by
:meth:`Retrainer.fit_predict` are prepared without their spans, so no gold boundary reaches
them (the audit's held-out notes do get those splits - a known limitation there).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem
from spanqa.core.span import Span
from spanqa.corpus.bio import spans_to_tags
from spanqa.model.fold import finetune_and_predict, heads_and_predict
from spanqa.model.predictions import DocMarginals, decode
from spanqa.model.prepare import PreparedDoc, prepare
from spanqa.model.splits import assign_folds, doc_groups
from spanqa.model.tagger import load_tokenizer, resolve_device, threads_for, torch_threads

DocKey = tuple[str, str, tuple[int, ...]]


def doc_key(doc: Document) -> DocKey:
    """``(id, sha256 of the text, forced word splits)``: what a document's encoding and features depend on.

    The words are the audit's (:func:`spanqa.corpus.tokenize.doc_words`): split where a span edge falls inside a
    word, so a training document's words depend on its spans; most versions of a document share them."""
    from spanqa.corpus.tokenize import doc_words

    return doc.id, hashlib.sha256(doc.text.encode("utf-8")).hexdigest(), tuple(doc_words(doc).forced_splits)


@dataclass
class Retrainer:
    """One tag set, one configuration; trains on any corpus version and predicts any documents.

    ``tags`` must hold every label of every corpus it will train on (``spanqa.corpus.bio.tag_inventory``
    of their union).  ``problems`` collects the ``W401``/``W403`` of the documents it prepares.
    """

    config: AuditConfig
    tags: list[str]
    cache_dir: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: {"prepare": 0.0, "features": 0.0, "train": 0.0})
    trainings: int = 0

    def __post_init__(self) -> None:
        if self.config.train.mode == "auto":          # no corpus here: the mode this machine gets at budget 0
            from spanqa.model.plan import resolve

            self.config = resolve(self.config)[0]
        self.tokenizer = load_tokenizer(self.config.model)
        self.device = resolve_device(self.config.model.device)
        self._prepared: dict[DocKey, PreparedDoc] = {}
        # features by encoding: every copy of a prepared document (other labels, another id) shares the cached
        # DocEncoding object, which self._prepared keeps alive, so its identity names the text and its words
        self._feats: dict[int, np.ndarray] = {}
        self._reduced: dict[int, np.ndarray] = {}
        self._tag_id = {t: i for i, t in enumerate(self.tags)}

    # ------------------------------------------------------------------ documents
    def _prepare(self, docs: Sequence[Document]) -> list[PreparedDoc]:
        """Encodings (cached by :func:`doc_key`) with labels from each document's own spans (None when not
        annotated)."""
        keys = [doc_key(d) for d in docs]
        missing = list({k: d for k, d in zip(keys, docs) if k not in self._prepared}.items())
        if missing:
            t0 = time.perf_counter()
            fresh, _, _ = prepare([d for _, d in missing], self.tags, self.tokenizer, self.config)
            for (k, _), p in zip(missing, fresh):
                self._prepared[k] = p
                self.problems.extend(p.enc.problems)
            self.seconds["prepare"] += time.perf_counter() - t0
        out = []
        for d, k in zip(docs, keys):
            p = self._prepared[k]
            labels = None
            if d.spans is not None:
                lost: list[Span] = []
                word_tags = spans_to_tags(p.enc.words, d.spans, scheme="IOB2", on_drop=lost.append)
                self.problems.extend(Problem("W403", Location(doc_id=d.id, start=s.start, end=s.end,
                                                              excerpt=d.text[s.start:s.end]), f"{s.label} span")
                                     for s in lost)
                labels = np.asarray([self._tag_id[t] for t in word_tags], dtype=np.int64)
            out.append(replace(p, doc=d, labels=labels))
        return out

    def _features(self, prepared: Sequence[PreparedDoc]) -> list[np.ndarray]:
        """Fast mode: the frozen encoder's word features of each document, computed once per text."""
        from spanqa.model.features import reduce_features, word_features

        keys = [id(p.enc) for p in prepared]
        missing = [(k, p) for k, p in zip(keys, prepared) if k not in self._feats]
        if missing:
            t0 = time.perf_counter()
            f, t = self.config.fast, self.config.train
            uniq = list({k: p for k, p in missing}.items())
            with torch_threads(threads_for(self.config.model)):
                wf = word_features([p.enc for _, p in uniq], self.config.model, tokenizer=self.tokenizer,
                                   layers=f.layers, pooling=f.pooling, dtype=f.feature_dtype, seed=t.seed,
                                   max_length=t.max_length, run_dir=self.cache_dir, device=self.device,
                                   problems=self.problems)
            for (k, _), x in zip(uniq, wf.features):
                self._feats[k] = x
            if f.reduce:  # principal axes of every text seen so far (no labels); refitted when texts are added
                names = {k: str(i) for i, k in enumerate(self._feats)}
                reduced, _ = reduce_features({names[k]: x for k, x in self._feats.items()}, f.reduce, seed=t.seed,
                                             dtype=f.feature_dtype)
                self._reduced = {k: reduced[names[k]] for k in self._feats}
            self.seconds["features"] += time.perf_counter() - t0
        if self.config.fast.reduce:
            return [self._reduced[k] for k in keys]
        return [self._feats[k] for k in keys]

    def encode(self, docs: Sequence[Document]) -> None:
        """Prepare (and in fast mode encode) every document up front, as it will be used - the versions'
        documents with their spans, the documents to predict without - so that a ``fast.reduce`` projection is
        fitted once, on every text, and shared by every training."""
        prepared = self._prepare(list(docs))
        if self.config.train.mode == "fast":
            self._features(prepared)

    # ------------------------------------------------------------------ training
    def _fit(self, train: Sequence[PreparedDoc], pred: Sequence[PreparedDoc], seed: int) -> list[np.ndarray]:
        """Train on ``train``; the word marginals of each ``pred`` document, in order."""
        config = self.config.replace(**{"train.seed": seed})
        # the fold functions key their output by document id: internal ids keep two targets with one id apart
        named = [replace(p, doc=p.doc.evolve(id=f"#{i}")) for i, p in enumerate(pred)]
        t0 = time.perf_counter()
        if config.train.mode == "fast":
            groups, _ = doc_groups([p.doc for p in train], config.data.group_regex)
            both = self._features(list(train) + list(pred))  # one call: one projection when fast.reduce is set
            tf, pf = both[:len(train)], both[len(train):]
            t0 = time.perf_counter()
            with torch_threads(threads_for(config.model)):
                probs, _, _ = heads_and_predict(0, list(train), named, groups, tf, pf, self.tags, config, None,
                                                self.device)
        else:
            with torch_threads(threads_for(config.model)):
                probs, _ = finetune_and_predict(0, list(train), named, self.tags, self.tokenizer, config, None,
                                                self.device)
        self.seconds["train"] += time.perf_counter() - t0
        self.trainings += 1
        return [probs[p.doc.id] for p in named]

    def _spans(self, pred: Sequence[PreparedDoc], probs: Sequence[np.ndarray], seed: int) -> list[list[Span]]:
        return [decode(DocMarginals(p.doc.id, p.enc.words, pr, fold=0, seed=seed), self.tags)
                for p, pr in zip(pred, probs)]

    def fit_marginals(self, train: Corpus, targets: Sequence[Document], *, seed: int) -> list[DocMarginals]:
        """Train on every annotated document of ``train``; the word marginals of each target document, in order
        (``fold = 0``; targets are prepared without their spans: no gold boundary reaches the words)."""
        train_docs = self._prepare([d for d in train.documents if d.spans is not None])
        pred_docs = self._prepare([d.evolve(spans=None) for d in targets])
        return [DocMarginals(p.doc.id, p.enc.words, pr, fold=0, seed=seed)
                for p, pr in zip(pred_docs, self._fit(train_docs, pred_docs, seed))]

    def fit_predict(self, train: Corpus, targets: Sequence[Document], *, seed: int) -> list[list[Span]]:
        """Train on every annotated document of ``train``; the predicted spans of each target document, in order
        (targets are prepared without their spans: no gold boundary reaches the words)."""
        return [decode(m, self.tags) for m in self.fit_marginals(train, targets, seed=seed)]

    def kfold(self, corpus: Corpus, *, seed: int, folds: int | None = None) -> dict[str, list[Span]]:
        """Out-of-fold predicted spans of every annotated document of ``corpus`` (group k-fold as in the audit;
        the split depends on the documents and ``seed``, not on the labels, so every version of a corpus gets
        the same folds)."""
        docs = [d for d in corpus.documents if d.spans is not None]
        prepared = self._prepare(docs)
        groups, _ = doc_groups(docs, self.config.data.group_regex)
        k = folds or self.config.train.folds
        fold_of = assign_folds(groups, k, seed)
        out: dict[str, list[Span]] = {}
        for j in range(k):
            train = [p for p, f in zip(prepared, fold_of) if f != j]
            pred = [replace(p, labels=None) for p, f in zip(prepared, fold_of) if f == j]
            out.update((p.doc.id, spans) for p, spans in zip(pred, self._spans(pred, self._fit(train, pred, seed),
                                                                                seed)))
        return out

    def stats(self) -> dict[str, Any]:
        return {"trainings": self.trainings, "device": self.device, "mode": self.config.train.mode,
                **{f"{k}_s": round(v, 2) for k, v in self.seconds.items()}}


__all__ = ["DocKey", "Retrainer", "doc_key"]
