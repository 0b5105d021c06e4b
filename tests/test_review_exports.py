"""``spanqa export``: Label Studio tasks, brat with AnnotatorNotes, CSV sheet - shapes and read-back."""

from __future__ import annotations

import csv
import json

from test_review_run import TEXTS, make_run

from spanqa.corpus.formats import read_corpus
from spanqa.review.exports import CSV_COLUMNS, export_run, labelstudio_tasks
from spanqa.run.reader import load_run


def _check_region(r: dict, text: str, *, scored: bool) -> None:
    """One Label Studio region of a text NER project (labels on a Text tag)."""
    assert set(r) >= {"id", "from_name", "to_name", "type", "value"}
    assert isinstance(r["id"], str) and r["id"]
    assert (r["from_name"], r["to_name"], r["type"]) == ("label", "text", "labels")
    v = r["value"]
    assert isinstance(v["start"], int) and isinstance(v["end"], int) and 0 <= v["start"] < v["end"] <= len(text)
    assert v["text"] == text[v["start"]:v["end"]]
    assert isinstance(v["labels"], list) and len(v["labels"]) == 1 and isinstance(v["labels"][0], str)
    if scored:
        assert 0.0 <= r["score"] <= 1.0
    if "meta" in r:
        assert isinstance(r["meta"]["text"], list) and all(isinstance(x, str) for x in r["meta"]["text"])


