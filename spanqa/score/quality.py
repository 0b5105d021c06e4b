"""Span quality scores from out-of-fold word marginals (cleanlab ``rank`` style: numbers only).

Every labelled span gets a **quality** in ``[0, 1]``, lower = more suspicious, meant to
read as *the probability that the span is exactly right* (same boundaries, same label).
Every candidate missing entity (a predicted span that no label overlaps) gets the
probability that it is an entity.  No thresholds are applied here; :mod:`spanqa.score.findings`
does the flagging.

How the probability is computed: :mod:`spanqa.score.lattice` (the tagger's word marginals as a chain of IOB2-valid
tag paths, renormalised; a span's quality is the probability of the paths that give exactly it).

The best **competing explanation** of the same words is searched among: the same extent
with another label, no entity on the extent, and every span of any label that overlaps
the extent with other boundaries (starting/ending up to :data:`BOUNDARY_WINDOW` words
away).  Its probability is kept next to the quality.

Spans that cannot be aligned to single tag paths (discontinuous; dropped by flat
tagging because another span overlaps; an edge inside a word; no word at all) are still
scored - on the words of their hull (a span covering no word scores 0) - and carry
``alignable=False`` and a ``reason``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spanqa.core.span import Span
from spanqa.corpus.bio import spans_to_tags
from spanqa.score.lattice import BOUNDARY_WINDOW, PROB_FLOOR, TagLattice

Range = tuple[int, int]


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpanQuality:
    """The quality of one labelled span and the evidence behind it.

    ``quality`` is ``None`` only when the document has no marginals at all (``reason``
    says so); a span covering no word scores 0.  ``words`` is the half-open word range
    scored (the hull's words for unalignable spans).
    """

    span: Span
    quality: float | None
    alignable: bool
    reason: str | None = None
    fold: int | None = None
    words: Range | None = None
    p_product: float | None = None
    p_min: float | None = None
    alternative: Mapping[str, Any] | None = None
    label_probs: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self, text: str) -> dict[str, Any]:
        out: dict[str, Any] = {"doc_id": self.span.doc_id, **self.span.to_dict(text),
                               "quality": _r(self.quality), "fold": self.fold, "alignable": self.alignable}
        if self.reason:
            out["reason"] = self.reason
        if self.span.id is not None:
            out["span_id"] = self.span.id
        if self.alternative is not None:
            out["alternative"] = dict(self.alternative, p=_r(self.alternative["p"]))
        return out


@dataclass(frozen=True)
class CandidateScore:
    """A predicted span that no label overlaps: a candidate missing entity.

    ``p_entity`` = P(some entity on its words) = 1 - P(no entity there);
    ``p_exact`` = P(exactly this span and label) <= ``p_entity``.
    """

    span: Span
    p_entity: float
    p_exact: float
    fold: int | None = None
    words: Range | None = None


def _r(x: float | None, nd: int = 6) -> float | None:
    return None if x is None else round(float(x), nd)


class WordIndex:
    """Character offsets -> word indices for one note's words (sorted, non-overlapping ranges)."""

    def __init__(self, words: Sequence[Range]) -> None:
        self.starts = np.fromiter((a for a, _ in words), dtype=np.int64, count=len(words))
        self.ends = np.fromiter((b for _, b in words), dtype=np.int64, count=len(words))

    def range(self, start: int, end: int) -> Range | None:
        """Half-open index range of the words overlapping ``[start, end)``, or None if none does."""
        lo = int(np.searchsorted(self.ends, start, side="right"))  # first word ending after start
        hi = int(np.searchsorted(self.starts, end, side="left"))   # one past the last word starting before end
        return (lo, hi) if lo < hi else None


def word_range(words: Sequence[Range], start: int, end: int) -> Range | None:
    """Half-open index range of the words overlapping ``[start, end)``, or None if none does."""
    return WordIndex(words).range(start, end)


def _lattice(marginals: Any, tags: Sequence[str]) -> TagLattice:
    return TagLattice(marginals.probs, tags)


def score_spans(spans: Sequence[Span], marginals: Any | None, tags: Sequence[str], *,
                lattice: TagLattice | None = None) -> list[SpanQuality]:
    """Quality of every span of one document, in input order (one entry per span, none dropped).

    Args:
        spans: the document's labelled spans.
        marginals: the document's :class:`~spanqa.model.predictions.DocMarginals` (``words``,
            ``probs``, ``fold``) or None when the tagger produced none for it.
        tags: the IOB2 inventory the marginals' columns follow.
    """
    if marginals is None:
        return [SpanQuality(s, None, False, "no_marginals") for s in spans]
    words = list(marginals.words)
    lat = lattice or _lattice(marginals, tags)
    dropped: list[Span] = []
    flat = spans_to_tags(words, spans, on_drop=dropped.append)
    dropped_ids = {id(s) for s in dropped}
    starts = {a for a, _ in words}
    ends = {b for _, b in words}
    index = WordIndex(words)
    probs = np.exp(lat.logp)
    out: list[SpanQuality] = []
    for span in spans:
        rng = index.range(span.start, span.end)
        reason = None
        if rng is None:
            out.append(SpanQuality(span, 0.0, False, "no_words", marginals.fold))
            continue
        if span.is_discontinuous:
            reason = "discontinuous"
        elif span.start not in starts or span.end not in ends:
            reason = "edge_inside_word"
        elif id(span) in dropped_ids:
            reason = "overlap_dropped"
        a, b = rng
        if reason is None and flat[a] != f"B-{span.label}":  # defensive: the codec placed something else
            reason = "overlap_dropped"
        q = lat.span_prob(a, b, span.label)
        bi, ii = lat.b_idx.get(span.label), lat.i_idx.get(span.label)
        if bi is None:
            p_prod, p_min = 0.0, 0.0
        else:
            path = [probs[a, bi]] + ([probs[j, ii] for j in range(a + 1, b)] if ii is not None else [0.0] * (b - a - 1))
            after = 1.0 - (probs[b, ii] if (b < lat.n and ii is not None) else 0.0)
            p_prod = float(np.prod(path) * after)
            p_min = float(min(min(path), after))
        alt = lat.best_alternative(a, b, span.label)
        alt = dict(alt, start=words[alt["words"][0]][0], end=words[alt["words"][1] - 1][1])
        out.append(SpanQuality(span, q, reason is None, reason, marginals.fold, (a, b), p_prod, p_min, alt,
                               lat.label_probs(a, b)))
    return out


def score_candidates(candidates: Iterable[Span], marginals: Any, tags: Sequence[str], *,
                     lattice: TagLattice | None = None) -> list[CandidateScore]:
    """Probability that each candidate (predicted, unlabelled) span is an entity."""
    words = list(marginals.words)
    lat = lattice or _lattice(marginals, tags)
    index = WordIndex(words)
    out = []
    for span in candidates:
        rng = index.range(span.start, span.end)
        if rng is None:
            continue
        a, b = rng
        out.append(CandidateScore(span, 1.0 - lat.none_prob(a, b), lat.span_prob(a, b, span.label),
                                  marginals.fold, rng))
    return out


# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoteStats:
    """How unlike the rest of the corpus one note looks (numbers only; see :func:`note_stats`).

    ``mean_confidence``: mean over words of the highest marginal; ``mean_entropy``: mean
    word entropy divided by ``log(n_tags)`` (0 = certain, 1 = uniform); ``oov_rate``: share
    of the note's words (lower-cased) that occur in no other note; ``*_z``: z-scores of the
    last two against all notes; ``novelty``: the mean of the two z-scores.
    """

    doc_id: str
    n_words: int
    mean_confidence: float
    mean_entropy: float
    oov_rate: float
    entropy_z: float = 0.0
    oov_z: float = 0.0
    novelty: float = 0.0
    fold: int | None = None


def note_stats(marginals: Mapping[str, Any], texts: Mapping[str, str]) -> dict[str, NoteStats]:
    """:class:`NoteStats` for every note that has marginals (``doc_id -> DocMarginals``)."""
    from collections import Counter

    vocab: dict[str, list[str]] = {}
    df: Counter = Counter()
    for doc_id, m in marginals.items():
        text = texts[doc_id]
        toks = [text[a:b].lower() for a, b in m.words]
        vocab[doc_id] = toks
        df.update(set(toks))
    raw: dict[str, NoteStats] = {}
    for doc_id, m in marginals.items():
        p = np.clip(np.asarray(m.probs, dtype=np.float64), PROB_FLOOR, 1.0)
        k = p.shape[1] if p.ndim == 2 else 1
        toks = vocab[doc_id]
        if len(toks) == 0:
            raw[doc_id] = NoteStats(doc_id, 0, 1.0, 0.0, 0.0, fold=m.fold)
            continue
        ent = -(p * np.log(p)).sum(axis=1) / (np.log(k) if k > 1 else 1.0)
        oov = sum(1 for t in toks if df[t] == 1) / len(toks)
        raw[doc_id] = NoteStats(doc_id, len(toks), float(p.max(axis=1).mean()), float(ent.mean()), oov, fold=m.fold)

    def z(values: np.ndarray) -> np.ndarray:
        sd = values.std()
        return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)

    ids = list(raw)
    ez = z(np.array([raw[d].mean_entropy for d in ids]))
    oz = z(np.array([raw[d].oov_rate for d in ids]))
    return {d: NoteStats(**{**raw[d].__dict__, "entropy_z": float(e), "oov_z": float(o), "novelty": float((e + o) / 2)})
            for d, e, o in zip(ids, ez, oz)}


