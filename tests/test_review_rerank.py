"""``spanqa rerank``: reviewers' decisions move the findings nobody has reviewed yet, with a note why."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli
from test_review_run import _sp, make_run

from spanqa.score.ranking.feedback import Feedback, group_keys


def _findings() -> list[dict]:
    """Four 'type Drug -> Brand' findings (the most suspicious) and two 'missing Drug' ones below them."""
    rec = lambda fid, doc, a, b, score: {  # noqa: E731
        "id": fid, "doc_id": doc, "kind": "type", "action": "relabel", "score": score, "labels": [_sp(doc, a, b, "Drug")],
        "suggestion": [_sp(doc, a, b, "Brand")], "evidence": {"p_labels": score}, "message": "Brand?"}
    miss = lambda fid, doc, a, b, score: {  # noqa: E731
        "id": fid, "doc_id": doc, "kind": "missing", "action": "add", "score": score, "labels": [],
        "suggestion": [_sp(doc, a, b, "Drug")], "evidence": {"p_entity": 1 - score}, "message": "missing?"}
    return [rec("t1", "n1", 11, 23, 0.05), rec("t2", "n2", 0, 8, 0.06), rec("t3", "n4", 8, 15, 0.07),
            rec("t4", "n4", 37, 44, 0.08), miss("m1", "n3", 40, 50, 0.2), miss("m2", "n1", 51, 61, 0.25)]


def test_rejections_push_their_group_down_and_say_why(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path, findings=_findings())
    sheet = tmp_path / "d.csv"
    sheet.write_text("finding_id,decision,reviewer\nt1,reject,ana\nt2,reject,ana\nm1,accept,ana\ngone,reject,ana\n")
    said = run_cli(["rerank", run_dir, "--decisions", sheet], capsys)
    assert "3 decisions (1 accepted, 2 rejected)" in said
    assert "1 decisions name findings not in this run and were not used (first: gone)" in said  # nothing silent
    recs = {r["id"]: r for r in map(json.loads, (run_dir / "findings.jsonl").read_text().splitlines())}
    assert [recs[i]["evidence"]["decision"] for i in ("t1", "t2", "m1")] == ["reject", "reject", "accept"]
    assert recs["t3"]["score"] > recs["t3"]["evidence"]["static_score"] == 0.07  # less suspicious now
    assert recs["m2"]["score"] < recs["m2"]["evidence"]["static_score"] == 0.25  # more suspicious now
    assert recs["m2"]["score"] < recs["t3"]["score"]                              # the order flipped
    assert "rejected 2 of 2 times in this corpus" in recs["t3"]["evidence"]["reviews"]["text"]
    assert recs["t1"]["score"] == 0.05  # a decided finding keeps its audit score
    # rerank again with no rejections: starts from the audit's scores, not cumulative
    sheet.write_text("finding_id,decision\nm1,accept\n")
    run_cli(["rerank", run_dir, "--decisions", sheet], capsys)
    recs = {r["id"]: r for r in map(json.loads, (run_dir / "findings.jsonl").read_text().splitlines())}
    assert recs["t3"]["score"] == 0.07 and "decision" not in recs["t1"]["evidence"]


def test_feedback_shrinks_one_decision_and_trusts_ten():
    keys = [group_keys("spurious", "MISC", "division")]
    one = Feedback.fit(keys, np.array([0.9]), np.array([False])).p_error(keys, np.array([0.9]))[0]
    ten = Feedback.fit(keys * 10, np.full(10, 0.9), np.zeros(10, bool)).p_error(keys, np.array([0.9]))[0]
    assert 0.9 > one > 0.5 > ten  # one rejection nudges, ten decide
    other = Feedback.fit(keys * 10, np.full(10, 0.9), np.zeros(10, bool)).p_error(
        [group_keys("type", "PER", "x")], np.array([0.9]))[0]
    assert other == pytest.approx(0.9)  # a group nobody reviewed keeps its score
