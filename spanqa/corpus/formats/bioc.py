"""BioC, the BioNLP exchange format (XML or JSON; PubTator's current exports), through the ``bioc`` package.

Install with ``pip install 'spanqa[bioc]'``; without it reading or writing BioC is ``E407``.

Reading (:func:`read`), per BioC document:

- id: the document's ``id``; text: its passages placed at their ``offset`` (BioC offsets count
  from the document's start), the gaps between passages filled with newlines - so annotation
  offsets are document character offsets as they are in the file;
- each annotation (in a passage or on the document) becomes a span: label = ``infons["type"]``
  (``E109`` when absent), one location = a span, several = a discontinuous span; its recorded
  ``text`` must match the text at a single location (``E202``); id = the annotation id; the
  other infons go to ``Span.meta["infons"]``;
- passages (offsets, infons), document infons, relations, sentences and the collection's
  source, date, key and infons are kept in ``Document.meta`` and written back (``W105`` once
  for relations and sentences, which spanqa does not model);
- BioC has no "not annotated": every document is annotated (with no entities when it has no
  annotation).

Errors: not BioC (XML or JSON that ``bioc`` cannot read) ``E105``; passages that overlap
``E105``; offsets out of range ``E201``.

>>> import tempfile, pathlib
>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.errors import Reporter
>>> from spanqa.core.span import Span
>>> p = pathlib.Path(tempfile.mkdtemp()) / "c.bioc.xml"
>>> _ = write(Corpus.from_docs([Document("1", "Aspirin rash", (Span("1", 0, 7, "Chemical"),))]), p)
>>> [(d.id, [s.key for s in d.spans]) for d in read(p, reporter=Reporter()).documents]
[('1', [(0, 7, 'Chemical')])]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Problem, Reporter, require
from spanqa.core.output import write_text
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.formats._text import read_utf8
from spanqa.corpus.formats._walk import add_document, corpus_files
from spanqa.corpus.validate import check_span

NAME = "bioc"
SUFFIXES = (".xml", ".json")


def _bioc():
    for sub in ("bioc.biocjson", "bioc.biocxml"):  # submodules the package does not import itself
        require(sub, extra="bioc", what="BioC")
    return require("bioc", extra="bioc", what="BioC")


def sniff(path: Path) -> bool:
    """True for a ``.xml`` file whose root is ``<collection>`` or a ``.json`` file with BioC's ``bioctype``."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(2048)
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix.lower() == ".xml":
        return "<collection" in head
    return path.suffix.lower() == ".json" and '"BioCCollection"' in head.replace(" ", "")


def read(path: Path, *, reporter: Reporter) -> Corpus:
    """Read a BioC XML or JSON file, or every BioC file under a folder, into a :class:`Corpus`."""
    bioc = _bioc()
    path = Path(path)
    files = [f for f in corpus_files(path, reporter, suffixes=SUFFIXES) if sniff(f)] if path.is_dir() else [path]
    docs: list[Document] = []
    seen: dict[str, str] = {}
    told: set[str] = set()
    for file in files:
        decoded = read_utf8(file, reporter)
        if decoded is None:
            continue
        text, _ = decoded
        try:
            loads = bioc.biocjson.loads if text.lstrip().startswith("{") else bioc.biocxml.loads
            collection = loads(text)
        except Exception as err:  # lxml, json and bioc's own errors
            reporter.report("E105", f"not a BioC collection ({type(err).__name__}: {err})", path=str(file))
            continue
        head = {"source": collection.source, "date": collection.date, "key": collection.key,
                "infons": dict(collection.infons), "json": loads is bioc.biocjson.loads}
        for i, bdoc in enumerate(collection.documents):
            add_document(_document(bdoc, file, reporter, head if i == 0 else None, told), docs, seen, reporter, path=file)
    if not docs:
        reporter.report("E104", f"no BioC document found in {path}", path=str(path))
    return Corpus(documents=tuple(docs), format=NAME, source=str(path))


#: the most characters a passage may start after the previous one ends (gaps become newlines): larger is a damaged
#: offset, not a document (10^12 would otherwise ask for a terabyte of newlines)
MAX_GAP = 10_000_000


