"""Light per-fold tagging heads over frozen word features (the fast audit mode).

A head maps each word's feature row (:mod:`spanqa.model.features`, ``(n_words, dim)``) to a
softmax over the IOB2 tags.  Three kinds, cheapest first:

- ``"linear"``: softmax regression on the standardised features;
- ``"mlp"``: one hidden layer (GELU) per word;
- ``"bilstm"``: a linear projection to ``hidden`` dims, then a 1-layer bidirectional LSTM
  (``hidden / 2`` per direction) over the words of a segment, then a linear layer.  The
  LSTM sees the neighbouring words' predictions-to-be, which fixes most IOB2 boundary
  slips of a per-word head.

Documents are cut into segments of at most ``seq_len`` words (at sentence starts when
given, :func:`segments`); the LSTM runs within a segment.

Training (:func:`train_head`) uses Adam on the mean word cross-entropy, with batches of
``batch_size`` segments of similar length in a shuffled order.  A held-back share
``dev_fraction`` of the training *groups* (never a group on both sides) measures the
cross-entropy after each epoch; training stops after ``patience`` epochs without
improvement and the best epoch's weights are kept (with a single group there is no
held-back slice and all ``max_epochs`` run).  Features are standardised with the
training words' mean and standard deviation.  Everything is seeded: the same inputs and
seed give bit-identical marginals on the same machine and thread count.

Why one module of ~490 lines: the three heads share the batching, the training loop, the margins and the prediction
code.

>>> segments(10, max_len=4)
[(0, 4), (4, 8), (8, 10)]
>>> segments(10, max_len=6, sentence_starts=[3, 7])
[(0, 3), (3, 7), (7, 10)]
"""

from __future__ import annotations

import copy
import time
import typing
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from spanqa.core.config import FastConfig, HeadKind, TrainConfig

HEAD_KINDS: tuple[str, ...] = typing.get_args(HeadKind)
#: the ``"cnn"`` head: residual word convolutions of this width and count (context of +-2 words)
CNN_KERNEL = 3
CNN_LAYERS = 2

Range = tuple[int, int]


# --------------------------------------------------------------------------- segments
def segments(n_words: int, *, max_len: int, sentence_starts: Sequence[int] = ()) -> list[Range]:
    """Consecutive half-open word runs covering ``0..n_words`` exactly once, each ``<= max_len`` words.

    With ``sentence_starts`` a run ends before the last sentence start that keeps it
    at least half full (the window planner of :mod:`spanqa.model.align` with no overlap).
    """
    if n_words == 0:
        return []
    from spanqa.model.align import plan_windows

    return [(int(a), int(b)) for a, b in plan_windows([1] * n_words, budget=max_len, stride=0,
                                                      sentence_starts=sentence_starts)]


@dataclass(frozen=True)
class Sequences:
    """Training or prediction inputs: feature rows cut into segments.

    Attributes:
        x: per segment, ``(len, dim)`` features (views of the caller's arrays, float16 or float32, or row ranges
            of the feature file, :class:`spanqa.model.featurefile.Rows`, read when their batch is built; batches are
            cast to float32, so the corpus is never copied at twice its size).
        y: per segment, ``(len,)`` int64 tag ids (``None`` for prediction).
        origin: per segment, ``(doc index, first word)``.
        ids: per segment, ``(len, n_ids)`` int64 hashed orthographic ids (:mod:`spanqa.model.orthography`),
            or ``None`` when the head uses none.
        extra: per segment, ``(len, n_extra)`` float32 dense word features beside the encoder's (the phrase
            memory, :mod:`spanqa.model.gazetteer`), or ``None``.
    """

    x: list[np.ndarray]
    y: list[np.ndarray] | None
    origin: list[tuple[int, int]]
    ids: list[np.ndarray] | None = None
    extra: list[np.ndarray] | None = None


