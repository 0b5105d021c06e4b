"""UIMA CAS XMI, as INCEpTION and WebAnno export it ("UIMA CAS XMI (XML 1.0)"), through ``dkpro-cassis``.

Install with ``pip install 'spanqa[inception]'``; without it reading or writing XMI is ``E407``.

A corpus is a folder (an INCEpTION export unpacked, or one ``.xmi`` file beside it) holding
``.xmi`` files and the type system (``TypeSystem.xml``, any case; ``E106`` when none is found).
Per ``.xmi`` file, one document:

- id: ``DocumentMetaData.documentTitle``, else ``documentId``, else the file stem; text: the
  sofa string (cassis turns UIMA's UTF-16 offsets into character offsets, so astral characters
  such as emoji count once);
- spans: the annotations of ``entity_type`` (default DKPro's ``NamedEntity``) with the label in
  ``label_feature`` (default ``value``; an INCEpTION custom layer is ``webanno.custom.<Layer>``
  with the feature you gave it); an annotation without a label is ``E204``; its other
  primitive features go to ``Span.meta["features"]``;
- ``Token`` and ``Sentence`` annotations, when present, fill ``Document.tokens`` /
  ``Document.sentences``;
- every other annotation (relations, other layers, metadata) stays in the CAS, which is kept
  as its XMI in ``Document.meta["xmi"]`` and written back with only the entities replaced.

INCEpTION keeps the state of a document (new / in progress / finished) outside the CAS, so
every document read is annotated.  Writing (:func:`write`) gives a folder: ``TypeSystem.xml``
and ``<id>.xmi`` per document (ids that are not safe file names are ``E112``).  Discontinuous
spans cannot be held: written as the hull (``W107``).

>>> import tempfile, pathlib
>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.errors import Reporter
>>> from spanqa.core.span import Span
>>> out = pathlib.Path(tempfile.mkdtemp()) / "export"
>>> _ = write(Corpus.from_docs([Document("n1", "Pt on aspirin 81mg.", (Span("n1", 6, 13, "Drug"),))]), out)
>>> sorted(p.name for p in out.iterdir())
['TypeSystem.xml', 'n1.xmi']
>>> [(d.id, [s.key for s in d.spans]) for d in read(out, reporter=Reporter()).documents]
[('n1', [(6, 13, 'Drug')])]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, Reporter, fail, require
from spanqa.core.output import write_text
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.formats._text import read_utf8
from spanqa.corpus.formats._walk import add_document, corpus_files

NAME = "xmi"
NAMED_ENTITY = "de.tudarmstadt.ukp.dkpro.core.api.ner.type.NamedEntity"
TOKEN = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Token"
SENTENCE = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Sentence"
METADATA = "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.DocumentMetaData"
_CORE = {"begin", "end", "sofa", "xmiID"}


def _cassis():
    return require("cassis", extra="inception", what="UIMA CAS XMI")


def sniff(path: Path) -> bool:
    path = Path(path)
    if path.is_dir():
        return any(p.suffix.lower() == ".xmi" for p in path.iterdir())
    return path.suffix.lower() == ".xmi"


def _typesystem_file(folder: Path) -> Path | None:
    return next((p for p in sorted(folder.iterdir()) if p.name.lower() == "typesystem.xml"), None)


def read(path: Path, *, reporter: Reporter, entity_type: str = NAMED_ENTITY, label_feature: str = "value") -> Corpus:
    """Read a folder of ``.xmi`` files with their ``TypeSystem.xml`` (or one ``.xmi`` beside it)."""
    cassis = _cassis()
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    ts_path = _typesystem_file(folder)
    if ts_path is None:
        raise fail("E106", f"no TypeSystem.xml beside the XMI files in {folder}", path=str(folder))
    decoded = read_utf8(ts_path, reporter)
    if decoded is None:
        return Corpus(documents=(), format=NAME, source=str(path))
    try:
        typesystem = cassis.load_typesystem(decoded[0])
    except Exception as err:
        raise fail("E105", f"not a UIMA type system ({type(err).__name__}: {err})", path=str(ts_path)) from None
    if not typesystem.contains_type(entity_type):
        raise fail("E109", f"the type system has no type {entity_type!r}; pass entity_type= for a custom layer "
                   "(webanno.custom.<Layer>)", path=str(ts_path))
    files = corpus_files(folder, reporter, suffixes=(".xmi",)) if path.is_dir() else [path]
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for file in files:
        add_document(_document(cassis, file, typesystem, reporter, entity_type, label_feature), docs, seen,
                     reporter, path=file)
    if not docs:
        reporter.report("E104", f"no XMI document found in {path}", path=str(path))
    return Corpus(documents=tuple(docs), format=NAME, source=str(path))


def _document(cassis: Any, file: Path, typesystem: Any, reporter: Reporter, entity_type: str,
              label_feature: str) -> Document | None:
    decoded = read_utf8(file, reporter)
    if decoded is None:
        return None
    import warnings

    try:
        with warnings.catch_warnings():  # cassis warns of offsets outside the text; spanqa reports them (E201)
            warnings.simplefilter("ignore", UserWarning)
            cas = cassis.load_cas_from_xmi(decoded[0], typesystem=typesystem)
    except Exception as err:
        reporter.report("E105", f"not a UIMA CAS XMI ({type(err).__name__}: {err})", path=str(file))
        return None
    text = cas.sofa_string or ""
    doc_id = file.stem
    if typesystem.contains_type(METADATA):
        meta_ann = next(iter(cas.select(METADATA)), None)
        if meta_ann is not None:
            doc_id = str(meta_ann.get("documentTitle") or meta_ann.get("documentId") or doc_id)
    where = {"path": str(file), "doc_id": doc_id}
    spans: list[Span] = []
    for ann in cas.select(entity_type):
        label = ann.get(label_feature)
        if not isinstance(label, str) or not label.strip():
            reporter.report("E204", f"{entity_type.rsplit('.', 1)[-1]} {ann.xmiID} at {ann.begin}-{ann.end} has no "
                            f"{label_feature!r}", start=ann.begin, end=ann.end, **where)
            continue
        if not 0 <= ann.begin < ann.end <= len(text):
            reporter.report("E201", f"[{ann.begin}, {ann.end}) is not inside the text of length {len(text)}",
                            start=ann.begin, end=ann.end, **where)
            continue
        features = {f.name: ann.get(f.name) for f in ann.type.all_features
                    if f.name not in _CORE | {label_feature} and isinstance(ann.get(f.name), (str, int, float, bool))}
        spans.append(Span(doc_id, int(ann.begin), int(ann.end), label,
                          meta={"features": features} if features else {}))
    tokens = tuple((int(t.begin), int(t.end)) for t in cas.select(TOKEN) if t.end > t.begin) \
        if typesystem.contains_type(TOKEN) else ()
    sentences = tuple((int(s.begin), int(s.end)) for s in cas.select(SENTENCE)) \
        if typesystem.contains_type(SENTENCE) else ()
    return Document(doc_id, text, sort_spans(spans), source=str(file), tokens=tokens or None,
                    sentences=sentences or None,
                    meta={"xmi": decoded[0], "xmi_entity": [entity_type, label_feature]})


def write(corpus: Corpus, path: Path, *, reporter: Reporter | None = None) -> list[Problem]:
    """Write ``corpus`` as a folder ``path`` with ``TypeSystem.xml`` and one ``<id>.xmi`` per document."""
    cassis = _cassis()
    from spanqa.corpus.formats.brat import _safe_stem

    root = Path(path)
    typesystem = None
    for doc in corpus.documents:  # a type system read with the corpus is written back as it was
        ts_file = Path(doc.source).parent / "TypeSystem.xml" if doc.source and "xmi" in doc.meta else None
        if ts_file is not None and ts_file.is_file():
            typesystem = cassis.load_typesystem(ts_file.read_text(encoding="utf-8"))
            break
    if typesystem is None:
        typesystem = cassis.load_dkpro_core_typesystem()
    with_metadata(typesystem)
    problems: list[Problem] = []
    files: list[tuple[Path, str]] = []
    for doc in corpus.documents:
        stem = _safe_stem(doc.id)
        files.append((root / f"{stem}.xmi", _xmi(cassis, doc, typesystem, problems, root)))
    root.mkdir(parents=True, exist_ok=True)
    write_text(root / "TypeSystem.xml", typesystem.to_xml(), root=root)
    for file, content in files:
        write_text(file, content, root=root)
    return problems


def with_metadata(typesystem: Any) -> Any:
    """``typesystem`` with DKPro's ``DocumentMetaData`` (where the document id travels), added when missing."""
    if not typesystem.contains_type(METADATA):
        meta = typesystem.create_type(METADATA, supertypeName="uima.tcas.DocumentAnnotation"
                                      if typesystem.contains_type("uima.tcas.DocumentAnnotation")
                                      else "uima.tcas.Annotation")
        for name in ("documentTitle", "documentId"):
            typesystem.create_feature(meta, name, "uima.cas.String")
    return typesystem


