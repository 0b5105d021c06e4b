"""Fast mode's frozen-encoder word features of a run: every document at once, or the corpus in shards.

:func:`run_features` encodes a run's prepared documents once (cached in ``run_dir/features/`` by
:mod:`spanqa.model.features`); :func:`encode_shard` encodes one slice (:func:`shard_ranges`) of
:func:`spanqa.model.prepare.run_order` as a job of its own, labelled with the whole corpus's cache key
(:func:`features_target`), so merged shards are the file a single run would write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.core.errors import Problem
from spanqa.corpus.bio import tag_inventory
from spanqa.model import heap
from spanqa.model.prepare import PreparedDoc, prepare, run_order
from spanqa.model.runsetup import resolved, setup_run
from spanqa.model.tagger import load_tokenizer, resolve_device, threads_for, torch_threads

__all__ = ["encode_shard", "features_target", "run_features", "shard_ranges"]


def run_features(prepared: Sequence[PreparedDoc], tokenizer: Any, config: AuditConfig, run_dir: Path | None,
                 bar: Any, device: str = "cpu", problems: list[Problem] | None = None
                 ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Fast mode: every document's per-word features (cached in ``run_dir/features/``) and their stats."""
    from spanqa.model.features import word_features

    f, t = config.fast, config.train
    n_windows = sum(len(p.enc.windows) for p in prepared)
    task = bar.add_task("encode words (frozen encoder, once)", total=n_windows) if bar else None
    wf = word_features([p.enc for p in prepared], config.model, tokenizer=tokenizer, layers=f.layers,
                       pooling=f.pooling, dtype=f.feature_dtype, seed=t.seed, max_length=t.max_length,
                       run_dir=run_dir, on_batch=(lambda n: bar.update(task, advance=n)) if bar else None,
                       device=device, problems=problems)
    if bar:
        bar.remove_task(task)
    heap.trim()  # the encoder's batches were freed (spanqa.model.heap)
    return wf.by_id(), dict(wf.stats, key=wf.key[:24])


def shard_ranges(n_docs: int, n_shards: int) -> list[tuple[int, int]]:
    """``n_shards`` consecutive, nearly equal half-open ranges covering ``0..n_docs`` (empty ones dropped).

    >>> shard_ranges(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    """
    if n_shards < 1:
        raise ValueError("n_shards must be >= 1")
    size, extra = divmod(n_docs, n_shards)  # the first `extra` shards take one document more
    out, a = [], 0
    for i in range(n_shards):
        b = a + size + (i < extra)
        if b > a:
            out.append((a, b))
        a = b
    return out


def features_target(corpus: Corpus, config: AuditConfig, run_dir: Path, *, check: bool = True) -> tuple[Path, str]:
    """Fast mode: the cache file in ``run_dir`` that ``run_kfold`` reads the corpus's features from, and its key;
    ``check`` refuses (``E406``) or marks ``run_dir`` as this flat run's folder (not for a layered run's folder,
    whose fingerprint is the layered one: :mod:`spanqa.model.layered`)."""
    config = resolved(config, corpus, run_dir)
    from spanqa.model.features import cache_path, encoder_features_key

    r = setup_run(corpus, config, run_dir if check else None)
    f = config.fast
    key = encoder_features_key([p.enc for p in r.prepared], config.model, layers=f.layers, pooling=f.pooling,
                               dtype=f.feature_dtype, seed=config.train.seed)
    return cache_path(run_dir, key), key


def encode_shard(corpus: Corpus, config: AuditConfig, start: int, end: int, *, key: str) -> Any:
    """Fast mode, one corpus shard: the frozen-encoder features of ``run_order(corpus)[start:end]``.

    ``key`` is the whole corpus's cache key (:func:`features_target`), so
    :func:`spanqa.model.features.merge_features` of consecutive shards is the file
    :func:`spanqa.model.kfold.run_kfold` would have written.  A document's windows and words do not
    depend on the other documents, so a shard prepares only its own.
    """
    config = resolved(config, corpus)  # the driver passes an already adapted config (model.adapt_epochs = 0)
    from spanqa.model.features import compute_features

    docs = run_order(corpus)[start:end]
    tokenizer = load_tokenizer(config.model)
    prepared, _, _ = prepare(docs, tag_inventory(corpus.labels), tokenizer, config)
    f, t = config.fast, config.train
    with torch_threads(threads_for(config.model)):
        return compute_features([p.enc for p in prepared], config.model, tokenizer=tokenizer, layers=f.layers,
                                key=key, pooling=f.pooling, dtype=f.feature_dtype, seed=t.seed,
                                max_length=t.max_length, device=resolve_device(config.model.device))
