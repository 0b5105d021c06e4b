"""PubTator reader and writer: title/abstract text, mentions, relations, duplicates, hostile input, round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter, SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import detect_format, pubtator, read_corpus

PT = (
    "101|t|Lithium toxicity in a newborn.\n"
    "101|a|Lithium carbonate caused tricuspid regurgitation.\n"
    "101\t0\t7\tLithium\tChemical\tD008094\n"
    "101\t8\t16\ttoxicity\tDisease\tD064420\n"
    "101\t31\t48\tLithium carbonate\tChemical\tD016651\n"
    "101\tCID\tD008094\tD064420\n"
    "101\t56\t79\ttricuspid regurgitation\tDisease\tD014262|D000001\ttricuspid|regurgitation\n"
    "\n"
    "102|t|No mentions here.\n"
    "102|a|Nothing at all.\n"
    "\n"
    "103|t|Title only aspirin\n"
    "103\t11\t18\taspirin\tChemical\n"
    "\n"
)


def _write(tmp_path: Path, content: str | bytes, name: str = "corpus.txt") -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def _read(path: Path, strict: bool = True) -> tuple[Corpus, Reporter]:
    rep = Reporter(strict=strict)
    return pubtator.read(path, reporter=rep), rep


def test_pubtator_text_offsets_and_concepts(tmp_path):
    corpus, rep = _read(_write(tmp_path, PT))
    doc = corpus["101"]
    assert doc.text == "Lithium toxicity in a newborn.\nLithium carbonate caused tricuspid regurgitation."
    assert [(doc.span_text(s), s.label) for s in doc.spans] == [
        ("Lithium", "Chemical"), ("toxicity", "Disease"), ("Lithium carbonate", "Chemical"),
        ("tricuspid regurgitation", "Disease")]
    assert doc.spans[0].meta == {"concept": "D008094"}
    assert doc.spans[3].meta == {"concept": "D014262|D000001", "extra": ("tricuspid|regurgitation",)}
    assert doc.meta["pubtator"]["other"] == ((3, "101\tCID\tD008094\tD064420"),)
    assert rep.problems == []


def test_pubtator_block_without_mentions_is_annotated_empty(tmp_path):
    corpus, _ = _read(_write(tmp_path, PT))
    assert corpus["102"].spans == () and corpus["102"].annotated
    assert corpus["103"].text == "Title only aspirin"  # no |a| line: the title alone
    assert corpus["103"].spans[0].meta == {}  # 5 columns: no concept


def test_pubtator_mention_mismatch_is_e202_with_line(tmp_path):
    path = _write(tmp_path, PT.replace("\t56\t79\t", "\t56\t80\t"))  # 56-80 adds the "."
    with pytest.raises(SpanqaError) as err:
        _read(path)
    assert err.value.code == "E202" and err.value.problem.where.line == 7
    corpus, rep = _read(path, strict=False)
    assert [p.code for p in rep.problems] == ["E202"] and len(corpus["101"].spans) == 3


def test_pubtator_offsets_out_of_range_are_e201(tmp_path):
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, "1|t|abc\n1\t1\t9\tbc\tX\tC\n"))
    assert err.value.code == "E201" and err.value.problem.where.line == 2


def test_pubtator_whitespace_only_difference_is_w109_and_kept(tmp_path):
    path = _write(tmp_path, "1|t|a rash here\n1\t2\t6\trash  \tDisease\tD1\n")
    corpus, rep = _read(path)
    assert [(p.code, p.where.line) for p in rep.problems] == [("W109", 2)]
    assert corpus["1"].spans[0].meta["mention"] == "rash  "
    pubtator.write(corpus, tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text() == path.read_text() + "\n"


def test_pubtator_malformed_and_unknown_lines(tmp_path):
    path = _write(tmp_path, "1|t|abc\n1\t0\tx\tabc\tX\n1\tfoo\n2\t0\t1\ta\tX\n")
    with pytest.raises(SpanqaError) as err:
        _read(path)
    assert err.value.code == "E105" and err.value.problem.where.line == 2
    corpus, rep = _read(path, strict=False)
    assert [(p.code, p.where.line) for p in rep.problems] == [("E105", 2), ("W101", 3), ("E105", 4)]
    assert corpus["1"].meta["pubtator"]["other"] == ((0, "1\tfoo"),)


def test_pubtator_identical_duplicate_dropped_with_w108(tmp_path):
    block = "7|t|T\n7|a|A b\n7\t2\t3\tA\tX\tC\n\n"
    corpus, rep = _read(_write(tmp_path, block + "8|t|U\n\n" + block))
    assert [d.id for d in corpus] == ["7", "8"]
    assert [(p.code, p.where.line) for p in rep.problems] == [("W108", 7)]


def test_pubtator_conflicting_duplicate_is_e107(tmp_path):
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, "7|t|T\n\n7|t|Other\n"))
    assert err.value.code == "E107" and err.value.problem.where.line == 3


def test_pubtator_duplicate_across_files_is_e107(tmp_path):
    folder = tmp_path / "split"
    folder.mkdir()
    _write(folder, "7|t|T\n", "a.txt")
    _write(folder, "7|t|T\n", "b.txt")
    with pytest.raises(SpanqaError) as err:
        _read(folder)
    assert err.value.code == "E107" and err.value.problem.where.path.endswith("b.txt")


def test_pubtator_folder_reads_pubtator_files_sorted(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write(folder, "2|t|Second\n", "b.txt")
    _write(folder, "1|t|First\n", "a.txt")
    _write(folder, "PUBLIC DOMAIN NOTICE\n", "LICENSE")
    corpus, _ = _read(folder)
    assert [d.id for d in corpus] == ["1", "2"]
    assert detect_format(folder) == "pubtator"
    out = tmp_path / "out"
    out.mkdir()
    pubtator.write(corpus, out)
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]


def test_pubtator_empty_and_non_utf8(tmp_path):
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, "\n\n"))
    assert err.value.code == "E104"
    with pytest.raises(SpanqaError) as err:
        _read(_write(tmp_path, b"1|t|caf\xe9\n"))
    assert err.value.code == "E103" and err.value.problem.where.line == 1


def test_pubtator_round_trip_reproduces_file(tmp_path):
    src = _write(tmp_path, PT)
    corpus, _ = _read(src)
    out = tmp_path / "out" / "corpus.txt"
    assert pubtator.write(corpus, out) == []
    assert out.read_text() == src.read_text()
    assert _read(out)[0].documents == corpus.documents


def test_pubtator_write_line_breaks_in_abstract(tmp_path):
    doc = Document("5", "Title\nline one\nline two", (Span("5", 6, 10, "X"),))
    with pytest.raises(SpanqaError) as err:
        pubtator.write(Corpus.from_docs([doc]), tmp_path / "x.txt")
    assert err.value.code == "E112"
    problems = pubtator.write(Corpus.from_docs([doc]), tmp_path / "x.txt", newlines="space")
    assert [p.code for p in problems] == ["W107"]
    back = _read(tmp_path / "x.txt")[0]["5"]
    assert back.text == "Title\nline one line two" and back.spans[0].start == 6


def test_pubtator_write_reports_unannotated_and_bad_ids(tmp_path):
    problems = pubtator.write(Corpus.from_docs([Document("9", "T", None)]), tmp_path / "x.txt")
    assert [p.code for p in problems] == ["W107"]
    with pytest.raises(SpanqaError) as err:
        pubtator.write(Corpus.from_docs([Document("a|b", "T")]), tmp_path / "y.txt")
    assert err.value.code == "E112"


def test_pubtator_sniff_and_detect_against_conll(tmp_path):
    pt = _write(tmp_path, "\n123|t|Title\n", "pt.txt")
    co = _write(tmp_path, "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\n", "co.txt")
    assert pubtator.sniff(pt) and not pubtator.sniff(co)
    assert detect_format(pt) == "pubtator" and detect_format(co) == "conll"
    assert read_corpus(pt).format == "pubtator"


# --------------------------------------------------------------------------- property: round trip

SAFE = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\u0085")
LINE = st.text(alphabet=SAFE, max_size=40)


@st.composite
def pubtator_docs(draw):
    docs = []
    for pmid in draw(st.lists(st.integers(1, 10**8), min_size=1, max_size=4, unique=True)):
        title = draw(LINE)
        abstract = draw(st.none() | LINE)
        text = title if abstract is None else f"{title}\n{abstract}"
        spans = []
        for _ in range(draw(st.integers(0, 5))):
            if not text:
                break
            a = draw(st.integers(0, len(text) - 1))
            b = draw(st.integers(a + 1, len(text)))
            mention = text[a:b]
            if "\n" in mention or mention.strip() != mention or not mention.strip():
                continue
            meta = draw(st.sampled_from([{}, {"concept": "D0001"}, {"concept": "-1", "extra": ("x|y",)}]))
            spans.append(Span(str(pmid), a, b, draw(st.sampled_from(["Chemical", "Disease", "A b"])), meta=meta))
        other = tuple((k, f"{pmid}\tCID\tD1\tD2") for k in draw(st.lists(st.integers(0, len(spans)), max_size=2)))
        docs.append(Document(str(pmid), text, tuple(spans), meta={"pubtator": {"other": tuple(sorted(other))}}
                             if other else {}))
    return docs


@settings(max_examples=80, deadline=None)
@given(pubtator_docs())
def test_pubtator_round_trip_random_documents(docs):
    corpus = Corpus.from_docs(docs)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "x.txt"
        assert pubtator.write(corpus, out) == []
        back, rep = _read(out)
        assert back.documents == corpus.documents and rep.problems == []
        again = Path(tmp) / "y.txt"
        pubtator.write(back, again)
        assert again.read_bytes() == out.read_bytes()


def test_pubtator_abstract_before_title_is_named_as_such_and_keeps_its_mentions(tmp_path):
    """It used to be reported as a duplicate PMID (E107) and the mention dropped."""
    from spanqa.corpus.formats import read_corpus

    path = tmp_path / "c.pubtator"
    path.write_text("7|a|Held.\n7|t|Warfarin 5 mg.\n7\t0\t8\tWarfarin\tDrug\tD2\n\n", encoding="utf-8")
    corpus = read_corpus(path, "pubtator", strict=False)
    (p,) = [p for p in corpus.problems if p.code.startswith("E")]
    assert p.code == "E105" and "title line comes after the abstract line" in p.detail and p.where.line == 2
    (doc,) = corpus.documents
    assert doc.text == "Warfarin 5 mg.\nHeld." and [(s.start, s.end, s.label) for s in doc.spans] == [(0, 8, "Drug")]
