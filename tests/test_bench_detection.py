"""Scoring functions of the detection benchmark (spanqa.measure.benchmark) on tiny hand-made inputs; no model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from spanqa.compare.comparison import compare_corpora
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.measure.benchmark import (
    DROPPED,
    FALSE_POSITIVE,
    Correction,
    Detection,
    Sentence,
    at_k,
    average_precision,
    changes_from_comparison,
    claims,
    cleanlab_baseline,
    corpus_sentences,
    corrected_word_tags,
    finding_detections,
    hits,
    match,
    nessie_retag,
    nessie_uncertainty,
    r_precision,
    rank,
    sentence_metrics,
    sentence_min_scores,
    sentence_truth,
    sentence_truth_from_tags,
    span_metrics,
    surface_form_detections,
    trapezoid_auprc,
)
from spanqa.model.predictions import DocMarginals, OOFPredictions


def _words(text: str) -> tuple[tuple[int, int], ...]:
    out, i = [], 0
    for w in text.split(" "):
        out.append((i, i + len(w)))
        i += len(w) + 1
    return tuple(out)


def _doc(doc_id: str, text: str, spans: list[tuple[int, int, str]]) -> Document:
    return Document(doc_id, text, tuple(Span(doc_id, a, b, lab) for a, b, lab in spans), tokens=_words(text),
                    sentences=((0, len(text)),))


# --------------------------------------------------------------------------- hit definition
def test_bench_detection_hit_needs_same_doc_and_shared_character():
    c = Correction("d", 10, 15, "type")
    assert hits(Detection("d", 14, 20, "missing", 0.1), c)                 # one shared character; kinds never count
    assert not hits(Detection("d", 15, 20, "type", 0.1), c)                # touching is not overlapping
    assert not hits(Detection("e", 10, 15, "type", 0.1), c)                # other document


def test_bench_detection_match_is_one_to_one_largest_overlap_first():
    changes = [Correction("d", 0, 10, "type"), Correction("d", 8, 20, "type")]
    ranked = rank([Detection("d", 9, 20, "type", 0.1), Detection("d", 9, 20, "type", 0.2),
                   Detection("d", 9, 20, "type", 0.3)])
    # the first claims [8, 20) (overlap 11), the second [0, 10) (overlap 1), the third nothing is left
    assert match(ranked, changes).tolist() == [True, True, False]


# --------------------------------------------------------------------------- AP and R-precision
def test_bench_detection_average_precision_exact_values():
    assert average_precision([0.1, 0.2, 0.3], [True, False, True], 2) == pytest.approx(0.8333, abs=1e-4)
    assert average_precision([0.1, 0.2, 0.3], [True, False, True], 4) == pytest.approx(0.4167, abs=1e-4)
    assert average_precision([0.5, 0.5], [True, False], 1) == 0.5                     # a tie is one threshold
    assert average_precision([], [], 3) == 0.0
    assert average_precision([0.1], [True], 0) is None
    with pytest.raises(ValueError):
        average_precision([0.3, 0.1], [True, True], 2)


def test_bench_detection_average_precision_equals_sklearn_scaled_by_recall():
    rng = np.random.default_rng(0)
    scores = np.sort(rng.integers(0, 6, size=40) / 5.0)   # many ties
    tp = rng.random(40) < 0.4
    n_relevant = int(tp.sum()) + 7                          # 7 changes never found
    sk = average_precision_score(tp, -scores) * tp.sum() / n_relevant
    assert average_precision(scores, tp, n_relevant) == pytest.approx(sk, abs=1e-4)


def test_bench_detection_r_precision_exact_values():
    assert r_precision([0.1, 0.2, 0.3, 0.4], [True, False, True, True], 2) == 0.5
    assert r_precision([0.1, 0.2, 0.2, 0.2], [True, True, False, False], 2) == pytest.approx(0.6667, abs=1e-4)
    assert r_precision([0.1], [True], 4) == 0.25                                       # fewer findings than R


def test_bench_detection_span_metrics_overall_and_per_kind():
    changes = [Correction("d", 0, 5, "type"), Correction("d", 10, 15, "missing"), Correction("e", 0, 4, "spurious")]
    dets = [Detection("d", 0, 5, "type", 0.1), Detection("d", 20, 25, "spurious", 0.2),
            Detection("d", 11, 12, "type", 0.3), Detection("e", 0, 4, "spurious", 0.4)]
    m = span_metrics(dets, changes, ks=(2, 4, 5))
    # TP FP TP TP over R=3 -> (1/3)*1 + (1/3)*(2/3) + (1/3)*(3/4)
    assert m["ap"] == pytest.approx(0.8056, abs=1e-4)
    assert m["r_precision"] == pytest.approx(0.6667, abs=1e-4)
    assert (m["n_tp"], m["recall"], m["n_dropped"]) == (3, 1.0, 0)
    assert m["at"][2] == {"precision": 0.5, "recall": pytest.approx(0.3333, abs=1e-4)}
    assert m["at"][4] == {"precision": 0.75, "recall": 1.0}
    assert m["at"][5] == {"precision": None, "recall": None}             # the list is shorter than k
    # recall per kind group among the first R = 3 detections, whatever kind a detection states
    assert m["recall_at_r"] == {"type": 1.0, "boundary": None, "split_merge": None, "missing": 1.0, "spurious": 0.0}
    assert m["kind_agreement"] == pytest.approx(0.6667, abs=1e-4)        # 'type' stated on the missing change


def test_bench_detection_lenient_drops_repeat_hits_of_claimed_changes_only():
    changes = [Correction("d", 0, 10, "boundary")]
    dets = [Detection("d", 0, 3, None, 0.1), Detection("d", 4, 6, None, 0.2),   # a second word of the same change
            Detection("d", 20, 25, None, 0.3), Detection("d", 7, 9, None, 0.4)]
    strict = span_metrics(dets, changes, ks=())
    lenient = span_metrics(dets, changes, lenient=True, ks=())
    assert (strict["n_detections"], strict["n_dropped"], strict["ap"]) == (4, 0, 1.0)
    assert (lenient["n_detections"], lenient["n_dropped"]) == (2, 2)     # the far one stays a false positive
    assert claims(rank(dets), changes, lenient=True).tolist() == [0, DROPPED, FALSE_POSITIVE, DROPPED]
    assert lenient["kind_agreement"] is None                                # no kind stated


def test_bench_detection_cut_weights_tie_aware_precision_at_k():
    assert at_k([0.1, 0.2, 0.2, 0.2], [True, True, False, False], 2, 4) == {"precision": pytest.approx(0.6667, abs=1e-4),
                                                                           "recall": pytest.approx(0.3333, abs=1e-4)}


def test_bench_detection_doctests():
    import doctest

    from spanqa.measure.benchmark import adapters, baselines, scoring, sentences, truth

    for module in (adapters, baselines, scoring, sentences, truth):
        assert doctest.testmod(module).failed == 0, module.__name__


# --------------------------------------------------------------------------- ground truth and sentences
def test_bench_detection_changes_from_comparison_kinds_and_ranges():
    text = "Japan beat Syria in Al Ain ."
    orig = Corpus((_doc("d", text, [(0, 5, "PER"), (11, 16, "LOC"), (20, 22, "LOC")]),))
    corr = Corpus((_doc("d", text, [(0, 5, "LOC"), (20, 26, "LOC")]),))
    changes = changes_from_comparison(compare_corpora(orig, corr))
    got = sorted((c.start, c.end, c.group, c.kind) for c in changes)
    assert got == [(0, 5, "type", "type"), (11, 16, "spurious", "spurious"), (20, 26, "boundary", "boundary")]


def test_bench_detection_sentence_truth_scores_and_sklearn_metrics():
    sents = [Sentence("d", 0, 10, (0, 2)), Sentence("d", 11, 20, (2, 4)), Sentence("e", 0, 9, (0, 2))]
    truth = sentence_truth(sents, [Correction("d", 8, 13, "boundary")])                 # crosses a sentence break
    assert truth.tolist() == [True, True, False]
    scores = sentence_min_scores(sents, [Detection("d", 0, 3, "type", 0.4), Detection("d", 5, 6, "type", 0.2),
                                         Detection("e", 1, 2, "type", 0.7)])
    assert scores.tolist() == [0.2, 1.0, 0.7]
    m = sentence_metrics([True, False, True, False], [0.1, 0.2, 0.3, 0.9])
    assert m["auprc"] == pytest.approx(average_precision_score([1, 0, 1, 0], [-0.1, -0.2, -0.3, -0.9]), abs=1e-4)
    assert m["auroc"] == 0.75 and m["n_positive"] == 2
    assert m["auprc_trapezoid"] == trapezoid_auprc([True, False, True, False], [0.1, 0.2, 0.3, 0.9])


def test_bench_detection_trapezoid_auprc_is_cleanlabs_benchmark_formula():
    from sklearn.metrics import auc

    rng = np.random.default_rng(1)
    y = rng.random(50) < 0.3
    scores = rng.random(50)
    order = np.argsort(scores, kind="stable")
    hits_ = np.cumsum(y[order])
    want = auc(hits_ / y.sum(), hits_ / np.arange(1, 51))
    assert trapezoid_auprc(y, scores) == pytest.approx(want, abs=1e-4)
    assert trapezoid_auprc([True, True], [0.1, 0.2]) is None               # one class only


def test_bench_detection_sentence_truth_from_corrected_word_tags():
    text = "Japan beat Syria in Al Ain ."
    orig = Corpus((_doc("d", text, [(0, 5, "LOC"), (11, 16, "LOC"), (20, 22, "LOC"), (23, 26, "LOC")]),))
    corr = Corpus((_doc("d", text, [(0, 5, "LOC"), (11, 16, "LOC"), (20, 26, "LOC")]),))
    words = {"d": _words(text)}
    corrected = corrected_word_tags(compare_corpora(orig, corr), words)
    assert corrected["d"] == ["B-LOC", "O", "B-LOC", "O", "B-LOC", "I-LOC", "O"]
    given = {"d": ["B-LOC", "O", "B-LOC", "O", "B-LOC", "B-LOC", "O"]}
    sents = [Sentence("d", 0, 16, (0, 3)), Sentence("d", 17, 28, (3, 7))]
    assert sentence_truth_from_tags(sents, given, corrected, merged=False).tolist() == [False, True]
    assert sentence_truth_from_tags(sents, given, corrected, merged=True).tolist() == [False, False]  # LOC LOC = LOC LOC


def test_bench_detection_corpus_sentences_word_ranges():
    doc = Document("d", "A B\nC D E", (), tokens=_words("A B\nC D E"), sentences=((0, 3), (4, 9)))
    sents = corpus_sentences(Corpus((doc,)), {"d": ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))})
    assert [(s.start, s.end, s.words) for s in sents] == [(0, 3, (0, 2)), (4, 9, (2, 5))]


# --------------------------------------------------------------------------- spanqa findings
def test_bench_detection_finding_detections_kind_groups():
    recs = [
        {"doc_id": "d", "kind": "boundary_type", "score": 0.1, "labels": [{"start": 0, "end": 5}],
         "suggestion": [{"start": 0, "end": 9}]},
        {"doc_id": "d", "kind": "low_confidence", "score": 0.3, "labels": [{"start": 2, "end": 4}], "suggestion": [],
         "evidence": {"alternative": {"kind": "none"}}},
        {"doc_id": "d", "kind": "missing", "score": 0.2, "labels": [], "suggestion": [{"start": 7, "end": 9}]},
        {"doc_id": "d", "kind": "ambiguous", "score": 0.4, "labels": [{"start": 1, "end": 2}],
         "suggestion": [{"start": 1, "end": 2}]},
        {"doc_id": "d", "kind": "out_of_distribution", "score": 0.5, "labels": [], "suggestion": []},
    ]
    got = [(d.start, d.end, d.group, d.score) for d in finding_detections(recs)]
    assert got == [(0, 9, "boundary", 0.1), (2, 4, "spurious", 0.3), (7, 9, "missing", 0.2), (1, 2, "type", 0.4)]


# --------------------------------------------------------------------------- surface-form baseline
def test_bench_detection_surface_form_minority_reading():
    docs = [
        _doc("a", "Japan won .", [(0, 5, "LOC")]),
        _doc("b", "Japan lost .", [(0, 5, "LOC")]),
        _doc("c", "in Japan today", []),                                    # unlabelled: reading O
        _doc("d", "Japan Airlines flew", [(0, 14, "ORG")]),                 # inside another span: no reading
        _doc("e", "Japan again", [(0, 5, "PER")]),
        _doc("f", "Japan once", [(0, 5, "PER")]),
        _doc("g", "Syria won", [(0, 5, "LOC")]),                            # one reading only: no detection
    ]
    got = sorted((d.doc_id, d.start, d.end, d.group, round(d.score, 4)) for d in surface_form_detections(Corpus(tuple(docs))))
    # readings of "Japan": LOC 2, PER 2, O 1
    assert got == [("a", 0, 5, "type", 0.4), ("b", 0, 5, "type", 0.4), ("c", 3, 8, "missing", 0.2),
                   ("e", 0, 5, "type", 0.4), ("f", 0, 5, "type", 0.4)]


def test_bench_detection_surface_form_label_mostly_unlabelled_is_spurious():
    docs = [_doc("a", "the Bank", [(4, 8, "ORG")]), _doc("b", "Bank of", []), _doc("c", "a Bank", [])]
    got = sorted((d.doc_id, d.group, round(d.score, 4)) for d in surface_form_detections(Corpus(tuple(docs))))
    assert got == [("a", "spurious", 0.3333), ("b", "missing", 0.6667), ("c", "missing", 0.6667)]


# --------------------------------------------------------------------------- model baselines on fixed marginals
TAGS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def _oof(doc: Document, probs: list[list[float]]) -> OOFPredictions:
    m = DocMarginals(doc.id, doc.tokens, np.asarray(probs, dtype=np.float32), fold=0, seed=13)
    return OOFPredictions(TAGS, {doc.id: m})


def test_bench_detection_nessie_uncertainty_and_retag():
    doc = _doc("d", "New York and Paul", [(0, 8, "LOC"), (13, 17, "LOC")])
    oof = _oof(doc, [[.1, .8, .05, .05, 0], [.1, 0, .8, 0, .1], [1, 0, 0, 0, 0], [.1, .2, 0, .7, 0]])
    unc = sorted((d.start, d.end, d.group, round(d.score, 4)) for d in nessie_uncertainty(Corpus((doc,)), oof))
    assert unc == [(0, 8, None, 0.8), (13, 17, None, 0.2)]
    preds = {"d": [Span("d", 0, 8, "LOC"), Span("d", 13, 17, "PER")]}
    ret = [(d.start, d.end, d.group, d.score) for d in nessie_retag(Corpus((doc,)), oof, preds)]
    assert ret == [(13, 17, "type", 0.0)]


@pytest.mark.filterwarnings("ignore:May not flag all label issues")
def test_bench_detection_cleanlab_baseline_flags_wrong_token():
    pytest.importorskip("cleanlab")
    docs, probs = [], []
    loc = [[.02, .9, .02, .04, .02], [.96, .01, .01, .01, .01], [.96, .01, .01, .01, .01]]
    per = [[.02, .04, .02, .9, .02], [.96, .01, .01, .01, .01], [.96, .01, .01, .01, .01]]
    for i in range(20):   # cleanlab needs a few examples per class to set its thresholds
        docs.append(_doc(f"l{i}", "Paris is big", [(0, 5, "LOC")]))
        probs.append(loc)
        docs.append(_doc(f"p{i}", "Mason is big", [(0, 5, "PER")]))
        probs.append(per)
    docs.append(_doc("bad", "Paris is big", [(0, 5, "PER")]))
    probs.append(loc)
    oof = OOFPredictions(TAGS, {d.id: DocMarginals(d.id, d.tokens, np.asarray(p, np.float32), 0, 13)
                                for d, p in zip(docs, probs)})
    corpus = Corpus(tuple(docs))
    sents = corpus_sentences(corpus, {d.id: d.tokens for d in docs})
    for merged, p_given in ((False, 0.04), (True, 0.06)):                    # merged: P(B-PER) + P(I-PER)
        out = cleanlab_baseline(corpus, oof, sents, merged=merged)
        assert [(d.doc_id, d.start, d.end, d.group) for d in out.issues] == [("bad", 0, 5, None)]
        assert out.issues[0].score == pytest.approx(p_given, abs=1e-6)
        assert len(out.tokens) == 3 * len(docs)                             # every word is ranked
        assert min(out.tokens, key=lambda d: d.score) == out.issues[0]
        assert out.sentence[-1] == pytest.approx(p_given, abs=1e-6)
        assert out.sentence[:-1].min() == pytest.approx(0.9 if not merged else 0.92, abs=1e-6)


def test_bench_detection_cleanlab_merged_classes_sum_b_and_i():
    pytest.importorskip("cleanlab")
    from spanqa.measure.benchmark import cleanlab_inputs

    doc = _doc("d", "New York", [(0, 8, "LOC")])
    oof = _oof(doc, [[.1, .5, .3, .1, 0], [.2, .1, .6, 0, .1]])
    sents = corpus_sentences(Corpus((doc,)), {"d": doc.tokens})
    labels, probs, keep, classes = cleanlab_inputs(Corpus((doc,)), oof, sents, merged=True)
    assert classes == ["O", "LOC", "PER"] and labels == [[1, 1]] and keep == [0]
    assert np.allclose(probs[0], [[.1, .8, .1], [.2, .7, .1]])
    labels, _, _, classes = cleanlab_inputs(Corpus((doc,)), oof, sents, merged=False)
    assert classes == TAGS and labels == [[1, 2]]


def test_bench_detection_quality_detections_rank_every_span_and_missing():
    from spanqa.score.quality import SpanQuality

    qs = [SpanQuality(Span("d", 0, 5, "LOC"), 0.9, True, alternative={"kind": "label"}),
          SpanQuality(Span("d", 6, 9, "PER"), 0.2, True, alternative={"kind": "none"}),
          SpanQuality(Span("d", 10, 12, "PER"), None, False, "no_marginals")]
    missing = {"doc_id": "d", "kind": "missing", "score": 0.4, "labels": [], "suggestion": [{"start": 20, "end": 24}]}
    boundary = {"doc_id": "d", "kind": "boundary", "score": 0.1, "labels": [{"start": 0, "end": 5}],
                "suggestion": [{"start": 0, "end": 7}]}
    from spanqa.measure.benchmark import quality_detections

    got = [(d.start, d.end, d.group, d.score) for d in quality_detections(qs, [missing, boundary])]
    assert got == [(0, 5, "type", 0.9), (6, 9, "spurious", 0.2), (20, 24, "missing", 0.4)]
