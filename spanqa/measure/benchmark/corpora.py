"""The shared biomedical and clinical corpora as spanqa corpora, for the model benchmark (``scripts/bench_model.py``).

Everything is read from ``<corpora>`` (``$SPANQA_CORPORA`` or ``shared/corpora`` next to the
repository, :func:`spanqa.measure.benchmark.noisebench.corpora_root`); nothing is copied into the
repository.  Each loader returns a :class:`~spanqa.core.document.Corpus` whose ``meta["name"]`` says
what it is:

============  =======================================================================================
``ncbi``      NCBI disease, development + test abstracts (PubTator; SpecificDisease, DiseaseClass,
              Modifier, CompositeMention) - 200 abstracts, the corpus a new user tried
``bc5cdr``    BC5CDR test abstracts (PubTator; Chemical, Disease) - 500 abstracts
``phee``      PHEE v1 train + dev + test (brat; one sentence per document, nested spans)
``ade``       ADE corpus v2, its positive sentences (Drug, AdverseEffect, Dosage from the relation files)
``maccrobat`` MACCROBAT2020 (brat; 200 clinical case reports, 41 types, nested)
============  =======================================================================================

**ADE** ships relations, not documents: ``PMID|sentence|mention|begin|end|drug|begin|end`` with
offsets into an abstract the release does not include.  Each distinct sentence becomes a
document, and every occurrence of each of its mentions (whole words, case-sensitive) a span;
only drugs in a relation are annotated (the corpus's own partial annotation).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.formats import read_corpus
from spanqa.measure.benchmark.noisebench import corpora_root

NAMES: tuple[str, ...] = ("ncbi", "bc5cdr", "phee", "ade", "maccrobat")


def _named(corpus: Corpus, name: str) -> Corpus:
    return corpus.evolve(meta=dict(corpus.meta or {}, name=name))


def _concat(parts: list[Corpus], name: str) -> Corpus:
    docs = [d for c in parts for d in c.documents]
    problems = tuple(p for c in parts for p in c.problems)
    return Corpus.from_docs(docs, format=parts[0].format, source=parts[0].source, problems=problems,
                            meta={"name": name})


def ncbi(root: Path | None = None) -> Corpus:
    base = (root or corpora_root()) / "ncbi_disease" / "original"
    parts = [read_corpus(base / f, format="pubtator", strict=False)
             for f in ("NCBIdevelopset_corpus.txt", "NCBItestset_corpus.txt")]
    return _concat(parts, "ncbi")


def bc5cdr(root: Path | None = None) -> Corpus:
    base = (root or corpora_root()) / "bc5cdr" / "original"
    return _named(read_corpus(base / "CDR_TestSet.PubTator.txt", format="pubtator", strict=False), "bc5cdr")


def phee(root: Path | None = None) -> Corpus:
    base = (root or corpora_root()) / "phee" / "v1_brat"
    parts = [read_corpus(base / s, format="brat", strict=False) for s in ("train", "dev", "test")]
    return _concat(parts, "phee")


def phee_test(root: Path | None = None) -> Corpus:
    """PHEE v1's test split alone (968 sentences): the nested-annotation benchmark's quicker PHEE."""
    base = (root or corpora_root()) / "phee" / "v1_brat"
    return _named(read_corpus(base / "test", format="brat", strict=False), "phee_test")


def maccrobat(root: Path | None = None) -> Corpus:
    base = (root or corpora_root()) / "maccrobat" / "MACCROBAT2020"
    return _named(read_corpus(base, format="brat", strict=False), "maccrobat")


def ade(root: Path | None = None) -> Corpus:
    base = (root or corpora_root()) / "ade_corpus_v2" / "original"
    mentions: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for fname, label in (("DRUG-AE.rel", "AdverseEffect"), ("DRUG-DOSE.rel", "Dosage")):
        for line in (base / fname).read_text(encoding="utf-8").splitlines():
            parts = line.split("|")
            if len(parts) < 8:
                continue
            key = (parts[0], parts[1])
            mentions[key].add((parts[2], label))
            mentions[key].add((parts[5], "Drug"))
    docs = []
    seen: dict[str, int] = defaultdict(int)
    for (pmid, sentence), ms in mentions.items():
        seen[pmid] += 1
        doc_id = f"{pmid}_{seen[pmid]}"
        spans = set()
        for text, label in ms:
            for m in re.finditer(rf"(?<!\w){re.escape(text)}(?!\w)", sentence):
                spans.add(Span(doc_id, m.start(), m.end(), label))
        docs.append(Document(doc_id, sentence, sort_spans(spans), group=pmid))
    return Corpus.from_docs(docs, format="ade-relations", source=str(base), meta={"name": "ade"})


LOADERS = {"ncbi": ncbi, "bc5cdr": bc5cdr, "phee": phee, "ade": ade, "maccrobat": maccrobat, "phee_test": phee_test}


def load(name: str, root: Path | None = None) -> Corpus:
    """One of :data:`NAMES`."""
    return LOADERS[name](root)


__all__ = ["LOADERS", "NAMES", "ade", "bc5cdr", "load", "maccrobat", "ncbi", "phee", "phee_test"]
