"""BioC XML and JSON through the bioc package: round trips, a PubTator-style collection, coded errors."""

from __future__ import annotations

import pytest

pytest.importorskip("bioc")

from spanqa.core.document import Corpus, Document  # noqa: E402
from spanqa.core.errors import SpanqaError  # noqa: E402
from spanqa.core.span import Span  # noqa: E402
from spanqa.corpus.formats import detect_format, read_corpus, write_corpus  # noqa: E402

#: PubTator's BioC shape: a title and an abstract passage, document offsets, a relation
PUBTATOR_BIOC = """<?xml version='1.0' encoding='utf-8' standalone='yes'?>
<collection><source>PubTator</source><date>20240101</date><key>BioC.key</key>
<document><id>1234</id>
<passage><infon key="type">title</infon><offset>0</offset><text>Aspirin induced rash.</text>
<annotation id="1"><infon key="type">Chemical</infon><infon key="identifier">MESH:D001241</infon>
<location offset="0" length="7"/><text>Aspirin</text></annotation>
<annotation id="2"><infon key="type">Disease</infon><location offset="16" length="4"/><text>rash</text></annotation>
</passage>
<passage><infon key="type">abstract</infon><offset>22</offset><text>No fever or renal injury.</text>
<annotation id="3"><infon key="type">Disease</infon><location offset="25" length="5"/><text>fever</text></annotation>
<annotation id="4"><infon key="type">Disease</infon><location offset="34" length="5"/><location offset="40" length="6"/>
<text>renal injury</text></annotation>
</passage>
<relation id="R1"><infon key="type">Association</infon><node refid="1" role="Chemical"/><node refid="2" role="Disease"/></relation>
</document></collection>
"""


def _core(corpus):
    return [(d.id, d.text, tuple(sorted((s.key, s.pieces) for s in d.spans or ()))) for d in corpus.documents]


def test_bioc_reads_pubtator_style_collection_with_document_offsets(tmp_path):
    path = tmp_path / "pubtator.xml"
    path.write_text(PUBTATOR_BIOC, encoding="utf-8")
    assert detect_format(path) == "bioc"
    corpus = read_corpus(path)
    doc = corpus["1234"]
    assert doc.text == "Aspirin induced rash.\nNo fever or renal injury."
    assert [(s.text_in(doc.text, " "), s.label) for s in doc.spans] == [
        ("Aspirin", "Chemical"), ("rash", "Disease"), ("fever", "Disease"), ("renal injury", "Disease")]
    assert doc.spans[-1].pieces == ((34, 39), (40, 46))  # two locations: a discontinuous span
    assert doc.spans[0].meta["infons"] == {"identifier": "MESH:D001241"}
    assert [p.code for p in corpus.problems] == ["W105"]  # the relation: kept, not modelled


@pytest.mark.parametrize("suffix", [".xml", ".json"])
def test_bioc_round_trip_is_lossless(tmp_path, suffix):
    src = tmp_path / "pubtator.xml"
    src.write_text(PUBTATOR_BIOC, encoding="utf-8")
    first = read_corpus(src)
    write_corpus(first, tmp_path / f"out{suffix}", "bioc")
    assert detect_format(tmp_path / f"out{suffix}") == "bioc"
    second = read_corpus(tmp_path / f"out{suffix}")
    assert _core(second) == _core(first)
    assert second.documents[0].meta["bioc_relations"] == first.documents[0].meta["bioc_relations"]
    assert second.documents[0].meta["bioc_collection"]["date"] == "20240101"
    write_corpus(second, tmp_path / f"again{suffix}", "bioc")
    assert (tmp_path / f"again{suffix}").read_text() == (tmp_path / f"out{suffix}").read_text()


def test_bioc_writes_documents_from_other_formats(tmp_path):
    corpus = Corpus.from_docs([Document("n1", "Pt on aspirin 81mg.", (Span("n1", 6, 13, "Drug"), Span("n1", 14, 18, "Strength"))),
                               Document("n2", "No meds.", ())], format="jsonl")
    write_corpus(corpus, tmp_path / "c.xml", "bioc")
    assert _core(read_corpus(tmp_path / "c.xml")) == _core(corpus)


