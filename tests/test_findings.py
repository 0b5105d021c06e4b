"""Findings: one per disagreement or score flag, with a stable id, a score and one review sentence per kind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spanqa.core.span import Span
from spanqa.model.predictions import DocMarginals, decode
from spanqa.score.findings import (
    FINDING_KINDS,
    TEMPLATES,
    Finding,
    doc_findings,
    ood_findings,
    render_message,
    sort_findings,
)
from spanqa.score.quality import NoteStats, score_spans

TEXT = "Pt started aspirin 81mg PO daily"
WORDS = ((0, 2), (3, 10), (11, 18), (19, 21), (21, 23), (24, 26), (27, 32))  # Pt started aspirin 81 mg PO daily
TAGS = ["O", "B-Drug", "I-Drug", "B-Route", "I-Route", "B-Strength", "I-Strength"]


def marginals(rows: dict[int, dict[str, float]]) -> DocMarginals:
    probs = np.zeros((len(WORDS), len(TAGS)), np.float32)
    for i in range(len(WORDS)):
        row = rows.get(i, {"O": 0.97})
        rest = (1.0 - sum(row.values())) / (len(TAGS) - len(row))
        probs[i] = [row.get(t, rest) for t in TAGS]
    return DocMarginals("d", WORDS, probs, fold=1, seed=13)


#: the model: aspirin = Drug, 81mg = Strength, PO = Route, confidently
MODEL = marginals({2: {"B-Drug": 0.94}, 3: {"B-Strength": 0.94}, 4: {"I-Strength": 0.94}, 5: {"B-Route": 0.94}})


def run(labels, m=MODEL, **kw):
    preds = decode(m, TAGS)
    qs = score_spans(labels, m, TAGS)
    findings, cands = doc_findings(TEXT, labels, preds, m, TAGS, qs, **kw)
    return findings, cands


def only(findings, kind):
    got = [f for f in findings if f.kind == kind]
    assert len(got) == 1, [(f.kind, f.message) for f in findings]
    return got[0]


GOOD = [Span("d", 11, 18, "Drug"), Span("d", 19, 23, "Strength"), Span("d", 24, 26, "Route")]


def test_findings_agreeing_labels_give_no_findings():
    findings, cands = run(GOOD)
    assert findings == [] and cands == []


def test_findings_type_message_and_fix():
    f = only(run([GOOD[0], Span("d", 19, 23, "Drug"), GOOD[2]])[0], "type")
    assert f.action == "relabel"
    assert [s.label for s in f.suggestion] == ["Strength"]
    assert f.message == ("The model is 95% confident '81mg' is a Strength, while the label calls it a Drug. "
                         "Could we review it together?")
    assert f.score < 0.05 and f.evidence["p_suggestion"] > 0.9 and f.evidence["fold"] == 1
    assert [w["pred"] for w in f.evidence["predicted_path"]] == ["B-Strength", "I-Strength"]
    assert [w["label"] for w in f.evidence["predicted_path"]] == ["B-Drug", "I-Drug"]
    assert f.evidence["predicted_path"][0]["p_pred"] == 0.94


def test_findings_boundary_type_message_names_both_sides():
    f = only(run([Span("d", 11, 23, "Drug"), GOOD[2]])[0], "split")
    assert f.message == ("The model is 92% confident 'aspirin 81mg' holds 2 spans, 'aspirin' (Drug) and "
                         "'81mg' (Strength), while the label covers it as one Drug span. Could we review it together?")
    f = only(run([Span("d", 3, 18, "Strength"), GOOD[1], GOOD[2]])[0], "boundary_type")
    assert f.action == "replace"
    assert f.message == ("The model is 95% confident 'aspirin' is a Drug, while the label covers 'started aspirin' "
                         "as one Strength span. Could we review it together?")


def test_findings_boundary_message():
    f = only(run([Span("d", 11, 21, "Drug"), GOOD[2]])[0], "split")  # '81' alone -> split into Drug + part
    assert f.kind == "split"
    f = only(run([Span("d", 3, 18, "Drug"), GOOD[1], GOOD[2]])[0], "boundary")
    assert f.action == "shrink"
    assert f.message == ("The model is 95% confident the Drug span is 'aspirin', while the label covers "
                         "'started aspirin'. Could we check together where it should start and end?")


def test_findings_merge_and_complex_messages():
    m = marginals({2: {"B-Drug": 0.94}, 3: {"I-Drug": 0.94}, 4: {"I-Drug": 0.94}, 5: {"B-Route": 0.94}})
    f = only(run([Span("d", 11, 18, "Drug"), Span("d", 19, 23, "Strength"), GOOD[2]], m)[0], "merge")
    assert f.message == ("The model is 94% confident 'aspirin 81mg' is one Drug span, while the labels split it "
                         "into 'aspirin' (Drug) and '81mg' (Strength). Could we review it together?")
    c = Finding("d", "complex", "replace", 0.1, (Span("d", 3, 18, "Drug"), Span("d", 19, 26, "Strength")),
                (Span("d", 11, 21, "Drug"), Span("d", 21, 32, "Route")), {"p_suggestion": 0.4})
    assert render_message(c, TEXT) == (
        "The model reads 'started aspirin 81mg PO daily' differently (40% confident): it predicts 'aspirin 81' (Drug) "
        "and 'mg PO daily' (Route), while the labels have 'started aspirin' (Drug) and '81mg PO' (Strength). "
        "Could we look at this passage together?")


def test_findings_missing_and_spurious_messages():
    findings, cands = run([GOOD[0], GOOD[1]])
    f = only(findings, "missing")
    assert f.action == "add" and f.labels == () and [s.label for s in f.suggestion] == ["Route"]
    assert f.message == "The model is 95% confident 'PO' is a Route, but no label covers it. Could it be a missing annotation?"
    assert len(cands) == 1 and cands[0].p_entity > 0.9
    assert abs(f.score - f.evidence["p_labels"]) < 1e-6 and f.score < 0.1 and f.evidence["p_entity"] > 0.9
    f = only(run(GOOD + [Span("d", 27, 32, "Drug")])[0], "spurious")
    assert f.action == "delete" and f.suggestion == ()
    assert f.message == ("The model is 98% confident 'daily' is not an entity, while the label marks it as a Drug. "
                         "Could we check together whether it belongs?")


def test_findings_ambiguous_and_low_confidence_flags():
    m = marginals({2: {"B-Drug": 0.5, "B-Strength": 0.45}, 3: {"B-Strength": 0.94}, 4: {"I-Strength": 0.94},
                   5: {"B-Route": 0.94}})
    f = only(run(GOOD, m)[0], "ambiguous")
    assert f.action == "review" and [s.label for s in f.suggestion] == ["Strength"]
    assert f.message == ("The model agrees 'aspirin' is one entity but splits its belief between Drug (52%) and "
                         "Strength (47%), and the label says Drug. Could we check the guideline for this case together?")
    m = marginals({2: {"B-Drug": 0.4, "O": 0.35}, 3: {"B-Strength": 0.94}, 4: {"I-Strength": 0.94},
                   5: {"B-Route": 0.94}})
    f = only(run(GOOD, m, min_quality=0.5)[0], "low_confidence")
    assert f.score < 0.5 and f.suggestion == ()
    assert f.message == ("The model matches the Drug label on 'aspirin' but is only 47% confident it is exactly right "
                         "(its best alternative: no entity, 41%). Could we have a second look together?")
    assert run(GOOD, m, min_quality=0.2)[0] == []


def test_findings_out_of_distribution():
    stats = {f"n{i}": NoteStats(f"n{i}", 10, 0.95, 0.05, 0.0, novelty=-0.3, fold=0) for i in range(20)}
    stats["odd"] = NoteStats("odd", 10, 0.41, 0.8, 0.7, entropy_z=4.0, oov_z=4.2, novelty=4.1, fold=1)
    (f,) = ood_findings(stats, quantile=0.98)
    assert f.doc_id == "odd" and f.kind == "out_of_distribution" and f.score == 0.41
    assert f.message == ("Note 'odd' looks unlike the rest of the corpus (the model's mean confidence there is 41% "
                         "against a corpus median of 95%, and 70% of its words appear in no other note), so its "
                         "labels deserve a closer look. Could we review it together?")
    assert ood_findings(dict(list(stats.items())[:5])) == []  # too few notes to say


def test_findings_every_kind_has_a_template_and_one_sentence():
    # inconsistent findings have one sentence per action (relabel, delete, add)
    # patterns write their own sentence (spanqa.score.patterns, tests/test_patterns.py)
    assert {k.split("_")[0] if k.startswith("inconsistent_") else k for k in TEMPLATES} == set(FINDING_KINDS) - {
        "pattern"}
    assert {k for k in TEMPLATES if k.startswith("inconsistent_")} == {
        "inconsistent_relabel", "inconsistent_delete", "inconsistent_add"}
    for kind, template in TEMPLATES.items():
        assert template.count("?") == 1 and template.endswith("?"), kind


def test_findings_records_are_json_with_stable_ids():
    findings, _ = run([Span("d", 11, 23, "Drug"), Span("d", 27, 32, "Drug")])
    again, _ = run([Span("d", 27, 32, "Drug"), Span("d", 11, 23, "Drug")])
    assert sorted(f.id for f in findings) == sorted(f.id for f in again)
    assert len({f.id for f in findings}) == len(findings)
    for f in sort_findings(findings):
        rec = json.loads(json.dumps(f.to_dict(TEXT)))
        assert set(rec) == {"id", "doc_id", "kind", "action", "score", "labels", "suggestion", "evidence", "message"}
        assert all(set(s) >= {"start", "end", "label", "text"} for s in rec["labels"] + rec["suggestion"])
        assert 0.0 <= rec["score"] <= 1.0
    scores = [f.score for f in sort_findings(findings)]
    assert scores == sorted(scores)


def test_findings_evaluate_against_injected_errors():
    from spanqa.measure.demo.evaluate import evaluate_findings, fixes

    d = lambda s, e, lab: {"start": s, "end": e, "label": lab}  # noqa: E731
    injected = [
        {"id": "e1", "doc_id": "d", "kind": "type", "clean": [d(19, 23, "Strength")], "noisy": [d(19, 23, "Drug")]},
        {"id": "e2", "doc_id": "d", "kind": "missing", "clean": [d(24, 26, "Route")], "noisy": []},
        {"id": "e3", "doc_id": "d", "kind": "spurious", "clean": [], "noisy": [d(27, 32, "Drug")]},
    ]
    labels = [GOOD[0], Span("d", 19, 23, "Drug"), Span("d", 27, 32, "Drug")]  # e2 missing: PO unlabelled
    findings, _ = run(labels)
    assert sorted(f.kind for f in findings) == ["missing", "spurious", "type"]
    ev = evaluate_findings(findings, injected)
    for k in ("type", "missing", "spurious", "all"):
        assert ev[k]["recall"] == 1.0 and ev[k]["precision"] == 1.0, (k, ev[k])
    assert ev["all"]["n"] == 3 and ev["all"]["n_findings"] == 3
    # a fix with the wrong label flags the error but does not fix it
    wrong = Finding("d", "type", "relabel", 0.1, (Span("d", 19, 23, "Drug"),), (Span("d", 19, 23, "Route"),))
    assert not fixes(wrong, injected[0]["clean"], injected[0]["noisy"])
    ev = evaluate_findings([wrong], injected)
    assert ev["type"]["recall"] == 0.0 and ev["type"]["recall_flagged"] == 1.0 and ev["type"]["precision"] == 1.0
    assert ev["missing"]["recall_flagged"] == 0.0
    # a review flag without a suggestion never counts as a fix (it would look like a delete)
    review = Finding("d", "low_confidence", "review", 0.3, (Span("d", 27, 32, "Drug"),), ())
    assert not fixes(review, injected[2]["clean"], injected[2]["noisy"])


def test_findings_nested_span_unseen_by_flat_tagger_is_not_called_spurious():
    # "aspirin 81mg" as a Treatment holding a nested Drug: flat tagging keeps the outer span, drops the inner one.
    model = marginals({2: {"B-Route": 0.9}, 3: {"I-Route": 0.9}, 4: {"I-Route": 0.9}})  # model: outer span only
    outer, inner = Span("d", 11, 23, "Route"), Span("d", 11, 18, "Drug")
    qs = score_spans([outer, inner], model, TAGS)
    assert [q.reason for q in qs] == [None, "overlap_dropped"]
    findings, _ = doc_findings(TEXT, [outer, inner], decode(model, TAGS), model, TAGS, qs)
    assert [f.kind for f in findings if inner in f.labels] == []
    # an un-nested span the model does not see is still spurious
    findings, _ = run(GOOD + [Span("d", 0, 2, "Drug")])
    assert only(findings, "spurious").labels[0].key == (0, 2, "Drug")


def test_the_demo_evaluation_moved_and_its_old_path_warns():
    import spanqa.measure.demo.evaluate as moved
    import spanqa.score.findings as old

    with pytest.warns(DeprecationWarning, match="moved to spanqa.measure.demo.evaluate"):
        assert old.evaluate_findings is moved.evaluate_findings
    with pytest.raises(AttributeError):
        old.no_such_name  # noqa: B018


def test_findings_and_messages_doctests():
    import doctest

    import spanqa.score.findings
    import spanqa.score.messages

    for module in (spanqa.score.findings, spanqa.score.messages):
        assert doctest.testmod(module).failed == 0, module.__name__
