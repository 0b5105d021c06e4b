"""Annotator agreement: pairwise span F1, token-level Cohen's kappa, Krippendorff's alpha.

Input: two or more annotations (:class:`~spanqa.core.document.Corpus`) of the same
documents.  The first is the **reference for coordinates**: documents are
matched to it (by id or order, as in :func:`spanqa.compare.comparison.match_documents`),
every other annotator's spans are mapped onto its texts (texts may differ in
whitespace only, else ``E301``), and only the documents that **every**
annotator has and annotated are scored (the others are reported as ``W301`` /
``W302`` and counted), so all numbers refer to one document set.

Measures:

- **span F1** for every pair ``(a, b)``, strict and overlap
  (:func:`spanqa.compare.metrics.span_metrics`; F1 is symmetric, precision/recall read
  ``a`` against ``b``), plus the kinds of disagreement (:class:`~spanqa.compare.comparison.Kind`).
- **Cohen's kappa** for every pair over **word tags**: the words of
  :func:`spanqa.corpus.tokenize.doc_words` (the source's tokens if any), split at the
  span edges of *both* annotators, tagged IOB2 (:func:`spanqa.corpus.bio.spans_to_tags`)
  and scored with :func:`sklearn.metrics.cohen_kappa_score`.
- **Krippendorff's alpha** (nominal, package ``krippendorff``) across all
  annotators, the units being the words split at *every* annotator's edges.
- **per label**: mean pairwise strict and overlap F1, and a binary alpha
  (word inside a span of this label or not).
- the **share of documents with any disagreement** (any non-exact component in
  any pair); above ``flag_share`` (default 15 %) the result is flagged
  (``W305``): the instructions are likely unclear.

Word tags are flat: where one annotator's spans overlap, the longest wins and
the others are left out of kappa/alpha (``W304``, counted); span F1 sees them all.
When every word carries the same tag for everyone, kappa and alpha are 1.0
(perfect agreement; the formulas themselves are 0/0 there).

>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.span import Span
>>> text = "Pt took aspirin 81 mg daily"
>>> a = Corpus((Document("d", text, (Span("d", 8, 15, "Drug"), Span("d", 16, 21, "Dose"))),))
>>> b = Corpus((Document("d", text, (Span("d", 8, 15, "Drug"), Span("d", 16, 18, "Dose"))),))
>>> ag = agreement([a, b], names=["ann1", "ann2"])
>>> ag.pairs[0].strict.f1, ag.pairs[0].overlap.f1, ag.disagreement_share
(0.5, 1.0, 1.0)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from spanqa.compare.comparison import Comparison, DocPair, Kind, Match, align_documents, compare_spans, match_documents
from spanqa.compare.metrics import PRF, span_metrics
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, fail
from spanqa.core.span import Span
from spanqa.corpus.bio import spans_to_tags


def _doc_words(doc: Document) -> tuple[tuple[int, int], ...]:
    """The word view of ``doc`` split at its span edges (spanqa.corpus.tokenize when available)."""
    try:
        from spanqa.corpus.tokenize import doc_words
    except ImportError:  # pragma: no cover - the tokenizer module ships with spanqa
        import re
        edges = sorted({e for s in doc.spans or () for p in s.pieces for e in p})
        words = list(doc.tokens) if doc.tokens is not None else [m.span() for m in re.finditer(r"\w+|[^\w\s]", doc.text)]
        out = []
        for a, b in words:
            cuts = [e for e in edges if a < e < b]
            for x, y in zip([a] + cuts, cuts + [b]):
                out.append((x, y))
        return tuple(out)
    return tuple(doc_words(doc).ranges)


def word_tags(doc: Document, span_sets: Sequence[Sequence[Span]]
              ) -> tuple[tuple[tuple[int, int], ...], list[list[str]], list[list[Span]]]:
    """The shared word view of ``doc`` for several span sets, and each set's IOB2 word tags.

    Words are split at every edge of every set.  Returns ``(words, tags, dropped)``
    where ``dropped[k]`` lists set ``k``'s spans that could not be tagged flat.
    """
    merged = doc.evolve(spans=tuple(s for spans in span_sets for s in spans))
    words = _doc_words(merged)
    tags: list[list[str]] = []
    dropped: list[list[Span]] = []
    for spans in span_sets:
        lost: list[Span] = []
        tags.append(spans_to_tags(words, spans, scheme="IOB2", on_drop=lost.append))
        dropped.append(lost)
    return words, tags, dropped


def kappa(a: Sequence[str], b: Sequence[str]) -> float:
    """Cohen's kappa of two tag sequences; 1.0 when they are identical (also if single-valued)."""
    if list(a) == list(b):
        return 1.0
    from sklearn.metrics import cohen_kappa_score  # imported here: sklearn takes seconds to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(list(a), list(b)))


