"""Hostile review files, damaged run folders and unsafe outputs, through the console entry point.

Every case runs ``spanqa.cli.main`` as a user would and asserts the exit status, the
exact code on stderr and that no Python traceback is printed.  The run-folder cases
damage a finished tiny audit and check that the rerun recomputes (``W406``) and
writes the very same findings.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from test_review_run import SPANS, TEXTS, make_run

from spanqa.cli import main

TINY = ["--set", "model.init='random_tiny'", "--set", "train.folds=2", "--set", "train.epochs=1"]


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """``(exit status, stdout + stderr)`` of ``spanqa ARGS``; no traceback may appear."""
    code = 0
    try:
        main([str(a) for a in args])
    except SystemExit as ex:
        code = int(ex.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    return code, out + err


def coded(args: list[str], code: str, capsys) -> str:
    status, text = run_cli(args, capsys)
    assert status == 2 and f"error {code}" in text, text[-800:]
    return text


# --------------------------------------------------------------------------- damaged run folders (resume)
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished tiny audit of the four review notes: (corpus path, run folder, findings bytes)."""
    root = tmp_path_factory.mktemp("finished")
    corpus = root / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": d, "text": TEXTS[d], "spans": [
        {"start": a, "end": b, "label": lab} for a, b, lab in SPANS[d]]}) + "\n" for d in TEXTS))
    run = root / "run"
    with pytest.raises(SystemExit) as ex:
        main(["audit", str(corpus), "--out", str(run), "-q", *TINY])
    assert ex.value.code in (0, None)
    return corpus, run, (run / "findings.jsonl").read_bytes()


def _cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def _features(run: Path) -> Path:
    return next((run / "features").glob("*.npy"))


