"""Round trips over the shared public corpora: read -> write -> read gives equal documents.

Each case skips cleanly when ``../shared/corpora`` (or the file) is absent.  The
CoNLL-2003 and NCBI training files take a few seconds each and are marked slow.
"""

from __future__ import annotations

import pytest
from conftest import corpus_path

from spanqa.core.errors import Reporter
from spanqa.corpus.formats import conll, pubtator

SLOW = pytest.mark.slow

#: (path parts, format, read options, expected documents, expected spans, expected problem codes)
CASES = [
    pytest.param(("conll2003", "original", "test.txt"), "conll", {}, 231, 5648, [], id="conll2003-test"),
    pytest.param(("conll2003", "original", "valid.txt"), "conll", {}, 216, 5942, [], id="conll2003-valid"),
    pytest.param(("conll2003", "original", "train.txt"), "conll", {}, 946, 23499, [], id="conll2003-train",
                 marks=SLOW),
    pytest.param(("conll2003", "conllpp", "test.txt"), "conll", {}, 231, 5702, [], id="conllpp-test"),
    pytest.param(("conll2003", "reiss2020", "corrected", "test.txt"), "conll", {}, 231, 5640, [], id="reiss-test"),
    pytest.param(("conll2003", "reiss2020", "corrected", "dev.txt"), "conll", {}, 216, 5922, [], id="reiss-dev"),
    pytest.param(("conll2003", "reiss2020", "corrected", "train.txt"), "conll", {}, 946, 23379, [],
                 id="reiss-train", marks=SLOW),
    pytest.param(("conll2003", "cleanconll", "reconstructed", "cleanconll.test"), "conll", {}, 231, 5725, [],
                 id="cleanconll-test"),
    pytest.param(("conll2003", "cleanconll", "reconstructed", "cleanconll.dev"), "conll", {}, 216, 5966, [],
                 id="cleanconll-dev"),
    pytest.param(("ncbi_disease", "conll", "devel.tsv"), "conll", {}, 923, 787, [], id="ncbi-conll-devel"),
    pytest.param(("ncbi_disease", "conll", "test.tsv"), "conll", {}, 940, 960, [], id="ncbi-conll-test"),
    pytest.param(("ncbi_disease", "conll", "train.tsv"), "conll", {}, 5432, 5145, [], id="ncbi-conll-train",
                 marks=SLOW),
    # 593 + 100 + 100 blocks; train repeats PMID 8528200 verbatim (W108) and records one mention with two
    # trailing spaces (W109, PMID 10923035)
    pytest.param(("ncbi_disease", "original"), "pubtator", {}, 792, 6881, ["W108", "W109"], id="ncbi-pubtator"),
    pytest.param(("bc5cdr", "original"), "pubtator", {}, 1500, 28785, [], id="bc5cdr-pubtator"),
]

MODULES = {"conll": conll, "pubtator": pubtator}


@pytest.mark.parametrize("parts,fmt,options,n_docs,n_spans,codes", CASES)
def test_roundtrip_shared_corpus(tmp_path, parts, fmt, options, n_docs, n_spans, codes):
    src = corpus_path(*parts)
    module = MODULES[fmt]
    rep = Reporter()
    first = module.read(src, reporter=rep, **options)
    assert len(first) == n_docs
    assert sum(len(d.spans) for d in first) == n_spans
    assert sorted({p.code for p in rep.problems}) == codes
    out = tmp_path / "out"
    if src.is_dir():
        out.mkdir()  # one file per source file, same names
    else:
        out.mkdir()
        out = out / src.name  # CoNLL ids come from the file stem
    assert module.write(first, out) == []
    rep2 = Reporter()
    second = module.read(out, reporter=rep2, **options)
    assert second.documents == first.documents
    # the whitespace-only mention difference is written back verbatim, so W109 comes back; W108 does not
    assert sorted({p.code for p in rep2.problems}) == [c for c in codes if c != "W108"]


# --------------------------------------------------------------------------- the formats of issue 13 on the same corpora
#: (corpus id, path parts, source format) x target: (file name, W107 expected, what must come back equal)
CROSS_SOURCES = {"conll2003-test": (("conll2003", "original", "test.txt"), "conll"),
                 "ncbi-pubtator": (("ncbi_disease", "original"), "pubtator"),
                 "phee-dev": (("phee", "v1_brat", "dev"), "brat")}
CROSS = [  # exact = text, span offsets, labels and fragments; hull = fragments become the hull (W107 says so)
    ("conll2003-test", "spacy", "c.spacy", 0, "exact"), ("conll2003-test", "bioc", "c.xml", 0, "exact"),
    ("conll2003-test", "bioc", "c.json", 0, "exact"), ("conll2003-test", "xmi", "x", 0, "exact"),
    ("conll2003-test", "hf", "h", 231, "spans"),   # sentence breaks (newlines) become spaces
    ("ncbi-pubtator", "spacy", "c.spacy", 0, "exact"), ("ncbi-pubtator", "bioc", "c.xml", 0, "exact"),
    ("ncbi-pubtator", "xmi", "x", 0, "exact"), ("ncbi-pubtator", "hf", "h", 792, "spans"),  # title\nabstract
    ("phee-dev", "spacy", "c.spacy", 1081, "hull"), ("phee-dev", "bioc", "c.xml", 0, "exact"),
    ("phee-dev", "xmi", "x", 123, "hull"),
]


@SLOW
@pytest.mark.parametrize("source,target,name,w107,equal", CROSS, ids=[f"{c[0]}-{c[2]}" for c in CROSS])
def test_roundtrip_shared_into_the_new_formats(tmp_path, source, target, name, w107, equal):
    from spanqa.corpus.formats import read_corpus, write_corpus

    parts, fmt = CROSS_SOURCES[source]
    pytest.importorskip({"spacy": "spacy", "bioc": "bioc", "xmi": "cassis", "hf": "datasets"}[target])
    first = read_corpus(corpus_path(*parts), fmt)
    problems = write_corpus(first, tmp_path / name, target)
    assert sum(p.code == "W107" for p in problems) == w107
    back = {d.id: d for d in read_corpus(tmp_path / name, target).documents}
    assert sorted(back) == sorted(d.id for d in first.documents)
    for d in first.documents:
        got = back[d.id]
        if equal == "exact":
            assert (got.text, sorted((s.key, s.pieces) for s in got.spans)) == \
                (d.text, sorted((s.key, s.pieces) for s in d.spans))
        elif equal == "hull":
            assert (got.text, sorted(s.key for s in got.spans)) == (d.text, sorted(s.key for s in d.spans))
        else:  # tokens only: the same words (joined by spaces) and as many spans, with the same texts
            from spanqa.corpus.tokenize import doc_words

            words = d.tokens if d.tokens is not None else doc_words(d).ranges
            assert got.text.split(" ") == [d.text[a:b] for a, b in words]
            assert sorted(got.text[s.start:s.end] for s in got.spans) == \
                sorted(" ".join(d.text[a:b] for a, b in words if s.start <= a and b <= s.end) for s in d.spans)
