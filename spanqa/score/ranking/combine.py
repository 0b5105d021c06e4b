"""One ranking: the signals of every candidate combined into P(label error), fitted on injected errors.

No signal alone is the best judge: the IOB2 path probability sees boundaries, the per-word
marginals see a confused label, the corpus sees inconsistency the model learned to repeat.
:func:`fit_ranking` fits a logistic regression (scikit-learn, L2, standardised features)
whose target is *this candidate overlaps an error injected into a copy of the corpus*
(:mod:`spanqa.corpus.injection`; the copy is judged with the same out-of-fold marginals).
Its parameters are fitted per corpus, on the corpus under audit, and never on any correction
of it; real label errors remain in the copy as unknown negatives.

:class:`RankingModel` maps a candidate's signals to ``p_error``; its
:meth:`~RankingModel.contributions` (coefficient x standardised value, per feature) say which
signal pushed a candidate up or down, and go into the finding's evidence.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(400, 2)); y = x[:, 0] + 0.1 * rng.normal(size=400) > 1
>>> m = RankingModel.fit(x, y, ("a", "b"))
>>> bool(m.p_error(np.array([[2.0, 0.0]]))[0] > 0.5 > m.p_error(np.array([[-2.0, 0.0]]))[0])
True
>>> max(m.contributions(np.array([2.0, 0.0])).items(), key=lambda kv: abs(kv[1]))[0]
'a'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

#: L2 strength of the logistic regression (scikit-learn's ``C``; the default)
C = 1.0


@dataclass(frozen=True)
class RankingModel:
    """A fitted logistic ranking over named features (JSON round trip with :meth:`to_dict` / :meth:`from_dict`)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, features: Sequence[str], *, c: float = C,
            meta: Mapping[str, Any] | None = None) -> "RankingModel":
        """Fit on ``x`` ``(n, len(features))`` and bool targets ``y`` (both classes needed)."""
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=bool)
        if y.all() or not y.any():
            raise ValueError("the ranking needs both injected errors and clean candidates to fit")
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0
        lr = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
        return cls(tuple(features), mean, scale, lr.coef_[0].copy(), float(lr.intercept_[0]), dict(meta or {}))

    def logit(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept

    def p_error(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` probability that each row's candidate holds a label error (as injected errors look)."""
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def contributions(self, row: np.ndarray) -> dict[str, float]:
        """Per feature: coefficient x standardised value (its push on the logit; the intercept is left out)."""
        z = (np.asarray(row, dtype=np.float64) - self.mean) / self.scale * self.coef
        return {name: round(float(v), 4) for name, v in zip(self.features, z)}

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept, "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RankingModel":
        return cls(tuple(d["features"]), np.asarray(d["mean"]), np.asarray(d["scale"]), np.asarray(d["coef"]),
                   float(d["intercept"]), dict(d.get("meta") or {}))


__all__ = ["C", "RankingModel"]
