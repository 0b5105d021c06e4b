"""Out-of-fold marginals for nested labels from one shared head per fold (fast mode).

:func:`run_kfold_layers` is :func:`spanqa.model.kfold.run_kfold` for a corpus whose labels
:func:`spanqa.corpus.layers.label_layers` split into layers: the words (split at every labelled span's edges),
the frozen features, the groups and the folds are the flat run's; each annotated document's labels become one IOB2
tag column per layer, and each fold trains ONE head with one softmax per layer
(:func:`spanqa.model.heads.train_head` ``blocks``; the phrase memory is built per layer).  So a nested corpus
costs about one flat k-fold run, not one per layer.  It returns one :class:`OOFPredictions` per layer, whose tags
are that layer's, ready for a flat audit of the layer (``spanqa.run.pipeline.audit(..., oof=...)``).

Fold files are kept in ``run_dir/folds/`` under a fingerprint of the flat run's plus the layers, so an interrupted
run resumes and another layering is refused (``E406``).  Training dynamics (``fast.dynamics``) are not recorded for
layered heads.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.core.errors import Location, Problem
from spanqa.corpus.bio import spans_to_tags, tag_inventory
from spanqa.model import heap
from spanqa.model.predictions import DocMarginals, OOFPredictions

_FORMAT = "spanqa.tagging.layered.v1"


def layer_labels(prepared: Sequence[Any], layers: Sequence[Sequence[str]], blocks: Sequence[Sequence[str]],
                 problems: list[Problem]) -> list[Any]:
    """``prepared`` annotated documents with ``labels`` as ``(n_words, n_layers)`` tag ids (each layer's own IOB2
    inventory); a span a layer cannot hold (its label overlaps itself) is dropped there and reported ``W403``."""
    out = []
    for p in prepared:
        cols = []
        for labels, tags in zip(layers, blocks):
            keep, index = set(labels), {t: i for i, t in enumerate(tags)}
            lost: list = []
            word_tags = spans_to_tags(p.enc.words, [s for s in p.doc.spans if s.label in keep], scheme="IOB2",
                                      on_drop=lost.append)
            for s in lost:
                problems.append(Problem("W403", Location(doc_id=p.doc.id, start=s.start, end=s.end,
                                                         excerpt=p.doc.text[s.start:s.end]), f"{s.label} span"))
            cols.append([index[t] for t in word_tags])
        out.append(replace(p, labels=np.asarray(cols, dtype=np.int64).T.copy()))
    return out


@dataclass
class _Layered:
    """What every fold of a layered run shares: the flat run's setup, the layered fingerprint, tags and labels."""

    r: Any
    fp: str
    problems: list[Problem]
    blocks: list[list[str]]
    tags: list[str]
    ann: list[Any]
    run_dir: Path
    config: AuditConfig  # the caller's, with the encoder adapted to the corpus when model.adapt_epochs asks
    feats: dict[str, np.ndarray] = field(default_factory=dict)


def _layered(corpus: Corpus, config: AuditConfig, layers: Sequence[Sequence[str]], run_dir: Path) -> _Layered:
    from spanqa.model.foldstore import check_run_dir, make_run_dir
    from spanqa.model.runsetup import setup_run

    if config.train.mode != "fast":
        raise ValueError("a layered head is a fast-mode head; fine-tuning audits each layer on its own")
    from spanqa.model.adapt import adapted

    run_dir = make_run_dir(Path(run_dir))
    config = adapted(config, corpus, run_dir)  # as a flat run does (spanqa.model.runsetup.resolved)
    r = setup_run(corpus, config, None)  # the flat run's words, features, groups and folds; our own fingerprint below
    fp = hashlib.sha256(json.dumps({"format": _FORMAT, "flat": r.fp, "layers": [list(x) for x in layers]},
                                   sort_keys=True).encode()).hexdigest()
    problems = [p for p in r.problems if p.code != "W403"]  # flat-layer drops do not apply here
    check_run_dir(run_dir, fp, problems)
    blocks = [list(tag_inventory(labels)) for labels in layers]
    tags = [f"{i}|{tag}" for i, b in enumerate(blocks, 1) for tag in b]
    return _Layered(r, fp, problems, blocks, tags, layer_labels(r.ann, layers, blocks, problems), run_dir, config)


def _train_layered_fold(k: int, lz: _Layered, bar: Any) -> tuple[dict[str, np.ndarray], dict]:
    """Train fold ``k``'s shared head, predict its documents and every unannotated one, save the fold file."""
    from spanqa.model.fold import heads_and_predict
    from spanqa.model.foldstore import save_fold
    from spanqa.model.shards import run_features
    from spanqa.model.tagger import threads_for, torch_threads

    r, config = lz.r, lz.config
    t = config.train
    with torch_threads(threads_for(config.model)):
        if not lz.feats:
            lz.feats, _ = run_features(r.prepared, r.tokenizer, config, lz.run_dir, bar, r.device, lz.problems)
            if config.fast.reduce:
                from spanqa.model.features import reduce_features

                lz.feats, _ = reduce_features(lz.feats, config.fast.reduce, seed=t.seed,
                                              dtype=config.fast.feature_dtype)
        feats = lz.feats
        train = [p for p, f in zip(lz.ann, r.folds) if f != k]
        test = [p for p, f in zip(lz.ann, r.folds) if f == k]
        groups = [g for g, f in zip(r.groups, r.folds) if f != k]
        pred = test + r.unann
        probs, stats, _ = heads_and_predict(
            k, train, pred, groups, [feats[p.doc.id] for p in train], [feats[p.doc.id] for p in pred],
            lz.tags, config, bar, r.device, blocks=lz.blocks)
    save_fold(lz.run_dir, k, probs, r.words, lz.tags, stats, lz.fp, t.seed)
    return probs, stats


