"""The span comparator: a two-way, typed alignment of two annotations of the same texts.

``labels`` is the annotation under audit; ``other`` is what it is held against
(model predictions, a second annotator, a corrected version).  Every difference
is named **from the point of view of** ``labels`` **if** ``other`` **is right**,
together with the fix (``action``) that turns the ``labels`` spans into the
``other`` spans:

==============  =====================  =================================================  ===========================
kind            shape (labels:other)   example (labels -> other)                          action
==============  =====================  =================================================  ===========================
exact           1:1                    Drug "aspirin" -> Drug "aspirin"                   keep
type            1:1, same extent       Drug "Coumadin" -> Brand "Coumadin"                relabel
boundary        1:1, same label        Drug "warfarin" -> Drug "of warfarin"              extend / shrink / shift
boundary_type   1:1                    Group "contraceptives" -> Drug "oral ..."          replace
split           1:n (n >= 2)           Drug "aspirin 81mg" -> Drug "aspirin" + Strength   split
merge           n:1 (n >= 2)           Drug "aspirin" + Drug "81mg" -> Drug "aspirin 81mg" merge
complex         n:m (n, m >= 2)        two spans -> two other spans, crossing             replace
missing         0:1                    - -> Drug "tikosyn"                                add
spurious        1:0                    Brand "healthy" -> -                               delete
==============  =====================  =================================================  ===========================

``boundary`` actions: ``extend`` when the other span covers every character of
the labels span, ``shrink`` when the labels span covers every character of the
other span, ``shift`` otherwise.

**How spans are grouped** (order independent, nested spans allowed):

1. *Exact pairs first.*  A labels span and an other span with the same
   characters (``Span.pieces``) and label are paired one-to-one and form an
   ``exact`` component.
2. *Same-extent pairs next.*  Of the spans left, a labels span and an other span
   with the same characters but different labels are paired (within one extent,
   labels matched in sorted order) and form a ``type`` component.
3. *Overlap graph for the rest.*  The remaining spans are the nodes of a
   **bipartite** graph with an edge between a labels span and an other span that
   share at least one character (:meth:`Span.overlaps`).  Overlaps *within* one
   side (nested spans) add no edge.  Each connected component gets exactly one
   kind from its shape (see the table).

For flat annotations steps 1 and 2 change nothing (an exact or same-extent pair
is then always a component of its own); for nested annotations they keep a
correct outer span from being swallowed into a ``merge`` with a nested one:
labels Drug "aspirin 81mg" + Strength "81mg" vs other Drug "aspirin 81mg" gives
``exact`` + ``spurious`` (Strength), not ``merge``.

Components are sorted canonically (document order, then by first character and
the spans' keys), so the result does not depend on the order of the input spans.

**Texts.**  :func:`compare_corpora` matches documents by id or order.  Equal texts
are compared directly.  Texts that differ **only in whitespace** (re-split tokens
``FOOTBALL-STANDINGS`` vs ``FOOTBALL - STANDINGS``, a sentence break ``"\\n"``
moved to ``" "``) are compared in whitespace-free character coordinates: each
``other`` span is mapped onto the ``labels`` text (first to last non-space
character it covers), so every record carries offsets valid in the ``labels``
text; the other side's own offsets and text are kept in ``Component.other_source``.
Any other text difference is error ``E301``.

Why one module of ~590 lines: alignment, components, the nine kinds and their fixes are one algorithm whose cases
must agree with each other; its length is those cases.

>>> from spanqa.core.span import Span
>>> text = "Pt started aspirin 81mg PO"
>>> [c.kind.value for c in compare_spans("d", [Span("d", 11, 23, "Drug")],
...                                       [Span("d", 11, 18, "Drug"), Span("d", 19, 23, "Strength")])]
['split']
>>> c = compare_spans("d", [Span("d", 11, 18, "Drug")], [Span("d", 11, 23, "Drug")])[0]
>>> (c.kind.value, c.action, c.to_dict(text)["other"][0]["text"])
('boundary', 'extend', 'aspirin 81mg')
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator, Literal, Mapping, Sequence

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, fail
from spanqa.core.span import Fragment, Span

Match = Literal["auto", "id", "order"]


class Kind(str, Enum):
    """The kind of one component of the alignment, named from the ``labels`` side."""

    EXACT = "exact"
    TYPE = "type"
    BOUNDARY = "boundary"
    BOUNDARY_TYPE = "boundary_type"
    SPLIT = "split"
    MERGE = "merge"
    COMPLEX = "complex"
    MISSING = "missing"
    SPURIOUS = "spurious"

    def __str__(self) -> str:  # so f-strings and rich tables show "type", not "Kind.TYPE"
        return self.value


#: every kind, in the order used by tables and JSON output
KINDS: tuple[Kind, ...] = tuple(Kind)

#: the kind each kind becomes when the two sides are swapped
SWAPPED: dict[Kind, Kind] = {k: k for k in Kind} | {
    Kind.SPLIT: Kind.MERGE, Kind.MERGE: Kind.SPLIT, Kind.MISSING: Kind.SPURIOUS, Kind.SPURIOUS: Kind.MISSING}

#: every action a component can carry
ACTIONS: tuple[str, ...] = ("keep", "relabel", "extend", "shrink", "shift", "split", "merge", "add", "delete", "replace")


def _span_order(s: Span) -> tuple:
    return (s.start, s.end, s.label, s.pieces, s.id or "")


@dataclass(frozen=True)
class Component:
    """One connected group of the alignment and the fix that turns ``labels`` into ``other``.

    Attributes:
        doc_id: id of the ``labels`` document; all offsets are in its text.
        kind: see :class:`Kind`.
        labels: the spans of the annotation under audit, canonical order (may be empty).
        other: the other side's spans, **mapped into the labels text**, canonical order.
        action: one of :data:`ACTIONS`.
        other_source: when the texts differ in whitespace, ``other``'s spans in the
            other document's own coordinates (same order as ``other``); else ``()``.
        other_doc_id: id of the other document when it differs from ``doc_id``.
    """

    doc_id: str
    kind: Kind
    labels: tuple[Span, ...]
    other: tuple[Span, ...]
    action: str
    other_source: tuple[Span, ...] = field(default=(), compare=False)
    other_doc_id: str | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """The label this component is counted under: the first labels span's, else the first other span's."""
        return (self.labels or self.other)[0].label

    @property
    def start(self) -> int:
        return min(s.start for s in self.labels + self.other)

    @property
    def end(self) -> int:
        return max(s.end for s in self.labels + self.other)

    def sort_key(self) -> tuple:
        return (self.start, self.end, tuple(_span_order(s) for s in self.labels),
                tuple(_span_order(s) for s in self.other))

    def to_dict(self, labels_text: str, other_text: str | None = None) -> dict[str, Any]:
        """The JSONL record of this component.

        ``{"doc_id", "kind", "action", "labels": [{start, end, label, text}], "other": [...]}``.
        Offsets and ``text`` of both lists refer to ``labels_text``.  When the
        component was aligned across a whitespace difference and ``other_text``
        is given, each other record also has ``"source": {start, end, text}`` in
        the other document's own coordinates (plus ``"other_doc_id"`` when the
        documents were matched by order under different ids).
        """
        out: dict[str, Any] = {"doc_id": self.doc_id, "kind": self.kind.value, "action": self.action,
                               "labels": [s.to_dict(labels_text) for s in self.labels],
                               "other": [s.to_dict(labels_text) for s in self.other]}
        if self.other_doc_id is not None and self.other_doc_id != self.doc_id:
            out["other_doc_id"] = self.other_doc_id
        if other_text is not None and self.other_source:
            for rec, src in zip(out["other"], self.other_source):
                rec["source"] = {"start": src.start, "end": src.end, "text": src.text_in(other_text)}
        return out

    def swapped(self) -> "Component":
        """The same component seen from the other side (kind and action recomputed)."""
        return _component(self.doc_id, self.other, self.labels)


# --------------------------------------------------------------------------- classification

def _merged(pieces: Sequence[Fragment]) -> list[list[int]]:
    out: list[list[int]] = []
    for a, b in sorted(pieces):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def _covers(outer: Span, inner: Span) -> bool:
    """True when every character of ``inner`` is a character of ``outer``."""
    merged = _merged(outer.pieces)
    return all(any(a <= c and d <= b for a, b in merged) for c, d in inner.pieces)


def _boundary_action(label_span: Span, other_span: Span) -> str:
    if _covers(other_span, label_span):
        return "extend"
    if _covers(label_span, other_span):
        return "shrink"
    return "shift"


def _component(doc_id: str, labels: Sequence[Span], other: Sequence[Span]) -> Component:
    labels = tuple(sorted(labels, key=_span_order))
    other = tuple(sorted(other, key=_span_order))
    n, m = len(labels), len(other)
    if n == 0 and m == 0:
        raise ValueError("a component needs at least one span")
    if n == 1 and m == 1:
        a, b = labels[0], other[0]
        same_extent = a.pieces == b.pieces
        if same_extent and a.label == b.label:
            kind, action = Kind.EXACT, "keep"
        elif same_extent:
            kind, action = Kind.TYPE, "relabel"
        elif a.label == b.label:
            kind, action = Kind.BOUNDARY, _boundary_action(a, b)
        else:
            kind, action = Kind.BOUNDARY_TYPE, "replace"
    elif m == 0:
        kind, action = (Kind.SPURIOUS, "delete") if n == 1 else (Kind.COMPLEX, "delete")
    elif n == 0:
        kind, action = (Kind.MISSING, "add") if m == 1 else (Kind.COMPLEX, "add")
    elif n == 1:
        kind, action = Kind.SPLIT, "split"
    elif m == 1:
        kind, action = Kind.MERGE, "merge"
    else:
        kind, action = Kind.COMPLEX, "replace"
    return Component(doc_id, kind, labels, other, action)


# --------------------------------------------------------------------------- one document

class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _pair_off(labels: list[Span], other: list[Span], key) -> tuple[list[tuple[Span, Span]], list[Span], list[Span]]:
    """Pair spans with equal ``key`` one-to-one, in canonical order; return pairs and leftovers."""
    by_key_l: dict[Any, list[Span]] = defaultdict(list)
    by_key_o: dict[Any, list[Span]] = defaultdict(list)
    for s in sorted(labels, key=_span_order):
        by_key_l[key(s)].append(s)
    for s in sorted(other, key=_span_order):
        by_key_o[key(s)].append(s)
    pairs: list[tuple[Span, Span]] = []
    rest_l: list[Span] = []
    rest_o: list[Span] = []
    for k, ls in by_key_l.items():
        os_ = by_key_o.get(k, [])
        pairs.extend(zip(ls, os_))
        rest_l.extend(ls[len(os_):])
    for k, os_ in by_key_o.items():
        rest_o.extend(os_[len(by_key_l.get(k, ())):])
    return pairs, rest_l, rest_o


def _type_pairs(labels: list[Span], other: list[Span]) -> tuple[list[tuple[Span, Span]], list[Span], list[Span]]:
    """Pair same-extent spans (labels already differ after exact pairing), labels in sorted order."""
    by_l: dict[Any, list[Span]] = defaultdict(list)
    by_o: dict[Any, list[Span]] = defaultdict(list)
    for s in labels:
        by_l[s.pieces].append(s)
    for s in other:
        by_o[s.pieces].append(s)
    pairs: list[tuple[Span, Span]] = []
    rest_l: list[Span] = []
    rest_o: list[Span] = []
    for k, ls in by_l.items():
        ls = sorted(ls, key=lambda s: (s.label, _span_order(s)))
        os_ = sorted(by_o.get(k, []), key=lambda s: (s.label, _span_order(s)))
        pairs.extend(zip(ls, os_))
        rest_l.extend(ls[len(os_):])
    for k, os_ in by_o.items():
        os_ = sorted(os_, key=lambda s: (s.label, _span_order(s)))
        rest_o.extend(os_[len(by_l.get(k, ())):])
    return pairs, rest_l, rest_o


def _overlap_components(labels: list[Span], other: list[Span]) -> list[tuple[list[Span], list[Span]]]:
    """Connected components of the bipartite overlap graph (sweep over hulls, then exact piece test)."""
    nodes: list[tuple[int, Span]] = [(0, s) for s in labels] + [(1, s) for s in other]
    order = sorted(range(len(nodes)), key=lambda i: (nodes[i][1].start, nodes[i][1].end, nodes[i][0]))
    uf = _UnionFind(len(nodes))
    active: tuple[list[int], list[int]] = ([], [])
    for i in order:
        side, span = nodes[i]
        for s in (0, 1):  # drop spans that ended before this one starts
            active[s][:] = [j for j in active[s] if nodes[j][1].end > span.start]
        for j in active[1 - side]:
            if span.overlaps(nodes[j][1]):
                uf.union(i, j)
        active[side].append(i)
    groups: dict[int, tuple[list[Span], list[Span]]] = {}
    for i, (side, span) in enumerate(nodes):
        groups.setdefault(uf.find(i), ([], []))[side].append(span)
    return list(groups.values())


def compare_spans(doc_id: str, labels: Sequence[Span], other: Sequence[Span]) -> list[Component]:
    """Align two span sets of one document (same character coordinates).

    Returns every component (``exact`` ones included), sorted canonically.  Spans
    whose ``doc_id`` differs from ``doc_id`` are taken to be in this document.
    """
    ls = [s if s.doc_id == doc_id else s.evolve(doc_id=doc_id) for s in labels]
    os_ = [s if s.doc_id == doc_id else s.evolve(doc_id=doc_id) for s in other]
    out: list[Component] = []
    exact, ls, os_ = _pair_off(ls, os_, key=lambda s: (s.pieces, s.label))
    out.extend(Component(doc_id, Kind.EXACT, (a,), (b,), "keep") for a, b in exact)
    typed, ls, os_ = _type_pairs(ls, os_)
    out.extend(Component(doc_id, Kind.TYPE, (a,), (b,), "relabel") for a, b in typed)
    out.extend(_component(doc_id, g_l, g_o) for g_l, g_o in _overlap_components(ls, os_))
    out.sort(key=Component.sort_key)
    return out


# --------------------------------------------------------------------------- text alignment

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class TextMap:
    """Maps offsets of the ``other`` text onto the ``labels`` text when they differ only in whitespace.

    ``labels_pos[k]`` is the offset of the k-th non-space character of the labels
    text; ``other_pos`` likewise for the other text.
    """

    labels_pos: tuple[int, ...]
    other_pos: tuple[int, ...]

    @classmethod
    def build(cls, labels_text: str, other_text: str) -> "TextMap":
        return cls(tuple(i for i, ch in enumerate(labels_text) if not ch.isspace()),
                   tuple(i for i, ch in enumerate(other_text) if not ch.isspace()))

    def _piece(self, a: int, b: int) -> Fragment | None:
        k0 = bisect.bisect_left(self.other_pos, a)    # first non-space char at or after a
        k1 = bisect.bisect_left(self.other_pos, b)    # non-space chars before b
        if k1 <= k0:
            return None
        return (self.labels_pos[k0], self.labels_pos[k1 - 1] + 1)

    def map_span(self, span: Span, doc_id: str) -> Span | None:
        """``span`` (other coordinates) in labels coordinates, or None when it covers only whitespace."""
        pieces = [p for p in (self._piece(a, b) for a, b in span.pieces) if p is not None]
        if not pieces:
            return None
        fragments = tuple(pieces) if span.fragments is not None else None
        return span.evolve(doc_id=doc_id, start=pieces[0][0], end=pieces[-1][1], fragments=fragments)


def _excerpt(text: str, pos: int, width: int = 25) -> str:
    return text[max(0, pos - width): pos + width]


def text_difference(labels_doc: Document, other_doc: Document) -> Literal["equal", "whitespace"]:
    """How the two texts differ: ``"equal"``, ``"whitespace"`` only, or raise ``E301``."""
    a, b = labels_doc.text, other_doc.text
    if a == b:
        return "equal"
    sa, sb = _WS.sub("", a), _WS.sub("", b)
    if sa == sb:
        return "whitespace"
    k = next((i for i, (x, y) in enumerate(zip(sa, sb)) if x != y), min(len(sa), len(sb)))
    tm = TextMap.build(a, b)
    pa = tm.labels_pos[k] if k < len(tm.labels_pos) else len(a)
    pb = tm.other_pos[k] if k < len(tm.other_pos) else len(b)
    where = "" if other_doc.id == labels_doc.id else f" (other document {other_doc.id!r})"
    raise fail("E301", f"texts differ beyond whitespace at labels char {pa} / other char {pb}{where}: "
                       f"labels {_excerpt(a, pa)!r} vs other {_excerpt(b, pb)!r}",
               path=labels_doc.source, doc_id=labels_doc.id, start=pa, excerpt=_excerpt(a, pa))


# --------------------------------------------------------------------------- corpora

@dataclass(frozen=True)
class DocPair:
    """One compared document pair: ids, texts, how the texts were aligned, span counts."""

    doc_id: str
    other_id: str
    labels_text: str
    other_text: str
    alignment: Literal["equal", "whitespace"]
    n_labels: int
    n_other: int


@dataclass(frozen=True)
class Comparison:
    """The alignment of two corpora.

    Attributes:
        components: every component of every compared document (``exact`` included),
            in labels document order, canonical order within a document.
        docs: the compared document pairs (both sides annotated), labels order.
        problems: ``W301`` (document on one side only), ``W302`` (not annotated on a
            side, ignored), ``W303`` (other span covering only whitespace, dropped).
        match: how documents were matched, ``"id"`` or ``"order"``.
        only_labels / only_other: ids of documents present on one side only.
        unannotated: ``{"labels": n, "other": n}`` documents ignored because that side
            did not annotate them.
    """

    components: tuple[Component, ...]
    docs: tuple[DocPair, ...]
    problems: tuple[Problem, ...] = ()
    match: Literal["id", "order"] = "id"
    only_labels: tuple[str, ...] = ()
    only_other: tuple[str, ...] = ()
    unannotated: Mapping[str, int] = field(default_factory=lambda: {"labels": 0, "other": 0})

    @property
    def counts(self) -> dict[Kind, int]:
        """Number of components of each kind (all nine kinds, zeros included)."""
        c = Counter(comp.kind for comp in self.components)
        return {k: c.get(k, 0) for k in KINDS}

    def counts_by_kind_label(self) -> dict[Kind, dict[str, int]]:
        """``{kind: {label: n}}`` over all nine kinds; a component counts under :attr:`Component.label`."""
        out: dict[Kind, dict[str, int]] = {k: {} for k in KINDS}
        for comp in self.components:
            row = out[comp.kind]
            row[comp.label] = row.get(comp.label, 0) + 1
        return {k: dict(sorted(row.items())) for k, row in out.items()}

    def confusion(self) -> dict[tuple[str, str], int]:
        """``{(labels label, other label): n}`` over ``type`` and ``boundary_type`` components."""
        c = Counter((comp.labels[0].label, comp.other[0].label) for comp in self.components
                    if comp.kind in (Kind.TYPE, Kind.BOUNDARY_TYPE))
        return dict(sorted(c.items()))

    @property
    def labels(self) -> list[str]:
        """Sorted labels seen on either side of the compared documents."""
        return sorted({s.label for c in self.components for s in c.labels + c.other})

    @property
    def n_labels(self) -> int:
        return sum(d.n_labels for d in self.docs)

    @property
    def n_other(self) -> int:
        return sum(d.n_other for d in self.docs)

    def doc_pair(self, doc_id: str) -> DocPair:
        for d in self.docs:
            if d.doc_id == doc_id:
                return d
        raise KeyError(doc_id)

    def records(self, *, include_exact: bool = False) -> Iterator[dict[str, Any]]:
        """JSONL records (:meth:`Component.to_dict`) of the components, non-exact ones unless asked."""
        texts = {d.doc_id: d for d in self.docs}
        for comp in self.components:
            if comp.kind is Kind.EXACT and not include_exact:
                continue
            d = texts[comp.doc_id]
            yield comp.to_dict(d.labels_text, d.other_text)

    def summary(self) -> dict[str, Any]:
        """Bookkeeping for reports: matching, document and span counts."""
        return {"match": self.match, "documents_compared": len(self.docs),
                "documents_whitespace_aligned": sum(d.alignment == "whitespace" for d in self.docs),
                "only_labels": list(self.only_labels), "only_other": list(self.only_other),
                "unannotated": dict(self.unannotated),
                "spans_labels": self.n_labels, "spans_other": self.n_other}


def match_documents(labels: Corpus, other: Corpus, *, match: Match = "auto"
                    ) -> tuple[list[tuple[Document, Document]], Literal["id", "order"], list[str], list[str]]:
    """Pair the documents of two corpora: ``(pairs, how, only_labels_ids, only_other_ids)``.

    ``"id"`` pairs equal ids; ``"order"`` pairs the i-th documents (counts must be
    equal); ``"auto"`` uses ids when the id sets intersect, else order when the
    counts are equal, else raises ``E302``.
    """
    l_ids = [d.id for d in labels.documents]
    o_ids = [d.id for d in other.documents]
    if match == "auto":
        if set(l_ids) & set(o_ids):
            match = "id"
        elif len(l_ids) == len(o_ids):
            match = "order"
        else:
            raise fail("E302", f"no document id is shared and the counts differ ({len(l_ids)} vs {len(o_ids)} documents)",
                       path=labels.source)
    if match == "order":
        if len(l_ids) != len(o_ids):
            raise fail("E302", f"--match order needs equal document counts, got {len(l_ids)} vs {len(o_ids)}",
                       path=labels.source)
        return list(zip(labels.documents, other.documents)), "order", [], []
    if match != "id":
        raise fail("E302", f"unknown match mode {match!r}; use auto, id or order")
    by_o = other.by_id()
    if not set(l_ids) & set(by_o) and l_ids and o_ids:
        raise fail("E302", f"no document id is shared between the two sides (e.g. {l_ids[0]!r} vs {o_ids[0]!r})",
                   path=labels.source)
    l_set = set(l_ids)
    pairs = [(d, by_o[d.id]) for d in labels.documents if d.id in by_o]
    return pairs, "id", [i for i in l_ids if i not in by_o], [i for i in o_ids if i not in l_set]


def align_documents(labels_doc: Document, other_doc: Document, *, problems: list[Problem] | None = None
                    ) -> tuple[Literal["equal", "whitespace"], list[Span], list[Span]]:
    """The other document's spans in the labels document's coordinates.

    Returns ``(alignment, mapped_spans, source_spans)`` (same order); spans that
    cover only whitespace cannot be mapped and are reported as ``W303``.
    Raises ``E301`` when the texts differ beyond whitespace.
    """
    alignment = text_difference(labels_doc, other_doc)
    spans = list(other_doc.spans or ())
    if alignment == "equal":
        return alignment, [s if s.doc_id == labels_doc.id else s.evolve(doc_id=labels_doc.id) for s in spans], spans
    tm = TextMap.build(labels_doc.text, other_doc.text)
    mapped: list[Span] = []
    source: list[Span] = []
    for s in spans:
        m = tm.map_span(s, labels_doc.id)
        if m is None:
            if problems is not None:
                problems.append(Problem("W303", Location(path=other_doc.source, doc_id=other_doc.id, start=s.start,
                                                         end=s.end, excerpt=s.text_in(other_doc.text)),
                                        f"{s.label} span covers only whitespace; it cannot be aligned"))
            continue
        mapped.append(m)
        source.append(s)
    return alignment, mapped, source


def compare_corpora(labels: Corpus, other: Corpus, *, match: Match = "auto") -> Comparison:
    """Align two annotations of the same documents (see the module docstring).

    Documents present on one side only (``W301``) and documents not annotated on a
    side (``W302``) are left out and counted.  Raises ``E301`` when a matched pair's
    texts differ beyond whitespace, ``E302`` when documents cannot be matched.
    """
    pairs, how, only_l, only_o = match_documents(labels, other, match=match)
    problems: list[Problem] = []
    for i in only_l:
        problems.append(Problem("W301", Location(path=labels.source, doc_id=i), "present in labels only"))
    for i in only_o:
        problems.append(Problem("W301", Location(path=other.source, doc_id=i), "present in other only"))
    unannotated = {"labels": 0, "other": 0}
    components: list[Component] = []
    docs: list[DocPair] = []
    for ld, od in pairs:
        missing = [side for side, d in (("labels", ld), ("other", od)) if not d.annotated]
        if missing:
            for side in missing:
                unannotated[side] += 1
                d = ld if side == "labels" else od
                problems.append(Problem("W302", Location(path=d.source, doc_id=d.id),
                                        f"not annotated on the {side} side; document ignored"))
            continue
        alignment, mapped, source = align_documents(ld, od, problems=problems)
        comps = compare_spans(ld.id, ld.spans or (), mapped)
        if alignment == "whitespace" or od.id != ld.id:
            back = {id(m): s for m, s in zip(mapped, source)}
            comps = [Component(c.doc_id, c.kind, c.labels, c.other, c.action,
                               other_source=tuple(back[id(s)] for s in c.other) if alignment == "whitespace" else (),
                               other_doc_id=od.id if od.id != ld.id else None) for c in comps]
        components.extend(comps)
        docs.append(DocPair(ld.id, od.id, ld.text, od.text, alignment, len(ld.spans or ()), len(mapped)))
    return Comparison(tuple(components), tuple(docs), tuple(problems), how, tuple(only_l), tuple(only_o), unannotated)


__all__ = ["ACTIONS", "Comparison", "Component", "DocPair", "KINDS", "Kind", "Match", "SWAPPED", "TextMap",
           "align_documents", "compare_corpora", "compare_spans", "match_documents", "text_difference"]
