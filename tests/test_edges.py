"""Span edges kept out of words when decoding (spanqa.model.edges) and the split/merge support rules."""

from __future__ import annotations

import doctest

import numpy as np

from spanqa.compare.comparison import compare_spans
from spanqa.core.document import Document
from spanqa.core.span import Span
from spanqa.model import edges
from spanqa.model.edges import ATOMIC, joiner_edges_allowed, word_boundaries
from spanqa.model.predictions import DocMarginals, decode
from spanqa.score.quality import WordIndex
from spanqa.score.ranking.consistency import SurfaceIndex
from spanqa.score.ranking.signals import coordination_splits, structure_support

TAGS = ["O", "B-D", "I-D"]


def test_edges_doctests():
    assert doctest.testmod(edges).failed == 0


def _marg(rows):
    return np.asarray(rows, dtype=np.float64)


def test_decode_never_ends_a_span_on_a_hyphen_where_the_corpus_does_not():
    text = "Saethre-Chotzen syndrome"
    words = ((0, 7), (7, 8), (8, 15), (16, 24))
    # the model alone would say: 'Saethre-' is one D, 'Chotzen syndrome' another
    probs = _marg([[.05, .9, .05], [.05, .05, .9], [.05, .85, .1], [.05, .05, .9]])
    m = DocMarginals("d", words, probs.astype(np.float32), fold=0, seed=0)
    free = [(s.start, s.end) for s in decode(m, TAGS)]
    assert free == [(0, 8), (8, 24)]
    seams = word_boundaries(text, words, joiner_edges=False)
    assert seams.tolist() == [0, ATOMIC, ATOMIC, 0]
    assert [(s.start, s.end) for s in decode(m, TAGS, seams)] == [(0, 24)]
    # where the corpus puts edges at joiners, a span may end before one but never contain it at its edge
    loose = word_boundaries(text, words, joiner_edges=True)
    assert [text[s.start:s.end] for s in decode(m, TAGS, loose)] == ["Saethre-Chotzen syndrome"]
    probs2 = _marg([[.05, .9, .05], [.9, .05, .05], [.9, .05, .05], [.9, .05, .05]])   # 'azithromycin' | -induced
    m2 = DocMarginals("d", words, probs2.astype(np.float32), fold=0, seed=0)
    assert [(s.start, s.end) for s in decode(m2, TAGS, loose)] == [(0, 7)]
    assert [(s.start, s.end) for s in decode(m2, TAGS, seams)] in ([], [(0, 15)])


def test_joiner_convention_from_the_corpus():
    chem = [Document(f"c{i}", "azithromycin-induced ototoxicity", (Span(f"c{i}", 0, 12, "Chem"),)) for i in range(3)]
    allowed, ev = joiner_edges_allowed(chem)
    assert allowed and ev["joiner_edges"] == 3 and ev["share"] == 1.0
    dis = [Document("d", "Saethre-Chotzen syndrome", (Span("d", 0, 24, "D"),))]
    assert joiner_edges_allowed(dis)[0] is False


def test_split_needs_support_beyond_the_model():
    def support(text, labels, other, corpus_docs=(), coordination=True):
        words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+|[^\w\s]", text)]
        docs = [Document("d", text, tuple(labels)), *corpus_docs]
        surface = SurfaceIndex(__import__("spanqa.core.document", fromlist=["Corpus"]).Corpus.from_docs(docs),
                               {d.id: [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+|[^\w\s]", d.text)]
                                for d in docs})
        comp = next(c for c in compare_spans("d", labels, other) if c.kind.value in ("split", "merge"))
        return structure_support(comp, text, words, WordIndex(words), surface, coordination=coordination)

    t = "non-asbestos related mesothelioma"
    whole = [Span("d", 0, 33, "D")]
    assert support(t, whole, [Span("d", 0, 12, "D"), Span("d", 21, 33, "D")]) == 0.0        # the model alone
    other = Document("e", "mesothelioma and non-asbestos", (Span("e", 0, 12, "D"), Span("e", 17, 29, "D")))
    assert support(t, whole, [Span("d", 0, 12, "D"), Span("d", 21, 33, "D")], [other]) == 1.0  # both labelled elsewhere
    t2 = "breast and ovarian cancer"
    assert support(t2, [Span("d", 0, 25, "D")], [Span("d", 0, 6, "D"), Span("d", 11, 25, "D")]) == 1.0
    assert support(t2, [Span("d", 0, 25, "D")], [Span("d", 0, 6, "D"), Span("d", 11, 25, "D")],
                   coordination=False) == 0.0                                                  # NCBI-like corpora
    t3 = "aspirin 81mg daily"
    assert support(t3, [Span("d", 0, 12, "Drug")], [Span("d", 0, 7, "Drug"), Span("d", 8, 12, "Strength")]) == 1.0
    # merges: one label, touching pieces
    t4 = "Duchenne muscular dystrophy"
    assert support(t4, [Span("d", 0, 8, "D"), Span("d", 9, 27, "D")], [Span("d", 0, 27, "D")]) == 1.0
    assert support(t4, [Span("d", 0, 8, "C"), Span("d", 9, 27, "D")], [Span("d", 0, 27, "D")]) == 0.0


def test_coordination_is_split_evidence_only_where_spans_rarely_coordinate():
    plain = [("aspirin and heparin", Span("d", 0, 7, "Drug"))] * 200
    assert coordination_splits(plain)
    assert not coordination_splits(plain + [("breast or ovarian cancer", Span("d", 0, 24, "D"))] * 5)
