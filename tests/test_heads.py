"""spanqa.model.heads and the fast mode of spanqa.model.kfold: segments, held-back groups, learning, determinism, OOF, resume.

The k-fold runs use the tiny random BERT (``model.init = "random_tiny"``) as the frozen encoder.
"""

from __future__ import annotations

import numpy as np
import pytest

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.corpus.bio import tag_inventory
from spanqa.corpus.tokenize import doc_words
from spanqa.model.heads import HEAD_KINDS, predict_head, segments, split_dev, train_head
from spanqa.model.kfold import ENSEMBLE_FOLD, fingerprint, run_kfold
from spanqa.model.tagger import seeded, torch_threads


# --------------------------------------------------------------------------- heads alone
def test_heads_segments_cover_each_word_once():
    for n, m, starts in [(0, 4, ()), (1, 4, ()), (10, 4, ()), (10, 6, (3, 7)), (300, 256, (100, 250)), (7, 8, (2,))]:
        segs = segments(n, max_len=m, sentence_starts=starts)
        covered = [i for a, b in segs for i in range(a, b)]
        assert covered == list(range(n))
        assert all(0 < b - a <= m for a, b in segs)
    assert segments(300, max_len=256, sentence_starts=(100, 250)) == [(0, 250), (250, 300)]


def test_heads_dev_split_takes_whole_groups():
    groups = [f"g{i // 3}" for i in range(30)]
    dev = split_dev(groups, fraction=0.2, seed=1)
    assert dev.sum() == 6 and all(len(set(dev[i:i + 3])) == 1 for i in range(0, 30, 3))
    assert (split_dev(groups, fraction=0.2, seed=1) == dev).all()
    assert not split_dev(["a", "a"], fraction=0.5, seed=1).any()          # one group: nothing held back
    assert split_dev(["a", "b"], fraction=0.5, seed=1).sum() == 1          # never all groups


def _toy(n_docs=24, n_words=30, dim=12, n_tags=3, seed=0):
    """Separable toy data: the tag is written (with noise) into the first n_tags feature columns."""
    rng = np.random.default_rng(seed)
    feats, labels = [], []
    for _ in range(n_docs):
        y = rng.integers(0, n_tags, n_words)
        x = rng.normal(0, 0.3, (n_words, dim)).astype(np.float16)
        x[np.arange(n_words), y] += 2.0
        feats.append(x)
        labels.append(y.astype(np.int64))
    return feats, labels, [f"g{i // 2}" for i in range(n_docs)]


@pytest.mark.parametrize("kind", HEAD_KINDS)
def test_heads_learn_separable_tags_and_give_distributions(kind):
    feats, labels, groups = _toy()
    with torch_threads(1), seeded(3):
        head = train_head(feats[:20], labels[:20], groups[:20], n_tags=3, kind=kind, hidden=16, lr=1e-2,
                          max_epochs=15, patience=3, seq_len=8, seed=3)
    probs = predict_head(head, feats[20:], seq_len=8)
    for p, y, x in zip(probs, labels[20:], feats[20:]):
        assert p.shape == (len(x), 3) and p.dtype == np.float32
        assert np.allclose(p.sum(axis=1), 1.0, atol=1e-6)
        assert (p.argmax(axis=1) == y).mean() > 0.9
    s = head.stats
    assert s["kind"] == kind and s["dev_docs"] == 2 and 1 <= s["best_epoch"] <= s["epochs_run"] <= 15
    assert len(s["train_loss"]) == s["epochs_run"] and len(s["dev_loss"]) == s["epochs_run"]


def test_heads_seeded_training_is_deterministic():
    feats, labels, groups = _toy(seed=5)
    runs = []
    for _ in range(2):
        with torch_threads(1), seeded(7):
            head = train_head(feats[:20], labels[:20], groups[:20], n_tags=3, hidden=16, max_epochs=3, seed=7)
        runs.append(predict_head(head, feats[20:]))
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


def test_heads_unknown_kind_and_empty_input():
    feats, labels, groups = _toy(n_docs=4)
    with pytest.raises(ValueError):
        train_head(feats, labels, groups, n_tags=3, kind="transformer")
    with torch_threads(1), seeded(1):
        head = train_head(feats, labels, groups, n_tags=3, hidden=8, max_epochs=1)
    out = predict_head(head, [np.zeros((0, 12), np.float16)])
    assert out[0].shape == (0, 3)


# --------------------------------------------------------------------------- fast mode of run_kfold
from test_kfold import _doc  # noqa: E402  (the same small notes as the k-fold tests)


