"""spaCy DocBin (``.spacy``): round trips, Docs made by spaCy itself, and coded errors."""

from __future__ import annotations

import pytest

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter, SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import detect_format, docbin, read_corpus, write_corpus


def _core(corpus: Corpus) -> list[tuple]:
    return [(d.id, d.text, None if d.spans is None else tuple(sorted(s.key for s in d.spans))) for d in corpus.documents]


def test_docbin_round_trip_keeps_text_spans_ids_and_not_annotated(tmp_path):
    docs = [
        Document("n1", "Pt on aspirin 81mg PO daily.", (Span("n1", 6, 13, "Drug"), Span("n1", 14, 18, "Strength"))),
        Document("n2", "  Warfarin\r\n5 mg  held.\n", (Span("n2", 2, 10, "Drug"), Span("n2", 12, 16, "Strength"))),
        Document("n3", "metoprolol succinate 25 mg", (Span("n3", 0, 20, "Drug"), Span("n3", 0, 10, "Drug"),
                                                      Span("n3", 21, 26, "Strength"))),      # nested
        Document("n4", "not yet annotated note", None),
        Document("n5", "annotated, no entities", ()),
        Document("n6", "", ()),
        Document("ward/7", "heparin drip", (Span("ward/7", 0, 7, "Drug"),)),
    ]
    corpus = Corpus.from_docs(docs, format="jsonl")
    problems = write_corpus(corpus, tmp_path / "train.spacy", "spacy")
    assert [p.code for p in problems] == ["W107"] and "doc.spans['spanqa']" in problems[0].detail   # n3's nested
    assert detect_format(tmp_path / "train.spacy") == "spacy"
    back = read_corpus(tmp_path / "train.spacy")
    assert _core(back) == _core(corpus) and back.problems == ()
    write_corpus(back, tmp_path / "again.spacy", "spacy")
    again = read_corpus(tmp_path / "again.spacy")
    full = lambda c: [(d.id, d.text, d.spans, d.tokens, sorted(d.meta)) for d in c.documents]  # noqa: E731
    assert full(again) == full(back)  # stable from the first DocBin on, tokens included


def test_docbin_made_by_spacy_keeps_what_spanqa_does_not_model(tmp_path):
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    doc = nlp("Started heparin drip for DVT.")
    doc.ents = [doc.char_span(8, 15, label="Drug"), doc.char_span(25, 28, label="Problem")]
    doc[0].tag_ = "VBD"
    doc.spans["sc"] = [doc.char_span(8, 20, label="Treatment")]
    partial = nlp("No rash today.")
    partial.set_ents([partial.char_span(3, 7, label="Problem")], default="missing")  # other tokens: missing
    unannotated = nlp("Seen in clinic.")
    DocBin(docs=[doc, partial, unannotated], store_user_data=True).to_disk(tmp_path / "dev.spacy")
    corpus = read_corpus(tmp_path / "dev.spacy")
    assert _core(corpus) == [("dev-0", doc.text, ((8, 15, "Drug"), (25, 28, "Problem"))),
                             ("dev-1", partial.text, ((3, 7, "Problem"),)), ("dev-2", unannotated.text, None)]
    assert [p.code for p in corpus.problems] == ["W111"]
    fixed = corpus.evolve(documents=(corpus.documents[0].evolve(spans=(Span("dev-0", 8, 20, "Drug"),)),)
                          + corpus.documents[1:])
    write_corpus(fixed, tmp_path / "out.spacy", "spacy")
    out = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(nlp.vocab))
    assert [(e.text, e.label_) for e in out[0].ents] == [("heparin drip", "Drug")]
    assert out[0][0].tag_ == "VBD" and [(s.text, s.label_) for s in out[0].spans["sc"]] == [("heparin drip", "Treatment")]
    assert all(t.ent_iob_ == "" for t in out[2])  # still not annotated


def test_docbin_coded_errors(tmp_path):
    (tmp_path / "bad.spacy").write_bytes(b"not a docbin")
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "bad.spacy")
    assert err.value.code == "E105"
    write_corpus(Corpus.from_docs([Document("a", "x y", ())]), tmp_path / "ok.spacy", "spacy")
    with pytest.raises(SpanqaError) as err:
        docbin.read(tmp_path / "ok.spacy", reporter=Reporter(), spans_key="sc")
    assert err.value.code == "E109"
    lenient = read_corpus(tmp_path, "spacy", strict=False)
    assert [p.code for p in lenient.problems] == ["E105"] and [d.id for d in lenient] == ["a"]
