"""Span metrics: seqeval oracle (strict), overlap matching, the SemEval-2013 table (nervaluate golden + cross-check)."""

from __future__ import annotations

import importlib.metadata
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

from spanqa.compare.comparison import Kind, compare_corpora, compare_spans
from spanqa.compare.metrics import SCHEMAS, component_outcomes, metrics_report, semeval_table, span_metrics
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.corpus.bio import tags_to_spans, to_iob2

LABELS = ("A", "B", "C")
TAGS = ("O",) + tuple(f"{p}-{lab}" for lab in LABELS for p in "BI")


def words_for(n: int) -> list[tuple[int, int]]:
    return [(2 * i, 2 * i + 1) for i in range(n)]      # text "w w w ...", one char per word


def corpus_from_tags(sentences: list[list[str]]) -> Corpus:
    docs = []
    for i, tags in enumerate(sentences):
        words = words_for(len(tags))
        docs.append(Document(f"s{i}", " ".join("w" * len(tags)), tuple(tags_to_spans(words, tags, doc_id=f"s{i}"))))
    return Corpus(tuple(docs))


@st.composite
def tag_pairs(draw):
    """Random valid IOB2 sentences and a perturbed copy of each (both valid IOB2)."""
    rnd = draw(st.randoms(use_true_random=False))
    gold, pred = [], []
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, 14))
        g = to_iob2([rnd.choice(TAGS) if rnd.random() < 0.6 else "O" for _ in range(n)])
        p = to_iob2([rnd.choice(TAGS) if rnd.random() < 0.3 else t for t in g])
        gold.append(g)
        pred.append(p)
    return gold, pred


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning", "ignore::RuntimeWarning")
@settings(max_examples=150, deadline=None)
@given(tag_pairs())
def test_metrics_strict_equals_seqeval(pair):
    gold, pred = pair
    # other = the reference (seqeval's y_true), labels = scored side (y_pred)
    cmp = compare_corpora(corpus_from_tags(pred), corpus_from_tags(gold))
    m = span_metrics(cmp, mode="strict")
    kw = dict(mode="strict", scheme=IOB2, zero_division=0)
    assert m.micro.precision == pytest.approx(precision_score(gold, pred, **kw))
    assert m.micro.recall == pytest.approx(recall_score(gold, pred, **kw))
    assert m.micro.f1 == pytest.approx(f1_score(gold, pred, **kw))
    report = classification_report(gold, pred, output_dict=True, **kw)
    per_label = {k: v for k, v in report.items() if "avg" not in k}
    assert set(per_label) == set(m.per_label)
    for lab, row in per_label.items():
        ours = m.per_label[lab]
        assert (ours.precision, ours.recall, ours.f1) == pytest.approx((row["precision"], row["recall"], row["f1-score"]))
        assert ours.n_other == row["support"]
    if per_label:
        macro = report["macro avg"]
        assert (m.macro.precision, m.macro.recall, m.macro.f1) == pytest.approx(
            (macro["precision"], macro["recall"], macro["f1-score"]))


def test_metrics_overlap_is_one_to_one_within_a_component():
    # split: Drug "aspirin 81mg" vs Drug "aspirin" + Strength "81mg"
    split = compare_spans("d", [Span("d", 0, 12, "Drug")], [Span("d", 0, 7, "Drug"), Span("d", 8, 12, "Strength")])
    m = span_metrics(split, mode="overlap")
    assert (m.micro.matched, m.micro.precision, m.micro.recall) == (1, 1.0, 0.5)
    assert m.per_label["Strength"].recall == 0.0
    # merge of two same-label spans into one: only one of them can match
    merge = compare_spans("d", [Span("d", 0, 5, "A"), Span("d", 6, 10, "A")], [Span("d", 0, 10, "A")])
    m = span_metrics(merge, mode="overlap")
    assert (m.micro.matched, m.micro.precision, m.micro.recall) == (1, 0.5, 1.0)
    assert span_metrics(merge, mode="strict").micro.matched == 0
    # a type error never matches, even overlapping
    assert span_metrics(compare_spans("d", [Span("d", 0, 5, "A")], [Span("d", 0, 5, "B")]), mode="overlap").micro.f1 == 0


