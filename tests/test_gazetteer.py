"""The phrase memory (spanqa.model.gazetteer) and abbreviation links (spanqa.model.abbreviations)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from spanqa.model import abbreviations, gazetteer
from spanqa.model.abbreviations import abbreviation_links, find_definitions
from spanqa.model.gazetteer import FormTable, word_spans


def test_gazetteer_and_abbreviation_doctests():
    for module in (gazetteer, abbreviations):
        assert doctest.testmod(module).failed == 0, module.__name__


def _random_corpus(rng: np.random.Generator, n_docs: int = 12):
    vocab = ["aspirin", "Aspirin", "pain", "of", "the", "MTX", "nausea", "severe", "and", "dose"]
    tokens, spans = [], []
    for _ in range(n_docs):
        toks = [vocab[i] for i in rng.integers(0, len(vocab), size=int(rng.integers(3, 12)))]
        sp, i = [], 0
        while i < len(toks):
            if rng.random() < 0.3:
                n = int(rng.integers(1, 3))
                sp.append((i, min(len(toks), i + n), ["Drug", "Problem"][int(rng.integers(0, 2))]))
                i += n + 1
            else:
                i += 1
        tokens.append(toks)
        spans.append(sp)
    return tokens, spans


@pytest.mark.parametrize("seed", range(5))
def test_gazetteer_no_held_out_label_reaches_any_feature(seed):
    rng = np.random.default_rng(seed)
    tokens, spans = _random_corpus(rng)
    train, held = list(range(8)), list(range(8, 12))
    base = FormTable.build(tokens, spans, labels=["Drug", "Problem"]).memory(train)
    other = list(spans)
    for d in held:                                    # relabel the held-out documents at random
        _, new = _random_corpus(np.random.default_rng(seed + 100 + d), 1)
        other[d] = [(a, min(b, len(tokens[d])), lab) for a, b, lab in new[0] if a < len(tokens[d])]
    changed = FormTable.build(tokens, other, labels=["Drug", "Problem"]).memory(train)
    for d in range(12):
        n = len(tokens[d])
        assert np.array_equal(base.features(d, n), changed.features(d, n)), d


def test_gazetteer_leave_one_document_out_for_training_documents():
    tokens = [["MTX", "helps"], ["give", "MTX"], ["no", "MTX", "here"]]
    spans = [[(0, 1, "Drug")], [(1, 2, "Drug")], []]
    mem = FormTable.build(tokens, spans, labels=["Drug"]).memory([0, 1, 2])
    # doc 0 sees doc 1 (Drug) and doc 2 (unlabelled): 1 of 2
    assert mem.features(0, 2)[0].tolist() == [0.5, 0.0]
    # doc 2 sees docs 0 and 1: 2 of 2, its own unlabelled occurrence left out
    assert mem.features(2, 3)[1].tolist() == [1.0, 0.0]
    # a form only doc 0 labels is invisible to doc 0 once its own occurrence is left out
    solo = FormTable.build([["Zed", "x"], ["y"]], [[(0, 1, "Drug")], []], labels=["Drug"]).memory([0, 1])
    assert solo.features(0, 2).sum() == 0


def test_gazetteer_multi_word_forms_mark_start_and_inside():
    tokens = [["severe", "pain", "now"], ["the", "severe", "pain"]]
    spans = [[(0, 2, "Problem")], None]
    mem = FormTable.build(tokens, spans, labels=["Drug", "Problem"]).memory([0])
    f = mem.features(1, 3)
    assert f.tolist() == [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]
    assert word_spans(np.array([0, 1, 2, 2, 0]), ["O", "B-P", "I-P"]) == [(1, 4, "P")]


def test_abbreviations_definitions_stay_in_their_sentence_and_link_later_uses():
    text = "Patients had Duchenne muscular dystrophy (DMD). In DMD, as in BMD, the gene is large."
    defs = find_definitions(text)
    assert [(text[a:b], text[c:d]) for a, b, c, d in defs] == [("DMD", "Duchenne muscular dystrophy")]
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+|[^\w\s]", text)]
    links = abbreviation_links(text, words)
    linked = sorted(text[words[a][0]:words[b - 1][1]] for a, b in links)
    assert linked == ["DMD", "DMD"]                                    # in the parenthesis and after
    a, b = next(iter(links.values()))
    text2 = "ataxia-telangiectasia (A-T) patients; A-T cells, not A-Tx"
    words2 = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+|[^\w\s]", text2)]
    assert [text2[words2[x][0]:words2[y - 1][1]] for x, y in abbreviation_links(text2, words2)] == ["A-T", "A-T"]
    assert text[words[a][0]:words[b - 1][1]] == "Duchenne muscular dystrophy"
    assert find_definitions("He was seen (twice) at noon.") == []      # no long form matches
    assert find_definitions("end of one. Second (SE) here")[0][2:] != (0, 10)


def test_heads_read_extra_features():
    torch = pytest.importorskip("torch")
    from spanqa.model.heads import predict_head, train_head
    from spanqa.model.tagger import seeded

    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(30, 8)).astype(np.float32) for _ in range(20)]
    extra = [rng.integers(0, 2, size=(30, 1)).astype(np.float32) for _ in range(20)]
    labels = [e[:, 0].astype(np.int64) for e in extra]          # the tag is the extra feature: noise features alone
    with seeded(0):
        head = train_head(feats, labels, [str(i) for i in range(20)], n_tags=2, kind="mlp", hidden=16,
                          max_epochs=40, patience=40, extra=extra, lr=1e-2)
    probs = predict_head(head, feats[:3], extra=extra[:3])
    acc = np.mean([(p.argmax(1) == y).mean() for p, y in zip(probs, labels[:3])])
    assert acc > 0.95 and head.stats["extra_features"] == 1
    del torch
