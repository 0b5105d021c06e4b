"""Several annotations of the same documents -> one :class:`Crowd`: every annotator's spans on one reference text.

Who saw what is kept apart from what they found: a document an annotator's corpus does not hold, or
holds unannotated (``spans=None``), is one they **never saw** and they cast no vote on it; a document
they hold with no spans is one they **annotated and found nothing in** - a vote for ``O`` on every word.

Annotators' texts of one document may differ (crowd workers re-tokenise: "Iraqi" vs "Iraq i"; exports
add stray characters: "YORK/LOC"). The **reference text** of a document is the text most of its
annotators hold (ties: the first annotator's). Other texts are aligned onto it by characters:

- whitespace only: the non-space characters correspond one to one (silent, counted in ``aligned``);
- beyond whitespace: the non-space characters are aligned by :class:`difflib.SequenceMatcher` and a
  ``W306`` warning names the annotator, the document and the first differing offset; a span is
  mapped onto the reference characters its own characters align to (its hull), and a span that does not
  align - fewer than half of its characters, or scattered ones - is reported as ``W307``, never dropped
  silently.

>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.span import Span
>>> a = Corpus.from_docs([Document("d", "in Iraqi hands", (Span("d", 3, 8, "MISC"),))])
>>> b = Corpus.from_docs([Document("d", "in Iraq i hands", (Span("d", 3, 7, "LOC"),))])
>>> c = gather([a, b], ["a", "b"])
>>> [s.key for s in c.spans[1]["d"]], c.aligned
([(3, 7, 'LOC')], {'equal': 1, 'whitespace': 1, 'text': 0})
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, fail
from spanqa.core.span import Span


@dataclass
class Crowd:
    """``documents``: one reference document per id (text, tokens, sentences; no spans), in order of first
    appearance; ``spans[j][doc_id]``: annotator ``j``'s spans in reference coordinates, for the documents they
    saw only (an empty tuple = annotated, nothing found); ``problems``: W306/W307; ``aligned``: how many
    (annotator, document) texts were equal, equal up to whitespace, or aligned by characters."""

    documents: list[Document]
    names: list[str]
    spans: list[dict[str, tuple[Span, ...]]]
    problems: list[Problem] = field(default_factory=list)
    aligned: dict[str, int] = field(default_factory=lambda: {"equal": 0, "whitespace": 0, "text": 0})
    format: str | None = None

    @property
    def labels(self) -> list[str]:
        return sorted({s.label for per in self.spans for ss in per.values() for s in ss})

    def annotated(self) -> set[str]:
        """Ids of the documents at least one annotator annotated."""
        return {d for per in self.spans for d in per}


def default_names(n: int) -> list[str]:
    return [f"annotator {i + 1}" for i in range(n)]


class CharMap:
    """Offsets of an ``other`` text -> offsets of a ``reference`` text, through their non-space characters
    (one to one when the texts differ only in whitespace, else aligned by :class:`difflib.SequenceMatcher`)."""

    def __init__(self, reference: str, other: str) -> None:
        self.ref_pos = np.fromiter((i for i, ch in enumerate(reference) if not ch.isspace()), np.int64)
        self.oth_pos = np.fromiter((i for i, ch in enumerate(other) if not ch.isspace()), np.int64)
        ref_ns = "".join(reference[i] for i in self.ref_pos)
        oth_ns = "".join(other[i] for i in self.oth_pos)
        self.to_ref = np.full(len(oth_ns), -1, np.int64)
        self.first_difference: tuple[int, int] | None = None
        if ref_ns == oth_ns:
            self.to_ref[:] = np.arange(len(oth_ns))
            return
        blocks = difflib.SequenceMatcher(None, oth_ns, ref_ns, autojunk=False).get_matching_blocks()
        for a, b, size in blocks:
            self.to_ref[a:a + size] = np.arange(b, b + size)
        k = next((i for i, (x, y) in enumerate(zip(oth_ns, ref_ns)) if x != y), min(len(oth_ns), len(ref_ns)))
        self.first_difference = (int(self.ref_pos[k]) if k < len(self.ref_pos) else len(reference),
                                 int(self.oth_pos[k]) if k < len(self.oth_pos) else len(other))

    def map(self, span: Span, doc_id: str) -> Span | None:
        """The hull of the reference characters ``span``'s non-space characters align to; None when fewer than half
        of its characters align, or they are scattered over a stretch more than twice as long (not the same words)."""
        k0, k1 = np.searchsorted(self.oth_pos, [span.start, span.end])
        hit = self.to_ref[k0:k1]
        hit = hit[hit >= 0]
        if not len(hit) or 2 * len(hit) < k1 - k0 or 2 * len(hit) < hit.max() - hit.min() + 1:
            return None
        return Span(doc_id, int(self.ref_pos[hit.min()]), int(self.ref_pos[hit.max()]) + 1, span.label)


def gather(corpora: Sequence[Corpus], names: Sequence[str] | None = None) -> Crowd:
    """The annotators' spans on one reference text per document (module docstring); ``E303`` for fewer than two."""
    if len(corpora) < 2:
        raise fail("E303", f"consensus needs two or more annotations, got {len(corpora)}")
    names = list(names or default_names(len(corpora)))
    held: dict[str, list[tuple[int, Document]]] = {}
    for j, c in enumerate(corpora):
        for d in c.documents:
            held.setdefault(d.id, []).append((j, d))
    crowd = Crowd([], names, [{} for _ in corpora], format=corpora[0].format)
    for doc_id, copies in held.items():
        texts = Counter(d.text for _, d in copies)
        top = max(texts.values())
        ref = next(d for _, d in copies if texts[d.text] == top)
        crowd.documents.append(Document(doc_id, ref.text, None, tokens=ref.tokens, sentences=ref.sentences,
                                        source=ref.source))
        for j, d in copies:
            if d.spans is None:
                continue  # never annotated: no vote
            if d.text == ref.text:
                crowd.aligned["equal"] += 1
                crowd.spans[j][doc_id] = tuple(d.spans)
                continue
            cm = CharMap(ref.text, d.text)
            if cm.first_difference is None:
                crowd.aligned["whitespace"] += 1
            else:
                crowd.aligned["text"] += 1
                pr, po = cm.first_difference
                crowd.problems.append(Problem("W306", Location(path=d.source, doc_id=doc_id, start=pr,
                                                               excerpt=ref.text[max(0, pr - 20):pr + 20]),
                                              f"{names[j]}'s text differs from the reference text beyond whitespace "
                                              f"at reference char {pr} / their char {po}: "
                                              f"{d.text[max(0, po - 20):po + 20]!r}; spans mapped by characters"))
            mapped = []
            for s in d.spans:
                m = cm.map(s, doc_id)
                if m is None:
                    crowd.problems.append(Problem("W307", Location(path=d.source, doc_id=doc_id, start=s.start,
                                                                   end=s.end, excerpt=s.text_in(d.text)),
                                                  f"{names[j]}'s {s.label} span does not align with the reference "
                                                  f"text; it is left out of the consensus"))
                else:
                    mapped.append(m)
            crowd.spans[j][doc_id] = tuple(sorted(set(mapped), key=lambda s: (s.start, s.end, s.label)))
    return crowd


__all__ = ["CharMap", "Crowd", "default_names", "gather"]
