"""``spanqa check``: each W2xx code from a minimal corpus, the report's JSON shape, CLI exit codes."""

from __future__ import annotations

import json

import pytest
from conftest import corpus_path
from typer.testing import CliRunner

from spanqa.cli import main
from spanqa.cli._app import app
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem
from spanqa.core.span import Span
from spanqa.corpus.check import CheckReport, check_corpus

TEXT = "Pt took aspirin 81mg daily for chest pain."


def doc(spans, text=TEXT, doc_id="n1", **kw) -> Document:
    return Document(doc_id, text, tuple(Span(doc_id, *s) if isinstance(s, tuple) else s for s in spans), **kw)


def codes(report: CheckReport) -> dict[str, int]:
    return report.problems_by_code


def common_labels(n: int = 5) -> list[Document]:
    """Documents that make Drug frequent enough not to be rare."""
    return [doc([(8, 15, "Drug")], text=TEXT + f" #{i}", doc_id=f"c{i}") for i in range(n)]


def test_check_clean_corpus_has_no_problems():
    report = check_corpus(Corpus.from_docs(common_labels()))
    assert codes(report) == {} and report.ok
    assert report.documents == 5 and report.annotated == 5 and report.spans == 5
    assert report.span_words.median == 1 and report.span_chars.max == 7
    assert report.words == 5 * 12  # Pt took aspirin 81 mg daily for chest pain . # i
    assert report.sentence_source == "rule" and report.sentences == 5


def test_check_w201_overlaps_nested_and_crossing():
    # "aspirin 81mg" > "aspirin"; "81mg daily" crosses "aspirin 81mg" and holds "daily"
    d = doc([(8, 20, "Drug"), (8, 15, "Drug"), (16, 26, "Dose"), (21, 26, "Freq"), (31, 41, "Problem")])
    report = check_corpus(Corpus.from_docs([d, *common_labels()]), rare_threshold=1)
    assert codes(report) == {"W201": 3}
    assert report.nested == 2 and report.crossing == 1 and report.overlapping == 4
    details = [p.detail for p in report.problems]
    assert any(x.startswith("crossing: Drug 8-20") for x in details)
    p = report.problems[0]
    assert p.where.doc_id == "n1" and p.where.start is not None and p.where.excerpt
    # the layers the audit will judge them in: Drug and Dose overlap, Dose and Freq overlap
    layers = [set(x) for x in report.layers]
    assert len(layers) >= 2 and not any({"Drug", "Dose"} <= x or {"Dose", "Freq"} <= x for x in layers)
    assert report.to_dict()["layers"] == [list(x) for x in report.layers]


def test_check_w202_discontinuous():
    s = Span("n1", 21, 41, "Problem", fragments=((21, 26), (37, 41)))
    report = check_corpus(Corpus.from_docs([doc([s])]), rare_threshold=1)
    assert codes(report) == {"W202": 1} and report.discontinuous == 1
    assert report.problems[0].where.excerpt == "daily ... pain"
    assert report.span_words.max == 2 and report.span_chars.max == 9


def test_check_w203_edge_inside_word():
    report = check_corpus(Corpus.from_docs([doc([(8, 12, "Drug")])]), rare_threshold=1)
    assert codes(report) == {"W203": 1} and report.cross_token_edges == 1
    assert "end 12 splits word 'aspirin'" in report.problems[0].detail


def test_check_w204_w205_empty_and_duplicate_documents():
    docs = [Document("e", "", ()), Document("w", " \n ", ()), doc([], doc_id="a"), doc([], doc_id="b"),
            Document("u", "not annotated", None)]
    report = check_corpus(Corpus.from_docs(docs))
    assert codes(report) == {"W204": 2, "W205": 1}
    assert (report.empty, report.duplicate, report.not_annotated, report.annotated) == (2, 1, 1, 4)
    dup = next(p for p in report.problems if p.code == "W205")
    assert dup.where.doc_id == "b" and "document a" in dup.detail


def test_check_w206_rare_label_threshold():
    docs = [*common_labels(5), doc([(31, 41, "Problem")], doc_id="p")]
    report = check_corpus(Corpus.from_docs(docs))
    assert codes(report) == {"W206": 1} and report.rare_labels == ("Problem",)
    assert "1 span(s)" in report.problems[0].detail
    assert check_corpus(Corpus.from_docs(docs), rare_threshold=1).rare_labels == ()


def test_check_w207_whitespace_edge():
    report = check_corpus(Corpus.from_docs([doc([(7, 15, "Drug")])]), rare_threshold=1)
    assert codes(report) == {"W207": 1} and report.whitespace_edges == 1
    assert "starts with ' ' at 7" in report.problems[0].detail


def test_check_w208_duplicate_span_counted_once():
    report = check_corpus(Corpus.from_docs([doc([(8, 15, "Drug"), (8, 15, "Drug"), (8, 15, "Drug")])]),
                          rare_threshold=1)
    assert codes(report) == {"W208": 2} and report.duplicate_spans == 2 and report.overlapping == 0
    # same extent, other label: an overlap (nested), not a duplicate
    report = check_corpus(Corpus.from_docs([doc([(8, 15, "Drug"), (8, 15, "Treatment")])]), rare_threshold=1)
    assert codes(report) == {"W201": 1} and "same extent" in report.problems[0].detail


