"""Signals: one row of evidence per candidate finding (numbers only; the ranking combines them).

A **candidate** is a place a reviewer might look at, with the labels there and what would
replace them:

- every non-``exact`` component of ``compare_spans(labels, predictions)`` (kinds ``type`` ...
  ``spurious``): the model disagrees;
- every ``exact`` component: a labelled span the model reproduces (kind ``exact``; it can
  still be wrong - the model learned the corpus's habits);
- every occurrence of a labelled string left unlabelled (reading ``O``) that neither a label
  nor a prediction touches and that most other occurrences label (kind ``inconsistent``,
  suggestion: the majority label): the corpus disagrees where the model is silent.

Each candidate carries the values of :data:`SIGNALS` (a missing value is ``nan``):

===========================  ================================================================
``log_p_labels``             log P(the labels are exactly right on the candidate's words),
                             IOB2 chain of :class:`spanqa.score.quality.TagLattice` (floor 1e-6)
``log_p_labels_per_word``    the same divided by the number of words (long spans are not
                             penalised for their length)
``log_p_suggestion``         log P(the suggestion is exactly right there) - for ``exact``
                             the best competing explanation's probability
``label_marginal``           mean over the words of the marginal of the labels' own tag
                             (nessie's classification uncertainty, per word)
``min_label_marginal``       its minimum over the words
``surface_agree``            leave-one-out share of the other occurrences of the labelled
                             string(s) read as labelled here (:mod:`spanqa.score.ranking.consistency`;
                             for a candidate without labels: the share read as ``O``)
``surface_support``          log(1 + number of those other occurrences)
``margin``                   training dynamics: the mean word margin of the labels while the
                             other folds' heads trained on this note (``fast.dynamics``)
``structure``                splits and merges only: 1 when something beyond the model's path
                             supports the change (:func:`structure_support`), else 0
``label_f1``                 the out-of-fold model's span F1 on the weakest label the candidate
                             involves (its reliability there; 1 when not given)
``long_form``                the candidate is about a short form defined in its note ("AS" after
                             "Angelman syndrome (AS)", :mod:`spanqa.model.abbreviations`) whose
                             long form is labelled: +1 when the change makes the short form an
                             entity (add, relabel), -1 when it removes it (delete); else 0
===========================  ================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np

from spanqa.compare.comparison import Component, Kind
from spanqa.core.span import Span
from spanqa.corpus.bio import spans_to_tags
from spanqa.score.quality import TagLattice, WordIndex
from spanqa.score.ranking.consistency import SurfaceIndex

SIGNALS: tuple[str, ...] = ("log_p_labels", "log_p_labels_per_word", "log_p_suggestion", "label_marginal",
                            "min_label_marginal", "surface_agree", "surface_support", "margin", "structure",
                            "label_f1", "long_form")
#: candidate kinds: the comparator's disagreements, ``exact`` and ``inconsistent``
CANDIDATE_KINDS: tuple[str, ...] = tuple(k.value for k in Kind if k is not Kind.EXACT) + ("exact", "inconsistent")
#: probabilities are floored here before the log
LOG_FLOOR = 1e-6
#: an unlabelled occurrence becomes an ``inconsistent`` candidate when at least this many other
#: occurrences exist and more than half of them carry one label
MIN_SUPPORT = 2
#: words that coordinate two entities ("breast and ovarian cancer"): a split there is plausible
COORDINATORS = frozenset({"and", "or", "nor", "&", "plus", "with", "versus", "vs", "vs."})
#: characters between two pieces that make a split plausible
SEPARATORS = frozenset(",;/")
#: a corpus whose labels span a coordination at least this often does not count coordination as split evidence
COORDINATED_SHARE = 0.01


@dataclass(frozen=True)
class Candidate:
    """One candidate finding: kind, the labelled spans, the suggested spans, its words and its signal values."""

    doc_id: str
    kind: str
    action: str
    labels: tuple[Span, ...]
    suggestion: tuple[Span, ...]
    words: tuple[int, int]
    values: Mapping[str, float] = field(default_factory=dict)
    #: how the OTHER occurrences of the (least consistent) labelled string read: reading -> count
    surface: Mapping[str, int] = field(default_factory=dict)
    #: for a short form defined in the note: ``{"short", "long", "label", "p_long_entity"}`` (its long form, that
    #: one's label, and the model's probability that the long form is an entity)
    abbreviation: Mapping[str, Any] | None = None
    #: how the OTHER occurrences of the string read when followed by the same word (``DM locus``): reading -> count
    context: Mapping[str, int] = field(default_factory=dict)

    @property
    def start(self) -> int:
        return min(s.start for s in self.labels + self.suggestion)

    @property
    def end(self) -> int:
        return max(s.end for s in self.labels + self.suggestion)


def _log(p: float) -> float:
    return math.log(max(float(p), LOG_FLOOR))


def _surface(surface: SurfaceIndex | None, index: WordIndex, doc_id: str, spans: Sequence[Span],
             a: int, b: int) -> tuple[float, float, dict[str, int]]:
    if surface is None:
        return math.nan, math.nan, {}
    places = [(a, b, "O")] if not spans else []
    for s in spans:
        rng = index.range(s.start, s.end)
        if rng is not None:
            places.append((rng[0], rng[1], s.label))
    found: tuple[float, float, dict[str, int]] | None = None
    for lo, hi, reading in places:       # the least consistent labelled span speaks for the candidate
        share, n = surface.agreement(doc_id, lo, hi, reading)
        if n and (found is None or share < found[0]):
            found = (share, math.log1p(n), surface.other_readings(doc_id, lo, hi))
    return found or (0.5, 0.0, {})


def _labelled_elsewhere(surface: SurfaceIndex, text: str, span: Span, index: WordIndex,
                        words: Sequence[tuple[int, int]]) -> bool:
    """Some occurrence of the span's exact word string is labelled (any label) in the corpus.  The span itself is
    a suggestion here (a piece inside a labelled span, or a merge over several), so it is never one of them."""
    rng = index.range(span.start, span.end)
    if rng is None:
        return False
    counts = surface.readings(tuple(text[x:y] for x, y in words[rng[0]:rng[1]]))
    return sum(v for k, v in counts.items() if k != "O") > 0


def coordinated(text: str) -> bool:
    """The text holds a coordinator word or a separator character (``breast and ovarian cancer``)."""
    return any(c in SEPARATORS for c in text) or any(t in COORDINATORS for t in text.lower().split())


def coordination_splits(corpus_spans: Sequence[tuple[str, Span]]) -> bool:
    """Whether coordination between two pieces is evidence for a split in this corpus: only when its labels rarely
    span a coordination themselves (below :data:`COORDINATED_SHARE` of the spans; NCBI labels "breast or ovarian
    cancer" as one CompositeMention, a medication list labels each drug).  ``corpus_spans``: (text, span) pairs."""
    n = len(corpus_spans)
    hits = sum(coordinated(span.text_in(text)) for text, span in corpus_spans)
    return n > 0 and hits / n < COORDINATED_SHARE


def structure_support(comp: Component, text: str, words: Sequence[tuple[int, int]], index: WordIndex,
                      surface: SurfaceIndex | None, *, coordination: bool = True) -> float:
    """For a ``split`` or ``merge``: 1.0 when something beyond the model's path supports it, else 0.0 (NaN for other
    kinds).

    A split is supported when its pieces are separated by a coordinator or a separator (``breast and ovarian
    cancer``, ``a, b``; only with ``coordination``, :func:`coordination_splits`), when two pieces of different labels meet where a word meets a number (``aspirin`` +
    ``81mg``: a name beside a quantity), or when every piece is labelled elsewhere in the corpus as a span of its
    own.  A merge is
    supported when the labelled pieces carry one label and touch (nothing but spaces between them), or the
    merged string is labelled elsewhere as one span.  The model alone proposes splits like ``'non-asbestos'`` + ``'mesothelioma'``; these
    rules are what an annotator would look for before agreeing.
    """
    if comp.kind not in (Kind.SPLIT, Kind.MERGE):
        return math.nan
    pieces = sorted(comp.other if comp.kind is Kind.SPLIT else comp.labels, key=lambda s: s.start)
    gaps = [text[x.end:y.start] for x, y in zip(pieces, pieces[1:])]
    if comp.kind is Kind.SPLIT:
        for x, y, gap in zip(pieces, pieces[1:], gaps):
            if coordination and coordinated(gap):
                return 1.0
            left, right = text[x.start:x.end], text[y.start:y.end]
            if x.label != y.label and left[-1:].isdigit() != right[:1].isdigit():
                return 1.0          # a name beside a quantity: "aspirin" + "81mg", "K" + "4.1 mmol/L"
        if surface is not None and all(_labelled_elsewhere(surface, text, p, index, words) for p in pieces):
            return 1.0
        return 0.0
    if all(not g.strip() for g in gaps) and len({p.label for p in pieces}) == 1:
        return 1.0                  # one entity cut in two; two labels side by side are a deliberate annotation
    if surface is not None and comp.other and _labelled_elsewhere(surface, text, comp.other[0], index, words):
        return 1.0
    return 0.0


def _context(surface: SurfaceIndex | None, index: WordIndex, doc_id: str, spans: Sequence[Span], text: str,
             words: Sequence[tuple[int, int]]) -> dict[str, int]:
    """How the other occurrences of the first span's string read in the same context (one span only)."""
    if surface is None or len(spans) != 1:
        return {}
    rng = index.range(spans[0].start, spans[0].end)
    if rng is None:
        return {}
    return surface.context_readings(doc_id, rng[0], rng[1], tuple(text[x:y] for x, y in words[rng[0]:rng[1]]))


def _reliability(reliability: Mapping[str, float] | None, spans: Sequence[Span]) -> float:
    if not reliability:
        return 1.0
    vals = [reliability[s.label] for s in spans if s.label in reliability]
    return float(min(vals)) if vals else 1.0


def long_forms(text: str, words: Sequence[tuple[int, int]], spans: Sequence[Span]
               ) -> dict[tuple[int, int], tuple[int, int, str]]:
    """Word range of each short-form occurrence whose long form a labelled span overlaps -> the long form's word
    range and that span's label (:func:`spanqa.model.abbreviations.abbreviation_links`; text and labels of one
    note)."""
    from spanqa.model.abbreviations import abbreviation_links

    out = {}
    for rng, (a, b) in abbreviation_links(text, words).items():
        lo, hi = words[a][0], words[b - 1][1]
        lab = next((s.label for s in spans if s.start < hi and lo < s.end), None)
        if lab is not None:
            out[rng] = (a, b, lab)
    return out


def _long_form(kind: str, action: str, a: int, b: int, forms: Mapping[tuple[int, int], tuple[int, int, str]]) -> float:
    if (a, b) not in forms:
        return 0.0
    if action == "delete":
        return -1.0
    if action in ("add", "relabel"):
        return 1.0
    return 0.0


def _abbreviation(text: str, words: Sequence[tuple[int, int]], a: int, b: int,
                  forms: Mapping[tuple[int, int], tuple[int, int, str]], lattice: TagLattice) -> dict[str, Any] | None:
    if (a, b) not in forms:
        return None
    lo, hi, label = forms[(a, b)]
    return {"short": text[words[a][0]:words[b - 1][1]], "long": text[words[lo][0]:words[hi - 1][1]], "label": label,
            "p_long_entity": round(1.0 - lattice.none_prob(lo, hi), 6)}


def doc_candidates(doc_id: str, words: Sequence[tuple[int, int]], lattice: TagLattice,
                   components: Sequence[Component], *, surface: SurfaceIndex | None = None,
                   margins: np.ndarray | None = None, text: str = "",
                   reliability: Mapping[str, float] | None = None,
                   labels: Sequence[Span] = (), coordination: bool = True) -> list[Candidate]:
    """Every candidate of one annotated document with its signal values (module docstring).

    Args:
        words: the marginals' word ranges; ``lattice`` their :class:`TagLattice`.
        components: ``compare_spans(doc_id, labels, predictions)`` (labels first).
        surface: the corpus's :class:`SurfaceIndex` (None: no surface signals, no ``inconsistent``).
        margins: the document's training-dynamics margins (``DocMarginals.margins``) or None.
        reliability: per label, the out-of-fold model's span F1 on it (``label_f1``).
        labels: the note's labelled spans (which long forms are labelled, ``long_form``).
        coordination: coordination between pieces supports a split (:func:`coordination_splits`).
    """
    index = WordIndex(words)
    forms = long_forms(text, words, labels) if text else {}
    probs = np.exp(lattice.logp)
    tag_col = {t: j for j, t in enumerate(lattice.tags)}
    out: list[Candidate] = []
    touched = np.zeros(len(words), dtype=bool)
    for comp in components:
        rng = index.range(comp.start, comp.end)
        if rng is None:
            continue
        a, b = rng
        touched[a:b] = True
        label_path = spans_to_tags(words[a:b], comp.labels)
        cols = [tag_col.get(t) for t in label_path]
        marg = np.asarray([probs[a + i, c] if c is not None else 0.0 for i, c in enumerate(cols)])
        p_lab = lattice.path_prob(a, b, label_path)
        sug: tuple[Span, ...]
        if comp.kind is Kind.EXACT:
            span = comp.labels[0]
            p_sug = lattice.best_alternative(a, b, span.label)["p"]
            kind, action, sug = "exact", "keep", ()
        else:
            p_sug = lattice.path_prob(a, b, spans_to_tags(words[a:b], comp.other))
            kind, action, sug = comp.kind.value, comp.action, comp.other
        share, support, readings = _surface(surface, index, comp.doc_id, comp.labels, a, b)
        values = {"log_p_labels": _log(p_lab), "log_p_labels_per_word": _log(p_lab) / (b - a),
                  "log_p_suggestion": _log(p_sug), "label_marginal": float(marg.mean()),
                  "min_label_marginal": float(marg.min()), "surface_agree": share, "surface_support": support,
                  "margin": _margin(margins, a, b, comp.labels, index),
                  "structure": structure_support(comp, text, words, index, surface, coordination=coordination),
                  "label_f1": _reliability(reliability, comp.labels + comp.other),
                  "long_form": _long_form(kind, action, a, b, forms)}
        out.append(Candidate(doc_id, kind, action, comp.labels, sug, (a, b), values, readings,
                             _abbreviation(text, words, a, b, forms, lattice),
                             _context(surface, index, doc_id, comp.labels or comp.other, text, words)))
    if surface is not None:
        extra = _inconsistent(doc_id, words, lattice, surface, touched, probs, tag_col)
        out.extend(replace(c, values=dict(c.values, label_f1=_reliability(reliability, c.suggestion),
                                          long_form=_long_form(c.kind, c.action, *c.words, forms)),
                           abbreviation=_abbreviation(text, words, *c.words, forms, lattice),
                           context=_context(surface, index, doc_id, c.suggestion, text, words)) for c in extra)
    return out


def _margin(margins: np.ndarray | None, a: int, b: int, labels: Sequence[Span], index: WordIndex) -> float:
    if margins is None:
        return math.nan
    m = margins[a:b]
    m = m[~np.isnan(m)]
    return float(m.mean()) if len(m) else math.nan


def _inconsistent(doc_id: str, words: Sequence[tuple[int, int]], lattice: TagLattice, surface: SurfaceIndex,
                  touched: np.ndarray, probs: np.ndarray, tag_col: Mapping[str, int]) -> list[Candidate]:
    """Unlabelled, untouched occurrences that most other occurrences of the string label one way."""
    out = []
    o = tag_col["O"]
    for (_, a, b), (form, reading) in surface.occurrences_in(doc_id):
        if reading != "O" or touched[a:b].any():
            continue
        counts = surface.readings(form)
        counts["O"] -= 1
        total = sum(counts.values())
        if total < MIN_SUPPORT:
            continue
        label, n = max(((lab, c) for lab, c in counts.items() if lab != "O"), key=lambda x: (x[1], x[0]),
                       default=(None, 0))
        if label is None or n * 2 <= total:
            continue
        span = Span(doc_id, words[a][0], words[b - 1][1], label)
        p_none = lattice.none_prob(a, b)
        p_sug = lattice.span_prob(a, b, label)
        marg = probs[a:b, o]
        values = {"log_p_labels": _log(p_none), "log_p_labels_per_word": _log(p_none) / (b - a),
                  "log_p_suggestion": _log(p_sug), "label_marginal": float(marg.mean()),
                  "min_label_marginal": float(marg.min()), "surface_agree": counts["O"] / total,
                  "surface_support": math.log1p(total), "margin": math.nan, "structure": math.nan}
        out.append(Candidate(doc_id, "inconsistent", "add", (), (span,), (a, b), values,
                             {k: v for k, v in sorted(counts.items()) if v > 0}))
        touched[a:b] = True
    return out


def feature_names() -> list[str]:
    """Columns of :func:`feature_matrix`."""
    return [*SIGNALS, "margin_missing", *(f"kind={k}" for k in CANDIDATE_KINDS)]


def feature_matrix(candidates: Sequence[Candidate]) -> np.ndarray:
    """``(n, len(feature_names()))`` float64: the signals (``nan`` margin -> 0 plus a flag; other ``nan`` -> the
    neutral value 0.5 share / 0 support) and one-hot kinds."""
    kinds = {k: i for i, k in enumerate(CANDIDATE_KINDS)}
    x = np.zeros((len(candidates), len(SIGNALS) + 1 + len(CANDIDATE_KINDS)), dtype=np.float64)
    neutral = {"surface_agree": 0.5, "surface_support": 0.0, "margin": 0.0, "structure": 1.0, "label_f1": 1.0,
               "long_form": 0.0}
    for r, c in enumerate(candidates):
        for j, name in enumerate(SIGNALS):
            v = c.values.get(name, math.nan)
            x[r, j] = neutral.get(name, 0.0) if v is None or math.isnan(v) else v
        m = c.values.get("margin", math.nan)
        x[r, len(SIGNALS)] = 1.0 if m is None or math.isnan(m) else 0.0
        x[r, len(SIGNALS) + 1 + kinds[c.kind]] = 1.0
    return x


def candidate_key(doc_id: str, labels: Sequence[Span], suggestion: Sequence[Span]) -> tuple:
    """What identifies a candidate: its document and the spans on both sides (offsets and labels)."""
    keys = lambda spans: tuple(sorted((s.start, s.end, s.label) for s in spans))  # noqa: E731
    return doc_id, keys(labels), keys(suggestion)


__all__ = ["CANDIDATE_KINDS", "Candidate", "SIGNALS", "candidate_key", "doc_candidates", "feature_matrix",
           "feature_names"]
