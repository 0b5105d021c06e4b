"""JSONL (spaCy / Prodigy shape) reader and writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import detect_format, jsonl, read_corpus, write_corpus


def put(path: Path, *records) -> Path:
    """Write records (dicts are dumped, strings written as they are) one per line."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def read(path: Path, **options) -> Corpus:
    return read_corpus(path, "jsonl", **options)


def roundtrip(corpus: Corpus, path: Path) -> Corpus:
    write_corpus(corpus, path, "jsonl")
    return read(path)


TEXT = "Pt on aspirin 81mg."


def test_jsonl_reads_spans_and_distinguishes_unannotated(tmp_path):
    corpus = read(put(tmp_path / "notes.jsonl",
                      {"text": TEXT, "spans": [{"start": 6, "end": 13, "label": "Drug"}]},
                      {"text": TEXT, "spans": []},
                      {"text": TEXT}))
    a, b, c = corpus.documents
    assert a.spans == (Span("notes-1", 6, 13, "Drug"),)
    assert b.spans == () and c.spans is None
    assert [d.id for d in corpus] == ["notes-1", "notes-2", "notes-3"]


def test_jsonl_ids_and_groups_from_each_key(tmp_path):
    corpus = read(put(tmp_path / "n.jsonl",
                      {"id": "a", "group": "p1", "text": "x"},
                      {"doc_id": "b", "patient_id": 7, "text": "x"},
                      {"meta": {"id": 12, "patient_id": "p3", "source": "mimic"}, "text": "x"},
                      {"meta": {"group": "p4"}, "text": "x"}))
    assert [(d.id, d.group) for d in corpus] == [("a", "p1"), ("b", "7"), ("12", "p3"), ("n-4", "p4")]
    assert corpus["b"].meta == {"jsonl_id_key": "doc_id", "jsonl_group_key": "patient_id"}
    assert corpus["12"].meta["meta"] == {"id": 12, "patient_id": "p3", "source": "mimic"}


def test_jsonl_span_extras_are_preserved(tmp_path):
    span = {"start": 6, "end": 13, "label": "Drug", "token_start": 2, "token_end": 2, "text": "aspirin",
            "score": 0.75, "id": "s1", "annotator": "ann1", "source": "model-v2", "answer": "accept"}
    doc = read(put(tmp_path / "n.jsonl", {"id": "d", "text": TEXT, "spans": [span]}))["d"]
    s = doc.spans[0]
    assert (s.score, s.id, s.annotator) == (0.75, "s1", "ann1")
    assert s.meta == {"token_start": 2, "token_end": 2, "text": "aspirin", "source": "model-v2", "answer": "accept"}


def test_jsonl_record_extras_and_prodigy_tokens_are_kept(tmp_path):
    record = {"text": "Pt on aspirin", "_input_hash": 1, "_task_hash": -2, "answer": "accept",
              "tokens": [{"text": "Pt", "start": 0, "end": 2, "id": 0, "ws": True},
                         {"text": "on", "start": 3, "end": 5, "id": 1, "ws": True},
                         {"text": "aspirin", "start": 6, "end": 13, "id": 2, "ws": False}],
              "spans": [{"start": 6, "end": 13, "label": "Drug", "token_start": 2, "token_end": 2}]}
    path = put(tmp_path / "p.jsonl", record)
    corpus = read(path)
    doc = corpus.documents[0]
    assert doc.tokens == ((0, 2), (3, 5), (6, 13))
    assert set(doc.meta) == {"_input_hash", "_task_hash", "answer", "tokens"}
    write_corpus(corpus, tmp_path / "out.jsonl", "jsonl")
    written = json.loads((tmp_path / "out.jsonl").read_text())
    assert written == {"id": "p-1", **record}


def test_jsonl_roundtrip_is_lossless(tmp_path):
    path = put(tmp_path / "n.jsonl",
               {"doc_id": 5, "patient_id": 17, "text": "a\r\nb\tc aspirin", "meta": {"note_type": "dc"},
                "spans": [{"start": 7, "end": 14, "label": "Drug", "text": "aspirin", "score": 1}]},
               {"meta": {"id": "m1", "patient_id": 3}, "text": "x"},
               {"text": "aspirin and warfarin", "spans": [{"start": 0, "end": 20, "label": "Drug",
                                                            "fragments": [[12, 20], [0, 7]]}]})
    corpus = read(path)
    assert corpus.documents[2].spans[0].fragments == ((0, 7), (12, 20))
    again = roundtrip(corpus, tmp_path / "other_name.jsonl")
    assert again.documents == corpus.documents


def test_jsonl_line_separator_inside_a_string_does_not_split_the_line(tmp_path):
    text = "first\u2028second\x85third"
    corpus = read(put(tmp_path / "n.jsonl", json.dumps({"text": text, "spans": []}, ensure_ascii=False)))
    assert corpus.documents[0].text == text


