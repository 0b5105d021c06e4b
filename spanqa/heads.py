"""Light per-fold tagging heads over frozen word features (the fast audit mode).

A head maps each word's feature row (:mod:`spanqa.features`, ``(n_words, dim)``) to a
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

from spanqa.config import HeadKind

HEAD_KINDS: tuple[str, ...] = typing.get_args(HeadKind)
#: the ``"cnn"`` head: residual word convolutions of this width and count (context of +-2 words)
CNN_KERNEL = 3
CNN_LAYERS = 2

Range = tuple[int, int]


# --------------------------------------------------------------------------- segments
def segments(n_words: int, *, max_len: int, sentence_starts: Sequence[int] = ()) -> list[Range]:
    """Consecutive half-open word runs covering ``0..n_words`` exactly once, each ``<= max_len`` words.

    With ``sentence_starts`` a run ends before the last sentence start that keeps it
    at least half full (the window planner of :mod:`spanqa.align` with no overlap).
    """
    if n_words == 0:
        return []
    from spanqa.align import plan_windows

    return [(int(a), int(b)) for a, b in plan_windows([1] * n_words, budget=max_len, stride=0,
                                                      sentence_starts=sentence_starts)]


@dataclass(frozen=True)
class Sequences:
    """Training or prediction inputs: feature rows cut into segments.

    Attributes:
        x: per segment, ``(len, dim)`` float32 features.
        y: per segment, ``(len,)`` int64 tag ids (``None`` for prediction).
        origin: per segment, ``(doc index, first word)``.
    """

    x: list[np.ndarray]
    y: list[np.ndarray] | None
    origin: list[tuple[int, int]]


def make_sequences(features: Sequence[np.ndarray], labels: Sequence[np.ndarray] | None = None, *, seq_len: int,
                   sentence_starts: Sequence[Sequence[int]] | None = None) -> Sequences:
    """Cut each document's ``(n_words, dim)`` features (and ``(n_words,)`` labels) into segments."""
    xs, ys, origin = [], [] if labels is not None else None, []
    for d, feats in enumerate(features):
        starts = sentence_starts[d] if sentence_starts is not None else ()
        for a, b in segments(len(feats), max_len=seq_len, sentence_starts=starts):
            xs.append(np.asarray(feats[a:b], dtype=np.float32))
            if ys is not None:
                ys.append(np.asarray(labels[d][a:b], dtype=np.int64))
            origin.append((d, a))
    return Sequences(xs, ys, origin)


# --------------------------------------------------------------------------- the network
def _build_net(kind: HeadKind, dim: int, n_tags: int, *, hidden: int, dropout: float, mean: np.ndarray,
               std: np.ndarray) -> Any:
    import torch
    from torch import nn

    class Head(nn.Module):
        """Standardise -> (linear | MLP | projection + convolutions | projection + BiLSTM) -> tag logits."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32)))
            self.register_buffer("scale", torch.from_numpy((1.0 / std).astype(np.float32)))
            self.drop = nn.Dropout(dropout)
            self.kind = kind
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

        def forward(self, x: "torch.Tensor", lengths: "torch.Tensor") -> "torch.Tensor":
            # dropout acts on the projected features only: on the wide input it cost more than the whole head
            x = (x - self.mean) * self.scale
            if self.kind == "linear":
                return self.out(x)
            mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]).unsqueeze(-1).to(x.dtype)
            h = self.drop(nn.functional.gelu(self.proj(x))) * mask
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


def _pad_batch(seqs: Sequences, idx: Sequence[int], device: str = "cpu") -> tuple[Any, Any, Any, Any]:
    """Padded ``x``, ``lengths`` and ``y`` tensors on ``device``, and the lengths as numpy."""
    import torch

    lens = np.asarray([len(seqs.x[i]) for i in idx], dtype=np.int64)
    width, dim = int(lens.max()), seqs.x[idx[0]].shape[1]
    x = np.zeros((len(idx), width, dim), dtype=np.float32)
    y = np.full((len(idx), width), -100, dtype=np.int64)
    for r, i in enumerate(idx):
        x[r, :lens[r]] = seqs.x[i]
        if seqs.y is not None:
            y[r, :lens[r]] = seqs.y[i]
    return (torch.from_numpy(x).to(device), torch.from_numpy(lens).to(device), torch.from_numpy(y).to(device),
            lens)


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
    "train_words", "dev_words", "params", "seconds"}``.
    """

    net: Any
    stats: dict[str, Any] = field(default_factory=dict)


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


def _mean_loss(net: Any, seqs: Sequences, batch_size: int, device: str = "cpu") -> float:
    import torch

    total, n = 0.0, 0
    with torch.inference_mode():
        for idx in _batches(np.asarray([len(x) for x in seqs.x]), batch_size, None):
            x, lens, y, _ = _pad_batch(seqs, idx, device)
            logits = net(x, lens)
            total += float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                                             ignore_index=-100, reduction="sum"))
            n += int(lens.sum())
    return total / max(n, 1)


