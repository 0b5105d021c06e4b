"""spanqa.model.kfold / spanqa.model.predictions: group folds, OOF marginals, determinism, resume, decoding.

All runs use the tiny random BERT (``model.init = "random_tiny"``) with MiniLM's tokenizer.
"""

from __future__ import annotations

import numpy as np
import pytest

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.tokenize import doc_words
from spanqa.model.kfold import ENSEMBLE_FOLD, assign_folds, doc_groups, run_kfold
from spanqa.model.predictions import DocMarginals, OOFPredictions, decode, viterbi

SENTS = ["Pt started {d} 81mg PO daily.", "BP 180/110, HbA1c 8.9%.", "Stop {d} if bleeding.",
         "Hx of CHF, on {d} 5 mg."]
DRUGS = ["aspirin", "warfarin", "metoprolol", "lisinopril"]


def _doc(doc_id: str, n: int, *, group: str | None = None, annotated: bool = True, extra=()) -> Document:
    parts, spans, pos = [], [], 0
    for i in range(n):
        drug = DRUGS[(i + len(doc_id)) % len(DRUGS)]
        s = SENTS[i % len(SENTS)].format(d=drug)
        if "{d}" in SENTS[i % len(SENTS)]:
            a = pos + s.index(drug)
            spans.append(Span(doc_id, a, a + len(drug), "Drug"))
        if "81mg" in s:
            a = pos + s.index("81mg")
            spans.append(Span(doc_id, a, a + 4, "Dose"))
        parts.append(s)
        pos += len(s) + 1
    text = " ".join(parts)
    return Document(doc_id, text, (tuple(spans) + tuple(extra)) if annotated else None, group=group)


def _corpus() -> Corpus:
    docs = [_doc(f"p{i // 2}_n{i}", 2 + i % 3) for i in range(8)]                  # groups p0..p3 via regex
    docs.append(_doc("x1", 3, group="p4"))
    docs.append(_doc("x2", 2, group="p4"))
    long = _doc("p5_long", 14)                                                     # needs several windows
    docs.append(long)
    ov = _doc("p6_overlap", 2)
    docs.append(ov.evolve(spans=ov.spans + (Span(ov.id, ov.spans[0].start, ov.spans[0].end + 5, "Drug"),
                                            Span(ov.id, ov.spans[0].start, ov.spans[0].end, "Dose"))))
    docs.append(_doc("q_unannotated", 3, annotated=False))
    docs.append(_doc("nomatch", 2))                                               # regex fails -> own group
    return Corpus.from_docs(docs)


CFG = load_config(overrides=["model.init=random_tiny", "train.folds=3", "train.epochs=1", "train.batch_size=8",
                             "train.max_length=32", "train.stride=8", "train.lr=1e-3", r"data.group_regex='^(p\d+)_'"])


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


