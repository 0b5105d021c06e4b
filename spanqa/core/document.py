"""Documents and corpora.

A :class:`Document` records *what was annotated*: ``spans is None`` means the
document was never annotated (predictions there are neither right nor wrong),
while ``spans == ()`` means it was annotated and holds no entities.

Pre-tokenised formats (CoNLL) keep their tokenisation in ``tokens`` and their
sentence breaks in ``sentences`` - both half-open character ranges, derived
views that readers fill so that the original segmentation is not lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping, Sequence

from spanqa.core.errors import Problem
from spanqa.core.span import Span

Range = tuple[int, int]


@dataclass(frozen=True)
class Document:
    """One note: its text, its spans and where it came from.

    Attributes:
        id: unique within the corpus (brat file stem, PubTator PMID, ...).
        text: the full text; span offsets index into it.
        spans: ``None`` = not annotated; ``()`` = annotated, no entities.
        group: patient or other grouping id; k-fold splits keep a group together.
        source: path (and line) the document was read from, for messages.
        tokens: the source's own tokenisation as half-open character ranges, if it has one.
        sentences: sentence ranges as half-open character ranges, if known.
        meta: format-specific data preserved for a lossless round trip
            (brat relation lines, CoNLL extra columns, Label Studio task data ...).
    """

    id: str
    text: str
    spans: tuple[Span, ...] | None = ()
    group: str | None = None
    source: str | None = field(default=None, compare=False)
    tokens: tuple[Range, ...] | None = field(default=None, hash=False)
    sentences: tuple[Range, ...] | None = field(default=None, hash=False)
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def annotated(self) -> bool:
        return self.spans is not None

    def span_text(self, span: Span) -> str:
        return span.text_in(self.text)

    def evolve(self, **changes: Any) -> "Document":
        return replace(self, **changes)


@dataclass(frozen=True)
class Corpus:
    """An ordered collection of documents read from one place.

    ``problems`` holds every warning (and, in collecting mode, every error) met
    while reading, so nothing is dropped silently.
    """

    documents: tuple[Document, ...]
    format: str = "unknown"
    source: str | None = None
    problems: tuple[Problem, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    def __getitem__(self, doc_id: str) -> Document:
        for doc in self.documents:
            if doc.id == doc_id:
                return doc
        raise KeyError(doc_id)

    def by_id(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}

    @property
    def labels(self) -> list[str]:
        """Sorted set of span labels used in annotated documents."""
        return sorted({s.label for d in self.documents for s in (d.spans or ())})

    def spans(self) -> Iterator[Span]:
        for d in self.documents:
            yield from d.spans or ()

    def evolve(self, **changes: Any) -> "Corpus":
        return replace(self, **changes)

    @classmethod
    def from_docs(cls, docs: Sequence[Document], **kw: Any) -> "Corpus":
        return cls(documents=tuple(docs), **kw)


def corpus_hash(corpus: Corpus) -> str:
    """``sha256:<hex>`` of the corpus content (ids, texts, span pieces and labels), format-independent."""
    import hashlib
    import json

    h = hashlib.sha256()
    for doc in sorted(corpus.documents, key=lambda d: d.id):
        spans = None if doc.spans is None else sorted([list(map(list, s.pieces)), s.label] for s in doc.spans)
        h.update(json.dumps([doc.id, doc.text, spans], ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        h.update(b"\n")
    return "sha256:" + h.hexdigest()


__all__ = ["Corpus", "Document", "Range", "corpus_hash"]
