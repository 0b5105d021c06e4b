"""The shared state of one k-fold run, and its setup: the resolved configuration, tags, groups and folds,
fingerprint, prepared documents, device and probe labels that every fold of the run uses."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.core.errors import Problem, fail
from spanqa.corpus.bio import tag_inventory
from spanqa.model import heap
from spanqa.model.fingerprint import fingerprint
from spanqa.model.foldstore import check_run_dir
from spanqa.model.prepare import PreparedDoc, prepare, run_order
from spanqa.model.probes import probe_labels, uses_probes
from spanqa.model.splits import assign_folds, doc_groups
from spanqa.model.tagger import load_tokenizer, resolve_device

__all__ = ["Run", "resolved", "setup_run"]


@dataclass
class Run:
    """What every fold of one run shares: tags, groups and folds, the prepared documents, the device."""

    tags: list[str]
    groups: list[str]
    folds: np.ndarray
    fp: str
    tokenizer: Any
    prepared: list[PreparedDoc]
    n_annotated: int
    problems: list[Problem]
    dropped: dict[str, int]
    encode_s: float
    device: str
    feats: dict[str, np.ndarray] = field(default_factory=dict)
    feature_stats: dict[str, Any] = field(default_factory=dict)
    features_s: float = 0.0
    #: doc id -> tag ids of the injected copy's labels (probe samples, fast.dynamics), for changed documents
    probe: dict[str, np.ndarray] = field(default_factory=dict)
    probe_errors: int = 0

    @property
    def ann(self) -> list[PreparedDoc]:
        return self.prepared[:self.n_annotated]

    @property
    def unann(self) -> list[PreparedDoc]:
        return self.prepared[self.n_annotated:]

    @property
    def words(self) -> dict[str, tuple]:
        return {p.doc.id: p.enc.words for p in self.prepared}


def resolved(config: AuditConfig, corpus: Corpus, run_dir: Path | None = None) -> AuditConfig:
    """``config`` with ``train.mode = "auto"`` resolved for ``corpus`` (:func:`spanqa.model.plan.resolve`) and the
    encoder adapted to its text when ``model.adapt_epochs`` asks (:func:`spanqa.model.adapt.adapted`)."""
    from spanqa.model.adapt import adapted

    if config.train.mode == "auto":
        from spanqa.model.plan import resolve

        config = resolve(config, corpus)[0]
    return adapted(config, corpus, run_dir)


def setup_run(corpus: Corpus, config: AuditConfig, run_dir: Path | None) -> Run:
    """The shared state of a run of ``corpus`` (``config`` resolved); with ``run_dir``, its fingerprint is checked
    or written there (:func:`spanqa.model.foldstore.check_run_dir`)."""
    t = config.train
    if t.mode == "auto":
        raise ValueError("resolve train.mode = 'auto' first (spanqa.model.plan.resolve)")
    heap.limit(config.model.mmap_threshold_mib)
    ordered = run_order(corpus)
    annotated = [d for d in ordered if d.spans is not None]
    if not annotated:
        raise fail("E405", "no annotated documents to train on", key="train.folds")
    tags = tag_inventory(corpus.labels)
    groups, problems = doc_groups(annotated, config.data.group_regex)
    folds = assign_folds(groups, t.folds, t.seed)
    fp = fingerprint(corpus, tags, config)
    if run_dir is not None:
        check_run_dir(run_dir, fp, problems)
    device = resolve_device(config.model.device)
    t0 = time.perf_counter()
    tokenizer = load_tokenizer(config.model)
    prepared, more, dropped = prepare(ordered, tags, tokenizer, config)
    problems.extend(more)
    r = Run(tags, groups, folds, fp, tokenizer, prepared, len(annotated), problems, dropped,
            time.perf_counter() - t0, device)
    if uses_probes(config):
        r.probe, r.probe_errors = probe_labels(r.ann, tags, config)
    return r