def make_sequences(features: Sequence[np.ndarray], labels: Sequence[np.ndarray] | None = None, *, seq_len: int,
                   sentence_starts: Sequence[Sequence[int]] | None = None,
                   ids: Sequence[np.ndarray] | None = None, extra: Sequence[np.ndarray] | None = None) -> Sequences:
    """Cut each document's ``(n_words, dim)`` features (and ``(n_words,)`` labels, ``(n_words, n_ids)``
    orthographic ids, ``(n_words, n_extra)`` dense extra features) into segments."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] | None = [] if labels is not None else None
    origin: list[tuple[int, int]] = []
    zs: list[np.ndarray] | None = [] if ids is not None else None
    es: list[np.ndarray] | None = [] if extra is not None else None
    for d, feats in enumerate(features):
        starts = sentence_starts[d] if sentence_starts is not None else ()
        for a, b in segments(len(feats), max_len=seq_len, sentence_starts=starts):
            xs.append(feats[a:b])
            if ys is not None:
                assert labels is not None  # ys is a list only with labels
                ys.append(np.asarray(labels[d][a:b], dtype=np.int64))
            if zs is not None:
                assert ids is not None  # zs is a list only with ids
                zs.append(np.asarray(ids[d][a:b], dtype=np.int64))
            if es is not None:
                assert extra is not None  # es is a list only with extra
                es.append(np.asarray(extra[d][a:b], dtype=np.float32))
            origin.append((d, a))
    return Sequences(xs, ys, origin, zs, es)


# --------------------------------------------------------------------------- the network
def _build_net(kind: HeadKind, dim: int, n_tags: int, *, hidden: int, dropout: float, mean: np.ndarray,
               std: np.ndarray, n_ids: int = 0, buckets: int = 0, ortho_dim: int = 0, n_extra: int = 0) -> Any:
    import torch
    from torch import nn

    from spanqa.model.orthography import HASHES

    class Head(nn.Module):
        """Standardise -> (linear | MLP | projection + convolutions | projection + BiLSTM) -> tag logits.

        With orthographic ids (``n_ids > 0``): one shared hashed embedding table; each attribute's
        :data:`~spanqa.model.orthography.HASHES` rows are summed, the attributes concatenated and mapped
        linearly into the projection's pre-activation (or straight to the logits for ``linear``).  Dense extra
        features (``n_extra > 0``, the phrase memory) are mapped linearly into the same place.
        """

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32)))
            self.register_buffer("scale", torch.from_numpy((1.0 / std).astype(np.float32)))
            self.drop = nn.Dropout(dropout)
            self.kind = kind
            self.n_attrs = n_ids // HASHES if n_ids else 0
            if self.n_attrs:
                self.emb = nn.Embedding(buckets, ortho_dim)
                nn.init.normal_(self.emb.weight, std=0.1)
                self.emb_out = nn.Linear(self.n_attrs * ortho_dim, n_tags if kind == "linear" else hidden)
            self.n_extra = n_extra
            if n_extra:
                self.extra_out = nn.Linear(n_extra, n_tags if kind == "linear" else hidden)
            if kind == "linear":
                self.out = nn.Linear(dim, n_tags)
                return
            self.proj = nn.Linear(dim, hidden)
            if kind == "cnn":
                self.convs = nn.ModuleList(nn.Conv1d(hidden, hidden, CNN_KERNEL, padding=CNN_KERNEL // 2)
                                           for _ in range(CNN_LAYERS))
            if kind == "bilstm":
                self.lstm = nn.LSTM(hidden, max(1, hidden // 2), batch_first=True, bidirectional=True)
                self.out = nn.Linear(2 * max(1, hidden // 2), n_tags)
            else:
                self.out = nn.Linear(hidden, n_tags)

        def ortho(self, ids: "torch.Tensor") -> "torch.Tensor":
            e = self.emb(ids)                                            # (B, T, n_attrs * HASHES, d)
            e = e.view(*ids.shape[:2], self.n_attrs, HASHES, -1).sum(dim=3)
            return self.emb_out(self.drop(e.flatten(2)))

        def forward(self, x: "torch.Tensor", lengths: "torch.Tensor", ids: "torch.Tensor | None" = None,
                    extra: "torch.Tensor | None" = None) -> "torch.Tensor":
            # dropout acts on the projected features only: on the wide input it cost more than the whole head
            x = (x - self.mean) * self.scale
            use_ids = self.n_attrs and ids is not None
            side = (self.ortho(ids) if use_ids else 0.0) + \
                (self.extra_out(extra) if self.n_extra and extra is not None else 0.0)
            if self.kind == "linear":
                return self.out(x) + side
            mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]).unsqueeze(-1).to(x.dtype)
            pre = self.proj(x) + side
            h = self.drop(nn.functional.gelu(pre)) * mask
            if self.kind == "cnn":
                h = h.transpose(1, 2)                                   # (B, hidden, T)
                m = mask.transpose(1, 2)
                for conv in self.convs:
                    h = h + self.drop(nn.functional.gelu(conv(h))) * m  # residual; padding stays 0
                h = h.transpose(1, 2)
            elif self.kind == "bilstm":
                packed = nn.utils.rnn.pack_padded_sequence(h, lengths.cpu(), batch_first=True, enforce_sorted=False)
                h, _ = self.lstm(packed)
                h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
                h = self.drop(h)
            return self.out(h)

    return Head()


def _pad_batch(seqs: Sequences, idx: Sequence[int], device: str = "cpu") -> tuple[Any, Any, Any, Any, Any, Any]:
    """Padded float32 ``x``, ``lengths``, ``y``, orthographic ``ids`` and ``extra`` features (None without)
    tensors on ``device``, and the lengths as numpy."""
    import torch

    lens = np.asarray([len(seqs.x[i]) for i in idx], dtype=np.int64)
    width, dim = int(lens.max()), seqs.x[idx[0]].shape[1]
    x = np.zeros((len(idx), width, dim), dtype=np.float32)
    y_tail = tuple(seqs.y[idx[0]].shape[1:]) if seqs.y is not None else ()  # (L,) for a layered head
    y = np.full((len(idx), width, *y_tail), -100, dtype=np.int64)
    z = np.zeros((len(idx), width, seqs.ids[idx[0]].shape[1]), dtype=np.int64) if seqs.ids is not None else None
    e = np.zeros((len(idx), width, seqs.extra[idx[0]].shape[1]), dtype=np.float32) if seqs.extra is not None else None
    for r, i in enumerate(idx):
        x[r, :lens[r]] = seqs.x[i]
        if seqs.y is not None:
            y[r, :lens[r]] = seqs.y[i]
        if z is not None:
            assert seqs.ids is not None  # z is built only from ids
            z[r, :lens[r]] = seqs.ids[i]
        if e is not None:
            assert seqs.extra is not None  # e is built only from extra
            e[r, :lens[r]] = seqs.extra[i]
    tensor = lambda a: None if a is None else torch.from_numpy(a).to(device)  # noqa: E731
    return tensor(x), tensor(lens), tensor(y), tensor(z), tensor(e), lens


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Index batches of similar length; with ``rng`` ties are broken randomly and batch order shuffled."""
    order = rng.permutation(len(lengths)) if rng is not None else np.arange(len(lengths))
    order = order[np.argsort(lengths[order], kind="stable")]
    out = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    return out