def alpha(rows: Sequence[Sequence[str]]) -> float:
    """Nominal Krippendorff's alpha, annotators x units; 1.0 when all rows are identical."""
    if not rows or not rows[0]:
        return float("nan")
    if all(list(r) == list(rows[0]) for r in rows):
        return 1.0
    import krippendorff

    domain = sorted({t for r in rows for t in r})
    code = {t: i for i, t in enumerate(domain)}
    data = np.array([[code[t] for t in r] for r in rows], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal",
                                     value_domain=list(range(len(domain)))))


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of annotators ``a`` and ``b`` on the common documents."""

    a: str
    b: str
    strict: PRF
    overlap: PRF
    kappa: float
    kinds: Mapping[str, int]
    n_words: int
    comparison: Comparison = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "f1_strict": self.strict.f1, "f1_overlap": self.overlap.f1,
                "strict": self.strict.to_dict(), "overlap": self.overlap.to_dict(), "kappa": _num(self.kappa),
                "kinds": dict(self.kinds), "words": self.n_words}


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


@dataclass(frozen=True)
class Agreement:
    """Everything :func:`agreement` measures (see the module docstring)."""

    annotators: tuple[str, ...]
    pairs: tuple[PairAgreement, ...]
    alpha: float
    per_label: Mapping[str, Mapping[str, float]]
    documents: int
    documents_disagreeing: int
    flag_share: float
    problems: tuple[Problem, ...] = ()
    n_words: int = 0
    dropped_spans: int = 0

    @property
    def disagreement_share(self) -> float:
        return self.documents_disagreeing / self.documents if self.documents else 0.0

    @property
    def flagged(self) -> bool:
        """True when more than ``flag_share`` of the documents hold a disagreement."""
        return self.disagreement_share > self.flag_share

    def records(self) -> Iterator[dict[str, Any]]:
        """Disagreement records: :meth:`Component.to_dict` plus ``"annotators": [a, b]``, per pair."""
        for pair in self.pairs:
            for rec in pair.comparison.records():
                rec["annotators"] = [pair.a, pair.b]
                yield rec

    def to_dict(self) -> dict[str, Any]:
        return {"annotators": list(self.annotators), "documents": self.documents,
                "documents_disagreeing": self.documents_disagreeing,
                "disagreement_share": self.disagreement_share, "flag_share": self.flag_share, "flagged": self.flagged,
                "alpha": _num(self.alpha), "words": self.n_words, "dropped_spans": self.dropped_spans,
                "pairs": [p.to_dict() for p in self.pairs],
                "per_label": {k: {m: _num(v) for m, v in d.items()} for k, d in self.per_label.items()},
                "problems": [p.to_dict() for p in self.problems]}


def _common_documents(corpora: Sequence[Corpus], names: Sequence[str], match: Match, problems: list[Problem]
                      ) -> tuple[list[Document], list[list[list[Span]]]]:
    """Reference documents every annotator has and annotated, and each annotator's spans in reference coordinates."""
    ref = corpora[0]
    lookups: list[dict[str, Document]] = []
    for name, corpus in zip(names[1:], corpora[1:]):
        pairs, _, only_ref, only_other = match_documents(ref, corpus, match=match)
        for i in only_ref:
            problems.append(Problem("W301", Location(path=ref.source, doc_id=i), f"missing from annotator {name}"))
        for i in only_other:
            problems.append(Problem("W301", Location(path=corpus.source, doc_id=i),
                                    f"annotator {name} only (not in {names[0]})"))
        lookups.append({a.id: b for a, b in pairs})
    docs: list[Document] = []
    spans: list[list[list[Span]]] = [[] for _ in corpora]
    for doc in ref.documents:
        found = [lk.get(doc.id) for lk in lookups]
        others = [o for o in found if o is not None]
        if len(others) < len(found):
            continue
        unannotated = [n for n, d in zip(names, [doc, *others]) if not d.annotated]
        if unannotated:
            problems.append(Problem("W302", Location(path=ref.source, doc_id=doc.id),
                                    f"not annotated by {', '.join(unannotated)}; document ignored"))
            continue
        docs.append(doc)
        spans[0].append(list(doc.spans or ()))
        for k, other in enumerate(others, start=1):
            _, mapped, _ = align_documents(doc, other, problems=problems)
            spans[k].append(mapped)
    return docs, spans


