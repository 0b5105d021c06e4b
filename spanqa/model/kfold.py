"""Group k-fold training that yields out-of-fold (OOF) word-level label marginals, resumable.

This module is the k-fold driver (:func:`run_kfold`, :func:`run_fold`); each step is done by a module of its own:

- :mod:`spanqa.model.splits`: each document's group and the group k-fold split (:func:`doc_groups`,
  :func:`assign_folds`);
- :mod:`spanqa.model.prepare`: words, gold tag ids and windows of each document (:class:`PreparedDoc`,
  :func:`prepare`, :func:`run_order`);
- :mod:`spanqa.model.fingerprint`: the hash of what determines the fold models (:func:`fingerprint`);
- :mod:`spanqa.model.runsetup`: what every fold of one run shares, and its setup;
- :mod:`spanqa.model.fold`: one fold trained and its documents predicted (:func:`heads_and_predict`,
  :func:`finetune_and_predict`);
- :mod:`spanqa.model.foldstore`: the run folder's fingerprint marker and the finished folds' files;
- :mod:`spanqa.model.shards`: fast mode's frozen-encoder features, at once or in corpus shards;
- :mod:`spanqa.model.probes`: probe samples (training dynamics on the injected copy);
- :mod:`spanqa.model.progress`: progress bars or plain lines on stderr.

Their names stay importable from here, as they were before the split.

What it does
------------
1. **Words and gold tags** (:mod:`spanqa.model.prepare`).  Each document's words come from
   :func:`spanqa.corpus.tokenize.doc_words`; annotated documents get IOB2 gold tags from
   :func:`spanqa.corpus.bio.spans_to_tags`.  Overlapping gold spans cannot all be tagged
   flat: the codec keeps the longest, each dropped span is recorded as ``W403``
   (and counted in ``meta["gold"]``); the scorer still sees them.
2. **Folds by group** (:mod:`spanqa.model.splits`).  Only annotated documents (``spans is not None``) are
   split and trained on.  A document's group is ``doc.group``, else the first
   capture group of ``data.group_regex`` on its id (``W402`` when it does not
   match), else its id.  scikit-learn's ``GroupKFold(shuffle=True,
   random_state=train.seed)`` assigns groups to folds, so one patient's notes
   never sit on both sides of a split.  Fewer groups than folds is ``E405``.
3. **Train and predict** (:mod:`spanqa.model.fold`).  For fold ``k`` a fresh model (seeded with
   ``train.seed``) is trained on the other folds' documents and predicts fold
   ``k``'s documents - each annotated document is predicted exactly once, by the
   one model that never saw it (``DocMarginals.fold = k``).  ``train.mode``
   chooses the model:

   - ``"fast"`` (default): every word of every document is encoded **once** by the
     frozen transformer (:mod:`spanqa.model.features` via :mod:`spanqa.model.shards`, cached in
     ``run_dir/features/``), and each fold trains a light head (:mod:`spanqa.model.heads`, ``[fast]``) on the
     training folds' word features.  The encoder never sees a label, so sharing its
     features across folds leaks nothing about the held-out annotation.
   - ``"finetune"``: the whole transformer is fine-tuned per fold on the training
     folds' windows (:mod:`spanqa.model.tagger`).
4. **Unannotated documents** (``spans is None``) are predicted by *every* fold
   model and get the mean of the k marginals, with ``fold = -1``: none of the
   models trained on them, so all k predictions are out of sample, and the mean is
   steadier than any single fold's.  ``meta["unannotated"]`` records this.
5. **Resume** (:mod:`spanqa.model.fingerprint`, :mod:`spanqa.model.foldstore`).  With ``run_dir``,
   ``run_dir/fingerprint.json`` holds a hash of
   the corpus (ids, texts, spans, groups, segmentation), the tag set and every
   setting that changes the model (``data.group_regex``, ``[model]``, ``[train]``,
   and ``[fast]`` in fast mode; not ``[findings]``, so thresholds can change
   without retraining).  Each
   finished fold writes ``folds/fold_{k}.npz`` and then ``folds/fold_{k}.done``.
   A rerun loads finished folds instead of training them - training is
   deterministic, so the result is identical to an uninterrupted run - and a
   different fingerprint is ``E406``.  :func:`run_fold` trains one fold alone into
   ``run_dir`` (a job of :mod:`spanqa.model.distributed`); ``run_kfold`` then finds it finished.
   In fast mode :func:`spanqa.model.shards.encode_shard` encodes one slice of
   :func:`spanqa.model.prepare.run_order` (a corpus shard, another job), labelled with the whole corpus's cache
   key (:func:`spanqa.model.shards.features_target`).
6. **Device.**  ``model.device`` (``auto`` = cuda when available) runs the
   transformer (bf16 autocast on cuda) and the heads there; it is recorded in
   ``meta["device"]`` and in each fold's stats, and is *not* part of the
   fingerprint (nor ``model.compile``), so folds run on different machines resume
   into one run.  CPU results do not depend on it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from spanqa._version import __version__
from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.core.errors import fail
from spanqa.model import heap
from spanqa.model.adapt import adapt_stats
from spanqa.model.fingerprint import (
    LATER_FAST_KEYS,
    LATER_MODEL_KEYS,
    RESOLVED_TRAIN_KEYS,
    RUNTIME_KEYS,
    fast_settings,
    fingerprint,
)
from spanqa.model.fold import finetune_and_predict, heads_and_predict
from spanqa.model.foldstore import (
    FOLD_FORMAT,
    check_run_dir,
    dynamics_path,
    fold_paths,
    load_fold,
    make_run_dir,
    save_fold,
)
from spanqa.model.predictions import DocMarginals, OOFPredictions
from spanqa.model.prepare import (
    PreparedDoc,
    _words,  # noqa: F401  (importable from here, as before the split)
    prepare,
    run_order,
)
from spanqa.model.probes import probe_fold, probe_labels, uses_probes
from spanqa.model.progress import log_lines, progress_bars
from spanqa.model.runsetup import Run, resolved, setup_run
from spanqa.model.shards import encode_shard, features_target, run_features, shard_ranges
from spanqa.model.splits import assign_folds, doc_groups
from spanqa.model.tagger import device_info, resolve_model_path, threads_for, torch_threads

__all__ = [
    "ENSEMBLE_FOLD", "LATER_FAST_KEYS", "LATER_MODEL_KEYS", "RESOLVED_TRAIN_KEYS", "RUNTIME_KEYS", "PreparedDoc",
    "assign_folds", "doc_groups", "encode_shard", "fast_settings", "features_target", "fingerprint",
    "finetune_and_predict", "heads_and_predict", "make_run_dir", "prepare", "probe_fold", "probe_labels", "run_fold",
    "run_kfold", "run_order", "shard_ranges", "uses_probes",
]

#: fold value of unannotated documents (mean of all fold models)
ENSEMBLE_FOLD = -1

# the helpers' names before the split, still importable from here (their homes give them public names)
_FOLD_FORMAT = FOLD_FORMAT
_fold_paths = fold_paths
_dynamics_path = dynamics_path
_save_fold = save_fold
_load_fold = load_fold
_check_run_dir = check_run_dir
_log_lines = log_lines
_progress = progress_bars
_features = run_features
_Run = Run
_resolved = resolved
_setup = setup_run


def _train_fold(k: int, r: Run, config: AuditConfig, run_dir: Path | None, bar: Any
                ) -> tuple[dict[str, np.ndarray], dict, dict[tuple[str, bool], np.ndarray]]:
    """Train fold ``k`` and predict its held-out and the unannotated documents; saved with ``run_dir``."""
    t = config.train
    train_docs = [p for p, f in zip(r.ann, r.folds) if f != k]
    test_docs = [p for p, f in zip(r.ann, r.folds) if f == k]
    if t.mode == "fast":
        if not r.feats:  # encode once, on the first fold that needs it
            t1 = time.perf_counter()
            with torch_threads(threads_for(config.model)):
                r.feats, r.feature_stats = run_features(r.prepared, r.tokenizer, config, run_dir, bar, r.device,
                                                          r.problems)
                if config.fast.reduce:
                    from spanqa.model.features import reduce_features

                    r.feats, r.feature_stats["reduce"] = reduce_features(r.feats, config.fast.reduce, seed=t.seed,
                                                                         dtype=config.fast.feature_dtype)
            r.features_s = time.perf_counter() - t1
        train_groups = [g for g, f in zip(r.groups, r.folds) if f != k]
        probes: set[str] = set()
        if r.probe:
            probes = {p.doc.id for p, f in zip(r.ann, r.folds) if f != k and probe_fold(int(f), t.folds) == k
                      and p.doc.id in r.probe}
            train_docs = [replace(p, labels=r.probe[p.doc.id]) if p.doc.id in probes else p for p in train_docs]
        with torch_threads(threads_for(config.model)):
            pred_docs = test_docs + r.unann
            probs, stats, doc_margins = heads_and_predict(k, train_docs, pred_docs, train_groups,
                                                          [r.feats[p.doc.id] for p in train_docs],
                                                          [r.feats[p.doc.id] for p in pred_docs], r.tags, config, bar,
                                                          r.device)
        # (doc, trained on the copy's labels)
        margins: dict[tuple[str, bool], np.ndarray] = {(d, d in probes): m for d, m in doc_margins.items()}
        stats["probe_docs"] = len(probes)
    else:
        with torch_threads(threads_for(config.model)):
            probs, stats = finetune_and_predict(k, train_docs, test_docs + r.unann, r.tags, r.tokenizer, config,
                                              bar, r.device)
        margins = {}
    if run_dir is not None:
        save_fold(run_dir, k, probs, r.words, r.tags, stats, r.fp, t.seed, margins)
    return probs, stats, margins


def _mean_margins(parts: Sequence[np.ndarray]) -> np.ndarray | None:
    """Word margins averaged over the folds that trained on a document (NaN where none did); None without any."""
    if not parts:
        return None
    stack = np.vstack(parts).astype(np.float64)
    ok = ~np.isnan(stack)
    with np.errstate(invalid="ignore"):
        out = np.where(ok.any(axis=0), np.nansum(stack, axis=0) / np.maximum(ok.sum(axis=0), 1), np.nan)
    return out.astype(np.float32)


def run_fold(corpus: Corpus, config: AuditConfig, k: int, *, run_dir: Path, progress: bool = False) -> Path:
    """Train fold ``k`` alone and write ``run_dir/folds/fold_{k}.npz`` (+ ``.done``) as :func:`run_kfold` does.

    A fold already finished in ``run_dir`` is left as it is.  Returns the ``.npz``
    path; :func:`run_kfold` with the same ``run_dir`` loads it instead of training.
    """
    config = resolved(config, corpus, None if run_dir is None else Path(run_dir))
    if not 0 <= k < config.train.folds:
        raise fail("E402", f"fold {k} is not in 0..{config.train.folds - 1}", key="train.folds")
    run_dir = Path(run_dir)
    r = setup_run(corpus, config, run_dir)
    if load_fold(run_dir, k, r.fp, r.problems) is None:
        with progress_bars(progress) as bar:
            _train_fold(k, r, config, run_dir, bar)
    return fold_paths(run_dir, k)[0]


def run_kfold(corpus: Corpus, config: AuditConfig, *, run_dir: Path | None = None, progress: bool = True,
              on_fold_done: Callable[[int], None] | None = None) -> OOFPredictions:
    """Out-of-fold marginals for every document of ``corpus`` (see the module docstring).

    ``on_fold_done(k)`` is called after fold ``k`` is finished (and saved, with
    ``run_dir``); tests use it to simulate an interruption.
    """
    t_start = time.perf_counter()
    config = resolved(config, corpus, None if run_dir is None else Path(run_dir))
    t = config.train
    run_dir = None if run_dir is None else Path(run_dir)
    r = setup_run(corpus, config, run_dir)
    tags, groups, folds, fp, problems, dropped = r.tags, r.groups, r.folds, r.fp, r.problems, r.dropped
    annotated = [p.doc for p in r.ann]
    unannotated = [p.doc for p in r.unann]
    prepared, ann, words = r.prepared, r.ann, r.words
    fast = t.mode == "fast"

    results: dict[int, dict[str, np.ndarray]] = {}
    stats: dict[int, dict] = {}
    dynamics: dict[int, dict[tuple[str, bool], np.ndarray]] = {}  # per fold: (doc id, probe) -> margins
    resumed: list[int] = []
    log = log_lines(progress)
    with progress_bars(progress) as bar:
        task = bar.add_task("folds", total=t.folds) if bar else None
        t_folds, trained = time.perf_counter(), 0
        for k in range(t.folds):
            t_fold = time.perf_counter()
            loaded = load_fold(run_dir, k, fp, problems) if run_dir is not None else None
            if loaded is not None:
                results[k], stats[k], dynamics[k] = loaded
                resumed.append(k)
            else:
                results[k], stats[k], dynamics[k] = _train_fold(k, r, config, run_dir, bar)
                trained += 1
                heap.trim()  # the fold's batches were freed: give their heap back (spanqa.model.heap)
            if bar:
                bar.update(task, advance=1)
            if log:
                spent = time.perf_counter() - t_folds
                left = t.folds - k - 1
                eta = f", about {spent / trained * left:.0f} s to go" if trained and left else ""
                log(f"fold {k + 1}/{t.folds} {'resumed' if loaded is not None else 'trained'} in "
                    f"{time.perf_counter() - t_fold:.0f} s (k-fold {spent:.0f} s so far{eta})")
            if on_fold_done is not None:
                on_fold_done(k)

    docs: dict[str, DocMarginals] = {}
    fold_of = {p.doc.id: int(f) for p, f in zip(ann, folds)}
    for d in corpus.documents:
        if d.spans is not None:
            k = fold_of[d.id]
            copy = [dynamics[j][(d.id, True)] for j in range(t.folds) if (d.id, True) in dynamics[j]]
            own = [dynamics[j][(d.id, False)] for j in range(t.folds) if (d.id, False) in dynamics[j]]
            if r.probe and fast and config.fast.dynamics and d.id not in r.probe:
                copy = own          # the copy leaves this document as it is: its own margins are the copy's
            docs[d.id] = DocMarginals(d.id, words[d.id], results[k][d.id], fold=k, seed=t.seed,
                                      margins=_mean_margins(own), copy_margins=_mean_margins(copy))
        else:
            mean = np.mean([results[k][d.id] for k in range(t.folds)], axis=0, dtype=np.float64)
            docs[d.id] = DocMarginals(d.id, words[d.id], mean.astype(np.float32), fold=ENSEMBLE_FOLD, seed=t.seed)

    import torch
    import transformers

    meta = {
        "format": "spanqa.oof.v1",
        "mode": t.mode,
        "config": config.to_dict(),
        "model": {"path": str(resolve_model_path(config.model)), "init": config.model.init,
                  "params": stats[0]["params"]},
        "fingerprint": fp,
        "adapted": adapt_stats(config),
        "folds": {"n": t.folds, "seed": t.seed, "by_doc": fold_of,
                  "groups": dict(zip((d.id for d in annotated), groups)), "n_groups": len(set(groups)),
                  "test_docs": [int((folds == k).sum()) for k in range(t.folds)]},
        "unannotated": {"policy": "mean of all fold models' marginals; fold = -1",
                        "doc_ids": [d.id for d in unannotated]},
        "gold": {"dropped_overlapping_spans": int(sum(dropped.values())), "by_doc": dropped},
        "windows": {"total": int(sum(len(p.enc.windows) for p in prepared)),
                    "multi_window_docs": int(sum(len(p.enc.windows) > 1 for p in prepared)),
                    "max_length": t.max_length, "stride": t.stride},
        "fold_stats": [stats[k] for k in range(t.folds)],
        "probes": {"injected_errors": r.probe_errors, "docs": len(r.probe),
                   "policy": "fold (f - 1) mod k trains on the injected copy's labels of a document in fold f"}
        if r.probe else None,
        "resumed_folds": resumed,
        "device": dict(device_info(r.device), requested=config.model.device, compile=config.model.compile,
                       by_fold=[stats[k].get("device") for k in range(t.folds)]),
        "timing": {"encode_s": round(r.encode_s, 3), "features_s": round(r.features_s, 3),
                   "wall_s": round(time.perf_counter() - t_start, 3)},
        "problems": [p.to_dict() for p in problems],
        "versions": {"spanqa": __version__, "torch": torch.__version__, "transformers": transformers.__version__},
    }
    if fast:
        meta["features"] = r.feature_stats or {"cached": None, "note": "every fold was resumed; no features needed"}
    return OOFPredictions(tags, docs, meta)
