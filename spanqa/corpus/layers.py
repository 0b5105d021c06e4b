"""Nested annotation as layers a flat tagger can hold, derived from the corpus's own overlap structure.

A flat IOB2 tagger holds one span per word; clinical schemas nest (a Treatment holds its Drug, Dosage and Route;
a Subject its Age and Gender) and sometimes give the same words two labels (PHEE marks some time expressions both
Duration and Time_elapsed).  :func:`label_layers` splits the labels into the fewest groups it can find such that
no two labels of one group ever overlap in the corpus: two labels *conflict* when a span of one overlaps a span of
the other anywhere; the conflict graph is coloured greedily, the most frequent label first (largest-first
colouring).  Each group is one *layer*, audited as a flat corpus of its own (:func:`restrict`), so every span is
judged by a tagger that can hold it.  A label that overlaps itself (a Drug inside a Drug) cannot be split this
way: within its layer the longer span is kept, as before (``overlap_dropped``).

All layers see the same words - the corpus's words split at the edges of every labelled span, whatever its layer
(:func:`restrict` fixes them as the documents' tokens) - so the frozen encoder's features are computed once and
shared.

>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.span import Span
>>> doc = Document("d", "Pt on aspirin 81mg daily.", (Span("d", 6, 18, "Treatment"), Span("d", 6, 13, "Drug"),
...                                                   Span("d", 14, 18, "Dosage")))
>>> label_layers(Corpus.from_docs([doc]))
[['Dosage', 'Drug'], ['Treatment']]
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from spanqa.core.document import Corpus


def conflicts(corpus: Corpus) -> tuple[dict[str, set[str]], Counter]:
    """Per label, the other labels whose spans overlap one of its spans somewhere; and every label's span count."""
    graph: dict[str, set[str]] = {}
    count: Counter = Counter()
    for doc in corpus.documents:
        spans = sorted(doc.spans or (), key=lambda s: (s.start, -s.end))
        for s in spans:
            count[s.label] += 1
            graph.setdefault(s.label, set())
        open_: list = []
        for s in spans:  # sweep: spans still open when s starts overlap it
            open_ = [o for o in open_ if o.end > s.start]
            for o in open_:
                if o.label != s.label:
                    graph[s.label].add(o.label)
                    graph[o.label].add(s.label)
            open_.append(s)
    return graph, count


def label_layers(corpus: Corpus) -> list[list[str]]:
    """The labels in groups that never overlap each other (module docstring); one group when nothing nests across
    labels.  Groups are ordered by their span count, largest first; labels within a group by frequency."""
    graph, count = conflicts(corpus)
    order = sorted(graph, key=lambda lab: (-count[lab], lab))
    layers: list[list[str]] = []
    for lab in order:
        for layer in layers:
            if not graph[lab] & set(layer):
                layer.append(lab)
                break
        else:
            layers.append([lab])
    return sorted(layers, key=lambda layer: -sum(count[x] for x in layer)) if layers else [[]]


def restrict(corpus: Corpus, labels: Sequence[str]) -> Corpus:
    """``corpus`` with only the spans of ``labels``; every annotated document stays annotated (an empty layer says
    'none of these labels here'), and every document's words are fixed as its tokens: the full corpus's words, split
    at the edges of every labelled span, so that all layers share one word view (and one feature cache)."""
    return layer_corpora(corpus, [labels])[0]


def layer_corpora(corpus: Corpus, layers: Sequence[Sequence[str]]) -> list[Corpus]:
    """:func:`restrict` for every layer, the corpus's words computed once."""
    from spanqa.corpus.tokenize import doc_words

    words = [tuple(doc_words(d).ranges) for d in corpus.documents]
    out = []
    for labels in layers:
        keep = set(labels)
        out.append(corpus.evolve(documents=tuple(
            d.evolve(spans=None if d.spans is None else tuple(s for s in d.spans if s.label in keep), tokens=w)
            for d, w in zip(corpus.documents, words))))
    return out


__all__ = ["conflicts", "layer_corpora", "label_layers", "restrict"]
