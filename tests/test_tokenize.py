"""Clinical tokenisation: exact offsets, clinical rules, cut_at, doc_words, sentence_ranges."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanqa.core.document import Document
from spanqa.core.span import Span
from spanqa.corpus.tokenize import LONG_RUN_CHARS, Words, doc_words, sentence_ranges, tokenize


def words_of(text: str, **kw) -> list[str]:
    return [text[a:b] for a, b in tokenize(text, **kw)]


@pytest.mark.parametrize("text, expected", [
    ("aspirin 81mg PO", ["aspirin", "81", "mg", "PO"]),
    ("BP 180/110,", ["BP", "180", "/", "110", ","]),
    ("T 38.5C", ["T", "38.5", "C"]),
    ("fever 101F", ["fever", "101", "F"]),
    ("x3d", ["x3", "d"]),
    ("x3d.", ["x3", "d", "."]),
    ("q4h", ["q4", "h"]),
    ("K 4.1 mmol/L.", ["K", "4.1", "mmol", "/", "L", "."]),
    ("Glu 90 mg/dL.", ["Glu", "90", "mg", "/", "dL", "."]),
    ("Na 140mmol/L", ["Na", "140", "mmol", "/", "L"]),
    ("HbA1c 8.9%", ["HbA1c", "8.9", "%"]),
    ("HbA1C 7", ["HbA1C", "7"]),
    ("insulin 10U", ["insulin", "10", "U"]),
    ("NS 500mL", ["NS", "500", "mL"]),
    ("Dr. Smith, J. Doe", ["Dr.", "Smith", ",", "J.", "Doe"]),
    ("(BHA)-induced", ["(", "BHA", ")", "-", "induced"]),
    ("CHX+Pilo", ["CHX", "+", "Pilo"]),
    ("with AmB.", ["with", "AmB", "."]),
    ("in DNA.", ["in", "DNA", "."]),
])
def test_tokenize_clinical_rules(text, expected):
    assert words_of(text) == expected


def test_tokenize_exact_offsets_on_reference_sentence():
    text = "Pt started aspirin 81mg PO daily; BP 180/110, HbA1c 8.9%."
    toks = tokenize(text)
    assert toks[:5] == [(0, 2), (3, 10), (11, 18), (19, 21), (21, 23)]
    assert [text[a:b] for a, b in toks][-7:] == ["180", "/", "110", ",", "HbA1c", "8.9", "%", "."][-7:]
    assert all(text[a:b] and not any(c.isspace() for c in text[a:b]) for a, b in toks)


def test_tokenize_whitespace_is_never_a_token():
    text = "a\tb\n\nc  d \u00a0e\u2003f\r\ng\x1ch"
    assert words_of(text) == ["a", "b", "c", "d", "e", "f", "g", "h"]
    assert tokenize("") == [] and tokenize(" \n\t ") == []


def test_tokenize_cut_at_splits_inside_tokens_only():
    text = "aspirin81 daily"
    assert words_of(text) == ["aspirin81", "daily"]
    assert tokenize(text, cut_at=[7]) == [(0, 7), (7, 9), (10, 15)]
    # offsets on whitespace, on existing edges or outside the text change nothing
    assert tokenize(text, cut_at=[0, 9, 10, 15, 99, -3]) == tokenize(text)
    assert words_of(text, cut_at=[2, 4]) == ["as", "pi", "rin81", "daily"]


def test_tokenize_long_whitespace_free_run_is_linear_and_exact():
    run = ")" * 50_000
    t0 = time.perf_counter()
    toks = tokenize("x " + run + " y")
    assert time.perf_counter() - t0 < 5
    assert len(toks) == 50_002 and toks[1] == (2, 3) and toks[-1] == (50_003, 50_004)
    url = "http://example.org/" + "a" * LONG_RUN_CHARS
    assert "".join(words_of(url)) == url


def test_tokenize_long_single_line_note_is_chunked_exactly():
    unit = "Pt started aspirin 81mg PO daily; BP 180/110, HbA1c 8.9%. "
    text = unit * 4000  # 236 kB, one line: more than two chunks
    toks = tokenize(text)
    assert len(toks) == 4000 * len(tokenize(unit))
    assert "".join(text[a:b] for a, b in toks) == "".join(text.split())
    assert toks[-1] == (len(text) - 2, len(text) - 1)


_clinical = st.sampled_from(["81mg", "180/110", "38.5C", "x3d", "mmol/L.", "8.9%", "HbA1c", "Dr.", "don't",
                             "q4h", "(", ")", "...", "-", "e.g.", "U.S.", "140mmol/L", "aspirin"])
_texts = st.lists(st.one_of(_clinical, st.text(min_size=1, max_size=6),
                            st.sampled_from([" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\x85"])),
                  max_size=30).map("".join)


def _assert_words_ok(text: str, toks: list[tuple[int, int]]) -> None:
    prev = 0
    for a, b in toks:
        assert prev <= a < b <= len(text)
        assert not any(c.isspace() for c in text[a:b])
        prev = b
    assert "".join(text[a:b] for a, b in toks) == "".join(c for c in text if not c.isspace())


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_tokenize_property_offsets_exact_and_complete(text):
    _assert_words_ok(text, tokenize(text))


@settings(max_examples=200, deadline=None)
@given(_texts, st.lists(st.integers(min_value=-2, max_value=200), max_size=8))
def test_tokenize_property_cut_at_become_edges(text, cuts):
    toks = tokenize(text, cut_at=cuts)
    _assert_words_ok(text, toks)
    edges = {e for t in toks for e in t}
    for c in cuts:
        inside = [t for t in tokenize(text) if t[0] < c < t[1]]
        if inside:
            assert c in edges


def test_tokenize_doc_words_splits_at_span_edges_and_reports_them():
    text = "took aspirin81 daily"
    doc = Document("d", text, (Span("d", 5, 12, "Drug"),))
    w = doc_words(doc)
    assert isinstance(w, Words)
    assert w.ranges == ((0, 4), (5, 12), (12, 14), (15, 20)) and w.forced_splits == (12,)
    # aligned spans, whitespace edges and unannotated documents need no split
    assert doc_words(Document("d", text, (Span("d", 4, 14, "Drug"),))).forced_splits == ()
    assert doc_words(Document("d", text, None)).ranges == tuple(tokenize(text))


def test_tokenize_doc_words_uses_fragment_edges_and_source_tokens():
    text = "leftarm and leg pain"
    frag = Span("d", 0, 20, "Problem", fragments=((0, 4), (16, 20)))
    w = doc_words(Document("d", text, (frag,)))
    assert w.forced_splits == (4,)
    assert w.ranges[:2] == ((0, 4), (4, 7))
    src = Document("d", "ab cd", (Span("d", 0, 1, "X"),), tokens=((0, 2), (3, 5)))
    assert doc_words(src) == Words(((0, 1), (1, 2), (3, 5)), (1,))


def test_tokenize_sentence_ranges_rule_based():
    text = "BP 120/80. Pt well.\nNo pain. pt ok. Dr. Smith saw 2 pts? 3 more"
    doc = Document("d", text, None)
    sents = sentence_ranges(doc)
    assert [text[a:b] for a, b in sents] == ["BP 120/80.", "Pt well.", "No pain. pt ok.", "Dr. Smith saw 2 pts?", "3 more"]
    words = doc_words(doc).ranges
    covered = [w for w in words if any(a <= w[0] and w[1] <= b for a, b in sents)]
    assert covered == list(words)


def test_tokenize_sentence_ranges_never_break_inside_a_span_and_prefer_source():
    text = "Pain in\nleft arm. Better"
    doc = Document("d", text, (Span("d", 0, 16, "Problem"),))
    assert [text[a:b] for a, b in sentence_ranges(doc)] == ["Pain in\nleft arm.", "Better"]
    given_sents = Document("d", text, None, sentences=((0, 7), (8, 24)))
    assert sentence_ranges(given_sents) == [(0, 7), (8, 24)]
    assert sentence_ranges(Document("d", "   ", None)) == []


@settings(max_examples=150, deadline=None)
@given(_texts, st.lists(st.tuples(st.integers(0, 120), st.integers(1, 20)), max_size=5))
def test_tokenize_property_doc_words_edges_become_word_edges(text, raw):
    spans = tuple(Span("d", a, min(a + n, len(text)), "X") for a, n in raw if a < len(text) and a + 1 <= len(text))
    spans = tuple(s for s in spans if s.start < s.end)
    w = doc_words(Document("d", text, spans))
    _assert_words_ok(text, list(w.ranges))
    base = tokenize(text)
    inside = {e for s in spans for e in (s.start, s.end) if any(a < e < b for a, b in base)}
    assert set(w.forced_splits) == inside
    edges = {e for r in w.ranges for e in r}
    assert inside <= edges
    sents = sentence_ranges(Document("d", text, spans), w)
    assert [r for r in w.ranges if any(a <= r[0] and r[1] <= b for a, b in sents)] == list(w.ranges)
    assert all(not (s.start < a < s.end) for s in spans for a, _ in sents[1:])
