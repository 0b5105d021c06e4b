"""``spanqa check``: validate a corpus and summarise it before any training time is spent.

:func:`check_corpus` takes a corpus read with ``read_corpus(path, strict=False)``
(so reading errors - ``E201`` offsets out of range, ``E202`` text mismatch, ... -
are already in ``corpus.problems`` and the bad spans were skipped) and adds the
content findings:

======  =====================================================================
W201    overlapping spans (one problem per pair; nested vs crossing counted apart)
W202    discontinuous span
W203    span edge inside a word of the tokenisation (:func:`spanqa.corpus.tokenize.doc_words`)
W204    empty document (no text, or only whitespace)
W205    duplicate document text
W206    rare label (fewer than ``rare_threshold`` spans)
W207    span (or fragment) starts or ends on whitespace
W208    duplicate span (same pieces, same label)
W209    label contains whitespace
======  =====================================================================

Spans of an in-memory corpus that were never validated are checked with
:func:`spanqa.corpus.validate.check_span` (``E201``/``E203``/``E204``) and left out of
the statistics when invalid.  Every problem says where: file path and line
(from ``Document.source``), document id, character offsets and an excerpt.

>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.span import Span
>>> doc = Document("n1", "took aspirin  daily", (Span("n1", 5, 13, "Drug"), Span("n1", 5, 13, "Drug")))
>>> report = check_corpus(Corpus.from_docs([doc]))
>>> sorted(report.problems_by_code.items())
[('W206', 1), ('W207', 1), ('W208', 1)]
>>> report.ok, report.spans
(True, 2)
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Problem, Reporter
from spanqa.core.span import Span
from spanqa.corpus.layers import label_layers
from spanqa.corpus.tokenize import Range, Words, doc_words, gc_paused, sentence_ranges
from spanqa.corpus.validate import check_span

#: Histogram bins (inclusive lower, inclusive upper; None = no upper bound).
WORD_BINS: tuple[tuple[int, int | None], ...] = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 7), (8, 10), (11, 20), (21, None))
CHAR_BINS: tuple[tuple[int, int | None], ...] = ((1, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, None))

_EXCERPT = 60
_SOURCE_LINE = re.compile(r"^(.*):(\d+)$")


@dataclass(frozen=True)
class LengthStats:
    """Distribution of span lengths (in words or characters).

    ``histogram`` is ``((bin, count), ...)`` with bins like ``"1"``, ``"5-7"``, ``">20"``.
    """

    count: int
    min: int | None
    median: float | None
    p95: float | None
    max: int | None
    histogram: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, values: Sequence[int], bins: Sequence[tuple[int, int | None]]) -> "LengthStats":
        hist = []
        for lo, hi in bins:
            name = f">{lo - 1}" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}")
            hist.append((name, sum(1 for v in values if v >= lo and (hi is None or v <= hi))))
        if not values:
            return cls(0, None, None, None, None, tuple(hist))
        arr = np.asarray(values)
        return cls(len(values), int(arr.min()), float(np.median(arr)), float(np.percentile(arr, 95)),
                   int(arr.max()), tuple(hist))

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "min": self.min, "median": self.median, "p95": self.p95, "max": self.max,
                "histogram": [{"bin": b, "count": n} for b, n in self.histogram]}


@dataclass(frozen=True)
class CheckReport:
    """What ``spanqa check`` found: corpus statistics and every problem.

    Counts of spans are over annotated documents and valid spans only.
    ``overlapping`` counts spans involved in at least one overlap; ``nested``
    and ``crossing`` count overlapping *pairs* (one hull inside the other vs
    partly overlapping); ``cross_token_edges`` counts spans with an edge inside
    a word of the base tokenisation.  ``sentences`` comes from the source
    where it gives them and from :func:`spanqa.corpus.tokenize.sentence_ranges`
    otherwise (``sentence_source`` says which).
    """

    source: str | None
    format: str
    documents: int
    annotated: int
    not_annotated: int
    empty: int
    duplicate: int
    words: int
    sentences: int
    sentence_source: Literal["source", "rule", "mixed", "none"]
    spans: int
    spans_per_label: Mapping[str, int]
    span_words: LengthStats
    span_chars: LengthStats
    discontinuous: int
    overlapping: int
    nested: int
    crossing: int
    cross_token_edges: int
    duplicate_spans: int
    whitespace_edges: int
    rare_labels: tuple[str, ...]
    rare_threshold: int
    problems: tuple[Problem, ...] = field(default=())
    #: the layers ``spanqa audit`` will judge nested labels in (:func:`spanqa.corpus.layers.label_layers`); one
    #: layer when no two labels overlap
    layers: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def problems_by_code(self) -> dict[str, int]:
        return dict(sorted(Counter(p.code for p in self.problems).items()))

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when no problem is an error (warnings do not count)."""
        return self.errors == 0

    def to_dict(self, *, max_per_code: int | None = None) -> dict[str, Any]:
        """JSON-ready dict; ``max_per_code`` keeps only the first N problems of each code
        (``problems_by_code`` always counts all of them)."""
        kept: list[Problem] = []
        seen: Counter[str] = Counter()
        for p in self.problems:
            seen[p.code] += 1
            if max_per_code is None or seen[p.code] <= max_per_code:
                kept.append(p)
        return {
            "source": self.source, "format": self.format, "ok": self.ok,
            "errors": self.errors, "warnings": self.warnings,
            "documents": {"total": self.documents, "annotated": self.annotated,
                          "not_annotated": self.not_annotated, "empty": self.empty, "duplicate": self.duplicate},
            "words": self.words,
            "sentences": {"count": self.sentences, "source": self.sentence_source},
            "spans": {"total": self.spans, "per_label": dict(self.spans_per_label),
                      "discontinuous": self.discontinuous, "overlapping": self.overlapping,
                      "nested_pairs": self.nested, "crossing_pairs": self.crossing,
                      "cross_token_edges": self.cross_token_edges, "duplicate": self.duplicate_spans,
                      "whitespace_edges": self.whitespace_edges},
            "span_length": {"words": self.span_words.to_dict(), "chars": self.span_chars.to_dict()},
            "rare_labels": list(self.rare_labels), "rare_threshold": self.rare_threshold,
            "layers": [list(x) for x in self.layers],
            "problems_by_code": self.problems_by_code,
            "problems": [p.to_dict() for p in kept],
            "problems_shown": len(kept),
        }


