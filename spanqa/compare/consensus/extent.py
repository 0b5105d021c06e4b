"""Exact-extent consensus: every distinct ``(start, end)`` an annotator labelled is a candidate the crowd votes on.

Each annotator who saw a document votes on each of its candidates: the label they gave that exact extent, or
``O`` when they gave it none (a different boundary is a vote for ``O`` here and for its own extent there, so
boundary disagreements compete as extents - which is why :mod:`spanqa.compare.consensus.words` is the default).

- ``"vote"``: keep a candidate when more than half of the annotators who saw the document gave it the same label;
- ``"dawid-skene"``: Dawid & Skene (1979) over the candidates (:func:`spanqa.compare.consensus.em.fit`), keep a
  candidate when its posterior of some label beats ``O``.

Overlapping kept candidates are resolved most probable first (a flat consensus); a kept span's ``score`` is its
posterior (the vote: its share of votes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spanqa.compare.consensus.crowd import Crowd
from spanqa.compare.consensus.em import Fit, fit, vote_counts, vote_matrix
from spanqa.core.span import Span

METHODS = ("dawid-skene", "vote")


def candidates(crowd: Crowd, labels: list[str]) -> tuple[list[tuple[str, int, int]], np.ndarray, np.ndarray,
                                                         np.ndarray, np.ndarray]:
    """Candidates ``(doc_id, start, end)``, the vote triples (candidate, annotator, class; class 0 = ``O``) and,
    per candidate, how many annotators saw its document."""
    index = {lab: i + 1 for i, lab in enumerate(labels)}
    cands: list[tuple[str, int, int]] = []
    items: list[int] = []
    anns: list[int] = []
    said: list[int] = []
    voters: list[int] = []
    for d in crowd.documents:
        saw = [j for j, per in enumerate(crowd.spans) if d.id in per]
        given = [{(s.start, s.end): s.label for s in crowd.spans[j][d.id]} for j in saw]
        extents = sorted({e for g in given for e in g})
        base = len(cands)
        cands.extend((d.id, a, b) for a, b in extents)
        voters.extend([len(saw)] * len(extents))
        for j, g in zip(saw, given):
            items.extend(range(base, base + len(extents)))
            anns.extend([j] * len(extents))
            said.extend(index[g[e]] if e in g else 0 for e in extents)

    def as_int(x):
        return np.asarray(x, np.int64)

    return cands, as_int(items), as_int(anns), as_int(said), as_int(voters)


def extent_consensus(crowd: Crowd, method: str, *, prior: float, diag: float, iterations: int = 50
                     ) -> tuple[dict[str, list[Span]], Fit | None, Any, list[str]]:
    """Kept spans per document id, the fit (None for the vote), the vote matrix and the classes ``[O, labels...]``."""
    labels = crowd.labels
    classes = ["O"] + labels
    k = len(classes)
    cands, items, anns, said, voters = candidates(crowd, labels)
    S = vote_matrix(items, anns, said, len(cands), len(crowd.names), k)
    f = None
    if method == "vote":
        counts = vote_counts(S, k)
        post = np.zeros((len(cands), k))
        post[:, 0] = 1.0
        if k > 1 and len(cands):
            best = counts[:, 1:].argmax(axis=1) + 1
            top = counts[np.arange(len(cands)), best]
            win = top * 2 > voters
            post[win, 0] = 0.0
            post[np.flatnonzero(win), best[win]] = top[win] / voters[win]
    elif method == "dawid-skene":
        f = fit(S, k, prior=prior, diag=diag, iterations=iterations)
        post = f.post
    else:
        raise ValueError(f"unknown extent method {method!r}; use one of {METHODS}")
    best = post.argmax(axis=1) if len(cands) else np.zeros(0, np.int64)
    by_doc: dict[str, list[tuple[float, int, int, str]]] = {}
    for (doc_id, a, b), kk, p in zip(cands, best.tolist(), post):
        if kk != 0:
            by_doc.setdefault(doc_id, []).append((float(p[kk]), a, b, classes[kk]))
    out: dict[str, list[Span]] = {}
    for doc_id, got in by_doc.items():
        kept: list[Span] = []
        for p, a, b, lab in sorted(got, key=lambda x: (-x[0], x[1], x[2])):
            if all(b <= s.start or s.end <= a for s in kept):
                kept.append(Span(doc_id, a, b, lab, score=round(p, 6)))
        out[doc_id] = kept
    return out, f, S, classes


__all__ = ["METHODS", "candidates", "extent_consensus"]
