"""Span-level scores of a ranked list of detections against the real changes.

A **detection** (:class:`Detection`) is one item of a method's output reduced to document,
character range, score (lower = more suspicious) and, when the method states one, a kind
group.  A method's output is either a *ranking* (threshold-free: everything it can score,
e.g. cleanlab's every token by its label quality) or a *cut list* (what it reports as issues,
e.g. ``find_label_issues`` or spanqa's ``findings.jsonl``); both are scored the same way.

**Hit rule.**  A detection *hits* a change when both are in the same document and their
character ranges share at least one character.  Detections are ranked by score (ascending;
ties broken by document, start, end, kind, so the order is deterministic), and walking down
the ranking each detection *claims* the not-yet-claimed change it hits with the largest
overlap.  Then, by the matching rule:

- **strict**: a detection that claims nothing is a false positive (PASCAL VOC detection AP);
- **lenient**: a detection that claims nothing *but hits a change already claimed higher up*
  is dropped (neither true nor false positive), so a token-level method that flags three
  words of one wrong entity is not charged two false alarms.  Applied to every method alike.

The kind a detection states never enters the hit rule.  Per kind group, :func:`span_metrics`
reports the recall of that group's changes among the first ``R`` detections (``R`` = all
changes; one cut every method meets, whatever kinds it states), and for methods that do state
kinds, the share of their hits whose stated kind group is the change's (``kind_agreement``).

**Metrics.**  With ``R`` = number of changes:

- **AP** = sum over distinct score thresholds ``t`` (ascending) of
  ``(recall(t) - recall(t_prev)) * precision(t)``; tied detections enter together, as in
  scikit-learn's ``average_precision_score``; recall is over *all* changes, so AP <= recall.
- **R-precision**, **P@k**, **R@k**: true positives among the first ``R`` (or ``k``) detections,
  divided by ``R`` (``k``; for R@k by ``R``).  A tie group cut by the boundary adds its expected
  share (``places * tp_group / n_group``), so no number depends on the tie order.  A list with
  fewer than ``k`` detections has no P@k / R@k (``None``).

>>> changes = [Correction("d", 0, 5, "type"), Correction("d", 10, 15, "missing")]
>>> dets = [Detection("d", 0, 5, "type", 0.1), Detection("d", 20, 25, "spurious", 0.2),
...         Detection("d", 11, 12, "type", 0.3)]
>>> m = span_metrics(dets, changes, ks=(2,))
>>> m["ap"], m["r_precision"], m["at"][2]["precision"], m["recall_at_r"]["missing"], m["kind_agreement"]
(0.8333, 0.5, 0.5, 0.0, 0.5)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from spanqa.measure.benchmark.truth import GROUPS, Correction

#: ``claims`` value of a detection that claims no change (a false positive)
FALSE_POSITIVE = -1
#: ``claims`` value of a detection left out by the lenient rule
DROPPED = -2
#: the list lengths P@k and R@k are reported at (plus the length of the shorter cut list, by the benchmark)
DEFAULT_KS: tuple[int, ...] = (50, 100, 200)


@dataclass(frozen=True)
class Detection:
    """One item of a detector's output: ``[start, end)``, kind group (None = the method states no kind), score
    (lower = more suspicious)."""

    doc_id: str
    start: int
    end: int
    group: str | None
    score: float
    source: str = ""


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def hits(d: Detection, c: Correction) -> bool:
    """Same document and at least one shared character."""
    return d.doc_id == c.doc_id and _overlap(d.start, d.end, c.start, c.end) > 0


def rank(detections: Iterable[Detection]) -> list[Detection]:
    """Most suspicious first: by score, then document, start, end, kind (deterministic)."""
    return sorted(detections, key=lambda d: (d.score, d.doc_id, d.start, d.end, d.group or "", d.source))


def claims(ranked: Sequence[Detection], changes: Sequence[Correction], *, lenient: bool = False) -> np.ndarray:
    """``(len(ranked),)`` int64: the index of the change each detection claims, :data:`FALSE_POSITIVE`, or (lenient)
    :data:`DROPPED` (module docstring)."""
    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(changes):
        by_doc[c.doc_id].append(i)
    taken = np.zeros(len(changes), dtype=bool)
    out = np.full(len(ranked), FALSE_POSITIVE, dtype=np.int64)
    for k, d in enumerate(ranked):
        best, best_key, touched = -1, None, False
        for i in by_doc.get(d.doc_id, ()):
            c = changes[i]
            if not hits(d, c):
                continue
            touched = True
            if taken[i]:
                continue
            key = (-_overlap(d.start, d.end, c.start, c.end), c.start, c.end, i)
            if best_key is None or key < best_key:
                best, best_key = i, key
        if best >= 0:
            taken[best] = True
            out[k] = best
        elif lenient and touched:
            out[k] = DROPPED
    return out


def match(ranked: Sequence[Detection], changes: Sequence[Correction]) -> np.ndarray:
    """``(len(ranked),)`` bool: True where the detection claims a change (strict rule)."""
    return claims(ranked, changes) >= 0


# --------------------------------------------------------------------------- ranking metrics
def _groups(scores: np.ndarray) -> list[int]:
    """End indices (exclusive) of runs of equal scores in an ascending score array."""
    if len(scores) == 0:
        return []
    cut = np.flatnonzero(np.diff(scores) != 0) + 1
    return [int(x) for x in cut] + [len(scores)]


def cut_weights(scores: Sequence[float], k: int) -> np.ndarray:
    """``(n,)`` float: how much of each ranked item lies within the first ``k`` places - 1 before the cut, 0 after,
    ``places / size`` for every item of a tie group the cut falls into.

    >>> cut_weights([0.1, 0.2, 0.2, 0.2, 0.5], 2).round(4).tolist()
    [1.0, 0.3333, 0.3333, 0.3333, 0.0]
    """
    s = np.asarray(scores, dtype=np.float64)
    w = np.zeros(len(s), dtype=np.float64)
    start = 0
    for end in _groups(s):
        if end <= k:
            w[start:end] = 1.0
        else:
            if k > start:
                w[start:end] = (k - start) / (end - start)
            break
        start = end
    return w


def average_precision(scores: Sequence[float], tp: Sequence[bool], n_relevant: int) -> float | None:
    """Tie-aware AP of a ranking (ascending ``scores``) whose true positives are ``tp``, over ``n_relevant`` items.

    >>> average_precision([0.1, 0.2, 0.3], [True, False, True], 4)
    0.4167
    >>> average_precision([0.5, 0.5], [True, False], 1)   # tied: one threshold, precision 1/2
    0.5
    """
    if n_relevant <= 0:
        return None
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(tp, dtype=bool)
    if len(s) and np.any(np.diff(s) < 0):
        raise ValueError("scores must be sorted ascending (most suspicious first)")
    ap, prev_recall, cum_tp = 0.0, 0.0, 0
    start = 0
    for end in _groups(s):
        cum_tp += int(t[start:end].sum())
        recall = cum_tp / n_relevant
        ap += (recall - prev_recall) * (cum_tp / end)
        prev_recall, start = recall, end
    return round(float(ap), 4)


def r_precision(scores: Sequence[float], tp: Sequence[bool], n_relevant: int) -> float | None:
    """True positives among the first ``n_relevant`` ranks / ``n_relevant`` (tie-aware; a shorter list counts all
    of its hits, still divided by ``n_relevant``).

    >>> r_precision([0.1, 0.2, 0.2, 0.2], [True, True, False, False], 2)   # 1 + 1 * (1/3)
    0.6667
    """
    if n_relevant <= 0:
        return None
    got = float((cut_weights(scores, n_relevant) * np.asarray(tp, dtype=np.float64)).sum())
    return round(got / n_relevant, 4)


def at_k(scores: Sequence[float], tp: Sequence[bool], k: int, n_relevant: int) -> dict[str, float | None]:
    """``{"precision", "recall"}`` of the first ``k`` ranks (tie-aware); both ``None`` when the list is shorter."""
    if k <= 0 or len(scores) < k:
        return {"precision": None, "recall": None}
    got = float((cut_weights(scores, k) * np.asarray(tp, dtype=np.float64)).sum())
    return {"precision": round(got / k, 4), "recall": round(got / n_relevant, 4) if n_relevant else None}


def span_metrics(detections: Sequence[Detection], changes: Sequence[Correction], *, lenient: bool = False,
                 ks: Sequence[int] = DEFAULT_KS) -> dict[str, Any]:
    """Every span-level number of one method under one matching rule (module docstring).

    Returns ``ap``, ``r_precision``, ``recall`` (of the whole list), ``n_changes`` (R),
    ``n_detections`` (after the lenient drop), ``n_dropped``, ``n_tp``, ``at`` (``{k: {precision,
    recall}}``), ``recall_at_r`` (per kind group: that group's changes claimed among the first R
    detections, over the group's changes) and ``kind_agreement`` (share of hits whose stated kind
    group is the change's; ``None`` when the method states no kind).
    """
    ranked = rank(detections)
    cl = claims(ranked, changes, lenient=lenient)
    keep = cl != DROPPED
    kept = [d for d, k in zip(ranked, keep) if k]
    cl = cl[keep]
    tp = cl >= 0
    scores = np.asarray([d.score for d in kept], dtype=np.float64)
    n = len(changes)
    w = cut_weights(scores, n)
    per_group: dict[str, float | None] = {}
    for g in GROUPS:
        n_g = sum(1 for c in changes if c.group == g)
        got = sum(w[i] for i in np.flatnonzero(tp) if changes[cl[i]].group == g)
        per_group[g] = round(float(got) / n_g, 4) if n_g else None
    stated = [(kept[i].group, changes[cl[i]].group) for i in np.flatnonzero(tp) if kept[i].group is not None]
    agree = round(sum(a == b for a, b in stated) / len(stated), 4) if stated else None
    return {"ap": average_precision(scores, tp, n), "r_precision": r_precision(scores, tp, n),
            "recall": round(int(tp.sum()) / n, 4) if n else None, "n_changes": n,
            "n_detections": len(kept), "n_dropped": int((~keep).sum()), "n_tp": int(tp.sum()),
            "at": {int(k): at_k(scores, tp, int(k), n) for k in ks},
            "recall_at_r": per_group, "kind_agreement": agree,
            "changes_by_group": {g: sum(1 for c in changes if c.group == g) for g in GROUPS}}


__all__ = ["DEFAULT_KS", "DROPPED", "Detection", "FALSE_POSITIVE", "at_k", "average_precision", "claims",
           "cut_weights", "hits", "match", "r_precision", "rank", "span_metrics"]
