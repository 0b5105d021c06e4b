"""Clinical word tokenisation with exact character offsets.

Every token-level consumer of spanqa (BIO tagging, the audit's word windows,
``spanqa check``'s word counts) sees the text through this module.  A *word*
is a half-open character range ``(start, end)`` with ``text[start:end]`` the
word's surface string; whitespace is never a word.

The tokenizer is spaCy's blank English tokenizer (built once, cached) plus a
few clinical rules so that numbers and units come apart while lab names stay
whole::

    81mg -> 81 | mg        180/110 -> 180 | / | 110      38.5C -> 38.5 | C
    x3d  -> x3 | d         mmol/L. -> mmol | / | L | .   8.9%  -> 8.9 | %
    140mmol/L -> 140 | mmol | / | L                       HbA1c -> HbA1c
    (BHA)-induced -> ( | BHA | ) | - | induced            CHX+Pilo -> CHX | + | Pilo

>>> text = "Pt started aspirin 81mg PO daily; BP 180/110, HbA1c 8.9%."
>>> [text[a:b] for a, b in tokenize(text)][3:12]
['81', 'mg', 'PO', 'daily', ';', 'BP', '180', '/', '110']
>>> t = "aspirin81"
>>> [t[a:b] for a, b in tokenize(t)], [t[a:b] for a, b in tokenize(t, cut_at=[7])]
(['aspirin81'], ['aspirin', '81'])
"""

from __future__ import annotations

import bisect
import gc
import re
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokenizer import Tokenizer

    from spanqa.core.document import Document

Range = tuple[int, int]

#: Texts longer than this are tokenised in pieces cut at whitespace (offsets stay exact).
CHUNK_CHARS = 100_000
#: spaCy strips affixes one at a time, which is quadratic on long whitespace-free
#: runs (1,000 "=" take about a second).  Runs longer than this are therefore cut
#: by a linear rule instead (``\w+`` runs and single other characters).  Natural
#: words are far shorter; URLs, base64 blobs and ruler lines are not.
LONG_RUN_CHARS = 100

_UNITS_AFTER_NUMBER = (
    "mcg|µg|ug|mmol|umol|µmol|nmol|mEq|meq|mL|ml|dL|dl|L|IU|U|units?|mmHg|bpm|cc|"
    "d|h|hr|hrs|wk|wks|mo|yr|yrs|min|mins"
)
#: Units that may start a compound unit glued to a number: "140mmol/L", "5mg/kg".
_COMPOUND_UNIT_HEADS = "mg|mcg|µg|ug|g|kg|mmol|umol|µmol|nmol|mEq|meq|mL|ml|dL|dl|L|IU|U|units?|cm|mm"

#: Extra infix patterns (added to spaCy's defaults).
CLINICAL_INFIXES: tuple[str, ...] = (
    r"(?<=[0-9])/(?=[0-9])",  # 180/110
    rf"(?<=[0-9])(?=(?:{_COMPOUND_UNIT_HEADS})/)",  # 140|mmol/L (zero-width split)
    r"[)\]](?=-[A-Za-z])",  # (BHA)-induced -> BHA | ) | - | induced
    r"(?<=[)\]])-(?=[A-Za-z])",
    r"(?<=[A-Za-z])\+(?=[A-Za-z])",  # CHX+Pilo
)
#: Extra suffix patterns (added to spaCy's defaults; spaCy anchors each with ``$``).
CLINICAL_SUFFIXES: tuple[str, ...] = (
    rf"(?<=[0-9])(?:{_UNITS_AFTER_NUMBER})",  # 5mL, x3d, q4h, 2wks
    r"(?:(?<=[0-9]{2})|(?<=\.[0-9]))[CF]",  # 38.5C, 101F - but not HbA1C
    r"(?:(?<=/[A-Za-z])|(?<=/[A-Za-z]{2})|(?<=/[A-Za-z]{3})|(?<=/[A-Za-z]{4}))\.",  # mmol/L. mg/dL.
    r"(?<=[a-z0-9][A-Z])\.",  # AmB. G516T. (spaCy already splits DNA.; initials like J. stay whole)
)

