"""The audit run folder: hand-made marginals (fast) and the whole pipeline with the tiny random model (slow)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.model.predictions import DocMarginals, OOFPredictions
from spanqa.run.pipeline import FILES, audit
from spanqa.score.ranking.error_rate import upper_bound_rate

TEXT = "Pt started aspirin 81mg PO daily"
WORDS = ((0, 2), (3, 10), (11, 18), (19, 21), (21, 23), (24, 26), (27, 32))
TAGS = ["O", "B-Drug", "I-Drug", "B-Route", "I-Route", "B-Strength", "I-Strength"]

SPAN_KEYS = {"doc_id", "start", "end", "label", "text", "quality", "fold", "alignable"}
FINDING_KEYS = {"id", "doc_id", "kind", "action", "score", "labels", "suggestion", "evidence", "message"}


def _probs(rows: dict[int, str]) -> np.ndarray:
    probs = np.full((len(WORDS), len(TAGS)), 0.01, np.float32)
    for i in range(len(WORDS)):
        probs[i, TAGS.index(rows.get(i, "O"))] = 1 - 0.01 * (len(TAGS) - 1)
    return probs


def _oof(docs: dict[str, tuple[dict[int, str], int]]) -> OOFPredictions:
    return OOFPredictions(TAGS, {d: DocMarginals(d, WORDS, _probs(rows), fold=f, seed=13) for d, (rows, f) in docs.items()},
                          {"problems": []})


MODEL_ROWS = {2: "B-Drug", 3: "B-Strength", 4: "I-Strength", 5: "B-Route"}


def _corpus() -> Corpus:
    good = (Span("a", 11, 18, "Drug"), Span("a", 19, 23, "Strength"), Span("a", 24, 26, "Route"))
    noisy = (Span("b", 11, 23, "Drug", id="T1"), Span("b", 19, 23, "Strength", id="T2"),  # nested: unalignable
             Span("b", 27, 32, "Drug", id="T3"))                                             # spurious; PO missing
    return Corpus.from_docs([Document("a", TEXT, good), Document("b", TEXT, noisy), Document("u", TEXT, None)],
                            format="jsonl")


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_audit_run_folder_from_given_marginals(tmp_path):
    corpus = _corpus()
    oof = _oof({"a": (MODEL_ROWS, 0), "b": (MODEL_ROWS, 1), "u": (MODEL_ROWS, -1)})
    res = audit(corpus, load_config(), out=tmp_path, progress=False, oof=oof)
    for name in ("spans", "findings", "predictions", "marginals", "summary", "problems"):
        assert (tmp_path / FILES[name]).is_file(), name
    spans = _records(tmp_path / "spans.jsonl")
    assert len(spans) == 6 and all(SPAN_KEYS <= set(r) for r in spans)
    assert Counter((r["doc_id"], r["start"], r["end"], r["label"]) for r in spans) == Counter(
        (s.doc_id, s.start, s.end, s.label) for s in corpus.spans())
    nested = next(r for r in spans if r.get("span_id") == "T2")
    assert nested["alignable"] is False and nested["reason"] == "overlap_dropped"
    assert all(r["quality"] > 0.9 for r in spans if r["doc_id"] == "a")
    findings = _records(tmp_path / "findings.jsonl")
    assert all(set(r) == FINDING_KEYS for r in findings)
    assert {r["doc_id"] for r in findings} == {"b"}  # nothing on the good note, nothing on the unannotated one
    assert {r["kind"] for r in findings} >= {"spurious", "missing"}
    assert [r["score"] for r in findings] == sorted(r["score"] for r in findings)
    preds = _records(tmp_path / "predictions.jsonl")
    assert {(r["doc_id"], r["annotated"]) for r in preds} == {("a", True), ("b", True), ("u", False)}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["corpus"]["n_spans"] == 6 and summary["corpus"]["n_unannotated_docs"] == 1
    # how many spans were judged, per label, and why not: the nested Strength is not
    assessed = summary["assessed"]
    assert (assessed["spans"], assessed["assessed"]) == (6, 5) and assessed["not_assessed"]["overlap_dropped"]["spans"] == 1
    assert assessed["by_label"]["Strength"] == {"spans": 2, "assessed": 1, "overlap_dropped": 1}
    from spanqa.cli.summary import assessed_line

    line = assessed_line(assessed)
    assert line.startswith("Assessed 5 of 6 labelled spans (83%)") and "Strength 1 of 2" in line
    assert summary["findings"]["by_kind"]["spurious"] == 1
    rate = summary["error_rate"]
    assert len(rate["ci95"]) == 2 and 0 < rate["all_labels"]["estimate"] < 2
    if summary["model_agreement"]["f1"] < 0.7:   # the model disagrees too much to tell its mistakes from errors
        assert rate["estimate"] is None and rate["withheld"].startswith("not estimated: the out-of-fold model agrees")
    else:
        assert 0 < rate["estimate"] < 2
    assert {"spanqa", "torch", "transformers", "python"} <= set(summary["versions"])
    assert {"kfold_s", "decode_s", "score_s", "findings_s", "write_s", "total_s"} <= set(summary["timings"])
    assert summary["config"]["findings"]["min_quality"] == 0.5
    assert OOFPredictions.load(tmp_path / "marginals.npz").docs["a"] == oof.docs["a"]
    assert summary["problems"] == {}  # the nested span is W403's business (k-fold), not repeated here
    assert len(res.spans) == 6 and res.summary == summary


def test_audit_reports_hull_scored_spans_and_notes_without_marginals(tmp_path):
    disc = Span("a", 11, 26, "Drug", fragments=((11, 18), (24, 26)))
    corpus = Corpus.from_docs([Document("a", TEXT, (disc,)), Document("c", TEXT, (Span("c", 0, 2, "Drug"),))])
    oof = _oof({"a": (MODEL_ROWS, 0)})
    audit(corpus, load_config(), out=tmp_path, progress=False, oof=oof)
    problems = _records(tmp_path / "problems.jsonl")
    assert [p["code"] for p in problems] == ["W404", "W405"]
    assert problems[0]["where"]["doc_id"] == "a" and "discontinuous" in problems[0]["detail"]
    spans = _records(tmp_path / "spans.jsonl")
    assert [(r["doc_id"], r["alignable"], r.get("reason")) for r in spans] == [
        ("a", False, "discontinuous"), ("c", False, "no_marginals")]
    assert spans[1]["quality"] is None


def test_audit_error_rate_bootstrap_is_seeded():
    a = upper_bound_rate([0.5, 2.0, 0.0, 1.0], [10, 5, 8, 7])
    assert a == upper_bound_rate([0.5, 2.0, 0.0, 1.0], [10, 5, 8, 7])
    assert a["estimate"] == pytest.approx(3.5 / 30, abs=1e-6)
    assert a["ci95"][0] < a["estimate"] < a["ci95"][1]
    assert upper_bound_rate([], [])["estimate"] is None


# --------------------------------------------------------------------------- end to end, tiny random model
TINY = ["model.init='random_tiny'", "train.folds=2", "train.epochs=1"]


class _Interrupted(Exception):
    pass


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """``spanqa demo`` on a few notes with the tiny random model (folds=2, epochs=1)."""
    from typer.testing import CliRunner

    from spanqa.cli import app

    out = tmp_path_factory.mktemp("demo")
    args = ["demo", "--out", str(out), "--notes", "6", "--seed", "1"]
    for s in [*TINY, "data.layers=flat"]:  # the flat run folder (marginals.npz reused below); nested: test_nested.py
        args += ["--set", s]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output + repr(res.exception)
    return out, res.output


@pytest.mark.slow
def test_audit_demo_end_to_end_run_folder(demo_run):
    from spanqa.corpus.formats import read_corpus

    out, output = demo_run
    run = out / "run"
    assert "findings vs injected errors" in output and "calibration" in output
    noisy = read_corpus(out / "corpus" / "noisy", format="brat")
    spans = _records(run / "spans.jsonl")
    assert all(SPAN_KEYS <= set(r) for r in spans)
    assert all(r["quality"] is None or 0.0 <= r["quality"] <= 1.0 for r in spans)
    want = Counter((s.doc_id, s.start, s.end, s.label, s.id) for s in noisy.spans())
    got = Counter((r["doc_id"], r["start"], r["end"], r["label"], r.get("span_id")) for r in spans)
    assert got == want and max(got.values()) == 1  # every labelled span exactly once
    for r in spans:
        assert r["text"] == noisy[r["doc_id"]].text[r["start"]:r["end"]] or r.get("reason") == "discontinuous"
    for r in _records(run / "findings.jsonl"):
        assert set(r) == FINDING_KEYS and r["message"].endswith("?") and 0.0 <= r["score"] <= 1.0
        text = noisy[r["doc_id"]].text
        for s in r["labels"] + r["suggestion"]:
            assert {"start", "end", "label", "text"} <= set(s) and text[s["start"]:s["end"]] == s["text"]
    summary = json.loads((run / "summary.json").read_text())
    ev = summary["demo_eval"]
    assert "all" in ev and all({"recall", "precision", "n"} <= set(v) for v in ev.values())
    assert ev["all"]["n"] == summary["demo"]["injected_errors"] > 0
    cal = summary["calibration"]
    assert len(cal["bins"]) == 10 and 0.0 <= cal["ece"] <= 1.0 and cal["n"] == len(spans)
    assert summary["kfold"]["folds"]["n"] == 2
    # the model-vs-labels yardstick equals a strict set match of predictions.jsonl against the labels
    agree = summary["model_agreement"]
    gold = Counter((s.doc_id, s.start, s.end, s.label) for s in noisy.spans())
    pred = Counter((r["doc_id"], r["start"], r["end"], r["label"]) for r in _records(run / "predictions.jsonl")
                   if r["annotated"])
    matched = sum((gold & pred).values())
    assert (agree["matched"], agree["n_labels"], agree["n_predicted"]) == (matched, sum(gold.values()), sum(pred.values()))
    assert agree["precision"] == pytest.approx(matched / max(sum(pred.values()), 1), abs=1e-4)
    assert agree["recall"] == pytest.approx(matched / sum(gold.values()), abs=1e-4)


@pytest.mark.slow
def test_audit_resume_after_interruption_gives_identical_results(demo_run, tmp_path):
    from typer.testing import CliRunner

    from spanqa.cli import app
    from spanqa.cli.demo import DEMO_GROUP_REGEX
    from spanqa.corpus.formats import read_corpus

    out, _ = demo_run
    # the flat run folder's resume (the layered one's: tests/test_nested.py)
    sets = TINY + [f"data.group_regex='{DEMO_GROUP_REGEX}'", "data.layers=flat"]
    noisy = read_corpus(out / "corpus" / "noisy", format="brat")

    def stop_after_first(k: int) -> None:
        if k == 0:
            raise _Interrupted

    ref = tmp_path / "ref"
    audit(noisy, load_config(overrides=sets), out=ref, progress=False)  # the same audit, never interrupted
    tmp_path = tmp_path / "run"
    with pytest.raises(_Interrupted):
        audit(noisy, load_config(overrides=sets), out=tmp_path, progress=False, on_fold_done=stop_after_first)
    assert (tmp_path / "folds" / "fold_0.done").exists() and not (tmp_path / "summary.json").exists()
    args = ["audit", str(out / "corpus" / "noisy"), "--format", "brat", "--out", str(tmp_path), "-q"]
    for s in sets:
        args += ["--set", s]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert res.output.strip().splitlines()[-1] == f"report: {tmp_path / 'report.html'}"  # -q still says where
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["kfold"]["resumed_folds"] == [0]
    for name in ("spans", "findings", "predictions"):
        assert (tmp_path / FILES[name]).read_bytes() == (ref / FILES[name]).read_bytes(), name
    a = OOFPredictions.load(tmp_path / "marginals.npz")
    b = OOFPredictions.load(ref / "marginals.npz")
    assert a.docs == b.docs


def test_audit_run_folder_of_another_corpus_is_refused(tmp_path):
    from spanqa.core.errors import SpanqaError

    (tmp_path / "fingerprint.json").write_text(json.dumps({"fingerprint": "0" * 64}))
    with pytest.raises(SpanqaError) as err:
        audit(_corpus(), load_config(overrides=TINY), out=tmp_path, progress=False)
    assert err.value.code == "E406"


def test_audit_cli_reports_coded_errors(tmp_path, capsys):
    from spanqa.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["audit", str(tmp_path / "nope"), "--out", str(tmp_path / "run"), "-q"])
    assert ex.value.code == 2 and "E101" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ex:
        main(["audit", str(tmp_path), "--set", "train.fold=3", "--out", str(tmp_path / "run"), "-q"])
    assert ex.value.code == 2 and "E401" in capsys.readouterr().err


def test_audit_cli_interrupt_says_how_to_resume_and_exits_130(tmp_path, capsys, monkeypatch):
    import spanqa.cli.audit as cli_audit
    from spanqa.cli import main

    (tmp_path / "c.jsonl").write_text('{"id": "d", "text": "aspirin 81mg", "spans": []}\n', encoding="utf-8")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_audit, "run_audit", interrupted)
    with pytest.raises(SystemExit) as ex:
        main(["audit", str(tmp_path / "c.jsonl"), "--out", str(tmp_path / "run"), "-q"])
    err = capsys.readouterr().err
    assert ex.value.code == 130 and "interrupted" in err and str(tmp_path / "run") in err and "resume" in err


def test_audit_cli_ray_without_ray_installed_is_E407(tmp_path, capsys, monkeypatch):
    import sys

    from spanqa.cli import main

    path = tmp_path / "c.jsonl"
    from spanqa.corpus.formats import write_corpus
    write_corpus(_corpus(), path, "jsonl")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(SystemExit) as ex:
        main(["audit", str(path), "--ray", "local", "--out", str(tmp_path / "run"), "-q"] + [x for s in TINY for x in ("--set", s)])
    err = capsys.readouterr().err
    assert ex.value.code == 2 and "E407" in err and "spanqa[ray]" in err
    assert not (tmp_path / "run" / "summary.json").exists()


@pytest.mark.slow
def test_audit_cli_ray_local_gives_the_same_run_as_a_plain_audit(demo_run, tmp_path):
    ray = pytest.importorskip("ray")
    from spanqa.cli import main
    from spanqa.cli.demo import DEMO_GROUP_REGEX

    out, _ = demo_run
    # flat, as the demo_run fixture's run (nested corpora on Ray: tests/test_ray_cluster.py)
    sets = [x for s in TINY + [f"data.group_regex='{DEMO_GROUP_REGEX}'", "data.layers=flat"] for x in ("--set", s)]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with pytest.raises(SystemExit) as ex:
            # one encoding shard: the same batches as a plain run, so the files must be byte-identical
            # (more shards change the batches' padding: features then differ by a float16 rounding step)
            main(["audit", str(out / "corpus" / "noisy"), "--format", "brat", "--ray", "local", "--shards", "1",
                  "--out", str(tmp_path), "-q"] + sets)
    finally:
        ray.shutdown()
    assert ex.value.code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["kfold"]["resumed_folds"] == [0, 1]  # the folds ran as Ray tasks; the audit found them finished
    for name in ("spans", "findings", "predictions"):
        assert (tmp_path / FILES[name]).read_bytes() == (out / "run" / FILES[name]).read_bytes(), name


def test_audit_out_that_is_a_file_is_E408_not_a_traceback(tmp_path, capsys):
    from spanqa.cli import main

    (tmp_path / "c.jsonl").write_text('{"id": "d", "text": "aspirin 81mg", "spans": []}\n', encoding="utf-8")
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    for out in (tmp_path / "taken", tmp_path / "taken" / "run"):
        with pytest.raises(SystemExit) as ex:
            main(["audit", str(tmp_path / "c.jsonl"), "--out", str(out), "-q"])
        err = capsys.readouterr().err
        assert ex.value.code == 2 and "E408" in err and str(tmp_path / "taken") in err


def test_audit_demo_ends_with_the_report_and_help_names_the_ray_extra(demo_run):
    from typer.testing import CliRunner

    from spanqa.cli import app

    out, output = demo_run
    report = out / "run" / "report.html"
    assert report.is_file() and f"report: {report}" in " ".join(output.split())
    assert "spanqa-data" in report.read_text(encoding="utf-8")
    helptext = " ".join(CliRunner().invoke(app, ["audit", "--help"]).output.replace("\u2502", " ").split())
    assert "pip install 'spanqa[ray]'" in helptext


def test_audit_predictions_of_your_own_model_skip_the_tagger_and_give_the_same_findings(demo_run, tmp_path, capsys):
    """Marginals made elsewhere (here: the demo run's own) through --predictions and through the Python API."""
    import pandas as pd

    import spanqa
    from spanqa.cli import main

    out, _ = demo_run
    corpus, npz = out / "corpus" / "noisy", out / "run" / "marginals.npz"
    with pytest.raises(SystemExit) as ex:
        main(["audit", str(corpus), "--predictions", str(npz), "--out", str(tmp_path / "mine"), "-q",
              "--set", "model.init='random_tiny'", "--set", "train.folds=2"])
    assert ex.value.code in (0, None), capsys.readouterr().err
    assert not (tmp_path / "mine" / "folds").exists()  # no tagger was trained
    assert (tmp_path / "mine" / "findings.jsonl").read_bytes() == (out / "run" / "findings.jsonl").read_bytes()
    summary = json.loads((tmp_path / "mine" / "summary.json").read_text())
    assert summary["predictions"]["source"] == "user-supplied word marginals" and "out-of-sample" in \
        summary["predictions"]["note"]
    run = spanqa.audit(corpus, npz, out=tmp_path / "api", overrides=["model.init='random_tiny'", "train.folds=2"])
    assert isinstance(run.findings, pd.DataFrame) and isinstance(run.spans, pd.DataFrame)
    assert list(run.findings["id"]) == [json.loads(x)["id"] for x in (out / "run" / "findings.jsonl").open()]
    assert len(run.spans) == sum(1 for _ in (out / "run" / "spans.jsonl").open())
    assert run.spans["quality"].between(0, 1).all() and run.summary["findings"]["total"] == len(run.findings)
    first = run.findings.iloc[0]
    assert first["score"] == run.findings["score"].min() and isinstance(first["labelled"], list)


def test_audit_predictions_that_do_not_fit_the_corpus_are_E412(tmp_path, capsys):
    from spanqa.cli import main
    from spanqa.model.predictions import DocMarginals, OOFPredictions

    (tmp_path / "c.jsonl").write_text('{"id": "d", "text": "Pt on aspirin.", "spans": [{"start": 6, "end": 13, '
                                      '"label": "Drug"}]}\n', encoding="utf-8")
    words = ((0, 2), (3, 5), (6, 13), (13, 14))
    probs = np.full((4, 3), 1 / 3, np.float32)
    cases = {
        "no-drug-tags": OOFPredictions(["O", "B-Dose", "I-Dose"], {"d": DocMarginals("d", words, probs, 0, 0)}),
        "unknown-doc": OOFPredictions(["O", "B-Drug", "I-Drug"], {"x": DocMarginals("x", words, probs, 0, 0)}),
        "words-past-text": OOFPredictions(["O", "B-Drug", "I-Drug"],
                                          {"d": DocMarginals("d", ((0, 2), (3, 5), (6, 13), (13, 99)), probs, 0, 0)}),
        "rows-not-summing-to-1": OOFPredictions(["O", "B-Drug", "I-Drug"],
                                                {"d": DocMarginals("d", words, probs * 2, 0, 0)}),
    }
    for name, oof in cases.items():
        oof.save(tmp_path / f"{name}.npz")
    (tmp_path / "not-npz.npz").write_bytes(b"not a zip")
    for name in [*cases, "not-npz"]:
        with pytest.raises(SystemExit) as ex:
            main(["audit", str(tmp_path / "c.jsonl"), "--predictions", str(tmp_path / f"{name}.npz"),
                  "--out", str(tmp_path / f"run-{name}"), "-q"])
        err = capsys.readouterr().err
        assert ex.value.code == 2 and "error E412" in err and "Traceback" not in err, (name, err)


def test_audit_predicted_spans_and_cleanlab_layout_as_predictions(tmp_path, capsys):
    """A model that gives only spans (a second annotation layer), and cleanlab's pred_probs layout."""
    import spanqa
    from spanqa.corpus.bio import tag_inventory
    from spanqa.corpus.tokenize import doc_words

    text = "Pt on aspirin 81mg daily. Held warfarin."
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "d", "text": text, "spans": [
        {"start": 6, "end": 18, "label": "Drug"}, {"start": 31, "end": 39, "label": "Drug"}]}) + "\n", encoding="utf-8")
    (tmp_path / "pred.jsonl").write_text(json.dumps({"id": "d", "text": text, "spans": [
        {"start": 6, "end": 13, "label": "Drug", "score": 0.9}, {"start": 14, "end": 18, "label": "Strength",
                                                                   "score": 0.8},
        {"start": 31, "end": 39, "label": "Drug", "score": 0.95}]}) + "\n", encoding="utf-8")
    run = spanqa.audit(tmp_path / "c.jsonl", tmp_path / "pred.jsonl", out=tmp_path / "spans-run")
    assert run.summary["predictions"]["source"] == "user-supplied predicted spans"
    assert "only as graded as the span scores" in run.summary["predictions"]["note"]
    top = run.findings.iloc[0]
    assert (top["kind"], top["labelled"], top["suggested"]) == ("split", [(6, 18, "Drug")],
                                                                [(6, 13, "Drug"), (14, 18, "Strength")])
    assert float(run.spans.set_index("start").loc[31, "quality"]) > 0.9  # the span the model agrees with

    # cleanlab's layout: one pred_probs row per token of every annotated document, in corpus order
    from spanqa.corpus.formats import read_corpus

    corpus = read_corpus(tmp_path / "c.jsonl")
    words = doc_words(corpus["d"]).ranges
    tags = tag_inventory(["Drug", "Strength"])
    probs = np.full((len(words), len(tags)), 0.001, np.float32)
    probs[:, 0] = 1 - 0.001 * (len(tags) - 1)
    for i, (a, _) in enumerate(words):
        if a == 31:
            probs[i] = [0.01, 0.97, 0.005, 0.01, 0.005]
    np.savez(tmp_path / "cl.npz", pred_probs=probs, class_names=np.asarray(tags))
    run = spanqa.audit(corpus, tmp_path / "cl.npz", out=tmp_path / "cl-run")
    assert run.summary["predictions"]["source"] == "user-supplied word marginals (cleanlab layout)"
    assert set(run.findings["kind"]) >= {"spurious"}  # aspirin 81mg: the model sees no entity there
    np.savez(tmp_path / "short.npz", pred_probs=probs[:-1], class_names=np.asarray(tags))
    from spanqa.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["audit", str(tmp_path / "c.jsonl"), "--predictions", str(tmp_path / "short.npz"),
              "--out", str(tmp_path / "bad"), "-q"])
    assert ex.value.code == 2 and "E412" in capsys.readouterr().err

    # BIOES class names are converted (S- added to B-, E- to I-), and the run says so
    from spanqa.model.predictions import load_user_predictions

    bioes = ["O", "B-Drug", "I-Drug", "E-Drug", "S-Drug", "S-Strength"]
    pb = np.zeros((len(words), len(bioes)), np.float32)
    pb[:, 0] = 1.0
    at = [i for i, (a, _) in enumerate(words) if a == 31][0]
    pb[at] = [0.02, 0.0, 0.0, 0.0, 0.98, 0.0]                     # 'warfarin' a one-word Drug: S-Drug
    np.savez(tmp_path / "bioes.npz", pred_probs=pb, class_names=np.asarray(bioes))
    oof = load_user_predictions(tmp_path / "bioes.npz", corpus)
    assert oof.tags == ["O", "B-Drug", "I-Drug", "B-Strength", "I-Strength"]
    assert np.allclose(oof.docs["d"].probs[at], [0.02, 0.98, 0.0, 0.0, 0.0])
    assert "converted to IOB2" in oof.meta["predictions"]["converted"]
    # values that are not plain numbers are E412 naming the field, before anything trains
    np.savez(tmp_path / "obj.npz", pred_probs=np.asarray([[0.5, 0.5]] * len(words), dtype=object),
             class_names=np.asarray(tags[:2]))
    np.savez(tmp_path / "odd.npz", pred_probs=probs, class_names=np.asarray(["O", "B-Drug", "X-Drug", "B-S", "I-S"]))
    for name, field in (("obj.npz", "pred_probs"), ("odd.npz", "X-Drug")):
        with pytest.raises(SystemExit) as ex:
            main(["audit", str(tmp_path / "c.jsonl"), "--predictions", str(tmp_path / name), "--out",
                  str(tmp_path / f"bad-{name}"), "-q"])
        err = capsys.readouterr().err
        assert ex.value.code == 2 and "E412" in err and field in err, err


def test_audit_predictions_with_scores_outside_0_1_or_unknown_doc_ids_are_E412(tmp_path, capsys):
    from spanqa.cli import main

    (tmp_path / "c.jsonl").write_text('{"id": "d", "text": "Pt on aspirin.", "spans": []}\n', encoding="utf-8")
    (tmp_path / "p.jsonl").write_text('{"id": "d", "text": "Pt on aspirin.", "spans": [{"start": 6, "end": 13, '
                                      '"label": "Drug", "score": 7}]}\n', encoding="utf-8")
    np.savez(tmp_path / "cl.npz", pred_probs=np.full((4, 3), 1 / 3), class_names=np.asarray(["O", "B-Drug", "I-Drug"]),
             doc_ids=np.asarray(["nope"]))
    for pred in ("p.jsonl", "cl.npz"):
        with pytest.raises(SystemExit) as ex:
            main(["audit", str(tmp_path / "c.jsonl"), "--predictions", str(tmp_path / pred), "--out",
                  str(tmp_path / f"run-{pred}"), "-q"])
        err = capsys.readouterr().err
        assert ex.value.code == 2 and "error E412" in err and "Traceback" not in err, err
