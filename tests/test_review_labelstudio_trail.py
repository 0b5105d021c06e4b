"""The audit trail of a Label Studio review, on an export in the shape Label Studio 1.23 really writes.

The annotation fields (``completed_by`` expanded to ``{id, email, ...}`` in a snapshot export
with annotator details, ``updated_by`` an id, ``lead_time`` null on an imported annotation
nobody opened, ``result_count`` 0 there, ``was_cancelled`` for a skip) were recorded from a
Label Studio 1.23.2 server on localhost: the tasks of ``spanqa export --to labelstudio``
imported, acted on through its API by two users, exported.  One task per situation:

====  =========================================================  ==========================
doc   what the reviewers did                                     expected
====  =========================================================  ==========================
n1    user 2 updated user 1's imported annotation in place:       split edited, type accepted,
      accepted a split with a shorter part, a relabel, and a      boundary edited; credited to
      boundary moved elsewhere than suggested                     user 2 (``updated_by``)
n2    user 3 submitted a new annotation = the prediction          merge accepted (user 3)
n3    user 1 updated in place: a missing entity added with        missing edited, spurious and
      another label, the rest kept                                review flag rejected
n4    user 1 and user 2 left different spans                      W511, nothing applied
n5    nobody opened it                                            not reviewed (no decision)
n6    user 2 skipped it                                           W512, not reviewed
====  =========================================================  ==========================
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_review_run import TEXTS, make_run

from spanqa.cli import main
from spanqa.core.errors import SpanqaError
from spanqa.review.exports import labelstudio_tasks
from spanqa.run.reader import load_run

EXTRA = {"n5": "Held lasix today.", "n6": "Gave tylenol."}


def _sp(doc: str, a: int, b: int, label: str) -> dict:
    return {"start": a, "end": b, "label": label, "text": (TEXTS | EXTRA)[doc][a:b]}


def _finding(fid, doc, kind, action, labels, suggestion, score=0.1, conf=0.8):
    return {"id": fid, "doc_id": doc, "kind": kind, "action": action, "score": score, "labels": labels,
            "suggestion": suggestion, "evidence": {"p_labels": score, "p_suggestion": conf, "fold": 0},
            "message": f"{kind} finding {fid}"}


FINDINGS = [
    _finding("F_split", "n1", "split", "split", [_sp("n1", 11, 23, "Drug")],
             [_sp("n1", 11, 18, "Drug"), _sp("n1", 19, 23, "Strength")]),
    _finding("F_type", "n1", "type", "relabel", [_sp("n1", 37, 40, "Disease")], [_sp("n1", 37, 40, "Problem")]),
    _finding("F_bound", "n1", "boundary", "extend", [_sp("n1", 51, 61, "Drug")], [_sp("n1", 51, 67, "Drug")]),
    _finding("F_merge", "n2", "merge", "merge", [_sp("n2", 0, 8, "Drug"), _sp("n2", 9, 13, "Strength")],
             [_sp("n2", 0, 13, "Drug")]),
    _finding("F_missing", "n3", "missing", "add", [], [_sp("n3", 40, 50, "Drug")]),
    _finding("F_spur", "n3", "spurious", "delete", [_sp("n3", 19, 25, "Disease")], []),
    _finding("F_low", "n3", "low_confidence", "review", [_sp("n3", 26, 35, "Drug")], [], score=0.45, conf=0.3),
    _finding("F_conf", "n4", "boundary", "extend", [_sp("n4", 8, 15, "Drug")], [_sp("n4", 8, 20, "Drug")]),
    _finding("F_untouched", "n5", "type", "relabel", [_sp("n5", 5, 10, "Drug")], [_sp("n5", 5, 10, "Brand")]),
    _finding("F_skip", "n6", "spurious", "delete", [_sp("n6", 5, 12, "Drug")], []),
]

USERS = {1: "admin@example.com", 2: "reviewer2@example.com", 3: "reviewer3@example.com"}
T0 = "2026-12-03T11:06:28.046047Z"


def _who(uid: int) -> dict:  # a snapshot export with annotator details expands completed_by like this
    return {"id": uid, "email": USERS[uid], "first_name": "", "last_name": ""}


def _imported(ann_id: int, result: list, task_id: int) -> dict:
    """An imported annotation nobody opened, as Label Studio exports it."""
    return {"id": ann_id, "completed_by": _who(1), "result": result, "was_cancelled": False, "ground_truth": True,
            "created_at": T0, "updated_at": T0, "draft_created_at": None, "lead_time": None, "prediction": {},
            "result_count": 0, "unique_id": f"u{ann_id}", "import_id": None, "last_action": None,
            "bulk_created": False, "task": task_id, "project": 1, "updated_by": None, "parent_prediction": None,
            "parent_annotation": None, "last_created_by": None}


def _updated(ann: dict, result: list, by: int) -> dict:
    """The same annotation after a user changed it and clicked Update."""
    return dict(ann, result=result, updated_by=by, lead_time=12.5, result_count=len(result),
                updated_at="2026-12-03T11:06:29.182382Z")


def _new(ann_id: int, result: list, by: int, task_id: int, *, cancelled: bool = False) -> dict:
    return dict(_imported(ann_id, result, task_id), completed_by=_who(by), updated_by=by, ground_truth=False,
                was_cancelled=cancelled, lead_time=8.25, result_count=len(result),
                created_at="2026-12-03T11:06:29.623956Z", updated_at="2026-12-03T11:06:29.623976Z")


def _region(rid: str, a: int, b: int, label: str, text: str) -> dict:
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": a, "end": b, "text": text[a:b], "labels": [label]}}


def _edit(result: list, text: str, *, drop=(), add=()) -> list:
    """``result`` without the regions at ``drop`` ((start, end) pairs), plus regions ``add`` ((a, b, label))."""
    out = [r for r in result if (r["value"]["start"], r["value"]["end"]) not in set(drop)]
    return out + [_region(f"new{a}", a, b, lab, text) for a, b, lab in add]


def test_review_labelstudio_trail_counts_reviewers_and_edits_exactly(tmp_path, capsys):
    run_dir, cpath = make_run(tmp_path, findings=FINDINGS)
    recs = [json.loads(line) for line in cpath.read_text().splitlines()]
    for r in recs:
        if r["id"] == "n2":
            r["spans"].append({"start": 9, "end": 13, "label": "Strength"})
    recs += [{"id": "n5", "text": EXTRA["n5"], "spans": [{"start": 5, "end": 10, "label": "Drug"}]},
             {"id": "n6", "text": EXTRA["n6"], "spans": [{"start": 5, "end": 12, "label": "Drug"}]}]
    cpath.write_text("".join(json.dumps(r) + "\n" for r in recs))
    run = load_run(run_dir)
    tasks = labelstudio_tasks(run.corpus(), run.findings)
    by_doc = {}
    for i, t in enumerate(tasks, 1):  # what Label Studio gives back: ids, and its own annotation records
        t["id"] = i
        text = t["data"]["text"]
        imp = _imported(i, t["annotations"][0]["result"], i)
        doc = t["data"]["doc_id"]
        if doc == "n1":
            res = _edit(imp["result"], text, drop=[(11, 23), (37, 40), (51, 61)],
                        add=[(11, 18, "Drug"), (19, 21, "Strength"), (37, 40, "Problem"), (51, 64, "Drug")])
            anns = [_updated(imp, res, by=2)]
        elif doc == "n2":
            anns = [imp, _new(20 + i, t["predictions"][0]["result"], by=3, task_id=i)]
        elif doc == "n3":
            anns = [_updated(imp, _edit(imp["result"], text, add=[(40, 50, "Brand")]), by=1)]
        elif doc == "n4":
            anns = [_updated(imp, _edit(imp["result"], text, drop=[(8, 15)], add=[(8, 20, "Drug")]), by=1),
                    _new(30 + i, _edit(imp["result"], text, drop=[(8, 15)], add=[(8, 15, "Brand")]), by=2, task_id=i)]
        elif doc == "n5":
            anns = [imp]
        elif doc == "n6":
            anns = [imp, _new(40 + i, [], by=2, task_id=i, cancelled=True)]
        t["annotations"] = anns
        by_doc[doc] = t
    assert set(by_doc) == {"n1", "n2", "n3", "n4", "n5", "n6"}
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))

    try:
        main(["apply", str(run_dir), "--accept", str(export), "--out", str(tmp_path / "v2")])
        code = 0
    except SystemExit as ex:
        code = ex.code
    assert code == 1 and "could not be applied (W511)" in capsys.readouterr().err  # the disagreement is not lost
    out = tmp_path / "v2"
    log = {r["finding_id"]: r for r in map(json.loads, (out / "changelog.jsonl").read_text().splitlines())}
    spans = lambda side: [(s["start"], s["end"], s["label"]) for s in side]  # noqa: E731
    assert sorted(log) == ["F_bound", "F_merge", "F_missing", "F_split", "F_type"]
    assert spans(log["F_split"]["after"]) == [(11, 18, "Drug"), (19, 21, "Strength")]   # the edited split
    assert spans(log["F_bound"]["after"]) == [(51, 64, "Drug")]                          # the moved boundary
    assert spans(log["F_missing"]["after"]) == [(40, 50, "Brand")]                       # the edited new span
    assert spans(log["F_merge"]["after"]) == [(0, 13, "Drug")]
    assert {f: log[f]["reviewer"] for f in log} == {
        "F_split": "reviewer2@example.com", "F_type": "reviewer2@example.com", "F_bound": "reviewer2@example.com",
        "F_merge": "reviewer3@example.com", "F_missing": "admin@example.com"}
    version = json.loads((out / "VERSION.json").read_text())
    c = version["counts"]
    assert (c["accepted"], c["edited"], c["rejected"], c["not_reviewed"]) == (5, 3, 2, 3)
    assert (c["applied"], c["skipped_tasks"], c["disagreeing_tasks"], c["conflicts"]) == (5, 1, 1, 0)
    assert version["reviewers"] == {"admin@example.com": 3, "reviewer2@example.com": 3, "reviewer3@example.com": 1}
    problems = [json.loads(line) for line in (out / "problems.jsonl").read_text().splitlines()]
    assert sorted(p["code"] for p in problems) == ["W511", "W512"]
    w511 = next(p for p in problems if p["code"] == "W511")
    assert w511["where"]["doc_id"] == "n4" and "admin@example.com" in w511["detail"] \
        and "reviewer2@example.com" in w511["detail"]
    new = {json.loads(line)["id"]: json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()}
    assert {(s["start"], s["end"], s["label"]) for s in new["n4"]["spans"]} == {(8, 15, "Drug"), (37, 44, "Drug")}
    assert {(s["start"], s["end"], s["label"]) for s in new["n5"]["spans"]} == {(5, 10, "Drug")}   # untouched
    assert {(s["start"], s["end"], s["label"]) for s in new["n6"]["spans"]} == {(5, 12, "Drug")}   # skipped


def test_review_labelstudio_ids_only_export_uses_the_reviewer_fallback(tmp_path):
    """The default JSON export carries user ids only: ``--reviewer`` names them, else "labelstudio user N"."""
    from spanqa.review.decisions import read_decisions

    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    tasks = labelstudio_tasks(run.corpus(), run.findings)
    t = next(t for t in tasks if t["data"]["doc_id"] == "n2")
    imp = _imported(1, t["annotations"][0]["result"], 1)
    t["annotations"] = [dict(_new(2, t["predictions"][0]["result"], by=2, task_id=1), completed_by=2), imp]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps([t]))
    got, _ = read_decisions(path, run=run)
    assert {d.reviewer for d in got} == {"labelstudio user 2"}
    got, _ = read_decisions(path, run=run, reviewer="ana")
    assert {d.reviewer for d in got} == {"ana"}


# --------------------------------------------------------------------------- every fix kind x accept / reject / edit
KINDS = {  # kind: (doc, labels, suggestion, the reviewer's edit)
    "type": ("n2", [(0, 8, "Drug")], [(0, 8, "Brand")], [(0, 8, "Test")]),
    "boundary-extend": ("n1", [(51, 61, "Drug")], [(51, 67, "Drug")], [(51, 64, "Drug")]),
    "boundary-shrink": ("n1", [(11, 23, "Drug")], [(11, 18, "Drug")], [(11, 21, "Drug")]),
    "boundary_type": ("n1", [(11, 23, "Drug")], [(11, 18, "Brand")], [(11, 18, "Drug")]),
    "split": ("n1", [(11, 23, "Drug")], [(11, 18, "Drug"), (19, 23, "Strength")], [(11, 18, "Drug"), (19, 21, "Strength")]),
    "merge": ("n2", [(0, 8, "Drug"), (9, 13, "Strength")], [(0, 13, "Drug")], [(0, 13, "Brand")]),
    "missing": ("n3", [], [(40, 50, "Drug")], [(40, 50, "Brand")]),
    "spurious": ("n3", [(19, 25, "Disease")], [], [(19, 25, "Drug")]),
}


@pytest.mark.parametrize("verdict", ["accept", "reject", "edit"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_review_labelstudio_each_fix_kind_accept_reject_edit(kind, verdict, tmp_path, capsys):
    doc, labels, suggestion, edit = KINDS[kind]
    name = kind.split("-")[0]
    action = {"type": "relabel", "boundary": "extend", "boundary_type": "replace", "split": "split", "merge": "merge",
              "missing": "add", "spurious": "delete"}[name]
    finding = _finding("F", doc, name, action, [_sp(doc, *s) for s in labels], [_sp(doc, *s) for s in suggestion])
    run_dir, cpath = make_run(tmp_path, findings=[finding])
    recs = [json.loads(line) for line in cpath.read_text().splitlines()]
    for r in recs:
        if r["id"] == "n2":
            r["spans"].append({"start": 9, "end": 13, "label": "Strength"})
    cpath.write_text("".join(json.dumps(r) + "\n" for r in recs))
    run = load_run(run_dir)
    task = labelstudio_tasks(run.corpus(), run.findings)[0]
    text, original = task["data"]["text"], {(s["start"], s["end"], s["label"]) for s in
                                            next(r for r in recs if r["id"] == doc)["spans"]}
    final = {"accept": (original - set(labels)) | set(suggestion), "reject": original,
             "edit": (original - set(labels)) | set(edit)}[verdict]
    imp = _imported(1, task["annotations"][0]["result"], 1)
    task.update(id=1, annotations=[_updated(imp, [_region(f"r{i}", a, b, lab, text)
                                                  for i, (a, b, lab) in enumerate(sorted(final))], by=2)])
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task]))
    try:
        main(["apply", str(run_dir), "--accept", str(export), "--out", str(tmp_path / "v2")])
        code = 0
    except SystemExit as ex:
        code = ex.code
    err = capsys.readouterr().err
    assert code in (0, None), err
    new = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "v2" / "corpus.jsonl").read_text().splitlines()}
    assert {(s["start"], s["end"], s["label"]) for s in new[doc]["spans"]} == final  # exactly as the reviewer left it
    c = json.loads((tmp_path / "v2" / "VERSION.json").read_text())["counts"]
    assert (c["accepted"], c["edited"], c["rejected"], c["applied"]) == {
        "accept": (1, 0, 0, 1), "reject": (0, 0, 1, 0), "edit": (1, 1, 0, 1)}[verdict]


# --------------------------------------------------------------------------- the real export
REAL = Path(__file__).parent / "data" / "labelstudio-1.23.2"


def test_review_labelstudio_real_1_23_2_export_reads_as_the_reviewers_acted(tmp_path):
    """Tasks 1 and 10-12 untouched, 2 updated without a change, 3/5/9 edited away from any finding,
    4 a flagged span deleted, 6 the prediction submitted by user 2, 7 skipped, 8 two users disagreeing."""
    import shutil

    from spanqa.review.decisions import read_decisions

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in ("findings.jsonl", "summary.json"):
        shutil.copy(REAL / name, run_dir / name)
    from spanqa.corpus.formats import read_corpus, write_corpus

    # the export was made against the demo corpus before it held nested Medication spans: the same corpus without them
    demo = read_corpus(Path(__file__).resolve().parents[1] / "corpora" / "demo" / "noisy", format="brat")
    corpus = tmp_path / "noisy"
    write_corpus(demo.evolve(documents=tuple(d.evolve(spans=tuple(x for x in d.spans if x.label != "Medication"))
                                             for d in demo.documents)), corpus, "brat")
    run = load_run(run_dir, corpus=corpus, corpus_format="brat")
    tasks = json.loads((REAL / "export.json").read_text())
    task_of = {t["data"]["doc_id"]: t["id"] for t in tasks}
    kinds = {f.id: f for f in run.findings}
    got, problems = read_decisions(REAL / "export.json", run=run, users=REAL / "users.json")
    per_task: dict[int, list[str]] = {}
    for d in got:
        per_task.setdefault(task_of[kinds[d.finding_id].doc_id], []).append(
            "edit" if d.spans is not None else d.decision)
    findings_in = lambda t: sum(1 for f in run.findings if task_of[f.doc_id] == t)  # noqa: E731
    assert sorted(per_task) == [2, 3, 4, 5, 6, 9]                      # 1, 7, 8, 10-12: no decision at all
    assert all(v == "reject" for t in (2, 3, 5, 9) for v in per_task[t])  # opened, their findings untouched
    assert [len(per_task[t]) == findings_in(t) for t in (2, 3, 4, 5, 6, 9)] == [True] * 6
    assert sorted(per_task[4]) == ["edit"] + ["reject"] * 5              # the flagged Test span deleted
    six = [kinds[d.finding_id] for d in got if task_of[kinds[d.finding_id].doc_id] == 6]
    assert {f.id for f in six if f.has_fix} == {d.finding_id for d in got if d.decision == "accept"
                                                and task_of[kinds[d.finding_id].doc_id] == 6}
    assert {d.reviewer for d in got if task_of[kinds[d.finding_id].doc_id] in (6, 9)} == {"reviewer2@example.com"}
    assert {d.reviewer for d in got if task_of[kinds[d.finding_id].doc_id] in (2, 3, 4, 5)} == {"admin@example.com"}
    codes = sorted((p.code, task_of[p.where.doc_id]) for p in problems)
    assert codes == [("W506", 3), ("W506", 3), ("W506", 5), ("W506", 5), ("W506", 9), ("W506", 9),
                     ("W511", 8), ("W512", 7)]

    # one odd task does not lose the others: a task without data and one whose annotations is a string are each
    # reported (W514, with their index) and every other task's decisions are read as before
    odd = tasks + [{"id": 99, "annotations": []}, {"id": 100, "data": tasks[3]["data"], "annotations": "oops"}]
    (tmp_path / "odd.json").write_text(json.dumps(odd))
    again, more = read_decisions(tmp_path / "odd.json", run=run, users=REAL / "users.json")
    assert [(d.finding_id, d.decision, d.spans) for d in again] == [(d.finding_id, d.decision, d.spans) for d in got]
    misfits = [p for p in more if p.code == "W514"]
    assert [p.where.path.rsplit("[", 1)[1] for p in misfits] == [f"{len(tasks)}]", f"{len(tasks) + 1}]"]
    assert "annotations is str" in misfits[1].detail
    # a file from which no decision comes is an error, never a version identical to its parent
    (tmp_path / "none.json").write_text(json.dumps([{"id": 99, "annotations": []}, tasks[0]]))
    with pytest.raises(SpanqaError) as err:
        read_decisions(tmp_path / "none.json", run=run)
    assert err.value.code == "E504" and "W514 x1" in str(err.value)
