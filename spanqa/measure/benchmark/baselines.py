"""The baselines, each in its best form and on the same out-of-fold word marginals as spanqa.

- **cleanlab** ``token_classification`` (:func:`cleanlab_baseline`), as its maintainers run it, on
  IOB2 classes and on *merged* classes (``B-X`` and ``I-X`` summed into ``X`` with
  ``cleanlab.internal.token_classification_utils.merge_probs``, the recipe of cleanlab's CoNLL
  tutorial and benchmark).  Three outputs per class set:

  - the **threshold-free ranking**: every word, one detection each, scored by its token label
    quality (``rank.get_label_quality_scores``, self-confidence);
  - the **cut list**: the words ``filter.find_label_issues`` returns, in its order, scored by the
    same token quality;
  - **sentence scores**: the worst token's quality (``get_label_quality_scores``'s sentence score).

  cleanlab states no kind for a word, so its detections carry none.
- **nessie-style** *retag* (:func:`nessie_retag`, a flagger: every non-``exact`` component of the
  labels against the decoded predictions, comparator kinds) and *classification uncertainty*
  (:func:`nessie_uncertainty`, every labelled span by the mean marginal of its own tags; no kind).
- **surface-form variation** (:func:`surface_form_detections`, no model): strings read several
  ways in the corpus; kinds from the readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from spanqa.compare.comparison import Kind, compare_spans
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.corpus.bio import spans_to_tags
from spanqa.measure.benchmark.scoring import Detection
from spanqa.measure.benchmark.sentences import Sentence, merge_tag
from spanqa.measure.benchmark.truth import KIND_GROUP

Range = tuple[int, int]


def _gold_ids(doc: Document, m: Any, tag_id: Mapping[str, int]) -> np.ndarray:
    return np.asarray([tag_id[t] for t in spans_to_tags(m.words, doc.spans or ())], dtype=np.int64)


def _normalised(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
    return p / p.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class CleanlabOutput:
    """cleanlab on one class set: ``tokens`` (every word, the ranking), ``issues`` (``find_label_issues``, the cut
    list), ``sentence`` (worst-token score per sentence, 1.0 for a sentence without words)."""

    tokens: list[Detection]
    issues: list[Detection]
    sentence: np.ndarray


def cleanlab_inputs(corpus: Corpus, oof: Any, sentences: Sequence[Sentence], *, merged: bool
                    ) -> tuple[list[list[int]], list[np.ndarray], list[int], list[str]]:
    """cleanlab's ``labels`` and ``pred_probs`` (one entry per sentence with words), the index of each entry's
    sentence, and the class names (IOB2 tags, or ``O`` + entity labels when ``merged``)."""
    tags = list(oof.tags)
    tag_id = {t: i for i, t in enumerate(tags)}
    if merged:
        classes = list(dict.fromkeys(["O", *sorted({merge_tag(t) for t in tags if t != "O"})]))
        maps = [classes.index(merge_tag(t)) for t in tags]
    else:
        classes, maps = tags, list(range(len(tags)))
    by_id = corpus.by_id()
    labels, probs, keep = [], [], []
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, s in enumerate(sentences):
        a, b = s.words
        if a >= b:
            continue
        if s.doc_id not in cache:
            m = oof.docs[s.doc_id]
            cache.clear()
            g = _gold_ids(by_id[s.doc_id], m, tag_id)
            p = _normalised(m.probs)
            if merged:
                from cleanlab.internal.token_classification_utils import merge_probs

                g = np.asarray([maps[x] for x in g], dtype=np.int64)
                p = merge_probs(p, maps)
            cache[s.doc_id] = (g, p)
        g, p = cache[s.doc_id]
        labels.append([int(x) for x in g[a:b]])
        probs.append(p[a:b])
        keep.append(i)
    return labels, probs, keep, classes


def cleanlab_baseline(corpus: Corpus, oof: Any, sentences: Sequence[Sentence], *, merged: bool = False
                      ) -> CleanlabOutput:
    """cleanlab ``token_classification`` on the out-of-fold word marginals (module docstring); ``n_jobs=1``."""
    from cleanlab.token_classification.filter import find_label_issues
    from cleanlab.token_classification.rank import get_label_quality_scores

    labels, probs, keep, _ = cleanlab_inputs(corpus, oof, sentences, merged=merged)
    sent_scores = np.ones(len(sentences), dtype=np.float64)
    if not keep:
        return CleanlabOutput([], [], sent_scores)
    scores, token_scores = get_label_quality_scores(labels, probs)
    sent_scores[keep] = scores
    source = "cleanlab:merged" if merged else "cleanlab:iob2"

    def detection(si: int, wi: int) -> Detection:
        s = sentences[keep[si]]
        a, b = oof.docs[s.doc_id].words[s.words[0] + wi]
        return Detection(s.doc_id, int(a), int(b), None, float(token_scores[si].iloc[wi]), source)

    tokens = [detection(si, wi) for si in range(len(keep)) for wi in range(len(labels[si]))]
    issues = [detection(int(si), int(wi)) for si, wi in find_label_issues(labels, probs, n_jobs=1)]
    return CleanlabOutput(tokens, issues, sent_scores)


def nessie_retag(corpus: Corpus, oof: Any, predictions: Mapping[str, Sequence[Span]]) -> list[Detection]:
    """nessie-style *retag* flagger: each gold span whose decoded out-of-fold prediction differs.

    Components of ``compare_spans(gold, predicted)`` that are not ``exact`` and contain a gold
    span (``missing`` predictions are not gold spans and are left out); a flagger, so every
    detection scores 0 (all tied).  Kind group = the component's.
    """
    out = []
    for doc in corpus.documents:
        if doc.spans is None or doc.id not in oof.docs:
            continue
        for c in compare_spans(doc.id, list(doc.spans), list(predictions.get(doc.id, ()))):
            if c.kind is Kind.EXACT or not c.labels:
                continue
            spans = c.labels + c.other
            out.append(Detection(doc.id, min(s.start for s in spans), max(s.end for s in spans),
                                 KIND_GROUP[c.kind.value], 0.0, "retag"))
    return out


def nessie_uncertainty(corpus: Corpus, oof: Any) -> list[Detection]:
    """nessie-style *classification uncertainty* scorer over gold spans: the mean over the span's words of the
    marginal of its gold tag (``B-X`` on the first word, ``I-X`` on the others); every gold span is a detection,
    with no kind."""
    from spanqa.score.quality import word_range

    tags = list(oof.tags)
    tag_id = {t: i for i, t in enumerate(tags)}
    out = []
    for doc in corpus.documents:
        m = oof.docs.get(doc.id)
        if doc.spans is None or m is None:
            continue
        p = _normalised(m.probs) if len(m.words) else m.probs
        for s in doc.spans:
            rng = word_range(m.words, s.start, s.end)
            if rng is None:
                out.append(Detection(doc.id, s.start, s.end, None, 0.0, "uncertainty"))
                continue
            a, b = rng
            path = [tag_id.get(f"B-{s.label}")] + [tag_id.get(f"I-{s.label}")] * (b - a - 1)
            score = float(np.mean([p[a + i, j] if j is not None else 0.0 for i, j in enumerate(path)]))
            out.append(Detection(doc.id, s.start, s.end, None, score, "uncertainty"))
    return out


def surface_form_detections(corpus: Corpus, words: Mapping[str, Sequence[Range]] | None = None,
                            *, min_count: int = 2) -> list[Detection]:
    """Model-free *surface-form variation* detector over the whole corpus.

    Every occurrence of every labelled string (:class:`spanqa.score.ranking.consistency.SurfaceIndex`: exact word
    strings, case kept; a reading is the label of a span with exactly those words, or ``O`` when no span touches
    them).  A string with at least ``min_count`` readings of which at least two differ yields one detection per
    occurrence, scored by the share of its reading among the string's readings (a minority reading scores low).
    Kind group: reading ``O`` -> missing; else by the most frequent other reading of the string (ties by name):
    ``O`` -> spurious, a label -> type.

    ``words``: per document, the word ranges (default: :func:`spanqa.corpus.tokenize.doc_words`).
    """
    from spanqa.corpus.tokenize import doc_words
    from spanqa.score.ranking.consistency import SurfaceIndex

    docs = [d for d in corpus.documents if d.spans is not None]
    wmap = {d.id: (list(words[d.id]) if words is not None and d.id in words else list(doc_words(d).ranges))
            for d in docs}
    index = SurfaceIndex(corpus, wmap)
    out = []
    for form in index.forms():
        counts = index.readings(form)
        total = sum(counts.values())
        if total < min_count or len(counts) < 2:
            continue
        for o in index.occurrences(form):
            others = sorted(((n, r) for r, n in counts.items() if r != o.reading), key=lambda x: (-x[0], x[1]))
            group = "missing" if o.reading == "O" else ("spurious" if others[0][1] == "O" else "type")
            out.append(Detection(o.doc_id, o.start, o.end, group, counts[o.reading] / total, "surface"))
    return out


__all__ = ["CleanlabOutput", "cleanlab_baseline", "cleanlab_inputs", "nessie_retag", "nessie_uncertainty",
           "surface_form_detections"]