@pytest.fixture(scope="module")
def full(corpus, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("full")
    return run_kfold(corpus, CFG, run_dir=run_dir, progress=False), run_dir


def test_kfold_groups_never_split(corpus, full):
    oof, _ = full
    groups = oof.meta["folds"]["groups"]
    assert groups["p0_n0"] == groups["p0_n1"] == "p0" and groups["x1"] == groups["x2"] == "p4"
    assert groups["nomatch"] == "nomatch"
    fold_of_group: dict[str, int] = {}
    for doc_id, g in groups.items():
        assert fold_of_group.setdefault(g, oof.docs[doc_id].fold) == oof.docs[doc_id].fold
    assert sorted(set(fold_of_group.values())) == [0, 1, 2]
    codes = [p["code"] for p in oof.meta["problems"]]
    assert codes.count("W402") == 1 and "nomatch" in str(oof.meta["problems"])


def test_kfold_every_doc_once_with_fold_and_normalised_marginals(corpus, full):
    oof, _ = full
    assert oof.tags == ["O", "B-Dose", "I-Dose", "B-Drug", "I-Drug"]
    assert list(oof.docs) == [d.id for d in corpus]
    for d in corpus:
        m = oof.docs[d.id]
        assert m.words == doc_words(d).ranges
        assert m.probs.dtype == np.float32 and m.probs.shape == (len(m.words), len(oof.tags))
        assert np.allclose(m.probs.sum(axis=1), 1.0, atol=1e-5) and (m.probs >= 0).all()
        assert m.seed == 13
        if d.spans is None:
            assert m.fold == ENSEMBLE_FOLD
        else:
            assert m.fold == oof.meta["folds"]["by_doc"][d.id] and 0 <= m.fold < 3
    assert oof.meta["unannotated"]["doc_ids"] == ["q_unannotated"]
    assert oof.meta["windows"]["multi_window_docs"] >= 1


def test_kfold_overlapping_gold_spans_counted(full):
    oof, _ = full
    assert oof.meta["gold"]["by_doc"] == {"p6_overlap": 3}  # the short Drug, the Dose on it, and 81mg
    assert [p["code"] for p in oof.meta["problems"]].count("W403") == 3


def test_kfold_deterministic_and_resume_after_interruption(corpus, full, tmp_path):
    oof, _ = full
    again = run_kfold(corpus, CFG, progress=True)              # no run dir, with progress bars
    assert again.docs == oof.docs and again.tags == oof.tags

    class Stop(Exception):
        pass

    def stop_after_first(k):
        if k == 0:
            raise Stop

    run_dir = tmp_path / "run"
    with pytest.raises(Stop):
        run_kfold(corpus, CFG, run_dir=run_dir, progress=False, on_fold_done=stop_after_first)
    assert (run_dir / "folds" / "fold_0.done").is_file() and not (run_dir / "folds" / "fold_1.npz").exists()
    resumed = run_kfold(corpus, CFG, run_dir=run_dir, progress=False)
    assert resumed.meta["resumed_folds"] == [0]
    assert resumed.docs == oof.docs
    assert resumed.meta["fold_stats"] == oof.meta["fold_stats"] or \
        [s["epoch_loss"] for s in resumed.meta["fold_stats"]] == [s["epoch_loss"] for s in oof.meta["fold_stats"]]


def test_kfold_finished_run_is_reloaded_without_training(corpus, full):
    oof, run_dir = full
    again = run_kfold(corpus, CFG, run_dir=run_dir, progress=False)
    assert again.meta["resumed_folds"] == [0, 1, 2] and again.docs == oof.docs


def test_kfold_fingerprint_mismatch_is_E406(corpus, full):
    _, run_dir = full
    with pytest.raises(SpanqaError) as exc:
        run_kfold(corpus, CFG.replace(**{"train.epochs": 2}), run_dir=run_dir, progress=False)
    assert exc.value.code == "E406"
    # findings thresholds do not change the models: no mismatch
    assert run_kfold(corpus, CFG.replace(**{"findings.min_quality": 0.1}), run_dir=run_dir,
                     progress=False).meta["resumed_folds"] == [0, 1, 2]


def test_kfold_too_few_groups_is_E405():
    with pytest.raises(SpanqaError) as exc:
        assign_folds(["a", "a", "b"], 3, seed=1)
    assert exc.value.code == "E405"
    docs = [Document("a", "x", (), group="g"), Document("b", "y", (), group="g"), Document("c", "z", None)]
    with pytest.raises(SpanqaError) as exc:
        run_kfold(Corpus.from_docs(docs), CFG.replace(**{"train.folds": 2}), progress=False)
    assert exc.value.code == "E405"


def test_kfold_group_sources_in_order():
    docs = [Document("p1_a", "", group="G"), Document("p1_b", ""), Document("zz", "")]
    groups, problems = doc_groups(docs, r"^(p\d+)_")
    assert groups == ["G", "p1", "zz"] and [p.code for p in problems] == ["W402"]
    assert doc_groups(docs)[0] == ["G", "p1_b", "zz"]
    folds = assign_folds([f"g{i // 3}" for i in range(30)], 5, seed=7)
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3, 4]
    assert all(len(set(folds[i:i + 3].tolist())) == 1 for i in range(0, 30, 3))
    assert (assign_folds([f"g{i // 3}" for i in range(30)], 5, seed=7) == folds).all()


