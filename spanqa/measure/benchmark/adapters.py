"""spanqa's own outputs as detections and sentence scores (the rows the benchmark calls spanqa).

- :func:`finding_detections`: ``findings.jsonl`` - the **cut list** spanqa reports;
- :func:`candidate_detections`: every candidate of the ranking by ``1 - p_error`` - the
  **threshold-free ranking** (or one signal alone, for the design tables);
- :func:`quality_detections`: every labelled span by its quality plus the missing findings;
- :func:`sentence_noisy_or` / :func:`gold_path_scores`: sentence scores from the ranking and
  from the out-of-fold model alone.

spanqa states a kind for every detection (the comparator's, or the alternative it found), so
its ``kind_agreement`` is reported; offsets are the audited document's characters.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spanqa.core.document import Corpus
from spanqa.corpus.bio import spans_to_tags
from spanqa.measure.benchmark.scoring import Detection
from spanqa.measure.benchmark.sentences import Sentence
from spanqa.measure.benchmark.truth import KIND_GROUP

#: spanqa finding kind -> kind group (``low_confidence`` goes by its best alternative, below)
FINDING_GROUP: dict[str, str] = dict(KIND_GROUP, ambiguous="type", pattern="type")
#: ``inconsistent`` findings: action -> group
ACTION_GROUP: dict[str, str] = {"add": "missing", "delete": "spurious", "relabel": "type"}
#: ``low_confidence`` findings: alternative kind -> group
ALTERNATIVE_GROUP: dict[str, str] = {"label": "type", "boundary": "boundary", "none": "spurious"}
#: candidate kind -> kind group (``exact``: a span the model reproduces; what the ranking doubts there is mostly
#: its type)
CANDIDATE_GROUP: dict[str, str] = dict(KIND_GROUP, inconsistent="missing", exact="type")
#: each signal's direction: the candidate is more suspicious when ``direction * value`` is lower
SIGNAL_DIRECTION: dict[str, float] = {"log_p_labels": 1.0, "log_p_labels_per_word": 1.0, "log_p_suggestion": -1.0,
                                      "label_marginal": 1.0, "min_label_marginal": 1.0, "surface_agree": 1.0,
                                      "margin": 1.0}


def _record(f: Any) -> Mapping[str, Any]:
    if isinstance(f, Mapping):
        return f
    return {"doc_id": f.doc_id, "kind": f.kind, "action": f.action, "score": f.score, "evidence": f.evidence,
            "labels": [{"start": s.start, "end": s.end} for s in f.labels],
            "suggestion": [{"start": s.start, "end": s.end} for s in f.suggestion]}


def finding_detections(findings: Iterable[Any]) -> list[Detection]:
    """spanqa findings (:class:`spanqa.score.findings.Finding` or their ``findings.jsonl`` dicts) as detections.

    Range = hull of the finding's labels and suggestion; kind group from :data:`FINDING_GROUP`,
    ``low_confidence`` by its evidence's best alternative (:data:`ALTERNATIVE_GROUP`);
    ``out_of_distribution`` (a whole note, no span) is left out.
    """
    out = []
    for f in findings:
        rec = _record(f)
        spans = list(rec["labels"]) + list(rec["suggestion"])
        if not spans or rec["kind"] == "out_of_distribution":
            continue
        kind = rec["kind"]
        if kind == "inconsistent":
            group = ACTION_GROUP.get(rec.get("action", ""), "type")  # "": no action, the default
        elif kind == "low_confidence":
            alt = (rec.get("evidence") or {}).get("alternative") or {}
            group = ALTERNATIVE_GROUP.get(alt.get("kind", ""), "type")
        else:
            group = FINDING_GROUP.get(kind, "type")
        out.append(Detection(rec["doc_id"], min(int(s["start"]) for s in spans), max(int(s["end"]) for s in spans),
                             group, float(rec["score"]), f"spanqa:{kind}"))
    return out


def quality_detections(qualities: Iterable[Any], findings: Iterable[Any]) -> list[Detection]:
    """Every labelled span by its quality, plus the ``missing`` findings (candidate entities no label covers).

    ``qualities``: :class:`spanqa.score.quality.SpanQuality` (spans without marginals are left out);
    kind group from the span's best alternative (:data:`ALTERNATIVE_GROUP`).
    """
    out = []
    for q in qualities:
        if q.quality is None:
            continue
        alt = (q.alternative or {}).get("kind", "")
        out.append(Detection(q.span.doc_id, q.span.start, q.span.end, ALTERNATIVE_GROUP.get(alt, "type"),
                             float(q.quality), "spanqa:span"))
    out.extend(d for d in finding_detections(findings) if d.source == "spanqa:missing")
    return out


def candidate_detections(ranking: Any, *, signal: str | None = None) -> list[Detection]:
    """Every candidate of a :class:`spanqa.score.ranking.ranker.Ranking` as a detection: scored by ``1 - p_error``, or
    by one signal alone (``signal``; oriented by :data:`SIGNAL_DIRECTION`; candidates without it are left out)."""
    out = []
    for c, p in zip(ranking.candidates, ranking.p_error):
        if signal is None:
            score = 1.0 - float(p)
        else:
            v = c.values.get(signal)
            if v is None or v != v:
                continue
            score = SIGNAL_DIRECTION[signal] * float(v)
        out.append(Detection(c.doc_id, c.start, c.end, CANDIDATE_GROUP.get(c.kind, "type"), score,
                             f"spanqa:{c.kind}"))
    return out


def sentence_noisy_or(sentences: Sequence[Sentence], ranking: Any) -> np.ndarray:
    """``(n_sentences,)``: P(no label error in the sentence) = prod over its candidates of ``1 - p_error``
    (candidates treated as independent; 1.0 for a sentence without one)."""
    by_doc: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for c, p in zip(ranking.candidates, ranking.p_error):
        by_doc[c.doc_id].append((c.start, c.end, float(p)))
    out = np.ones(len(sentences), dtype=np.float64)
    for i, s in enumerate(sentences):
        for a, b, p in by_doc.get(s.doc_id, ()):
            if a < s.end and s.start < b:
                out[i] *= 1.0 - p
    return out


def gold_path_scores(corpus: Corpus, oof: Any, sentences: Sequence[Sentence]) -> np.ndarray:
    """``(n_sentences,)``: the out-of-fold model's probability that a sentence's labels are exactly right
    (:meth:`spanqa.score.quality.TagLattice.path_prob` of the sentence's gold IOB2 path)."""
    from spanqa.score.quality import TagLattice

    by_id = corpus.by_id()
    out = np.ones(len(sentences), dtype=np.float64)
    cache: dict[str, tuple[TagLattice, list[str]]] = {}
    for i, s in enumerate(sentences):
        a, b = s.words
        m = oof.docs.get(s.doc_id)
        if m is None or a >= b:
            continue
        if s.doc_id not in cache:
            cache.clear()
            cache[s.doc_id] = (TagLattice(m.probs, oof.tags), spans_to_tags(m.words, by_id[s.doc_id].spans or ()))
        lat, tags = cache[s.doc_id]
        out[i] = lat.path_prob(a, b, tags[a:b])
    return out


__all__ = ["ACTION_GROUP", "ALTERNATIVE_GROUP", "CANDIDATE_GROUP", "FINDING_GROUP", "SIGNAL_DIRECTION",
           "candidate_detections", "finding_detections", "gold_path_scores", "quality_detections",
           "sentence_noisy_or"]