# --------------------------------------------------------------------------- helpers
def _where(doc: Document) -> dict[str, Any]:
    """``path``/``line`` from ``doc.source`` (``"file"`` or ``"file:12"``) plus the doc id."""
    where: dict[str, Any] = {"doc_id": doc.id}
    if doc.source:
        m = _SOURCE_LINE.match(doc.source)
        if m:
            where["path"], where["line"] = m.group(1), int(m.group(2))
        else:
            where["path"] = doc.source
    return where


def _excerpt(text: str, start: int, end: int) -> str:
    start, end = max(0, start), min(len(text), end)
    return text[start:end] if end - start <= _EXCERPT else text[start:start + _EXCERPT - 3] + "..."


def _span_excerpt(text: str, span: Span) -> str:
    s = span.text_in(text, " ... ")
    return s if len(s) <= _EXCERPT else s[:_EXCERPT - 3] + "..."


def _span_where(where: dict, text: str, span: Span) -> dict:
    """``where`` of a problem about ``span`` (built only when one is reported: a corpus has millions of spans)."""
    return {**where, "start": span.start, "end": span.end, "excerpt": _span_excerpt(text, span)}


def _span_word_counts(spans: Sequence[Span], words: Words) -> list[int]:
    """How many words each span covers (summed over its fragments), vectorised over the document's spans."""
    pieces = [(i, a, b) for i, s in enumerate(spans) for a, b in s.pieces]
    idx = np.fromiter((p[0] for p in pieces), np.int64, len(pieces))
    lo = np.searchsorted(words.starts, np.fromiter((p[1] for p in pieces), np.int64, len(pieces)), side="left")
    hi = np.searchsorted(words.ends, np.fromiter((p[2] for p in pieces), np.int64, len(pieces)), side="right")
    counts = np.zeros(len(spans), np.int64)
    np.add.at(counts, idx, np.maximum(0, hi - lo))
    return counts.tolist()


