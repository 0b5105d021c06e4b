"""Consensus of several annotators: word-level and exact-extent methods, sparse crowds, texts that differ, the
reliability table, the disagreement stream and the CLI."""

from __future__ import annotations

import json
import random

import pytest

from spanqa.cli import main
from spanqa.compare.consensus import METHODS, annotator_table, consensus, disagreements, majority_vote
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.corpus.formats import write_corpus

WORDS = ["aspirin", "warfarin", "heparin", "fever", "rash", "cough", "daily", "held", "given", "noted"]
LABEL = {"aspirin": "Drug", "warfarin": "Drug", "heparin": "Drug", "fever": "Problem", "rash": "Problem",
         "cough": "Problem"}


def _truth(n_docs=60, seed=0):
    rng = random.Random(seed)
    docs = []
    for i in range(n_docs):
        words = [rng.choice(WORDS) for _ in range(12)]
        text, spans, pos = " ".join(words), [], 0
        for w in words:
            if w in LABEL:
                spans.append(Span(f"d{i}", pos, pos + len(w), LABEL[w]))
            pos += len(w) + 1
        docs.append(Document(f"d{i}", text, tuple(spans)))
    return Corpus.from_docs(docs)


def _noisy(truth, *, miss, swap, seed):
    """An annotator who drops a span with probability ``miss`` and swaps its label with ``swap``."""
    rng = random.Random(seed)
    docs = []
    for d in truth.documents:
        spans = []
        for s in d.spans:
            r = rng.random()
            if r < miss:
                continue
            if r < miss + swap:
                s = s.evolve(label="Problem" if s.label == "Drug" else "Drug")
            spans.append(s)
        docs.append(d.evolve(spans=tuple(spans)))
    return Corpus.from_docs(docs)


def _f1(corpus, truth):
    got = {(d.id,) + s.key for d in corpus.documents for s in d.spans}
    want = {(d.id,) + s.key for d in truth.documents for s in d.spans}
    p, r = len(got & want) / max(1, len(got)), len(got & want) / max(1, len(want))
    return 2 * p * r / max(1e-9, p + r)


@pytest.mark.parametrize("method", ["dawid-skene", "word-ds", "hmm"])
def test_fitted_methods_trust_the_reliable_annotator_more_than_the_vote_does(method):
    truth = _truth()
    good = _noisy(truth, miss=0.02, swap=0.02, seed=1)
    bad = [_noisy(truth, miss=0.5, swap=0.2, seed=s) for s in (2, 3)]
    mv = majority_vote([good, *bad])
    fitted = consensus([good, *bad], ["good", "bad1", "bad2"], method=method)
    assert _f1(fitted.corpus, truth) > _f1(mv.corpus, truth) + 0.05
    acc = {a["name"]: a["accuracy"] for a in fitted.annotators}
    assert acc["good"]["Drug"] > 0.8 and acc["good"]["Drug"] > acc["bad1"]["Drug"] + 0.3
    assert all(0 < s.score <= 1 for d in fitted.corpus.documents for s in d.spans)


def test_word_level_edges_come_from_the_evidence_not_from_one_annotator():
    """Nobody marked exactly "dose aspirin", but every word of it has a majority: the exact-extent vote keeps
    nothing (each extent has 2 of 5 votes), the word-level methods keep the span."""
    t = "took low dose aspirin daily"
    given = [(5, 21), (5, 21), (9, 27), (9, 27), (14, 21)]
    docs = lambda a, b: Corpus.from_docs([Document(f"d{i}", t, (Span(f"d{i}", a, b, "Drug"),)) for i in range(20)])
    anns = [docs(a, b) for a, b in given]
    assert all(not d.spans for d in majority_vote(anns).corpus.documents)
    for method in ("word-vote", "word-ds"):
        got = consensus(anns, method=method).corpus
        assert {s.key for d in got.documents for s in d.spans} == {(9, 21, "Drug")}, method