DAMAGE = {
    "fold-truncated": lambda r: _cut(r / "folds" / "fold_0.npz", 200),
    "fold-emptied": lambda r: _cut(r / "folds" / "fold_1.npz", 0),
    "fold-garbage": lambda r: (r / "folds" / "fold_0.npz").write_bytes(b"PK\x03\x04 not a zip at all" * 10),
    "fold-and-features-truncated": lambda r: (_cut(r / "folds" / "fold_1.npz", 1000),
                                              _cut(_features(r), _features(r).stat().st_size // 2)),
    "fingerprint-not-json": lambda r: (r / "fingerprint.json").write_text("{not json"),
    "fingerprint-a-list": lambda r: (r / "fingerprint.json").write_text("[1, 2]"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_hostile_damaged_run_folder_resumes_with_W406_and_the_same_findings(damage, finished_run, tmp_path, capsys):
    corpus, run, findings = finished_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    DAMAGE[damage](copy)
    status, text = run_cli(["audit", corpus, "--out", copy, "-q", *TINY], capsys)
    assert status == 0, text
    problems = [json.loads(line) for line in (copy / "problems.jsonl").read_text().splitlines()]
    assert "W406" in {p["code"] for p in problems}, problems
    assert list(copy.rglob("*.damaged")), "the damaged file is set aside for a post-mortem"
    assert (copy / "findings.jsonl").read_bytes() == findings


def test_hostile_audit_out_inside_the_corpus_folder_E505(tmp_path, capsys):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "c.jsonl").write_text('{"id": "a", "text": "aspirin", "spans": []}\n')
    coded(["audit", folder, "--out", folder / "run", "-q", *TINY], "E505", capsys)
    assert not (folder / "run").exists()


def test_hostile_audit_nul_in_one_note_costs_that_character_not_the_audit(tmp_path, capsys):
    path = tmp_path / "c.jsonl"
    rows = [{"id": f"n{i}", "text": "Pt on aspirin 81mg daily.", "spans": [{"start": 6, "end": 13, "label": "Drug"}]}
            for i in range(6)]
    rows[2]["text"] = "Pt on aspirin 81mg\u0000daily."
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    status, text = run_cli(["audit", path, "--out", tmp_path / "run", "-q", *TINY], capsys)
    assert status in (0, 1) and (tmp_path / "run" / "findings.jsonl").is_file(), text
    problems = [json.loads(x) for x in (tmp_path / "run" / "problems.jsonl").read_text().splitlines()]
    w = [p for p in problems if p["code"] == "W112"]
    assert len(w) == 1 and w[0]["where"]["doc_id"] == "n2" and w[0]["where"]["start"] == 18
    spans = [json.loads(x) for x in (tmp_path / "run" / "spans.jsonl").read_text().splitlines()]
    assert sorted({s["doc_id"] for s in spans}) == [f"n{i}" for i in range(6)]  # every note audited


def test_hostile_dangling_symlink_out_is_named_as_such(tmp_path, capsys):
    """It used to say "File exists"."""
    run_dir, cpath = make_run(tmp_path)
    (tmp_path / "out").symlink_to(tmp_path / "nowhere")
    for args, code in ((["apply", run_dir, "--all-above", "0", "--out", tmp_path / "out"], "E411"),
                       (["audit", cpath, "--out", tmp_path / "out", "-q", *TINY], "E408")):
        text = coded(args, code, capsys)
        assert "is a symlink to" in text and "which does not exist" in text and "File exists" not in text


def test_hostile_audit_nul_in_id_E115_and_pipe_E116(tmp_path, capsys):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a\\u0000", "text": "aspirin", "spans": []}\n')
    coded(["audit", path, "--out", tmp_path / "run", "-q", *TINY], "E115", capsys)
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    coded(["check", fifo], "E116", capsys)
    coded(["audit", fifo, "--out", tmp_path / "run2", "-q"], "E116", capsys)


# --------------------------------------------------------------------------- damaged run files (report/export)
def _findings_line(run: Path, line: bytes) -> None:
    with (run / "findings.jsonl").open("ab") as fh:
        fh.write(line + b"\n")


RUN_DAMAGE = {
    "findings-not-json": ("E502", lambda r: _findings_line(r, b"{not json")),
    "findings-not-utf8": ("E502", lambda r: _findings_line(r, b'{"id": "x\xff"}')),
    "findings-duplicate-key": ("E502", lambda r: _findings_line(r, b'{"id": "x", "id": "y", "doc_id": "n1"}')),
    "findings-array-line": ("E502", lambda r: _findings_line(r, b"[1]")),
    "findings-no-id": ("E502", lambda r: _findings_line(r, b'{"doc_id": "n1"}')),
    "findings-deep": ("E502", lambda r: _findings_line(r, b'{"id": "x", "doc_id": "n1", "e": ' + b"[" * 50_000
                                                       + b"]" * 50_000 + b"}")),
    "findings-score-string": ("E502", lambda r: _findings_line(r, b'{"id": "x", "doc_id": "n1", "score": "0.1"}')),
    "findings-score-above-1": ("E502", lambda r: _findings_line(r, b'{"id": "x", "doc_id": "n1", "score": 7}')),
    "findings-labels-object": ("E502", lambda r: _findings_line(r, b'{"id": "x", "doc_id": "n1", "labels": {}}')),
    "summary-missing": ("E501", lambda r: (r / "summary.json").unlink()),
    "summary-not-json": ("E502", lambda r: (r / "summary.json").write_text("{")),
    "summary-not-utf8": ("E502", lambda r: (r / "summary.json").write_bytes(b'{"a": "\xff"}')),
    "summary-a-list": ("E502", lambda r: (r / "summary.json").write_text("[]")),
    "findings-missing": ("E501", lambda r: (r / "findings.jsonl").unlink()),
}


@pytest.mark.parametrize("damage", sorted(RUN_DAMAGE))
@pytest.mark.parametrize("command", ["report", "export", "sample", "rerank", "estimate"])
def test_hostile_damaged_run_file(damage, command, tmp_path, capsys):
    code, hurt = RUN_DAMAGE[damage]
    run_dir, _ = make_run(tmp_path)
    hurt(run_dir)
    (tmp_path / "d.csv").write_text("finding_id,decision\nf_type,accept\n")
    args = {"report": ["report", run_dir, "--out", tmp_path / "r.html"],
            "export": ["export", run_dir, "--to", "csv", "--out", tmp_path / "x.csv"],
            "sample": ["sample", run_dir, "--out", tmp_path / "s.csv"],
            "rerank": ["rerank", run_dir, "--decisions", tmp_path / "d.csv"],
            "estimate": ["estimate", run_dir, "--decisions", tmp_path / "d.csv"]}[command]
    coded(args, code, capsys)


# --------------------------------------------------------------------------- decision files (apply)
def _apply(run_dir: Path, decisions: Path, out: Path) -> list[str]:
    return ["apply", run_dir, "--accept", decisions, "--out", out]


LS_TASK = {"id": 1, "data": {"doc_id": "n1", "text": TEXTS["n1"]}, "annotations": [{"id": 1, "result": [
    {"id": "r", "type": "labels", "from_name": "label", "to_name": "text", "value": None}]}]}


def _ls(value) -> bytes:
    task = json.loads(json.dumps(LS_TASK))
    task["annotations"][0]["result"][0]["value"] = value
    return json.dumps([task]).encode()


DECISIONS = {
    "csv-not-utf8": ("x.csv", b"finding_id,decision\nf_type,acc\xe9pt\n", "E504"),
    "csv-no-decision-column": ("x.csv", b"finding_id,verdict\nf_type,accept\n", "E504"),
    "csv-unknown-decision": ("x.csv", b"finding_id,decision\nf_type,maybe\n", "E504"),
    "csv-start-not-a-number": ("x.csv", b"finding_id,decision,start\nf_type,accept,six\n", "E504"),
    "csv-start-arabic-digit": ("x.csv", "finding_id,decision,start\nf_type,accept,\u0663\n".encode(), "E504"),
    "csv-end-before-start": ("x.csv", b"finding_id,decision,start,end\nf_type,accept,20,10\n", "E504"),
    "jsonl-not-utf8": ("x.jsonl", b'{"finding_id": "f_type", "decision": "accept\xff"}\n', "E504"),
    "jsonl-not-json": ("x.jsonl", b'{"finding_id": "f_type", "decision": \n', "E504"),
    "jsonl-duplicate-key": ("x.jsonl", b'{"finding_id": "f_type", "decision": "accept", "decision": "reject"}\n',
                            "E504"),
    "jsonl-array-line": ("x.jsonl", b'["f_type", "accept"]\n', "E504"),
    "jsonl-boolean-start": ("x.jsonl", b'{"finding_id": "f_type", "decision": "accept", "start": true}\n', "E504"),
    "jsonl-deep": ("x.jsonl", b'{"finding_id": "f_type", "decision": "accept", "x": ' + b"[" * 50_000
                   + b"]" * 50_000 + b"}\n", "E504"),
    "json-not-a-list": ("x.json", b'{"finding_id": "f_type"}', "E504"),
    "labelstudio-region-without-end": ("x.json", _ls({"start": 11, "labels": ["Drug"]}), "E504"),
    "labelstudio-start-not-a-number": ("x.json", _ls({"start": "a", "end": 23, "labels": ["Drug"]}), "E504"),
    "labelstudio-boolean-end": ("x.json", _ls({"start": 11, "end": True, "labels": ["Drug"]}), "E504"),
    "labelstudio-labels-not-a-list": ("x.json", _ls({"start": 11, "end": 23, "labels": "Drug"}), "E504"),
}


@pytest.mark.parametrize("case", sorted(DECISIONS))
def test_hostile_decision_file(case, tmp_path, capsys):
    name, data, code = DECISIONS[case]
    run_dir, _ = make_run(tmp_path)
    path = tmp_path / name
    path.write_bytes(data)
    coded(_apply(run_dir, path, tmp_path / "v2"), code, capsys)
    assert not (tmp_path / "v2").exists() or not any((tmp_path / "v2").iterdir())
    before = (run_dir / "findings.jsonl").read_bytes()
    coded(["rerank", run_dir, "--decisions", path], code, capsys)   # the same reader, the same code
    assert (run_dir / "findings.jsonl").read_bytes() == before      # nothing rewritten


def _sheet(tmp_path: Path, capsys) -> Path:
    run_dir, _ = make_run(tmp_path)
    sheet = tmp_path / "s.csv"
    status, text = run_cli(["sample", run_dir, "--design", "stratified", "--n", "4", "--sentences", "2",
                            "--out", sheet], capsys)
    assert status == 0, text
    return run_dir, sheet


SHEETS = {  # a filled-in stratified sample that estimate cannot read: E508 with the file (and line)
    "design-missing": lambda s: s.with_name("s.design.json").unlink(),
    "design-not-json": lambda s: s.with_name("s.design.json").write_text("{"),
    "design-not-utf8": lambda s: s.with_name("s.design.json").write_bytes(b'{"a": "\xff"}'),
    "design-wrong-shape": lambda s: s.with_name("s.design.json").write_text('{"span_sizes": 3}'),
    "sheet-not-utf8": lambda s: s.write_bytes(s.read_bytes() + b"\xff\n"),
    "unit-not-in-design": lambda s: s.write_text(s.read_text() + "S999,span,n1,0,2,Drug,,,,,,,,,\n"),
    "verdict-maybe": lambda s: s.write_text(s.read_text().replace(",span,", ",span,", 1).replace(
        s.read_text().splitlines()[1], s.read_text().splitlines()[1].rsplit(",", 5)[0] + ",maybe,,,,", 1)),
    "missing-not-a-number": lambda s: s.write_text("\n".join(
        (ln.rsplit(",", 5)[0] + ",,,two,," if ",sentence," in ln else ln) for ln in s.read_text().splitlines()) + "\n"),
}


@pytest.mark.parametrize("case", sorted(SHEETS))
def test_hostile_estimate_sheet(case, tmp_path, capsys):
    run_dir, sheet = _sheet(tmp_path, capsys)
    SHEETS[case](sheet)
    text = coded(["estimate", run_dir, "--decisions", sheet], "E508", capsys)
    assert "s.csv" in text or "s.design.json" in text


def test_hostile_jsonl_decision_with_raw_line_separator_is_read(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path)
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"finding_id": "f_type", "decision": "accept", "reason": "brand\u2028name"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    assert "\u2028" in path.read_text(encoding="utf-8")
    status, text = run_cli(_apply(run_dir, path, tmp_path / "v2"), capsys)
    assert status == 0, text
    assert json.loads((tmp_path / "v2" / "VERSION.json").read_text())["counts"]["accepted"] == 1


def test_hostile_override_outside_the_document_is_W510(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path)
    path = tmp_path / "d.csv"
    path.write_text("finding_id,decision,start,end\nf_type,accept,11,9999\n")
    status, text = run_cli(_apply(run_dir, path, tmp_path / "v2"), capsys)
    assert status == 1 and "could not be applied (W510)" in text, text  # the version is written, the exit says so
    problems = [json.loads(line) for line in (tmp_path / "v2" / "problems.jsonl").read_text().splitlines()]
    assert [p["code"] for p in problems] == ["W510"]


# --------------------------------------------------------------------------- outputs: links, disks, permissions
def test_hostile_apply_into_reused_out_refuses_a_symlink_out_of_it_E410(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path)
    path = tmp_path / "d.csv"
    path.write_text("finding_id,decision\nf_type,accept\n")
    out = tmp_path / "v2"
    assert run_cli(_apply(run_dir, path, out), capsys)[0] == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "changelog.jsonl").unlink()
    os.symlink(victim, out / "changelog.jsonl")  # someone left a link in the reused folder
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.is_symlink()}
    coded(_apply(run_dir, path, out), "E410", capsys)
    assert victim.read_text() == "precious"  # and the folder is as it was: refused before anything was written
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.is_symlink()} == before


