"""The span comparator: one test per kind, nesting, text alignment, matching, and order/swap/self properties."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanqa.compare.comparison import KINDS, SWAPPED, Comparison, Kind, compare_corpora, compare_spans
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span

TEXT = "Pt started aspirin 81mg PO daily; BP 180/110, HbA1c 8.9%."
#       0123456789012345678901234567890123456789012345678901234567


def S(start: int, end: int, label: str, doc: str = "d", **kw) -> Span:
    return Span(doc, start, end, label, **kw)


def kinds(comps) -> list[str]:
    return [c.kind.value for c in comps]


# --------------------------------------------------------------------------- one case per kind

@pytest.mark.parametrize("labels, other, kind, action", [
    ([S(11, 18, "Drug")], [S(11, 18, "Drug")], "exact", "keep"),
    ([S(11, 18, "Drug")], [S(11, 18, "Brand")], "type", "relabel"),
    ([S(11, 18, "Drug")], [S(11, 23, "Drug")], "boundary", "extend"),
    ([S(11, 23, "Drug")], [S(11, 18, "Drug")], "boundary", "shrink"),
    ([S(3, 18, "Drug")], [S(11, 23, "Drug")], "boundary", "shift"),
    ([S(11, 23, "Drug")], [S(11, 18, "Brand")], "boundary_type", "replace"),
    ([S(11, 23, "Drug")], [S(11, 18, "Drug"), S(19, 23, "Strength")], "split", "split"),
    ([S(11, 18, "Drug"), S(19, 23, "Drug")], [S(11, 23, "Drug")], "merge", "merge"),
    ([S(11, 21, "Drug"), S(21, 26, "Dose")], [S(11, 18, "Drug"), S(19, 26, "Dose")], "complex", "replace"),
    ([], [S(34, 36, "Test")], "missing", "add"),
    ([S(34, 36, "Test")], [], "spurious", "delete"),
])
def test_comparison_each_kind(labels, other, kind, action):
    comps = compare_spans("d", labels, other)
    assert [(c.kind.value, c.action) for c in comps] == [(kind, action)]
    assert comps[0].labels == tuple(labels) and set(comps[0].other) == set(other)


def test_comparison_kind_enum_covers_nine_kinds():
    assert [k.value for k in KINDS] == ["exact", "type", "boundary", "boundary_type", "split", "merge",
                                        "complex", "missing", "spurious"]
    assert f"{Kind.SPLIT}" == "split" and Kind("merge") is Kind.MERGE


def test_comparison_touching_spans_do_not_overlap():
    # half-open offsets: [11, 18) and [18, 23) share no character
    comps = compare_spans("d", [S(11, 18, "Drug")], [S(18, 23, "Drug")])
    assert sorted(kinds(comps)) == ["missing", "spurious"]


def test_comparison_several_components_sorted_by_position():
    labels = [S(46, 51, "Test"), S(11, 18, "Drug"), S(0, 2, "X")]
    other = [S(52, 56, "Value"), S(11, 18, "Drug"), S(46, 51, "Lab")]
    comps = compare_spans("d", labels, other)
    assert [(c.start, c.kind.value) for c in comps] == [(0, "spurious"), (11, "exact"), (46, "type"), (52, "missing")]


def test_comparison_to_dict_record_shape():
    comp = compare_spans("d", [S(11, 23, "Drug")], [S(11, 18, "Drug"), S(19, 23, "Strength")])[0]
    assert comp.to_dict(TEXT) == {
        "doc_id": "d", "kind": "split", "action": "split",
        "labels": [{"start": 11, "end": 23, "label": "Drug", "text": "aspirin 81mg"}],
        "other": [{"start": 11, "end": 18, "label": "Drug", "text": "aspirin"},
                  {"start": 19, "end": 23, "label": "Strength", "text": "81mg"}]}


# --------------------------------------------------------------------------- nesting and fragments

def test_comparison_nested_exact_outer_is_not_swallowed_by_merge():
    # labels: Drug "aspirin 81mg" with a nested Strength "81mg"; other only the Drug
    comps = compare_spans("d", [S(11, 23, "Drug"), S(19, 23, "Strength")], [S(11, 23, "Drug")])
    assert kinds(comps) == ["exact", "spurious"]
    assert comps[1].labels == (S(19, 23, "Strength"),)


def test_comparison_nested_on_both_sides_pairs_same_extent_first():
    labels = [S(11, 23, "Drug"), S(11, 18, "Drug")]
    other = [S(11, 23, "Medication"), S(11, 18, "Drug")]
    assert kinds(compare_spans("d", labels, other)) == ["exact", "type"]  # (11, 18) sorts first


def test_comparison_within_side_overlap_adds_no_edge():
    # two overlapping labels spans, each overlapping a different other span -> two separate components
    labels = [S(0, 10, "A"), S(5, 20, "B")]
    other = [S(0, 4, "A"), S(15, 20, "B")]
    assert sorted(kinds(compare_spans("d", labels, other))) == ["boundary", "boundary"]


def test_comparison_duplicate_span_pairs_one_to_one():
    comps = compare_spans("d", [S(11, 18, "Drug"), S(11, 18, "Drug")], [S(11, 18, "Drug")])
    assert sorted(kinds(comps)) == ["exact", "spurious"]


def test_comparison_discontinuous_overlap_uses_fragments():
    frag = S(0, 20, "Drug", fragments=((0, 5), (15, 20)))
    # inside the gap of the fragments: no overlap
    assert sorted(kinds(compare_spans("d", [frag], [S(6, 14, "Drug")]))) == ["missing", "spurious"]
    # same hull, different fragments: not exact
    comps = compare_spans("d", [frag], [S(0, 20, "Drug")])
    assert kinds(comps) == ["boundary"] and comps[0].action == "extend"


# --------------------------------------------------------------------------- corpora and text alignment

def corpus(*docs: Document, source: str = "mem") -> Corpus:
    return Corpus(tuple(docs), format="test", source=source)


def test_comparison_corpora_by_id_with_bookkeeping():
    a = corpus(Document("1", TEXT, (S(11, 18, "Drug", "1"),)), Document("2", "x", ()), Document("3", "y", None),
               Document("4", TEXT, ()))
    b = corpus(Document("1", TEXT, (S(11, 18, "Brand", "1"),)), Document("3", "y", ()), Document("4", TEXT, None),
               Document("9", "z", ()))
    cmp = compare_corpora(a, b)
    assert isinstance(cmp, Comparison) and cmp.match == "id"
    assert [d.doc_id for d in cmp.docs] == ["1"]
    assert cmp.only_labels == ("2",) and cmp.only_other == ("9",)
    assert dict(cmp.unannotated) == {"labels": 1, "other": 1}
    assert sorted(p.code for p in cmp.problems) == ["W301", "W301", "W302", "W302"]
    assert cmp.counts[Kind.TYPE] == 1 and set(cmp.counts) == set(KINDS)
    assert cmp.counts_by_kind_label()[Kind.TYPE] == {"Drug": 1}
    assert cmp.confusion() == {("Drug", "Brand"): 1}


def test_comparison_corpora_by_order_when_ids_differ():
    a = corpus(Document("train-0", "a b", (S(0, 1, "X", "train-0"),)), Document("train-1", "c", ()))
    b = corpus(Document("dev-0", "a b", (S(0, 1, "X", "dev-0"),)), Document("dev-1", "c", ()))
    cmp = compare_corpora(a, b)
    assert cmp.match == "order" and kinds(cmp.components) == ["exact"]
    assert cmp.components[0].doc_id == "train-0"
    with pytest.raises(SpanqaError) as err:
        compare_corpora(a, corpus(Document("x", "a b", ())))
    assert err.value.code == "E302"
    with pytest.raises(SpanqaError):
        compare_corpora(a, b, match="id")


def test_comparison_whitespace_only_difference_maps_other_into_labels_coordinates():
    labels_text = "FOOTBALL-STANDINGS\nLONDON 1996"
    other_text = "FOOTBALL - STANDINGS LONDON 1996"
    a = corpus(Document("t", labels_text, (S(0, 18, "MISC", "t"), S(19, 25, "LOC", "t"))))
    b = corpus(Document("t", other_text, (S(0, 8, "MISC", "t"), S(21, 27, "LOC", "t"), S(28, 32, "DATE", "t"))))
    cmp = compare_corpora(a, b)
    assert cmp.docs[0].alignment == "whitespace"
    by_kind = {c.kind.value: c for c in cmp.components}
    assert set(by_kind) == {"boundary", "exact", "missing"}
    assert by_kind["boundary"].other == (S(0, 8, "MISC", "t"),) and by_kind["boundary"].action == "shrink"
    assert by_kind["exact"].other[0].key == (19, 25, "LOC")
    rec = next(r for r in cmp.records() if r["kind"] == "missing")
    assert rec["other"][0]["text"] == "1996" and rec["other"][0]["start"] == 26
    assert rec["other"][0]["source"] == {"start": 28, "end": 32, "text": "1996"}


def test_comparison_whitespace_only_span_reported_w303():
    a = corpus(Document("t", "ab cd", ()))
    b = corpus(Document("t", "ab  cd", (S(2, 4, "X", "t"),)))
    cmp = compare_corpora(a, b)
    assert [p.code for p in cmp.problems] == ["W303"] and cmp.components == ()


def test_comparison_text_difference_is_e301_with_location():
    a = corpus(Document("t", "Pt started aspirin daily", ()))
    b = corpus(Document("t", "Pt started  asprin daily", ()))
    with pytest.raises(SpanqaError) as err:
        compare_corpora(a, b)
    problem = err.value.problem
    assert problem.code == "E301" and problem.where.doc_id == "t" and problem.where.start == 14
    assert "asprin" in problem.detail and "aspirin" in problem.detail


# --------------------------------------------------------------------------- properties

LABELS = ("A", "B", "C")


@st.composite
def spans(draw, n_max: int = 8, length: int = 40) -> list[Span]:
    out = []
    for _ in range(draw(st.integers(0, n_max))):
        start = draw(st.integers(0, length - 1))
        end = draw(st.integers(start + 1, min(length, start + 8)))
        label = draw(st.sampled_from(LABELS))
        if end - start >= 4 and draw(st.integers(0, 5)) == 0:   # sometimes discontinuous
            cut = draw(st.integers(start + 1, end - 2))
            out.append(S(start, end, label, fragments=((start, cut), (cut + 1, end))))
        else:
            out.append(S(start, end, label))
    return out


@settings(max_examples=150, deadline=None)
@given(spans(), spans(), st.randoms(use_true_random=False))
def test_comparison_order_independent(labels, other, rnd):
    expected = compare_spans("d", labels, other)
    l2, o2 = list(labels), list(other)
    rnd.shuffle(l2)
    rnd.shuffle(o2)
    assert compare_spans("d", l2, o2) == expected


@settings(max_examples=100, deadline=None)
@given(spans())
def test_comparison_self_is_all_exact(labels):
    comps = compare_spans("d", labels, labels)
    assert all(c.kind is Kind.EXACT for c in comps) and len(comps) == len(labels)


@settings(max_examples=150, deadline=None)
@given(spans(), spans())
def test_comparison_swap_mirrors_kinds(labels, other):
    forward = compare_spans("d", labels, other)
    backward = compare_spans("d", other, labels)
    assert sorted((c.swapped() for c in forward), key=lambda c: c.sort_key()) == backward
    assert sorted(SWAPPED[c.kind].value for c in forward) == sorted(c.kind.value for c in backward)
    flip = {"extend": "shrink", "shrink": "extend", "add": "delete", "delete": "add", "split": "merge", "merge": "split"}
    assert sorted(flip.get(c.action, c.action) for c in forward) == sorted(c.action for c in backward)


@settings(max_examples=100, deadline=None)
@given(spans(), spans())
def test_comparison_every_span_in_exactly_one_component(labels, other):
    comps = compare_spans("d", labels, other)
    assert Counter(s for c in comps for s in c.labels) == Counter(labels)
    assert Counter(s for c in comps for s in c.other) == Counter(other)
    for c in comps:   # shape matches kind
        n, m = len(c.labels), len(c.other)
        assert {Kind.MISSING: (0, 1), Kind.SPURIOUS: (1, 0)}.get(c.kind, (n, m)) == (n, m)
        if c.kind is Kind.SPLIT:
            assert n == 1 and m >= 2
        if c.kind is Kind.MERGE:
            assert n >= 2 and m == 1
        if c.kind is Kind.COMPLEX:
            assert n >= 2 and m >= 2


@settings(max_examples=50, deadline=None)
@given(spans(length=20))
def test_comparison_corpus_with_itself_only_exact(labels):
    doc = Document("d", "x" * 20, tuple(labels))
    cmp = compare_corpora(corpus(doc), corpus(doc))
    assert {k for k, n in cmp.counts.items() if n} <= {Kind.EXACT} and cmp.problems == ()


# --------------------------------------------------------------------------- CLI

def _conll(path, rows):
    path.write_text("\n".join(" ".join(r) if r else "" for r in rows) + "\n", encoding="utf-8")
    return path


def test_comparison_cli_json_table_and_records(tmp_path):
    import json

    from typer.testing import CliRunner

    from spanqa.cli import app

    a = _conll(tmp_path / "a.conll", [("Pt", "O", "O"), ("took", "O", "O"), ("aspirin", "B-Drug", "O"),
                                      ("81", "I-Drug", "O"), ("mg", "I-Drug", "O"), (), ("BP", "B-Test", "O")])
    b = _conll(tmp_path / "b.conll", [("Pt", "B-X", "O"), ("took", "O", "O"), ("aspirin", "B-Drug", "O"),
                                      ("81", "B-Strength", "O"), ("mg", "I-Strength", "O"), (), ("BP", "O", "O")])
    out = tmp_path / "sub" / "components.jsonl"
    runner = CliRunner()
    res = runner.invoke(app, ["compare", str(a), str(b), "--json", "--out", str(out), "--tag-column", "1",
                              "--match", "order"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["kinds"] == {"exact": 0, "type": 0, "boundary": 0, "boundary_type": 0, "split": 1, "merge": 0,
                                "complex": 0, "missing": 1, "spurious": 1}
    assert payload["match"] == "order" and payload["metrics"]["strict"]["micro"]["f1"] == 0.0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["kind"] for r in recs] == ["missing", "split", "spurious"]
    assert recs[1]["labels"][0]["text"] == "aspirin 81 mg" and recs[1]["action"] == "split"
    res = runner.invoke(app, ["compare", str(a), str(b), "--tag-column", "1"])
    assert res.exit_code == 0, res.output
    assert "split" in res.output and "micro" in res.output
    # a reader option the format does not take is a usage error, not a crash
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "n.txt").write_text("x\n")
    (brat / "n.ann").write_text("")
    res = runner.invoke(app, ["compare", str(brat), str(brat), "--tag-column", "1"])
    assert res.exit_code == 2 and "does not apply" in res.output


def test_comparison_cli_text_mismatch_exits_2(tmp_path, capsys):
    from spanqa.cli import main

    a = _conll(tmp_path / "a.conll", [("aspirin", "B-Drug")])
    b = _conll(tmp_path / "b.conll", [("asprin", "B-Drug")])
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(a), str(b)])
    assert exc.value.code == 2
    assert "E301" in capsys.readouterr().err