def train_head(features: Sequence[np.ndarray], labels: Sequence[np.ndarray], groups: Sequence[str], *,
               n_tags: int, kind: HeadKind = "cnn", hidden: int = 256, dropout: float = 0.25, lr: float = 2e-3,
               weight_decay: float = 0.0, max_epochs: int = 30, patience: int = 3, batch_size: int = 8,
               seq_len: int = 256, dev_fraction: float = 0.1, seed: int = 13,
               sentence_starts: Sequence[Sequence[int]] | None = None, device: str = "cpu") -> TrainedHead:
    """Train one head on documents' word features.

    Args:
        features: per training document, ``(n_words, dim)`` rows (float16 or float32).
        labels: per document, ``(n_words,)`` int64 tag ids in ``[0, n_tags)``.
        groups: per document, its k-fold group (the held-back slice takes whole groups).
        sentence_starts: per document, word indices where sentences begin (segment cuts).

    Call it inside :func:`spanqa.tagger.seeded` for reproducible initialisation and dropout.
    ``device`` (``"cpu"``/``"cuda"``) holds the head and its batches (float32, no autocast).
    """
    import torch

    if kind not in HEAD_KINDS:
        raise ValueError(f"unknown head kind {kind!r}; choose one of {HEAD_KINDS}")
    t0 = time.perf_counter()
    dev_mask = split_dev(groups, fraction=dev_fraction, seed=seed)
    tr = [i for i in range(len(features)) if not dev_mask[i]]
    dv = [i for i in range(len(features)) if dev_mask[i]]

    def pick(idx: list[int]) -> Sequences:
        return make_sequences([features[i] for i in idx], [labels[i] for i in idx], seq_len=seq_len,
                              sentence_starts=None if sentence_starts is None else [sentence_starts[i] for i in idx])

    train, dev = pick(tr), pick(dv)
    if not train.x:
        raise ValueError("no training words for the head")
    dim = train.x[0].shape[1]
    acc = np.zeros(dim, np.float64)
    acc2 = np.zeros(dim, np.float64)
    n_words = 0
    for x in train.x:
        acc += x.sum(axis=0, dtype=np.float64)
        acc2 += np.square(x, dtype=np.float64).sum(axis=0)
        n_words += len(x)
    mean = acc / n_words
    std = np.sqrt(np.maximum(acc2 / n_words - mean ** 2, 0.0)) + 1e-4
    net = _build_net(kind, dim, n_tags, hidden=hidden, dropout=dropout, mean=mean, std=std).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    lengths = np.asarray([len(x) for x in train.x])
    best, best_loss, best_epoch, bad = None, float("inf"), 0, 0
    train_loss, dev_loss = [], []
    for epoch in range(max_epochs):
        net.train()
        total, n = 0.0, 0
        for idx in _batches(lengths, batch_size, rng):
            x, lens, y, np_lens = _pad_batch(train, idx, device)
            logits = net(x, lens)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, n_tags), y.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * int(np_lens.sum())
            n += int(np_lens.sum())
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
    stats = {"kind": kind, "epochs_run": len(train_loss), "best_epoch": best_epoch,
             "train_loss": [round(v, 6) for v in train_loss], "dev_loss": [round(v, 6) for v in dev_loss],
             "train_words": int(n_words), "dev_words": int(sum(len(x) for x in dev.x)),
             "train_docs": len(tr), "dev_docs": len(dv),
             "params": int(sum(p.numel() for p in net.parameters())), "seconds": round(time.perf_counter() - t0, 3)}
    return TrainedHead(net, stats)


def predict_head(head: TrainedHead | Any, features: Sequence[np.ndarray], *, seq_len: int = 256,
                 sentence_starts: Sequence[Sequence[int]] | None = None, batch_size: int = 64,
                 device: str = "cpu") -> list[np.ndarray]:
    """Softmax marginals per document: ``(n_words, n_tags)`` float32, rows summing to 1 (float64-renormalised).

    ``device`` must be where the head is (``train_head``'s ``device``)."""
    import torch

    net = head.net if isinstance(head, TrainedHead) else head
    seqs = make_sequences(features, None, seq_len=seq_len, sentence_starts=sentence_starts)
    n_tags = net.out.out_features
    out = [np.zeros((len(f), n_tags), dtype=np.float32) for f in features]
    if not seqs.x:
        return out
    net.eval()
    with torch.inference_mode():
        for idx in _batches(np.asarray([len(x) for x in seqs.x]), batch_size, None):
            x, lens, _, np_lens = _pad_batch(seqs, idx, device)
            probs = torch.softmax(net(x, lens).double(), dim=-1).cpu().numpy()
            for r, i in enumerate(idx):
                d, a = seqs.origin[i]
                p = probs[r, :np_lens[r]]
                out[d][a:a + np_lens[r]] = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
    return out
