"""A phrase memory of the training folds: how the *other* documents label a string, as word features.

Biomedical and clinical names repeat across notes ("Duchenne muscular dystrophy", "MTX"),
and an uncased sentence encoder that has never seen them gives the head little to go on.
The phrase memory is a gazetteer built, per fold, from the training folds' own labels:

- a **form** is the lower-cased word sequence of a labelled span (at most
  :data:`MAX_FORM_WORDS` words);
- its **counts** are, over the training documents, how often each occurrence of the form is
  labelled with each label, or left unlabelled (an occurrence touching another span is not
  counted, as in :mod:`spanqa.score.ranking.consistency`);
- **features** of a word (:meth:`PhraseMemory.features`): per label, the largest share of that
  label among the forms that *start* at the word, and among the forms that *continue* over it -
  ``2 * n_labels`` numbers in ``[0, 1]``.

No held-out label ever reaches a feature.  A form counts for a fold only when its training
documents label it at least once, so forms labelled only in held-out documents are invisible;
matches are found in the text alone (no gold span decides where a form occurs); and a training
document's own features leave that document's occurrences out (leave-one-document-out), so the
head learns to trust the memory exactly as much as it deserves on unseen notes.

:class:`FormTable` does the fold-independent work once per corpus (every occurrence of every
form, with its reading in its own document); :meth:`FormTable.memory` sums a fold's training
documents in a few numpy operations.

>>> table = FormTable.build([["Aspirin", "helps"], ["aspirin", "and", "ibuprofen"], ["take", "aspirin"]],
...                         [[(0, 1, "Drug")], [(0, 1, "Drug"), (2, 3, "Drug")], []], labels=["Drug"])
>>> mem = table.memory(train=[0, 1])
>>> mem.features(2, 2).round(2).tolist()       # held out: "aspirin" is labelled Drug in 2 of 2 training occurrences
[[0.0, 0.0], [1.0, 0.0]]
>>> mem.features(0, 2)[0].round(2).tolist()       # leave-one-out: doc 1 alone still labels it
[1.0, 0.0]
>>> mem.features(1, 3)[2].round(2).tolist()       # "ibuprofen" is labelled in doc 1 only: invisible to doc 1
[0.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

#: forms longer than this many words are not remembered
MAX_FORM_WORDS = 8
WordSpan = tuple[int, int, str]


@dataclass
class FormTable:
    """Every form of a corpus, every match of it in every document, and each document's readings of it.

    ``matches[d]``: ``(n, 3)`` int64 rows ``(first word, n words, form id)`` found in the text of document
    ``d``; ``readings[d]``: ``(m, 2)`` rows ``(form id, reading)`` with reading ``0..L-1`` a label and ``L``
    unlabelled, from ``d``'s own labels (used only while ``d`` is a training document).
    """

    labels: tuple[str, ...]
    forms: list[tuple[str, ...]]
    matches: list[np.ndarray]
    readings: list[np.ndarray]

    @classmethod
    def build(cls, tokens: Sequence[Sequence[str]], spans: Sequence[Sequence[WordSpan] | None], *,
              labels: Sequence[str]) -> "FormTable":
        """``tokens[d]``: the words of document ``d``; ``spans[d]``: its labelled word spans ``(a, b, label)``
        (``None`` when not annotated)."""
        lab_id = {lab: i for i, lab in enumerate(labels)}
        low = [[t.lower() for t in toks] for toks in tokens]
        form_id: dict[tuple[str, ...], int] = {}
        for toks, sp in zip(low, spans):
            for a, b, _ in sp or ():
                if 0 < b - a <= MAX_FORM_WORDS:
                    form_id.setdefault(tuple(toks[a:b]), len(form_id))
        max_len = max((len(f) for f in form_id), default=0)
        firsts = {f[0] for f in form_id}
        matches, readings = [], []
        for toks, sp in zip(low, spans):
            found = []
            for i, tok in enumerate(toks):
                if tok not in firsts:
                    continue
                for n in range(1, min(max_len, len(toks) - i) + 1):
                    f = form_id.get(tuple(toks[i:i + n]))
                    if f is not None:
                        found.append((i, n, f))
            m = np.asarray(found, dtype=np.int64).reshape(-1, 3)
            matches.append(m)
            if sp is None:
                readings.append(np.zeros((0, 2), dtype=np.int64))
                continue
            gold = {(a, b): lab_id[lab] for a, b, lab in sp if lab in lab_id}
            cover = np.zeros(len(toks) + 1, dtype=np.int64)
            for a, b, _ in sp:
                cover[a + 1:b + 1] += 1
            covered = np.cumsum(cover > 0)       # words inside some span, as a prefix count
            rows = []
            for i, n, f in found:
                if (i, i + n) in gold:
                    rows.append((f, gold[(i, i + n)]))
                elif covered[i + n] == covered[i]:
                    rows.append((f, len(labels)))
            readings.append(np.asarray(rows, dtype=np.int64).reshape(-1, 2))
        return cls(tuple(labels), list(form_id), matches, readings)

    def memory(self, train: Sequence[int]) -> "PhraseMemory":
        """The phrase memory of the documents ``train`` (indices into the table's documents)."""
        width = len(self.labels) + 1
        counts = np.zeros((len(self.forms), width), dtype=np.float64)
        for d in train:
            r = self.readings[d]
            if len(r):
                np.add.at(counts, (r[:, 0], r[:, 1]), 1.0)
        return PhraseMemory(self, counts, set(int(d) for d in train))


@dataclass
class PhraseMemory:
    """One fold's counts over a :class:`FormTable`; :meth:`features` per document."""

    table: FormTable
    counts: np.ndarray
    train: set[int]

    @property
    def width(self) -> int:
        return 2 * len(self.table.labels)

    def features(self, d: int, n_words: int, *, own: bool | None = None) -> np.ndarray:
        """``(n_words, 2 * n_labels)`` float32 for document ``d``: per label, the best share among the forms starting
        at the word, then among the forms continuing over it.  ``own`` (default: ``d`` is a training document of
        this memory) leaves ``d``'s own occurrences out of the counts."""
        own = d in self.train if own is None else own
        L = len(self.table.labels)
        out = np.zeros((n_words, 2 * L), dtype=np.float32)
        m = self.table.matches[d]
        if not len(m):
            return out
        c = self.counts[m[:, 2]]
        r = self.table.readings[d]
        if own and len(r):
            mine = np.zeros((len(self.table.forms), L + 1))
            np.add.at(mine, (r[:, 0], r[:, 1]), 1.0)
            c = c - mine[m[:, 2]]
        keep = c[:, :L].sum(axis=1) > 0
        if not keep.any():
            return out
        m, c = m[keep], c[keep]
        share = (c[:, :L] / c.sum(axis=1, keepdims=True)).astype(np.float32)
        np.maximum.at(out[:, :L], m[:, 0], share)
        inner = out[:, L:]
        for (i, n, _), s in zip(m, share):
            if n > 1:
                np.maximum(inner[i + 1:i + n], s, out=inner[i + 1:i + n])
        return out


def word_spans(labels: np.ndarray, tags: Sequence[str]) -> list[WordSpan]:
    """The labelled word spans ``(a, b, label)`` of one IOB2 tag-id sequence (invalid ``I-`` starts a span).

    >>> word_spans(np.array([1, 2, 0, 2, 3]), ["O", "B-X", "I-X", "B-Y"])
    [(0, 2, 'X'), (3, 4, 'X'), (4, 5, 'Y')]
    """
    out: list[WordSpan] = []
    start, cur = None, None
    for i, t in enumerate(list(labels) + [0]):
        tag = tags[int(t)] if i < len(labels) else "O"
        prefix, lab = (tag[:1], tag[2:]) if tag != "O" else ("O", None)
        if start is not None and not (prefix == "I" and lab == cur):
            assert cur is not None  # set with start, from a B-/I- tag's label
            out.append((start, i, cur))
            start, cur = None, None
        if prefix in ("B", "I") and start is None:
            start, cur = i, lab
    return out


def corpus_table(prepared: Sequence[Any], texts: Sequence[str], tags: Sequence[str]) -> FormTable:
    """A :class:`FormTable` of prepared documents (``spanqa.model.kfold.PreparedDoc``: ``enc.words``,
    ``labels``), their texts, and the IOB2 tag inventory."""
    labels = sorted({t[2:] for t in tags if t != "O"})
    tokens = [[text[a:b] for a, b in p.enc.words] for p, text in zip(prepared, texts)]
    spans = [None if p.labels is None else word_spans(p.labels, tags) for p in prepared]
    return FormTable.build(tokens, spans, labels=labels)


__all__ = ["FormTable", "MAX_FORM_WORDS", "PhraseMemory", "corpus_table", "word_spans"]
