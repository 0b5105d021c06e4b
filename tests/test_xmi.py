"""UIMA CAS XMI (INCEpTION / WebAnno exports) through dkpro-cassis: round trips, custom layers, coded errors."""

from __future__ import annotations

import pytest

cassis = pytest.importorskip("cassis")

from spanqa.core.document import Corpus, Document  # noqa: E402
from spanqa.core.errors import SpanqaError  # noqa: E402
from spanqa.core.span import Span  # noqa: E402
from spanqa.corpus.formats import (  # noqa: E402
    detect_format,
    read_corpus,
    write_corpus,
    xmi,  # noqa: E402
)


def _core(corpus):
    return [(d.id, d.text, tuple(sorted(s.key for s in d.spans or ()))) for d in corpus.documents]


def _inception_export(folder, *, custom: bool = False):
    """A folder as INCEpTION exports it: DKPro type system (+ a custom layer), one XMI per document."""
    ts = xmi.with_metadata(cassis.load_dkpro_core_typesystem())  # INCEpTION's type system has DocumentMetaData
    if custom:
        layer = ts.create_type("webanno.custom.Medication", supertypeName="uima.tcas.Annotation")
        ts.create_feature(layer, "kind", "uima.cas.String")
    folder.mkdir()
    (folder / "TypeSystem.xml").write_text(ts.to_xml(), encoding="utf-8")
    cas = cassis.Cas(typesystem=ts)
    cas.sofa_string = "Pt 😀 on aspirin 81mg PO.\nNo rash."
    meta = ts.get_type(xmi.METADATA)
    cas.add(meta(begin=0, end=len(cas.sofa_string), documentTitle="note-1.txt", documentId="note-1.txt"))
    token = ts.get_type(xmi.TOKEN)
    for a, b in ((0, 2), (3, 4), (5, 7), (8, 15), (16, 18), (18, 20), (21, 23), (23, 24), (25, 27), (28, 32), (32, 33)):
        cas.add(token(begin=a, end=b))
    if custom:
        layer = ts.get_type("webanno.custom.Medication")
        cas.add(layer(begin=8, end=15, kind="Drug"))
    else:
        ne = ts.get_type(xmi.NAMED_ENTITY)
        cas.add(ne(begin=8, end=15, value="Drug", identifier="RxNorm:1191"))
        cas.add(ne(begin=16, end=20, value="Strength"))
        cas.add(ne(begin=28, end=32, value="Problem"))
    (folder / "note-1.txt.xmi").write_text(cas.to_xmi(), encoding="utf-8")
    return folder


def test_xmi_reads_an_inception_export_with_character_offsets(tmp_path):
    folder = _inception_export(tmp_path / "export")
    assert detect_format(folder) == "xmi"
    doc = read_corpus(folder).documents[0]
    assert doc.id == "note-1.txt" and doc.text.startswith("Pt 😀 on")
    assert [(doc.text[s.start:s.end], s.label) for s in doc.spans] == [("aspirin", "Drug"), ("81mg", "Strength"),
                                                                        ("rash", "Problem")]
    assert doc.spans[0].meta == {"features": {"identifier": "RxNorm:1191"}}
    assert doc.tokens[3] == (8, 15)


def test_xmi_custom_layer_and_round_trip_keep_everything_else(tmp_path):
    folder = _inception_export(tmp_path / "export", custom=True)
    corpus = read_corpus(folder, "xmi", entity_type="webanno.custom.Medication", label_feature="kind")
    assert _core(corpus) == [("note-1.txt", corpus.documents[0].text, ((8, 15, "Drug"),))]
    fixed = corpus.evolve(documents=(corpus.documents[0].evolve(
        spans=(Span("note-1.txt", 8, 15, "Drug"), Span("note-1.txt", 16, 20, "Strength"))),))
    write_corpus(fixed, tmp_path / "out", "xmi")
    back = read_corpus(tmp_path / "out", "xmi", entity_type="webanno.custom.Medication", label_feature="kind")
    assert _core(back) == _core(fixed)
    assert back.documents[0].tokens == corpus.documents[0].tokens  # the tokens (and metadata) stayed in the CAS


def test_xmi_round_trip_from_another_format(tmp_path):
    corpus = Corpus.from_docs([Document("n1", "Pt on aspirin 81mg.", (Span("n1", 6, 13, "Drug"),)),
                               Document("ward/n2", "No meds.", ())], format="jsonl")
    write_corpus(corpus, tmp_path / "out", "xmi")
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["TypeSystem.xml", "n1.xmi", "n2.xmi", "ward"]
    assert _core(read_corpus(tmp_path / "out")) == _core(corpus)


def test_xmi_coded_errors(tmp_path):
    folder = _inception_export(tmp_path / "export")
    (folder / "TypeSystem.xml").unlink()
    with pytest.raises(SpanqaError) as err:
        read_corpus(folder, "xmi")
    assert err.value.code == "E106"
    folder = _inception_export(tmp_path / "export2")
    with pytest.raises(SpanqaError) as err:
        read_corpus(folder, "xmi", entity_type="webanno.custom.Nothing")
    assert err.value.code == "E109"
    (folder / "broken.xmi").write_text("<xmi:XMI not really", encoding="utf-8")
    with pytest.raises(SpanqaError) as err:
        read_corpus(folder, "xmi")
    assert err.value.code == "E105"
    lenient = read_corpus(folder, "xmi", strict=False)
    assert [p.code for p in lenient.problems] == ["E105"] and [d.id for d in lenient] == ["note-1.txt"]
