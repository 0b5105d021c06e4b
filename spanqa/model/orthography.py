"""Orthographic word attributes as hashed ids: what an uncased encoder never sees.

MiniLM-L6 (the default encoder) is uncased: ``Paris``, ``paris`` and ``PARIS`` reach it as
the same wordpieces, and digit shapes and affixes are blurred by wordpiece splits.  Casing
and shape are the strongest surface cues in named-entity tagging, so the fast head adds, per
word, hashed embeddings of a few string attributes (the idea of spaCy's ``MultiHashEmbed``):

=========  ==========================================================  ===============
attribute  value                                                       ``"Paris,"``
=========  ==========================================================  ===============
``norm``   the lower-cased word                                        ``paris,``
``prefix`` its first 3 characters, lower-cased                         ``par``
``suffix`` its last 3 characters, lower-cased                          ``is,``
``shape``  :func:`word_shape`, marked ``^`` on a sentence's first word  ``^Xxxxx,``
=========  ==========================================================  ===============

Each value is hashed (CRC-32 of ``"{seed}|{attribute}|{value}"``, stable across processes and
machines) into ``buckets`` rows, twice with different seeds, so two values rarely collide in
both (a Bloom embedding).  :func:`attribute_ids` returns ``(n_words, len(ATTRS) * HASHES)``
int64 ids; the head (:mod:`spanqa.model.heads`) sums each attribute's two rows and concatenates the
attributes.  The ``norm`` embedding is trained from scratch on the training folds only, so it
is a memory of how the *other* notes label a string - never of the held-out note's labels.

>>> word_shape("Paris"), word_shape("1996-08-22"), word_shape("HbA1c"), word_shape("McDonald's")
('Xxxxx', 'dddd-dd-dd', 'XxXdx', "XxXxxxx'x")
>>> ids = attribute_ids(["Paris", "is", "nice"], buckets=1024, sentence_starts=[0])
>>> ids.shape, bool((ids >= 0).all() and (ids < 1024).all())
((3, 8), True)
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

#: the hashed attributes, in column order
ATTRS: tuple[str, ...] = ("norm", "prefix", "suffix", "shape")
#: hash functions per attribute (rows summed in the head)
HASHES = 2
#: a shape keeps at most this many repeats of one character class (``Xxxxxxxx`` -> ``Xxxxx``)
SHAPE_RUN = 4
AFFIX = 3


def word_shape(word: str) -> str:
    """``X`` upper, ``x`` lower, ``d`` digit, anything else itself; runs cut to :data:`SHAPE_RUN`."""
    out: list[str] = []
    last, run = "", 0
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        run = run + 1 if c == last else 1
        last = c
        if run <= SHAPE_RUN:
            out.append(c)
    return "".join(out)


def attribute_values(word: str, *, first: bool = False) -> tuple[str, ...]:
    """The :data:`ATTRS` values of one word (``first``: it begins a sentence)."""
    low = word.lower()
    return (low, low[:AFFIX], low[-AFFIX:], ("^" if first else "") + word_shape(word))


def _hash(seed: int, attr: str, value: str, buckets: int) -> int:
    return zlib.crc32(f"{seed}|{attr}|{value}".encode("utf-8", "surrogatepass")) % buckets


def attribute_ids(words: Sequence[str], *, buckets: int, sentence_starts: Sequence[int] = (0,)) -> np.ndarray:
    """``(n_words, len(ATTRS) * HASHES)`` int64 hashed ids in ``[0, buckets)``; column ``a * HASHES + h``
    is attribute ``ATTRS[a]`` under hash ``h``.  ``sentence_starts``: word indices that begin a sentence."""
    firsts = set(int(i) for i in sentence_starts)
    out = np.zeros((len(words), len(ATTRS) * HASHES), dtype=np.int64)
    cache: dict[tuple[str, bool], list[int]] = {}
    for i, w in enumerate(words):
        key = (w, i in firsts)
        row = cache.get(key)
        if row is None:
            vals = attribute_values(w, first=key[1])
            row = [_hash(h, attr, v, buckets) for attr, v in zip(ATTRS, vals) for h in range(HASHES)]
            cache[key] = row
        out[i] = row
    return out


__all__ = ["ATTRS", "HASHES", "attribute_ids", "attribute_values", "word_shape"]
