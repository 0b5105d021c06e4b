"""Scoring error detectors against real corrections: span-level AP / R-precision, sentence-level AUPRC / AUROC.

Used by ``scripts/bench_detection.py`` (CoNLL-2003 against CoNLL++, Reiss et al. 2020 and
CleanCoNLL).  Numbers only; no model is run here.  All offsets are half-open **character
offsets of the audited (original) document**.

Vocabulary
----------
A **change** (:class:`Change`) is one non-``exact`` component of
``compare_corpora(original, corrected)`` - exactly the records of the corpus maintainers'
``diffs/*.jsonl``.  Its range is the hull of the component's spans on both sides (the
corrected side mapped into the original text).  A **detection** (:class:`Detection`) is
one finding of a method, reduced to document, character range, kind and score
(lower = more suspicious).  Both carry a *kind group* (:data:`GROUPS`):

==============  ===================================================
group           comparator kinds
==============  ===================================================
``type``        ``type``
``boundary``    ``boundary``, ``boundary_type``
``split_merge`` ``split``, ``merge``, ``complex``
``missing``     ``missing`` (an entity the original lacks)
``spurious``    ``spurious`` (an entity the original should not have)
==============  ===================================================

**A detection hits a change** when both are in the same document and their character
ranges overlap (share at least one character); for the per-kind scores the two must also
have the same kind group.

Span-level ranking metrics
--------------------------
Detections are ranked by score (ascending; ties broken by document, start, end, kind).
Walking down the ranking, each detection is matched to the not-yet-matched change it
hits with the largest character overlap (ties: the earlier change); it is a true positive
when it gets one, a false positive otherwise (a second detection of an already matched
change counts as a false positive, as in PASCAL VOC detection AP).  With ``R`` = number of
changes (of the kind, for per-kind scores):

- **AP** = sum over distinct score thresholds ``t`` (ascending) of
  ``(recall(t) - recall(t_prev)) * precision(t)``, where ``precision(t)`` and
  ``recall(t)`` = matched changes / ``R`` count every detection with score ``<= t``
  (tied detections enter together, as in scikit-learn's ``average_precision_score``).
  Changes no detection finds lower the recall, so AP <= the final recall.
- **R-precision** = true positives among the first ``R`` detections, divided by ``R``;
  when the cut falls inside a group of tied scores, the group contributes its expected
  share (``k * tp_group / n_group`` for ``k`` places), so the number does not depend on
  the tie order.  Fewer than ``R`` detections: all of them count, still divided by ``R``.

Sentence-level metrics (as in cleanlab's token-classification benchmark)
-------------------------------------------------------------------------
A sentence (the source's own segmentation) is **positive** when some change overlaps it.
Its score is given per method (cleanlab: the worst token's self-confidence; detectors
with findings: the minimum score of the findings overlapping it, ``1.0`` when none does).
AUPRC = ``sklearn.metrics.average_precision_score(positive, -score)``, AUROC =
``sklearn.metrics.roc_auc_score(positive, -score)``.

>>> changes = [Change("d", 0, 5, "type"), Change("d", 10, 15, "missing")]
>>> dets = [Detection("d", 0, 5, "type", 0.1), Detection("d", 20, 25, "spurious", 0.2),
...         Detection("d", 11, 12, "type", 0.3)]
>>> m = span_metrics(dets, changes)
>>> m["all"]["ap"], m["all"]["r_precision"], m["type"]["ap"], m["missing"]["ap"]
(0.8333, 0.5, 1.0, 0.0)
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np

from spanqa.bio import spans_to_tags, split_tag
from spanqa.comparison import Comparison, Kind, compare_spans
from spanqa.document import Corpus, Document
from spanqa.span import Span

Group = Literal["type", "boundary", "split_merge", "missing", "spurious"]
#: the kind groups, in table order
GROUPS: tuple[str, ...] = ("type", "boundary", "split_merge", "missing", "spurious")
#: comparator kind -> kind group
KIND_GROUP: dict[str, str] = {"type": "type", "boundary": "boundary", "boundary_type": "boundary",
                              "split": "split_merge", "merge": "split_merge", "complex": "split_merge",
                              "missing": "missing", "spurious": "spurious"}
Range = tuple[int, int]


@dataclass(frozen=True)
class Change:
    """One real correction: ``[start, end)`` in the original text, its kind group and comparator kind."""

    doc_id: str
    start: int
    end: int
    group: str
    kind: str = ""


@dataclass(frozen=True)
class Detection:
    """One finding of a detector: ``[start, end)``, kind group (None = no kind), score (lower = more suspicious)."""

    doc_id: str
    start: int
    end: int
    group: str | None
    score: float
    source: str = ""


# --------------------------------------------------------------------------- ground truth
def changes_from_comparison(cmp: Comparison) -> list[Change]:
    """Every non-``exact`` component of ``compare_corpora(original, corrected)`` as a :class:`Change`."""
    out = []
    for c in cmp.components:
        if c.kind is Kind.EXACT:
            continue
        spans = c.labels + c.other
        out.append(Change(c.doc_id, min(s.start for s in spans), max(s.end for s in spans),
                          KIND_GROUP[c.kind.value], c.kind.value))
    return out


# --------------------------------------------------------------------------- matching
def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def hits(d: Detection, c: Change, *, by_kind: bool = False) -> bool:
    """Same document, at least one shared character, and (``by_kind``) the same kind group."""
    if d.doc_id != c.doc_id or _overlap(d.start, d.end, c.start, c.end) == 0:
        return False
    return not by_kind or d.group == c.group


def rank(detections: Iterable[Detection]) -> list[Detection]:
    """Most suspicious first: by score, then document, start, end, kind (deterministic)."""
    return sorted(detections, key=lambda d: (d.score, d.doc_id, d.start, d.end, d.group or "", d.source))


def match(ranked: Sequence[Detection], changes: Sequence[Change], *, by_kind: bool = False) -> np.ndarray:
    """``(len(ranked),)`` bool: True where the detection claims a change (module docstring: greedy, one-to-one)."""
    by_doc: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(changes):
        by_doc[c.doc_id].append(i)
    taken = np.zeros(len(changes), dtype=bool)
    tp = np.zeros(len(ranked), dtype=bool)
    for k, d in enumerate(ranked):
        best, best_key = -1, None
        for i in by_doc.get(d.doc_id, ()):
            c = changes[i]
            if taken[i] or not hits(d, c, by_kind=by_kind):
                continue
            key = (-_overlap(d.start, d.end, c.start, c.end), c.start, c.end, i)
            if best_key is None or key < best_key:
                best, best_key = i, key
        if best >= 0:
            taken[best] = True
            tp[k] = True
    return tp


# --------------------------------------------------------------------------- ranking metrics
def _groups(scores: np.ndarray) -> list[int]:
    """End indices (exclusive) of runs of equal scores in an ascending score array."""
    if len(scores) == 0:
        return []
    cut = np.flatnonzero(np.diff(scores) != 0) + 1
    return [int(x) for x in cut] + [len(scores)]


def average_precision(scores: Sequence[float], tp: Sequence[bool], n_relevant: int) -> float | None:
    """Tie-aware AP of a ranking (ascending ``scores``) whose true positives are ``tp``, over ``n_relevant`` items.

    >>> average_precision([0.1, 0.2, 0.3], [True, False, True], 4)
    0.4167
    >>> average_precision([0.5, 0.5], [True, False], 1)   # tied: one threshold, precision 1/2
    0.5
    """
    if n_relevant <= 0:
        return None
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(tp, dtype=bool)
    if len(s) and np.any(np.diff(s) < 0):
        raise ValueError("scores must be sorted ascending (most suspicious first)")
    ap, prev_recall, cum_tp = 0.0, 0.0, 0
    start = 0
    for end in _groups(s):
        cum_tp += int(t[start:end].sum())
        recall = cum_tp / n_relevant
        ap += (recall - prev_recall) * (cum_tp / end)
        prev_recall, start = recall, end
    return round(float(ap), 4)


def r_precision(scores: Sequence[float], tp: Sequence[bool], n_relevant: int) -> float | None:
    """True positives among the first ``n_relevant`` ranks / ``n_relevant``; a tie group cut by the
    boundary adds its expected share.

    >>> r_precision([0.1, 0.2, 0.2, 0.2], [True, True, False, False], 2)   # 1 + 1 * (1/3)
    0.6667
    """
    if n_relevant <= 0:
        return None
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(tp, dtype=bool)
    got, start = 0.0, 0
    for end in _groups(s):
        n_tp = int(t[start:end].sum())
        if end <= n_relevant:
            got += n_tp
        else:
            k = n_relevant - start
            if k > 0:
                got += k * n_tp / (end - start)
            break
        start = end
    return round(float(got) / n_relevant, 4)


def span_metrics(detections: Sequence[Detection], changes: Sequence[Change], *,
                 groups: Sequence[str] = GROUPS) -> dict[str, dict[str, Any]]:
    """``{"all": {...}, group: {...}}`` with ``ap``, ``r_precision``, ``recall`` (matched changes / R),
    ``n_changes`` (R), ``n_detections`` and ``n_tp``.  ``"all"`` ignores kinds; a group compares only
    detections and changes of that group and requires the kinds to agree."""
    out: dict[str, dict[str, Any]] = {}
    for name in ("all", *groups):
        if name == "all":
            dets, chs, by_kind = list(detections), list(changes), False
        else:
            dets = [d for d in detections if d.group == name]
            chs = [c for c in changes if c.group == name]
            by_kind = True
        ranked = rank(dets)
        tp = match(ranked, chs, by_kind=by_kind)
        scores = [d.score for d in ranked]
        n = len(chs)
        out[name] = {"ap": average_precision(scores, tp, n), "r_precision": r_precision(scores, tp, n),
                     "recall": round(int(tp.sum()) / n, 4) if n else None,
                     "n_changes": n, "n_detections": len(ranked), "n_tp": int(tp.sum())}
    return out


# --------------------------------------------------------------------------- sentences
@dataclass(frozen=True)
class Sentence:
    """One sentence of the audited corpus: its document, character range and word index range."""

    doc_id: str
    start: int
    end: int
    words: Range


def corpus_sentences(corpus: Corpus, words: Mapping[str, Sequence[Range]]) -> list[Sentence]:
    """The source's sentences (``Document.sentences``; rule-based when absent), with their word ranges
    in ``words[doc_id]`` (the marginals' words).  Documents without words are skipped."""
    from spanqa.tokenize import sentence_ranges

    out = []
    for doc in corpus.documents:
        ws = words.get(doc.id)
        if ws is None:
            continue
        sents = doc.sentences if doc.sentences is not None else sentence_ranges(doc.evolve(spans=None))
        starts = [a for a, _ in ws]
        ends = [b for _, b in ws]
        for a, b in sents:
            lo = bisect.bisect_right(ends, a)
            hi = bisect.bisect_left(starts, b)
            out.append(Sentence(doc.id, a, b, (lo, max(lo, hi))))
    return out


def _by_doc(items: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for x in items:
        out[x.doc_id].append(x)
    return out


def sentence_truth(sentences: Sequence[Sentence], changes: Sequence[Change]) -> np.ndarray:
    """``(n_sentences,)`` bool: some change overlaps the sentence."""
    by_doc = _by_doc(changes)
    return np.array([any(_overlap(s.start, s.end, c.start, c.end) for c in by_doc.get(s.doc_id, ()))
                     for s in sentences], dtype=bool)


def sentence_min_scores(sentences: Sequence[Sentence], detections: Sequence[Detection], *,
                        default: float = 1.0) -> np.ndarray:
    """``(n_sentences,)``: the minimum score of the detections overlapping each sentence, ``default`` if none."""
    by_doc = _by_doc(detections)
    out = np.full(len(sentences), default, dtype=np.float64)
    for i, s in enumerate(sentences):
        for d in by_doc.get(s.doc_id, ()):
            if _overlap(s.start, s.end, d.start, d.end) and d.score < out[i]:
                out[i] = d.score
    return out


def sentence_metrics(positive: Sequence[bool], scores: Sequence[float]) -> dict[str, Any]:
    """AUPRC and AUROC of sentence scores (lower = more suspicious) against positives, with scikit-learn."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(positive, dtype=bool)
    s = -np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    ok = 0 < n_pos < len(y)
    return {"auprc": round(float(average_precision_score(y, s)), 4) if ok else None,
            "auroc": round(float(roc_auc_score(y, s)), 4) if ok else None,
            "n_sentences": int(len(y)), "n_positive": n_pos, "prevalence": round(n_pos / len(y), 4) if len(y) else None}


# --------------------------------------------------------------------------- spanqa's findings
#: spanqa finding kind -> kind group (``low_confidence`` goes by its best alternative, below)
FINDING_GROUP: dict[str, str] = dict(KIND_GROUP, ambiguous="type")
#: ``inconsistent`` findings: action -> group
ACTION_GROUP: dict[str, str] = {"add": "missing", "delete": "spurious", "relabel": "type"}
#: ``low_confidence`` findings: alternative kind -> group
ALTERNATIVE_GROUP: dict[str, str] = {"label": "type", "boundary": "boundary", "none": "spurious"}


def finding_detections(findings: Iterable[Any]) -> list[Detection]:
    """spanqa findings (:class:`spanqa.findings.Finding` or their ``findings.jsonl`` dicts) as detections.

    Range = hull of the finding's labels and suggestion; kind group from :data:`FINDING_GROUP`,
    ``low_confidence`` by its evidence's best alternative (:data:`ALTERNATIVE_GROUP`);
    ``out_of_distribution`` (a whole note, no span) is left out.
    """
    out = []
    for f in findings:
        rec = f if isinstance(f, Mapping) else {"doc_id": f.doc_id, "kind": f.kind, "score": f.score,
                                                "evidence": f.evidence,
                                                "labels": [{"start": s.start, "end": s.end} for s in f.labels],
                                                "suggestion": [{"start": s.start, "end": s.end} for s in f.suggestion]}
        spans = list(rec["labels"]) + list(rec["suggestion"])
        if not spans or rec["kind"] == "out_of_distribution":
            continue
        kind = rec["kind"]
        if kind == "inconsistent":
            group = ACTION_GROUP.get(rec.get("action"), "type")
        elif kind == "low_confidence":
            alt = (rec.get("evidence") or {}).get("alternative") or {}
            group = ALTERNATIVE_GROUP.get(alt.get("kind"), "type")
        else:
            group = FINDING_GROUP[kind]
        out.append(Detection(rec["doc_id"], min(int(s["start"]) for s in spans), max(int(s["end"]) for s in spans),
                             group, float(rec["score"]), f"spanqa:{kind}"))
    return out


def quality_detections(qualities: Iterable[Any], findings: Iterable[Any]) -> list[Detection]:
    """spanqa's full ranking, before thresholds: every labelled span by its quality, plus the
    ``missing`` findings (candidate entities no label covers, scored by P(no entity there)).

    ``qualities``: :class:`spanqa.quality.SpanQuality` (spans without marginals are left out);
    kind group from the span's best alternative (:data:`ALTERNATIVE_GROUP`).
    """
    out = []
    for q in qualities:
        if q.quality is None:
            continue
        alt = (q.alternative or {}).get("kind")
        out.append(Detection(q.span.doc_id, q.span.start, q.span.end, ALTERNATIVE_GROUP.get(alt, "type"),
                             float(q.quality), "spanqa:span"))
    out.extend(d for d in finding_detections(findings) if d.source == "spanqa:missing")
    return out


#: candidate kind -> kind group
CANDIDATE_GROUP: dict[str, str] = dict(KIND_GROUP, inconsistent="missing", exact="type")
#: each signal's direction: the candidate is more suspicious when ``direction * value`` is lower
SIGNAL_DIRECTION: dict[str, float] = {"log_p_labels": 1.0, "log_p_labels_per_word": 1.0, "log_p_suggestion": -1.0,
                                      "label_marginal": 1.0, "min_label_marginal": 1.0, "surface_agree": 1.0,
                                      "margin": 1.0}


def candidate_detections(ranking: Any, *, signal: str | None = None) -> list[Detection]:
    """Every candidate of a :class:`spanqa.ranking.ranker.Ranking` as a detection: scored by ``1 - p_error``, or
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
        group = CANDIDATE_GROUP.get(c.kind, "type")      # exact: a span the model reproduces, mostly type errors
        out.append(Detection(c.doc_id, c.start, c.end, group, score, f"spanqa:{c.kind}"))
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
    """``(n_sentences,)``: spanqa's probability that a sentence's labels are exactly right.

    :meth:`spanqa.quality.TagLattice.path_prob` of the sentence's gold IOB2 path (the same quantity
    as a finding's score, over the whole sentence); never above the score of a finding inside it.
    """
    from spanqa.quality import TagLattice

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


# --------------------------------------------------------------------------- baselines on the same marginals
def _gold_ids(doc: Document, m: Any, tag_id: Mapping[str, int]) -> np.ndarray:
    return np.asarray([tag_id[t] for t in spans_to_tags(m.words, doc.spans or ())], dtype=np.int64)


def _normalised(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
    return p / p.sum(axis=1, keepdims=True)


def _token_group(given: str, other: str) -> str:
    """Kind group of a token whose given tag is ``given`` and most probable other tag ``other``."""
    gp, gl = split_tag(given)
    op, ol = split_tag(other)
    if gl is None:
        return "missing"
    if ol is None:
        return "spurious"
    return "type" if gl != ol else "boundary"


def cleanlab_baseline(corpus: Corpus, oof: Any, sentences: Sequence[Sentence]) -> tuple[list[Detection], np.ndarray]:
    """cleanlab ``token_classification`` on the out-of-fold word marginals.

    Sentence scores: ``rank.get_label_quality_scores`` (worst token's self-confidence) - the number
    cleanlab's benchmark reports.  Detections: the words ``filter.find_label_issues`` flags
    (``n_jobs=1``), consecutive flagged words of a sentence joined into one detection scored by
    their lowest token score; kind group from the given tag vs the most probable other tag
    (given ``O`` -> missing, other ``O`` -> spurious, other label -> type, same label -> boundary).
    Sentences without words get score 1 and are not passed to cleanlab.
    """
    from cleanlab.token_classification.filter import find_label_issues
    from cleanlab.token_classification.rank import get_label_quality_scores

    tags = list(oof.tags)
    tag_id = {t: i for i, t in enumerate(tags)}
    by_id = corpus.by_id()
    labels, probs, keep = [], [], []
    gold_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, s in enumerate(sentences):
        a, b = s.words
        if a >= b:
            continue
        if s.doc_id not in gold_cache:
            m = oof.docs[s.doc_id]
            gold_cache.clear()
            gold_cache[s.doc_id] = (_gold_ids(by_id[s.doc_id], m, tag_id), _normalised(m.probs))
        g, p = gold_cache[s.doc_id]
        labels.append([int(x) for x in g[a:b]])
        probs.append(p[a:b])
        keep.append(i)
    sent_scores = np.ones(len(sentences), dtype=np.float64)
    if not keep:
        return [], sent_scores
    scores, token_scores = get_label_quality_scores(labels, probs)
    sent_scores[keep] = scores
    issues = find_label_issues(labels, probs, n_jobs=1)
    flagged: dict[int, list[int]] = defaultdict(list)
    for si, wi in issues:
        flagged[int(si)].append(int(wi))
    out = []
    for si, ws in flagged.items():
        s = sentences[keep[si]]
        words = oof.docs[s.doc_id].words
        a = s.words[0]
        ws = sorted(set(ws))
        runs: list[list[int]] = [[ws[0]]]
        for w in ws[1:]:
            if w == runs[-1][-1] + 1:
                runs[-1].append(w)
            else:
                runs.append([w])
        ts = np.asarray(token_scores[si], dtype=np.float64)
        for run in runs:
            worst = min(run, key=lambda w: (ts[w], w))
            given = labels[si][worst]
            row = probs[si][worst].copy()
            row[given] = -1.0
            group = _token_group(tags[given], tags[int(np.argmax(row))])
            out.append(Detection(s.doc_id, words[a + run[0]][0], words[a + run[-1]][1], group,
                                 float(ts[run].min()), "cleanlab"))
    return out, sent_scores


def _span_words(m: Any, span: Span) -> Range | None:
    from spanqa.quality import word_range

    return word_range(m.words, span.start, span.end)


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
    """nessie-style *classification uncertainty* scorer over gold spans.

    Score = mean over the span's words of the marginal of its gold tag (``B-X`` on the first
    word, ``I-X`` on the others), i.e. ``1 -`` the uncertainty; every gold span is a detection.
    Kind group from the label with the highest mean probability (``p(B-L) + p(I-L)``, or ``O``)
    over the span's words: ``O`` -> spurious, another label -> type, the gold label -> boundary.
    """
    tags = list(oof.tags)
    tag_id = {t: i for i, t in enumerate(tags)}
    labels = sorted({split_tag(t)[1] for t in tags if t != "O"})
    cols = {lab: [tag_id[t] for t in (f"B-{lab}", f"I-{lab}") if t in tag_id] for lab in labels}
    out = []
    for doc in corpus.documents:
        m = oof.docs.get(doc.id)
        if doc.spans is None or m is None:
            continue
        p = _normalised(m.probs) if len(m.words) else m.probs
        for s in doc.spans:
            rng = _span_words(m, s)
            if rng is None:
                out.append(Detection(doc.id, s.start, s.end, "spurious", 0.0, "uncertainty"))
                continue
            a, b = rng
            path = [tag_id.get(f"B-{s.label}")] + [tag_id.get(f"I-{s.label}")] * (b - a - 1)
            score = float(np.mean([p[a + i, j] if j is not None else 0.0 for i, j in enumerate(path)]))
            mean = p[a:b].mean(axis=0)
            dist = {"O": float(mean[tag_id["O"]])} | {lab: float(mean[c].sum()) for lab, c in cols.items()}
            top = max(sorted(dist), key=lambda k: dist[k])
            group = "boundary" if top == s.label else ("spurious" if top == "O" else "type")
            out.append(Detection(doc.id, s.start, s.end, group, score, "uncertainty"))
    return out


def surface_form_detections(corpus: Corpus, words: Mapping[str, Sequence[Range]] | None = None,
                            *, min_count: int = 2) -> list[Detection]:
    """Model-free *surface-form variation* detector over the whole corpus.

    For every word sequence that some gold span covers exactly (case-sensitive, compared as
    its tuple of word strings), every occurrence of it in the corpus gets a **reading**: the
    label of the gold span with exactly those words, or ``O`` when no gold span overlaps the
    occurrence (occurrences inside or across other spans are not readings).  A string with at
    least ``min_count`` readings of which at least two differ yields one detection per
    occurrence, scored by the share of its reading among the string's readings (a minority
    reading scores low).  Kind group: reading ``O`` -> missing; else by the most frequent other
    reading of the string (ties by name): ``O`` -> spurious, a label -> type.

    ``words``: per document, the word ranges (default: :func:`spanqa.tokenize.doc_words`).
    """
    from spanqa.tokenize import doc_words

    docs = [d for d in corpus.documents if d.spans is not None]
    wmap = {d.id: (list(words[d.id]) if words is not None and d.id in words else list(doc_words(d).ranges))
            for d in docs}
    # gold spans as word ranges
    gold: dict[str, dict[Range, str]] = {}
    forms: set[tuple[str, ...]] = set()
    max_len = 0
    for d in docs:
        ws = wmap[d.id]
        starts = {a: i for i, (a, _) in enumerate(ws)}
        ends = {b: i + 1 for i, (_, b) in enumerate(ws)}
        g: dict[Range, str] = {}
        for s in d.spans:
            if s.is_discontinuous or s.start not in starts or s.end not in ends:
                continue
            a, b = starts[s.start], ends[s.end]
            g.setdefault((a, b), s.label)
            forms.add(tuple(d.text[x:y] for x, y in ws[a:b]))
            max_len = max(max_len, b - a)
        gold[d.id] = g
    # every occurrence of every form, with its reading
    occ: dict[tuple[str, ...], list[tuple[str, int, int, str]]] = defaultdict(list)
    for d in docs:
        ws = wmap[d.id]
        toks = [d.text[x:y] for x, y in ws]
        covered = np.zeros(len(ws) + 1, dtype=np.int64)   # prefix count of words inside some gold span
        inside = np.zeros(len(ws), dtype=np.int64)
        for a, b in gold[d.id]:
            inside[a:b] = 1
        covered[1:] = np.cumsum(inside)
        g = gold[d.id]
        for i in range(len(toks)):
            for n in range(1, min(max_len, len(toks) - i) + 1):
                form = tuple(toks[i:i + n])
                if form not in forms:
                    continue
                if (i, i + n) in g:
                    reading = g[(i, i + n)]
                elif covered[i + n] - covered[i] == 0:
                    reading = "O"
                else:
                    continue
                occ[form].append((d.id, ws[i][0], ws[i + n - 1][1], reading))
    out = []
    for form, items in occ.items():
        counts = Counter(r for *_, r in items)
        if len(items) < min_count or len(counts) < 2:
            continue
        total = len(items)
        for doc_id, a, b, reading in items:
            others = sorted(((n, r) for r, n in counts.items() if r != reading), key=lambda x: (-x[0], x[1]))
            top_other = others[0][1]
            group = "missing" if reading == "O" else ("spurious" if top_other == "O" else "type")
            out.append(Detection(doc_id, a, b, group, counts[reading] / total, "surface"))
    return out


__all__ = ["ACTION_GROUP", "CANDIDATE_GROUP", "SIGNAL_DIRECTION", "candidate_detections", "sentence_noisy_or",
           "ALTERNATIVE_GROUP", "Change", "Detection", "FINDING_GROUP", "GROUPS", "KIND_GROUP", "Sentence",
           "average_precision", "changes_from_comparison", "cleanlab_baseline", "corpus_sentences",
           "finding_detections", "gold_path_scores", "quality_detections", "hits", "match", "nessie_retag", "nessie_uncertainty",
           "r_precision", "rank", "sentence_metrics", "sentence_min_scores", "sentence_truth", "span_metrics",
           "surface_form_detections"]
