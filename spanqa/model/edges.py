"""Where a predicted span may start and end: never inside a word, at a hyphen only where the corpus does it.

The tagger's words are finer than words: spaCy splits ``Saethre-Chotzen`` into ``Saethre | - |
Chotzen`` and a span edge inside a word splits it further (``W203``).  A decoder free to end a span
at any of those seams proposes fixes no annotator would accept: ``'Saethre-'`` + ``'Chotzen
syndrome'``, ``'breast/'`` + ``'ovarian cancer'``, ``copper overload disease non`` (before
``-Wilsonian``).  :func:`word_boundaries` classifies the seam before every word:

=================  ==========================================================================
``FREE``           whitespace or ordinary punctuation between the words: any edge
``ATOMIC``         inside a word (a letter on both sides, no space): no edge at all - the two
                   words are one entity or both outside
``BEFORE_JOINER``  before a hyphen or slash that joins two alphanumeric words: a span may end
                   here (``azithromycin|-induced``) but the joiner never starts one
``AFTER_JOINER``   after such a joiner: a span may start here (``anti-|TNF``) but never end
                   with the joiner
=================  ==========================================================================

Whether a span may end or start at a joiner at all is the **corpus's convention**
(:func:`joiner_edges_allowed`): chemical and drug corpora label ``X`` in ``X-induced`` (BC5CDR: 9% of
spans have an edge at a joiner), disease corpora rarely do (NCBI: 0.9%).  Below
:data:`JOINER_EDGE_SHARE` of the labelled spans both seams of a joiner are ``ATOMIC``.
:func:`spanqa.model.predictions.decode` obeys the seams; the marginals and every probability are
untouched, only the decoded spans (the model's suggestions) are constrained.

>>> text = "Saethre-Chotzen syndrome and breast/ovarian cancer"
>>> words = [(0, 7), (7, 8), (8, 15), (16, 24), (25, 28), (29, 35), (35, 36), (36, 43), (44, 50)]
>>> word_boundaries(text, words, joiner_edges=False).tolist()
[0, 1, 1, 0, 0, 0, 1, 1, 0]
>>> word_boundaries(text, words, joiner_edges=True).tolist()
[0, 2, 3, 0, 0, 0, 2, 3, 0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    from spanqa.core.document import Document

FREE, ATOMIC, BEFORE_JOINER, AFTER_JOINER = 0, 1, 2, 3
#: characters that join two words into one compound
JOINERS = frozenset("-/\u2010\u2011\u2013")
#: a corpus whose labels put at least this share of span edges at joiners allows joiner edges
JOINER_EDGE_SHARE = 0.01
Range = tuple[int, int]


def _is_joiner(text: str, a: int, b: int) -> bool:
    """The word ``[a, b)`` is one joiner character glued to alphanumerics on both sides."""
    return (b - a == 1 and text[a] in JOINERS and a > 0 and b < len(text) and text[a - 1].isalnum()
            and text[b].isalnum())


def word_boundaries(text: str, words: Sequence[Range], *, joiner_edges: bool) -> np.ndarray:
    """``(n_words,)`` int8: the seam before each word (module docstring; the first word's is ``FREE``)."""
    out = np.zeros(len(words), dtype=np.int8)
    for t in range(1, len(words)):
        pa, pb = words[t - 1]
        a, b = words[t]
        if pb != a:                                   # whitespace (or anything else) between them
            continue
        if _is_joiner(text, a, b):
            out[t] = BEFORE_JOINER if joiner_edges else ATOMIC
        elif _is_joiner(text, pa, pb):
            out[t] = AFTER_JOINER if joiner_edges else ATOMIC
        elif text[a - 1].isalpha() and text[a].isalpha():
            out[t] = ATOMIC
    return out


def joiner_edge_count(text: str, starts: Iterable[int], ends: Iterable[int]) -> int:
    """How many of the given span edges sit at a joiner: just before one (an end) or just after one (a start)."""
    n = 0
    for e in ends:
        n += e < len(text) and _is_joiner(text, e, e + 1)
    for s in starts:
        n += s > 0 and _is_joiner(text, s - 1, s)
    return int(n)


def joiner_edges_allowed(docs: Iterable[Document]) -> tuple[bool, dict[str, float]]:
    """The corpus's convention: do its labels put span edges at joiners (``azithromycin|-induced``)?

    ``docs``: documents with ``text`` and ``spans``.  Returns the decision and its evidence
    (``spans``, ``joiner_edges``, ``share``)."""
    n_spans = n_edges = 0
    for d in docs:
        spans = list(getattr(d, "spans", None) or ())
        n_spans += len(spans)
        n_edges += joiner_edge_count(d.text, (s.start for s in spans), (s.end for s in spans))
    share = n_edges / n_spans if n_spans else 0.0
    return share >= JOINER_EDGE_SHARE, {"spans": n_spans, "joiner_edges": n_edges, "share": round(share, 4),
                                        "threshold": JOINER_EDGE_SHARE}


def transition_masks(tags: Sequence[str], allowed: np.ndarray) -> dict[int, np.ndarray]:
    """Per seam kind, the ``(n_tags, n_tags)`` bool (previous, current) transitions it keeps of ``allowed``."""
    parts = [(t[:1], t[2:]) if t != "O" else ("O", "") for t in tags]
    k = len(tags)
    cont = np.zeros((k, k), dtype=bool)           # both outside, or the entity goes on
    for i, (pi, li) in enumerate(parts):
        for j, (pj, lj) in enumerate(parts):
            cont[i, j] = (pi == "O" and pj == "O") or (pj == "I" and pi in ("B", "I") and li == lj)
    no_b = np.asarray([p != "B" for p, _ in parts], dtype=bool)[None, :]
    prev_out = np.asarray([p == "O" for p, _ in parts], dtype=bool)[:, None]
    return {FREE: allowed, ATOMIC: allowed & cont, BEFORE_JOINER: allowed & no_b,
            AFTER_JOINER: allowed & (prev_out | cont)}


__all__ = ["AFTER_JOINER", "ATOMIC", "BEFORE_JOINER", "FREE", "JOINERS", "JOINER_EDGE_SHARE", "joiner_edge_count",
           "joiner_edges_allowed", "transition_masks", "word_boundaries"]