def test_hostile_export_brat_into_a_symlinked_sub_folder_E410(tmp_path, capsys):
    run_dir, cpath = make_run(tmp_path)
    lines = cpath.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["id"] = "ward/n1"
    cpath.write_text("\n".join([json.dumps(rec)] + lines[1:]) + "\n")
    findings = [json.loads(x) for x in (run_dir / "findings.jsonl").read_text().splitlines()]
    for f in findings:
        if f["doc_id"] == "n1":
            f["doc_id"] = "ward/n1"
    (run_dir / "findings.jsonl").write_text("".join(json.dumps(f) + "\n" for f in findings))
    out = tmp_path / "brat"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "ward")
    coded(["export", run_dir, "--to", "brat", "--out", out], "E410", capsys)
    assert list(elsewhere.iterdir()) == []


def test_hostile_brat_export_that_cannot_hold_a_label_writes_nothing(tmp_path, capsys):
    run_dir, cpath = make_run(tmp_path)
    cpath.write_text(cpath.read_text().replace('"label": "Test"', '"label": "Lab test"'))
    out = tmp_path / "brat"
    coded(["export", run_dir, "--to", "brat", "--out", out], "E112", capsys)
    assert not out.exists() or not list(out.rglob("*.txt")), "no half-written folder"


class _FullDisk:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._fh, name)


