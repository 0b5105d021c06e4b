"""Frozen-encoder word features: every word of every document encoded once, cached per run.

The fast audit mode (``train.mode = "fast"``) never fine-tunes the transformer.  It runs
the encoder once, in inference mode, over the windows of :mod:`spanqa.model.align` and keeps
one feature row per word; small per-fold heads (:mod:`spanqa.model.heads`) are then trained on
those rows.  Since the encoder never sees a label, sharing its features across folds
does not leak the held-out annotation: each fold's head is still trained only on the
other folds' labels.

Shapes
------
For a document with ``n_words`` words (half-open character ranges), :func:`encode_features`
returns ``(n_words, layers * hidden)`` arrays: the last ``layers`` hidden layers of the
encoder concatenated (last layer first), taken from the window that *owns* the word
(:attr:`spanqa.model.align.DocEncoding.owner` - the one where it has the most context), so
every word gets exactly one row.  ``pooling = "first"`` takes the word's first subtoken,
``"mean"`` the mean over its subtokens in that window.

Cache
-----
:func:`word_features` writes the rows, as the encoder makes them, into ``run_dir/features/words_<key>.npy``
(:mod:`spanqa.model.featurefile`: an index beside it, each document then read from the file a batch at a time, so
the features are never all in memory), where
``<key>`` is a SHA-256 over the encoder (weights and config files, or the tiny random
model's seed), the settings (layers, pooling, dtype) and every document's id, word
ranges and window input ids (so a change of text, tokenisation, ``train.max_length`` or
``train.stride`` makes a new key).  A later run with the same key loads the file instead
of encoding; a run with another key leaves other files alone.

>>> import numpy as np
>>> _segment_means(np.arange(10, dtype=np.float32).reshape(5, 2), np.array([1, 2]), np.array([2, 4])).tolist()
[[2.0, 3.0], [5.0, 6.0]]
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from spanqa.core.config import FastConfig, FeatureDtype, Pooling, TrainConfig
from spanqa.core.errors import Problem
from spanqa.model.align import DocEncoding
from spanqa.model.featurefile import (
    FORMAT,
    FeatureWriter,
    WordFeatures,
    cache_path,
    load_features,
    save_features,
    write_index,
)

#: windows per inference batch (padded to the longest window of the batch; batches are length-sorted)
ENCODE_BATCH = 32
#: windows per inference batch on a GPU (bf16 autocast)
ENCODE_BATCH_CUDA = 256


# --------------------------------------------------------------------------- pooling
def _segment_means(hidden: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Mean of ``hidden[starts[i]:ends[i]]`` for each ``i`` (segments non-empty, ascending)."""
    cum = np.concatenate([np.zeros((1, hidden.shape[1]), dtype=np.float64), np.cumsum(hidden, axis=0, dtype=np.float64)])
    sums = cum[ends] - cum[starts]
    return (sums / (ends - starts)[:, None]).astype(np.float32)


def _word_rows(enc: DocEncoding, w: int, hidden: np.ndarray, pooling: Pooling) -> tuple[np.ndarray, np.ndarray]:
    """Document word indices owned by window ``w`` and their pooled rows from ``hidden`` ``(L, dim)``."""
    win = enc.windows[w]
    idx = np.nonzero(enc.owner == w)[0]
    local = idx - win.first_word
    starts = win.heads[local]
    if pooling == "first":
        return idx, hidden[starts].astype(np.float32, copy=False)
    counts = np.asarray([len(enc.word_subtokens[i]) for i in idx], dtype=np.int64)
    return idx, _segment_means(hidden, starts, starts + counts)


