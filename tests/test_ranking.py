"""The ranking sub-package: injected errors, surface consistency, signals, the fitted ranking, the error rate."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from spanqa.compare.comparison import compare_corpora, compare_spans
from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.corpus.formats import read_corpus
from spanqa.corpus.injection import KIND_SHARES, inject_errors
from spanqa.corpus.tokenize import doc_words
from spanqa.model.predictions import DocMarginals, OOFPredictions
from spanqa.run.pipeline import audit
from spanqa.score.quality import CandidateScore, SpanQuality, TagLattice
from spanqa.score.ranking.combine import RankingModel
from spanqa.score.ranking.consistency import SurfaceIndex
from spanqa.score.ranking.error_rate import confident_error_rate, o_threshold
from spanqa.score.ranking.signals import CANDIDATE_KINDS, SIGNALS, doc_candidates, feature_matrix, feature_names

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "demo"
TEXT = "Pt started aspirin 81mg PO daily"
WORDS = ((0, 2), (3, 10), (11, 18), (19, 21), (21, 23), (24, 26), (27, 32))
TAGS = ["O", "B-Drug", "I-Drug", "B-Route", "I-Route", "B-Strength", "I-Strength"]
MODEL_ROWS = {2: "B-Drug", 3: "B-Strength", 4: "I-Strength", 5: "B-Route"}
GOOD = ((11, 18, "Drug"), (19, 23, "Strength"), (24, 26, "Route"))


def _probs(rows: dict[int, str], p: float = 0.94) -> np.ndarray:
    probs = np.full((len(WORDS), len(TAGS)), (1 - p) / (len(TAGS) - 1), np.float32)
    for i in range(len(WORDS)):
        probs[i, TAGS.index(rows.get(i, "O"))] = p
    return probs


def _doc(doc_id: str, spans=GOOD) -> Document:
    return Document(doc_id, TEXT, tuple(Span(doc_id, a, b, lab) for a, b, lab in spans))


# --------------------------------------------------------------------------- injection
@pytest.fixture(scope="module")
def demo_clean() -> Corpus:
    return read_corpus(DEMO / "clean", format="brat")


def test_ranking_injection_is_exactly_one_component_per_error(demo_clean):
    words = {d.id: doc_words(d).ranges for d in demo_clean.documents}
    noisy, errors = inject_errors(demo_clean, words, rate=0.1, seed=3)
    n_spans = sum(len(d.spans or ()) for d in demo_clean.documents)
    assert abs(len(errors) - 0.1 * n_spans) <= 0.02 * n_spans
    assert set(e.kind for e in errors) == set(KIND_SHARES)
    cmp = compare_corpora(noisy, demo_clean)
    comps = Counter((c.doc_id, c.kind.value, c.start, c.end) for c in cmp.components if c.kind.value != "exact")
    assert comps == Counter((e.doc_id, e.kind, e.start, e.end) for e in errors)
    again, errors2 = inject_errors(demo_clean, words, rate=0.1, seed=3)
    assert again == noisy and errors2 == errors                       # seeded
    assert inject_errors(demo_clean, words, rate=0.1, seed=4)[1] != errors


def test_ranking_injection_keeps_unannotated_documents():
    corpus = Corpus.from_docs([_doc("a"), Document("u", TEXT, None)])
    noisy, errors = inject_errors(corpus, {"a": WORDS, "u": WORDS}, rate=0.5, seed=0)
    assert noisy.documents[1] == corpus.documents[1] and all(e.doc_id == "a" for e in errors)


# --------------------------------------------------------------------------- consistency
def test_ranking_surface_readings_leave_one_out_and_skip_nested_occurrences():
    docs = [_doc(f"d{i}") for i in range(3)]
    docs.append(_doc("o", GOOD[:2]))                                       # PO left unlabelled
    docs.append(_doc("n", ((11, 26, "Drug"),)))                            # PO inside a longer span: no reading
    ix = SurfaceIndex(Corpus.from_docs(docs), {d.id: WORDS for d in docs})
    assert ix.readings(("PO",)) == Counter({"Route": 3, "O": 1})
    assert ix.agreement("o", 5, 6, "O") == (0.0, 3)
    assert ix.agreement("d0", 5, 6, "Route") == (2 / 3, 3)
    assert ix.other_readings("o", 5, 6) == {"Route": 3}
    assert ix.agreement("n", 5, 6, "O") == (0.5, 0)                       # not an occurrence


# --------------------------------------------------------------------------- signals
def test_ranking_signals_cover_every_component_and_read_the_lattice():
    labels = [Span("d", 11, 23, "Drug"), Span("d", 24, 26, "Route")]
    m = DocMarginals("d", WORDS, _probs(MODEL_ROWS), fold=0, seed=13)
    from spanqa.model.predictions import decode

    preds = decode(m, TAGS)
    comps = compare_spans("d", labels, preds)
    lat = TagLattice(m.probs, TAGS)
    cands = doc_candidates("d", WORDS, lat, comps)
    assert [c.kind for c in cands] == [c.kind.value for c in comps] == ["split", "exact"]
    split, exact = cands
    assert math.isclose(exact.values["log_p_labels"], math.log(lat.span_prob(5, 6, "Route")), rel_tol=1e-9)
    assert split.values["log_p_labels"] < math.log(0.01) < split.values["log_p_suggestion"]
    assert math.isnan(split.values["surface_agree"]) and math.isnan(split.values["margin"])
    x = feature_matrix(cands)
    assert x.shape == (2, len(feature_names())) and np.isfinite(x).all()
    assert x[0, feature_names().index("kind=split")] == 1 and len(CANDIDATE_KINDS) == 10
    assert set(SIGNALS) <= set(split.values)


def test_ranking_signals_propose_inconsistent_unlabelled_occurrences():
    docs = [_doc(f"d{i}") for i in range(3)] + [_doc("o", GOOD[:2])]
    corpus = Corpus.from_docs(docs)
    ix = SurfaceIndex(corpus, {d.id: WORDS for d in docs})
    rows = {2: "B-Drug", 3: "B-Strength", 4: "I-Strength"}                 # the model misses PO too
    m = DocMarginals("o", WORDS, _probs(rows), fold=0, seed=13)
    from spanqa.model.predictions import decode

    comps = compare_spans("o", list(docs[-1].spans), decode(m, TAGS))
    cands = doc_candidates("o", WORDS, TagLattice(m.probs, TAGS), comps, surface=ix)
    inc = [c for c in cands if c.kind == "inconsistent"]
    assert len(inc) == 1 and inc[0].suggestion[0].key == (24, 26, "Route") and inc[0].surface == {"Route": 3}
    assert inc[0].values["surface_agree"] == 0.0


# --------------------------------------------------------------------------- combine
def test_ranking_model_round_trips_and_explains_itself():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = x[:, 1] > 0.8
    m = RankingModel.fit(x, y, ("a", "b", "c"), meta={"rate": 0.1})
    again = RankingModel.from_dict(json.loads(json.dumps(m.to_dict())))
    assert np.allclose(again.p_error(x), m.p_error(x)) and again.meta == {"rate": 0.1}
    contrib = m.contributions(np.array([0.0, 3.0, 0.0]))
    assert max(contrib, key=lambda k: abs(contrib[k])) == "b" and contrib["b"] > 0
    with pytest.raises(ValueError):
        RankingModel.fit(x, np.zeros(300, bool), ("a", "b", "c"))


# --------------------------------------------------------------------------- error rate
def test_ranking_confident_error_rate_counts_only_confident_disagreements():
    def q(doc, label, quality, alt_kind, alt_label, alt_p):
        return SpanQuality(Span(doc, 0, 1, label), quality, True,
                           alternative={"kind": alt_kind, "label": alt_label, "p": alt_p, "words": [0, 1]})

    spans = [q("a", "A", 0.9, "label", "B", 0.05)] * 6 + [q("b", "A", 0.3, "none", None, 0.6),   # unsure, not wrong
                                                           q("c", "A", 0.1, "none", None, 0.95)]  # confidently O
    cands = [CandidateScore(Span("a", 5, 6, "A"), p_entity=0.95, p_exact=0.9),
             CandidateScore(Span("b", 5, 6, "A"), p_entity=0.2, p_exact=0.1)]
    r = confident_error_rate(spans, cands, o_threshold=0.9)
    assert r["thresholds"] == {"A": round((0.9 * 6 + 0.3 + 0.1) / 8, 4), "O": 0.9}
    assert r["per_label"]["A"] == {"n": 8, "confident_right": 6, "confident_other": 1, "errors": round(8 / 7, 4)}
    assert r["missing_entities"] == 1
    assert math.isclose(r["estimate"], (8 / 7 + 1) / 8, rel_tol=1e-5)
    assert r["ci95"][0] <= r["estimate"] <= r["ci95"][1]
    # read on some documents only: the corpus's thresholds and calibration, that file's errors and spans
    c = confident_error_rate(spans, cands, o_threshold=0.9, docs={"c"})
    assert c["thresholds"] == r["thresholds"] and c["n_spans"] == 1 and c["missing_entities"] == 0
    assert math.isclose(c["estimate"], 8 / 7, rel_tol=1e-5) and math.isclose(c["labelled_errors"], 8 / 7, rel_tol=1e-4)
    a = confident_error_rate(spans, cands, o_threshold=0.9, docs={"a"})
    assert a["n_spans"] == 6 and a["missing_entities"] == 1 and a["estimate"] == round(1 / 6, 6)


def test_ranking_o_threshold_is_the_mean_o_marginal_of_unlabelled_words():
    m = DocMarginals("d", WORDS, _probs(MODEL_ROWS, p=0.8), fold=0, seed=13)
    tags = ["O", "O", "B-Drug", "B-Strength", "I-Strength", "B-Route", "O"]
    assert math.isclose(o_threshold({"d": m}, {"d": tags}, TAGS), 0.8, rel_tol=1e-6)


# --------------------------------------------------------------------------- in the audit
def test_ranking_in_the_audit_scores_findings_and_reports_inconsistency(tmp_path):
    docs = [_doc(f"d{i:02d}") for i in range(40)] + [_doc("odd", GOOD[:2])]
    corpus = Corpus.from_docs(docs, format="jsonl")
    rows = {d.id: (MODEL_ROWS if d.id != "odd" else {2: "B-Drug", 3: "B-Strength", 4: "I-Strength"}) for d in docs}
    oof = OOFPredictions(TAGS, {d: DocMarginals(d, WORDS, _probs(r), fold=i % 2, seed=13)
                                for i, (d, r) in enumerate(rows.items())}, {"problems": []})
    # the model is sure PO is no entity in "odd", so the ranking (taught by injected errors, which the
    # model always disputes) gives the lone corpus disagreement a small P(error): list every candidate
    res = audit(corpus, load_config(overrides=["findings.min_p_error=0.0"]), out=tmp_path, progress=False, oof=oof)
    summary = json.loads((tmp_path / "summary.json").read_text())
    rk = summary["ranking"]
    assert rk["method"] == "injected" and rk["n_injected"] >= 5 and rk["model"]["features"]
    rec = rk["recovery"]  # held-out recovery of the copy's errors, per kind and per label, adds up
    assert 0 < rec["errors"] <= rk["n_injected"]
    assert sum(v["injected"] for v in rec["by_kind"].values()) == rec["errors"]
    assert set(rec["by_label"]) <= {"Drug", "Strength", "Route"} and all(
        0 <= v["recovered"] <= v["injected"] and v["share"] == round(v["recovered"] / v["injected"], 3)
        for part in ("by_kind", "by_label") for v in rec[part].values())
    inc = [f for f in res.findings if f.kind == "inconsistent"]
    assert len(inc) == 1 and inc[0].doc_id == "odd" and inc[0].action == "add"
    assert inc[0].message.startswith("Elsewhere in the corpus 'PO' is labelled Route 40 of 40 times")
    ev = inc[0].evidence
    assert set(ev["ranking"]["contributions"]) == set(rk["model"]["features"]) and ev["surface"] == {"Route": 40}
    assert math.isclose(inc[0].score, 1 - ev["ranking"]["p_error"], abs_tol=1e-6) and ev["majority"] == "Route"
    assert [f.score for f in res.findings] == sorted(f.score for f in res.findings)
    assert sum(f.kind == "low_confidence" for f in res.findings) == 40 * 3 + 2   # every reproduced span listed
    rate = summary["error_rate"]
    assert rate["method"].startswith("confident learning") and rate["upper_bound"]["estimate"] >= rate["estimate"]
