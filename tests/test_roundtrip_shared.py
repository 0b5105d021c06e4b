"""Round trips over the shared public corpora: read -> write -> read gives equal documents.

Each case skips cleanly when ``../shared/corpora`` (or the file) is absent.  The
CoNLL-2003 and NCBI training files take a few seconds each and are marked slow.
"""

from __future__ import annotations

import pytest
from conftest import corpus_path

from spanqa.errors import Reporter
from spanqa.formats import conll, pubtator

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
