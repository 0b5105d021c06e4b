"""How the rest of the corpus labels the same string: surface-form consistency, model-free.

A model trained on inconsistent labels learns the majority reading and reproduces it, so it
cannot see that one note reads ``Chelsea`` as LOC where thirty read it as ORG - the corpus can.
:class:`SurfaceIndex` collects every **form** (the exact word strings, case kept) that some
labelled span covers, and every occurrence of those forms in the annotated corpus with its
**reading**:

- the label of a labelled span with exactly those words, or
- ``"O"`` when no labelled span touches the occurrence's words;
- occurrences inside or across other spans are not readings (``Paris`` inside ``Paris
  Saint-Germain`` says nothing about ``Paris`` alone).

:meth:`SurfaceIndex.agreement` gives, for one occurrence, the share of the *other* occurrences
(leave-one-out) that read it the same way, and how many there are.  Numbers only; findings of
kind ``inconsistent`` are built in :mod:`spanqa.score.findings`.

>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.span import Span
>>> docs = [Document(f"d{i}", "Chelsea won .", (Span(f"d{i}", 0, 7, "ORG"),)) for i in range(3)]
>>> docs.append(Document("d3", "Chelsea won .", (Span("d3", 0, 7, "LOC"),)))
>>> docs.append(Document("d4", "Chelsea won .", ()))
>>> ix = SurfaceIndex(Corpus.from_docs(docs), {d.id: [(0, 7), (8, 11), (12, 13)] for d in docs})
>>> ix.agreement("d3", 0, 1, "LOC"), ix.agreement("d0", 0, 1, "ORG")
((0.0, 4), (0.5, 4))
>>> ix.readings(("Chelsea",)).most_common()
[('ORG', 3), ('LOC', 1), ('O', 1)]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np

from spanqa.core.document import Corpus

Range = tuple[int, int]
Form = tuple[str, ...]
#: forms longer than this many words are not indexed (long spans rarely repeat)
MAX_FORM_WORDS = 8
#: a parenthetical of at most this many words after a string is skipped when reading its context
PAREN_WORDS = 3


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an indexed form: document, word range ``[a, b)``, character range, reading."""

    doc_id: str
    a: int
    b: int
    start: int
    end: int
    reading: str


