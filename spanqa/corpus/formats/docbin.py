"""spaCy ``DocBin`` files (``.spacy``, the training data of ``spacy train``), read and written with spaCy itself.

Reading (:func:`read`): every ``Doc`` becomes a :class:`~spanqa.core.document.Document`:

- id: ``doc.user_data["id"]`` (spanqa writes it; ``store_user_data`` must have been on), else
  ``"<file stem>-<index>"``; text: ``doc.text``; tokens: spaCy's tokens (whitespace tokens left out);
- spans: the span group ``spans_key`` when given (overlaps allowed), else the group ``"spanqa"``
  when spanqa wrote one (it holds overlapping and nested spans the flat ``doc.ents`` cannot), else
  ``doc.ents``; character offsets are ``span.start_char``/``span.end_char``;
- annotated or not: a Doc whose every token has a *missing* entity annotation (``ent_iob_ == ""``,
  spaCy's "not annotated") and no span group is not annotated (``spans=None``); some missing
  tokens in an annotated Doc are read as outside any entity and reported ``W111``;
- everything else the Doc holds (tags, lemmas, dependencies, other span groups, user data) is
  kept as the Doc's own bytes (base64) in ``Document.meta["spacy_doc"]`` and written back unchanged
  while its tokens still fit the spans (else the Doc is rebuilt from its tokens, ``W107``).

Writing (:func:`write`): one ``DocBin`` with ``store_user_data=True``.  A document read from a
DocBin keeps its Doc (only the entities and the ``"spanqa"`` group are replaced); another one is
built from its tokens (``Document.tokens``, else :func:`spanqa.corpus.tokenize.doc_words`) so that
``doc.text`` is the exact text.  ``doc.ents`` gets the longest non-overlapping spans; when spans
overlap, all of them also go to ``doc.spans["spanqa"]`` (``W107`` says which are not in the ents);
a discontinuous span is written as its hull (``W107``).  Unannotated documents get missing
entity annotation, annotated ones "outside" everywhere else.

>>> import tempfile, pathlib
>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.errors import Reporter
>>> from spanqa.core.span import Span
>>> p = pathlib.Path(tempfile.mkdtemp()) / "train.spacy"
>>> _ = write(Corpus.from_docs([Document("n1", "Pt on aspirin 81mg.", (Span("n1", 6, 13, "Drug"),))]), p)
>>> doc = read(p, reporter=Reporter()).documents[0]
>>> doc.id, [s.key for s in doc.spans], doc.text[slice(*doc.tokens[2])]
('n1', [(6, 13, 'Drug')], 'aspirin')
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, Reporter, fail
from spanqa.core.output import atomic_open
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.formats._walk import add_document, corpus_files

NAME = "spacy"
GROUP = "spanqa"  # the span group spanqa writes when spans overlap


def sniff(path: Path) -> bool:
    return Path(path).suffix.lower() == ".spacy"


def read(path: Path, *, reporter: Reporter, spans_key: str | None = None) -> Corpus:
    """Read a ``.spacy`` file, or every ``.spacy`` file under a folder, into a :class:`Corpus`."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    path = Path(path)
    files = corpus_files(path, reporter, suffixes=(".spacy",)) if path.is_dir() else [path]
    vocab = Vocab()
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for file in files:
        try:
            db = DocBin().from_bytes(file.read_bytes())
            sdocs = list(db.get_docs(vocab))
        except Exception as err:  # not a DocBin: spaCy raises ValueError, msgpack errors, zlib errors ...
            reporter.report("E105", f"not a spaCy DocBin ({type(err).__name__}: {err})", path=str(file))
            continue
        for i, sdoc in enumerate(sdocs):
            add_document(_document(sdoc, i, file, reporter, spans_key), docs, seen, reporter, path=file)
    if not docs:
        reporter.report("E104", f"no spaCy Doc found in {path}", path=str(path))
    return Corpus(documents=tuple(docs), format=NAME, source=str(path))


def _document(sdoc: Any, i: int, file: Path, reporter: Reporter, spans_key: str | None) -> Document | None:
    doc_id = str(sdoc.user_data.get("id", f"{file.stem}-{i}"))
    where = {"path": str(file), "doc_id": doc_id}
    key = spans_key if spans_key is not None else (GROUP if GROUP in sdoc.spans else None)
    if spans_key is not None and spans_key not in sdoc.spans:
        reporter.report("E109", f"the Doc has no span group {spans_key!r} (groups: {sorted(sdoc.spans)})", **where)
        return None
    iob = [t.ent_iob_ for t in sdoc]
    if key is not None:
        source = list(sdoc.spans[key])
        annotated = True
    else:
        source = list(sdoc.ents)
        annotated = any(iob) or not len(sdoc)
        if annotated and not all(iob):
            reporter.report("W111", f"{iob.count('')} of {len(iob)} tokens have no entity annotation (spaCy's "
                            "'missing'); read as outside any entity", **where)
    spans = tuple(Span(doc_id, s.start_char, s.end_char, s.label_) for s in source)
    tokens = tuple((t.idx, t.idx + len(t.text)) for t in sdoc if not t.is_space)
    return Document(doc_id, sdoc.text, sort_spans(spans) if annotated else None, source=str(file), tokens=tokens,
                    meta={"spacy_doc": base64.b64encode(sdoc.to_bytes()).decode("ascii"),
                          **({"spacy_spans_key": key} if key else {})})