_NON_WS = re.compile(r"\S+")
_NEWLINE = re.compile("\n")
_PUNCT_RUN = re.compile(r"[.?!]+")
_LONG_RUN = re.compile(r"\S{%d,}" % (LONG_RUN_CHARS + 1))
_FALLBACK = re.compile(r"\w+|\S")


@lru_cache(maxsize=1)
def clinical_tokenizer() -> "Tokenizer":
    """spaCy's blank English tokenizer with the clinical rules above (built once)."""
    import spacy
    from spacy.util import compile_infix_regex, compile_suffix_regex

    nlp = spacy.blank("en")
    tok = nlp.tokenizer
    tok.infix_finditer = compile_infix_regex(list(nlp.Defaults.infixes) + list(CLINICAL_INFIXES)).finditer
    tok.suffix_search = compile_suffix_regex(list(nlp.Defaults.suffixes) + list(CLINICAL_SUFFIXES)).search
    # Single lower-case letters with a period ("d.") are special cases in spaCy; after
    # the unit suffixes they would glue "x3d." into "x3" + "d.".  Drop them so the
    # period comes off; upper-case initials ("J.") stay whole through the default suffixes.
    tok.rules = {k: v for k, v in tok.rules.items()
                 if not (len(k) == 2 and k[1] == "." and k[0].isalpha() and k[0].islower())}
    return tok


def _spacy_bounds(text: str, lo: int, hi: int, starts: list[int], ends: list[int]) -> None:
    """Append the start and end offsets of the words of ``text[lo:hi]`` found by spaCy (absolute) to the lists.

    ``text[lo:hi]`` holds no whitespace-free run longer than :data:`LONG_RUN_CHARS`,
    so a cut just after whitespace is always found near every chunk boundary.
    """
    from spacy.attrs import IDX, IS_SPACE, LENGTH

    tok = clinical_tokenizer()
    while lo < hi:
        cut = hi
        if hi - lo > CHUNK_CHARS:
            cut = lo + CHUNK_CHARS
            while cut > lo and not text[cut - 1].isspace():
                cut -= 1
            if cut == lo:  # cannot happen given the run limit; keep the loop finite anyway
                cut = lo + CHUNK_CHARS
        piece = text[lo:cut]
        if piece and not piece.isspace():
            arr = tok(piece).to_array([IDX, LENGTH, IS_SPACE]).astype(np.int64)
            arr = arr[arr[:, 2] == 0]  # spaCy's whitespace tokens are all whitespace
            if int(arr[:, 1].sum()) == sum(map(len, piece.split())):  # the words hold every non-space character
                starts.extend((arr[:, 0] + lo).tolist())
                ends.extend((arr[:, 0] + arr[:, 1] + lo).tolist())
            else:  # defensive: a word held whitespace; never let that through
                for a, n in zip(arr[:, 0].tolist(), arr[:, 1].tolist()):
                    for m in _NON_WS.finditer(piece, a, a + n):
                        starts.append(lo + m.start())
                        ends.append(lo + m.end())
        lo = cut


def _cut(ranges: list[Range], cut_at: Iterable[int]) -> list[Range]:
    """Split each range at every offset of ``cut_at`` strictly inside it."""
    cuts = sorted(set(cut_at))
    if not cuts or not ranges:
        return ranges
    out: list[Range] = []
    for a, b in ranges:
        i = bisect.bisect_right(cuts, a)
        if i == len(cuts) or cuts[i] >= b:
            out.append((a, b))
            continue
        prev = a
        while i < len(cuts) and cuts[i] < b:
            out.append((prev, cuts[i]))
            prev = cuts[i]
            i += 1
        out.append((prev, b))
    return out


def tokenize(text: str, *, cut_at: Iterable[int] = ()) -> list[Range]:
    """Words of ``text`` as half-open character ranges, in order, whitespace dropped.

    Args:
        text: any string (a 10 MB single-line note is fine: it is tokenised in
            pieces cut at whitespace, offsets stay exact, nothing is truncated).
        cut_at: extra character offsets; a word that strictly contains one is
            split there (offsets on whitespace or on an existing edge change nothing).

    Returns:
        ``[(start, end), ...]`` with ``start < end``, ``text[start:end]`` free of
        whitespace, sorted and non-overlapping.

    >>> t = "T 38.5C x3d, K 4.1 mmol/L."
    >>> [t[a:b] for a, b in tokenize(t)]
    ['T', '38.5', 'C', 'x3', 'd', ',', 'K', '4.1', 'mmol', '/', 'L', '.']
    """
    with gc_paused():
        starts, ends = word_bounds(text)
        return _cut(list(zip(starts, ends)), cut_at)