# --------------------------------------------------------------------------- training
@dataclass
class TrainedHead:
    """A trained head and how its training went.

    ``stats``: ``{"kind", "epochs_run", "best_epoch", "train_loss": [...], "dev_loss": [...],
    "train_words", "dev_words", "temperature", "params", "seconds"}``; ``margins``: see
    :func:`train_head` (``record_margins``).
    """

    net: Any
    stats: dict[str, Any] = field(default_factory=dict)
    margins: list[np.ndarray | None] | None = None


def split_dev(groups: Sequence[str], *, fraction: float, seed: int) -> np.ndarray:
    """``(n_docs,)`` bool: the documents of a seeded ``fraction`` of the groups (at least one group,
    never all; none when there is a single group or ``fraction`` is 0)."""
    uniq = sorted(set(groups))
    if len(uniq) < 2 or fraction <= 0:
        return np.zeros(len(groups), dtype=bool)
    n_dev = min(len(uniq) - 1, max(1, int(round(fraction * len(uniq)))))
    rng = np.random.default_rng(seed)
    dev = {uniq[i] for i in rng.permutation(len(uniq))[:n_dev]}
    return np.asarray([g in dev for g in groups], dtype=bool)


def _logits(net: Any, seqs: Sequences, batch_size: int, device: str = "cpu") -> tuple[Any, Any]:
    """Every word's logits ``(N, n_tags)`` and gold ids ``(N,)`` of ``seqs`` (eval mode, no gradients)."""
    import torch

    outs, golds = [], []
    with torch.inference_mode():
        for idx in _batches(np.asarray([len(x) for x in seqs.x]), batch_size, None):
            x, lens, y, z, e, _ = _pad_batch(seqs, idx, device)
            logits = net(x, lens, z, e)
            gold = y.reshape(-1, *y.shape[2:])                      # (B*T,) or (B*T, L) for a layered head
            keep = (gold if gold.ndim == 1 else gold[:, 0]) != -100  # padding is -100 in every layer
            outs.append(logits.reshape(-1, logits.shape[-1])[keep].float())
            golds.append(gold[keep])
    return torch.cat(outs), torch.cat(golds)