@pytest.mark.parametrize("command", ["report", "export"])
def test_hostile_full_disk_E409_names_the_bytes_and_leaves_no_temp_file(command, tmp_path, capsys, monkeypatch):
    import spanqa.core.output as output

    run_dir, _ = make_run(tmp_path)
    real = os.fdopen
    monkeypatch.setattr(output.os, "fdopen", lambda *a, **k: _FullDisk(real(*a, **k)))
    target = tmp_path / "out" / ("r.html" if command == "report" else "x.csv")
    args = ["report", run_dir, "--out", target] if command == "report" else \
        ["export", run_dir, "--to", "csv", "--out", target]
    text = coded(args, "E409", capsys)
    assert "bytes" in text and "free" in text
    assert list(target.parent.iterdir()) == []


def test_hostile_permission_denied_E411(tmp_path, capsys, monkeypatch):
    import spanqa.core.output as output

    run_dir, _ = make_run(tmp_path)

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(k.get("dir", "")))

    monkeypatch.setattr(output.tempfile, "mkstemp", denied)
    coded(["report", run_dir, "--out", tmp_path / "r.html"], "E411", capsys)


def test_hostile_report_into_a_missing_folder_creates_it(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path)
    status, text = run_cli(["report", run_dir, "--out", tmp_path / "new" / "deep" / "r.html"], capsys)
    assert status == 0 and (tmp_path / "new" / "deep" / "r.html").is_file(), text


