"""The BIO codec: round trips in every scheme, repairs, and agreement with seqeval's strict IOB2 decoder."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanqa.core.span import Span
from spanqa.corpus.bio import SCHEMES, convert_tags, spans_to_tags, tag_inventory, tags_to_spans, to_iob2, validate_tag

LABELS = ["Drug", "Strength", "B-ish"]


def _words(n: int) -> list[tuple[int, int]]:
    return [(2 * i, 2 * i + 1) for i in range(n)]


@st.composite
def flat_spans(draw):
    n = draw(st.integers(0, 25))
    spans, i = [], 0
    while i < n:
        if draw(st.booleans()):
            length = draw(st.integers(1, 4))
            j = min(n, i + length)
            spans.append(Span("d", 2 * i, 2 * (j - 1) + 1, draw(st.sampled_from(LABELS))))
            i = j
        else:
            i += 1
    return n, spans


@settings(max_examples=200, deadline=None)
@given(flat_spans(), st.sampled_from(SCHEMES))
def test_bio_round_trip_every_scheme(case, scheme):
    n, spans = case
    words = _words(n)
    tags = spans_to_tags(words, spans, scheme=scheme)
    assert all(validate_tag(t, scheme) for t in tags)
    assert tags_to_spans(words, tags, doc_id="d", scheme=scheme) == spans


@settings(max_examples=100, deadline=None)
@given(flat_spans(), st.sampled_from(SCHEMES), st.sampled_from(SCHEMES))
def test_bio_convert_keeps_entities(case, src, dst):
    n, spans = case
    words = _words(n)
    tags = spans_to_tags(words, spans, scheme=src)
    converted = convert_tags(tags, src, dst)
    assert tags_to_spans(words, converted, doc_id="d", scheme=dst) == spans


def test_bio_stray_inside_tag_is_repaired_and_reported():
    repairs = []
    spans = tags_to_spans(_words(4), ["O", "I-Drug", "I-Drug", "I-Test"], doc_id="d",
                          on_repair=lambda i, t: repairs.append((i, t)))
    assert [(s.start, s.end, s.label) for s in spans] == [(2, 5, "Drug"), (6, 7, "Test")]
    assert repairs == [(1, "I-Drug"), (3, "I-Test")]


def test_bio_iob1_inside_start_is_not_a_repair():
    repairs = []
    assert to_iob2(["I-X", "I-X", "B-X", "O", "I-Y"], "IOB1", lambda i, t: repairs.append(i)) == \
        ["B-X", "I-X", "B-X", "O", "B-Y"]
    assert repairs == []


def test_bio_overlapping_spans_longest_wins_and_drop_is_reported():
    dropped = []
    words = _words(3)
    tags = spans_to_tags(words, [Span("d", 0, 1, "Drug"), Span("d", 0, 5, "Treatment")],
                         on_drop=dropped.append)
    assert tags == ["B-Treatment", "I-Treatment", "I-Treatment"]
    assert [s.label for s in dropped] == ["Drug"]


def test_bio_span_edge_inside_word_widens_to_word():
    words = [(0, 12)]  # "aspirin81mg" as one word
    assert spans_to_tags(words, [Span("d", 0, 7, "Drug")]) == ["B-Drug"]


def test_bio_rejects_tags_outside_scheme():
    assert not validate_tag("E-Drug", "IOB2")
    assert validate_tag("E-Drug", "BIOES")
    assert not validate_tag("B-", "IOB2")
    with pytest.raises(ValueError):
        to_iob2(["S-Drug"], "IOB2")


def test_bio_tag_inventory_sorted():
    assert tag_inventory(["Drug", "Anat", "Drug"]) == ["O", "B-Anat", "I-Anat", "B-Drug", "I-Drug"]


def test_bio_matches_seqeval_strict_iob2_on_random_sequences():
    from seqeval.metrics.sequence_labeling import get_entities  # noqa: F401  (import check)
    from seqeval.scheme import IOB2, Entities

    rng = random.Random(7)
    pool = ["O", "O", "B-A", "I-A", "B-B", "I-B"]
    for _ in range(300):
        n = rng.randint(1, 15)
        tags = [rng.choice(pool) for _ in range(n)]
        # seqeval strict mode only accepts well-formed entities; compare on sequences with no stray I-
        if any(t.startswith("I-") and (i == 0 or tags[i - 1][2:] != t[2:] or tags[i - 1] == "O")
               for i, t in enumerate(tags)):
            continue
        ours = {(s.label, s.start // 2, (s.end - 1) // 2) for s in tags_to_spans(_words(n), tags, doc_id="d")}
        theirs = {(e.tag, e.start, e.end - 1) for e in Entities([tags], IOB2).entities[0]}
        assert ours == theirs, tags