def write(corpus: Corpus, path: Path, *, reporter: Reporter | None = None) -> list[Problem]:
    """Write ``corpus`` as one ``.spacy`` DocBin at ``path``; returns the ``W107`` problems."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    path = Path(path)
    vocab = Vocab()
    db = DocBin(store_user_data=True)
    problems: list[Problem] = []
    for doc in corpus.documents:
        sdoc = _spacy_doc(doc, vocab, path, problems)
        _set_spans(sdoc, doc, problems, path)
        sdoc.user_data["id"] = doc.id
        db.add(sdoc)
    with atomic_open(path, "wb") as fh:
        fh.write(db.to_bytes())
    if reporter is not None:
        for p in problems:
            reporter.report(p.code, p.detail, **p.where.to_dict())
    return problems


def _spacy_doc(doc: Document, vocab: Any, path: Path, problems: list[Problem]) -> Any:
    from spacy.tokens import Doc

    raw = doc.meta.get("spacy_doc")
    if isinstance(raw, str):
        sdoc = Doc(vocab).from_bytes(base64.b64decode(raw))
        if sdoc.text == doc.text and _aligned(sdoc, doc):
            return sdoc
        problems.append(Problem("W107", Location(path=str(path), doc_id=doc.id),
                                "the text or a span edge no longer fits the original spaCy Doc; it is rebuilt from "
                                "the tokens and its other annotations (tags, parses) are not written"))
    from spanqa.corpus.tokenize import doc_words

    ranges = doc_words(doc).ranges  # the source's tokens (or spanqa's), split where a span edge falls inside one
    words: list[str] = []
    spaces: list[bool] = []
    pos = 0
    for a, b in ranges:
        if a > pos:  # whitespace (or, defensively, untokenised text) before this word
            gap = doc.text[pos:a]
            if words and gap.startswith(" ") and not spaces[-1]:
                spaces[-1] = True
                gap = gap[1:]
            if gap:
                words.append(gap)
                spaces.append(False)
        words.append(doc.text[a:b])
        spaces.append(False)
        pos = b
    if pos < len(doc.text):
        gap = doc.text[pos:]
        if words and gap.startswith(" "):
            spaces[-1] = True
            gap = gap[1:]
        if gap:
            words.append(gap)
            spaces.append(False)
    sdoc = Doc(vocab, words=words, spaces=spaces)
    if sdoc.text != doc.text:
        raise fail("E112", "the text cannot be rebuilt from its tokens as a spaCy Doc", path=str(path), doc_id=doc.id)
    return sdoc


def _aligned(sdoc: Any, doc: Document) -> bool:
    starts = {t.idx for t in sdoc}
    ends = {t.idx + len(t.text) for t in sdoc}
    return all(a in starts and b in ends for s in doc.spans or () for a, b in [(s.start, s.end)])


def _set_spans(sdoc: Any, doc: Document, problems: list[Problem], path: Path) -> None:
    from spacy.util import filter_spans

    if doc.spans is None:
        sdoc.set_ents([], default="missing")
        return
    sspans = []
    for s in doc.spans:
        if s.is_discontinuous:
            problems.append(Problem("W107", Location(path=str(path), doc_id=doc.id, start=s.start, end=s.end),
                                    f"discontinuous {s.label} span written as its hull"))
        span = sdoc.char_span(s.start, s.end, label=s.label, alignment_mode="strict")
        if span is None:
            raise fail("E112", f"{s.label} span {s.start}-{s.end} does not fall on spaCy token boundaries",
                       path=str(path), doc_id=doc.id, start=s.start, end=s.end)
        sspans.append(span)
    flat = filter_spans(sspans)
    sdoc.set_ents(flat, default="outside")
    key = doc.meta.get("spacy_spans_key") or (GROUP if len(flat) < len(sspans) else None)
    if key is not None:
        sdoc.spans[key] = sspans
    if len(flat) < len(sspans) and doc.meta.get("spacy_spans_key") is None:
        kept = {(x.start_char, x.end_char, x.label_) for x in flat}
        left = [x for x in sspans if (x.start_char, x.end_char, x.label_) not in kept]
        problems.append(Problem("W107", Location(path=str(path), doc_id=doc.id),
                                f"{len(left)} overlapping span(s) not in doc.ents (flat); all spans are in "
                                f"doc.spans[{GROUP!r}], which spanqa reads back"))


__all__ = ["GROUP", "NAME", "read", "sniff", "write"]
