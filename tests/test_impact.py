"""``spanqa impact``: per-document counts, the bootstrap, corpus versions, and the command end to end (tiny model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from spanqa.cli import app
from spanqa.compare.comparison import compare_corpora
from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import read_corpus
from spanqa.measure.impact import Version, changes_against, measure_impact, versions_from_corpora
from spanqa.measure.impact.scores import bootstrap_delta, bootstrap_f1, doc_counts
from spanqa.review.apply import AppliedFix
from spanqa.review.chart import impact_page, is_curve

runner = CliRunner(env={"COLUMNS": "200"})
#: the tiny random encoder and a head that stops after two epochs: plumbing, not quality
TINY = ["model.init='random_tiny'", "fast.max_epochs=1", "train.folds=2"]


def _doc(i: str, text: str, spans) -> Document:
    return Document(i, text, tuple(Span(i, a, b, lab) for a, b, lab in spans))


# --------------------------------------------------------------------------- scores
def test_doc_counts_are_strict_per_label():
    gold = [_doc("a", "aspirin 81 mg daily", [(0, 7, "Drug"), (8, 13, "Strength")]),
            _doc("b", "no known allergies", [])]
    pred = {"a": [Span("a", 0, 7, "Drug"), Span("a", 8, 10, "Strength")], "b": [Span("b", 3, 8, "Drug")]}
    c = doc_counts(pred, gold, ["Drug", "Strength"])
    # matched, predicted, gold
    assert c.tolist() == [[[1, 1, 1], [0, 1, 1]], [[0, 1, 0], [0, 0, 0]]]
    assert doc_counts({}, gold, ["Drug", "Strength"])[:, :, :2].sum() == 0  # nothing predicted


def test_bootstrap_interval_brackets_the_point_and_delta_of_a_copy_is_zero():
    rng = np.random.default_rng(0)
    n = 60
    gold = rng.integers(1, 6, size=(2, n, 1))
    matched = np.minimum(gold, rng.integers(0, 6, size=(2, n, 1)))
    counts = np.concatenate([matched, gold, gold], axis=2)[..., None, :].reshape(2, n, 1, 3)
    r = bootstrap_f1(counts, ["X"], resamples=300)
    assert r["ci95"][0] <= r["f1"] <= r["ci95"][1] and len(r["per_seed"]) == 2
    same = bootstrap_delta(counts, counts.copy(), ["X"], resamples=300)
    # the point change is 0; the interval (seeds drawn independently per version) straddles it
    assert same["f1"] == 0.0 and same["ci95"][0] < 0 < same["ci95"][1] and 0.2 < same["p_not_better"] < 1
    better = counts.copy()
    better[..., 0] = better[..., 2]  # every gold span found
    d = bootstrap_delta(counts, better, ["X"], resamples=300)
    assert d["f1"] > 0 and d["ci95"][0] > 0 and d["p_not_better"] == 0.0
    assert r["per_label"]["X"]["gold"] == int(gold[0].sum())


# --------------------------------------------------------------------------- versions
def test_versions_from_corpora_apply_the_differences_in_batches():
    before = Corpus.from_docs([_doc(f"d{i}", "aspirin 81 mg and heparin", [(0, 13, "Drug")]) for i in range(6)])
    after = Corpus.from_docs([_doc(f"d{i}", "aspirin 81 mg and heparin",
                                   [(0, 7, "Drug"), (8, 13, "Strength"), (18, 25, "Drug")]) for i in range(6)])
    vs = versions_from_corpora(before, after, batches=[2, 4], seed=1)
    assert [(v.name, v.fixes) for v in vs] == [("before", 0), ("2 fixes", 2), ("4 fixes", 4), ("after", 12)]
    assert vs[-1].corpus is after
    for v in vs[1:3]:
        left = [c for c in compare_corpora(v.corpus, after).components if c.kind.value != "exact"]
        assert len(left) == 12 - v.fixes
    assert versions_from_corpora(before, after)[1].name == "after"  # no inner points by default


def test_changes_against_truth():
    truth = Corpus.from_docs([_doc("a", "aspirin 81 mg", [(0, 7, "Drug"), (8, 13, "Strength")])])
    right = AppliedFix("f1", "a", "boundary", "split", (Span("a", 0, 13, "Drug"),),
                   (Span("a", 0, 7, "Drug"), Span("a", 8, 13, "Strength")))
    wrong = AppliedFix("f2", "a", "spurious", "delete", (Span("a", 0, 7, "Drug"),), ())
    r = changes_against([right, wrong], truth)
    assert (r["changes"], r["right"], r["share_right"], r["closer"]) == (2, 1, 0.5, 1)
    assert r["by_kind"] == {"boundary": {"changes": 1, "right": 1}, "spurious": {"changes": 1, "right": 0}}


# --------------------------------------------------------------------------- measuring (tiny model)
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from spanqa.measure.demo import write_demo

    root = tmp_path_factory.mktemp("impact")
    write_demo(root / "train", n_notes=8, seed=3)
    write_demo(root / "heldout", n_notes=4, seed=7)
    return root


def test_measure_impact_record_and_leak_warning(demo):
    noisy = read_corpus(demo / "train" / "noisy", format="brat")
    clean = read_corpus(demo / "train" / "clean", format="brat")
    held = read_corpus(demo / "heldout" / "clean", format="brat")
    cfg = load_config(overrides=TINY)
    rec = measure_impact([Version("noisy", noisy, 0), Version("clean", clean, 5)], cfg,
                         evals=[("held", held), ("leaky", clean)], seeds=2, resamples=200)
    assert rec["mode"] == "held-out evaluation" and rec["seeds"] == [13, 14]
    for name in ("held", "leaky"):
        res = rec["evaluations"][name]
        assert [v["name"] for v in res["versions"]] == ["noisy", "clean"]
        assert "delta" in res["versions"][1] and "delta" not in res["versions"][0]
        for v in res["versions"]:
            assert 0.0 <= v["ci95"][0] <= v["ci95"][1] <= 1.0 and len(v["per_seed"]) == 2
            assert set(v["per_label"]) == set(rec["labels"])
    assert rec["evaluations"]["held"]["documents"] == len(held)
    codes = [p["code"] for p in rec["problems"]]
    assert codes.count("W601") == 1  # the clean training notes evaluated: not held out
    assert rec["timing"]["trainings"] == 4  # 2 versions x 2 seeds; both evaluations share them
    page = impact_page(rec)
    assert "<svg" in page and "noisy" in page and not is_curve(res["versions"])


def test_measure_impact_without_eval_is_consistency(demo):
    noisy = read_corpus(demo / "train" / "noisy", format="brat")
    clean = read_corpus(demo / "train" / "clean", format="brat")
    rec = measure_impact([Version("noisy", noisy, 0), Version("clean", clean, 9)], load_config(overrides=TINY),
                         seeds=1, resamples=100)
    assert rec["mode"] == "consistency" and "not whether they are right" in rec["note"]
    (res,) = rec["evaluations"].values()
    assert res["documents"] == len(noisy)
    assert rec["timing"]["trainings"] == 2 * 2  # 2 versions x 2 folds


def test_measure_impact_errors(demo):
    clean = read_corpus(demo / "train" / "clean", format="brat")
    cfg = load_config(overrides=TINY)
    with pytest.raises(SpanqaError) as e:
        measure_impact([Version("only", clean)], cfg)
    assert e.value.problem.code == "E602"
    bare = clean.evolve(documents=tuple(d.evolve(spans=None) for d in clean.documents))
    with pytest.raises(SpanqaError) as e:
        measure_impact([Version("a", clean), Version("b", clean)], cfg, evals=[("bare", bare)])
    assert e.value.problem.code == "E601"
    with pytest.raises(SpanqaError) as e:  # a version with nothing to learn from: coded, not a crash in the head
        measure_impact([Version("a", clean), Version("bare", bare)], cfg)
    assert e.value.problem.code == "E602" and "'bare'" in str(e.value)
    # without --eval the versions are paired note by note: one more note in AFTER is E602 before any training
    from spanqa.core.document import Document

    more = clean.evolve(documents=clean.documents + (Document("extra_note", "Pt on aspirin.", ()),))
    with pytest.raises(SpanqaError) as e:
        measure_impact([Version("before", clean), Version("after", more)], cfg,
                       notify=lambda msg: pytest.fail(f"trained before checking: {msg}"))
    assert e.value.problem.code == "E602" and "extra_note" in str(e.value) and "--eval" in str(e.value)


def test_cli_two_corpora_writes_json_and_page(demo, tmp_path):
    held = demo / "heldout" / "clean"
    out = tmp_path / "imp"
    args = ["impact", str(demo / "train" / "noisy"), str(demo / "train" / "clean"), "--eval", str(held),
            "--out", str(out), "--seeds", "1", "--batches", "5", "--resamples", "100", "-q"]
    for s in TINY:
        args += ["--set", s]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    rec = json.loads((out / "impact.json").read_text())
    names = [v["name"] for v in rec["evaluations"]["clean"]["versions"]]
    assert names[0].endswith("noisy") and names[1] == "5 fixes" and names[-1].endswith("clean")
    assert "strict span F1 of the retrained tagger" in res.output and "reference" in res.output
    assert "Downstream F1 by fixes applied" in (out / "impact.html").read_text()  # 3 points with fix counts: a curve
    bad = runner.invoke(app, ["impact", str(held), "--out", str(out)])
    assert bad.exit_code == 2 and "--accept" in bad.output


@pytest.mark.slow
def test_cli_run_mode_curve_in_ranking_order_and_report_chart(tmp_path):
    from spanqa.measure.demo import write_demo

    demo_out = tmp_path / "demo"
    args = ["demo", "--out", str(demo_out), "--notes", "10", "--seed", "2"]
    for s in TINY:
        args += ["--set", s]
    assert runner.invoke(app, args).exit_code == 0
    write_demo(tmp_path / "held", n_notes=5, seed=8)
    run_dir = demo_out / "run"
    (tmp_path / "dec.jsonl").write_text('{"finding_id": "no-such-finding", "decision": "accept"}\n')
    args = ["impact", str(run_dir), "--all-above", "0.0", "--eval", str(tmp_path / "held" / "clean"),
            "--accept", str(tmp_path / "dec.jsonl"),
            "--seeds", "1", "--batches", "3,6", "--resamples", "100", "-q", "--set", "fast.max_epochs=2"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    rec = json.loads((run_dir / "impact.json").read_text())
    (ev,) = rec["evaluations"].values()
    fixes = [v["fixes"] for v in ev["versions"]]
    assert fixes[0] == 0 and fixes[1] <= 3 and fixes == sorted(fixes) and fixes[-1] == rec["run"]["apply_counts"]["applied"]
    assert rec["model"]["init"] == "random_tiny"  # the run's own configuration, not the defaults
    assert [p["code"] for p in rec["problems"]].count("W503") == 1 and "W503" in res.output  # reported, not dropped
    html = (run_dir / "report.html").read_text()
    assert 'id="impact"' in html and "Downstream F1 by fixes applied" in html


def test_cli_usage_errors_exit_2(demo, tmp_path):
    noisy, clean = str(demo / "train" / "noisy"), str(demo / "train" / "clean")
    res = runner.invoke(app, ["impact", noisy, clean, "--out", str(tmp_path), "--batches", "ten"])
    assert res.exit_code == 2 and "comma-separated" in res.output
    res = runner.invoke(app, ["impact", noisy, clean])
    assert res.exit_code == 2 and "--out" in res.output
    res = runner.invoke(app, ["impact", noisy, clean, "--all-above", "0.9", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "run folder" in res.output


def test_report_shows_a_damaged_impact_record_instead_of_dropping_it(tmp_path):
    from test_review_run import make_run

    from spanqa.review.report import write_run_report

    run_dir, cpath = make_run(tmp_path)
    (run_dir / "impact.json").write_text('{"evaluations": {"x": {"versions": [{"name": 1}]}}}')
    html = write_run_report(run_dir, read_corpus(cpath)).read_text()
    assert 'id="impact"' in html and "could not be read" in html


def test_retrainer_splits_training_words_at_span_edges_but_never_a_target_s():
    from spanqa.corpus.bio import tag_inventory
    from spanqa.model.trainer import Retrainer, doc_key

    doc = _doc("a", "took aspirin81mg daily", [(5, 12, "Drug"), (12, 16, "Strength")])
    tagger = Retrainer(load_config(overrides=TINY), tag_inventory(["Drug", "Strength"]))
    (train,) = tagger._prepare([doc])
    (target,) = tagger._prepare([doc.evolve(spans=None)])
    assert train.enc.words == ((0, 4), (5, 12), (12, 14), (14, 16), (17, 22))  # split at the Drug/Strength edge
    assert target.enc.words == ((0, 4), (5, 14), (14, 16), (17, 22))           # the text's own words only
    assert [tagger.tags[i] for i in train.labels] == ["O", "B-Drug", "B-Strength", "I-Strength", "O"]
    assert target.labels is None
    assert doc_key(doc) != doc_key(doc.evolve(spans=None)) and not tagger.problems


def test_unseen_evaluation_label_is_reported(demo):
    clean = read_corpus(demo / "train" / "clean", format="brat")
    held = read_corpus(demo / "heldout" / "clean", format="brat")
    d0 = held.documents[0]
    renamed = held.evolve(documents=(d0.evolve(spans=tuple(s.evolve(label="Device") for s in d0.spans)),)
                          + held.documents[1:])
    rec = measure_impact([Version("a", clean, 0), Version("b", clean, 0)], load_config(overrides=TINY),
                         evals=[("held", renamed)], seeds=1, resamples=100)
    w = [p for p in rec["problems"] if p["code"] == "W602"]
    assert len(w) == 1 and "'Device'" in w[0]["detail"]
    assert rec["evaluations"]["held"]["versions"][0]["per_label"]["Device"]["f1"] == 0.0


def test_impact_and_consensus_doctests():
    import doctest

    import spanqa.compare.consensus
    import spanqa.measure.impact.measure
    import spanqa.measure.impact.scores

    for module in (spanqa.measure.impact.scores, spanqa.measure.impact.measure, spanqa.compare.consensus):
        assert doctest.testmod(module).failed == 0, module.__name__