def _base_word(words: Sequence[Range], forced: set[int], edge: int) -> Range:
    """The word of the base tokenisation that ``doc_words`` split at ``edge``."""
    ends = [b for _, b in words]
    i = bisect.bisect_left(ends, edge)  # words[i] ends at edge
    lo = hi = i
    while lo > 0 and words[lo][0] in forced and words[lo - 1][1] == words[lo][0]:
        lo -= 1
    while hi + 1 < len(words) and words[hi][1] in forced and words[hi + 1][0] == words[hi][1]:
        hi += 1
    return words[lo][0], words[hi][1]


def _overlap_pairs(spans: Sequence[Span]) -> Iterable[tuple[Span, Span]]:
    """Pairs of spans sharing at least one character (duplicates excluded), by start."""
    order = sorted(spans, key=lambda s: (s.start, -s.end, s.label))
    active: list[Span] = []
    for s in order:
        active = [a for a in active if a.end > s.start]
        for a in active:
            if a.pieces == s.pieces and a.label == s.label:
                continue  # a duplicate (W208), not an overlap
            if a.overlaps(s):
                yield a, s
        active.append(s)


# --------------------------------------------------------------------------- the check
def check_corpus(corpus: Corpus, *, rare_threshold: int = 5) -> CheckReport:
    """Check ``corpus`` and summarise it; see the module docstring for the codes.

    Args:
        corpus: read with ``read_corpus(path, strict=False)``; its ``problems``
            come first in the report.
        rare_threshold: labels with fewer spans than this are reported (W206).

    Returns:
        a :class:`CheckReport`; ``report.ok`` is False when any problem is an error.
    """
    with gc_paused():
        return _check(corpus, rare_threshold)