def agreement(corpora: Sequence[Corpus], *, names: Sequence[str] | None = None, match: Match = "auto",
              flag_share: float = 0.15) -> Agreement:
    """Measure agreement between two or more annotations of the same documents.

    ``names`` default to ``corpus.source`` (or ``A``, ``B``, ...).  Raises ``E303``
    for fewer than two annotations or repeated names, ``E301``/``E302`` as the comparator.
    """
    if len(corpora) < 2:
        raise fail("E303", f"got {len(corpora)} annotation(s)")
    names = list(names) if names is not None else [c.source or chr(ord("A") + i) for i, c in enumerate(corpora)]
    if len(names) != len(corpora):
        raise fail("E303", f"{len(names)} names for {len(corpora)} annotations")
    if len(set(names)) != len(names):  # e.g. the same file twice: keep them apart
        names = [f"{chr(ord('A') + i)}:{n}" for i, n in enumerate(names)]
    problems: list[Problem] = []
    docs, spans = _common_documents(corpora, names, match, problems)

    # pairwise span comparison and kappa
    pairs: list[PairAgreement] = []
    disagreeing: set[str] = set()
    dropped_total = 0
    for i, j in combinations(range(len(corpora)), 2):
        comps = []
        tags_i: list[str] = []
        tags_j: list[str] = []
        doc_pairs = []
        for d, doc in enumerate(docs):
            c = compare_spans(doc.id, spans[i][d], spans[j][d])
            comps.extend(c)
            if any(x.kind is not Kind.EXACT for x in c):
                disagreeing.add(doc.id)
            _, (ti, tj), _ = word_tags(doc, [spans[i][d], spans[j][d]])
            tags_i += ti
            tags_j += tj
            doc_pairs.append(DocPair(doc.id, doc.id, doc.text, doc.text, "equal", len(spans[i][d]), len(spans[j][d])))
        cmp = Comparison(tuple(comps), tuple(doc_pairs), (), "id")
        pairs.append(PairAgreement(names[i], names[j], span_metrics(cmp, mode="strict").micro,
                                   span_metrics(cmp, mode="overlap").micro, kappa(tags_i, tags_j),
                                   {k.value: n for k, n in cmp.counts.items()}, len(tags_i), cmp))

    # alpha over all annotators, overall and per label
    rows: list[list[str]] = [[] for _ in corpora]
    for d, doc in enumerate(docs):
        _, tags, dropped = word_tags(doc, [spans[k][d] for k in range(len(corpora))])
        for k, t in enumerate(tags):
            rows[k] += t
            if dropped[k]:
                dropped_total += len(dropped[k])
                s = dropped[k][0]
                problems.append(Problem("W304", Location(path=doc.source, doc_id=doc.id, start=s.start, end=s.end,
                                                         excerpt=s.text_in(doc.text)),
                                        f"{len(dropped[k])} span(s) of annotator {names[k]} overlap a longer one"))
    labels = sorted({s.label for per_ann in spans for per_doc in per_ann for s in per_doc})
    per_label: dict[str, dict[str, float]] = {}
    per_pair = [(span_metrics(p.comparison, mode="strict").per_label, span_metrics(p.comparison, mode="overlap").per_label)
                for p in pairs]
    for lab in labels:
        # mean over the pairs where at least one of the two used the label
        strict = [m[0][lab].f1 for m in per_pair if lab in m[0]]
        overlap = [m[1][lab].f1 for m in per_pair if lab in m[1]]
        per_label[lab] = {
            "f1_strict": float(np.mean(strict)) if strict else float("nan"),
            "f1_overlap": float(np.mean(overlap)) if overlap else float("nan"),
            "alpha": alpha([["1" if t != "O" and t[2:] == lab else "0" for t in r] for r in rows]),
            "spans": sum(1 for per_ann in spans for per_doc in per_ann for s in per_doc if s.label == lab)}
    result = Agreement(tuple(names), tuple(pairs), alpha(rows), per_label, len(docs), len(disagreeing), flag_share,
                       tuple(problems), len(rows[0]), dropped_total)
    if result.flagged:
        result = Agreement(result.annotators, result.pairs, result.alpha, result.per_label, result.documents,
                           result.documents_disagreeing, flag_share,
                           result.problems + (Problem("W305", Location(path=corpora[0].source),
                                                      f"{result.documents_disagreeing} of {result.documents} documents "
                                                      f"({result.disagreement_share:.0%}) hold a disagreement, "
                                                      f"above {flag_share:.0%}"),),
                           result.n_words, result.dropped_spans)
    return result


__all__ = ["Agreement", "PairAgreement", "agreement", "alpha", "kappa", "word_tags"]
