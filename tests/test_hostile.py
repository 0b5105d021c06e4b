"""Hostile input for the brat and JSONL readers: every case ends in an exact code or a documented fallback.

Errors are asserted through ``pytest.raises(SpanqaError)`` and ``.code``; fallbacks
through the warning codes in ``corpus.problems`` and the exact data read.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import read_corpus, write_corpus


def brat_dir(tmp_path: Path, text: str | bytes, ann: str | bytes | None, stem: str = "d") -> Path:
    folder = tmp_path / "brat"
    folder.mkdir(exist_ok=True)
    (folder / f"{stem}.txt").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    if ann is not None:
        (folder / f"{stem}.ann").write_bytes(ann if isinstance(ann, bytes) else ann.encode("utf-8"))
    return folder


def jsonl_file(tmp_path: Path, *lines) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_bytes("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode("utf-8"))
    return path


def brat_error(folder: Path, **options) -> SpanqaError:
    with pytest.raises(SpanqaError) as err:
        read_corpus(folder, "brat", **options)
    return err.value


def jsonl_error(path: Path) -> SpanqaError:
    with pytest.raises(SpanqaError) as err:
        read_corpus(path, "jsonl")
    return err.value


def codes(corpus: Corpus) -> list[str]:
    return [p.code for p in corpus.problems]


TEXT = "Pt on aspirin 81mg."  # aspirin = [6, 13)


# --------------------------------------------------------------------------- offsets


@pytest.mark.parametrize("offsets", ["6 99", "18 20", "19 25"])
def test_hostile_brat_offsets_past_the_end_E201(tmp_path, offsets):
    err = brat_error(brat_dir(tmp_path, TEXT, f"T1\tDrug {offsets}\tx\n"))
    assert err.code == "E201"
    assert err.problem.where.line == 1 and err.problem.where.path.endswith("d.ann")


def test_hostile_brat_negative_offset_E201(tmp_path):
    assert brat_error(brat_dir(tmp_path, TEXT, "T1\tDrug -1 13\taspirin\n")).code == "E201"


def test_hostile_brat_end_before_start_E201(tmp_path):
    assert brat_error(brat_dir(tmp_path, TEXT, "T1\tDrug 13 6\taspirin\n")).code == "E201"


def test_hostile_jsonl_offsets_out_of_range_E201(tmp_path):
    for start, end in [(6, 99), (-1, 13), (13, 6)]:
        path = jsonl_file(tmp_path, {"text": TEXT, "spans": [{"start": start, "end": end, "label": "Drug"}]})
        assert jsonl_error(path).code == "E201"


def test_hostile_zero_length_spans_E203(tmp_path):
    assert brat_error(brat_dir(tmp_path, TEXT, "T1\tDrug 6 6\t\n")).code == "E203"
    assert brat_error(brat_dir(tmp_path, TEXT, "T1\tDrug 6 13;15 15\taspirin \n")).code == "E203"
    path = jsonl_file(tmp_path, {"text": TEXT, "spans": [{"start": 6, "end": 6, "label": "Drug"}]})
    assert jsonl_error(path).code == "E203"


def test_hostile_text_mismatch_E202_with_location(tmp_path):
    err = brat_error(brat_dir(tmp_path, TEXT, "T1\tDrug 6 13\taspirin\nT2\tDrug 6 13\tAspirin\n"))
    assert err.code == "E202"
    where = err.problem.where
    assert (where.line, where.doc_id, where.start, where.end, where.excerpt) == (2, "d", 6, 13, "aspirin")
    path = jsonl_file(tmp_path, {"text": TEXT, "spans": [{"start": 6, "end": 13, "label": "Drug", "text": "aspirn"}]})
    err = jsonl_error(path)
    assert err.code == "E202" and err.problem.where.line == 1


def test_hostile_overlapping_and_nested_spans_are_kept(tmp_path):
    ann = ("T1\tDrug 6 18\taspirin 81mg\nT2\tDrug 6 13\taspirin\nT3\tDose 11 16\tin 81\n"
           "T4\tDrug 6 13\taspirin\n")
    corpus = read_corpus(brat_dir(tmp_path, TEXT, ann), "brat")
    assert [s.key for s in corpus["d"].spans] == [(6, 18, "Drug"), (6, 13, "Drug"), (11, 16, "Dose"), (6, 13, "Drug")]
    assert codes(corpus) == []  # overlap is content, reported by `spanqa check` (W201), not a read error


def test_hostile_overlapping_fragments_of_one_span_E105(tmp_path):
    assert brat_error(brat_dir(tmp_path, TEXT, "T1\tDrug 6 13;8 10\taspirin pi\n")).code == "E105"


# --------------------------------------------------------------------------- line syntax


def test_hostile_unknown_ann_line_kinds_kept_with_W101(tmp_path):
    ann = "T1\tDrug 6 13\taspirin\nQ1\tquery T1\n%% a comment\n"
    corpus = read_corpus(brat_dir(tmp_path, TEXT, ann), "brat")
    assert codes(corpus) == ["W101", "W101"]
    assert corpus["d"].meta["brat_other_lines"] == ("Q1\tquery T1", "%% a comment")
    assert [s.key for s in corpus["d"].spans] == [(6, 13, "Drug")]


@pytest.mark.parametrize("line", [
    "T1\tDrug\taspirin",              # no offsets
    "T1\tDrug six 13\taspirin",       # offsets not numbers
    "T1 Drug 6 13 aspirin",           # spaces instead of tabs
    "T1\tDrug 6 13 8\taspirin",       # three numbers
    "T1\tDrug 6 13;\taspirin",        # empty fragment
    "Tx\tDrug 6 13\taspirin",         # id without number
])
def test_hostile_malformed_t_line_E105(tmp_path, line):
    assert brat_error(brat_dir(tmp_path, TEXT, line + "\n")).code == "E105"


def test_hostile_brat_label_with_space_is_a_malformed_line_E105(tmp_path):
    err = brat_error(brat_dir(tmp_path, TEXT, "T1\tBrand name 6 13\taspirin\n"))
    assert err.code == "E105" and "label seems to contain a space" in err.problem.detail


def test_hostile_jsonl_label_with_space_is_read_and_warned_W209(tmp_path):
    corpus = read_corpus(jsonl_file(tmp_path, {"text": TEXT, "spans": [
        {"start": 6, "end": 13, "label": "Brand name"}]}), "jsonl")
    assert corpus.documents[0].spans[0].label == "Brand name" and codes(corpus) == ["W209"]
    with pytest.raises(SpanqaError) as err:  # and brat cannot hold it
        write_corpus(corpus, tmp_path / "out", "brat")
    assert err.value.code == "E112"


def test_hostile_duplicate_t_id_E105(tmp_path):
    assert brat_error(brat_dir(tmp_path, TEXT, "T1\tDrug 6 13\taspirin\nT1\tDose 14 18\t81mg\n")).code == "E105"


def test_hostile_tabs_and_newlines_inside_spans(tmp_path):
    text = "aspirin\t81\nmg daily"
    # a tab in the recorded text is fine; a newline is written as a space (the line would break otherwise)
    corpus = read_corpus(brat_dir(tmp_path, text, "T1\tDrug 0 13\taspirin\t81 mg\n"), "brat")
    assert corpus["d"].spans[0].key == (0, 13, "Drug") and codes(corpus) == []
    # a raw newline inside the recorded text breaks the line: the rest is a W101 line, the span an E202
    err = brat_error(brat_dir(tmp_path, text, "T1\tDrug 0 13\taspirin\t81\nmg\n"))
    assert err.code == "E202"


def test_hostile_empty_label_jsonl_E204(tmp_path):
    path = jsonl_file(tmp_path, {"text": TEXT, "spans": [{"start": 6, "end": 13, "label": ""}]})
    assert jsonl_error(path).code == "E204"


# --------------------------------------------------------------------------- files


def test_hostile_ann_without_txt_E106(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "d.ann").write_text("T1\tDrug 0 1\tx\n")
    assert brat_error(folder).code == "E106"
    assert brat_error(folder / "d.ann").code == "E106"


def test_hostile_non_utf8_bytes_E103_names_file_and_byte_offset(tmp_path):
    err = brat_error(brat_dir(tmp_path, b"Pt on caf\xe9 au lait\nline 2", ""))
    assert err.code == "E103" and err.problem.where.path.endswith("d.txt")
    assert "byte offset 9" in err.problem.detail and err.problem.where.line == 1
    err = brat_error(brat_dir(tmp_path, TEXT, b"T1\tDrug 6 13\taspirin\nT2\tDrug 0 2\tP\xff\n"))
    assert err.code == "E103" and err.problem.where.line == 2 and err.problem.where.path.endswith("d.ann")
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    err = jsonl_error(path)
    assert err.code == "E103" and err.problem.where.line == 2 and "byte offset 28" in err.problem.detail


def test_hostile_empty_inputs(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert brat_error(empty).code == "E104"
    corpus = read_corpus(brat_dir(tmp_path, "", ""), "brat")
    assert corpus["d"].text == "" and corpus["d"].spans == ()  # empty .txt: allowed, `check` reports W204
    corpus = read_corpus(brat_dir(tmp_path, TEXT, b"", stem="e"), "brat")
    assert corpus["e"].spans == ()
    for content in ("", "\n\n  \n"):
        path = tmp_path / "c.jsonl"
        path.write_text(content)
        assert jsonl_error(path).code == "E104"


def test_hostile_missing_path_E101(tmp_path):
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "nope", "brat")
    assert err.value.code == "E101"


def test_hostile_ten_megabyte_single_line_note(tmp_path):
    text = "word " * 2_000_000 + "then warfarin 5mg."
    start = text.index("warfarin")
    ann = f"T1\tDrug {start} {start + 8}\twarfarin\n"
    t0 = time.perf_counter()
    doc = read_corpus(brat_dir(tmp_path, text, ann), "brat")["d"]
    path = jsonl_file(tmp_path, {"id": "n", "text": text, "spans": [{"start": start, "end": start + 8, "label": "Drug"}]})
    jdoc = read_corpus(path, "jsonl")["n"]
    seconds = time.perf_counter() - t0
    assert len(doc.text) == 10_000_018 and doc.span_text(doc.spans[0]) == "warfarin"
    assert jdoc.spans[0] == Span("n", start, start + 8, "Drug") and jdoc.span_text(jdoc.spans[0]) == "warfarin"
    assert seconds < 5


def test_hostile_crlf_ann_file_and_old_mac_text(tmp_path):
    # .ann with Windows line endings; .txt with lone CR line breaks (offsets still exact)
    text = "line\rPt on aspirin"
    corpus = read_corpus(brat_dir(tmp_path, text, "T1\tDrug 11 18\taspirin\r\nR1\tr Arg1:T1 Arg2:T1\r\n"), "brat")
    doc = corpus["d"]
    assert doc.span_text(doc.spans[0]) == "aspirin" and doc.meta["brat_other_lines"] == ("R1\tr Arg1:T1 Arg2:T1",)
    assert codes(corpus) == []


def test_hostile_bom_in_txt_and_ann_W102(tmp_path):
    corpus = read_corpus(brat_dir(tmp_path, "\ufeff" + TEXT, "\ufeffT1\tDrug 6 13\taspirin\n"), "brat")
    assert corpus["d"].spans[0].key == (6, 13, "Drug")
    assert codes(corpus) == ["W102", "W102"]
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": TEXT}).encode() + b"\n")
    corpus = read_corpus(path, "jsonl")
    assert corpus.documents[0].text == TEXT and codes(corpus) == ["W102"]


def test_hostile_bom_and_crlf_both_counted_brat_style(tmp_path):
    text = "\ufeffa\r\nb\r\nPt on aspirin"  # brat sees the BOM as char 0 and CRLF as one char: aspirin = [11, 18)
    corpus = read_corpus(brat_dir(tmp_path, text, "T1\tDrug 11 18\taspirin\n"), "brat")
    doc = corpus["d"]
    assert doc.span_text(doc.spans[0]) == "aspirin" and doc.spans[0].key == (12, 19, "Drug")
    assert sorted(codes(corpus)) == ["W102", "W106"]
    assert doc.meta == {"brat_bom": "counted", "brat_newlines": "universal"}


def test_hostile_brat_write_offset_inside_crlf_E112(tmp_path):
    doc = Document("d", "a\r\nb", (Span("d", 0, 2, "X"),), meta={"brat_newlines": "universal"})
    with pytest.raises(SpanqaError) as err:
        write_corpus(Corpus((doc,)), tmp_path / "out", "brat")
    assert err.value.code == "E112"


# --------------------------------------------------------------------------- JSONL records


def test_hostile_jsonl_duplicate_doc_ids_E107(tmp_path):
    err = jsonl_error(jsonl_file(tmp_path, {"id": "a", "text": "x"}, {"id": "a", "text": "y"}))
    assert err.code == "E107" and err.problem.where.line == 2


def test_hostile_jsonl_bad_json_line_E108(tmp_path):
    err = jsonl_error(jsonl_file(tmp_path, {"text": "x"}, '{"text": "y", spans: []}'))
    assert err.code == "E108" and err.problem.where.line == 2
    assert jsonl_error(jsonl_file(tmp_path, '["text", "x"]')).code == "E108"


@pytest.mark.parametrize("record", [
    {"spans": []},                                                        # no text
    {"text": None},                                                       # null text
    {"text": 12},                                                         # not a string
    {"text": TEXT, "spans": {"start": 6}},                                # spans not a list
    {"text": TEXT, "spans": "6-13 Drug"},
    {"text": TEXT, "spans": [[6, 13, "Drug"]]},                           # span not an object
    {"text": TEXT, "spans": [{"start": "6", "end": 13, "label": "Drug"}]},  # start a string
    {"text": TEXT, "spans": [{"start": 6, "end": 13.0, "label": "Drug"}]},  # end a float
    {"text": TEXT, "spans": [{"start": True, "end": 13, "label": "Drug"}]},  # bool is not an offset
    {"text": TEXT, "spans": [{"start": 6, "end": 13}]},                   # no label
    {"text": TEXT, "spans": [{"start": 6, "end": 13, "label": 3}]},       # label not a string
    {"text": TEXT, "id": {"a": 1}},                                       # id not a string or integer
    {"text": TEXT, "spans": [{"start": 0, "end": 13, "label": "D", "fragments": [[0, 2], [6, 10]]}]},  # hull
    {"text": TEXT, "spans": [{"start": 0, "end": 13, "label": "D", "fragments": [[0, 2, 3]]}]},
])
def test_hostile_jsonl_missing_or_mistyped_fields_E109(tmp_path, record):
    assert jsonl_error(jsonl_file(tmp_path, record)).code == "E109"


# --------------------------------------------------------------------------- collecting mode


def test_hostile_strict_false_collects_errors_and_skips_only_the_bad_span(tmp_path):
    ann = ("T1\tDrug 6 13\taspirin\n"
           "T2\tDose 14 99\t81mg\n"          # E201
           "T3\tDose 14 18\t82mg\n"          # E202
           "T4\tDose 14 18\t81mg\n"
           "T5 broken\n"                     # E105
           "R1\tr Arg1:T1 Arg2:T4\n")
    folder = brat_dir(tmp_path, TEXT, ann)
    (folder / "orphan.ann").write_text("T1\tDrug 0 1\tx\n")  # E106
    brat_dir(tmp_path, "fine", "", stem="z")
    corpus = read_corpus(folder, "brat", strict=False)
    assert [p.code for p in corpus.problems] == ["E105", "E201", "E202", "E106"]
    assert [(p.where.line, p.where.doc_id) for p in corpus.problems[:3]] == [(5, "d"), (2, "d"), (3, "d")]
    assert [d.id for d in corpus] == ["d", "z"]
    assert [s.id for s in corpus["d"].spans] == ["T1", "T4"]
    assert corpus["d"].meta["brat_other_lines"] == ("R1\tr Arg1:T1 Arg2:T4",)

    path = jsonl_file(tmp_path, {"id": "a", "text": TEXT, "spans": [
        {"start": 6, "end": 13, "label": "Drug"}, {"start": 6, "end": 99, "label": "Drug"},
        {"start": 14, "end": 18, "label": "Dose", "text": "82mg"}, {"start": 14, "end": 18, "label": "Dose"}]},
        "{broken", {"id": "a", "text": "dup"}, {"text": TEXT, "spans": 3}, {"id": "b", "text": "ok", "spans": []})
    corpus = read_corpus(path, "jsonl", strict=False)
    assert [(p.code, p.where.line) for p in corpus.problems] == [
        ("E201", 1), ("E202", 1), ("E108", 2), ("E107", 3), ("E109", 4)]
    assert [d.id for d in corpus] == ["a", "b"]
    assert [s.key for s in corpus["a"].spans] == [(6, 13, "Drug"), (14, 18, "Dose")]