def _offset(value: Any) -> int | None:
    """A BioC offset or length as an int, None when it is not a non-negative integer (``"abc"``, ``-3``, ``1.5``)."""
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _document(bdoc: Any, file: Path, reporter: Reporter, head: dict | None, told: set[str]) -> Document | None:
    doc_id = str(bdoc.id)
    where = {"path": str(file), "doc_id": doc_id}
    parts: list[str] = []
    pos = 0
    passages = []
    for k, p in enumerate(bdoc.passages):
        offset, ptext = _offset(p.offset), p.text or ""
        if offset is None:
            reporter.report("E105", f"passage {k} has offset {str(p.offset)[:40]!r}, not a non-negative integer "
                            "(the document is skipped)", **where)
            return None
        if offset - pos > MAX_GAP:
            reporter.report("E105", f"passage {k} starts at {offset:,}, {offset - pos:,} characters after the previous "
                            f"one ends (more than {MAX_GAP:,}: a damaged offset; the document is skipped)", **where)
            return None
        if offset < pos:
            reporter.report("E105", f"passage {k} starts at {offset}, inside the previous passage (ends at {pos})",
                            **where)
            return None
        parts.append("\n" * (offset - pos))
        parts.append(ptext)
        pos = offset + len(ptext)
        passages.append({"offset": offset, "length": len(ptext), "infons": dict(p.infons),
                         "has_text": p.text is not None})
    text = "".join(parts)
    spans: list[Span] = []
    placed: list[tuple[int | None, Any]] = [(None, a) for a in bdoc.annotations]
    placed += [(k, a) for k, p in enumerate(bdoc.passages) for a in p.annotations]
    for passage, ann in placed:
        label = ann.infons.get("type")
        if not label:
            reporter.report("E109", f"annotation {ann.id} has no infon 'type' (its label)", **where)
            continue
        raw = [(_offset(loc.offset), _offset(loc.length)) for loc in ann.locations]
        if any(a is None or n is None for a, n in raw):
            bad = next(loc for loc, (a, n) in zip(ann.locations, raw) if a is None or n is None)
            reporter.report("E105", f"annotation {ann.id}: location offset {str(bad.offset)[:40]!r} / length "
                            f"{str(bad.length)[:40]!r} is not a non-negative integer (the annotation is skipped)",
                            **where)
            continue
        locs = sorted((a, a + n) for a, n in cast("list[tuple[int, int]]", raw))  # no None: skipped above
        if not locs:
            reporter.report("E109", f"annotation {ann.id} has no location", **where)
            continue
        infons = {key: v for key, v in ann.infons.items() if key != "type"}
        meta: dict[str, Any] = {"passage": passage}
        if infons:
            meta["infons"] = infons
        span = Span(doc_id, locs[0][0], locs[-1][1], str(label), fragments=tuple(locs) if len(locs) > 1 else None,
                    id=str(ann.id) if ann.id is not None else None, meta=meta)
        recorded = ann.text if len(locs) == 1 and isinstance(ann.text, str) else None
        if check_span(span, text, reporter, recorded_text=recorded, path=str(file)):
            spans.append(span)
    extra: dict[str, Any] = {}
    rel = [{"id": r.id, "infons": dict(r.infons), "nodes": [{"refid": n.refid, "role": n.role} for n in r.nodes]}
           for r in list(bdoc.relations) + [r for p in bdoc.passages for r in p.relations]]
    if rel:
        extra["bioc_relations"] = rel
    if any(p.sentences for p in bdoc.passages):
        extra["bioc_sentences"] = True
    for what in [k for k in ("bioc_relations", "bioc_sentences") if k in extra and k not in told]:
        told.add(what)
        reporter.report("W105", f"BioC {what.split('_')[1]} are not modelled by spanqa; relations are kept and "
                        "written back, sentences are not", **where)
    meta = {"bioc_passages": passages, "bioc_infons": dict(bdoc.infons), **extra}
    if head is not None:
        meta["bioc_collection"] = head
    return Document(doc_id, text, sort_spans(spans), source=str(file), meta=meta)


def write(corpus: Corpus, path: Path, *, reporter: Reporter | None = None) -> list[Problem]:
    """Write ``corpus`` as one BioC collection at ``path`` (JSON when it ends in ``.json``, else XML)."""
    bioc = _bioc()
    path = Path(path)
    head: dict[str, Any] = next((d.meta["bioc_collection"] for d in corpus.documents if "bioc_collection" in d.meta),
                                {})
    collection = bioc.BioCCollection()
    collection.source = head.get("source", "spanqa")
    collection.date = head.get("date", "")
    collection.key = head.get("key", "")
    collection.infons.update(head.get("infons", {}))
    for doc in corpus.documents:
        collection.add_document(_bioc_doc(bioc, doc))
    as_json = path.suffix.lower() == ".json"
    if as_json:
        out = json.dumps(json.loads(bioc.biocjson.dumps(collection)), ensure_ascii=False, indent=1) + "\n"
    else:
        out = bioc.biocxml.dumps(collection, pretty_print=True)
    write_text(path, out)
    return []


def _bioc_doc(bioc: Any, doc: Document) -> Any:
    bdoc = bioc.BioCDocument()
    bdoc.id = doc.id
    bdoc.infons.update(doc.meta.get("bioc_infons", {}))
    layout = doc.meta.get("bioc_passages") or [{"offset": 0, "length": len(doc.text), "infons": {},
                                                "has_text": True}]
    passages = []
    for p in layout:
        bp = bioc.BioCPassage()
        bp.offset = p["offset"]
        bp.infons.update(p["infons"])
        bp.text = doc.text[p["offset"]:p["offset"] + p["length"]] if p.get("has_text", True) else None
        bdoc.add_passage(bp)
        passages.append(bp)
    used = {s.id for s in doc.spans or () if s.id}
    n = 0
    for s in doc.spans or ():
        ann = bioc.BioCAnnotation()
        sid = s.id
        if not sid:
            n += 1
            while f"T{n}" in used:
                n += 1
            sid = f"T{n}"
        ann.id = sid
        ann.infons["type"] = s.label
        ann.infons.update((s.meta or {}).get("infons", {}))
        for a, b in s.pieces:
            ann.add_location(bioc.BioCLocation(a, b - a))
        ann.text = s.text_in(doc.text, " ")
        k = (s.meta or {}).get("passage", "auto")
        if k == "auto":
            k = next((i for i, p in enumerate(layout) if p["offset"] <= s.start < p["offset"] + max(1, p["length"])),
                     None)
        (passages[k] if isinstance(k, int) and k < len(passages) else bdoc).add_annotation(ann)
    for r in doc.meta.get("bioc_relations", ()):
        rel = bioc.BioCRelation()
        rel.id = r["id"]
        rel.infons.update(r["infons"])
        for node in r["nodes"]:
            rel.add_node(bioc.BioCNode(node["refid"], node["role"]))
        bdoc.add_relation(rel)
    return bdoc


__all__ = ["MAX_GAP", "NAME", "SUFFIXES", "read", "sniff", "write"]
