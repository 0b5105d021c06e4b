"""spanqa.model.adapt: task-adaptive pretraining of the encoder on the corpus's own text (tiny random BERT)."""

from __future__ import annotations

import json

import numpy as np

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.model.adapt import MASK_RATE, adapt_key, adapted, mask_batch, windows
from spanqa.model.kfold import fingerprint, run_kfold
from spanqa.model.tagger import load_tokenizer

TEXTS = ["Angelman syndrome (AS) is a neurogenetic disorder.", "AS patients were seen; aspirin 81 mg daily."]
CFG = load_config(overrides=["model.init=random_tiny", "train.mode=fast", "train.folds=2", "train.max_length=32",
                             "train.stride=8", "fast.max_epochs=1", "fast.memory=false", "fast.abbreviations=false"])


def _corpus() -> Corpus:
    docs = []
    for i in range(6):
        text = TEXTS[i % 2] + f" Note {i}."
        a = text.index("aspirin") if "aspirin" in text else text.index("Angelman")
        docs.append(Document(f"d{i}", text, (Span(f"d{i}", a, a + 7, "X"),)))
    return Corpus.from_docs(docs)


def test_windows_cut_every_text_with_special_tokens():
    tok = load_tokenizer(CFG.model)
    wins = windows([" ".join(TEXTS * 20)], tok, 16)
    assert len(wins) > 1 and all(len(w) <= 16 for w in wins)
    assert all(w[0] == tok.cls_token_id and w[-1] == tok.sep_token_id for w in wins)
    body = np.concatenate([w[1:-1] for w in wins])
    assert body.tolist() == tok(" ".join(TEXTS * 20), add_special_tokens=False)["input_ids"]


def test_masking_follows_bert_and_never_chooses_special_tokens():
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 2000, size=(64, 128))
    special = np.zeros_like(ids, dtype=bool)
    special[:, 0] = special[:, -1] = True
    special[:, 100:] = True  # padding
    inputs, labels = mask_batch(ids, special, rng, mask_id=103, vocab=30522)
    chosen = labels != -100
    assert not chosen[special].any()
    share = chosen.sum() / (~special).sum()
    assert abs(share - MASK_RATE) < 0.02
    assert (labels[chosen] == ids[chosen]).all()
    masked = (inputs == 103) & chosen
    assert 0.75 < masked.sum() / chosen.sum() < 0.85
    assert (inputs[~chosen] == ids[~chosen]).all()


def test_adapted_encoder_is_cached_keyed_by_text_and_changes_the_features(tmp_path):
    corpus = _corpus()
    cfg = CFG.replace(**{"model.adapt_epochs": 2})
    out = adapted(cfg, corpus, tmp_path)
    assert out.model.adapt_epochs == 0 and out.model.init == "pretrained"
    path = tmp_path / "adapted" / out.model.path.rsplit("/", 1)[-1]
    stats = json.loads((path / "spanqa_adapt.json").read_text())
    assert stats["epochs"] == 2 and len(stats["epoch_loss"]) == 2 and stats["windows"] >= 6
    assert (path / "config.json").is_file() and (path / "tokenizer.json").is_file()
    mtime = (path / "spanqa_adapt.json").stat().st_mtime_ns
    again = adapted(cfg, corpus, tmp_path)  # cached: not trained again
    assert again.model.path == out.model.path and (path / "spanqa_adapt.json").stat().st_mtime_ns == mtime
    assert adapted(CFG, corpus, tmp_path) is CFG  # off by default
    # another text, another key; labels never enter it
    other = Corpus.from_docs([d.evolve(text=d.text.replace("Note", "Nota")) for d in corpus])
    assert adapt_key([d.text for d in other], "b", epochs=2, seed=13, max_length=32) != \
        adapt_key([d.text for d in corpus], "b", epochs=2, seed=13, max_length=32)
    relabelled = Corpus.from_docs([d.evolve(spans=()) for d in corpus])
    assert adapted(cfg, relabelled, tmp_path).model.path == out.model.path

    oof = run_kfold(corpus, cfg, run_dir=tmp_path / "run", progress=False)
    plain = run_kfold(corpus, CFG, run_dir=tmp_path / "plain", progress=False)
    assert oof.meta["adapted"]["epochs"] == 2 and plain.meta["adapted"] is None
    assert not np.allclose(oof.docs["d0"].probs, plain.docs["d0"].probs)
    # the adapted checkpoint identifies the run; adapt_epochs = 0 leaves older fingerprints as they were
    assert fingerprint(corpus, ["O"], out) != fingerprint(corpus, ["O"], CFG)


def test_nested_labels_adapt_the_encoder_too(tmp_path):
    """The layered head (nested labels, fast mode) reads the adapted encoder as a flat run does (it used to skip
    model.adapt_epochs)."""
    from spanqa.model.layered import run_kfold_layers

    docs = []
    for d in _corpus().documents:
        s = d.spans[0]
        docs.append(d.evolve(spans=(s, Span(d.id, s.start, s.end + 4, "Y"))))  # Y holds X: two layers
    corpus = Corpus.from_docs(docs)
    layers = [["X"], ["Y"]]
    cfg = CFG.replace(**{"model.adapt_epochs": 1})
    oofs = run_kfold_layers(corpus, cfg, layers, run_dir=tmp_path / "run", progress=False)
    plain = run_kfold_layers(corpus, CFG, layers, run_dir=tmp_path / "plain", progress=False)
    assert list((tmp_path / "run" / "adapted").iterdir()) and not (tmp_path / "plain" / "adapted").exists()
    assert not np.allclose(oofs[0].docs["d0"].probs, plain[0].docs["d0"].probs)