def test_check_w209_label_with_whitespace():
    report = check_corpus(Corpus.from_docs([doc([(8, 15, "Drug name")])]), rare_threshold=1)
    assert codes(report) == {"W209": 1} and "'Drug name'" in report.problems[0].detail


def test_check_invalid_spans_are_errors_and_skipped():
    d = doc([(8, 99, "Drug"), (8, 8, "Drug"), (8, 15, "")])
    report = check_corpus(Corpus.from_docs([d]), rare_threshold=1)
    assert codes(report) == {"E201": 1, "E203": 1, "E204": 1} and not report.ok and report.spans == 0


def test_check_reader_problems_come_first_and_decide_ok():
    read_err = Problem("E202", Location(path="x.ann", line=3, doc_id="n1", start=0, end=2), "mismatch")
    corpus = Corpus.from_docs(common_labels(), problems=(read_err,))
    report = check_corpus(corpus)
    assert report.problems[0] is read_err and not report.ok and report.errors == 1


def test_check_source_gives_path_line_and_sentences():
    d = doc([(8, 15, "Drug")], source="notes/a.conll:12", tokens=((0, 2), (3, 7), (8, 15), (16, 42)),
            sentences=((0, 42),))
    report = check_corpus(Corpus.from_docs([d]))
    p = report.problems[0]
    assert (p.where.path, p.where.line) == ("notes/a.conll", 12)
    assert report.words == 4 and report.sentences == 1 and report.sentence_source == "source"


def test_check_to_dict_shape_is_json_ready():
    docs = [*common_labels(), doc([(8, 12, "Drug"), (8, 12, "Drug")], doc_id="x")]
    d = check_corpus(Corpus.from_docs(docs, source="mem", format="jsonl")).to_dict()
    json.dumps(d)
    assert set(d) >= {"source", "format", "ok", "errors", "warnings", "documents", "words", "sentences", "spans",
                      "span_length", "rare_labels", "problems_by_code", "problems"}
    assert d["documents"] == {"total": 6, "annotated": 6, "not_annotated": 0, "empty": 0, "duplicate": 0}
    assert d["spans"]["per_label"] == {"Drug": 7} and d["spans"]["duplicate"] == 1
    assert set(d["span_length"]["words"]) == {"count", "min", "median", "p95", "max", "histogram"}
    assert d["span_length"]["words"]["histogram"][0] == {"bin": "1", "count": 7}
    assert d["problems_by_code"] == {"W203": 1, "W208": 1}
    assert d["problems"][0]["where"]["doc_id"] == "x" and d["problems"][0]["remedy"]
    one = check_corpus(Corpus.from_docs(docs)).to_dict(max_per_code=0)
    assert one["problems"] == [] and one["problems_by_code"] == {"W203": 1, "W208": 1}


# --------------------------------------------------------------------------- CLI
def _jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_check_cli_json_and_exit_codes(tmp_path):
    good = _jsonl(tmp_path / "good.jsonl", [
        {"id": f"d{i}", "text": TEXT, "spans": [{"start": 8, "end": 15, "label": "Drug"}]} for i in range(5)])
    runner = CliRunner()
    res = runner.invoke(app, ["check", str(good), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["ok"] and out["documents"]["total"] == 5 and out["problems_by_code"] == {"W205": 4}
    res = runner.invoke(app, ["check", str(good)])
    assert res.exit_code == 0 and "W205" in res.output and "OK: no errors" in res.output

    bad = _jsonl(tmp_path / "bad.jsonl", [{"id": "d", "text": TEXT, "spans": [{"start": 8, "end": 99, "label": "Drug"}]}])
    res = runner.invoke(app, ["check", str(bad), "--json"])
    assert res.exit_code == 1
    assert json.loads(res.output)["problems_by_code"].get("E201") == 1
    res = runner.invoke(app, ["check", str(bad)])
    assert res.exit_code == 1 and "E201" in res.output and "fix:" in res.output


def test_check_cli_brat_folder(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "a.ann").write_text("T1\tDrug 8 12\taspi\nT2\tDrug 8 15\taspirin\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(tmp_path), "--json", "--max-problems", "1"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["format"] == "brat" and out["problems_by_code"]["W203"] == 1
    assert out["problems"][0]["where"]["path"].endswith("a.txt") or out["problems"][0]["where"]["path"].endswith("a.ann")


def test_check_cli_missing_path_and_bad_option_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", str(tmp_path / "nope.jsonl")])
    assert exc.value.code == 2 and "E101" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["check", str(tmp_path / "x.txt"), "--format", "nosuch"])
    assert exc.value.code == 2
    f = _jsonl(tmp_path / "x.jsonl", [{"id": "d", "text": "a", "spans": []}])
    with pytest.raises(SystemExit) as exc:
        main(["check", str(f), "--scheme", "IOB1"])
    assert exc.value.code == 2  # usage error: --scheme does not apply to jsonl


def test_check_shared_conll2003_test_is_clean():
    res = CliRunner().invoke(app, ["check", str(corpus_path("conll2003", "original", "test.txt")), "--json"])
    out = json.loads(res.output)
    assert res.exit_code == 0 and out["documents"]["total"] == 231 and out["spans"]["total"] == 5648