def test_a_sparse_crowd_votes_only_where_it_looked():
    """Absent = never saw it (no vote); present without spans = annotated and found nothing (a vote for O)."""
    t = "aspirin daily"
    drug = lambda i: Document(i, t, (Span(i, 0, 7, "Drug"),))
    a = Corpus.from_docs([drug("d1"), drug("d2")])
    b = Corpus.from_docs([drug("d1")])                         # never saw d2
    c = Corpus.from_docs([drug("d1"), Document("d2", t, ())])  # saw d2, found nothing
    for method in METHODS:
        res = consensus([a, b], ["a", "b"], method=method)
        assert [s.key for s in res.corpus["d2"].spans] == [(0, 7, "Drug")], method  # a alone saw d2
        assert list(disagreements(res.crowd, res.corpus)) == [], method  # everyone who looked agreed
        rows = list(disagreements(*(lambda r: (r.crowd, r.corpus))(consensus([a, b, c], ["a", "b", "c"], method=method))))
        assert all(set(r["votes"]) == {"a", "c"} and r["kinds"] for r in rows), method  # b never saw d2


def test_texts_that_differ_are_aligned_by_characters_and_reported():
    ref = "A court in Hamburg said"
    a = Corpus.from_docs([Document("d", ref, (Span("d", 11, 18, "LOC"),))])
    b = Corpus.from_docs([Document("d", ref, (Span("d", 11, 18, "LOC"),))])
    c = Corpus.from_docs([Document("d", "A court in Hamburg/LOC said", (Span("d", 11, 22, "LOC"),))])
    res = consensus([a, b, c], ["a", "b", "c"])
    assert res.crowd.aligned == {"equal": 2, "whitespace": 0, "text": 1}
    assert [p.code for p in res.problems] == ["W306"] and "c's text differs" in str(res.problems[0])
    assert res.problems[0].where.start == 19                   # where the reference text resumes
    assert [s.key for s in res.crowd.spans[2]["d"]] == [(11, 18, "LOC")]  # mapped by characters
    assert [s.key for s in res.corpus["d"].spans] == [(11, 18, "LOC")]
    gone = Corpus.from_docs([Document("d", "A court in Hamburg said!!!", (Span("d", 23, 26, "LOC"),))])
    res = consensus([a, b, gone], ["a", "b", "gone"])
    assert sorted(p.code for p in res.problems) == ["W306", "W307"]  # reported, never dropped silently
    other = Corpus.from_docs([Document("d", "completely other words", (Span("d", 0, 10, "LOC"),))])
    res = consensus([a, other], ["a", "other"])  # a few letters in common are not the same words: not mapped
    assert sorted(p.code for p in res.problems) == ["W306", "W307"] and res.crowd.spans[1]["d"] == ()


def test_consensus_cli_writes_the_corpus_and_the_annotator_table(tmp_path, capsys):
    truth = _truth(20)
    paths = []
    for name, (miss, swap, seed) in {"ana": (0.0, 0.0, 1), "ben": (0.4, 0.2, 2), "cy": (0.4, 0.2, 3)}.items():
        path = tmp_path / f"{name}.jsonl"
        write_corpus(_noisy(truth, miss=miss, swap=swap, seed=seed), path, "jsonl")
        paths.append(str(path))
    with pytest.raises(SystemExit) as ex:
        main(["consensus", *paths, "--out", str(tmp_path / "out")])
        raise SystemExit(0)
    assert ex.value.code == 0, capsys.readouterr().err
    table = json.loads((tmp_path / "out" / "annotators.json").read_text())
    assert [a["name"] for a in table["annotators"]] == ["ana", "ben", "cy"]          # no file suffixes
    ana, ben = table["annotators"][0], table["annotators"][1]
    assert ana["f1_vs_consensus"] > ben["f1_vs_consensus"] and set(ben["differences"]) <= {
        "type", "missing", "spurious", "boundary", "boundary_type", "split", "merge", "complex"}
    assert ben["differences"] and all(len(v["examples"]) <= 3 for v in ben["differences"].values())
    assert ana["documents"] == 20 and not ana["few_documents"] and ana["precision_ci95"][0] <= ana["precision"]
    assert set(ana["per_label"]) == {"Drug", "Problem"} and ana["per_label"]["Drug"]["spans"] > 0
    rows = [json.loads(x) for x in (tmp_path / "out" / "disagreements.jsonl").read_text().splitlines()]
    assert rows and all(set(r["votes"]) == {"ana", "ben", "cy"} and r["kinds"] for r in rows)
    lines = (tmp_path / "out" / "consensus.jsonl").read_text().splitlines()
    assert len(lines) == 20 and "each annotator against the consensus" in capsys.readouterr().out
    with pytest.raises(SystemExit) as ex:
        main(["consensus", *paths, "--out", str(tmp_path / "out2"), "--learn", "contested"])
    assert ex.value.code in (0, None) and len((tmp_path / "out2" / "consensus.jsonl").read_text().splitlines()) == 20
    for bad in (["--learn", "some"], ["--method", "vote", "--learn", "contested"]):
        with pytest.raises(SystemExit) as ex:
            main(["consensus", *paths, "--out", str(tmp_path / "out3"), *bad])
        assert ex.value.code == 2 and "--learn" in capsys.readouterr().err


