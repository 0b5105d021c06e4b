"""The EM core of every fitted consensus: Dawid-Skene over sparse votes, optionally with a Markov chain of true tags.

Votes are a sparse 0/1 matrix ``S`` of shape ``(annotators * K, items)``: ``S[j * K + l, i] = 1`` when annotator
``j`` said class ``l`` on item ``i`` (an item is a word or a candidate extent). An annotator who never saw an item
has no entry, so a sparse crowd costs what its votes cost, not ``items x annotators``.

- :func:`fit` with ``chain=None``: Dawid & Skene (1979) - a class prior and one confusion matrix per annotator
  ``conf[j, k, l] = P(j says l | truth k)``; items independent.
- :func:`fit` with ``chain=Chains(...)``: the crowd HMM of Nguyen et al. (ACL 2017, "HMM-Crowd"): the true tags
  of a sentence form a Markov chain (a transition matrix and a start distribution are fitted too), each annotator
  emits their tag through their confusion matrix, and E steps are forward-backward.

**Shrinkage.** Every annotator's confusion row is a Dirichlet MAP estimate centred on the pooled crowd's row with
the weight of ``prior`` items, plus ``diag`` pseudo-items on the diagonal (saying the true class), so that EM
cannot explain every vote away as a confusion: an annotator who labelled three sentences sits near the crowd,
one who labelled three hundred is fitted by their own votes. EM starts from the vote shares.

**Context.** With ``contexts = K`` each vote is keyed by what the annotator said on the previous word too
(``conf[j, c, k, l]``, as BSC-seq's annotator model, Simpson & Gurevych 2019): a worker who habitually runs a
span one word too far is recognised by their ``I-`` after their own ``B-`` and not taken at their word there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

EPS = 1e-9


@dataclass
class Chains:
    """Items as sentences: ``starts[s]`` the first item of sentence ``s``, ``lengths[s]`` its length (items of one
    sentence are consecutive); ``allowed[k, k']`` whether tag ``k'`` may follow ``k``, ``first[k]`` whether a
    sentence may start with ``k`` (BIO: no ``I-`` after ``O``, none at a start)."""

    starts: np.ndarray
    lengths: np.ndarray
    allowed: np.ndarray
    first: np.ndarray

    def buckets(self, n: int = 8) -> list[np.ndarray]:
        """Sentence indices in ``n`` groups of similar length (padding stays small)."""
        order = np.argsort(self.lengths, kind="stable")
        order = order[self.lengths[order] > 0]
        return [b for b in np.array_split(order, min(n, max(1, len(order)))) if len(b)]

    def padded(self):
        """Per bucket: ``idx`` (sentences x longest length) of item indices (0 where padded) and ``valid``."""
        for group in self.buckets():
            s0, ln = self.starts[group], self.lengths[group]
            steps = np.arange(int(ln.max()))
            valid = steps[None, :] < ln[:, None]
            yield np.where(valid, s0[:, None] + steps[None, :], 0), valid


@dataclass
class Fit:
    """``post[i, k]``: P(item i is class k); ``conf[j, c, k, l]`` (``c``: the context, see :func:`fit`); for chains also ``trans``/``start`` and, per item,
    the scaled forward ``alpha``, backward ``beta``, scale ``scale`` and emission ``emit`` the span scores use."""

    post: np.ndarray
    conf: np.ndarray
    prior: np.ndarray
    iterations: int
    log_likelihood: float
    trans: np.ndarray | None = None
    start: np.ndarray | None = None
    alpha: np.ndarray | None = None
    beta: np.ndarray | None = None
    scale: np.ndarray | None = None
    emit: np.ndarray | None = None


def vote_matrix(items: np.ndarray, annotators: np.ndarray, classes: np.ndarray, n_items: int, n_annotators: int,
                k: int, context: np.ndarray | None = None, contexts: int = 1) -> sparse.csr_matrix:
    """``S`` from vote triples (item, annotator, class); with ``context`` (what the annotator said on the previous
    word, ``contexts`` values) rows are ``(annotator, context, class)``."""
    data = np.ones(len(items), np.float32)
    rows = annotators.astype(np.int64) * contexts
    if context is not None:
        rows += context
    rows *= k
    rows += classes
    return sparse.csr_matrix((data, (rows, items)), shape=(n_annotators * contexts * k, n_items))


def vote_counts(S: sparse.csr_matrix, k: int) -> np.ndarray:
    """``(items, K)``: how many annotators said each class on each item."""
    fold = sparse.csr_matrix(np.tile(np.eye(k), (S.shape[0] // k, 1)))
    return np.asarray((S.T @ fold).todense())


def _confusions(S: sparse.csr_matrix, post: np.ndarray, k: int, contexts: int, prior: float, diag: float
                ) -> np.ndarray:
    """``conf[j, c, k, l]``: P(annotator j says l | truth k, context c), shrunk toward the pooled crowd; the
    context is what the annotator said on the previous word (``S`` rows ``j * C * K + c * K + l``) or one
    context for all (``C = 1``)."""
    counts = np.asarray(S @ post)  # [(j, c, l), truth]
    counts = counts.reshape(-1, contexts, k, k).transpose(0, 1, 3, 2)  # [j, c, truth, said]
    pooled = counts.sum(axis=0) + EPS
    pooled /= pooled.sum(axis=2, keepdims=True)
    conf = counts + prior * pooled[None] + diag * np.eye(k)[None, None] + EPS
    return conf / conf.sum(axis=3, keepdims=True)


def _log_emissions(S: sparse.csr_matrix, conf: np.ndarray) -> np.ndarray:
    m, c, k, _ = conf.shape
    table = np.log(conf).transpose(0, 1, 3, 2).reshape(m * c * k, k)  # row (j, c, l): log P(j says l | truth)
    return np.asarray(S.T @ table)


def forward_backward(log_emit: np.ndarray, trans: np.ndarray, start: np.ndarray, chains: Chains, *,
                     keep: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, dict]:
    """Posteriors ``gamma`` (items, K), expected transition counts, expected start counts, log-likelihood; with
    ``keep`` also the scaled ``alpha``, ``beta``, ``scale`` and ``emit`` per item (for exact span posteriors)."""
    n, k = log_emit.shape
    gamma = np.zeros((n, k))
    xi = np.zeros((k, k))
    st = np.zeros(k)
    loglik = 0.0
    kept = {"alpha": np.zeros((n, k)), "beta": np.zeros((n, k)), "scale": np.ones(n), "emit": np.zeros((n, k))} \
        if keep else {}
    for idx, valid in chains.padded():
        t_max = idx.shape[1]
        le = log_emit[idx]
        em = np.exp(le - le.max(axis=2, keepdims=True))
        em[~valid] = 1.0
        b = len(idx)
        alpha = np.empty((b, t_max, k))
        c = np.ones((b, t_max))
        a = start[None, :] * em[:, 0]
        c[:, 0] = a.sum(axis=1) + EPS
        alpha[:, 0] = a / c[:, :1]
        for t in range(1, t_max):
            nxt = (alpha[:, t - 1] @ trans) * em[:, t]
            ct = nxt.sum(axis=1) + EPS
            v = valid[:, t]
            alpha[:, t] = np.where(v[:, None], nxt / ct[:, None], alpha[:, t - 1])
            c[:, t] = np.where(v, ct, 1.0)
        beta = np.ones((b, t_max, k))
        for t in range(t_max - 2, -1, -1):
            nb = ((em[:, t + 1] * beta[:, t + 1]) @ trans.T) / c[:, t + 1, None]
            beta[:, t] = np.where(valid[:, t + 1, None], nb, 1.0)
        g = alpha * beta
        g /= g.sum(axis=2, keepdims=True) + EPS
        gamma[idx[valid]] = g[valid]
        if t_max > 1:
            right = em[:, 1:] * beta[:, 1:] / c[:, 1:, None]
            xi += np.einsum("bti,btj->ij", alpha[:, :-1] * valid[:, 1:, None], right) * trans
        st += g[:, 0].sum(axis=0)
        loglik += float((np.log(c) * valid).sum() + (le.max(axis=2) * valid).sum())
        if keep:
            flat = idx[valid]
            kept["alpha"][flat], kept["beta"][flat], kept["scale"][flat] = alpha[valid], beta[valid], c[valid]
            kept["emit"][flat] = em[valid]
    return gamma, xi, st, loglik, kept


def _normalise(x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    x = x + 1e-3 if mask is None else (x + 1e-3) * mask
    return x / (x.sum(axis=-1, keepdims=True) + EPS)


def fit(S: sparse.csr_matrix, k: int, *, chains: Chains | None = None, contexts: int = 1, prior: float, diag: float,
        iterations: int = 50, tol: float = 1e-7, teach: np.ndarray | None = None) -> Fit:
    """Fit by EM from the vote shares (module docstring); ``teach`` (a weight per item) weighs the items the
    confusion matrices are learnt from (every item still gets its posterior and counts in the class prior)."""
    n = S.shape[1]

    def confusions(post: np.ndarray) -> np.ndarray:
        return _confusions(S, post if teach is None else post * teach[:, None], k, contexts, prior, diag)

    post = vote_counts(S, k) + 1e-2
    post /= post.sum(axis=1, keepdims=True)
    trans = start = None
    if chains is not None:
        xi = np.zeros((k, k))
        for s0, ln in zip(chains.starts.tolist(), chains.lengths.tolist()):
            if ln > 1:
                xi += post[s0:s0 + ln - 1].T @ post[s0 + 1:s0 + ln]
        trans = _normalise(xi, chains.allowed)
        start = _normalise(post[chains.starts[chains.lengths > 0]].sum(axis=0), chains.first)
    if not n:  # no items at all: nothing to fit (and, for chains, empty per-item arrays)
        empty = np.zeros((0, k))
        out = Fit(post, confusions(post), np.full(k, 1 / k), 0, 0.0, trans, start)
        if chains is not None:
            out.alpha, out.beta, out.emit, out.scale = empty, empty.copy(), empty.copy(), np.ones(0)
        return out
    last, done, loglik = -np.inf, 0, 0.0
    for done in range(1, iterations + 1):  # noqa: B007 - the count is read after the loop
        conf = confusions(post)
        log_emit = _log_emissions(S, conf)
        if chains is None:
            lp = log_emit + np.log(post.mean(axis=0) + EPS)
            mx = lp.max(axis=1, keepdims=True)
            post = np.exp(lp - mx)
            z = post.sum(axis=1, keepdims=True)
            post /= z
            loglik = float((np.log(z) + mx).sum())
        else:
            post, xi, st, loglik, _ = forward_backward(log_emit, trans, start, chains)
            trans, start = _normalise(xi, chains.allowed), _normalise(st, chains.first)
        if abs(loglik - last) <= tol * max(1.0, abs(loglik)):
            break
        last = loglik
    out = Fit(post, conf, post.mean(axis=0), done, loglik, trans, start)
    if chains is not None:
        log_emit = _log_emissions(S, conf)
        post, _, _, loglik, kept = forward_backward(log_emit, trans, start, chains, keep=True)
        out.post, out.log_likelihood = post, loglik
        out.alpha, out.beta, out.scale, out.emit = kept["alpha"], kept["beta"], kept["scale"], kept["emit"]
    return out


def viterbi(log_score: np.ndarray, log_trans: np.ndarray, log_start: np.ndarray, chains: Chains) -> np.ndarray:
    """The best class path per sentence: ``log_score`` per item and class, ``log_trans``/``log_start`` (``-inf``
    where not allowed). Returns one class per item."""
    n, k = log_score.shape
    best = np.zeros(n, np.int64)
    for idx, valid in chains.padded():
        t_max = idx.shape[1]
        sc = log_score[idx]
        b = len(idx)
        delta = log_start[None, :] + sc[:, 0]
        back = np.zeros((b, t_max, k), np.int64)
        for t in range(1, t_max):
            cand = delta[:, :, None] + log_trans[None]  # [b, from, to]
            arg = cand.argmax(axis=1)
            nd = np.take_along_axis(cand, arg[:, None, :], axis=1)[:, 0] + sc[:, t]
            v = valid[:, t]
            back[:, t] = np.where(v[:, None], arg, np.arange(k)[None, :])
            delta = np.where(v[:, None], nd, delta)
        path = np.zeros((b, t_max), np.int64)
        path[:, -1] = delta.argmax(axis=1)
        for t in range(t_max - 1, 0, -1):
            path[:, t - 1] = back[np.arange(b), t, path[:, t]]
        best[idx[valid]] = path[valid]
    return best


__all__ = ["Chains", "Fit", "fit", "forward_backward", "viterbi", "vote_counts", "vote_matrix"]
