"""brat standoff reader and writer: behaviour, round trips, the PHEE corpus."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import corpus_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter, SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import brat, read_corpus, write_corpus


def put(folder: Path, stem: str, text: str | bytes, ann: str | bytes | None) -> None:
    """Write X.txt / X.ann as exact bytes (no newline translation)."""
    path = folder / f"{stem}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    if ann is not None:
        (folder / f"{stem}.ann").write_bytes(ann if isinstance(ann, bytes) else ann.encode("utf-8"))


def read(path: Path, **options) -> Corpus:
    return read_corpus(path, "brat", **options)


def codes(corpus: Corpus) -> list[str]:
    return [p.code for p in corpus.problems]


def roundtrip(corpus: Corpus, tmp: Path, **options) -> Corpus:
    write_corpus(corpus, tmp, "brat")
    return read(tmp, **options)


def test_brat_reads_folder_recursively_with_relative_ids(tmp_path):
    put(tmp_path / "a" / "b", "n1", "Pt on aspirin.", "T1\tDrug 6 13\taspirin\n")
    put(tmp_path, "n0", "No meds.", "")
    (tmp_path / "annotation.conf").write_text("[entities]\nDrug\n")
    put(tmp_path / ".hidden", "x", "ignored", "")
    corpus = read(tmp_path)
    assert [d.id for d in corpus] == ["a/b/n1", "n0"]
    assert corpus["a/b/n1"].spans == (Span("a/b/n1", 6, 13, "Drug", id="T1"),)
    assert corpus["n0"].spans == ()
    assert [(p.code, p.detail) for p in corpus.problems] == [("W110", "1 entry not read: .hidden/ (hidden)")]


def test_brat_reads_a_single_ann_or_txt_file(tmp_path):
    put(tmp_path, "n1", "Pt on aspirin.", "T1\tDrug 6 13\taspirin\n")
    put(tmp_path, "n2", "other", "")
    for name in ("n1.ann", "n1.txt"):
        corpus = read(tmp_path / name)
        assert [d.id for d in corpus] == ["n1"] and len(corpus["n1"].spans) == 1


def test_brat_discontinuous_fragments_sorted_with_hull_and_file_order_text(tmp_path):
    text = "Stomatitis, diarrhea are toxicities of 5-FU."
    # PHEE lists fragments out of order; the recorded text follows the listed order
    put(tmp_path, "d", text, "T10\tEffect 12 20;0 10\tdiarrhea Stomatitis\n")
    span = read(tmp_path)["d"].spans[0]
    assert span.fragments == ((0, 10), (12, 20)) and (span.start, span.end) == (0, 20)
    assert span.text_in(text) == "Stomatitis diarrhea"


def test_brat_keeps_other_lines_verbatim_in_order_and_exposes_notes(tmp_path):
    ann = ("T1\tDrug 0 7\taspirin\n"
           "E1\tAdverse_event:T2 Treatment:T1\n"
           "T2\tAdverse_event 8 15\tinduced\n"
           "#1\tAnnotatorNotes T1\tcheck brand\n"
           "A1\tSeverity E1 High\n"
           "R1\thas Arg1:T1 Arg2:T2\t\n"
           "N1\tReference T1 RxNorm:1191\taspirin\n"
           "*\tEquiv T1 T2\n"
           "M1\tNegation E1\n"
           "#2\tAnnotatorNotes E1\tevent note\n")
    put(tmp_path, "d", "aspirin induced rash", ann)
    corpus = read(tmp_path)
    doc = corpus["d"]
    assert [s.id for s in doc.spans] == ["T1", "T2"]
    assert doc.spans[0].meta == {"note": "check brand"} and doc.spans[1].meta == {}
    assert doc.meta["brat_other_lines"] == tuple(
        line for line in ann.split("\n") if line and not line.startswith("T"))
    assert codes(corpus) == []


def test_brat_unknown_line_kind_is_kept_and_warned(tmp_path):
    put(tmp_path, "d", "aspirin", "T1\tDrug 0 7\taspirin\nX1\tsomething else\nno tab here\n")
    corpus = read(tmp_path)
    assert corpus["d"].meta["brat_other_lines"] == ("X1\tsomething else", "no tab here")
    assert codes(corpus) == ["W101", "W101"]
    assert corpus.problems[0].where.line == 2


def test_brat_txt_without_ann_is_not_annotated(tmp_path):
    put(tmp_path, "d", "aspirin", None)
    corpus = read(tmp_path, strict=True)
    assert corpus["d"].spans is None and codes(corpus) == ["W103"]


def test_brat_empty_ann_is_annotated_empty_and_empty_txt_is_allowed(tmp_path):
    put(tmp_path, "a", "aspirin", "")
    put(tmp_path, "b", "", "")
    corpus = read(tmp_path)
    assert corpus["a"].spans == () and corpus["b"].text == "" and corpus["b"].spans == ()


def test_brat_crlf_is_two_characters(tmp_path):
    text = "Line one\r\nPt on aspirin.\r\n"
    put(tmp_path, "d", text, "T1\tDrug 16 23\taspirin\n")
    doc = read(tmp_path)["d"]
    assert doc.text == text and doc.text[16:23] == "aspirin"
    assert "brat_newlines" not in doc.meta


def test_brat_crlf_counted_as_one_character_is_detected_and_written_back(tmp_path):
    # brat's server reads text with universal newlines: offsets made in the brat UI count CRLF once
    text = "Line one\r\nPt on aspirin.\r\nthen warfarin"
    ann = "T1\tDrug 15 22\taspirin\nT2\tDrug 29 37\twarfarin\n"
    put(tmp_path / "in", "d", text, ann)
    corpus = read(tmp_path / "in")
    doc = corpus["d"]
    assert [doc.span_text(s) for s in doc.spans] == ["aspirin", "warfarin"]
    assert doc.spans[0].key == (16, 23, "Drug") and doc.meta["brat_newlines"] == "universal"
    assert codes(corpus) == ["W106"]
    again = roundtrip(corpus, tmp_path / "out")
    assert again.documents == corpus.documents
    assert (tmp_path / "out" / "d.ann").read_text() == ann  # same offsets as brat wrote them
    assert (tmp_path / "out" / "d.txt").read_bytes() == text.encode()


def test_brat_crlf_option_forces_counting(tmp_path):
    text = "a\r\nb aspirin"
    put(tmp_path, "d", text, "T1\tDrug 4 11\taspirin\n")
    with pytest.raises(SpanqaError) as err:
        read(tmp_path, newlines="exact")
    assert err.value.code == "E202"
    assert read(tmp_path, newlines="universal")["d"].spans[0].key == (5, 12, "Drug")


def test_brat_bom_removed_offsets_after_it(tmp_path):
    put(tmp_path, "d", "\ufeffPt on aspirin.".encode(), "T1\tDrug 6 13\taspirin\n")
    corpus = read(tmp_path)
    doc = corpus["d"]
    assert doc.text == "Pt on aspirin." and doc.spans[0].key == (6, 13, "Drug")
    assert doc.meta["brat_bom"] == "skipped" and codes(corpus) == ["W102"]


def test_brat_bom_counted_as_character_zero_is_detected(tmp_path):
    # brat decodes with the plain utf8 codec, so a BOM it saw is character 0 of its offsets
    put(tmp_path / "in", "d", "\ufeffPt on aspirin.".encode(), "T1\tDrug 7 14\taspirin\n")
    corpus = read(tmp_path / "in")
    doc = corpus["d"]
    assert doc.spans[0].key == (6, 13, "Drug") and doc.meta["brat_bom"] == "counted"
    assert codes(corpus) == ["W102"] and "character 0" in corpus.problems[0].detail
    again = roundtrip(corpus, tmp_path / "out")
    assert again.documents == corpus.documents
    assert (tmp_path / "out" / "d.txt").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (tmp_path / "out" / "d.ann").read_text() == "T1\tDrug 7 14\taspirin\n"


def test_brat_text_field_tail_after_whitespace_is_kept(tmp_path):
    put(tmp_path / "in", "d", "dysphagia", "T1\tEffect 0 9\tdysphagia\t\n")  # as in PHEE dev 19047493_2
    corpus = read(tmp_path / "in")
    assert corpus["d"].spans[0].meta == {"brat_tail": "\t"}
    assert roundtrip(corpus, tmp_path / "out").documents == corpus.documents
    assert (tmp_path / "out" / "d.ann").read_text() == "T1\tEffect 0 9\tdysphagia\t\n"


def test_brat_t_line_without_text_field_is_accepted(tmp_path):
    put(tmp_path, "d", "aspirin", "T1\tDrug 0 7\n")
    assert read(tmp_path)["d"].spans[0].key == (0, 7, "Drug")


def test_brat_span_across_newline_written_with_spaces_and_read_back(tmp_path):
    text = "aspirin\r\n81\nmg daily"
    doc = Document("d", text, (Span("d", 0, 14, "Drug", id="T1"),))
    corpus = Corpus((doc,))
    again = roundtrip(corpus, tmp_path)
    assert again.documents == corpus.documents
    assert (tmp_path / "d.ann").read_text(encoding="utf-8") == "T1\tDrug 0 14\taspirin  81 mg\n"


def test_brat_write_generates_ids_without_collisions(tmp_path):
    doc = Document("d", "aspirin and warfarin", (
        Span("d", 0, 7, "Drug"), Span("d", 12, 20, "Drug", id="T2"), Span("d", 0, 7, "Drug", id="T2"),
        Span("d", 12, 20, "Drug", id="lsregion-1")), meta={"brat_other_lines": ("R7\tr Arg1:T2 Arg2:T2", "T9x\tweird")})
    write_corpus(Corpus((doc,)), tmp_path, "brat")
    ids = [line.split("\t")[0] for line in (tmp_path / "d.ann").read_text().splitlines() if line.startswith("T")]
    assert ids == ["T10", "T2", "T11", "T12", "T9x"]


def test_brat_write_note_from_meta_and_skips_unannotated(tmp_path):
    corpus = Corpus((Document("a", "aspirin", (Span("a", 0, 7, "Drug", id="T1", meta={"note": "brand?"}),)),
                     Document("b", "nothing", None)))
    write_corpus(corpus, tmp_path, "brat")
    assert (tmp_path / "a.ann").read_text() == "T1\tDrug 0 7\taspirin\n#1\tAnnotatorNotes T1\tbrand?\n"
    assert (tmp_path / "b.txt").exists() and not (tmp_path / "b.ann").exists()
    again = read(tmp_path)
    assert again["a"].spans[0].meta == {"note": "brand?"} and again["b"].spans is None


@pytest.mark.parametrize("label", ["Drug name", "Drug\tX", "", "Drug\n"])
def test_brat_write_rejects_labels_brat_cannot_hold(tmp_path, label):
    corpus = Corpus((Document("d", "aspirin", (Span("d", 0, 7, label),)),))
    with pytest.raises(SpanqaError) as err:
        write_corpus(corpus, tmp_path, "brat")
    assert err.value.code == "E112"


@pytest.mark.parametrize("doc_id", ["../evil", "/abs", "", "a//b", ".hidden"])
def test_brat_write_rejects_unsafe_document_ids(tmp_path, doc_id):
    with pytest.raises(SpanqaError) as err:
        write_corpus(Corpus((Document(doc_id, "x", ()),)), tmp_path / "out", "brat")
    assert err.value.code == "E112"


def test_brat_sniff(tmp_path):
    put(tmp_path, "d", "x", "")
    assert brat.sniff(tmp_path / "d.ann") and brat.sniff(tmp_path) and not brat.sniff(tmp_path / "d.txt")


def test_brat_read_with_reporter_directly(tmp_path):
    put(tmp_path, "d", "aspirin", "T1\tDrug 0 7\taspirin\n")
    reporter = Reporter()
    corpus = brat.read(tmp_path, reporter=reporter)
    assert corpus.format == "brat" and reporter.problems == []


# --------------------------------------------------------------------------- property tests

#: random text with CRLF, lone CR/LF, tabs, line separators, astral and CJK characters (no leading BOM:
#: brat cannot hold a text that starts with U+FEFF, the reader takes it for a byte-order mark)
_TEXT = st.lists(st.sampled_from(["ab", " ", "é", "\t", "\r\n", "\r", "\n", ".", ";", "\u2028", "😀", "漢", "\x85"])
                 | st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40).map("".join).filter(
    lambda t: not t.startswith("\ufeff"))
_LABEL = st.sampled_from(["Drug", "Dose", "Route_X", "Ä-1", "a:b"])


@st.composite
def _brat_doc(draw, doc_id: str) -> Document:
    text = draw(_TEXT)
    spans = []
    for k in range(draw(st.integers(0, 4)) if len(text) >= 1 else 0):
        cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6))))
        pieces = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if a < b]
        if not pieces:
            continue
        frags = tuple(pieces) if len(pieces) > 1 else None
        note = draw(st.none() | st.sampled_from(["brand?", "x y"]))
        spans.append(Span(doc_id, pieces[0][0], pieces[-1][1], draw(_LABEL), fragments=frags, id=f"T{k + 1}"))
        if note:
            spans[-1] = spans[-1].evolve(meta={"note": note})
    other = tuple(f"#{k + 1}\tAnnotatorNotes {s.id}\t{s.meta['note']}" for k, s in enumerate(spans) if s.meta)
    extra = draw(st.sampled_from([(), ("R1\tRel Arg1:T1 Arg2:T1",), ("A1\tNeg T1", "X9\tunknown kind")]))
    meta = {"brat_other_lines": other + extra} if other + extra else {}
    annotated = draw(st.booleans()) or spans or meta
    return Document(doc_id, text, tuple(spans) if annotated else None, meta=meta if annotated else {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.tuples(_brat_doc("n1"), _brat_doc("sub/n2")))
def test_brat_roundtrip_random_documents(tmp_path_factory, docs):
    out = tmp_path_factory.mktemp("rt")
    corpus = Corpus(tuple(docs))
    again = roundtrip(corpus, out, strict=True)
    assert again.documents == corpus.documents


# --------------------------------------------------------------------------- the PHEE corpus


def _phee_roundtrip(split: str, tmp: Path) -> tuple[Corpus, Corpus, float]:
    path = corpus_path("phee", "v1_brat", split)
    t0 = time.perf_counter()
    corpus = read(path, strict=True)
    seconds = time.perf_counter() - t0
    return corpus, roundtrip(corpus, tmp / split, strict=True), seconds


def test_brat_phee_dev_roundtrip_has_no_differences(tmp_path):
    corpus, again, seconds = _phee_roundtrip("dev", tmp_path)
    assert (len(corpus), sum(len(d.spans) for d in corpus)) == (961, 6098)
    assert codes(corpus) == []
    assert again.documents == corpus.documents
    assert seconds < 10


@pytest.mark.slow
def test_brat_phee_all_splits_roundtrip(tmp_path):
    expected = {"train": (2898, 18044, 380), "dev": (961, 6098, 123), "test": (968, 6168, 117)}
    for split, counts in expected.items():
        corpus, again, _ = _phee_roundtrip(split, tmp_path)
        spans = list(corpus.spans())
        assert (len(corpus), len(spans), sum(s.is_discontinuous for s in spans)) == counts
        assert again.documents == corpus.documents
