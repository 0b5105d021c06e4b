"""Rejections are remembered: ``apply`` keeps them with the version, auditing that version does not raise them."""

from __future__ import annotations

import json

from conftest import run_cli
from test_audit import demo_run  # noqa: F401  (the module-scoped tiny demo audit)
from test_review_run import make_run

from spanqa.score.rejections import DELTA, remember


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_apply_keeps_rejections_with_reviewer_and_carries_the_parents(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path)
    sheet = tmp_path / "d.csv"
    sheet.write_text("finding_id,decision,reviewer,reason\nf_spurious,reject,ana,it is a drug name\n"
                     "f_type,accept,ana,\n")
    run_cli(["apply", run_dir, "--accept", sheet, "--out", tmp_path / "v1"], capsys)
    rej = _lines(tmp_path / "v1" / "rejections.jsonl")
    assert [(r["finding_id"], r["reviewer"], r["reason"]) for r in rej] == [("f_spurious", "ana", "it is a drug name")]
    assert rej[0]["labels"] == [{"start": 19, "end": 25, "label": "Disease", "text": "Taking"}]
    version = json.loads((tmp_path / "v1" / "VERSION.json").read_text())
    assert version["rejections"] == {"total": 1, "new": 1, "carried": 0, "reviewers": {"ana": 1},
                                     "file": "rejections.jsonl"}
    before = (tmp_path / "v1" / "rejections.jsonl").read_bytes()
    run_cli(["apply", run_dir, "--accept", sheet, "--out", tmp_path / "v1"], capsys)  # same decisions again
    assert (tmp_path / "v1" / "rejections.jsonl").read_bytes() == before               # byte-identical
    # the next version carries the rejection forward
    v1_corpus = tmp_path / "v1" / version["corpus"]["path"]
    run2, _ = make_run(tmp_path / "r2", summary_extra=None)
    summary = json.loads((run2 / "summary.json").read_text())
    summary["corpus"]["path"] = str(v1_corpus)
    (run2 / "summary.json").write_text(json.dumps(summary))
    (tmp_path / "d2.csv").write_text("finding_id,decision,reviewer\nf_low,reject,ben\n")
    run_cli(["apply", run2, "--accept", tmp_path / "d2.csv", "--out", tmp_path / "v2"], capsys)
    v2 = json.loads((tmp_path / "v2" / "VERSION.json").read_text())
    assert v2["rejections"]["total"] == 2 and v2["rejections"]["carried"] == 1
    assert v2["rejections"]["reviewers"] == {"ana": 1, "ben": 1}


def test_a_rejected_finding_is_suppressed_unless_its_evidence_changed(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path)
    (tmp_path / "d.csv").write_text("finding_id,decision,reviewer\nf_spurious,reject,ana\nf_missing,reject,ana\n")
    run_cli(["apply", run_dir, "--accept", tmp_path / "d.csv", "--out", tmp_path / "v1"], capsys)
    corpus = tmp_path / "v1" / json.loads((tmp_path / "v1" / "VERSION.json").read_text())["corpus"]["path"]
    recs = _lines(run_dir / "findings.jsonl")
    for r in recs:  # the new audit is more sure of the missing entity than when it was rejected
        if r["id"] == "f_missing":
            r["evidence"]["p_suggestion"] += DELTA + 0.01
    (run_dir / "findings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    entry, kept_ids = remember(run_dir, corpus)
    assert "f_spurious" not in kept_ids and entry["count"] == 1 and entry["raised_again"] == 1 and entry["by_reviewer"] == {"ana": 1}
    kept = {r["id"]: r for r in _lines(run_dir / "findings.jsonl")}
    assert "f_spurious" not in kept and kept["f_missing"]["evidence"]["rejected_before"]["reviewer"] == "ana"
    gone = _lines(run_dir / "suppressed.jsonl")
    assert [r["id"] for r in gone] == ["f_spurious"] and gone[0]["suppressed"]["reviewer"] == "ana"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["findings"]["suppressed"]["count"] == 1 and summary["findings"]["total"] == len(kept)
    assert remember(run_dir, tmp_path / "elsewhere.jsonl") is None  # not a version folder: nothing suppressed


def test_auditing_the_new_version_leaves_the_rejected_finding_out(demo_run, tmp_path, capsys):  # noqa: F811
    from spanqa.core.config import load_config
    from spanqa.corpus.formats import read_corpus
    from spanqa.model.predictions import OOFPredictions
    from spanqa.run.pipeline import audit

    out, _ = demo_run
    first = _lines(out / "run" / "findings.jsonl")
    target = next(r for r in first if r["kind"] != "pattern" and r["labels"])
    (tmp_path / "d.csv").write_text(f"finding_id,decision,reviewer\n{target['id']},reject,ana\n")
    run_cli(["apply", out / "run", "--accept", tmp_path / "d.csv", "--out", tmp_path / "v1"], capsys)
    version = json.loads((tmp_path / "v1" / "VERSION.json").read_text())
    corpus = read_corpus(tmp_path / "v1" / version["corpus"]["path"])
    cfg = load_config(overrides=["model.init='random_tiny'", "train.folds=2", "data.layers=flat"])
    result = audit(corpus, cfg, out=tmp_path / "run2", progress=False,
                   oof=OOFPredictions.load(out / "run" / "marginals.npz"))
    ids = {r["id"] for r in _lines(tmp_path / "run2" / "findings.jsonl")}
    assert target["id"] not in ids and target["id"] not in {f.id for f in result.findings}
    assert [r["id"] for r in _lines(tmp_path / "run2" / "suppressed.jsonl")] == [target["id"]]
    assert result.summary["findings"]["suppressed"]["count"] == 1
    memory = audit(corpus, cfg, out=None, progress=False, oof=OOFPredictions.load(out / "run" / "marginals.npz"))
    assert [r["id"] for r in memory.rows["findings"]] == [r["id"] for r in _lines(tmp_path / "run2" / "findings.jsonl")]
    assert [r["id"] for r in memory.rows["suppressed"]] == [target["id"]]  # the same, with nothing written
    assert memory.summary["findings"] == result.summary["findings"]