def test_disagreement_kinds_per_annotator():
    t = "Pt on aspirin 81mg and fever"
    a = Corpus.from_docs([Document("d", t, (Span("d", 6, 13, "Drug"), Span("d", 23, 28, "Problem")))])
    b = Corpus.from_docs([Document("d", t, (Span("d", 6, 13, "Drug"), Span("d", 23, 28, "Drug")))])
    c = Corpus.from_docs([Document("d", t, (Span("d", 6, 18, "Drug"), Span("d", 23, 28, "Problem")))])
    d = Corpus.from_docs([Document("d", t, (Span("d", 6, 13, "Drug"),))])
    res = majority_vote([a, b, c, d], ["a", "b", "c", "d"])
    rows = {(r["start"], r["end"]): r for r in disagreements(res.crowd, res.corpus)}
    assert rows[(6, 18)]["kinds"] == {"c": "boundary"}
    assert rows[(6, 13)]["kinds"] == {"c": "boundary"}   # c has its own overlapping span there
    assert rows[(23, 28)]["consensus"] == "O"            # Problem 2 of 4 votes: no majority
    # 2 x Problem, 1 x Drug, 1 x O (d); the consensus keeps no span, so each label is spurious
    assert rows[(23, 28)]["kinds"] == {"a": "spurious", "b": "spurious", "c": "spurious"}


def test_sample_disagreement_interval_and_rule_of_thumb():
    from spanqa.compare.consensus import sample_disagreement

    truth = _truth(120)
    sloppy = _noisy(truth, miss=0.3, swap=0.1, seed=4)
    r = sample_disagreement(truth, sloppy, notes=50, seed=1)
    assert r["notes"] == 50 and r["all_notes"]["notes"] == 120
    assert r["ci95"][0] <= r["disagreement"] <= r["ci95"][1]
    assert r["ci95"][0] <= r["all_notes"]["disagreement"] <= r["ci95"][1]
    assert r["above_15_percent"] and 0.15 < r["disagreement"] < 0.45
    same = sample_disagreement(truth, truth, notes=50)
    assert same["disagreement"] == 0.0 and not same["above_15_percent"]


def test_with_model_adds_the_out_of_fold_tagger_as_an_annotator(tmp_path):
    from spanqa.compare.consensus import MODEL_NAME, with_model
    from spanqa.core.config import load_config

    truth = _truth(24)
    anns = [_noisy(truth, miss=0.2, swap=0.1, seed=s) for s in (1, 2)]
    cfg = load_config(overrides=["model.init='random_tiny'", "fast.max_epochs=2", "train.folds=2"])
    res, model = with_model(anns, cfg, names=["a", "b"])
    assert [a["name"] for a in res.annotators] == ["a", "b", MODEL_NAME]
    assert [d.id for d in model.documents] == [d.id for d in truth.documents]
    rows = annotator_table(res.crowd, res.corpus)
    assert rows[2]["name"] == MODEL_NAME and set(rows[0]["per_label_f1"]) <= {"Drug", "Problem"}
    again, _ = with_model(anns, cfg, names=["a", "b"], model=model)  # a given model annotation is reused
    assert again.corpus == res.corpus


