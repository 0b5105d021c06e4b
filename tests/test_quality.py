"""Span quality scores on hand-made marginals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from spanqa.core.span import Span
from spanqa.model.predictions import DocMarginals
from spanqa.score.quality import TagLattice, note_stats, score_candidates, score_spans

TEXT = "Pt started aspirin 81mg PO daily"
WORDS = ((0, 2), (3, 10), (11, 18), (19, 21), (21, 23), (24, 26), (27, 32))  # Pt started aspirin 81 mg PO daily
TAGS = ["O", "B-Drug", "I-Drug", "B-Strength", "I-Strength"]


def marginals(rows: dict[int, dict[str, float]], *, words=WORDS, tags=TAGS, doc_id="d", fold=0) -> DocMarginals:
    """Marginals with ``rows[i]`` = {tag: p} (rest spread evenly); words not given are confidently O."""
    probs = np.zeros((len(words), len(tags)), np.float32)
    for i in range(len(words)):
        row = rows.get(i, {"O": 0.98})
        rest = (1.0 - sum(row.values())) / (len(tags) - len(row))
        probs[i] = [row.get(t, rest) for t in tags]
    return DocMarginals(doc_id, words, probs, fold=fold, seed=13)


#: the model: aspirin = Drug, 81mg = Strength, confidently
MODEL = marginals({2: {"B-Drug": 0.96}, 3: {"B-Strength": 0.94}, 4: {"I-Strength": 0.94}})


def test_quality_confident_right_span_scores_high():
    (q,) = score_spans([Span("d", 11, 18, "Drug")], MODEL, TAGS)
    assert q.alignable and q.reason is None and q.fold == 0
    assert q.quality > 0.9
    assert 0.9 < q.p_product <= 1.0 and 0.9 < q.p_min <= 1.0


def test_quality_span_the_model_reads_as_strength_scores_low():
    q_merge, q_type = score_spans([Span("d", 11, 23, "Drug"), Span("d", 19, 23, "Drug")], MODEL, TAGS)
    # 'aspirin 81mg' as one Drug: the model says 81mg is a Strength
    assert q_merge.quality < 0.05
    assert q_merge.alternative["kind"] == "boundary"
    # Drug on '81mg': the same extent as a Strength is the best competing explanation
    assert q_type.quality < 0.05
    assert q_type.alternative["kind"] == "label" and q_type.alternative["label"] == "Strength"
    assert q_type.alternative["p"] > 0.8
    assert (q_type.alternative["start"], q_type.alternative["end"]) == (19, 23)


def test_quality_next_word_continuing_makes_span_too_short():
    # label ends at '81' but the model continues the Strength over 'mg'
    (q,) = score_spans([Span("d", 19, 21, "Strength")], MODEL, TAGS)
    assert q.quality < 0.1
    assert q.alternative["kind"] == "boundary" and (q.alternative["start"], q.alternative["end"]) == (19, 23)


def test_quality_uncertain_between_labels_scores_middle():
    m = marginals({2: {"B-Drug": 0.5, "B-Strength": 0.45}})
    (q,) = score_spans([Span("d", 11, 18, "Drug")], m, TAGS)
    assert 0.4 < q.quality < 0.6
    assert 0.35 < q.label_probs["Strength"] < q.label_probs["Drug"] < 0.6


def test_quality_lattice_matches_brute_force_enumeration():
    rng = np.random.default_rng(3)
    tags = ["O", "B-A", "I-A", "B-B", "I-B"]

    def valid(path):
        return all(not t.startswith("I-") or (i > 0 and path[i - 1] in ("B-" + t[2:], t)) for i, t in enumerate(path))

    for n in (1, 2, 4):
        probs = rng.dirichlet(np.ones(5) * 0.5, size=n)
        lat = TagLattice(probs, tags)
        paths = [p for p in itertools.product(tags, repeat=n) if valid(p)]
        weight = {p: np.prod([probs[i, tags.index(t)] for i, t in enumerate(p)]) for p in paths}
        z = sum(weight.values())
        for a, b, lab in [(0, n, "A"), (0, 1, "B"), (n - 1, n, "A")]:
            want = ("B-" + lab,) + ("I-" + lab,) * (b - a - 1)
            brute = sum(w for p, w in weight.items() if p[a:b] == want and (b == n or p[b] != "I-" + lab)) / z
            assert lat.span_prob(a, b, lab) == pytest.approx(brute, abs=1e-9)
            none = sum(w for p, w in weight.items() if set(p[a:b]) == {"O"}) / z
            assert lat.none_prob(a, b) == pytest.approx(none, abs=1e-9)


def test_quality_exclusive_explanations_sum_to_at_most_one():
    m = marginals({2: {"B-Drug": 0.4, "B-Strength": 0.3}, 3: {"I-Drug": 0.5}, 4: {"I-Drug": 0.3, "I-Strength": 0.3}})
    lat = TagLattice(m.probs, TAGS)
    total = lat.none_prob(2, 5) + sum(lat.label_probs(2, 5).values())
    assert total <= 1.0 + 1e-9
    (q,) = score_spans([Span("d", 11, 23, "Drug")], m, TAGS)
    assert q.quality + q.alternative["p"] <= 1.0 + 1e-9


def test_quality_unalignable_spans_are_scored_on_their_hull_and_flagged():
    spans = [
        Span("d", 11, 23, "Drug"),                                # placed
        Span("d", 19, 23, "Strength"),                            # nested: dropped by flat tagging
        Span("d", 24, 32, "Drug", fragments=((24, 26), (27, 32))),  # discontinuous
        Span("d", 2, 3, "Drug"),                                  # whitespace only: no word
        Span("d", 12, 18, "Drug"),                                # starts inside 'aspirin'
    ]
    qs = score_spans(spans, MODEL, TAGS)
    assert [q.span for q in qs] == spans  # every span, once, in order
    assert [q.alignable for q in qs] == [True, False, False, False, False]
    assert [q.reason for q in qs] == [None, "overlap_dropped", "discontinuous", "no_words", "edge_inside_word"]
    assert qs[3].quality == 0.0
    assert all(0.0 <= q.quality <= 1.0 for q in qs)
    # the nested Strength is what the model predicts: its hull score is high
    assert qs[1].quality > 0.8


def test_quality_without_marginals_keeps_every_span():
    qs = score_spans([Span("d", 0, 2, "Drug")], None, TAGS)
    assert qs[0].quality is None and qs[0].reason == "no_marginals" and not qs[0].alignable
    assert qs[0].to_dict(TEXT)["quality"] is None


def test_quality_span_record_shape():
    (q,) = score_spans([Span("d", 11, 18, "Drug", id="T1")], MODEL, TAGS)
    rec = q.to_dict(TEXT)
    assert {"doc_id", "start", "end", "label", "text", "quality", "fold", "alignable"} <= set(rec)
    assert rec["text"] == "aspirin" and rec["span_id"] == "T1"


def test_quality_candidate_missing_entity_probability():
    (c,) = score_candidates([Span("d", 19, 23, "Strength")], MODEL, TAGS)
    assert c.p_entity > 0.9 and c.p_exact > 0.85 and c.p_exact <= c.p_entity + 1e-9
    (c0,) = score_candidates([Span("d", 24, 26, "Drug")], MODEL, TAGS)
    assert c0.p_entity < 0.1


def test_quality_note_stats_flag_the_odd_note():
    docs, texts = {}, {}
    for i in range(12):
        docs[f"n{i}"] = marginals({2: {"B-Drug": 0.96}}, doc_id=f"n{i}")
        texts[f"n{i}"] = TEXT
    words = ((0, 5), (6, 11), (12, 17))
    docs["odd"] = DocMarginals("odd", words, np.full((3, 5), 0.2, np.float32), fold=1, seed=13)
    texts["odd"] = "zzzzz yyyyy xxxxx"
    stats = note_stats(docs, texts)
    assert stats["odd"].oov_rate == 1.0 and stats["n0"].oov_rate == 0.0
    assert stats["odd"].mean_entropy == pytest.approx(1.0, abs=1e-6)
    assert stats["odd"].novelty > 2 > stats["n0"].novelty


def test_quality_label_unknown_to_the_tagger_scores_zero():
    (q,) = score_spans([Span("d", 11, 18, "Dose")], MODEL, TAGS)
    assert q.quality == 0.0 and q.label_probs["Drug"] > 0.9
    lat = TagLattice(MODEL.probs, TAGS)
    assert lat.path_prob(2, 3, ["B-Dose"]) == 0.0 and lat.marginal(2, "B-Dose") == 0.0


def test_quality_calibration_table_and_ece():
    from spanqa.score.quality import calibration

    cal = calibration([0.05, 0.15, 0.95, 0.95, 1.0], [False, False, True, True, False])
    assert len(cal["bins"]) == 10 and sum(b["n"] for b in cal["bins"]) == 5
    top = cal["bins"][9]
    assert top["n"] == 3 and top["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    want = (1 * 0.05 + 1 * 0.15 + 3 * abs(2 / 3 - (0.95 + 0.95 + 1.0) / 3)) / 5
    assert cal["ece"] == pytest.approx(want, abs=1e-6)
    assert calibration([], [])["ece"] is None


def test_lattice_and_quality_doctests():
    import doctest

    import spanqa.score.lattice
    import spanqa.score.quality

    for module in (spanqa.score.lattice, spanqa.score.quality):
        assert doctest.testmod(module).failed == 0, module.__name__
    assert spanqa.score.quality.TagLattice is spanqa.score.lattice.TagLattice  # the old import path still works