@pytest.fixture(scope="module")
def corpus():
    docs = [_doc(f"n{i}", 2 + i % 4, group=f"p{i // 2}") for i in range(12)]
    docs.append(_doc("long", 16, group="p9"))                      # several windows
    docs.append(_doc("unannotated", 3, annotated=False))
    docs.append(Document("empty", "", (), group="p10"))           # annotated, no words
    return Corpus.from_docs(docs)


FAST = load_config(overrides=["model.init=random_tiny", "train.mode=fast", "train.folds=3", "train.max_length=32",
                              "train.stride=8", "fast.hidden=16", "fast.max_epochs=4", "fast.seq_len=16"])


@pytest.fixture(scope="module")
def fast_run(corpus, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("fast")
    return run_kfold(corpus, FAST, run_dir=run_dir, progress=False), run_dir


def test_heads_fast_kfold_gives_oof_for_every_doc_with_fold_and_seed(corpus, fast_run):
    oof, run_dir = fast_run
    assert FAST.train.mode == "fast" and oof.meta["mode"] == "fast"
    assert oof.tags == tag_inventory(corpus.labels) and list(oof.docs) == [d.id for d in corpus]
    for d in corpus:
        m = oof.docs[d.id]
        assert m.words == doc_words(d).ranges and m.seed == 13
        assert m.probs.dtype == np.float32 and m.probs.shape == (len(m.words), len(oof.tags))
        assert np.allclose(m.probs.sum(axis=1), 1.0, atol=1e-5)
        if d.spans is None:
            assert m.fold == ENSEMBLE_FOLD
        else:
            assert m.fold == oof.meta["folds"]["by_doc"][d.id] and 0 <= m.fold < 3
    assert oof.meta["windows"]["multi_window_docs"] >= 1
    feats = oof.meta["features"]
    assert feats["cached"] is False and feats["layers_used"] == 2 and feats["words"] == sum(
        len(m.words) for m in oof.docs.values())
    assert len(list((run_dir / "features").glob("words_*.npy"))) == 1 and len(list((run_dir / "features").glob("words_*.json"))) == 1
    for s in oof.meta["fold_stats"]:
        assert s["head"] == "cnn" and 1 <= s["epochs_run"] <= 4 and s["train_docs"] > 0
        assert len(s["epoch_loss"]) == s["epochs_run"]


def test_heads_fast_kfold_deterministic_and_resumes(corpus, fast_run, tmp_path):
    oof, run_dir = fast_run
    assert run_kfold(corpus, FAST, progress=True).docs == oof.docs       # no run dir, progress bars on

    class Stop(Exception):
        pass

    def stop(k):
        if k == 1:
            raise Stop

    part = tmp_path / "run"
    with pytest.raises(Stop):
        run_kfold(corpus, FAST, run_dir=part, progress=False, on_fold_done=stop)
    assert (part / "folds" / "fold_1.done").is_file() and not (part / "folds" / "fold_2.npz").exists()
    resumed = run_kfold(corpus, FAST, run_dir=part, progress=False)
    assert resumed.meta["resumed_folds"] == [0, 1] and resumed.docs == oof.docs
    assert resumed.meta["features"]["cached"] is True                     # encoded once, read back
    done = run_kfold(corpus, FAST, run_dir=run_dir, progress=False)        # all folds finished: no encoding
    assert done.meta["resumed_folds"] == [0, 1, 2] and done.docs == oof.docs
    assert "note" in done.meta["features"]


def test_heads_mode_and_fast_settings_are_in_the_fingerprint(corpus, fast_run):
    _, run_dir = fast_run
    tags = tag_inventory(corpus.labels)
    fp = fingerprint(corpus, tags, FAST)
    assert fingerprint(corpus, tags, FAST.replace(**{"fast.hidden": 32})) != fp
    assert fingerprint(corpus, tags, FAST.replace(**{"train.mode": "finetune"})) != fp
    assert fingerprint(corpus, tags, FAST.replace(**{"findings.min_quality": 0.1})) == fp
    with pytest.raises(SpanqaError) as exc:
        run_kfold(corpus, FAST.replace(**{"train.mode": "finetune"}), run_dir=run_dir, progress=False)
    assert exc.value.code == "E406"


def test_heads_finetune_mode_still_runs(corpus):
    cfg = FAST.replace(**{"train.mode": "finetune", "train.epochs": 1, "train.batch_size": 8})
    oof = run_kfold(corpus, cfg, progress=False)
    assert oof.meta["mode"] == "finetune" and "features" not in oof.meta
    assert all("train_windows" in s for s in oof.meta["fold_stats"])
    assert {m.fold for m in oof.docs.values()} == {0, 1, 2, ENSEMBLE_FOLD}
