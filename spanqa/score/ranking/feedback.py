"""Reviews teach the ranking: the decisions on the first findings re-rank the ones nobody has looked at yet.

A reviewed finding is a labelled example of *this* corpus: accepted = a real error, rejected = one of the
model's habits here. The static ranking's ``p_error`` stays the prior; on top of it, shifts of the log-odds are
fitted for groups of similar findings, coarse to fine:

1. the finding's **kind** (missing, spurious, type, boundary, ...) x **label** (the label questioned or suggested),
2. kind x label x **text** (the same words, lower-cased: a repeated entity),

    logit p_new = logit p_static + b_kind,label + b_kind,label,text

(a coarser level, the kind alone, was tried on the design sets and moved whole kinds too far: fewer real errors
among the next 100 findings, docs/review.md)

Before the groups, the reviewed findings also re-weigh the ranking's own **signals** (``evidence.ranking.signals``:
the path probabilities, the marginals, the corpus's surface agreement, ...; standardised over the run): a logistic
correction ``w . x + c`` on top of the static log-odds, with a ``N(0, SIGMA_SIGNALS^2)`` prior on each weight - the
ranking was fitted on injected errors, and the corpus's real decisions say which signal to trust more here. On the
design sets this added more than the groups alone (docs/review.md).

Each level is fitted on the reviewed findings with the coarser levels as offset, by maximum a posteriori with
a Gaussian prior ``N(0, sigma^2)`` on every shift (:data:`SIGMA`), so one decision moves a group a little and
ten move it far - the re-ranking never forgets the model, and a group nobody reviewed keeps its static
order relative to its neighbours. In the spirit of ActiveAED (Weber & Plank 2023), but with the corpus's own
decisions as the only new data and nothing re-trained.

>>> import numpy as np
>>> fb = Feedback.fit([group_keys("spurious", "MISC", "division")] * 10, np.full(10, 0.8), np.zeros(10, bool))
>>> p = fb.p_error([group_keys("spurious", "MISC", "Division"), group_keys("type", "PER", "x")], np.array([0.8, 0.8]))
>>> bool(p[0] < 0.5 < p[1] == 0.8)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

SIGMA = 1.0  # prior std of a group's log-odds shift (chosen on the design sets, docs/review.md)
SIGMA_SIGNALS = 1.0  # prior std of a signal's weight in the correction (0.1, 0.3, 1 tried on the design sets)
EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _shift(offset: np.ndarray, y: np.ndarray, sigma: float) -> float:
    """MAP of one log-odds shift ``b``: Bernoulli(sigmoid(offset + b)) likelihood, N(0, sigma^2) prior (Newton)."""
    b = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(offset + b)))
        grad = float((y - p).sum()) - b / sigma ** 2
        hess = -float((p * (1 - p)).sum()) - 1 / sigma ** 2
        step = grad / hess
        b -= step
        if abs(step) < 1e-8:
            break
    return b


def group_keys(kind: str, label: str | None, text: str | None) -> tuple[str, ...]:
    """The finding's groups, coarse to fine."""
    k1 = f"{kind}|{label or ''}"
    k2 = f"{k1}|{' '.join((text or '').lower().split())}"
    return (k1, k2)


def _signal_weights(x: np.ndarray, offset: np.ndarray, y: np.ndarray, sigma: float) -> np.ndarray:
    """MAP of a logistic correction ``x . w + c`` on top of ``offset`` (N(0, sigma^2) on w, N(0, 1) on c)."""
    from scipy.optimize import minimize

    d = x.shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + x @ w[:d] + w[d]
        g = y - 1 / (1 + np.exp(-z))
        ll = float(np.sum(y * z - np.logaddexp(0, z)))
        prior = 0.5 * float(np.sum(w[:d] ** 2)) / sigma ** 2 + 0.5 * float(w[d] ** 2)
        return -(ll - prior), -np.concatenate([x.T @ g - w[:d] / sigma ** 2, [g.sum() - w[d]]])

    return minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B").x


@dataclass
class Feedback:
    """Fitted shifts per level and group, with the decisions behind each (``counts[level][key] = [accepted, n]``),
    and the signal correction ``weights`` (None when no signals were given)."""

    shifts: list[dict[str, float]] = field(default_factory=list)
    counts: list[dict[str, list[int]]] = field(default_factory=list)
    sigma: float = SIGMA
    weights: np.ndarray | None = None

    def _signals(self, z: np.ndarray, x: np.ndarray | None) -> np.ndarray:
        if self.weights is None or x is None:
            return z
        d = len(self.weights) - 1
        return z + np.asarray(x, float) @ self.weights[:d] + self.weights[d]

    @classmethod
    def fit(cls, keys: Sequence[Sequence[str]], p_static: np.ndarray, accepted: np.ndarray, *,
            signals: np.ndarray | None = None, sigma: float = SIGMA,
            sigma_signals: float = SIGMA_SIGNALS) -> "Feedback":
        """``keys[i]``: finding i's groups (coarse to fine); ``accepted[i]``: the reviewer confirmed an error;
        ``signals[i]``: its standardised ranking signals (optional)."""
        y = np.asarray(accepted, float)
        offset = logit(p_static)
        levels = max((len(k) for k in keys), default=0)
        fb = cls([{} for _ in range(levels)], [{} for _ in range(levels)], sigma)
        if signals is not None and len(y) and np.asarray(signals).shape[1]:
            fb.weights = _signal_weights(np.asarray(signals, float), offset, y, sigma_signals)
            offset = fb._signals(offset, signals)
        for lev in range(levels):
            groups: dict[str, list[int]] = {}
            for i, k in enumerate(keys):
                if lev < len(k):
                    groups.setdefault(k[lev], []).append(i)
            for g, idx in groups.items():
                ix = np.asarray(idx)
                b = _shift(offset[ix], y[ix], sigma)
                fb.shifts[lev][g] = b
                fb.counts[lev][g] = [int(y[ix].sum()), len(ix)]
                offset[ix] += b
        return fb

    def p_error(self, keys: Sequence[Sequence[str]], p_static: np.ndarray, signals: np.ndarray | None = None
                ) -> np.ndarray:
        z = self._signals(logit(p_static), signals)
        for i, k in enumerate(keys):
            z[i] += sum(self.shifts[lev].get(g, 0.0) for lev, g in enumerate(k) if lev < len(self.shifts))
        return 1 / (1 + np.exp(-z))

    def note(self, key: Sequence[str], kind_words: str) -> dict[str, Any] | None:
        """How the reviews moved this group: the finest level with decisions, as counts and a sentence."""
        for lev in range(min(len(key), len(self.counts)) - 1, -1, -1):
            got = self.counts[lev].get(key[lev])
            if got:
                acc, n = got
                rej = n - acc
                if rej >= acc:
                    text = f"findings like this ({kind_words}) were rejected {rej} of {n} times in this corpus"
                else:
                    text = f"findings like this ({kind_words}) were confirmed {acc} of {n} times in this corpus"
                return {"level": ("kind and label", "same words")[lev], "accepted": acc, "reviewed": n,
                        "shift": round(sum(self.shifts[x].get(key[x], 0.0) for x in range(lev + 1)), 4),
                        "text": text}
        return None


__all__ = ["Feedback", "SIGMA", "group_keys", "logit"]