def test_hostile_report_on_a_changed_corpus_warns_W509(tmp_path, capsys):
    run_dir, cpath = make_run(tmp_path)
    cpath.write_text(cpath.read_text().replace("Coumadin", "Warfarin"))
    status, text = run_cli(["report", run_dir, "--out", tmp_path / "r.html"], capsys)
    assert status == 0 and "W509" in text
    assert "W509" in (tmp_path / "r.html").read_text()
    status, text = run_cli(["export", run_dir, "--to", "csv", "--out", tmp_path / "x.csv"], capsys)
    assert status == 0 and "W509" in text


def test_hostile_findings_damaged_after_the_audit_are_blamed_on_the_findings_W515(tmp_path, capsys):
    """The corpus is the audited one (its hash is in summary.json): a finding that no longer matches it was edited."""
    from spanqa.core.document import corpus_hash
    from spanqa.corpus.formats import read_corpus

    run_dir, cpath = make_run(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["corpus"] = dict(summary.get("corpus") or {}, path=str(cpath), format="jsonl",
                             hash=corpus_hash(read_corpus(cpath)))
    (run_dir / "summary.json").write_text(json.dumps(summary))
    lines = (run_dir / "findings.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    rec["labels"][0]["text"] = "something else entirely"
    (run_dir / "findings.jsonl").write_text("\n".join([json.dumps(rec)] + lines[1:]) + "\n")
    status, text = run_cli(["report", run_dir, "--out", tmp_path / "r.html"], capsys)
    assert status == 0 and "W515" in text and "W509" not in text and "findings.jsonl" in text
    cpath.write_text(cpath.read_text().replace("Coumadin", "Warfarin"))  # now the corpus did change: W509
    status, text = run_cli(["report", run_dir, "--out", tmp_path / "r2.html"], capsys)
    assert status == 0 and "W509" in text


# --------------------------------------------------------------------------- the guard itself
def test_hostile_unexpected_exception_is_E900_with_where_and_debug_traceback(tmp_path, capsys, monkeypatch):
    import spanqa.cli.report as cli_report

    run_dir, _ = make_run(tmp_path)

    def broken(*a, **k):
        raise ValueError("something nobody foresaw")

    monkeypatch.setattr(cli_report, "write_report", broken)
    text = coded(["report", run_dir], "E900", capsys)
    assert "ValueError: something nobody foresaw in report.py:" in text  # the innermost frame of spanqa's code
    assert "SPANQA_DEBUG=1" in text
    monkeypatch.setenv("SPANQA_DEBUG", "1")
    with pytest.raises(ValueError):
        main(["report", str(run_dir)])


def test_hostile_written_files_get_the_usual_mode_not_mkstemps_0600(tmp_path):
    from spanqa.core.output import write_text

    mask = os.umask(0o022)
    os.umask(mask)
    path = write_text(tmp_path / "a.txt", "x")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_hostile_review_records_for_unknown_documents_are_W503_and_bad_argilla_responses_E504(tmp_path, capsys):
    run_dir, _ = make_run(tmp_path)
    ls = tmp_path / "ls.json"
    ls.write_text(json.dumps([{"id": 7, "data": {"doc_id": "nope", "text": "x"}, "annotations": []}]))
    # a review file from which no decision comes is an error naming why, never a version identical to its parent
    err = coded(_apply(run_dir, ls, tmp_path / "v1"), "E504", capsys)
    assert "W503 x1" in err and not (tmp_path / "v1").exists()
    ar = tmp_path / "ar.json"
    ar.write_text(json.dumps([{"id": "x", "fields": {}, "metadata": {"doc_id": "elsewhere"}, "responses": {}}]))
    assert "W503 x1" in coded(_apply(run_dir, ar, tmp_path / "v2"), "E504", capsys)
    ar.write_text(json.dumps([{"id": "n1", "fields": {}, "metadata": {"doc_id": "n1"}, "responses": 5}]))
    assert "W514 x1" in coded(_apply(run_dir, ar, tmp_path / "v3"), "E504", capsys)