def test_consensus_cli_with_model_on_the_demo_corpus(tmp_path):
    """Three annotations of the same demo notes (clean, 10% and 30% injected errors) + the tiny out-of-fold model."""
    from typer.testing import CliRunner

    from spanqa.cli import app
    from spanqa.corpus.formats import read_corpus
    from spanqa.measure.demo import write_demo

    write_demo(tmp_path / "a", n_notes=8, seed=3, rate=0.1)
    write_demo(tmp_path / "b", n_notes=8, seed=3, rate=0.3)
    paths = [tmp_path / "a" / "clean", tmp_path / "a" / "noisy", tmp_path / "b" / "noisy"]
    out = tmp_path / "out"
    res = CliRunner(env={"COLUMNS": "200"}).invoke(app, [
        "consensus", *map(str, paths), "--model", "--out", str(out), "--set", "model.init='random_tiny'",
        "--set", "fast.max_epochs=2", "--set", "train.folds=2", "--format", "brat"])
    assert res.exit_code == 0, (res.output, res.exception)
    table = json.loads((out / "annotators.json").read_text())
    assert table["method"] == "Dawid-Skene over words + out-of-fold model"
    assert [a["name"] for a in table["annotators"]][-1] == "model (out of fold)"
    consensus = read_corpus(out / "consensus.jsonl")
    assert len(consensus) == 8 and (out / "model.jsonl").is_file()
    rows = [json.loads(x) for x in (out / "disagreements.jsonl").read_text().splitlines()]
    assert rows and all(set(r["kinds"].values()) <= {"type", "boundary", "missing", "spurious"} for r in rows)
    assert "model (out of fold)" in res.output


def test_consensus_keeps_every_document_and_who_annotated_it():
    t, u = "aspirin daily", "fever noted"
    a = Corpus.from_docs([Document("d1", t, (Span("d1", 0, 7, "Drug"),)), Document("d2", u, None)])
    b = Corpus.from_docs([Document("d1", t, (Span("d1", 0, 7, "Drug"),)), Document("d3", u, (Span("d3", 0, 5, "Problem"),))])
    for res in (consensus([a, b], method=m) for m in METHODS):
        docs = res.corpus.by_id()
        assert list(docs) == ["d1", "d2", "d3"]          # d3 only in the second annotation: kept
        assert docs["d2"].spans is None                    # nobody annotated d2: still not annotated
        assert [s.key for s in docs["d1"].spans] == [(0, 7, "Drug")]
    bare = Corpus.from_docs([Document("d2", u, None)])
    for m in METHODS:
        assert consensus([bare, bare], method=m).corpus["d2"].spans is None  # no candidate at all: no crash
    empty = Corpus.from_docs([Document("e", "", ())])  # annotated, but not one word anywhere
    for m in METHODS:
        assert consensus([empty, empty], method=m).corpus["e"].spans == (), m


def test_learning_on_contested_words_sees_a_source_s_false_marks_at_their_true_rate():
    """Fitted on every word, a source that marks a filler word now and then looks nearly perfect on O (the words
    nobody marked outnumber its false marks); learnt on the contested words only, its false marks weigh as they
    do where the decisions are made - and every word still gets a tag."""
    import re

    from spanqa.compare.consensus.crowd import gather
    from spanqa.compare.consensus.words import REACH, contested, word_consensus, word_votes

    rng = random.Random(5)
    filler = " " + " ".join(["the"] * 40)

    def padded(c, false_marks=False):
        docs = []
        for d in c.documents:
            extra = [Span(d.id, m.start(), m.end(), "Drug") for m in re.finditer(r"held|noted", d.text)
                     if false_marks and rng.random() < 0.7]
            docs.append(Document(d.id, d.text + filler, tuple(sorted(d.spans + tuple(extra), key=lambda s: s.start))))
        return Corpus.from_docs(docs)

    truth = _truth()
    anns = [padded(_noisy(truth, miss=0.05, swap=0.0, seed=1)), padded(_noisy(truth, miss=0.3, swap=0.0, seed=2)),
            padded(truth, false_marks=True)]
    votes = word_votes(gather(anns, ["good", "other", "spurious"]))
    says_o = {}
    for learn in ("all", "contested"):
        spans, fit = word_consensus(votes, "word-ds", prior=3.0, diag=5.0, learn=learn)
        says_o[learn] = fit.conf[2, 0, 0, 0]  # P(spurious says O | truth O)
        assert fit.post.shape[0] == len(votes.starts) and len(spans) == len(truth)
    assert says_o["contested"] < says_o["all"] - 0.1, says_o
    idx = contested(votes, REACH)
    marked = set(votes.items[votes.said > 0].tolist())
    assert marked <= set(idx.tolist()) and len(idx) < len(votes.starts) / 2
    assert all(any(abs(i - m) <= REACH for m in marked) for i in idx.tolist())
    with pytest.raises(ValueError, match="learn"):
        consensus(anns, method="dawid-skene", learn="contested")