def test_metrics_overlap_assignment_maximises_matches():
    # greedy left-to-right would pair L0 with O1 (more overlap) and leave O0 unmatched
    labels = [Span("d", 0, 6, "A"), Span("d", 8, 12, "A")]
    other = [Span("d", 0, 2, "A"), Span("d", 3, 10, "A")]
    m = span_metrics(compare_spans("d", labels, other), mode="overlap")
    assert m.micro.matched == 2


def test_metrics_empty_and_report_shape():
    m = span_metrics([], mode="strict")
    assert (m.micro.precision, m.micro.recall, m.micro.f1, m.per_label) == (0.0, 0.0, 0.0, {})
    cmp = compare_corpora(corpus_from_tags([["B-A", "I-A", "O"]]), corpus_from_tags([["B-A", "O", "B-B"]]))
    report = metrics_report(cmp)
    assert list(report["kinds"]) == [k.value for k in Kind]
    assert report["kinds"]["boundary"] == 1 and report["kinds"]["missing"] == 1
    assert set(report) == {"kinds", "strict", "overlap", "semeval"}


# --------------------------------------------------------------------------- SemEval-2013 (nervaluate README)

#: the README's drug examples, placed in one text; gold = other, prediction = labels
SEMEVAL_TEXT = "tikosyn healthy of warfarin propranolol phenytoin oral contraceptives"
_GOLD = [("BRAND", "tikosyn"), ("DRUG", "warfarin"), ("DRUG", "propranolol"), ("DRUG", "phenytoin"),
         ("GROUP", "contraceptives")]
_PRED = [("BRAND", "healthy"), ("DRUG", "of warfarin"), ("BRAND", "propranolol"), ("DRUG", "phenytoin"),
         ("DRUG", "oral contraceptives")]
_ABBR = {"correct": "COR", "incorrect": "INC", "partial": "PAR", "missed": "MIS", "spurious": "SPU"}
_COLUMNS = {"Type": "type", "Partial": "partial", "Exact": "exact", "Strict": "strict"}


def _spans(pairs) -> list[Span]:
    out = []
    for label, surface in pairs:
        start = SEMEVAL_TEXT.index(surface)
        out.append(Span("d", start, start + len(surface), label))
    return out


def readme_scenarios() -> list[dict[str, str]]:
    """The scenario table of nervaluate's README, parsed from the installed package metadata."""
    text = importlib.metadata.metadata("nervaluate").get_payload() or importlib.metadata.metadata("nervaluate")["Description"]
    rows = []
    header = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.strip().startswith("|") else None
        if cells and cells[0] == "Scenario":
            header = cells
        elif header and cells and re.fullmatch(r"I{1,3}|IV|VI?", cells[0]):
            rows.append(dict(zip(header, cells)))
        elif header and rows and not cells:
            break
    return rows


EXPECTED_SCENARIOS = [  # as printed in nervaluate 1.2.1's README
    {"Scenario": "III", "Gold entity": "BRAND", "Gold string": "tikosyn", "Type": "MIS", "Partial": "MIS", "Exact": "MIS", "Strict": "MIS"},
    {"Scenario": "II", "Pred entity": "BRAND", "Pred string": "healthy", "Type": "SPU", "Partial": "SPU", "Exact": "SPU", "Strict": "SPU"},
    {"Scenario": "V", "Gold string": "warfarin", "Pred string": "of warfarin", "Type": "COR", "Partial": "PAR", "Exact": "INC", "Strict": "INC"},
    {"Scenario": "IV", "Gold string": "propranolol", "Pred entity": "BRAND", "Type": "INC", "Partial": "COR", "Exact": "COR", "Strict": "INC"},
    {"Scenario": "I", "Gold string": "phenytoin", "Type": "COR", "Partial": "COR", "Exact": "COR", "Strict": "COR"},
    {"Scenario": "VI", "Gold entity": "GROUP", "Pred entity": "DRUG", "Type": "INC", "Partial": "PAR", "Exact": "INC", "Strict": "INC"},
]


def test_metrics_semeval_readme_table_is_the_one_we_reproduce():
    rows = readme_scenarios()
    assert len(rows) == 6
    for row, expected in zip(rows, EXPECTED_SCENARIOS):
        assert {k: row[k] for k in expected} == expected


