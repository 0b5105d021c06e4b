"""The tag lattice: one note's word marginals as a chain of IOB2-valid tag paths, and exact path probabilities.

How the probability is computed
-------------------------------
The tagger gives, for each word ``i``, a distribution ``p_i(t)`` over the IOB2 tags
(:class:`spanqa.model.predictions.DocMarginals`, rows sum to 1).  :class:`TagLattice` treats these
as the potentials of a linear chain whose only transitions are the IOB2 rules
(``I-X`` only after ``B-X``/``I-X``, never first) and renormalises over the *valid*
tag paths of the whole note::

    P(path) = prod_i p_i(t_i) / Z,     Z = sum over valid paths of prod_i p_i(t_i)

A labelled span ``(a, b, X)`` over words ``a .. b-1`` is exactly right when the path has
``B-X`` on word ``a``, ``I-X`` on words ``a+1 .. b-1`` and *not* ``I-X`` on word ``b``.
Its probability is a sum over every path of the note that does that, computed exactly
by forward-backward in ``O(n_words * n_tags)``::

    quality = alpha_a(B-X) * prod_{a<j<b} p_j(I-X) * R_b / Z

Why this and not the raw product of marginals:

* the raw product ``p_a(B-X) * prod p_j(I-X) * (1 - p_b(I-X))`` ignores that the tagger
  also puts mass on invalid paths (``O I-X``), which decoding can never produce; the
  chain renormalises that mass onto the valid explanations, so the scores of *all*
  explanations of a stretch (this span, another label, other boundaries, no entity)
  are mutually exclusive probabilities that add up to at most 1 - they can be compared
  directly, and ``1 - quality`` is an expected error count (used for the corpus error rate);
* the neighbours matter: a confident ``I-X`` on the word after the span makes the span
  too short, which a product over the span's own words cannot see - the ``R_b`` term does.

The raw product and the weakest word marginal (``p_min``, the upper Fréchet bound of the
path probability when the words' errors are fully correlated) are kept as evidence.  The
chain treats words as independent given the note, which underestimates long spans whose
words are uncertain together; ``spanqa demo`` measures the calibration (ECE) against the
clean annotation.

>>> import numpy as np
>>> tags = ["O", "B-Drug", "I-Drug", "B-Strength", "I-Strength"]
>>> probs = np.array([[.01, .97, .01, .005, .005],     # aspirin
...                   [.02, .02, .02, .92, .02],        # 81
...                   [.02, .02, .02, .02, .92]])       # mg
>>> lat = TagLattice(probs, tags)
>>> round(lat.span_prob(0, 1, "Drug"), 2), round(lat.span_prob(0, 3, "Drug"), 3)
(0.98, 0.0)
>>> round(lat.span_prob(1, 3, "Strength"), 2)
0.93
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from spanqa.corpus.bio import split_tag

#: How many words before/after a span the "other boundaries" alternatives may reach.
BOUNDARY_WINDOW = 3
#: Marginals are clipped here before taking logs (float32 softmax can underflow to 0).
PROB_FLOOR = 1e-12

NEG_INF = -np.inf


class TagLattice:
    """IOB2-constrained forward-backward over one note's word marginals.

    Args:
        probs: ``(n_words, n_tags)`` marginals, rows summing to 1.
        tags: the IOB2 tag inventory, ``["O", "B-A", "I-A", ...]`` (any order).

    All ``*_prob`` methods take word indices ``a < b`` (half-open ``[a, b)``) and
    return a probability in ``[0, 1]`` under the renormalised chain (module docstring).
    """

    def __init__(self, probs: np.ndarray, tags: Sequence[str]) -> None:
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[1] != len(tags):
            raise ValueError(f"marginals of shape {probs.shape} do not fit {len(tags)} tags")
        self.tags = list(tags)
        self._tag_index = {t: j for j, t in enumerate(self.tags)}
        self.n, k = probs.shape
        self.logp = np.log(np.clip(probs, PROB_FLOOR, None))
        self.labels: list[str] = []
        self.b_idx: dict[str, int] = {}
        self.i_idx: dict[str, int] = {}
        self.o_idx: int | None = None
        for j, tag in enumerate(self.tags):
            prefix, label = split_tag(tag)
            if prefix == "O":
                self.o_idx = j
            elif prefix == "B":
                self.b_idx[label] = j  # type: ignore[index]
            elif prefix == "I":
                self.i_idx[label] = j  # type: ignore[index]
            else:
                raise ValueError(f"tag {tag!r} is not IOB2")
        if self.o_idx is None:
            raise ValueError("the tag inventory has no 'O'")
        self.labels = sorted(self.b_idx)
        is_i = np.zeros(k, bool)
        #: for each tag: index of the B- tag of its label (I-X continues after B-X or I-X)
        cont_b = np.arange(k)
        for label, j in self.i_idx.items():
            is_i[j] = True
            cont_b[j] = self.b_idx.get(label, j)
        self._is_i = is_i
        #: tags that may follow anything: O and every B-
        self._free = ~is_i
        #: for each tag t: index of the I- tag that may continue it (or -1)
        cont_i = np.full(k, -1)
        for label, j in self.b_idx.items():
            if label in self.i_idx:
                cont_i[j] = self.i_idx[label]
                cont_i[self.i_idx[label]] = self.i_idx[label]
        self._cont_i = cont_i
        self._forward_backward(cont_b)
        # cumulative sums of log p per tag column: cum[j, t] = sum_{i<j} logp[i, t]
        self._cum = np.vstack([np.zeros((1, k)), np.cumsum(self.logp, axis=0)])

    # -- the chain ----------------------------------------------------------------
    def _forward_backward(self, cont_b: np.ndarray) -> None:
        """Scaled forward-backward (the HMM scaling trick): each step is normalised to sum 1 and
        the log of the normaliser is accumulated, so nothing underflows on long notes."""
        n, k = self.logp.shape
        p = np.exp(self.logp)
        a = np.zeros((n, k))
        bt = np.ones((n, k))
        log_c = np.zeros(n)
        is_i, free = self._is_i, self._free
        has_cont = self._cont_i >= 0
        cont_i = np.maximum(self._cont_i, 0)
        if n:
            row = np.where(is_i, 0.0, p[0])
            c = row.sum()
            a[0], log_c[0] = row / c, np.log(c)
            for i in range(1, n):
                prev = a[i - 1]  # sums to 1
                row = p[i] * np.where(is_i, prev[cont_b] + prev, 1.0)  # I-X after B-X or I-X; O, B-* after anything
                c = row.sum()
                a[i], log_c[i] = row / c, np.log(c)
            for i in range(n - 2, -1, -1):
                g = p[i + 1] * bt[i + 1]
                bt[i] = (g[free].sum() + np.where(has_cont, g[cont_i], 0.0)) / np.exp(log_c[i + 1])
        cum = np.concatenate([[0.0], np.cumsum(log_c)])  # cum[i] = sum_{j<i} log c_j
        with np.errstate(divide="ignore"):
            #: log alpha_i(t) = log P(valid prefix up to word i with t_i = t)
            self._alpha = np.log(a) + cum[1:, None] if n else np.zeros((0, k))
            # A[a] = log sum_t alpha_{a-1}(t) (a >= 1), A[0] = 0: mass of every valid prefix before word a
            self._A = cum
            # R[b] = log sum over t in {O, B-*} of p_b(t) beta_b(t): mass of every valid suffix from
            # word b on that does not continue an entity ending at b-1; R[n] = 0.
            # beta_b(t) = bt[b, t] * prod_{j>b} c_j, so R[b] = log(sum_free p_b bt_b) + (cum[n] - cum[b+1])
            if n:
                r = np.log((p * bt)[:, free].sum(axis=1)) + (cum[n] - cum[1:])
            else:
                r = np.zeros(0)
        self._R = np.concatenate([r, [0.0]])
        self.log_z = float(cum[n])

    def _check(self, a: int, b: int) -> None:
        if not 0 <= a < b <= self.n:
            raise ValueError(f"word range [{a}, {b}) outside 0..{self.n}")

    def log_span(self, a: int, b: int, label: str) -> float:
        """log P(words ``a..b-1`` are exactly one ``label`` entity)."""
        self._check(a, b)
        bi, ii = self.b_idx.get(label), self.i_idx.get(label)
        if bi is None or (b - a > 1 and ii is None):
            return NEG_INF
        inner = (self._cum[b, ii] - self._cum[a + 1, ii]) if b - a > 1 else 0.0
        return float(self._A[a] + self.logp[a, bi] + inner + self._R[b] - self.log_z)

    def span_prob(self, a: int, b: int, label: str) -> float:
        return float(np.exp(self.log_span(a, b, label)))

    def none_prob(self, a: int, b: int) -> float:
        """P(no word of ``a..b-1`` belongs to an entity)."""
        self._check(a, b)
        o = self.o_idx
        lp = self._A[a] + (self._cum[b, o] - self._cum[a, o]) + self._R[b] - self.log_z
        return float(np.exp(lp))

    def label_probs(self, a: int, b: int) -> dict[str, float]:
        """P(words ``a..b-1`` are exactly one entity of label L), for every label L."""
        return {label: self.span_prob(a, b, label) for label in self.labels}

    def path_prob(self, a: int, b: int, path: Sequence[str]) -> float:
        """P(words ``a..b-1`` carry exactly ``path`` and word ``b`` does not continue it).

        ``path`` is a list of IOB2 tags of length ``b - a``; an invalid path has probability 0.
        """
        self._check(a, b)
        if len(path) != b - a:
            raise ValueError(f"path of {len(path)} tags for {b - a} words")
        if any(t not in self._tag_index for t in path):  # a label the tagger never saw
            return 0.0
        idx = [self._tag_index[t] for t in path]
        for i in range(1, len(idx)):
            if self._is_i[idx[i]] and self._cont_i[idx[i - 1]] != idx[i]:
                return 0.0
        first = idx[0]
        if self._is_i[first]:
            if a == 0:
                return 0.0
            prev = self._alpha[a - 1]
            label = split_tag(self.tags[first])[1]
            assert label is not None  # an I- tag has a label
            start = float(np.logaddexp(prev[self.b_idx[label]], prev[first]))
        else:
            start = float(self._A[a])
        body = float(sum(self.logp[a + i, t] for i, t in enumerate(idx)))
        return float(np.exp(start + body + self._R[b] - self.log_z))

    def best_alternative(self, a: int, b: int, label: str, *,
                         window: int = BOUNDARY_WINDOW) -> dict[str, Any]:
        """The most probable explanation of words ``a..b-1`` other than ``(a, b, label)``.

        Candidates: no entity on the words; the same words with another label; every
        span of any label overlapping them with other boundaries, starting at most
        ``window`` words before ``a`` and ending at most ``window`` words after ``b``.
        Returns ``{"kind": "label"|"boundary"|"none", "words": [s, e], "label": str|None, "p": float}``.
        """
        self._check(a, b)
        best: dict[str, Any] = {"kind": "none", "words": [a, b], "label": None, "p": self.none_prob(a, b)}
        if not self.labels:
            return best
        s = np.arange(max(0, a - window), b)
        e = np.arange(a + 1, min(self.n, b + window) + 1)
        ss, ee = np.meshgrid(s, e, indexing="ij")
        ok = ss < ee
        ss, ee = ss[ok], ee[ok]                      # (m,) candidate word ranges, all overlapping [a, b)
        b_cols = np.array([self.b_idx[lab] for lab in self.labels])
        i_cols = np.array([self.i_idx.get(lab, -1) for lab in self.labels])
        multi = (ee - ss > 1)[:, None]
        inner = self._cum[ee][:, np.maximum(i_cols, 0)] - self._cum[np.minimum(ss + 1, self.n)][:, np.maximum(i_cols, 0)]
        inner = np.where(multi, np.where(i_cols[None, :] >= 0, inner, NEG_INF), 0.0)
        lp = (self._A[ss][:, None] + self.logp[ss][:, b_cols] + inner + self._R[ee][:, None] - self.log_z)
        if label in self.b_idx:                       # leave out the span itself
            lp[(ss == a) & (ee == b), self.labels.index(label)] = NEG_INF
        r, c = np.unravel_index(int(np.argmax(lp)), lp.shape)
        p = float(np.exp(lp[r, c]))
        if p > best["p"]:
            same = int(ss[r]) == a and int(ee[r]) == b
            best = {"kind": "label" if same else "boundary", "words": [int(ss[r]), int(ee[r])],
                    "label": self.labels[c], "p": p}
        return best

    def marginal(self, i: int, tag: str) -> float:
        """The tagger's own marginal ``p_i(tag)`` of word ``i`` (before renormalisation)."""
        j = self._tag_index.get(tag)
        return 0.0 if j is None else float(np.exp(self.logp[i, j]))


__all__ = ["BOUNDARY_WINDOW", "PROB_FLOOR", "TagLattice"]