def run_layered_fold(corpus: Corpus, config: AuditConfig, layers: Sequence[Sequence[str]], k: int, *,
                     run_dir: Path, progress: bool = False) -> Path:
    """Train fold ``k`` of the layered head alone into ``run_dir/folds/`` (a job of
    :mod:`spanqa.model.distributed`); :func:`run_kfold_layers` with the same ``run_dir`` then finds it finished.
    A fold already finished is left as it is. Returns the fold's ``.npz`` path."""
    from spanqa.core.errors import fail
    from spanqa.model.foldstore import fold_paths, load_fold
    from spanqa.model.progress import progress_bars

    if not 0 <= k < config.train.folds:
        raise fail("E402", f"fold {k} is not in 0..{config.train.folds - 1}", key="train.folds")
    lz = _layered(corpus, config, layers, Path(run_dir))
    if load_fold(lz.run_dir, k, lz.fp, lz.problems) is None:
        with progress_bars(progress) as bar:
            _train_layered_fold(k, lz, bar)
    return fold_paths(lz.run_dir, k)[0]


def run_kfold_layers(corpus: Corpus, config: AuditConfig, layers: Sequence[Sequence[str]], *, run_dir: Path,
                     progress: bool = True, on_fold_done: Any = None) -> list[OOFPredictions]:
    """One :class:`OOFPredictions` per layer of ``corpus`` (module docstring); ``config`` resolved, fast mode.
    ``on_fold_done(k)`` is called after fold ``k`` is saved (tests simulate an interruption with it)."""
    from spanqa.model.foldstore import load_fold
    from spanqa.model.kfold import ENSEMBLE_FOLD
    from spanqa.model.progress import log_lines, progress_bars

    t = config.train
    t0 = time.perf_counter()
    lz = _layered(corpus, config, layers, Path(run_dir))
    r, problems, blocks, ann, fp = lz.r, lz.problems, lz.blocks, lz.ann, lz.fp
    log = log_lines(progress)
    results: dict[int, dict[str, np.ndarray]] = {}
    stats: dict[int, dict] = {}
    resumed: list[int] = []
    with progress_bars(progress) as bar:
        for k in range(t.folds):
            t_fold = time.perf_counter()
            loaded = load_fold(lz.run_dir, k, fp, problems)
            if loaded is not None:
                results[k], stats[k], _ = loaded
                resumed.append(k)
            else:
                results[k], stats[k] = _train_layered_fold(k, lz, bar)
                heap.trim()  # the fold's batches were freed: give their heap back (spanqa.model.heap)
            if log:
                log(f"fold {k + 1}/{t.folds} (one head, {len(layers)} layers) "
                    f"{'resumed' if loaded is not None else 'trained'} in {time.perf_counter() - t_fold:.0f} s")
            if on_fold_done is not None:
                on_fold_done(k)
    fold_of = {p.doc.id: int(f) for p, f in zip(ann, r.folds)}
    words = r.words
    meta = {"problems": [p.to_dict() for p in problems], "fingerprint": fp, "resumed_folds": resumed,
            "folds": {"n": t.folds, "seed": t.seed, "by_doc": fold_of,
                      "groups": dict(zip((p.doc.id for p in ann), r.groups)), "n_groups": len(set(r.groups)),
                      "test_docs": [int((r.folds == k).sum()) for k in range(t.folds)]},
            "timing": {"wall_s": round(time.perf_counter() - t0, 3)}, "layered": {"layers": [list(x) for x in layers]},
            "fold_stats": [stats[k] for k in range(t.folds)]}
    out, off = [], 0
    for i, block in enumerate(blocks, 1):
        n = len(block)
        docs: dict[str, DocMarginals] = {}
        for d in corpus.documents:
            if d.spans is not None:
                k = fold_of[d.id]
                docs[d.id] = DocMarginals(d.id, words[d.id], results[k][d.id][:, off:off + n].copy(), fold=k,
                                          seed=t.seed)
            else:  # every fold's model, averaged
                mean = np.mean([results[k][d.id][:, off:off + n] for k in range(t.folds)], axis=0)
                mean = mean / np.maximum(mean.sum(axis=1, keepdims=True), 1e-300)
                docs[d.id] = DocMarginals(d.id, words[d.id], mean.astype(np.float32), fold=ENSEMBLE_FOLD, seed=t.seed)
        layer_meta = dict(meta, predictions={
            "source": "spanqa out-of-fold tagger (k-fold), one shared head with one output per layer",
            "layer": i, "labels": list(layers[i - 1])})
        if i > 1:  # the problems are the run's: said once, with the first layer
            layer_meta["problems"] = []
        out.append(OOFPredictions(list(block), docs, layer_meta))
        off += n
    return out


__all__ = ["layer_labels", "run_kfold_layers", "run_layered_fold"]
