"""The feature cache on disk (spanqa.model.featurefile): rows written in any order, read a range at a time."""

import pickle

import numpy as np
import pytest

from spanqa.core.errors import Problem
from spanqa.model.abbreviations import share_long_form_features
from spanqa.model.featurefile import (
    FeatureFile,
    FeatureWriter,
    Rows,
    WordFeatures,
    cache_files,
    load_features,
    save_features,
)
from spanqa.model.heads import make_sequences, predict_head, train_head
from spanqa.model.tagger import seeded, torch_threads


def _docs(seed=0, sizes=(5, 0, 7, 3), dim=6):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, dim)).astype(np.float16) for n in sizes]


def _stored(tmp_path, docs, key="k"):
    path = tmp_path / "features" / "words_k.npy"
    save_features(path, WordFeatures([f"d{i}" for i in range(len(docs))], docs, docs[0].shape[1], key, {"x": 1}))
    return path, load_features(path, key)


def test_saved_features_read_back_exactly_as_rows(tmp_path):
    docs = _docs()
    path, back = _stored(tmp_path, docs)
    assert [p.name for p in cache_files(path)] == ["words_k.npy", "words_k.json"]
    assert back.doc_ids == ["d0", "d1", "d2", "d3"] and back.dim == 6 and back.stats == {"x": 1, "cached": True}
    assert all(isinstance(r, Rows) for r in back.features)
    for a, r in zip(docs, back.features):
        assert len(r) == len(a) and r.shape == a.shape and r.dtype == np.float16
        assert np.array_equal(np.asarray(r), a)
        assert np.array_equal(np.asarray(r[1:3]), a[1:3]) and np.array_equal(np.asarray(r[2:]), a[2:])
        assert np.array_equal(r[::2], a[::2])                # anything but a plain row slice reads the rows
    # the file is a plain .npy: numpy reads it whole
    assert np.array_equal(np.load(path), np.concatenate(docs))
    # picklable (Ray ships the rows' reader, not an open file)
    again = pickle.loads(pickle.dumps(back.features[2]))
    assert np.array_equal(np.asarray(again), docs[2])
    assert load_features(path, "another key") is None


def test_writer_puts_rows_in_any_order_and_removes_its_file_on_error(tmp_path):
    docs = _docs(sizes=(4, 6))
    path = tmp_path / "w.npy"
    with FeatureWriter(path, [4, 6], np.float16) as w:
        w.put(1, np.array([3, 4, 5]), docs[1][3:])           # the second document's tail first
        w.put(0, np.array([0, 1, 2, 3]), docs[0])
        w.put(1, np.array([0, 2]), docs[1][[0, 2]])          # two runs, one row each
        w.put(1, np.array([1]), docs[1][[1]])
        w.finish(6)
    f = FeatureFile.open(path)
    assert f.shape == (10, 6) and np.array_equal(f.read(0, 10), np.concatenate(docs))
    with pytest.raises(RuntimeError):
        with FeatureWriter(tmp_path / "x.npy", [3], np.float16) as w:
            w.put(0, np.array([0]), docs[0][:1])
            raise RuntimeError("cut off")
    assert not list(tmp_path.glob("*x.npy*"))                # neither the file nor its temporary part


def test_a_cut_short_or_foreign_cache_is_set_aside(tmp_path):
    docs = _docs()
    path, _ = _stored(tmp_path, docs)
    path.write_bytes(path.read_bytes()[:-10])                # cut short
    problems: list[Problem] = []
    assert load_features(path, "k", problems) is None
    assert [p.code for p in problems] == ["W406", "W406"] and "cannot be read" in problems[0].detail
    assert sorted(p.name for p in path.parent.iterdir()) == ["words_k.json.damaged", "words_k.npy.damaged"]
    path, _ = _stored(tmp_path, docs)
    path.with_suffix(".json").write_text('{"format": "spanqa.tagging.features.v2", "key": "k", "doc_ids": ["a"], '
                                         '"offsets": [0, 3], "stats": {}}')   # an index of another corpus
    assert load_features(path, "k", []) is None and not path.with_suffix(".json").exists()
    path.write_bytes(b"")
    assert load_features(path, "k") is None                  # no index: not a cache (yet), nothing set aside
    assert path.exists()


def test_patched_rows_and_shared_abbreviation_features_equal_the_in_memory_ones(tmp_path):
    docs = _docs(sizes=(8,))
    _, back = _stored(tmp_path, docs)
    rows = back.features[0]
    links = {(5, 6): (0, 2), (6, 8): (2, 4)}
    mixed = share_long_form_features(rows, links)
    assert isinstance(mixed, Rows)
    assert np.array_equal(np.asarray(mixed), share_long_form_features(docs[0], links))
    assert np.array_equal(np.asarray(mixed[4:7]), share_long_form_features(docs[0], links)[4:7])
    twice = rows.replaced(np.array([1]), np.ones((1, 6))).replaced(np.array([1, 2]), np.zeros((2, 6)))
    want = docs[0].copy()
    want[1:3] = 0
    assert np.array_equal(np.asarray(twice), want)           # the later replacement wins
    assert share_long_form_features(rows, {}) is rows


def test_heads_train_and_predict_the_same_from_rows_as_from_arrays(tmp_path):
    rng = np.random.default_rng(3)
    docs = [rng.normal(size=(n, 8)).astype(np.float16) for n in (30, 25, 40, 12, 33, 21)]
    labels = [(np.asarray(d[:, 0]) > 0).astype(np.int64) for d in docs]
    _, back = _stored(tmp_path, docs)
    seqs = make_sequences(back.features, labels, seq_len=16)
    assert all(isinstance(x, Rows) for x in seqs.x)

    def run(features):
        with torch_threads(1), seeded(5):
            head = train_head(features, labels, ["a", "b", "c", "d", "e", "f"], n_tags=2, kind="cnn", hidden=8,
                              max_epochs=3, seq_len=16, seed=5)
        return head, predict_head(head, features, seq_len=16)

    (h1, p1), (h2, p2) = run(docs), run(back.features)
    assert h1.stats["train_loss"] == h2.stats["train_loss"]
    assert all(np.array_equal(a, b) for a, b in zip(p1, p2))  # bit-identical


def test_featurefile_doctests():
    import doctest

    import spanqa.model.featurefile as module

    assert doctest.testmod(module).failed == 0


def test_a_full_disk_is_E409_naming_the_bytes_and_leaves_no_partial_file(tmp_path, monkeypatch):
    import errno
    import os

    from spanqa.core.errors import SpanqaError

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(SpanqaError) as err:
        with FeatureWriter(tmp_path / "f" / "w.npy", [4, 6], np.float16) as w:
            w.put(0, np.arange(4), np.zeros((4, 3), np.float16))
    assert err.value.code == "E409" and "w.npy" in str(err.value) and "60 bytes" in str(err.value)
    assert not list((tmp_path / "f").iterdir())
