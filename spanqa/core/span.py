"""The one span type of spanqa.

A :class:`Span` is a labelled stretch of a document's text given by **half-open
character offsets** ``[start, end)`` into ``Document.text``: ``text[start:end]``
is the surface string.  This is the identity of a span everywhere in spanqa.
Token and subword indices are derived views (see :mod:`spanqa.corpus.tokenize` and
:mod:`spanqa.model.align`); they are never stored as a span's position.

A discontinuous span (brat ``T1 Drug 0 5;10 16``) keeps its pieces in
``fragments``, each half-open, sorted, non-overlapping; ``start``/``end`` are
then the hull (first fragment's start, last fragment's end).

>>> s = Span("note1", 11, 23, "Drug")
>>> "Pt started aspirin 81mg"[s.start:s.end]
'aspirin 81mg'
>>> s.length
12
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

Fragment = tuple[int, int]


@dataclass(frozen=True)
class Span:
    """A labelled half-open character span ``[start, end)`` of one document.

    Attributes:
        doc_id: id of the :class:`~spanqa.core.document.Document` the offsets refer to.
        start: first character, inclusive.
        end: one past the last character (exclusive).
        label: entity type, e.g. ``"Drug"``.
        fragments: for discontinuous spans only, the half-open pieces, sorted;
            ``None`` for an ordinary contiguous span.
        id: the source format's id (brat ``T3``, a Label Studio region id), if any.
        annotator: who made the span, if known.
        score: a confidence attached by the source (Label Studio ``score``), if any.
        meta: anything else the source format carries for this span that must
            survive a round trip (e.g. PubTator concept ids).  Compared but not hashed.
    """

    doc_id: str
    start: int
    end: int
    label: str
    fragments: tuple[Fragment, ...] | None = None
    id: str | None = None
    annotator: str | None = None
    score: float | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def length(self) -> int:
        """Number of characters covered by the hull ``[start, end)``."""
        return self.end - self.start

    @property
    def is_discontinuous(self) -> bool:
        return self.fragments is not None and len(self.fragments) > 1

    @property
    def pieces(self) -> tuple[Fragment, ...]:
        """The covered character pieces: ``fragments`` or ``((start, end),)``."""
        return self.fragments if self.fragments else ((self.start, self.end),)

    @property
    def key(self) -> tuple[int, int, str]:
        """``(start, end, label)``: the sort key and the identity used for matching."""
        return (self.start, self.end, self.label)

    def text_in(self, text: str, joiner: str = " ") -> str:
        """The surface string of this span in ``text`` (fragments joined by ``joiner``)."""
        return joiner.join(text[a:b] for a, b in self.pieces)

    def overlaps(self, other: "Span") -> bool:
        """True when the two spans share at least one character (same document)."""
        if self.doc_id != other.doc_id:
            return False
        return any(a < d and c < b for a, b in self.pieces for c, d in other.pieces)

    def evolve(self, **changes: Any) -> "Span":
        """A copy with some fields changed (spans are immutable)."""
        return replace(self, **changes)

    def to_dict(self, text: str | None = None) -> dict[str, Any]:
        """The JSON shape used in every spanqa output: ``{start, end, label[, text]}``."""
        out: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label}
        if text is not None:
            out["text"] = self.text_in(text)
        if self.is_discontinuous:
            out["fragments"] = [list(f) for f in self.pieces]
        return out


def sort_spans(spans) -> tuple[Span, ...]:
    """Spans in canonical order: by start, end, label, then id."""
    return tuple(sorted(spans, key=lambda s: (s.start, s.end, s.label, s.id or "")))


__all__ = ["Fragment", "Span", "sort_spans"]
