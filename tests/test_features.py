"""spanqa.model.features: one feature row per word from the owning window, pooling, cache keyed by content.

Uses the tiny random BERT (``model.init = "random_tiny"``) with MiniLM's tokenizer.
"""

from __future__ import annotations

import numpy as np
import pytest

from spanqa.core.config import load_config
from spanqa.corpus.tokenize import tokenize
from spanqa.model.align import encode_words
from spanqa.model.features import (
    _segment_means,
    build_encoder,
    cache_path,
    encode_features,
    features_key,
    load_features,
    word_features,
)
from spanqa.model.tagger import load_tokenizer, torch_threads

TEXTS = ["Pt started aspirin 81mg PO daily; BP 180/110, HbA1c 8.9%. Stop warfarin if bleeding.",
         "Hx of CHF, on metoprolol 25 mg. " * 6,
         "",
         "Antidisestablishmentarianism supercalifragilistic."]
CFG = load_config(overrides=["model.init=random_tiny", "train.max_length=16", "train.stride=4"])


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(CFG.model)


@pytest.fixture(scope="module")
def encs(tok):
    return [encode_words(tok, t, tokenize(t), doc_id=f"d{i}", max_length=16, stride=4) for i, t in enumerate(TEXTS)]


@pytest.fixture(scope="module")
def net(tok):
    return build_encoder(CFG.model, tokenizer=tok, seed=13, max_length=16)


def _window_hidden(net, ids, layers):
    import torch

    with torch.inference_mode():
        hs = net(input_ids=torch.from_numpy(ids[None]), output_hidden_states=True).hidden_states
    return torch.cat([hs[-1 - i] for i in range(layers)], dim=-1)[0].numpy()


def test_features_every_word_once_from_its_owning_window(encs, net):
    assert sum(len(e.windows) > 1 for e in encs) >= 2                    # long documents need several windows
    with torch_threads(1):
        feats = encode_features(encs, net, layers=2, pooling="first", dtype="float32", batch_size=3)
        for enc, f in zip(encs, feats):
            assert f.shape == (enc.n_words, 2 * net.config.hidden_size) and f.dtype == np.float32
            assert np.isfinite(f).all()
            for i in range(enc.n_words):                                  # the row is the owner's first subtoken
                w = enc.owner[i]
                win = enc.windows[w]
                hidden = _window_hidden(net, win.input_ids, 2)
                assert np.allclose(f[i], hidden[win.heads[i - win.first_word]], atol=1e-4)
    assert feats[2].shape == (0, 2 * net.config.hidden_size)              # an empty note


def test_features_mean_pooling_and_batching_do_not_change_rows(encs, net):
    with torch_threads(1):
        one = encode_features(encs, net, layers=1, pooling="mean", dtype="float32", batch_size=1)
        many = encode_features(encs, net, layers=1, pooling="mean", dtype="float32", batch_size=64)
        for a, b in zip(one, many):                                       # padding never leaks into a row
            assert np.allclose(a, b, atol=1e-4)
        enc = encs[3]                                                     # long words: several subtokens each
        i = int(np.argmax([len(s) for s in enc.word_subtokens]))
        assert len(enc.word_subtokens[i]) > 1
        win = enc.windows[enc.owner[i]]
        h = win.heads[i - win.first_word]
        hidden = _window_hidden(net, win.input_ids, 1)
        assert np.allclose(one[3][i], hidden[h:h + len(enc.word_subtokens[i])].mean(axis=0), atol=1e-4)


def test_features_segment_means():
    h = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert _segment_means(h, np.array([0, 1, 4]), np.array([1, 4, 6])).tolist() == [[0, 1], [4, 5], [9, 10]]


def test_features_cache_is_reused_and_keyed_by_content(encs, tok, tmp_path):
    kw = dict(tokenizer=tok, layers=4, pooling="first", dtype="float16", seed=13, max_length=16)
    with torch_threads(1):
        first = word_features(encs, CFG.model, run_dir=tmp_path, **kw)
        assert first.stats["cached"] is False and first.stats["layers_used"] == 2   # the tiny model has 2 layers
        assert cache_path(tmp_path, first.key).is_file()
        again = word_features(encs, CFG.model, run_dir=tmp_path, **kw)
        assert again.stats["cached"] is True and again.key == first.key
        assert all(np.array_equal(a, b) and a.dtype == np.float16 for a, b in zip(first.features, again.features))
        assert list(again.by_id()) == ["d0", "d1", "d2", "d3"]
        other = word_features(encs, CFG.model, run_dir=tmp_path, **dict(kw, pooling="mean"))
        assert other.key != first.key and other.stats["cached"] is False
    assert len(list((tmp_path / "features").glob("words_*.npy"))) == 2
    # another text, another seed of the random model, or another window plan -> another key
    digest = "m"
    base = features_key(encs, model=digest, layers=4, pooling="first", dtype="float16")
    assert features_key(encs[:3], model=digest, layers=4, pooling="first", dtype="float16") != base
    assert features_key(encs, model="n", layers=4, pooling="first", dtype="float16") != base
    wide = [encode_words(tok, t, tokenize(t), doc_id=f"d{i}", max_length=32, stride=4) for i, t in enumerate(TEXTS)]
    assert features_key(wide, model=digest, layers=4, pooling="first", dtype="float16") != base


def test_features_damaged_or_foreign_cache_is_recomputed(encs, tok, tmp_path):
    kw = dict(tokenizer=tok, layers=1, seed=13, max_length=16)
    with torch_threads(1):
        first = word_features(encs, CFG.model, run_dir=tmp_path, **kw)
        path = cache_path(tmp_path, first.key)
        assert load_features(path, "not-the-key") is None
        path.write_bytes(b"truncated")
        assert load_features(path, first.key) is None
        again = word_features(encs, CFG.model, run_dir=tmp_path, **kw)
    assert again.stats["cached"] is False
    assert all(np.array_equal(a, b) for a, b in zip(first.features, again.features))  # seeded: identical
