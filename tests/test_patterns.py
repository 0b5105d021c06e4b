"""Patterns (spanqa.score.patterns), competence rules (spanqa.score.competence) and the evidence notes of review sentences."""

from __future__ import annotations

import doctest

import pytest

from spanqa.core.span import Span
from spanqa.score import competence, patterns
from spanqa.score.findings import Finding
from spanqa.score.messages import abbreviation_note, corpus_note, with_notes
from spanqa.score.patterns import find_patterns


def test_patterns_and_competence_doctests():
    for module in (competence, patterns):
        assert doctest.testmod(module).failed == 0, module.__name__


def _relabel(doc: str, start: int, p_error: float, p_sug: float = 0.9, label: str = "Species",
             new: str = "Strain") -> Finding:
    return Finding(doc, "type", "relabel", 1 - p_error, (Span(doc, start, start + 3, label),),
                   (Span(doc, start, start + 3, new),),
                   {"p_suggestion": p_sug, "ranking": {"p_error": p_error, "surface": {"Species": 11}}}, "")


TEXTS = {f"d{i}": "Bti and bti and BTI here" for i in range(5)}


def test_patterns_group_the_same_confident_change_to_one_string_across_notes():
    fs = [_relabel("d0", 0, 0.3), _relabel("d1", 8, 0.2), _relabel("d2", 16, 0.4),
          _relabel("d3", 0, 0.3, p_sug=0.3),                      # not confident: not a member
          _relabel("d4", 0, 0.3, new="Genus")]                    # another change: another group (alone)
    pats, marked = find_patterns(fs, TEXTS)
    assert len(pats) == 1
    p = pats[0]
    assert p.kind == "pattern" and p.action == "relabel" and p.evidence["n_members"] == 3
    assert [m["doc_id"] for m in p.evidence["members"]] == ["d2", "d0", "d1"]     # most suspicious first
    assert p.score == pytest.approx(0.7 * 0.8 * 0.6)                               # P(none is an error)
    assert p.score < min(f.score for f in fs)                                     # the total evidence ranks it first
    assert p.message.startswith("'BTI' is labelled Species 3 times in 3 notes; the model reads Strain each time")
    assert "Elsewhere in the corpus it reads Species 11." in p.message and p.message.endswith("?")
    assert [f.evidence.get("pattern") for f in marked] == [p.id, p.id, p.id, None, None]
    assert [f.id for f in marked] == [f.id for f in fs]


def test_patterns_need_two_notes_and_three_members():
    one_note = [_relabel("d0", 0, 0.3), _relabel("d0", 8, 0.3), _relabel("d0", 16, 0.3)]
    assert find_patterns(one_note, TEXTS)[0] == []
    assert find_patterns(one_note[:2] + [_relabel("d1", 0, 0.3)], TEXTS, min_members=4)[0] == []


def test_competence_withholds_splits_only_the_model_supports():
    def split(support: float) -> Finding:
        return Finding("d", "split", "split", 0.2, (Span("d", 0, 9, "X"),), (Span("d", 0, 3, "X"), Span("d", 4, 9, "X")),
                       {"ranking": {"signals": {"structure": support}}}, "")
    kept, withheld = competence.withhold_unsupported([split(0.0), split(1.0), _relabel("d0", 0, 0.3)])
    assert [f.kind for f in kept] == ["split", "type"] and withheld == {"split": 1}


def test_competence_assessable_labels():
    agreement = {"per_label": {"A": {"f1": 0.9}, "B": {"f1": 0.41}}}
    assert competence.assessable_labels(agreement) == (["A"], {"B": 0.41})