# --------------------------------------------------------------------------------------
def calibration(scores: Sequence[float], outcomes: Sequence[bool], *, bins: int = 10) -> dict[str, Any]:
    """Reliability table and expected calibration error of probability ``scores`` against ``outcomes``.

    ``bins`` equal-width bins over ``[0, 1]`` (the last one closed); per bin the count,
    the mean score and the observed share of true outcomes.  ``ece`` is the
    count-weighted mean of ``|share - mean score|`` over non-empty bins.

    >>> c = calibration([0.9, 0.9, 0.1, 0.1], [True, True, False, False])
    >>> round(c["ece"], 3), c["n"]
    (0.1, 4)
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores but {y.size} outcomes")
    idx = np.minimum((s * bins).astype(int), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        row: dict[str, Any] = {"lo": round(b / bins, 4), "hi": round((b + 1) / bins, 4), "n": n,
                               "mean_score": None, "accuracy": None}
        if n:
            row["mean_score"] = round(float(s[sel].mean()), 4)
            row["accuracy"] = round(float(y[sel].mean()), 4)
            ece += n / len(s) * abs(float(y[sel].mean()) - float(s[sel].mean()))
        table.append(row)
    return {"n": int(len(s)), "ece": round(ece, 6) if len(s) else None, "bins": table,
            "accuracy": round(float(y.mean()), 6) if len(s) else None,
            "mean_score": round(float(s.mean()), 6) if len(s) else None}


__all__ = ["BOUNDARY_WINDOW", "CandidateScore", "NoteStats", "SpanQuality", "TagLattice", "WordIndex", "calibration",
           "note_stats", "score_candidates", "score_spans", "word_range"]