def word_bounds(text: str) -> tuple[list[int], list[int]]:
    """The start and the end offsets of the words :func:`tokenize` finds (before any ``cut_at``), as two lists."""
    starts: list[int] = []
    ends: list[int] = []
    with gc_paused():
        pos = 0
        for m in _LONG_RUN.finditer(text):
            _spacy_bounds(text, pos, m.start(), starts, ends)
            for f in _FALLBACK.finditer(text, m.start(), m.end()):
                starts.append(f.start())
                ends.append(f.end())
            pos = m.end()
        _spacy_bounds(text, pos, len(text), starts, ends)
    return starts, ends


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside (re-entrant).

    Millions of small tuples trigger it over and over (a 10 MB note took 32 s instead
    of 4 s); word ranges, spans and problems form no reference cycles, so nothing
    is kept longer than it would be.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Words:
    """The word view of one document (read-only).

    Attributes:
        ranges: half-open character ranges of the words, sorted, non-overlapping.
        starts, ends: the same offsets as two int64 arrays (vectorised lookups;
            a 30 MB note has 6 million words, so ``ranges`` is built only when read).
        forced_splits: offsets where a word of the base tokenisation (the source's
            own tokens, or :func:`tokenize`) was split because a span edge fell
            strictly inside it; sorted, unique.  ``spanqa check`` reports them as W203.
    """

    def __init__(self, ranges: Sequence[Range] | None = None, forced_splits: tuple[int, ...] = (), *,
                 starts: Sequence[int] | None = None, ends: Sequence[int] | None = None) -> None:
        if ranges is not None:
            self._ranges: tuple[Range, ...] | None = tuple(ranges)
            starts, ends = [a for a, _ in self._ranges], [b for _, b in self._ranges]
        else:
            self._ranges = None
        self._starts = np.asarray(starts if starts is not None else (), np.int64)
        self._ends = np.asarray(ends if ends is not None else (), np.int64)
        self._forced = tuple(forced_splits)

    @property
    def ranges(self) -> tuple[Range, ...]:
        if self._ranges is None:
            self._ranges = tuple(zip(self._starts.tolist(), self._ends.tolist()))
        return self._ranges

    @property
    def starts(self) -> np.ndarray:
        return self._starts

    @property
    def ends(self) -> np.ndarray:
        return self._ends

    @property
    def forced_splits(self) -> tuple[int, ...]:
        return self._forced

    def __len__(self) -> int:
        return len(self._starts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Words):
            return NotImplemented
        return self._forced == other._forced and np.array_equal(self._starts, other._starts) \
            and np.array_equal(self._ends, other._ends)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Words({len(self)} words, forced_splits={self._forced!r})"


def span_edges(doc: "Document") -> set[int]:
    """Every character offset where a span of ``doc`` (hull or fragment) starts or ends."""
    edges: set[int] = set()
    for s in doc.spans or ():
        edges.add(s.start)
        edges.add(s.end)
        for a, b in s.pieces:
            edges.add(a)
            edges.add(b)
    return edges


