"""CoNLL / BIO reader and writer: text rebuilding, document breaks, schemes, hostile input, round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter, SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.bio import SCHEMES, spans_to_tags
from spanqa.corpus.formats import conll, detect_format, read_corpus

DOC = """-DOCSTART- -X- -X- O

Pt NN B-NP O
took VB B-VP O
aspirin NN B-NP B-Drug
81 CD B-NP B-Strength
mg NN I-NP I-Strength

No DT B-NP O
rash NN I-NP B-Problem
.  . O O

-DOCSTART- -X- -X- O

-DOCSTART- -X- -X- O

BP NN B-NP B-Test
"""


def _write(tmp_path: Path, content: str | bytes, name: str = "notes.conll") -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def _read(path: Path, strict: bool = True, **options) -> tuple[Corpus, Reporter]:
    reporter = Reporter(strict=strict)
    return conll.read(path, reporter=reporter, **options), reporter


def test_conll_text_tokens_sentences_and_spans(tmp_path):
    corpus, rep = _read(_write(tmp_path, DOC))
    doc = corpus.documents[0]
    assert doc.id == "notes-0"
    assert doc.text == "Pt took aspirin 81 mg\nNo rash ."
    assert [doc.text[a:b] for a, b in doc.tokens] == ["Pt", "took", "aspirin", "81", "mg", "No", "rash", "."]
    assert [doc.text[a:b] for a, b in doc.sentences] == ["Pt took aspirin 81 mg", "No rash ."]
    assert [(doc.span_text(s), s.label) for s in doc.spans] == [("aspirin", "Drug"), ("81 mg", "Strength"),
                                                                ("rash", "Problem")]
    assert doc.meta["conll"]["columns"][0] == ("NN", "B-NP")
    assert doc.meta["conll"]["markers"] == ((0, "-DOCSTART- -X- -X- O"),)
    assert rep.problems == []


def test_conll_docstart_without_tokens_is_an_empty_document(tmp_path):
    corpus, _ = _read(_write(tmp_path, DOC))
    assert [d.id for d in corpus] == ["notes-0", "notes-1", "notes-2"]  # one per -DOCSTART- line
    empty = corpus.documents[1]
    assert (empty.text, empty.spans, empty.tokens, empty.sentences) == ("", (), (), ())
    assert corpus.documents[2].text == "BP"


def test_conll_doc_break_sentence_and_file(tmp_path):
    path = _write(tmp_path, DOC)
    by_sentence, _ = _read(path, doc_break="sentence")
    assert [d.text for d in by_sentence] == ["Pt took aspirin 81 mg", "No rash .", "BP"]
    # both -DOCSTART- lines before "BP" travel with it
    assert len(by_sentence.documents[2].meta["conll"]["markers"]) == 2
    whole, _ = _read(path, doc_break="file")
    assert len(whole) == 1 and whole.documents[0].text == "Pt took aspirin 81 mg\nNo rash .\nBP"
    assert [k for k, _ in whole.documents[0].meta["conll"]["markers"]] == [0, 2, 2]


def test_conll_auto_without_docstart_is_one_document_per_sentence(tmp_path):
    corpus, _ = _read(_write(tmp_path, "a O\nb B-X\n\n\n\nc O\n", "s.tsv"))
    assert [(d.id, d.text) for d in corpus] == [("s-0", "a b"), ("s-1", "c")]


def test_conll_entity_does_not_cross_a_blank_line(tmp_path):
    corpus, rep = _read(_write(tmp_path, "a B-X\n\nb I-X\n"), doc_break="file")
    assert [(s.start, s.end) for s in corpus.documents[0].spans] == [(0, 1), (2, 3)]
    assert [(p.code, p.where.line) for p in rep.problems] == [("W104", 3)]


def test_conll_tab_separated_with_tag_column(tmp_path):
    text = "-DOCSTART-\t-X-\tO\tO\n\nNew York\tNNP\tB-LOC\tB-ORG\nis\tVBZ\tO\tO\n"
    last, _ = _read(_write(tmp_path, text, "c.test"))
    fourth, _ = _read(_write(tmp_path, text, "c.test"), tag_column=2)
    assert last.documents[0].text == "New York is"  # a token may hold a space in a tab-separated file
    assert [s.label for s in last.documents[0].spans] == ["ORG"]
    assert [s.label for s in fourth.documents[0].spans] == ["LOC"]
    assert fourth.documents[0].meta["conll"]["columns"][0] == ("NNP", "B-ORG")
    out = tmp_path / "out" / "c.test"
    conll.write(fourth, out)
    assert out.read_text() == text + "\n"


@pytest.mark.parametrize("scheme,tags", [
    ("IOB1", ["I-X", "I-X", "B-X", "O", "I-Y"]),
    ("IOB2", ["B-X", "I-X", "B-X", "O", "B-Y"]),
    ("BIOES", ["B-X", "E-X", "S-X", "O", "S-Y"]),
])
def test_conll_schemes_decode_the_same_entities(tmp_path, scheme, tags):
    content = "".join(f"w{i} {t}\n" for i, t in enumerate(tags))
    corpus, rep = _read(_write(tmp_path, content), scheme=scheme)
    assert [(s.start, s.end, s.label) for s in corpus.documents[0].spans] == [(0, 5, "X"), (6, 8, "X"), (12, 14, "Y")]
    assert rep.problems == []


def test_conll_stray_inside_tag_repaired_with_line(tmp_path):
    corpus, rep = _read(_write(tmp_path, "a O\nb I-X\nc I-X\n"))
    assert [(s.start, s.end) for s in corpus.documents[0].spans] == [(2, 5)]
    assert [(p.code, p.where.line, p.where.excerpt) for p in rep.problems] == [("W104", 2, "b")]


def test_conll_invalid_tag_is_e111_with_line(tmp_path):
    path = _write(tmp_path, "a O\nb E-X\nc B-\n")
    with pytest.raises(SpanqaError) as err:
        _read(path)
    assert err.value.code == "E111" and err.value.problem.where.line == 2
    corpus, rep = _read(path, strict=False)
    assert [(p.code, p.where.line) for p in rep.problems] == [("E111", 2), ("E111", 3)]
    assert corpus.documents[0].spans == ()  # read as O


def test_conll_ragged_columns_are_e110_with_line(tmp_path):
    path = _write(tmp_path, "a NN O\nb O\nc NN B-X\n")
    with pytest.raises(SpanqaError) as err:
        _read(path)
    assert err.value.code == "E110" and err.value.problem.where.line == 2
    corpus, rep = _read(path, strict=False)
    assert [p.code for p in rep.problems] == ["E110"]
    assert corpus.documents[0].text == "a b c"


def test_conll_tag_column_zero_is_e110(tmp_path):
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, "a O\n"), tag_column=0)
    assert err.value.code == "E110"


def test_conll_empty_file_is_e104(tmp_path):
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, "\n\n"))
    assert err.value.code == "E104"


def test_conll_non_utf8_is_e103_with_line(tmp_path):
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, b"a O\ncaf\xe9 O\n"))
    assert err.value.code == "E103" and err.value.problem.where.line == 2


def test_conll_bom_removed_with_w102(tmp_path):
    corpus, rep = _read(_write(tmp_path, "\ufeffa B-X\n"))
    assert corpus.documents[0].text == "a" and [p.code for p in rep.problems] == ["W102"]


def test_conll_folder_reads_files_sorted(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    _write(folder, "b B-X\n", "b.conll")
    _write(folder, "a O\n", "a.txt")
    _write(folder, "not a conll file at all\n", "README")
    corpus, _ = _read(folder)
    assert [d.id for d in corpus] == ["a-0", "b-0"]
    out = tmp_path / "out"
    out.mkdir()
    conll.write(corpus, out)
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.conll"]
    assert _read(out)[0].documents == corpus.documents


def test_conll_round_trip_reproduces_bytes(tmp_path):
    path = _write(tmp_path, DOC)
    corpus, _ = _read(path)
    out = tmp_path / "out" / "notes.conll"
    assert conll.write(corpus, out) == []
    assert _read(out)[0].documents == corpus.documents
    # a double space in ".  ." and nothing else changes
    assert out.read_text() == DOC.replace(".  . O O", ". . O O") + "\n"


def test_conll_write_other_scheme_reads_back_equal(tmp_path):
    corpus, _ = _read(_write(tmp_path, DOC))
    out = tmp_path / "out" / "notes.conll"
    conll.write(corpus, out, scheme="BIOES")
    assert "S-Drug" in out.read_text() and "E-Strength" in out.read_text()
    assert _read(out, scheme="BIOES")[0].documents == corpus.documents


def test_conll_write_reports_overlap_discontinuous_and_unannotated(tmp_path):
    text = "took aspirin 81 mg daily"
    doc = Document("n1", text, (Span("n1", 5, 18, "Drug"), Span("n1", 13, 18, "Strength"),
                                Span("n1", 0, 24, "Event", fragments=((0, 4), (19, 24)))))
    corpus = Corpus.from_docs([doc, Document("n2", "no annotation", None)])
    rep = Reporter()
    problems = conll.write(corpus, tmp_path / "n.conll", reporter=rep)
    details = [p.detail for p in problems]
    assert all(p.code == "W107" for p in problems) and problems == rep.problems
    assert any("discontinuous Event" in d for d in details)
    assert sum("overlaps a longer one" in d for d in details) == 2  # Drug and Strength lose to the Event hull
    assert any("not annotated" in d for d in details)
    back = _read(tmp_path / "n.conll")[0]
    assert [d.text for d in back] == ["took aspirin 81 mg daily", "no annotation"]
    assert [(s.start, s.end, s.label) for s in back.documents[0].spans] == [(0, 24, "Event")]
    assert back.documents[1].spans == ()


def test_conll_write_foreign_document_keeps_surface_strings(tmp_path):
    text = "Pt  took aspirin81mg\ttoday."
    doc = Document("note", text, (Span("note", 9, 16, "Drug"), Span("note", 16, 20, "Strength")))
    problems = conll.write(Corpus.from_docs([doc]), tmp_path / "x.conll")
    assert problems == []  # "aspirin81mg" is split at the span edge: our tokenisation, nothing lost
    back = _read(tmp_path / "x.conll")[0].documents[0]
    assert back.text.startswith("Pt took aspirin 81")  # whitespace normalised, tokens joined by one space
    assert [back.span_text(s).replace(" ", "") for s in back.spans] == ["aspirin", "81mg"]
    assert [s.label for s in back.spans] == ["Drug", "Strength"]


def test_conll_write_reports_split_of_source_token(tmp_path):
    doc = Document("d", "aspirin81", (Span("d", 0, 7, "Drug"),), tokens=((0, 9),), sentences=((0, 9),))
    problems = conll.write(Corpus.from_docs([doc]), tmp_path / "x.conll")
    assert [(p.code, p.where.start) for p in problems] == [("W107", 7)]
    assert (tmp_path / "x.conll").read_text().splitlines()[2:4] == ["aspirin B-Drug", "81 O"]


def test_conll_write_token_with_space_is_e112(tmp_path):
    doc = Document("d", "New York", (), tokens=((0, 8),), sentences=((0, 8),))
    with pytest.raises(SpanqaError) as err:
        conll.write(Corpus.from_docs([doc]), tmp_path / "x.conll")
    assert err.value.code == "E112"


def test_conll_write_label_with_space_is_e112(tmp_path):
    doc = Document("d", "a b", (Span("d", 0, 1, "Adverse event"),), tokens=((0, 1), (2, 3)), sentences=((0, 3),))
    with pytest.raises(SpanqaError) as err:
        conll.write(Corpus.from_docs([doc]), tmp_path / "x.conll")
    assert err.value.code == "E112" and err.value.problem.where.doc_id == "d"


def test_conll_sniff_and_detect(tmp_path):
    assert conll.sniff(_write(tmp_path, DOC, "a.txt"))
    assert not conll.sniff(_write(tmp_path, "123|t|A title\n123|a|An abstract\n", "b.txt"))
    assert not conll.sniff(_write(tmp_path, "just some prose here\n", "c.txt"))
    assert detect_format(tmp_path / "a.txt") == "conll"
    corpus = read_corpus(tmp_path / "a.txt")
    assert corpus.format == "conll" and len(corpus) == 3


# --------------------------------------------------------------------------- property: round trip per scheme

LABELS = ("Drug", "Dose", "B-ish")
#: no U+FEFF: at the start of a hand-written file it is a byte-order mark (the writer's escape is tested below)
TOKEN = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
                                       blacklist_characters="\u0085\u1680\u180e\ufeff"), min_size=1, max_size=6)


def test_conll_first_token_starting_with_u_feff_survives_the_round_trip(tmp_path):
    src = tmp_path / "i.conll"
    src.write_bytes("\ufeff\ufeffx O\naspirin B-Drug\n".encode("utf-8"))  # a BOM, then a token starting with U+FEFF
    first, rep = _read(src)
    assert first.documents[0].text.startswith("\ufeffx") and [p.code for p in rep.problems] == ["W102"]
    out = tmp_path / "out" / "i.conll"
    conll.write(first, out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf\xef\xbb\xbf")  # the writer escapes it with a real BOM
    second, _ = _read(out)
    assert second.documents == first.documents


@st.composite
def conll_corpus(draw):
    sentences = []
    for _ in range(draw(st.integers(1, 4))):
        tokens = [t for t in draw(st.lists(TOKEN, min_size=1, max_size=8)) if t != conll.DOCSTART]
        tokens = tokens or ["x"]
        words = [(2 * i, 2 * i + 1) for i in range(len(tokens))]
        spans, i = [], 0
        while i < len(tokens):
            if draw(st.booleans()):
                j = min(len(tokens), i + draw(st.integers(1, 3)))
                spans.append(Span("d", 2 * i, 2 * (j - 1) + 1, draw(st.sampled_from(LABELS))))
                i = j
            else:
                i += 1
        sentences.append((tokens, words, spans))
    return sentences


@settings(max_examples=60, deadline=None)
@given(conll_corpus(), st.sampled_from(SCHEMES), st.sampled_from(SCHEMES),
       st.sampled_from(["auto", "file", "sentence"]))
def test_conll_round_trip_random_tags_every_scheme(sentences, scheme, out_scheme, doc_break):
    lines = []
    for tokens, words, spans in sentences:
        tags = spans_to_tags(words, spans, scheme=scheme)
        lines += [f"{t} POS {tag}" for t, tag in zip(tokens, tags)] + [""]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in" / "r.conll"
        src.parent.mkdir()
        src.write_text("\n".join(lines), encoding="utf-8")
        first, rep = _read(src, scheme=scheme, doc_break=doc_break)
        assert rep.problems == []
        out = Path(tmp) / "out" / "r.conll"
        assert conll.write(first, out, scheme=out_scheme) == []
        second, rep2 = _read(out, scheme=out_scheme, doc_break=doc_break)
        assert second.documents == first.documents and rep2.problems == []
        n_spans = sum(len(s) for _, _, s in sentences)
        assert sum(len(d.spans) for d in first) == n_spans


def test_conll_scheme_is_case_insensitive_and_an_unknown_one_is_a_coded_error(tmp_path):
    from spanqa.core.errors import SpanqaError
    from spanqa.corpus.formats import read_corpus

    f = tmp_path / "a.conll"
    f.write_text("aspirin B-Drug\n81mg B-Strength\n", encoding="utf-8")
    lower = read_corpus(f, format="conll", scheme="iob2")
    assert [(s.label, s.start, s.end) for s in lower.documents[0].spans] == [("Drug", 0, 7), ("Strength", 8, 12)]
    for bad in ({"scheme": "BILOU"}, {"doc_break": "page"}):
        with pytest.raises(SpanqaError) as err:
            read_corpus(f, format="conll", **bad)
        assert err.value.code == "E113" and "a.conll" in str(err.value)


def test_an_empty_token_line_is_skipped_and_reported(tmp_path):
    """Crowd exports hold lines like ' I-PER' (an empty token, then its tag): skipped with W113, not E110."""
    from spanqa.core.errors import Reporter
    from spanqa.corpus.formats import read_corpus

    p = tmp_path / "w.txt"
    p.write_text("Guenter B-PER\nBertram I-PER\n I-PER\ntold O\n\nHe O\n")
    r = Reporter()
    c = read_corpus(p, format="conll", doc_break="file", reporter=r)
    d = c.documents[0]
    assert d.text == "Guenter Bertram told\nHe" and [s.text_in(d.text) for s in d.spans] == ["Guenter Bertram"]
    assert [(x.code, x.where.line) for x in r.problems] == [("W113", 3)]