def _xmi(cassis: Any, doc: Document, typesystem: Any, problems: list[Problem], root: Path) -> str:
    entity_type, label_feature = doc.meta.get("xmi_entity") or [NAMED_ENTITY, "value"]
    cas = None
    if isinstance(doc.meta.get("xmi"), str):
        try:
            cas = cassis.load_cas_from_xmi(doc.meta["xmi"], typesystem=typesystem)
        except Exception:
            cas = None
        if cas is not None and cas.sofa_string != doc.text:
            cas = None
    if cas is None:
        cas = cassis.Cas(typesystem=typesystem)
        cas.sofa_string = doc.text
        meta_type = typesystem.get_type(METADATA) if typesystem.contains_type(METADATA) else None
        if meta_type is not None:
            cas.add(meta_type(begin=0, end=len(doc.text), documentTitle=doc.id, documentId=doc.id))
        if doc.tokens and typesystem.contains_type(TOKEN):
            token = typesystem.get_type(TOKEN)
            for a, b in doc.tokens:
                cas.add(token(begin=a, end=b))
    for ann in list(cas.select(entity_type)):
        cas.remove(ann)
    entity = typesystem.get_type(entity_type)
    for s in doc.spans or ():
        if s.is_discontinuous:
            problems.append(Problem("W107", Location(path=str(root), doc_id=doc.id, start=s.start, end=s.end),
                                    f"discontinuous {s.label} span written as its hull"))
        features = {k: v for k, v in (s.meta or {}).get("features", {}).items()
                    if k in {f.name for f in entity.all_features}}
        cas.add(entity(begin=s.start, end=s.end, **{label_feature: s.label}, **features))
    return cas.to_xmi()


__all__ = ["METADATA", "NAME", "NAMED_ENTITY", "SENTENCE", "TOKEN", "read", "sniff", "with_metadata", "write"]