def test_review_exports_labelstudio_task_format(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    out = tmp_path / "tasks.json"
    counts = export_run(run, "labelstudio", out)
    tasks = json.loads(out.read_text())
    assert counts == {"tasks": 4, "findings": 9} and isinstance(tasks, list)
    for t in tasks:
        text = t["data"]["text"]
        assert text == TEXTS[t["data"]["doc_id"]]
        assert len(t["annotations"]) == 1
        ids = [r["id"] for r in t["annotations"][0]["result"]]
        assert len(ids) == len(set(ids))
        for r in t["annotations"][0]["result"]:
            _check_region(r, text, scored=False)
        for p in t.get("predictions", []):
            assert p["model_version"] == "spanqa-0.1.0" and 0 <= p["score"] <= 1
            assert len({r["id"] for r in p["result"]}) == len(p["result"])
            for r in p["result"]:
                _check_region(r, text, scored=True)
    n2 = next(t for t in tasks if t["data"]["doc_id"] == "n2")
    coumadin = n2["annotations"][0]["result"][0]
    assert coumadin["value"]["labels"] == ["Drug"] and coumadin["meta"]["text"][0].startswith("f_type: ")
    sug = next(r for r in n2["predictions"][0]["result"] if r["value"]["start"] == 0)
    assert sug["value"]["labels"] == ["Brand"] and sug["score"] == 0.93 and n2["predictions"][0]["score"] == 0.93
    unchanged = next(r for r in n2["predictions"][0]["result"] if r["value"]["start"] == 20)
    assert unchanged["score"] == 0.5  # its quality from spans.jsonl
    # n4's two findings conflict: no prediction is made for them
    n4 = next(t for t in tasks if t["data"]["doc_id"] == "n4")
    assert "predictions" not in n4 and len(n4["data"]["findings"]) == 2
    # spanqa's own Label Studio reader reads the annotations back as the corpus, the predictions as the fixes
    labels = read_corpus(out, "labelstudio")
    preds = read_corpus(out, "labelstudio", source="predictions")
    assert [[s.key for s in d.spans] for d in labels] == [[s.key for s in run.corpus()[t["data"]["doc_id"]].spans]
                                                          for t in tasks]
    n1_pred = [s.key for s in preds.documents[0].spans]
    assert (11, 18, "Drug") in n1_pred and (51, 67, "Drug") in n1_pred
    assert "<Label value=\"Brand\"/>" in (tmp_path / "tasks.config.xml").read_text()


def test_review_exports_brat_notes_and_suggested_folder(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    counts = export_run(run, "brat", tmp_path / "brat", suggested_out=tmp_path / "brat_sug")
    assert counts["documents"] == 4 and counts["without_labelled_span"] == 2  # missing + note-level finding
    ann = (tmp_path / "brat" / "n2.ann").read_text().splitlines()
    t_line = next(line for line in ann if line.startswith("T") and "\tDrug 0 8\t" in line)
    tid = t_line.split("\t")[0]
    notes = [line for line in ann if line.startswith("#")]
    assert notes == [f"#1\tAnnotatorNotes {tid}\tf_type: The model is 93% confident 'Coumadin' is a Brand, "
                     "while the label calls it a Drug. Could we review it together?"]
    back = read_corpus(tmp_path / "brat", "brat")
    assert [[s.key for s in d.spans] for d in back] == [[s.key for s in run.corpus()[d.id].spans] for d in back]
    n4 = back["n4"]
    note = next(s.meta["note"] for s in n4.spans if s.start == 8)
    assert note.startswith("f_conflict_a: ") and " | f_conflict_b: " in note  # one line for two findings
    assert "Brand" in (tmp_path / "brat" / "annotation.conf").read_text()
    sug = read_corpus(tmp_path / "brat_sug", "brat")
    lis = next(s for s in sug["n3"].spans if s.start == 40)
    assert lis.label == "Drug" and lis.meta["note"].startswith("f_missing: suggested")


def test_review_exports_csv_sheet(tmp_path):
    run_dir, _ = make_run(tmp_path)
    export_run(load_run(run_dir), "csv", tmp_path / "sheet.csv")
    rows = list(csv.DictReader((tmp_path / "sheet.csv").open()))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 9
    assert [float(r["score"]) for r in rows] == sorted(float(r["score"]) for r in rows)
    first = rows[0]
    assert first["finding_id"] == "f_type" and first["labelled"] == '0-8 Drug "Coumadin"'
    assert first["suggested"] == '0-8 Brand "Coumadin"' and "[[Coumadin]]" in first["context"]
    assert all(r["decision"] == "" for r in rows)


def test_review_exports_all_documents_option(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    tasks = labelstudio_tasks(run.corpus(), run.findings[:1], all_documents=True)
    assert len(tasks) == 4 and sum(bool(t["data"]["findings"]) for t in tasks) == 1


def test_review_labelstudio_export_path_config_and_review_text(tmp_path):
    from test_review_run import make_run

    from spanqa.review.exports import labeling_config, labelstudio_path, labelstudio_tasks, review_text
    from spanqa.run.reader import load_run

    assert labelstudio_path(tmp_path) == tmp_path / "export.json"  # an existing folder
    assert labelstudio_path(tmp_path / "review") == tmp_path / "review" / "export.json"  # no suffix
    assert labelstudio_path(tmp_path / "tasks.JSON") == tmp_path / "tasks.JSON"
    run = load_run(make_run(tmp_path)[0])
    tasks = labelstudio_tasks(run.corpus(), run.findings)
    n1 = next(t for t in tasks if t["data"]["doc_id"] == "n1")
    mine = sorted((f for f in run.findings if f.doc_id == "n1"), key=lambda f: (f.score, f.start, f.id))
    assert n1["data"]["review"] == review_text(mine) and n1["data"]["review"].startswith("1. [")
    assert all(f.message in n1["data"]["review"] for f in mine)
    notes = [n for r in n1["predictions"][0]["result"] for n in r.get("meta", {}).get("text", [])]
    assert notes and all(" - " in n for n in notes)  # the review sentence, not only "suggested (kind, action)"
    config = labeling_config(["Drug"])
    assert '<Text name="review" value="$review"' in config and '<Text name="text" value="$text"/>' in config


def test_review_exports_top_and_max_score_choose_what_goes_out(tmp_path, capsys):
    """A review of the first N findings, or of those below a score, not all of them in one file."""
    from spanqa.cli import main

    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    counts = export_run(run, "csv", tmp_path / "top3.csv", top=3)
    rows = list(csv.DictReader((tmp_path / "top3.csv").open()))
    assert [r["finding_id"] for r in rows] == [f.id for f in run.findings[:3]] and counts["of_findings"] == 9
    cut = sorted(f.score for f in run.findings)[4]
    export_run(run, "csv", tmp_path / "low.csv", max_score=cut)
    rows = list(csv.DictReader((tmp_path / "low.csv").open()))
    assert {r["finding_id"] for r in rows} == {f.id for f in run.findings if f.score <= cut}
    import pytest

    with pytest.raises(SystemExit) as ex:
        main(["export", str(run_dir), "--to", "labelstudio", "--out", str(tmp_path / "ls"), "--top", "2"])
    assert ex.value.code == 0
    tasks = json.loads((tmp_path / "ls" / "export.json").read_text())
    assert sum(len(t["data"]["findings"]) for t in tasks) == 2
    assert "findings 2 of 9" in " ".join(capsys.readouterr().out.split())