def test_bioc_coded_errors(tmp_path):
    cases = {
        "not-bioc.xml": ("<collection><document><id>1</id><passage><offset>x</offset></passage></document></collection>",
                         "E105"),
        "overlap.xml": (PUBTATOR_BIOC.replace("<offset>22</offset>", "<offset>5</offset>"), "E105"),
        "past-end.xml": (PUBTATOR_BIOC.replace('offset="25" length="5"', 'offset="25" length="500"'), "E201"),
        "no-type.xml": (PUBTATOR_BIOC.replace('<infon key="type">Disease</infon><location offset="16"',
                                              '<location offset="16"'), "E109"),
        "text-mismatch.xml": (PUBTATOR_BIOC.replace("<text>rash</text>", "<text>rush</text>"), "E202"),
    }
    for name, (text, code) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(SpanqaError) as err:
            read_corpus(tmp_path / name, "bioc")
        assert err.value.code == code, (name, str(err.value))


def test_bioc_values_are_checked_before_they_are_used_and_cost_only_their_document(tmp_path):
    """A passage offset of 10^12 used to ask for a terabyte of newlines, and "abc" raised inside int(): each is E105
    naming the document, and the other documents of the folder are read."""
    second = PUBTATOR_BIOC.replace("<id>1234</id>", "<id>999</id>")
    cases = {"huge.xml": (second.replace("<offset>22</offset>", "<offset>1000000000000</offset>"), "passage 1"),
             "abc.xml": (second.replace("<offset>22</offset>", "<offset>abc</offset>"), "passage 1"),
             "loc.json": (None, "annotation 1")}
    names = {"huge.xml": "huge.xml", "abc.xml": "abc.xml", "loc.json": "bad.json"}
    for name, (text, what) in cases.items():
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        (folder / "good.xml").write_text(PUBTATOR_BIOC, encoding="utf-8")
        if text is None:  # BioC JSON with a location offset that is not a number
            write_corpus(read_corpus(folder / "good.xml"), folder / "bad.json", "bioc")
            raw = (folder / "bad.json").read_text().replace('"1234"', '"999"')
            at = raw.index('"locations"')
            (folder / "bad.json").write_text(raw[:at] + raw[at:].replace('"offset": 0', '"offset": "abc"', 1))
        else:
            (folder / name).write_text(text, encoding="utf-8")
        corpus = read_corpus(folder, "bioc", strict=False)
        # the good document is read; a bad annotation offset costs only that annotation
        assert sorted(d.id for d in corpus.documents) == (["1234", "999"] if text is None else ["1234"]), name
        bad = [p for p in corpus.problems if p.code == "E105"]
        # the damaged document (or, where the bioc package itself refuses the value, its file) is named
        assert len(bad) == 1 and (what in bad[0].detail and bad[0].where.doc_id == "999"
                                  or "not a BioC collection" in bad[0].detail and names[name] in bad[0].where.path), \
            (name, corpus.problems)
        with pytest.raises(SpanqaError) as err:
            read_corpus(folder, "bioc")
        assert err.value.code == "E105"


def test_bioc_and_xmi_without_their_extra_are_E407_naming_it(tmp_path, monkeypatch):
    import sys

    (tmp_path / "c.xml").write_text(PUBTATOR_BIOC, encoding="utf-8")
    for mod in ("bioc", "bioc.biocjson", "bioc.biocxml", "cassis"):
        monkeypatch.setitem(sys.modules, mod, None)  # import raises ImportError, as when not installed
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "c.xml", "bioc")
    assert err.value.code == "E407" and "pip install 'spanqa[bioc]'" in str(err.value)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.xmi").write_text("<x/>", encoding="utf-8")
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "x", "xmi")
    assert err.value.code == "E407" and "pip install 'spanqa[inception]'" in str(err.value)
