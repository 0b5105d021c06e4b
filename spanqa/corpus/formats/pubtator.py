"""PubTator files (NCBI Disease, BC5CDR): title/abstract blocks with tab-separated mentions.

One document per block, blocks separated by a blank line::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>concept[<TAB>more ...]]
    PMID<TAB>CID<TAB>D008750<TAB>D003866          (relation, or any other line)

The document text is ``title + "\\n" + abstract`` - one character between them,
so the file's offsets (counted over ``title + " " + abstract``) hold unchanged;
a block without an ``|a|`` line has the title alone as text.  Span offsets are
the file's half-open ``[start, end)``; the mention must equal the text there
(``E202`` otherwise, ``E201`` when out of range, both with file:line).  The
concept id is kept in ``Span.meta["concept"]``, further columns in
``Span.meta["extra"]`` (a tuple); a 5-column line has neither.  A recorded
mention that differs from the text only by surrounding whitespace is ``W109``:
the offsets win and the recorded string is kept in ``Span.meta["mention"]``
(NCBI Disease train, PMID 10923035, has one).  Relation lines
and any other lines are kept verbatim in ``Document.meta["pubtator"]["other"]``
as ``(k, line)`` pairs (``k`` = number of mention lines before it) and written
back in place; a line that is neither a mention nor a relation (second column
is a word) is also reported as ``W101``.

A block with a title/abstract but no mention lines is **annotated with no
entities** (``spans == ()``): PubTator lists every mention.

Document ids are the PMIDs.  A folder is read file by file, sorted by name
(hidden files and files that do not look like PubTator are skipped).  A PMID
that occurs again in the *same* file with the same text, mentions and other
lines is dropped with ``W108`` (NCBI Disease train has PMID 8528200 twice);
any other repeat - different content, or a PMID in two files of a folder,
which means overlapping splits - is ``E107``.

:func:`write` reproduces the format: the first ``"\\n"`` of the text separates
title and abstract; a document whose abstract holds another line break cannot be
written (``E112``) unless ``newlines="space"`` (each break written as a space:
offsets hold; ``W107``).  Discontinuous spans are written as their hull and
unannotated documents as annotated with no entities, both ``W107``, returned
(and reported to ``reporter`` when given).

>>> import tempfile, pathlib
>>> from spanqa.core.errors import Reporter
>>> p = pathlib.Path(tempfile.mkdtemp()) / "demo.txt"
>>> _ = p.write_text("1|t|Aspirin rash\\n1|a|No fever.\\n1\\t0\\t7\\tAspirin\\tChemical\\tD001241\\n\\n")
>>> doc = read(p, reporter=Reporter()).documents[0]
>>> doc.text, [(s.start, s.end, s.label, s.meta["concept"]) for s in doc.spans]
('Aspirin rash\\nNo fever.', [(0, 7, 'Chemical', 'D001241')])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, Reporter, fail
from spanqa.core.output import write_text
from spanqa.core.span import Span
from spanqa.corpus.formats._walk import add_document, corpus_files
from spanqa.corpus.formats.conll import read_text
from spanqa.corpus.validate import check_span

NAME = "pubtator"

_HEAD = re.compile(r"^([^|\t]+)\|([ta])\|(.*)$")
_SNIFF = re.compile(r"^\d+\|t\|", re.ASCII)
_INT = re.compile(r"-?\d+", re.ASCII)  # 0-9 only: int() would also take ٦, ６, " 6" and "1_0"


@dataclass
class _Block:
    pmid: str
    line: int
    title: str | None = None
    abstract: str | None = None
    mentions: list[tuple[list[str], int]] = field(default_factory=list)
    other: list[tuple[int, str]] = field(default_factory=list)


def _build(b: _Block, path: Path, reporter: Reporter) -> Document:
    title = b.title or ""
    text = title if b.abstract is None else f"{title}\n{b.abstract}"
    spans: list[Span] = []
    for cols, lineno in b.mentions:
        meta: dict[str, Any] = {}
        if len(cols) > 5:
            meta["concept"] = cols[5]
        if len(cols) > 6:
            meta["extra"] = tuple(cols[6:])
        start, end, recorded = int(cols[1]), int(cols[2]), cols[3]
        actual = text[start:end] if 0 <= start <= end <= len(text) else None
        if actual is not None and actual != recorded and actual.strip() == recorded.strip():
            reporter.report("W109", f"recorded {recorded!r}, text has {actual!r}", path=str(path), line=lineno,
                            doc_id=b.pmid, start=start, end=end, excerpt=actual)
            meta["mention"] = recorded
            recorded = actual
        span = Span(b.pmid, start, end, cols[4], meta=meta)
        if check_span(span, text, reporter, recorded_text=recorded, path=str(path), line=lineno):
            spans.append(span)
    meta = {"pubtator": {"other": tuple(b.other)}} if b.other else {}
    return Document(id=b.pmid, text=text, spans=tuple(spans), source=f"{path}:{b.line}", meta=meta)


def _read_file(path: Path, reporter: Reporter) -> list[Document]:
    text = read_text(path, reporter)
    if text is None:
        return []
    blocks: list[_Block] = []
    cur: _Block | None = None
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            cur = None
            continue
        head = _HEAD.match(line)
        if head:
            pmid, kind, body = head.groups()
            if kind == "a" and cur is not None and cur.pmid == pmid:
                if cur.abstract is not None:
                    reporter.report("E105", "a second abstract line in one document", path=str(path),
                                    line=lineno, doc_id=pmid, excerpt=line)
                    continue
            elif (kind == "t" and cur is not None and cur.pmid == pmid and cur.title is None
                  and cur.abstract is not None and not cur.mentions):
                reporter.report("E105", "the title line comes after the abstract line; PubTator gives PMID|t|title "
                                "first, then PMID|a|abstract (read in that order, the offsets count from the title)",
                                path=str(path), line=lineno, doc_id=pmid, excerpt=line)
            else:
                cur = _Block(pmid=pmid, line=lineno)
                blocks.append(cur)
            if kind == "t":
                cur.title = body
            else:
                cur.abstract = body
            continue
        cols = line.split("\t")
        if cur is None or cols[0] != cur.pmid:
            reporter.report("E105", "line outside a document block, or with another PMID than the block's "
                            f"{cur.pmid if cur else '(none)'}; expected PMID|t|title first", path=str(path),
                            line=lineno, excerpt=line)
            continue
        if len(cols) >= 2 and _INT.fullmatch(cols[1]):
            if len(cols) < 5 or not _INT.fullmatch(cols[2]):
                reporter.report("E105", "a mention line needs PMID, start, end, mention and type, tab-separated",
                                path=str(path), line=lineno, doc_id=cur.pmid, excerpt=line)
                continue
            cur.mentions.append((cols, lineno))
            continue
        if len(cols) >= 5 and any(c.isdigit() for c in cols[1] + cols[2]):
            reporter.report("E105", f"mention offsets {cols[1]!r} {cols[2]!r} must be plain 0-9 integers",
                            path=str(path), line=lineno, doc_id=cur.pmid, excerpt=line)
            continue
        if not (len(cols) >= 4 and cols[1].isalpha()):
            reporter.report("W101", "neither a mention nor a relation line", path=str(path), line=lineno,
                            doc_id=cur.pmid, excerpt=line)
        cur.other.append((len(cur.mentions), line))
    docs: list[Document] = []
    first_seen: dict[str, Document] = {}
    for b in blocks:
        doc = _build(b, path, reporter)
        if doc.id in first_seen:
            if first_seen[doc.id] == doc:
                reporter.report("W108", f"PMID {doc.id} repeats the block at {first_seen[doc.id].source} exactly",
                                path=str(path), line=b.line, doc_id=doc.id)
            else:
                reporter.report("E107", f"PMID {doc.id} occurs again with other content (first at "
                                f"{first_seen[doc.id].source}); the second block is left out",
                                path=str(path), line=b.line, doc_id=doc.id)
            continue
        first_seen[doc.id] = doc
        docs.append(doc)
    return docs


def _files(path: Path, reporter: Reporter) -> list[Path]:
    if not path.is_dir():
        return [path]
    return corpus_files(path, reporter, suffixes=(".pubtator",), recursive=False, accept=sniff)


def read(path: Path, *, reporter: Reporter) -> Corpus:
    """Read a PubTator file, or every PubTator file of a folder (sorted by name), into a :class:`Corpus`."""
    path = Path(path)
    docs: list[Document] = []
    where: dict[str, str] = {}
    for file in _files(path, reporter):
        for doc in _read_file(file, reporter):
            add_document(doc, docs, where, reporter, path=file, what="PMID",
                         hint="; a folder must not mix overlapping splits")
    if not docs:
        reporter.report("E104", "no PMID|t|title line found", path=str(path))
    return Corpus.from_docs(docs, format=NAME, source=str(path))


def sniff(path: Path) -> bool:
    """True when the first non-blank line looks like ``PMID|t|title``."""
    try:
        with open(path, encoding="utf-8") as fh:
            for _, line in zip(range(1000), fh):
                if line.strip():
                    return bool(_SNIFF.match(line.lstrip("\ufeff")))
    except (UnicodeDecodeError, OSError):
        return False
    return False


# --------------------------------------------------------------------------- writing

def _loss(problems: list[Problem], reporter: Reporter | None, detail: str, **where: Any) -> None:
    problems.append(Problem("W107", Location(**where), detail))
    if reporter is not None:
        reporter.report("W107", detail, **where)


def _doc_lines(doc: Document, path: Path, newlines: Literal["error", "space"], problems: list[Problem],
               reporter: Reporter | None) -> list[str]:
    where = {"path": str(path), "doc_id": doc.id}
    if not doc.id or any(c in doc.id for c in "|\t\n\r"):
        raise fail("E112", f"document id {doc.id!r} cannot be a PMID (no '|', tab or line break)", **where)
    title, brk, abstract = doc.text.partition("\n")
    if "\r" in title or "\n" in abstract or "\r" in abstract:
        if newlines == "error":
            raise fail("E112", "the abstract holds a line break; PubTator keeps the abstract on one line: write "
                       "this corpus as jsonl or brat, which keep every break (from Python, "
                       "write_corpus(..., 'pubtator', newlines='space') writes each break as a space)", **where)
        _loss(problems, reporter, "line breaks after the first written as spaces", **where)
        title, abstract = title.replace("\r", " "), abstract.replace("\r", " ").replace("\n", " ")
    text = title + brk + abstract
    out = [f"{doc.id}|t|{title}"] + ([f"{doc.id}|a|{abstract}"] if brk else [])
    if doc.spans is None:
        _loss(problems, reporter, "document not annotated; PubTator reads it back as annotated with no entities",
              **where)
    other = list(doc.meta.get("pubtator", {}).get("other", ()))
    oi = 0
    spans = list(doc.spans or ())
    for k, s in enumerate(spans):
        while oi < len(other) and other[oi][0] <= k:
            out.append(other[oi][1])
            oi += 1
        if s.is_discontinuous:
            _loss(problems, reporter, f"discontinuous {s.label} span written as its hull", start=s.start,
                  end=s.end, **where)
        mention = str(s.meta.get("mention", text[s.start:s.end]))
        cols = [doc.id, str(s.start), str(s.end), mention, s.label]
        if "concept" in s.meta:
            cols.append(str(s.meta["concept"]))
            cols += [str(c) for c in s.meta.get("extra", ())]
        if any(c in col for col in cols[3:] for c in "\t\n\r"):
            raise fail("E112", f"mention or label of a {s.label!r} span holds a tab or line break",
                       start=s.start, end=s.end, excerpt=mention, **where)
        out.append("\t".join(cols))
    out += [line for _, line in other[oi:]]
    out.append("")
    return out


def write(corpus: Corpus, path: Path, *, newlines: Literal["error", "space"] = "error",
          reporter: Reporter | None = None) -> list[Problem]:
    """Write ``corpus`` as one PubTator file (or, when ``path`` is a folder, one file per source file).

    Returns the ``W107`` problems (what the format could not hold exactly), also
    reported to ``reporter`` when given.
    """
    path = Path(path)
    problems: list[Problem] = []
    if path.is_dir():
        groups: dict[str, list[Document]] = {}
        for doc in corpus.documents:
            groups.setdefault(_source_name(doc), []).append(doc)
        for name, docs in groups.items():
            problems += write(Corpus.from_docs(docs, format=NAME), path / name, newlines=newlines,
                              reporter=reporter)
        return problems
    lines: list[str] = []
    for doc in corpus.documents:
        lines += _doc_lines(doc, path, newlines, problems, reporter)
    write_text(path, "".join(ln + "\n" for ln in lines))
    return problems


def _source_name(doc: Document) -> str:
    """The file name a document was read from (``Document.source`` is ``path:line``), else ``corpus.pubtator``."""
    if doc.source:
        file, _, line = doc.source.rpartition(":")
        return Path(file if line.isdigit() else doc.source).name
    return "corpus.pubtator"


__all__ = ["NAME", "read", "sniff", "write"]