# --------------------------------------------------------------------------- encoding
def _encode(encodings: Sequence[DocEncoding], net: Any, put: Callable[[int, np.ndarray, np.ndarray], None], *,
            layers: int, pooling: Pooling, pad_id: int, batch_size: int | None,
            on_batch: Callable[[int], None] | None, device: str) -> int:
    """Run the frozen encoder over every window (length-sorted batches) and hand each window's owned words' pooled
    rows to ``put(doc index, word indices, rows)``; returns the feature width."""
    import torch

    from spanqa.model.tagger import autocast

    if batch_size is None:
        batch_size = ENCODE_BATCH_CUDA if device == "cuda" else ENCODE_BATCH
    flat = [(d, w) for d, enc in enumerate(encodings) for w in range(len(enc.windows))]
    lengths = np.asarray([len(encodings[d].windows[w]) for d, w in flat], dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    dim = None
    filled = [np.zeros(enc.n_words, dtype=bool) for enc in encodings]
    net.eval()
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            batch = order[b:b + batch_size]
            width = int(lengths[batch].max())
            ids = np.full((len(batch), width), pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, j in enumerate(batch):
                d, w = flat[j]
                x = encodings[d].windows[w].input_ids
                ids[row, :len(x)] = x
                mask[row, :len(x)] = 1
            with autocast(device):
                res = net(input_ids=torch.from_numpy(ids).to(device), attention_mask=torch.from_numpy(mask).to(device),
                          output_hidden_states=True)
            hs = res.hidden_states
            if layers > len(hs) - 1:
                raise ValueError(f"the encoder has {len(hs) - 1} layers; fast.layers is {layers}")
            hidden = torch.cat([hs[-1 - i] for i in range(layers)], dim=-1).float().cpu().numpy()
            dim = hidden.shape[-1]
            for row, j in enumerate(batch):
                d, w = flat[j]
                idx, rows = _word_rows(encodings[d], w, hidden[row, :lengths[j]], pooling)
                put(d, idx, rows)
                filled[d][idx] = True
            if on_batch is not None:
                on_batch(len(batch))
    for d, enc in enumerate(encodings):
        if not filled[d].all():  # pragma: no cover - align guarantees one owner per word
            from spanqa.model.align import AlignmentError

            raise AlignmentError(f"doc {enc.doc_id}: words {np.nonzero(~filled[d])[0][:10].tolist()} got no feature")
    if dim is None:  # no window at all: ask the model for its width
        cfg = getattr(net, "config", None)
        dim = layers * int(getattr(cfg, "hidden_size", 0))
    return int(dim)


def encode_features(encodings: Sequence[DocEncoding], net: Any, *, layers: int,
                    pooling: Pooling = FastConfig.pooling, pad_id: int = 0, dtype: FeatureDtype = "float16",
                    batch_size: int | None = None,
                    on_batch: Callable[[int], None] | None = None, device: str = "cpu",
                    into: FeatureWriter | None = None) -> list[np.ndarray]:
    """Run the frozen encoder ``net`` once over every window and pool one row per word.

    ``net`` is a Hugging Face model called with ``output_hidden_states=True``;
    its last ``layers`` hidden states are concatenated.  Returns, per encoding,
    ``(n_words, layers * hidden)`` arrays of ``dtype`` (``(0, dim)`` for a document
    without words).  Raises ``ValueError`` when ``layers`` exceeds the encoder's layers.
    ``net`` must be on ``device``; on cuda it runs under bf16 autocast and ``batch_size``
    defaults to ``ENCODE_BATCH_CUDA`` instead of ``ENCODE_BATCH``.

    ``into``: write the rows into this open feature file (:class:`spanqa.model.featurefile.FeatureWriter`, made
    for these encodings' word counts and ``dtype``) instead of memory, finish it and return ``[]``.
    """
    opts: dict[str, Any] = dict(layers=layers, pooling=pooling, pad_id=pad_id, batch_size=batch_size, on_batch=on_batch,
                device=device)
    if into is not None:
        into.finish(_encode(encodings, net, into.put, **opts))
        return []
    out: list[np.ndarray | None] = [None] * len(encodings)

    def put(d: int, idx: np.ndarray, rows: np.ndarray) -> None:
        arr = out[d]
        if arr is None:
            arr = out[d] = np.zeros((encodings[d].n_words, rows.shape[1]), dtype=dtype)
        arr[idx] = rows

    dim = _encode(encodings, net, put, **opts)
    return [o if o is not None else np.zeros((enc.n_words, dim), dtype=dtype) for o, enc in zip(out, encodings)]


# --------------------------------------------------------------------------- cache key
def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_digest(model_dir: Path, *, init: str, seed: int) -> str:
    """A digest of what makes the encoder's outputs: weights and config files, or the tiny model's seed."""
    if init == "random_tiny":
        from spanqa.model.tagger import TINY

        return hashlib.sha256(json.dumps({"init": init, "seed": seed, "tiny": TINY}, sort_keys=True).encode()).hexdigest()
    h = hashlib.sha256(init.encode())
    for p in sorted(Path(model_dir).iterdir()):
        if p.is_file() and (p.suffix in (".safetensors", ".bin", ".json") or p.name == "vocab.txt"):
            h.update(p.name.encode())
            h.update(_file_digest(p).encode())
    return h.hexdigest()


def features_key(encodings: Sequence[DocEncoding], *, model: str, layers: int, pooling: Pooling,
                 dtype: FeatureDtype) -> str:
    """SHA-256 hex over the encoder digest ``model``, the settings and every document's words and windows."""
    h = hashlib.sha256(json.dumps({"format": FORMAT, "model": model, "layers": layers, "pooling": pooling,
                                   "dtype": dtype}, sort_keys=True).encode())
    for enc in encodings:
        h.update(json.dumps([enc.doc_id, len(enc.words)]).encode())
        h.update(np.asarray(enc.words, dtype=np.int64).tobytes())
        h.update(enc.owner.astype(np.int64).tobytes())
        for win in enc.windows:
            h.update(np.asarray([win.first_word, win.end_word, len(win)], dtype=np.int64).tobytes())
            h.update(win.input_ids.astype(np.int64).tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- the entry point
def build_encoder(model: Any, *, tokenizer: Any, seed: int, max_length: int) -> Any:
    """The frozen encoder of ``model`` (a :class:`spanqa.core.config.ModelConfig`; the tiny random one seeded with ``seed``)."""
    from spanqa.model.tagger import build_model, seeded

    with seeded(seed):
        net = build_model(model, ["O"], tokenizer=tokenizer, max_length=max_length)
    net = net.base_model
    net.requires_grad_(False)
    return net.eval()


def encoder_features_key(encodings: Sequence[DocEncoding], model: Any, *, layers: int,
                         pooling: Pooling = FastConfig.pooling, dtype: FeatureDtype = "float16", seed: int = 0) -> str:
    """The cache key of ``encodings``' features from the frozen encoder of ``model`` (a ``ModelConfig``)."""
    from spanqa.model.tagger import resolve_model_path

    digest = model_digest(resolve_model_path(model), init=model.init, seed=seed)
    return features_key(encodings, model=digest, layers=layers, pooling=pooling, dtype=dtype)


def compute_features(encodings: Sequence[DocEncoding], model: Any, *, tokenizer: Any, layers: int, key: str,
                     pooling: Pooling = FastConfig.pooling, dtype: FeatureDtype = "float16", seed: int = 0,
                     max_length: int = TrainConfig.max_length, on_batch: Callable[[int], None] | None = None,
                     device: str = "cpu", into: Path | None = None) -> WordFeatures:
    """Encode ``encodings`` now (no cache) and label the result with ``key``.

    ``key`` is normally :func:`encoder_features_key` of these encodings; a corpus shard
    (:mod:`spanqa.model.distributed`) passes the key of the WHOLE corpus, so that
    :func:`merge_features` of the shards is exactly what :func:`word_features` caches.
    With ``into`` (a :func:`cache_path`) the rows go straight into that cache file, never all in memory, and the
    result reads them from it (:class:`spanqa.model.featurefile.Rows`).
    """
    from spanqa.model.tagger import to_device

    t0, c0 = time.perf_counter(), time.process_time()
    net = build_encoder(model, tokenizer=tokenizer, seed=seed, max_length=max_length)
    n_layers = int(getattr(net.config, "num_hidden_layers", layers))
    net = to_device(net, device, compile=bool(getattr(model, "compile", False)))
    used = min(layers, n_layers)  # an encoder with fewer layers gives all of them (recorded as layers_used)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    opts: dict[str, Any] = dict(layers=used, pooling=pooling, pad_id=pad, dtype=dtype, on_batch=on_batch, device=device)
    if into is not None:
        with FeatureWriter(into, [e.n_words for e in encodings], dtype) as writer:
            encode_features(encodings, net, into=writer, **opts)
        feats, dim = [], writer.dim
    else:
        feats = encode_features(encodings, net, **opts)
        dim = feats[0].shape[1] if feats else used * int(net.config.hidden_size)
    stats = {"encode_s": round(time.perf_counter() - t0, 3), "encode_cpu_s": round(time.process_time() - c0, 3),
             "windows": int(sum(len(e.windows) for e in encodings)), "words": int(sum(e.n_words for e in encodings)),
             "subtokens": int(sum(len(w) for e in encodings for w in e.windows)), "dim": int(dim),
             "layers": layers, "layers_used": used, "pooling": pooling, "dtype": dtype, "cached": False,
             "device": device}
    ids = [e.doc_id for e in encodings]
    if into is None:
        return WordFeatures(ids, feats, int(dim), key, stats)
    write_index(into, key=key, doc_ids=ids, offsets=writer.offsets, stats=stats)
    stored = load_features(into, key)
    if stored is None:  # pragma: no cover - just written
        raise OSError(f"{into}: the feature cache just written cannot be read back")
    return WordFeatures(ids, stored.features, int(dim), key, stats)


#: stats of corpus shards that add up when the shards are merged
_ADDITIVE_STATS = ("encode_s", "encode_cpu_s", "windows", "words", "subtokens")


def merge_features(parts: Sequence[WordFeatures]) -> WordFeatures:
    """Consecutive corpus shards' features as one :class:`WordFeatures` (documents in shard order).

    Every part must carry the same key and width.  Times, windows, words and subtokens
    are summed (``encode_s`` is then the total over the shards, not the wall time);
    ``stats["shards"]`` holds each part's own stats.
    """
    if not parts:
        raise ValueError("no feature shards to merge")
    keys, dims = {p.key for p in parts}, {p.dim for p in parts}
    if len(keys) != 1 or len(dims) != 1:
        raise ValueError(f"feature shards disagree: keys {sorted(k[:12] for k in keys)}, widths {sorted(dims)}")
    stats = dict(parts[0].stats)
    for k in _ADDITIVE_STATS:
        stats[k] = round(sum(p.stats.get(k, 0) for p in parts), 3)
    stats["shards"] = [dict(p.stats) for p in parts]
    return WordFeatures([d for p in parts for d in p.doc_ids], [f for p in parts for f in p.features],
                        parts[0].dim, parts[0].key, stats)


def word_features(encodings: Sequence[DocEncoding], model: Any, *, tokenizer: Any, layers: int,
                  pooling: Pooling = FastConfig.pooling, dtype: FeatureDtype = "float16", seed: int = 0,
                  max_length: int = TrainConfig.max_length, run_dir: Path | None = None, on_batch: Callable[[int], None] | None = None,
                  device: str = "cpu", problems: list[Problem] | None = None) -> WordFeatures:
    """Per-word features of ``encodings`` from the frozen encoder of ``model``, cached in ``run_dir``.

    ``model`` is a :class:`spanqa.core.config.ModelConfig`; ``seed`` only matters for the tiny
    random model; ``max_length`` is checked against the encoder's positions.  With
    ``run_dir`` the features are read from / written to :func:`cache_path` and the documents' rows are read from
    that file when used (:class:`spanqa.model.featurefile.Rows`); without it they are in memory.  ``device``
    (``"cpu"``/``"cuda"``) runs the encoder there (``model.compile`` applies on cuda);
    the cache key does not include it.
    """
    key = encoder_features_key(encodings, model, layers=layers, pooling=pooling, dtype=dtype, seed=seed)
    path = cache_path(run_dir, key) if run_dir is not None else None
    if path is not None:
        cached = load_features(path, key, problems)
        if cached is not None and cached.doc_ids == [e.doc_id for e in encodings]:
            return cached
    return compute_features(encodings, model, tokenizer=tokenizer, layers=layers, key=key, pooling=pooling,
                            dtype=dtype, seed=seed, max_length=max_length, on_batch=on_batch, device=device,
                            into=path)


# --------------------------------------------------------------------------- reduction
#: most words the reduction's principal axes are fitted on (a seeded sample; the projection covers all)
REDUCE_SAMPLE = 100_000


def reduce_features(feats: dict[str, np.ndarray], dims: int, *, seed: int = 0,
                    dtype: FeatureDtype = "float16") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Project every word's features onto their first ``dims`` principal axes (PCA, scikit-learn).

    The axes are fitted on a seeded sample of at most :data:`REDUCE_SAMPLE` words of the whole
    corpus - features only, never a label - so every fold's head may share them.  The head's
    first layer then reads ``dims`` instead of ``layers * hidden`` numbers per word, which is
    where a fast-mode fold spends most of its time.  Returns the projected features (``dtype``)
    and ``{"dims", "explained_variance", "seconds"}``.
    """
    from sklearn.decomposition import PCA

    t0 = time.perf_counter()
    ids = list(feats)
    sizes = np.asarray([len(feats[d]) for d in ids], dtype=np.int64)
    total = int(sizes.sum())
    dim = next((feats[d].shape[1] for d in ids if feats[d].ndim == 2), 0)
    if total == 0 or dims >= dim:
        return feats, {"dims": dim, "explained_variance": 1.0, "seconds": 0.0, "skipped": True}
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(total, size=min(total, REDUCE_SAMPLE), replace=False))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    doc_of = np.searchsorted(offsets, pick, side="right") - 1
    sample = np.concatenate([np.asarray(feats[ids[d]])[pick[doc_of == d] - offsets[d]]  # one read per document
                             for d in np.unique(doc_of)]).astype(np.float32)
    pca = PCA(n_components=min(dims, len(sample)), svd_solver="randomized", random_state=seed).fit(sample)
    out = {d: (pca.transform(np.asarray(feats[d], dtype=np.float32)).astype(dtype) if len(feats[d]) else
               np.zeros((0, pca.n_components_), dtype=dtype)) for d in ids}
    return out, {"dims": int(pca.n_components_), "explained_variance": round(float(pca.explained_variance_ratio_.sum()), 4),
                 "seconds": round(time.perf_counter() - t0, 3), "sample": int(len(sample))}


__all__ = ["ENCODE_BATCH", "ENCODE_BATCH_CUDA", "REDUCE_SAMPLE", "WordFeatures", "build_encoder", "cache_path",
           "compute_features", "encode_features", "encoder_features_key", "features_key", "load_features",
           "merge_features", "model_digest", "reduce_features", "save_features", "word_features"]