def _check(corpus: Corpus, rare_threshold: int) -> CheckReport:
    reporter = Reporter(strict=False)
    report = reporter.report
    n_annotated = n_empty = n_dup_docs = n_words = n_sentences = 0
    sentence_kinds: set[str] = set()
    first_text: dict[str, str] = {}
    label_counts: Counter[str] = Counter()
    label_first: dict[str, tuple[Document, Span]] = {}
    word_lengths: list[int] = []
    char_lengths: list[int] = []
    n_disc = n_nested = n_crossing = n_cross_token = n_dup_spans = n_ws = 0
    overlapping_total = 0

    for doc in corpus.documents:
        where = _where(doc)
        text = doc.text
        if not text.strip():
            n_empty += 1
            report("W204", "no text" if not text else f"only whitespace ({len(text)} characters)", **where)
        elif text in first_text:
            n_dup_docs += 1
            report("W205", f"same text as document {first_text[text]}", excerpt=_excerpt(text, 0, _EXCERPT), **where)
        else:
            first_text[text] = doc.id

        spans: list[Span] = []
        if doc.spans is not None:
            n_annotated += 1
            for s in doc.spans:
                if check_span(s, text, reporter, **{k: v for k, v in where.items() if k != "doc_id"}):
                    spans.append(s)
        valid = doc.evolve(spans=tuple(spans)) if doc.spans is not None else doc
        words = doc_words(valid)
        n_words += len(words)
        sentence_kinds.add("source" if doc.sentences is not None else "rule")
        n_sentences += len(sentence_ranges(valid, words))
        if not spans:
            continue

        forced = set(words.forced_splits)
        word_lengths.extend(_span_word_counts(spans, words))
        seen: dict[tuple[tuple[Range, ...], str], Span] = {}
        for s in spans:
            label_counts[s.label] += 1
            label_first.setdefault(s.label, (doc, s))
            pieces = s.pieces
            char_lengths.append(sum(b - a for a, b in pieces))
            key = (pieces, s.label)
            if key in seen:
                n_dup_spans += 1
                report("W208", f"{s.label} span repeated (first at {seen[key].start}-{seen[key].end})",
                       **_span_where(where, text, s))
                continue  # its other findings were reported for the first copy
            seen[key] = s
            if s.is_discontinuous:
                n_disc += 1
                report("W202", f"{s.label} span in {len(pieces)} fragments "
                               + ", ".join(f"{a}-{b}" for a, b in pieces), **_span_where(where, text, s))
            inside = sorted({e for p in pieces for e in p if e in forced}) if forced else ()
            if inside:
                n_cross_token += 1
                detail = "; ".join(f"{'start' if e in (a for a, _ in pieces) else 'end'} {e} splits word "
                                   f"{text[slice(*_base_word(words.ranges, forced, e))]!r}" for e in inside)
                report("W203", f"{s.label} span: {detail}", **_span_where(where, text, s))
            ws = [f"{'starts' if side == 0 else 'ends'} with {text[x]!r} at {x}"
                  for a, b in pieces for side, x in ((0, a), (1, b - 1)) if text[x].isspace()]
            if ws:
                n_ws += 1
                report("W207", f"{s.label} span " + ", ".join(ws), **_span_where(where, text, s))

        involved: set[int] = set()
        for a, b in _overlap_pairs(list(seen.values())):
            involved.update((id(a), id(b)))
            nested = (a.start <= b.start and b.end <= a.end) or (b.start <= a.start and a.end <= b.end)
            if nested:
                n_nested += 1
            else:
                n_crossing += 1
            kind = ("nested (same extent)" if a.start == b.start and a.end == b.end else "nested") if nested \
                else "crossing"
            report("W201", f"{kind}: {a.label} {a.start}-{a.end} {_span_excerpt(text, a)!r} and "
                           f"{b.label} {b.start}-{b.end} {_span_excerpt(text, b)!r}",
                   **where, start=min(a.start, b.start), end=max(a.end, b.end),
                   excerpt=_excerpt(text, min(a.start, b.start), max(a.end, b.end)))
        overlapping_total += len(involved)

    rare = tuple(sorted((lab for lab, n in label_counts.items() if n < rare_threshold),
                        key=lambda lab: (label_counts[lab], lab)))
    for lab in rare:
        doc, s = label_first[lab]
        report("W206", f"label {lab!r} has {label_counts[lab]} span(s) (threshold {rare_threshold})",
               **_where(doc), start=s.start, end=s.end, excerpt=_span_excerpt(doc.text, s))
    for lab in sorted(label_counts):
        if any(c.isspace() for c in lab):
            doc, s = label_first[lab]
            report("W209", f"label {lab!r} ({label_counts[lab]} span(s))",
                   **_where(doc), start=s.start, end=s.end, excerpt=_span_excerpt(doc.text, s))

    if not corpus.documents:
        sentence_source = "none"
    elif len(sentence_kinds) == 1:
        sentence_source = sentence_kinds.pop()
    else:
        sentence_source = "mixed"
    return CheckReport(
        source=corpus.source, format=corpus.format,
        documents=len(corpus.documents), annotated=n_annotated, not_annotated=len(corpus.documents) - n_annotated,
        empty=n_empty, duplicate=n_dup_docs, words=n_words, sentences=n_sentences,
        sentence_source=sentence_source,  # type: ignore[arg-type]
        spans=sum(label_counts.values()),
        spans_per_label=dict(sorted(label_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        span_words=LengthStats.of(word_lengths, WORD_BINS), span_chars=LengthStats.of(char_lengths, CHAR_BINS),
        discontinuous=n_disc, overlapping=overlapping_total, nested=n_nested, crossing=n_crossing,
        cross_token_edges=n_cross_token, duplicate_spans=n_dup_spans, whitespace_edges=n_ws,
        rare_labels=rare, rare_threshold=rare_threshold, layers=tuple(tuple(x) for x in label_layers(corpus) if x),
        problems=(*corpus.problems, *reporter.problems),
    )


def problems_by_code(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped by code, codes sorted (errors first, since ``E`` < ``W``)."""
    groups: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        groups[p.code].append(p)
    return dict(sorted(groups.items()))


__all__ = ["CHAR_BINS", "CheckReport", "LengthStats", "WORD_BINS", "check_corpus", "problems_by_code"]
