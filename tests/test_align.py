"""spanqa.model.align: subword maps from the fast tokenizer, first-subtoken labels, strided windows."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanqa.core.config import ModelConfig
from spanqa.core.errors import SpanqaError
from spanqa.model.align import (
    IGNORE,
    AlignmentError,
    assign_words,
    check_fast,
    encode_words,
    plan_windows,
    sentence_word_starts,
)


@pytest.fixture(scope="module")
def tok():
    from spanqa.model.tagger import load_tokenizer

    return load_tokenizer(ModelConfig())


def _words(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]


TEXT = "Pt started aspirin 81mg PO daily; BP 180/110, HbA1c 8.9%. Hx of CHF and warfarin-induced bleeding."


def test_align_first_subtoken_labelled_others_ignored(tok):
    words = _words(TEXT)
    enc = encode_words(tok, TEXT, words, doc_id="d", max_length=128, stride=32)
    assert len(enc.windows) == 1 and enc.owner.tolist() == [0] * len(words)
    win = enc.windows[0]
    assert win.input_ids[0] == tok.cls_token_id and win.input_ids[-1] == tok.sep_token_id
    labels = win.labels(np.arange(len(words), dtype=np.int64) + 1)
    assert labels[0] == IGNORE and labels[-1] == IGNORE
    assert sorted(labels[labels != IGNORE].tolist()) == list(range(1, len(words) + 1))
    # "aspirin" -> as ##pi ##rin: only the first piece is labelled
    i = next(k for k, (a, b) in enumerate(words) if TEXT[a:b] == "aspirin")
    assert len(enc.word_subtokens[i]) == 3
    h = int(win.heads[i])
    assert labels[h] == i + 1 and (labels[h + 1:h + 3] == IGNORE).all()
    assert tok.convert_ids_to_tokens(win.input_ids[h:h + 3].tolist()) == ["as", "##pi", "##rin"]


def test_align_offsets_consistent_with_words(tok):
    words = _words(TEXT)
    enc = encode_words(tok, TEXT, words, doc_id="d", max_length=128, stride=32)
    chars = enc.subword_chars
    assert chars.shape == (sum(len(s) for s in enc.word_subtokens), 2)
    k = 0
    for (a, b), sub in zip(words, enc.word_subtokens):
        piece = chars[k:k + len(sub)]
        assert piece[0, 0] == a and piece[-1, 1] == b          # subtokens tile the word exactly
        assert (piece[1:, 0] == piece[:-1, 1]).all()
        k += len(sub)
    # the window ids are the concatenation of the word subtokens
    assert enc.windows[0].input_ids[1:-1].tolist() == [t for s in enc.word_subtokens for t in s]


def test_align_long_doc_windows_cover_every_word_once(tok):
    text = " ".join(f"{w} {i}" for i, w in enumerate(["aspirin", "HbA1c", "BP", "warfarin"] * 40))
    words = _words(text)
    enc = encode_words(tok, text, words, doc_id="long", max_length=16, stride=4)
    assert len(enc.windows) > 10
    covered = np.zeros(len(words), dtype=int)
    for win in enc.windows:
        assert len(win) <= 16
        assert win.input_ids[0] == tok.cls_token_id and win.input_ids[-1] == tok.sep_token_id
        # a window holds whole words: its content is exactly those words' subtokens
        content = [t for s in enc.word_subtokens[win.first_word:win.end_word] for t in s]
        assert win.input_ids[1:-1].tolist() == content
        covered[win.first_word:win.end_word] += 1
    assert (covered >= 1).all() and covered.max() <= 2
    assert enc.owner.shape == (len(words),)
    for i, w in enumerate(enc.owner):                       # exactly one predicting window, which holds the word
        assert enc.windows[w].first_word <= i < enc.windows[w].end_word
    # gather: each word reads its own head row
    fake = [np.eye(len(win), dtype=np.float32)[:, :1].repeat(3, 1) * 0 + np.arange(len(win))[:, None]
            for win in enc.windows]
    rows = enc.gather(fake)[:, 0].astype(int)
    assert rows.tolist() == [int(enc.windows[w].heads[i - enc.windows[w].first_word]) for i, w in enumerate(enc.owner)]


def test_align_shared_words_taken_from_the_more_central_window():
    plan = plan_windows([1] * 12, budget=6, stride=2)
    assert plan == [(0, 6), (4, 10), (8, 12)]
    assert assign_words(plan, [1] * 12).tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]


@settings(max_examples=150, deadline=None)
@given(counts=st.lists(st.integers(1, 6), min_size=1, max_size=80), budget=st.integers(6, 30),
       stride_frac=st.floats(0, 0.49), sents=st.lists(st.integers(1, 79), max_size=10))
def test_align_plan_windows_property(counts, budget, stride_frac, sents):
    stride = int(budget * stride_frac)
    for starts in ((), sents):
        plan = plan_windows(counts, budget=budget, stride=stride, sentence_starts=starts)
        owner = assign_words(plan, counts)  # raises AlignmentError if a word is lost
        assert plan[0][0] == 0 and plan[-1][1] == len(counts)
        for (s, e), (s2, _) in zip(plan, plan[1:]):
            assert s < s2 <= e                               # advances, no gap
            if not starts:
                assert sum(counts[s2:e]) <= stride          # shared part within stride
        assert all(sum(counts[s:e]) <= budget for s, e in plan)
        assert np.bincount(owner, minlength=len(plan)).sum() == len(counts)


def test_align_sentence_starts_move_cuts_to_sentence_edges():
    counts = [1] * 20
    plain = plan_windows(counts, budget=8, stride=2)
    sent = plan_windows(counts, budget=8, stride=2, sentence_starts=[6, 7, 12, 18])
    assert plain[:2] == [(0, 8), (6, 14)]
    assert sent[0] == (0, 7) and sent[1][0] == 6            # ends before, next starts at, a sentence
    assert sentence_word_starts([(0, 2), (3, 5), (6, 8), (9, 11)], [(0, 5), (6, 11)]) == [2]


def test_align_word_without_subtokens_becomes_unk(tok):
    text = "took \u200b aspirin"
    words = [(0, 4), (5, 6), (7, 14)]
    enc = encode_words(tok, text, words, doc_id="z", max_length=32, stride=4)
    assert enc.word_subtokens[1] == (tok.unk_token_id,)
    assert enc.owner.tolist() == [0, 0, 0]


def test_align_word_longer_than_window_is_cut_with_W401(tok):
    blob = "/".join(str(i) for i in range(20))              # one word, 39 subtokens
    text = f"see {blob} now"
    words = [(0, 3), (4, 4 + len(blob)), (5 + len(blob), 8 + len(blob))]
    enc = encode_words(tok, text, words, doc_id="b", max_length=16, stride=4)
    assert [p.code for p in enc.problems] == ["W401"]
    assert enc.problems[0].where.doc_id == "b" and enc.problems[0].where.start == 4
    assert len(enc.word_subtokens[1]) == 14 and all(len(w) <= 16 for w in enc.windows)
    assert sorted(set(enc.owner.tolist())) == list(range(len(enc.windows)))


def test_align_rejects_slow_tokenizer_with_E404():
    class Slow:
        is_fast = False

    with pytest.raises(SpanqaError) as exc:
        check_fast(Slow())
    assert exc.value.code == "E404"


def test_align_empty_document(tok):
    enc = encode_words(tok, "", [], doc_id="e", max_length=16, stride=4)
    assert enc.windows == () and enc.owner.shape == (0,)
    assert enc.gather([]).shape == (0, 0)


def test_align_verify_catches_lost_words():
    from spanqa.model.align import _verify

    with pytest.raises(AlignmentError, match="internal error"):
        _verify([(0, 3), (4, 6)], np.array([0, 0, 0, 1, 1, 1]), 6)