def block_loss(logits: Any, gold: Any, blocks: Sequence[int] | None) -> Any:
    """Cross-entropy of ``logits`` ``(..., n_tags)`` against ``gold`` ``(...)``; for a layered head (``blocks``: the tag
    count of each layer) the sum over the layers of each layer's cross-entropy against ``gold[..., l]``."""
    import torch

    ce = torch.nn.functional.cross_entropy
    if not blocks:
        return ce(logits.reshape(-1, logits.shape[-1]), gold.reshape(-1), ignore_index=-100)
    total, off = 0.0, 0
    for layer, n in enumerate(blocks):
        total = total + ce(logits[..., off:off + n].reshape(-1, n), gold[..., layer].reshape(-1), ignore_index=-100)
        off += n
    return total


def _mean_loss(net: Any, seqs: Sequences, batch_size: int, device: str = "cpu") -> float:
    logits, gold = _logits(net, seqs, batch_size, device)
    return float(block_loss(logits, gold, getattr(net, "blocks", None))) if len(gold) else 0.0


def fit_temperature(logits: Any, gold: Any) -> float:
    """The temperature ``T`` in ``[0.05, 20]`` minimising the cross-entropy of ``softmax(logits / T)``
    (Guo et al. 2017), by bounded scalar search over ``log T``; 1.0 without words."""
    import torch
    from scipy.optimize import minimize_scalar

    if len(gold) == 0:
        return 1.0
    lg = logits.double()

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(lg / float(np.exp(log_t)), gold))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded",
                          options={"xatol": 1e-4})
    return float(np.exp(res.x))


