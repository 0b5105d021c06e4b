"""Run-folder loading, plus :func:`make_run`: the fixture run folder the other review tests build.

``make_run`` writes a tiny corpus (JSONL) and a run folder that follows the schema of
``spanqa audit --out`` exactly (spans.jsonl, findings.jsonl, summary.json).  The notes
are made up; one holds ``</script>`` and ``<!--<script>`` to test escaping.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import write_corpus
from spanqa.run.reader import Finding, corpus_location, load_run

TEXTS = {
    "n1": "Pt started aspirin 81mg PO daily for CAD. Continue metoprolol 25 mg bid.",
    "n2": "Coumadin 5 mg held; INR 3.1 noted. Hx </script><script>alert(1)</script> <!--<script> in chart.",
    "n3": "Denies chest pain. Taking metformin and lisinopril. No rash.",
    "n4": "Started heparin drip. Plan: continue heparin.",
}

SPANS = {  # (start, end, label); offsets into TEXTS
    "n1": [(11, 23, "Drug"), (37, 40, "Disease"), (51, 61, "Drug")],
    "n2": [(0, 8, "Drug"), (20, 23, "Test")],
    "n3": [(7, 17, "Disease"), (19, 25, "Disease"), (26, 35, "Drug")],
    "n4": [(8, 15, "Drug"), (37, 44, "Drug")],
}


def _sp(doc: str, a: int, b: int, label: str) -> dict:
    return {"start": a, "end": b, "label": label, "text": TEXTS[doc][a:b]}


def fixture_findings() -> list[dict]:
    """Hand-made findings, one of most kinds, in the schema of findings.jsonl."""
    n1, n2, n3, n4 = "n1", "n2", "n3", "n4"
    return [
        {"id": "f_type", "doc_id": n2, "kind": "type", "action": "relabel", "score": 0.04,
         "labels": [_sp(n2, 0, 8, "Drug")], "suggestion": [_sp(n2, 0, 8, "Brand")],
         "evidence": {"p_labels": 0.04, "p_suggestion": 0.93, "fold": 1}, "message": "The model is 93% confident 'Coumadin' is a Brand, while the label calls it a Drug. Could we review it together?"},
        {"id": "f_shrink", "doc_id": n1, "kind": "boundary", "action": "shrink", "score": 0.08,
         "labels": [_sp(n1, 11, 23, "Drug")], "suggestion": [_sp(n1, 11, 18, "Drug")],
         "evidence": {"p_labels": 0.08, "p_suggestion": 0.88, "fold": 0}, "message": "The model is 88% confident the Drug span is 'aspirin', while the label covers 'aspirin 81mg'. Could we check together where it should start and end?"},
        {"id": "f_shrink2", "doc_id": n1, "kind": "boundary", "action": "shrink", "score": 0.2,
         "labels": [], "suggestion": [],  # filled below: metoprolol 25 mg is labelled as metoprolol only here
         "evidence": {"p_labels": 0.2, "p_suggestion": 0.7, "fold": 0}, "message": "boundary"},
        {"id": "f_missing", "doc_id": n3, "kind": "missing", "action": "add", "score": 0.15,
         "labels": [], "suggestion": [_sp(n3, 40, 50, "Drug")],
         "evidence": {"p_labels": 0.15, "p_suggestion": 0.8, "p_entity": 0.82, "fold": 1}, "message": "The model is 80% confident 'lisinopril' is a Drug, but no label covers it. Could it be a missing annotation?"},
        {"id": "f_spurious", "doc_id": n3, "kind": "spurious", "action": "delete", "score": 0.3,
         "labels": [_sp(n3, 19, 25, "Disease")], "suggestion": [],
         "evidence": {"p_labels": 0.3, "p_suggestion": 0.65, "fold": 1}, "message": "The model is 65% confident 'Taking' is not an entity, while the label marks it as a Disease. Could we check together whether it belongs?"},
        {"id": "f_low", "doc_id": n3, "kind": "low_confidence", "action": "review", "score": 0.45,
         "labels": [_sp(n3, 26, 35, "Drug")], "suggestion": [],
         "evidence": {"p_labels": 0.45, "p_suggestion": 0.3, "fold": 1}, "message": "The model matches the Drug label on 'metformin' but is only 45% confident it is exactly right."},
        {"id": "f_conflict_a", "doc_id": n4, "kind": "type", "action": "relabel", "score": 0.1,
         "labels": [_sp(n4, 8, 15, "Drug")], "suggestion": [_sp(n4, 8, 15, "Brand")],
         "evidence": {"p_labels": 0.1, "p_suggestion": 0.6, "fold": 0}, "message": "heparin a Brand?"},
        {"id": "f_conflict_b", "doc_id": n4, "kind": "boundary", "action": "extend", "score": 0.12,
         "labels": [_sp(n4, 8, 15, "Drug")], "suggestion": [_sp(n4, 8, 20, "Drug")],
         "evidence": {"p_labels": 0.12, "p_suggestion": 0.55, "fold": 0}, "message": "heparin drip?"},
        {"id": "f_ood", "doc_id": n2, "kind": "out_of_distribution", "action": "review", "score": 0.5,
         "labels": [], "suggestion": [], "evidence": {"novelty": 3.1, "mean_confidence": 0.5},
         "message": "Note 'n2' looks unlike the rest of the corpus. <b>check</b>"},
    ]


def make_run(tmp_path: Path, *, findings: list[dict] | None = None, corpus_format: str = "jsonl",
             summary_extra: dict | None = None) -> tuple[Path, Path]:
    """Write the fixture corpus and a run folder; return ``(run_dir, corpus_path)``."""
    texts, spans = dict(TEXTS), {k: list(v) for k, v in SPANS.items()}
    spans["n1"][2] = (51, 61, "Drug")  # "metoprolol"
    docs = [Document(d, texts[d], tuple(Span(d, a, b, lab) for a, b, lab in spans[d])) for d in texts]
    corpus = Corpus.from_docs(docs, format=corpus_format)
    cpath = tmp_path / {"jsonl": "corpus.jsonl", "labelstudio": "corpus.json", "conll": "corpus.conll"}.get(
        corpus_format, "corpus")
    write_corpus(corpus, cpath, corpus_format)
    run = tmp_path / "run"
    run.mkdir()
    recs = findings if findings is not None else fixture_findings()
    recs = [dict(r) for r in recs]
    for r in recs:
        if r["id"] == "f_shrink2":  # "metoprolol 25 mg" would be the extent; here: metoprolol labelled, dose outside
            r.update(kind="boundary", action="extend", labels=[_sp("n1", 51, 61, "Drug")],
                     suggestion=[_sp("n1", 51, 67, "Drug")], message="The model is 70% confident the Drug span is "
                     "'metoprolol 25 mg', while the label covers 'metoprolol'.")
    with (run / "findings.jsonl").open("w") as fh:
        for r in recs:
            fh.write(json.dumps(r) + "\n")
    with (run / "spans.jsonl").open("w") as fh:
        for i, d in enumerate(docs):
            for s in d.spans:
                fh.write(json.dumps({"doc_id": d.id, "start": s.start, "end": s.end, "label": s.label,
                                     "text": d.text[s.start:s.end], "quality": round(0.5 + 0.1 * (s.start % 5), 3),
                                     "fold": i % 2}) + "\n")
    kinds: dict[str, int] = {}
    labels: dict[str, int] = {}
    for r in recs:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        lab = (r["labels"] or r["suggestion"] or [{"label": ""}])[0]["label"]
        if lab:
            labels[lab] = labels.get(lab, 0) + 1
    summary = {"corpus": {"path": str(cpath), "format": corpus_format},
               "documents": len(docs), "spans": sum(len(d.spans) for d in docs),
               "findings": {"total": len(recs), "by_kind": kinds, "by_label": labels},
               "error_rate": {"estimate": 0.21, "ci95": [0.12, 0.33], "method": "as spanqa audit writes it"},
               "config": {"data": {"format": corpus_format}, "train": {"folds": 2}},
               "versions": {"spanqa": "0.1.0"}, "timings": {"total_s": 1.0}}
    summary.update(summary_extra or {})
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    return run, cpath


# --------------------------------------------------------------------------- tests
def test_review_run_loads_fixture(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    run = load_run(run_dir)
    assert len(run.findings) == 9 and run.corpus_path == cpath and run.corpus_format == "jsonl"
    assert len(run.corpus()) == 4
    assert run.ranked()[0].id == "f_type"
    f = run.finding("f_missing")
    assert f.removed == () and [s.key for s in f.added] == [(40, 50, "Drug")]
    assert f.confidence == pytest.approx(0.8)
    assert not run.finding("f_low").has_fix and run.finding("f_spurious").has_fix
    assert {s.score for s in run.spans} and all(s.meta["fold"] in (0, 1) for s in run.spans)


def test_review_run_confidence_falls_back_to_one_minus_score():
    f = Finding.from_dict({"id": "x", "doc_id": "d", "kind": "type", "action": "relabel", "score": 0.25,
                           "labels": [], "suggestion": []})
    assert f.confidence == pytest.approx(0.75)


def test_review_run_corpus_location_reads_defensively():
    assert corpus_location({"corpus": {"path": "a", "format": "brat"}}) == ("a", "brat")
    assert corpus_location({"config": {"data": {"path": "b", "format": "conll"}}}) == ("b", "conll")
    assert corpus_location({"corpus": "c", "config": {"data": {"format": "jsonl"}}}) == ("c", "jsonl")
    assert corpus_location({}) == (None, None)


def test_review_run_missing_files_are_coded(tmp_path):
    with pytest.raises(SpanqaError) as e:
        load_run(tmp_path)
    assert e.value.code == "E501"
    run_dir, _ = make_run(tmp_path)
    (run_dir / "findings.jsonl").write_text('{"id": "x", "doc_id": "n1"}\nnot json\n')
    with pytest.raises(SpanqaError) as e:
        load_run(run_dir)
    assert e.value.code == "E502" and "findings.jsonl:2" in str(e.value)


def test_review_run_missing_corpus_is_e503(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    cpath.unlink()
    with pytest.raises(SpanqaError) as e:
        load_run(run_dir).corpus()
    assert e.value.code == "E503"