class SurfaceIndex:
    """Every occurrence of every labelled form in the annotated documents of ``corpus``.

    ``words``: per document, its word ranges (the marginals' words); documents without
    words or annotation are skipped.  Spans whose edges are not word edges, and
    discontinuous spans, give no form.
    """

    def __init__(self, corpus: Corpus, words: Mapping[str, Sequence[Range]]) -> None:
        docs = [d for d in corpus.documents if d.spans is not None and d.id in words]
        gold: dict[str, dict[Range, str]] = {}
        forms: set[Form] = set()
        max_len = 0
        tokens: dict[str, list[str]] = {}
        for d in docs:
            ws = list(words[d.id])
            tokens[d.id] = [d.text[x:y] for x, y in ws]
            starts = {a: i for i, (a, _) in enumerate(ws)}
            ends = {b: i + 1 for i, (_, b) in enumerate(ws)}
            g: dict[Range, str] = {}
            for s in d.spans or ():
                a, b = starts.get(s.start), ends.get(s.end)
                if s.is_discontinuous or a is None or b is None or not a < b or b - a > MAX_FORM_WORDS:
                    continue
                g.setdefault((a, b), s.label)
                forms.add(tuple(tokens[d.id][a:b]))
                max_len = max(max_len, b - a)
            gold[d.id] = g
        self._tokens = tokens
        self._occ: dict[Form, list[Occurrence]] = defaultdict(list)
        self._at: dict[tuple[str, int, int], tuple[Form, str]] = {}
        self._by_doc: dict[str, list[Range]] = defaultdict(list)
        firsts = {f[0] for f in forms}
        for d in docs:
            ws = list(words[d.id])
            toks = tokens[d.id]
            cover = np.zeros(len(ws), dtype=bool)
            for lo, hi in gold[d.id]:
                cover[lo:hi] = True
            covered = np.concatenate([[0], np.cumsum(cover)])
            g = gold[d.id]
            for i, tok in enumerate(toks):
                if tok not in firsts:
                    continue
                for n in range(1, min(max_len, len(toks) - i) + 1):
                    form = tuple(toks[i:i + n])
                    if form not in forms:
                        continue
                    if (i, i + n) in g:
                        reading = g[(i, i + n)]
                    elif covered[i + n] == covered[i]:
                        reading = "O"
                    else:
                        continue
                    occ = Occurrence(d.id, i, i + n, ws[i][0], ws[i + n - 1][1], reading)
                    self._occ[form].append(occ)
                    self._at[(d.id, i, i + n)] = (form, reading)
                    self._by_doc[d.id].append((i, i + n))
        self._counts: dict[Form, Counter] = {f: Counter(o.reading for o in occ) for f, occ in self._occ.items()}
        self._context: dict[tuple[Form, str], Counter] = defaultdict(Counter)
        for form, occs in self._occ.items():
            for o in occs:
                self._context[(form, self.next_word(o.doc_id, o.b))][o.reading] += 1

    def next_word(self, doc_id: str, b: int) -> str:
        """The lower-cased word after word ``b - 1``, skipping one parenthetical of up to
        :data:`PAREN_WORDS` words (``myotonic dystrophy (DM) locus`` -> ``locus``); ``""`` at the end."""
        toks = self._tokens.get(doc_id, [])
        i = b
        if i < len(toks) and toks[i] == "(":
            close = next((j for j in range(i + 1, min(len(toks), i + PAREN_WORDS + 2)) if toks[j] == ")"), None)
            if close is not None:
                i = close + 1
        while i < len(toks) and not any(ch.isalnum() for ch in toks[i]):
            if toks[i] in (".", ";", ":", "!", "?"):
                return ""
            i += 1
        return toks[i].lower() if i < len(toks) else ""

    def context_readings(self, doc_id: str, a: int, b: int, form: Form | None = None) -> dict[str, int]:
        """Reading -> count over the OTHER occurrences of the form at words ``[a, b)`` (or ``form``) that are followed
        by the same word (:meth:`next_word`): how the corpus reads the string *in this context*."""
        hit = self._at.get((doc_id, a, b))
        form = hit[0] if hit is not None else form
        if form is None:
            return {}
        counts = Counter(self._context.get((form, self.next_word(doc_id, b)), {}))
        if hit is not None:
            counts[hit[1]] -= 1
        return {k: v for k, v in sorted(counts.items()) if v > 0}

    def __len__(self) -> int:
        return len(self._occ)

    def forms(self) -> Iterator[Form]:
        return iter(self._occ)

    def occurrences(self, form: Form) -> list[Occurrence]:
        return list(self._occ.get(form, ()))

    def occurrences_in(self, doc_id: str) -> list[tuple[tuple[str, int, int], tuple[Form, str]]]:
        """``((doc_id, a, b), (form, reading))`` for every occurrence in one document, in word order."""
        return [((doc_id, a, b), self._at[(doc_id, a, b)]) for a, b in self._by_doc.get(doc_id, ())]

    def readings(self, form: Form) -> Counter:
        """Reading -> number of occurrences of ``form`` (empty when it is not indexed)."""
        return Counter(self._counts.get(form, {}))

    def form_at(self, doc_id: str, a: int, b: int) -> Form | None:
        """The indexed form occurring exactly at words ``[a, b)`` of ``doc_id`` (None if none)."""
        hit = self._at.get((doc_id, a, b))
        return None if hit is None else hit[0]

    def other_readings(self, doc_id: str, a: int, b: int) -> dict[str, int]:
        """Reading -> count over the OTHER occurrences of the form at words ``[a, b)`` (empty if none)."""
        hit = self._at.get((doc_id, a, b))
        if hit is None:
            return {}
        counts = Counter(self._counts[hit[0]])
        counts[hit[1]] -= 1
        return {k: v for k, v in sorted(counts.items()) if v > 0}

    def agreement(self, doc_id: str, a: int, b: int, reading: str) -> tuple[float, int]:
        """``(share, n_other)``: of the OTHER occurrences of the form at words ``[a, b)``, the share that read it
        as ``reading``, and how many other occurrences there are (``(0.5, 0)`` when there are none or the
        words hold no indexed form)."""
        hit = self._at.get((doc_id, a, b))
        if hit is None:
            return 0.5, 0
        form, own = hit
        counts = self._counts[form]
        total = sum(counts.values()) - 1          # leave this occurrence (read as `own`) out
        if total <= 0:
            return 0.5, 0
        return (counts.get(reading, 0) - (reading == own)) / total, total


__all__ = ["MAX_FORM_WORDS", "Occurrence", "SurfaceIndex"]