def test_metrics_semeval_scenarios_reproduced():
    comps = compare_spans("d", _spans(_PRED), _spans(_GOLD))
    assert sorted(c.kind.value for c in comps) == ["boundary", "boundary_type", "exact", "missing", "spurious", "type"]
    outcomes = {}
    for comp in comps:
        for pred, gold, outcome in component_outcomes(comp):
            key = (gold.text_in(SEMEVAL_TEXT) if gold else "", pred.text_in(SEMEVAL_TEXT) if pred else "")
            outcomes[key] = outcome
    for row in readme_scenarios():
        ours = outcomes[(row["Gold string"], row["Pred string"])]
        assert {col: _ABBR[ours[schema]] for col, schema in _COLUMNS.items()} == {col: row[col] for col in _COLUMNS}


def test_metrics_semeval_totals_equal_nervaluate():
    from nervaluate import Evaluator

    table = semeval_table(compare_spans("d", _spans(_PRED), _spans(_GOLD)))
    as_dicts = lambda spans: [[{"label": s.label, "start": s.start, "end": s.end - 1} for s in spans]]  # noqa: E731
    ev = Evaluator(as_dicts(_spans(_GOLD)), as_dicts(_spans(_PRED)), tags=["BRAND", "DRUG", "GROUP"], loader="dict")
    overall = ev.evaluate()["overall"]
    names = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
    for schema in SCHEMAS:
        theirs = overall[names[schema]]
        for key in ("correct", "incorrect", "partial", "missed", "spurious", "possible", "actual"):
            assert table[schema][key] == getattr(theirs, key), (schema, key)
        assert table[schema]["precision"] == pytest.approx(theirs.precision)
        assert table[schema]["recall"] == pytest.approx(theirs.recall)
    # the README's own worked numbers for these six scenarios
    assert (table["strict"]["correct"], table["strict"]["incorrect"]) == (1, 3)
    assert (table["partial"]["correct"], table["partial"]["partial"]) == (2, 2)


def _random_flat(rnd: random.Random, length: int) -> list[Span]:
    out, pos = [], 0
    while True:
        pos += rnd.randint(0, 6)
        end = pos + rnd.randint(1, 6)
        if end > length:
            return out
        out.append(Span("d", pos, end, rnd.choice(LABELS)))
        pos = end


def test_metrics_semeval_matches_nervaluate_on_random_one_to_one_docs():
    from nervaluate import Evaluator

    rnd = random.Random(13)
    gold_docs, pred_docs, comps = [], [], []
    while len(gold_docs) < 300:
        gold, pred = _random_flat(rnd, 60), _random_flat(rnd, 60)
        c = compare_spans("d", pred, gold)
        if any(x.kind in (Kind.SPLIT, Kind.MERGE, Kind.COMPLEX) for x in c):
            continue   # nervaluate's greedy matching differs from a component view only there
        gold_docs.append([{"label": s.label, "start": s.start, "end": s.end - 1} for s in gold])
        pred_docs.append([{"label": s.label, "start": s.start, "end": s.end - 1} for s in pred])
        comps.extend(c)
    kinds = {c.kind for c in comps}
    assert {Kind.TYPE, Kind.BOUNDARY, Kind.BOUNDARY_TYPE, Kind.MISSING, Kind.SPURIOUS, Kind.EXACT} <= kinds
    overall = Evaluator(gold_docs, pred_docs, tags=list(LABELS), loader="dict").evaluate()["overall"]
    table = semeval_table(comps)
    names = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
    for schema in SCHEMAS:
        for key in ("correct", "incorrect", "partial", "missed", "spurious"):
            assert table[schema][key] == getattr(overall[names[schema]], key), (schema, key)


def test_metrics_semeval_split_counts_extra_pieces_as_missed():
    comp = compare_spans("d", [Span("d", 0, 12, "Drug")], [Span("d", 0, 7, "Drug"), Span("d", 8, 12, "Strength")])[0]
    outcomes = component_outcomes(comp)
    assert [(o["type"], o["strict"]) for _, _, o in outcomes] == [("correct", "incorrect"), ("missed", "missed")]