def doc_words(doc: "Document") -> Words:
    """The words every token-level consumer uses for ``doc``.

    ``doc.tokens`` when the source had its own tokenisation, else
    :func:`tokenize` of ``doc.text``; then every span edge (hull and fragment
    edges) that falls strictly inside a word splits it, and is listed in
    ``forced_splits``.  An edge on whitespace or on a word edge needs no split.

    >>> from spanqa.core.document import Document
    >>> from spanqa.core.span import Span
    >>> w = doc_words(Document("d", "took aspirin81 daily", (Span("d", 5, 12, "Drug"),)))
    >>> w.ranges, w.forced_splits
    (((0, 4), (5, 12), (12, 14), (15, 20)), (12,))
    """
    with gc_paused():
        if doc.tokens is not None:
            s_list, e_list = [a for a, _ in doc.tokens], [b for _, b in doc.tokens]
        else:
            s_list, e_list = word_bounds(doc.text)
        edges = np.asarray(sorted(span_edges(doc)), np.int64)
        starts, ends = np.asarray(s_list, np.int64), np.asarray(e_list, np.int64)
        i = np.searchsorted(starts, edges, side="right") - 1
        j = np.maximum(i, 0)
        forced = edges[(i >= 0) & (starts[j] < edges) & (edges < ends[j])] if len(starts) else edges[:0]
        if not len(forced):
            return Words(starts=starts, ends=ends, forced_splits=())
        return Words(_cut(list(zip(s_list, e_list)), forced.tolist()), tuple(forced.tolist()))


def sentence_ranges(doc: "Document", words: Words | None = None) -> list[Range]:
    """Sentences of ``doc`` as half-open character ranges, in order.

    ``doc.sentences`` when the source gave them; otherwise a rule: a sentence
    ends at a newline between two words, or after a word made only of ``.?!``
    when the next word starts with an upper-case letter or a digit - but never
    inside a span (hull).  Each range runs from its first word's start to its
    last word's end, and together they cover all words of ``words`` (default
    :func:`doc_words`).

    >>> from spanqa.core.document import Document
    >>> d = Document("d", "BP 120/80. Pt well.\\nNo pain")
    >>> [d.text[a:b] for a, b in sentence_ranges(d)]
    ['BP 120/80.', 'Pt well.', 'No pain']
    """
    if doc.sentences is not None:
        return list(doc.sentences)
    words = words if words is not None else doc_words(doc)
    if not len(words):
        return []
    text = doc.text
    starts, ends = words.starts, words.ends
    gap_a, gap_b = ends[:-1], starts[1:]  # the gap after word k: text[gap_a[k]:gap_b[k]]
    newlines = np.fromiter((m.start() for m in _NEWLINE.finditer(text)), np.int64)
    brk = np.searchsorted(newlines, gap_b) > np.searchsorted(newlines, gap_a)  # a newline in the gap
    runs = [(m.start(), m.end()) for m in _PUNCT_RUN.finditer(text)]  # maximal runs of . ? !
    if runs:
        run_a = np.asarray([r[0] for r in runs], np.int64)
        run_b = np.asarray([r[1] for r in runs], np.int64)
        r = np.searchsorted(run_a, starts[:-1], side="right") - 1
        rj = np.maximum(r, 0)
        punct = (r >= 0) & (run_a[rj] <= starts[:-1]) & (ends[:-1] <= run_b[rj])  # word made only of .?!
        for k in np.flatnonzero(punct & ~brk).tolist():
            c = text[int(gap_b[k])]
            brk[k] = c.isupper() or c.isdigit()
    zones: list[Range] = []  # merged span hulls: no break at x when a < x < b
    for a, b in sorted((s.start, s.end) for s in doc.spans or ()):
        if zones and a < zones[-1][1]:
            zones[-1] = (zones[-1][0], max(zones[-1][1], b))
        else:
            zones.append((a, b))
    if zones:
        za = np.asarray([z[0] for z in zones], np.int64)
        zb = np.asarray([z[1] for z in zones], np.int64)
        z = np.searchsorted(za, gap_b - 1, side="right") - 1
        zj = np.maximum(z, 0)
        brk &= ~((z >= 0) & (za[zj] < gap_b) & (gap_b < zb[zj]))
    cuts = np.flatnonzero(brk)
    firsts = np.concatenate([starts[:1], gap_b[cuts]]).tolist()
    lasts = np.concatenate([gap_a[cuts], ends[-1:]]).tolist()
    return list(zip(firsts, lasts))


__all__ = ["CHUNK_CHARS", "CLINICAL_INFIXES", "CLINICAL_SUFFIXES", "LONG_RUN_CHARS", "Range", "Words",
           "clinical_tokenizer", "doc_words", "gc_paused", "sentence_ranges", "span_edges", "tokenize", "word_bounds"]
