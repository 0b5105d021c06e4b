"""``spanqa apply``: accepted fixes -> a new corpus version with a change log; conflicts, idempotence."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from test_review_run import make_run

from spanqa.compare.comparison import compare_corpora
from spanqa.core.errors import SpanqaError
from spanqa.corpus.formats import read_corpus
from spanqa.review.apply import apply_decisions, apply_run, corpus_hash, threshold_decisions
from spanqa.review.decisions import Decision, read_decisions
from spanqa.review.exports import labelstudio_tasks, write_csv
from spanqa.run.reader import load_run


def _decisions(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["finding_id", "decision", "label", "start", "end", "reviewer", "reason"])
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def _digest(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p.relative_to(path.parent)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _non_exact(old, new) -> list[tuple]:
    comp = compare_corpora(old, new)
    return sorted((c.doc_id, c.kind.value, c.action, tuple(s.key for s in c.labels), tuple(s.key for s in c.other))
                  for c in comp.components if c.kind.value != "exact")


ACCEPTED = [("n2", "type", "relabel", ((0, 8, "Drug"),), ((0, 8, "Brand"),)),
            ("n1", "boundary", "shrink", ((11, 23, "Drug"),), ((11, 18, "Drug"),)),
            ("n3", "missing", "add", (), ((40, 50, "Drug"),)),
            ("n3", "spurious", "delete", ((19, 25, "Disease"),), ())]


def test_review_apply_changes_exactly_the_accepted_findings(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    before = _digest(cpath)
    dec = _decisions(tmp_path / "d.csv", [
        {"finding_id": "f_type", "decision": "accept", "reviewer": "ana", "reason": "brand name"},
        {"finding_id": "f_shrink", "decision": "accept"},
        {"finding_id": "f_missing", "decision": "ACCEPT"},
        {"finding_id": "f_spurious", "decision": "accept"},
        {"finding_id": "f_shrink2", "decision": "reject"},
        {"finding_id": "f_low", "decision": ""},  # undecided
    ])
    result, version = apply_run(load_run(run_dir), tmp_path / "v2", accept=dec, reviewer="bob")
    assert result.counts["applied"] == 4 and result.counts["rejected"] == 1 and result.counts["accepted"] == 4
    new_path = tmp_path / "v2" / version["corpus"]["path"]
    old, new = read_corpus(cpath), read_corpus(new_path)
    assert sorted(_non_exact(old, new)) == sorted(ACCEPTED)
    assert _digest(cpath) == before  # the source is never touched
    log = [json.loads(line) for line in (tmp_path / "v2" / "changelog.jsonl").read_text().splitlines()]
    assert [r["finding_id"] for r in log] == ["f_type", "f_shrink", "f_missing", "f_spurious"]
    t = log[0]
    assert t["before"] == [{"start": 0, "end": 8, "label": "Drug", "text": "Coumadin"}]
    assert t["after"][0]["label"] == "Brand" and t["reviewer"] == "ana" and t["reason"] == "brand name"
    assert log[1]["reviewer"] == "bob" and log[1]["time"]
    assert version["parent"]["hash"] == corpus_hash(old) and version["hash"] == corpus_hash(new)
    assert version["hash"] != version["parent"]["hash"] and version["counts"]["spans_after"] == 10


@pytest.mark.parametrize("fmt", ["brat", "labelstudio"])
def test_review_apply_keeps_the_source_format(tmp_path, fmt):
    run_dir, cpath = make_run(tmp_path, corpus_format=fmt)
    decisions = [{"finding_id": f, "decision": "accept"} for f in ("f_type", "f_shrink", "f_missing", "f_spurious")]
    result, version = apply_run(load_run(run_dir), tmp_path / "v2", accept=_decisions(tmp_path / "d.csv", decisions))
    assert version["corpus"] == {"path": cpath.name, "format": fmt} and result.counts["applied"] == 4
    old, new = read_corpus(cpath, fmt), read_corpus(tmp_path / "v2" / cpath.name, fmt)
    assert sorted(_non_exact(old, new)) == sorted(ACCEPTED)
    if fmt == "brat":  # one-for-one changes keep their brat id
        assert [s.id for s in new["n2"].spans] == [s.id for s in old["n2"].spans]


def test_review_apply_twice_is_idempotent(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    dec = _decisions(tmp_path / "d.csv", [{"finding_id": f, "decision": "accept"}
                                          for f in ("f_type", "f_shrink", "f_missing")])
    apply_run(load_run(run_dir), tmp_path / "v2", accept=dec)
    first = _digest(tmp_path / "v2")
    apply_run(load_run(run_dir), tmp_path / "v2", accept=dec)
    assert _digest(tmp_path / "v2") == first  # byte-identical, change log not duplicated
    # applying the same decisions to the new version changes nothing
    new = read_corpus(tmp_path / "v2" / "corpus.jsonl")
    again = apply_decisions(load_run(run_dir), read_decisions(dec)[0], corpus=new)
    assert again.changes == () and again.counts["already_applied"] == 3
    assert corpus_hash(again.corpus) == corpus_hash(new)
    assert {p.code for p in again.problems} == {"W505"}


def test_review_apply_conflicting_fixes_are_reported_not_guessed(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    res = apply_decisions(run, [Decision("f_conflict_a", "accept"), Decision("f_conflict_b", "accept"),
                                Decision("f_type", "accept")])
    assert [c.finding_id for c in res.changes] == ["f_type"]
    w = [p for p in res.problems if p.code == "W502"]
    assert len(w) == 1 and "f_conflict_a" in w[0].detail and "f_conflict_b" in w[0].detail
    assert w[0].where.doc_id == "n4" and res.counts["conflicts"] == 2
    assert res.corpus["n4"].spans == run.corpus()["n4"].spans


def test_review_apply_override_and_review_only(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    res = apply_decisions(run, [Decision("f_low", "accept", label="Brand"),
                                Decision("f_ood", "accept"),
                                Decision("f_shrink2", "accept", end=64),
                                Decision("nope", "accept")])
    by = {c.finding_id: c for c in res.changes}
    assert by["f_low"].after[0].key == (26, 35, "Brand")
    assert by["f_shrink2"].after[0].key == (51, 64, "Drug")  # override end, suggested start and label
    codes = sorted(p.code for p in res.problems)
    assert codes == ["W503", "W504"]


def test_review_apply_stale_finding_and_contradiction(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    run = load_run(run_dir)
    corpus = run.corpus()
    changed = corpus.evolve(documents=tuple(d.evolve(text="X" + d.text[1:]) if d.id == "n2" else d
                                            for d in corpus.documents))
    res = apply_decisions(run, [Decision("f_type", "accept"), Decision("f_shrink", "accept", source="a:2"),
                                Decision("f_shrink", "reject", source="a:3")], corpus=changed)
    assert res.changes == ()
    assert sorted(p.code for p in res.problems) == ["W501", "W507"]


def test_review_apply_all_above_threshold(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    assert sorted(d.finding_id for d in threshold_decisions(run, 0.85)) == ["f_shrink", "f_type"]
    dec = _decisions(tmp_path / "d.csv", [{"finding_id": "f_type", "decision": "reject"}])
    res, version = apply_run(run, tmp_path / "v2", accept=dec, all_above=0.85)
    assert [c.finding_id for c in res.changes] == ["f_shrink"]  # explicit reject wins
    assert version["all_above"] == 0.85


def test_review_apply_refuses_unsafe_out(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("x")
    for out in (tmp_path / "busy", tmp_path):
        with pytest.raises(SpanqaError) as e:
            apply_run(load_run(run_dir), out, all_above=0.5)
        assert e.value.code == "E505"


def test_review_apply_bad_decisions_are_coded(tmp_path):
    run_dir, _ = make_run(tmp_path)
    bad = _decisions(tmp_path / "d.csv", [{"finding_id": "f_type", "decision": "maybe"}])
    with pytest.raises(SpanqaError) as e:
        read_decisions(bad)
    assert e.value.code == "E504" and "d.csv:2" in str(e.value)
    (tmp_path / "d.jsonl").write_text('{"finding_id": "f_type", "decision": "accept", "start": "x"}\n')
    with pytest.raises(SpanqaError) as e:
        read_decisions(tmp_path / "d.jsonl")
    assert e.value.code == "E504"
    with pytest.raises(SpanqaError) as e:
        apply_run(load_run(run_dir), tmp_path / "v")
    assert e.value.code == "E504"


def test_review_apply_other_corpus_is_e506(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    run = load_run(run_dir)
    corpus = run.corpus()
    other = corpus.evolve(documents=tuple(d.evolve(text=d.text.upper()) for d in corpus.documents))
    with pytest.raises(SpanqaError) as e:
        apply_run(run.with_corpus(other), tmp_path / "v", all_above=0.5)
    assert e.value.code == "E506"


def test_review_apply_reads_back_csv_sheet_and_labelstudio(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    run = load_run(run_dir)
    # the exported sheet with two decisions filled in
    write_csv(run.corpus(), run.findings, tmp_path / "sheet.csv")
    rows = list(csv.DictReader((tmp_path / "sheet.csv").open()))
    for r in rows:
        r["decision"] = {"f_type": "accept", "f_spurious": "reject"}.get(r["finding_id"], "")
    with (tmp_path / "sheet.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    got, _ = read_decisions(tmp_path / "sheet.csv")
    assert sorted((d.finding_id, d.decision) for d in got) == [("f_spurious", "reject"), ("f_type", "accept")]
    # Label Studio: accept the prediction on n2 and n1, keep n3 as labelled, edit n4 by hand
    tasks = labelstudio_tasks(run.corpus(), run.findings)
    for t in tasks:
        doc = t["data"]["doc_id"]
        if doc in ("n2", "n1"):
            t["annotations"].append({"completed_by": {"email": "ana@x"}, "updated_at": "2024-05-01T10:00:00Z",
                                     "result": t["predictions"][0]["result"]})
        if doc == "n3":  # opened and kept as labelled (Update without a change): a rejection
            t["annotations"][0].update(lead_time=14.2, updated_by=2)
        if doc == "n4":
            res = [dict(r, value=dict(r["value"])) for r in t["annotations"][0]["result"]]
            res[0]["value"].update(end=20, labels=["Brand"])
            t["annotations"][0]["result"] = res
    (tmp_path / "ls.json").write_text(json.dumps(tasks))
    got, problems = read_decisions(tmp_path / "ls.json", run=run)
    by = {d.finding_id: d for d in got}
    assert by["f_type"].decision == "accept" and by["f_type"].reviewer == "ana@x"
    assert by["f_shrink"].decision == "accept" and by["f_shrink2"].decision == "accept"
    assert by["f_spurious"].decision == "reject" and by["f_missing"].decision == "reject"
    assert by["f_conflict_a"].spans == by["f_conflict_b"].spans == ((8, 20, "Brand"),)  # both: the edited span
    assert by["f_conflict_a"].reason == "edited in Label Studio"
    res = apply_decisions(run, got)
    assert res.corpus["n1"].spans[0].key == (11, 18, "Drug")


def test_review_apply_reports_relations_to_removed_spans(tmp_path):
    run_dir, cpath = make_run(tmp_path, corpus_format="brat")
    ann = cpath / "n3.ann"
    lines = ann.read_text().splitlines()
    taking = next(line.split("\t")[0] for line in lines if "\tDisease 19 25\t" in line)
    drug = next(line.split("\t")[0] for line in lines if "\tDrug 26 35\t" in line)
    ann.write_text("\n".join(lines + [f"R1\tTreats Arg1:{drug} Arg2:{taking}"]) + "\n")
    res = apply_decisions(load_run(run_dir), [Decision("f_spurious", "accept")])
    w = [p for p in res.problems if p.code == "W508"]
    assert len(w) == 1 and f"removed {taking}" in w[0].detail and "R1" in w[0].detail


def test_review_csv_cells_cannot_run_as_formulas_and_read_back_unchanged(tmp_path):
    from dataclasses import replace

    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    hostile = [replace(f, stored_id=f"-{f.id}" if i == 0 else f"={f.id}" if i == 1 else f.id,
                       message='=HYPERLINK("http://evil.example","x")' if i == 0 else f.message)
               for i, f in enumerate(run.findings)]
    write_csv(run.corpus(), hostile, tmp_path / "sheet.csv")
    rows = list(csv.DictReader((tmp_path / "sheet.csv").open()))
    cells = [v for r in rows for v in r.values()]
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in cells)   # every formula is quoted
    assert any(v == "'=HYPERLINK(\"http://evil.example\",\"x\")" for v in cells)
    for r in rows:
        r["decision"] = "accept" if r["finding_id"] in (f"'-{hostile[0].id[1:]}", f"'={hostile[1].id[1:]}") else ""
    with (tmp_path / "sheet.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    got, _ = read_decisions(tmp_path / "sheet.csv")
    assert sorted(d.finding_id for d in got) == sorted([hostile[0].id, hostile[1].id])   # the quote is gone again


def test_review_cells_doctests():
    import doctest

    import spanqa.review.cells as cells

    assert doctest.testmod(cells).failed == 0