def test_review_sentence_notes_go_before_the_question():
    msg = "The model is 80% confident 'FAP' is a SpecificDisease, while the label calls it a Modifier. Could we review it?"
    note = corpus_note("'FAP'", {"SpecificDisease": 10, "Modifier": 4, "O": 4})
    out = with_notes(msg, note, abbreviation_note({"short": "FAP", "long": "familial adenomatous polyposis",
                                                   "label": "SpecificDisease"}))
    assert out == ("The model is 80% confident 'FAP' is a SpecificDisease, while the label calls it a Modifier. "
                   "Elsewhere in the corpus 'FAP' is labelled SpecificDisease 10 times and Modifier 4 times, and left "
                   "unlabelled 4 times. 'FAP' abbreviates 'familial adenomatous polyposis' in this note, which is "
                   "labelled SpecificDisease. Could we review it?")
    assert corpus_note("'x'", {"O": 1}) == "Elsewhere in the corpus 'x' is left unlabelled once."
    assert corpus_note("'x'", {}) == "" and with_notes(msg) == msg


def test_apply_a_pattern_decision_decides_every_member_without_its_own(tmp_path):
    from test_review_run import _sp, make_run

    from spanqa.review.apply import apply_decisions
    from spanqa.review.decisions import Decision
    from spanqa.run.reader import load_run

    members = [  # "heparin" in n4 twice and "Coumadin" in n2 relabelled Drug -> Brand, as one pattern
        {"id": "m1", "doc_id": "n4", "kind": "type", "action": "relabel", "score": 0.2, "labels": [_sp("n4", 8, 15, "Drug")],
         "suggestion": [_sp("n4", 8, 15, "Brand")], "evidence": {"p_suggestion": 0.9, "pattern": "P"}, "message": "?"},
        {"id": "m2", "doc_id": "n4", "kind": "type", "action": "relabel", "score": 0.3,
         "labels": [_sp("n4", 37, 44, "Drug")], "suggestion": [_sp("n4", 37, 44, "Brand")],
         "evidence": {"p_suggestion": 0.9, "pattern": "P"}, "message": "?"},
        {"id": "m3", "doc_id": "n2", "kind": "type", "action": "relabel", "score": 0.3, "labels": [_sp("n2", 0, 8, "Drug")],
         "suggestion": [_sp("n2", 0, 8, "Brand")], "evidence": {"p_suggestion": 0.9, "pattern": "P"}, "message": "?"},
    ]
    pattern = dict(members[0], id="P", kind="pattern", score=0.05,
                   evidence={"members": [{"id": m["id"], "doc_id": m["doc_id"]} for m in members]})
    run_dir, _ = make_run(tmp_path, findings=[pattern, *members])
    run = load_run(run_dir)
    decisions = [Decision("P", "accept", reviewer="ana", reason="brand names", source="d.csv:2"),
                 Decision("m3", "reject", reviewer="bob", source="d.csv:3")]        # a member's own decision wins
    result = apply_decisions(run, decisions, time="2026-12-04T00:00:00+00:00")
    assert result.counts["pattern_members"] == 2 and result.counts["applied"] == 2 and result.counts["rejected"] == 1
    assert sorted(c.finding_id for c in result.changes) == ["m1", "m2"]
    assert all(c.reason == "pattern P: brand names" and c.reviewer == "ana" for c in result.changes)
    heparin = {s.start: s.label for s in result.corpus.by_id()["n4"].spans}
    assert heparin == {8: "Brand", 37: "Brand"}
    assert {s.label for s in result.corpus.by_id()["n2"].spans if s.start == 0} == {"Drug"}
    # an offset override cannot apply to every occurrence: W513, the decision still applies as suggested
    result = apply_decisions(run, [Decision("P", "accept", start=8, end=20, source="d.csv:2")])
    assert [p.code for p in result.problems] == ["W513"] and result.counts["applied"] == 3