def train_head(features: Sequence[np.ndarray], labels: Sequence[np.ndarray], groups: Sequence[str], *,
               n_tags: int, kind: HeadKind = FastConfig.head, hidden: int = FastConfig.hidden,
               dropout: float = FastConfig.dropout, lr: float = FastConfig.lr, weight_decay: float = 0.0,
               max_epochs: int = FastConfig.max_epochs, patience: int = FastConfig.patience,
               batch_size: int = FastConfig.batch_size, seq_len: int = FastConfig.seq_len,
               dev_fraction: float = FastConfig.dev_fraction, seed: int = TrainConfig.seed,
               sentence_starts: Sequence[Sequence[int]] | None = None, device: str = "cpu",
               ids: Sequence[np.ndarray] | None = None, buckets: int = 0, ortho_dim: int = 0,
               extra: Sequence[np.ndarray] | None = None, calibrate: bool = False,
               record_margins: bool = False, blocks: Sequence[int] | None = None) -> TrainedHead:
    """Train one head on documents' word features.

    Args:
        features: per training document, ``(n_words, dim)`` rows (float16 or float32).
        labels: per document, ``(n_words,)`` int64 tag ids in ``[0, n_tags)``.
        groups: per document, its k-fold group (the held-back slice takes whole groups).
        sentence_starts: per document, word indices where sentences begin (segment cuts).
        ids: per document, ``(n_words, n_ids)`` hashed orthographic ids in ``[0, buckets)``
            (:func:`spanqa.model.orthography.attribute_ids`); the head embeds them in ``ortho_dim`` dims.
        extra: per document, ``(n_words, n_extra)`` dense features added beside the encoder's (the phrase
            memory of :mod:`spanqa.model.gazetteer`); predict with the same kind of features.
        calibrate: fit a softmax temperature on the held-back slice after training
            (:func:`fit_temperature`; ``stats["temperature"]``, applied by :func:`predict_head`).
        blocks: a *layered* head (nested labels, :mod:`spanqa.corpus.layers`): the tag count of each layer;
            ``n_tags`` is their sum, ``labels[i]`` is ``(n_words, n_layers)`` and each layer gets its own softmax
            over its block of outputs (one shared network; no calibration or margins).
        record_margins: keep each training word's margin (its label's logit minus the best
            other logit) in every epoch's training pass, averaged over the epochs: the *area
            under the margin* (Pleiss et al. 2020), low for a label the head learns late or
            never.  ``TrainedHead.margins[i]``: ``(n_words,)`` float32 for document ``i``,
            ``None`` for documents of the held-back slice (never trained on).

    Call it inside :func:`spanqa.model.tagger.seeded` for reproducible initialisation and dropout.
    ``device`` (``"cpu"``/``"cuda"``) holds the head and its batches (float32, no autocast).
    """
    import torch

    if kind not in HEAD_KINDS:
        raise ValueError(f"unknown head kind {kind!r}; choose one of {HEAD_KINDS}")
    if blocks is not None:
        blocks = tuple(int(n) for n in blocks)
        if sum(blocks) != n_tags:
            raise ValueError(f"blocks {blocks} do not add up to n_tags {n_tags}")
        calibrate = record_margins = False
    t0 = time.perf_counter()
    dev_mask = split_dev(groups, fraction=dev_fraction, seed=seed)
    tr = [i for i in range(len(features)) if not dev_mask[i]]
    dv = [i for i in range(len(features)) if dev_mask[i]]

    def pick(idx: list[int]) -> Sequences:
        return make_sequences([features[i] for i in idx], [labels[i] for i in idx], seq_len=seq_len,
                              sentence_starts=None if sentence_starts is None else [sentence_starts[i] for i in idx],
                              ids=None if ids is None else [ids[i] for i in idx],
                              extra=None if extra is None else [extra[i] for i in idx])

    train, dev = pick(tr), pick(dv)
    if not train.x:
        raise ValueError("no training words for the head")
    dim = train.x[0].shape[1]
    acc = np.zeros(dim, np.float64)
    acc2 = np.zeros(dim, np.float64)
    n_words = 0
    for x in train.x:
        x = np.asarray(x)  # a segment of rows read from the feature file (spanqa.model.featurefile.Rows) or in memory
        acc += x.sum(axis=0, dtype=np.float64)
        acc2 += np.square(x, dtype=np.float64).sum(axis=0)
        n_words += len(x)
    mean = acc / n_words
    std = np.sqrt(np.maximum(acc2 / n_words - mean ** 2, 0.0)) + 1e-4
    n_ids = 0 if train.ids is None else int(train.ids[0].shape[1])  # train.ids is None exactly when ids is
    n_extra = 0 if train.extra is None else int(train.extra[0].shape[1])
    net = _build_net(kind, dim, n_tags, hidden=hidden, dropout=dropout, mean=mean, std=std, n_ids=n_ids,
                     buckets=buckets, ortho_dim=ortho_dim, n_extra=n_extra).to(device)
    net.blocks = blocks
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    lengths = np.asarray([len(x) for x in train.x])
    margin_sum = [np.zeros(len(x), np.float64) for x in train.x] if record_margins else None
    best, best_loss, best_epoch, bad = None, float("inf"), 0, 0
    train_loss, dev_loss = [], []
    for epoch in range(max_epochs):
        net.train()
        total, n = 0.0, 0
        for idx in _batches(lengths, batch_size, rng):
            x, lens, y, z, e, np_lens = _pad_batch(train, idx, device)
            logits = net(x, lens, z, e)
            loss = block_loss(logits, y, blocks)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * int(np_lens.sum())
            n += int(np_lens.sum())
            if margin_sum is not None:
                _add_margins(margin_sum, idx, logits.detach(), y, np_lens)
        train_loss.append(total / max(n, 1))
        if not dev.x:
            continue
        net.eval()
        dev_loss.append(_mean_loss(net, dev, batch_size=64, device=device))
        if dev_loss[-1] < best_loss - 1e-6:
            best_loss, best_epoch, bad = dev_loss[-1], epoch + 1, 0
            best = copy.deepcopy(net.state_dict())
        else:
            bad += 1
            if bad >= patience:
                break
    if best is not None:
        net.load_state_dict(best)
    else:
        best_epoch = len(train_loss)
    net.eval()
    temperature = 1.0
    if calibrate and dev.x:
        temperature = fit_temperature(*_logits(net, dev, 64, device))
    net.temperature = temperature
    margins: list[np.ndarray | None] | None = None
    if margin_sum is not None:
        margins = [None] * len(features)
        for (d, a), m in zip(train.origin, margin_sum):
            i = tr[d]
            doc_margins = margins[i]
            if doc_margins is None:
                doc_margins = margins[i] = np.zeros(len(features[i]), np.float32)
            doc_margins[a:a + len(m)] = m / max(len(train_loss), 1)
    stats = {"kind": kind, "epochs_run": len(train_loss), "best_epoch": best_epoch,
             "train_loss": [round(v, 6) for v in train_loss], "dev_loss": [round(v, 6) for v in dev_loss],
             "train_words": int(n_words), "dev_words": int(sum(len(x) for x in dev.x)),
             "train_docs": len(tr), "dev_docs": len(dv), "temperature": round(temperature, 6),
             "orthography": bool(n_ids), "extra_features": n_extra, "blocks": list(blocks) if blocks else None,
             "params": int(sum(p.numel() for p in net.parameters())), "seconds": round(time.perf_counter() - t0, 3)}
    return TrainedHead(net, stats, margins)


