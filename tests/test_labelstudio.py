"""Label Studio JSON: annotations/predictions, preserved task data, hostile input, round trips."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter, SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import detect_format, labelstudio, read_corpus

TEXT = "Pt took aspirin 81 mg daily."


def _region(rid, start, end, labels, text=TEXT, **extra):
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": labels}, **extra}


def _tasks():
    return [
        {"id": 11, "data": {"text": TEXT, "note_type": "discharge"},
         "annotations": [
             {"id": 1, "completed_by": 3, "was_cancelled": True, "result": []},
             {"id": 2, "completed_by": {"id": 4, "email": "ann@example.org"}, "lead_time": 3.5, "result": [
                 _region("a", 8, 15, ["Drug"]),
                 _region("b", 16, 21, ["Strength", "Dose"], origin="manual"),
                 {"from_id": "a", "to_id": "b", "type": "relation", "direction": "right", "labels": []},
                 {"id": "c", "from_name": "kind", "to_name": "text", "type": "choices", "value": {"choices": ["ok"]}},
             ]},
             {"id": 5, "completed_by": 6, "result": [_region("z", 8, 21, ["Drug"])]},
         ],
         "predictions": [{"model_version": "ner-v1", "score": 0.71, "result": [
             _region("p", 8, 15, ["Drug"], score=0.93),
             {**_region("q", 22, 27, ["Frequency"]), "from_name": "ner"},
         ]}]},
        {"id": 12, "data": {"text": "No meds."}},
        {"id": 13, "data": {"text": "Nothing."}, "annotations": [{"id": 7, "completed_by": 3, "result": []}]},
    ]


def _write(tmp_path: Path, content, name: str = "export.json") -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return p


def _read(path: Path, strict: bool = True, **options) -> tuple[Corpus, Reporter]:
    rep = Reporter(strict=strict)
    return labelstudio.read(path, reporter=rep, **options), rep


def test_labelstudio_reads_selected_annotation(tmp_path):
    corpus, rep = _read(_write(tmp_path, _tasks()))
    doc = corpus["11"]
    assert [(doc.span_text(s), s.label, s.id, s.annotator) for s in doc.spans] == [
        ("aspirin", "Drug", "a", "ann@example.org"), ("81 mg", "Strength", "b", "ann@example.org"),
        ("81 mg", "Dose", "b", "ann@example.org")]
    assert doc.spans[1].meta == {"result": {"origin": "manual"}}
    assert corpus["12"].spans is None  # no annotation: not annotated
    assert corpus["13"].spans == ()  # annotated, no entities
    codes = [(p.code, p.detail.split()[0]) for p in rep.problems]
    assert codes == [("W105", "cancelled"), ("W105", "'relation'"), ("W105", "'choices'")]


def test_labelstudio_index_and_predictions(tmp_path):
    path = _write(tmp_path, _tasks())
    second, _ = _read(path, index=1)
    assert [(s.start, s.end, s.annotator) for s in second["11"].spans] == [(8, 21, "6")]
    assert second["13"].spans is None
    preds, _ = _read(path, source="predictions")
    assert [(s.label, s.score, s.annotator, s.meta) for s in preds["11"].spans] == [
        ("Drug", 0.93, "ner-v1", {}), ("Frequency", None, "ner-v1", {"from_name": "ner"})]


def test_labelstudio_text_key(tmp_path):
    corpus, _ = _read(_write(tmp_path, [{"id": 1, "data": {"note": "abc", "text": "zz"}}]), text_key="note")
    assert corpus["1"].text == "abc"
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, [{"id": 1, "data": {"text": "abc"}}]), text_key="note")
    assert err.value.code == "E109"


def test_labelstudio_round_trip_keeps_everything(tmp_path):
    path = _write(tmp_path, _tasks())
    corpus, _ = _read(path)
    out = tmp_path / "out" / "export.json"
    assert labelstudio.write(corpus, out) == []
    back, _ = _read(out)
    assert back.documents == corpus.documents
    assert json.loads(out.read_text())[0]["annotations"][1]["lead_time"] == 3.5
    # the whole export survives, region order aside
    written = json.loads(out.read_text())
    original = _tasks()
    for task in (written[0], original[0]):
        for item in task["annotations"] + task["predictions"]:
            item["result"].sort(key=lambda r: json.dumps(r, sort_keys=True))
    assert written == original
    preds, _ = _read(path, source="predictions")
    labelstudio.write(preds, out)
    assert _read(out, source="predictions")[0].documents == preds.documents


def test_labelstudio_offsets_validated(tmp_path):
    bad_text = [{"id": 1, "data": {"text": TEXT}, "annotations": [{"result": [
        {**_region("a", 8, 15, ["Drug"]), "value": {"start": 8, "end": 15, "text": "aspirim", "labels": ["Drug"]}}]}]}]
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, bad_text))
    assert err.value.code == "E202" and err.value.problem.where.doc_id == "1"
    out_of_range = [{"id": 1, "data": {"text": "abc"}, "annotations": [{"result": [
        {"type": "labels", "value": {"start": 1, "end": 9, "labels": ["X"]}}]}]}]
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, out_of_range))
    assert err.value.code == "E201"
    corpus, rep = _read(_write(tmp_path, out_of_range), strict=False)
    assert corpus["1"].spans == () and [p.code for p in rep.problems] == ["E201"]


def test_labelstudio_region_without_offsets_is_e109(tmp_path):
    tasks = [{"id": 1, "data": {"text": "abc"}, "annotations": [{"result": [
        {"type": "labels", "value": {"start": "1", "labels": ["X"]}}]}]}]
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, tasks))
    assert err.value.code == "E109"


def test_labelstudio_hostile_files(tmp_path):
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, '[{"id": 1,\n "data": {"text": "a"},,}]'))
    assert err.value.code == "E108" and err.value.problem.where.line == 2
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, "[]"))
    assert err.value.code == "E104"
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, ""))
    assert err.value.code == "E104"
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, b'[{"data": {"text": "caf\xe9"}}]'))
    assert err.value.code == "E103"
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, '{"a": 1}'))
    assert err.value.code == "E109"
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, [{"id": 1, "data": {"text": "a"}}, {"id": 1, "data": {"text": "b"}}]))
    assert err.value.code == "E107"


def test_labelstudio_jsonl_tasks_and_missing_ids(tmp_path):
    lines = "\n".join(json.dumps(t) for t in [{"data": {"text": "a"}}, {"data": {"text": "b"}}])
    corpus, _ = _read(_write(tmp_path, lines, "tasks.json"))
    assert [d.id for d in corpus] == ["tasks-0", "tasks-1"]
    labelstudio.write(corpus, tmp_path / "out" / "tasks.json")
    assert _read(tmp_path / "out" / "tasks.json")[0].documents == corpus.documents


def test_labelstudio_write_foreign_documents(tmp_path):
    docs = [Document("7", TEXT, (Span("7", 8, 15, "Drug"), Span("7", 0, 27, "Event", fragments=((0, 2), (22, 27))))),
            Document("note-b", "x", None)]
    problems = labelstudio.write(Corpus.from_docs(docs), tmp_path / "t.json")
    assert [p.code for p in problems] == ["W107"]  # discontinuous span written as its hull
    tasks = json.loads((tmp_path / "t.json").read_text())
    assert tasks[0]["id"] == 7 and tasks[1]["id"] == "note-b" and "annotations" not in tasks[1]
    region = tasks[0]["annotations"][0]["result"][0]
    assert {k: region[k] for k in ("from_name", "to_name", "type")} == \
        {"from_name": "label", "to_name": "text", "type": "labels"}
    assert region["value"] == {"start": 8, "end": 15, "text": "aspirin", "labels": ["Drug"]}
    back, _ = _read(tmp_path / "t.json")
    assert [(s.start, s.end, s.label) for s in back["7"].spans] == [(8, 15, "Drug"), (0, 27, "Event")]
    assert back["note-b"].spans is None
    preds = labelstudio.write(Corpus.from_docs([Document("1", "ab", (Span("1", 0, 1, "X", annotator="m2"),))]),
                              tmp_path / "p.json", source="predictions")
    assert preds == [] and json.loads((tmp_path / "p.json").read_text())[0]["predictions"][0]["model_version"] == "m2"


def test_labelstudio_sniff_and_detect(tmp_path):
    path = _write(tmp_path, _tasks())
    assert labelstudio.sniff(path) and detect_format(path) == "labelstudio"
    assert read_corpus(path).format == "labelstudio"


# --------------------------------------------------------------------------- property: round trip

TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30)


@st.composite
def ls_docs(draw):
    docs = []
    for i in range(draw(st.integers(1, 3))):
        text = draw(TEXTS)
        doc_id = str(i + 1)
        if draw(st.booleans()) and i:
            docs.append(Document(doc_id, text, None))
            continue
        spans = []
        for k in range(draw(st.integers(0, 4))):
            a = draw(st.integers(0, len(text) - 1))
            b = draw(st.integers(a + 1, len(text)))
            spans.append(Span(doc_id, a, b, draw(st.sampled_from(["Drug", "Dose", "a b"])),
                              id=draw(st.sampled_from([None, f"r{k}"])),
                              score=draw(st.sampled_from([None, 0.5, 1.0])),
                              meta=draw(st.sampled_from([{}, {"from_name": "ner"}, {"result": {"origin": "x"}}]))))
        docs.append(Document(doc_id, text, tuple(spans)))
    return docs


@settings(max_examples=80, deadline=None)
@given(ls_docs())
def test_labelstudio_round_trip_random_documents(docs):
    corpus = Corpus.from_docs(docs)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "x.json"
        assert labelstudio.write(corpus, out) == []
        first, rep = _read(out)
        assert rep.problems == []
        assert [(d.id, d.text, d.spans) for d in first] == [(d.id, d.text, d.spans) for d in docs]
        again = Path(tmp) / "y" / "x.json"
        labelstudio.write(first, again)
        assert _read(again)[0].documents == first.documents