def test_error_rate_over_the_labels_the_model_can_judge_and_withheld_when_it_cannot():
    from spanqa.run.pipeline import honest_error_rate
    from spanqa.score.quality import SpanQuality

    def q(label, qual, alt_p, i):
        return SpanQuality(Span(f"d{i}", 0, 1, label), qual, True,
                           alternative={"kind": "label", "label": "A" if label == "B" else "B", "p": alt_p,
                                        "words": [0, 1]})
    spans = [q("A", 0.9, 0.05, 0), q("A", 0.9, 0.05, 1), q("A", 0.1, 0.85, 2), q("B", 0.3, 0.6, 3), q("B", 0.2, 0.7, 4)]
    good = {"f1": 0.85, "per_label": {"A": {"f1": 0.9}, "B": {"f1": 0.3}}}
    r = honest_error_rate(spans, [], good, 0.9)
    assert r["assessed_labels"] == ["A"] and r["n_spans"] == 3 and r["estimate"] == pytest.approx(1 / 3, abs=1e-6)
    assert r["not_assessed"]["B"]["n_spans"] == 2 and r["all_labels"]["n_spans"] == 5 and "withheld" not in r
    weak = {"f1": 0.55, "per_label": {"A": {"f1": 0.9}, "B": {"f1": 0.3}}}
    r = honest_error_rate(spans, [], weak, 0.9)
    assert r["estimate"] is None and r["withheld"].startswith("not estimated: the out-of-fold model agrees with the "
                                                              "labels at span F1 0.55")


def test_members_follow_their_pattern_in_the_ranking():
    from spanqa.score.findings import sort_findings

    fs = [_relabel("d0", 0, 0.3), _relabel("d1", 8, 0.2), _relabel("d2", 16, 0.4), _relabel("d3", 0, 0.1, new="Genus")]
    pats, marked = find_patterns(fs, TEXTS)
    order = sort_findings(marked + pats)
    assert [f.kind for f in order][:4] == ["pattern", "type", "type", "type"]
    assert order[0].kind == "pattern" and {f.evidence.get("pattern") for f in order[1:4]} == {pats[0].id}
    assert order[4].doc_id == "d3"          # the unrelated finding (score 0.9) comes after the whole group (0.336)


def test_context_readings_skip_a_parenthetical_and_weigh_against_a_contrary_change():
    import re as _re

    from spanqa.core.document import Corpus, Document
    from spanqa.score.competence import weights
    from spanqa.score.ranking.consistency import SurfaceIndex

    def doc(i, text, spans):
        return Document(f"d{i}", text, tuple(Span(f"d{i}", a, b, lab) for a, b, lab in spans))
    docs = [doc(0, "the DM (x) locus", [(4, 6, "Mod")]), doc(1, "a DM locus", [(2, 4, "Mod")]),
            doc(2, "DM is rare", [(0, 2, "Dis")]), doc(3, "DM is common", [(0, 2, "Dis")]),
            doc(4, "near DM locus", [(5, 7, "Dis")])]
    words = {d.id: [(m.start(), m.end()) for m in _re.finditer(r"\w+|[^\w\s]", d.text)] for d in docs}
    ix = SurfaceIndex(Corpus.from_docs(docs), words)
    assert ix.next_word("d0", 2) == "locus"                                  # "( x )" skipped
    assert ix.context_readings("d4", 1, 2) == {"Mod": 2}                     # DM before "locus", this one left out
    assert ix.readings(("DM",)) == {"Mod": 2, "Dis": 3}
    # d4's DM is labelled Dis; the form alone is split (Dis 2 / Mod 2 elsewhere), the context is not:
    mod = (Span("d4", 5, 7, "Dis"),), (Span("d4", 5, 7, "Mod"),)
    assert weights("type", "relabel", *mod, {"Mod": 2, "Dis": 2}, {}) == {}
    assert weights("type", "relabel", (Span("d2", 0, 2, "Dis"),), (Span("d2", 0, 2, "Mod"),), {"Mod": 2, "Dis": 1},
                   {}, context={"Dis": 1, "Mod": 0}) == {}                   # one other in context: too few
    assert weights("type", "relabel", (Span("d2", 0, 2, "Dis"),), (Span("d2", 0, 2, "Mod"),), {"Mod": 2, "Dis": 1},
                   {}, context={"Dis": 2}) == {"corpus": 0.5}
