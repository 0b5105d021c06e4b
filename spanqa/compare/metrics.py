"""Span metrics over a :class:`~spanqa.compare.comparison.Comparison`: precision, recall, F1 and the SemEval table.

**Which side is the reference.**  As in the comparator, ``other`` is taken to be
right: *precision* is the share of ``labels`` spans that ``other`` confirms, and
*recall* the share of ``other`` spans found in ``labels``.  (Scoring a model
``pred`` against ``gold`` in the usual way is ``compare(labels=pred, other=gold)``;
F1 is the same either way.)

Two matching modes:

- ``"strict"``: a match is an identical span (same characters, same label) -
  exactly the ``exact`` components.  Equals seqeval's ``mode="strict"`` entity metrics.
- ``"overlap"``: a labels span and an other span **of the same label** that share
  at least one character match, one-to-one; inside each component the pairing is
  an optimal assignment (:func:`scipy.optimize.linear_sum_assignment`, most
  matches, ties broken by the most shared characters), so it does not depend on order.

Per label, micro (pooled counts) and macro (unweighted mean of the per-label
precision, recall and F1 over every label seen on either side, as seqeval does)
are reported.  A ratio with a zero denominator is 0.

:func:`semeval_table` maps the components onto the SemEval-2013 9.1 table
(correct / incorrect / partial / missed / spurious under the strict, exact,
partial and type schemas) as nervaluate computes it, with ``other`` as the gold side.

>>> from spanqa.core.span import Span
>>> from spanqa.compare.comparison import compare_spans
>>> comps = compare_spans("d", [Span("d", 0, 7, "Drug"), Span("d", 10, 14, "Dose")],
...                       [Span("d", 0, 7, "Drug"), Span("d", 9, 14, "Dose")])
>>> m = span_metrics(comps, mode="strict")
>>> (m.micro.precision, span_metrics(comps, mode="overlap").micro.f1)
(0.5, 1.0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Literal, Mapping

import numpy as np

from spanqa.compare.comparison import Comparison, Component, Kind
from spanqa.core.span import Span

Mode = Literal["strict", "overlap"]
MODES: tuple[Mode, ...] = ("strict", "overlap")
SCHEMAS: tuple[str, ...] = ("strict", "exact", "partial", "type")


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class PRF:
    """Precision, recall, F1 and the counts behind them.

    ``matched``: matched pairs; ``n_labels``: spans on the labels side (precision's
    denominator); ``n_other``: spans on the other side (recall's denominator).
    For a macro average the counts are sums over labels.
    """

    precision: float
    recall: float
    f1: float
    matched: int
    n_labels: int
    n_other: int

    @classmethod
    def from_counts(cls, matched: int, n_labels: int, n_other: int) -> "PRF":
        p, r = _ratio(matched, n_labels), _ratio(matched, n_other)
        return cls(p, r, _f1(p, r), matched, n_labels, n_other)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SpanMetrics:
    """Per-label, micro and macro :class:`PRF` under one matching mode."""

    mode: Mode
    per_label: Mapping[str, PRF]
    micro: PRF
    macro: PRF

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "micro": self.micro.to_dict(), "macro": self.macro.to_dict(),
                "per_label": {k: v.to_dict() for k, v in self.per_label.items()}}


def _components(source: Comparison | Iterable[Component]) -> list[Component]:
    return list(source.components if isinstance(source, Comparison) else source)


def _shared(a: Span, b: Span) -> int:
    """Number of characters two spans share."""
    return sum(max(0, min(y, d) - max(x, c)) for x, y in a.pieces for c, d in b.pieces)


def _assign(labels: tuple[Span, ...], other: tuple[Span, ...], weight) -> list[tuple[int, int]]:
    """Optimal one-to-one pairs ``(i, j)`` maximising ``weight(l, o)`` (pairs with weight <= 0 are never made)."""
    if not labels or not other:
        return []
    if len(labels) == 1 and len(other) == 1:   # the common case; no solver needed
        w1 = weight(labels[0], other[0], 2)
        return [(0, 0)] if w1 > 0 else []
    from scipy.optimize import linear_sum_assignment  # imported here: scipy.optimize is slow to import

    k = min(len(labels), len(other)) + 1  # bonuses are scaled by 1/k so they never outweigh one more pair
    w = np.array([[weight(a, b, k) for b in other] for a in labels], dtype=float)
    rows, cols = linear_sum_assignment(w, maximize=True)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if w[i, j] > 0]


def _overlap_weight(a: Span, b: Span, k: int) -> float:
    """Same-label overlapping pair: 1, plus a tie-break < 1/k for the share of characters in common."""
    if a.label != b.label:
        return 0.0
    shared = _shared(a, b)
    return 1.0 + shared / (1.0 + max(a.length, b.length)) / k if shared else 0.0


def matched_pairs(component: Component, *, mode: Mode = "strict") -> list[tuple[Span, Span]]:
    """The ``(labels span, other span)`` pairs of one component that count as matches under ``mode``."""
    if mode == "strict":
        return [(component.labels[0], component.other[0])] if component.kind is Kind.EXACT else []
    if mode != "overlap":
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if component.kind is Kind.EXACT:
        return [(component.labels[0], component.other[0])]
    return [(component.labels[i], component.other[j])
            for i, j in _assign(component.labels, component.other, _overlap_weight)]


def span_metrics(source: Comparison | Iterable[Component], *, mode: Mode = "strict") -> SpanMetrics:
    """Precision / recall / F1 of ``labels`` against ``other`` per label, micro and macro."""
    comps = _components(source)
    n_l: dict[str, int] = {}
    n_o: dict[str, int] = {}
    hit: dict[str, int] = {}
    for c in comps:
        for s in c.labels:
            n_l[s.label] = n_l.get(s.label, 0) + 1
        for s in c.other:
            n_o[s.label] = n_o.get(s.label, 0) + 1
        for a, _ in matched_pairs(c, mode=mode):
            hit[a.label] = hit.get(a.label, 0) + 1
    labels = sorted(set(n_l) | set(n_o))
    per = {lab: PRF.from_counts(hit.get(lab, 0), n_l.get(lab, 0), n_o.get(lab, 0)) for lab in labels}
    micro = PRF.from_counts(sum(hit.values()), sum(n_l.values()), sum(n_o.values()))
    if per:
        macro = PRF(float(np.mean([v.precision for v in per.values()])), float(np.mean([v.recall for v in per.values()])),
                    float(np.mean([v.f1 for v in per.values()])), micro.matched, micro.n_labels, micro.n_other)
    else:
        macro = PRF(0.0, 0.0, 0.0, 0, 0, 0)
    return SpanMetrics(mode, per, micro, macro)


def metrics_report(comparison: Comparison) -> dict[str, Any]:
    """Everything numeric about a comparison, JSON-ready: kinds, strict and overlap metrics, SemEval table."""
    return {"kinds": {k.value: n for k, n in comparison.counts.items()},
            "strict": span_metrics(comparison, mode="strict").to_dict(),
            "overlap": span_metrics(comparison, mode="overlap").to_dict(),
            "semeval": semeval_table(comparison)}


# --------------------------------------------------------------------------- SemEval-2013 table

def _semeval_weight(a: Span, b: Span, k: int) -> float:
    """Overlapping pair: 1, then < 1/k for the same label, then < 1/k**2 for the characters in common."""
    shared = _shared(a, b)
    if not shared:
        return 0.0
    return 1.0 + (a.label == b.label) / k + shared / (1.0 + max(a.length, b.length)) / k**2


def _pair_outcome(pred: Span, gold: Span) -> dict[str, str]:
    """SemEval outcome of one overlapping (pred, gold) pair under each schema."""
    same_extent = pred.pieces == gold.pieces
    same_label = pred.label == gold.label
    return {"strict": "correct" if same_extent and same_label else "incorrect",
            "exact": "correct" if same_extent else "incorrect",
            "partial": "correct" if same_extent else "partial",
            "type": "correct" if same_label else "incorrect"}


def component_outcomes(component: Component) -> list[tuple[Span | None, Span | None, dict[str, str]]]:
    """SemEval outcomes of one component: ``(labels span, other span, {schema: outcome})`` per item.

    ``labels`` plays the prediction, ``other`` the gold annotation.  Inside a
    component, spans are paired by an optimal assignment (most pairs, then same
    label, then most shared characters); unpaired other spans are ``missed``,
    unpaired labels spans ``spurious``.  For one-to-one components this is
    exactly nervaluate's definition: exact -> all correct; type -> strict/type
    incorrect, exact/partial correct; boundary -> type correct, partial partial,
    strict/exact incorrect; boundary_type -> partial partial, the rest incorrect.
    """
    pairs = _assign(component.labels, component.other, _semeval_weight)
    used_l = {i for i, _ in pairs}
    used_o = {j for _, j in pairs}
    out: list[tuple[Span | None, Span | None, dict[str, str]]] = [
        (component.labels[i], component.other[j], _pair_outcome(component.labels[i], component.other[j]))
        for i, j in pairs]
    out += [(None, o, {s: "missed" for s in SCHEMAS}) for j, o in enumerate(component.other) if j not in used_o]
    out += [(a, None, {s: "spurious" for s in SCHEMAS}) for i, a in enumerate(component.labels) if i not in used_l]
    return out


def semeval_table(source: Comparison | Iterable[Component]) -> dict[str, dict[str, float]]:
    """The SemEval-2013 9.1 error table, nervaluate style, with ``other`` as gold and ``labels`` as prediction.

    Returns ``{schema: {correct, incorrect, partial, missed, spurious, possible,
    actual, precision, recall, f1}}`` for ``schema`` in strict, exact, partial,
    type.  ``possible = correct + incorrect + partial + missed``, ``actual =
    correct + incorrect + partial + spurious``; precision = (correct + 0.5
    partial) / actual, recall = (correct + 0.5 partial) / possible.
    """
    keys = ("correct", "incorrect", "partial", "missed", "spurious")
    table: dict[str, dict[str, float]] = {s: {k: 0 for k in keys} for s in SCHEMAS}
    for comp in _components(source):
        for _, _, outcome in component_outcomes(comp):
            for schema, what in outcome.items():
                table[schema][what] += 1
    for row in table.values():
        row["possible"] = row["correct"] + row["incorrect"] + row["partial"] + row["missed"]
        row["actual"] = row["correct"] + row["incorrect"] + row["partial"] + row["spurious"]
        hit = row["correct"] + 0.5 * row["partial"]
        p, r = _ratio(hit, row["actual"]), _ratio(hit, row["possible"])
        row["precision"], row["recall"], row["f1"] = p, r, _f1(p, r)
    return table


__all__ = ["MODES", "Mode", "PRF", "SCHEMAS", "SpanMetrics", "component_outcomes", "matched_pairs", "metrics_report",
           "semeval_table", "span_metrics"]