def _add_margins(acc: list[np.ndarray], idx: Sequence[int], logits: Any, y: Any, lens: np.ndarray) -> None:
    """Add each word's margin (gold logit minus the best other logit) of one training batch to ``acc``."""

    gold = y.clamp(min=0)
    g = logits.gather(-1, gold.unsqueeze(-1)).squeeze(-1)
    other = logits.scatter(-1, gold.unsqueeze(-1), float("-inf")).max(dim=-1).values
    m = (g - other).float().cpu().numpy()
    for r, i in enumerate(idx):
        acc[i] += m[r, :lens[r]]


def renormalise(p: np.ndarray, blocks: Sequence[int] | None) -> np.ndarray:
    """Rows of ``p`` scaled to sum to 1 - within each block of columns for a layered head."""
    if not blocks or len(blocks) == 1:
        return p / p.sum(axis=1, keepdims=True)
    out, off = np.empty_like(p), 0
    for n in blocks:
        part = p[:, off:off + n]
        out[:, off:off + n] = part / np.maximum(part.sum(axis=1, keepdims=True), 1e-300)
        off += n
    return out


def predict_head(head: TrainedHead | Any, features: Sequence[np.ndarray], *, seq_len: int = FastConfig.seq_len,
                 sentence_starts: Sequence[Sequence[int]] | None = None, batch_size: int = 64,
                 device: str = "cpu", ids: Sequence[np.ndarray] | None = None,
                 extra: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
    """Softmax marginals per document: ``(n_words, n_tags)`` float32, rows summing to 1 (float64-renormalised),
    at the head's fitted temperature (1 unless trained with ``calibrate``).

    ``device`` must be where the head is (``train_head``'s ``device``); ``ids`` as in training."""
    import torch

    net = head.net if isinstance(head, TrainedHead) else head
    temperature = float(getattr(net, "temperature", 1.0))
    seqs = make_sequences(features, None, seq_len=seq_len, sentence_starts=sentence_starts, ids=ids, extra=extra)
    n_tags = net.out.out_features
    out = [np.zeros((len(f), n_tags), dtype=np.float32) for f in features]
    if not seqs.x:
        return out
    net.eval()
    with torch.inference_mode():
        for idx in _batches(np.asarray([len(x) for x in seqs.x]), batch_size, None):
            x, lens, _, z, e, np_lens = _pad_batch(seqs, idx, device)
            logits = net(x, lens, z, e).double() / temperature
            blocks = getattr(net, "blocks", None) or (n_tags,)
            probs = torch.cat([torch.softmax(part, dim=-1) for part in torch.split(logits, list(blocks), dim=-1)],
                              dim=-1).cpu().numpy()
            for r, i in enumerate(idx):
                d, a = seqs.origin[i]
                p = probs[r, :np_lens[r]]
                out[d][a:a + np_lens[r]] = renormalise(p, blocks).astype(np.float32)
    return out


__all__ = ["CNN_KERNEL", "CNN_LAYERS", "HEAD_KINDS", "Range", "Sequences", "TrainedHead", "block_loss",
           "fit_temperature", "make_sequences", "predict_head", "renormalise", "segments", "split_dev", "train_head"]