def test_kfold_predictions_save_load_exact(full, tmp_path):
    oof, _ = full
    path = oof.save(tmp_path / "out" / "marginals.npz")
    back = OOFPredictions.load(path)
    assert back == oof
    assert back.docs["p5_long"].probs.tobytes() == oof.docs["p5_long"].probs.tobytes()


def test_kfold_decode_gives_valid_spans(corpus, full):
    oof, _ = full
    labels = {"Drug", "Dose"}
    for d in corpus:
        spans = decode(oof.docs[d.id], oof.tags)
        ends = -1
        for s in spans:
            assert s.doc_id == d.id and 0 <= s.start < s.end <= len(d.text) and s.label in labels
            assert s.start >= ends                      # non-overlapping, in order
            assert 0.0 <= s.score <= 1.0
            assert d.text[s.start:s.end] == d.text[s.start:s.end].strip()
            ends = s.end


def test_kfold_decode_respects_iob2_constraints():
    tags = ["O", "B-A", "I-A", "B-B", "I-B"]
    words = tuple((2 * i, 2 * i + 1) for i in range(4))
    # argmax per word would be O, I-A, I-B, O: invalid (O->I-A, I-A->I-B)
    probs = np.array([[.90, .02, .02, .03, .03],
                      [.10, .30, .50, .05, .05],
                      [.05, .05, .35, .15, .40],
                      [.80, .05, .05, .05, .05]], dtype=np.float32)
    path = [tags[i] for i in viterbi(probs, tags)]
    assert path == ["O", "B-A", "I-A", "O"]
    spans = decode(DocMarginals("d", words, probs, fold=0, seed=1), tags)
    assert [(s.start, s.end, s.label) for s in spans] == [(2, 5, "A")]
    assert spans[0].score == pytest.approx((0.30 + 0.35) / 2)
    assert decode(DocMarginals("e", (), np.zeros((0, 5), np.float32), fold=0, seed=1), tags) == []


def test_kfold_progress_is_plain_lines_when_stderr_is_not_a_terminal(corpus, tmp_path, capsys):
    """A job whose stderr is a log file sees one plain line per fold (no bars, no source locations)."""
    run_kfold(corpus, CFG, run_dir=tmp_path / "run", progress=True)
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if " fold " in x]
    assert [x.split(" fold ")[1].split(" ")[0] for x in lines] == ["1/3", "2/3", "3/3"]
    assert "trained in" in lines[0] and "to go" in lines[0] and ".py:" not in err
    run_kfold(corpus, CFG, run_dir=tmp_path / "run", progress=True)           # resumed: said so
    assert all("resumed in" in x for x in capsys.readouterr().err.splitlines() if " fold " in x)


def test_kfold_log_says_every_heartbeat_what_is_running(corpus, tmp_path, capsys, monkeypatch):
    """Between the fold lines a log is never silent: every HEARTBEAT_S a line per running step, with its time."""
    import spanqa.model.progress as progress

    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.02)
    run_kfold(corpus, CFG, run_dir=tmp_path / "run", progress=True)
    beats = [x for x in capsys.readouterr().err.splitlines() if " so far" in x and "trained in" not in x]
    assert any(" head: " in x for x in beats) and any(x.split(" ", 1)[1].startswith("folds: ") for x in beats)
    assert all(x[:8].count(":") == 2 and ".py:" not in x for x in beats)                # timestamped, no sources
    assert any("/3 (" in x and "to go" in x for x in beats if " folds: " in x)          # folds: k/3 (..%), ETA


def test_progress_doctests():
    import doctest

    import spanqa.model.progress as module

    assert doctest.testmod(module).failed == 0