def test_jsonl_blank_lines_are_skipped_and_line_numbers_kept(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text('\n{"text": "a"}\n   \n{"text": "b"}\r\n')
    assert [d.id for d in read(path)] == ["n-2", "n-4"]


def test_jsonl_folder_of_files(tmp_path):
    put(tmp_path / "a.jsonl", {"text": "x"})
    put(tmp_path / "b.jsonl", {"text": "y"})
    assert [d.id for d in read(tmp_path)] == ["a-1", "b-1"]


def test_jsonl_write_unannotated_and_discontinuous(tmp_path):
    corpus = Corpus((Document("d", "aspirin and warfarin", None),
                     Document("e", "aspirin and warfarin",
                              (Span("e", 0, 20, "Drug", fragments=((0, 7), (12, 20))),), group="p")))
    write_corpus(corpus, tmp_path / "o.jsonl", "jsonl")
    lines = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert lines[0] == {"id": "d", "text": "aspirin and warfarin"}
    assert lines[1]["spans"] == [{"start": 0, "end": 20, "label": "Drug", "fragments": [[0, 7], [12, 20]]}]
    assert lines[1]["group"] == "p"
    assert read(tmp_path / "o.jsonl").documents == corpus.documents


def test_jsonl_write_rejects_meta_that_is_not_json(tmp_path):
    corpus = Corpus((Document("d", "x", (), meta={"bad": {1, 2}}),))
    with pytest.raises(SpanqaError) as err:
        write_corpus(corpus, tmp_path / "o.jsonl", "jsonl")
    assert err.value.code == "E112"


def test_jsonl_sniff_and_detect(tmp_path):
    good = put(tmp_path / "n.jsonl", "", {"text": "x"})
    other = put(tmp_path / "n.data", {"tokens": ["x"]})
    assert jsonl.sniff(good) and not jsonl.sniff(other)
    assert not jsonl.sniff(put(tmp_path / "bad.data", "{nope"))
    assert detect_format(good) == "jsonl"


# --------------------------------------------------------------------------- property test

_TEXT = st.lists(st.sampled_from(["ab", " ", "é", "\t", "\r\n", "\n", "\u2028", "😀", '"', "\\"])
                 | st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30).map("".join)
_JSON_SCALAR = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5) | st.floats(allow_nan=False,
                                                                                               allow_infinity=False)


@st.composite
def _jsonl_doc(draw, doc_id: str) -> Document:
    text = draw(_TEXT)
    spans = []
    for _ in range(draw(st.integers(0, 3)) if text else 0):
        a = draw(st.integers(0, len(text) - 1))
        b = draw(st.integers(a + 1, len(text)))
        meta = draw(st.dictionaries(st.sampled_from(["token_start", "token_end", "source", "ø"]), _JSON_SCALAR,
                                    max_size=2))
        if draw(st.booleans()):
            meta["text"] = text[a:b]
        spans.append(Span(doc_id, a, b, draw(st.sampled_from(["Drug", "Dose", "with space", "ü"])),
                          id=draw(st.none() | st.just("s1")), annotator=draw(st.none() | st.just("ann")),
                          score=draw(st.none() | st.floats(0, 1)), meta=meta))
    meta = draw(st.dictionaries(st.sampled_from(["_input_hash", "answer", "extra"]),
                                _JSON_SCALAR | st.lists(_JSON_SCALAR, max_size=2), max_size=2))
    annotated = draw(st.booleans())
    return Document(doc_id, text, tuple(spans) if annotated or spans else None,
                    group=draw(st.none() | st.just("p1")), meta=meta)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.tuples(_jsonl_doc("a"), _jsonl_doc("b/c"), _jsonl_doc("12")))
def test_jsonl_roundtrip_random_documents(tmp_path_factory, docs):
    corpus = Corpus(tuple(docs))
    again = roundtrip(corpus, tmp_path_factory.mktemp("rt") / "c.jsonl")
    assert again.documents == corpus.documents


def test_jsonl_utf16_file_is_E103_naming_the_encoding_in_check_and_read(tmp_path, capsys):
    from spanqa.cli import main
    from spanqa.core.errors import SpanqaError
    from spanqa.corpus.formats import read_corpus

    f = tmp_path / "notes.jsonl"
    f.write_bytes('{"id": "d", "text": "aspirin 81mg", "spans": []}\n'.encode("utf-16"))
    with pytest.raises(SpanqaError) as err:
        read_corpus(f, format="jsonl")
    assert err.value.code == "E103" and "UTF-16-LE" in str(err.value)
    with pytest.raises(SystemExit) as ex:
        main(["check", str(f)])
    out = capsys.readouterr()
    assert ex.value.code == 2 and "E103" in out.err + out.out and "UTF-16-LE" in out.err + out.out
