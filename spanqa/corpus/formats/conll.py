"""CoNLL / BIO column files: one token per line, blank line between sentences.

Reading
-------
Each non-blank line is a token: columns split on tabs when the file's first
non-blank line holds a tab, else on runs of spaces/tabs.  Column 0 is the token,
column ``tag_column`` (default ``-1``, the last) its tag in ``scheme``
(``IOB1``, ``IOB2`` or ``BIOES``).  Tags are decoded **per sentence** by the one
BIO codec, :func:`spanqa.corpus.bio.tags_to_spans`, so an entity never crosses a
blank line.

The document text is rebuilt deterministically: the tokens of a sentence
joined by one space, sentences joined by ``"\\n"``.  ``Document.tokens`` holds
every token's half-open character range, ``Document.sentences`` every
sentence's range.  Spans are character offsets into that text.

Document breaks (``doc_break``):

- ``"docstart"``: every ``-DOCSTART-`` line starts a document.  A
  ``-DOCSTART-`` followed by no token is still a document, with empty text and
  no spans, so the document count equals the number of ``-DOCSTART-`` lines
  (plus one when tokens come before the first of them).
- ``"sentence"``: every sentence is a document; a ``-DOCSTART-`` line is kept
  with the sentence that follows it.
- ``"file"``: the whole file is one document.
- ``"auto"`` (default): ``"docstart"`` when the file has a ``-DOCSTART-`` line,
  else ``"sentence"``.

Document ids are ``f"{file_stem}-{i}"`` (``i`` = 0-based document index in the
file), so a round trip must write to a file with the same name.  A folder is
read file by file, sorted by name (hidden files and files that do not look like
CoNLL are skipped).

What spanqa does not model is kept in ``Document.meta["conll"]`` and written
back: ``markers`` (the verbatim ``-DOCSTART-`` lines, each with the number of
sentences before it), ``columns`` (per token, the columns other than the token
and the tag), ``tag_column`` and ``sep`` (``"\\t"`` or ``" "``).

Problems: ``E103`` not UTF-8, ``E104`` no document, ``E110`` a token line with
a different number of columns than the file's first token line (or no tag
column), ``E111`` a tag not valid in the scheme (read as ``O`` when not strict),
``W104`` an invalid sequence repaired (e.g. a stray ``I-``), ``W113`` a token line whose token is empty
(leading whitespace, then only the tag: the line is skipped, so a tag it held is dropped and the sequence
repaired as usual), all with file:line.

Writing
-------
:func:`write` tags ``spanqa.corpus.tokenize.doc_words(doc)`` (``doc.tokens`` when
present, split at span edges inside a token) per sentence
(``doc.sentences`` or :func:`spanqa.corpus.tokenize.sentence_ranges`).  CoNLL is flat:
what cannot be written exactly is **returned** as ``W107`` problems (and
reported to ``reporter`` when one is given) rather than raised - overlapping
spans dropped (longest first wins), discontinuous spans written as their hull,
spans crossing a sentence break, tokens split at a span edge, unannotated
documents written as annotated with no entities.  A token that holds the
column separator or a line break, or a label that is empty or holds
whitespace, cannot be written: ``E112`` is raised.

Why one module of ~480 lines: one format, read (column and tag detection, document breaks, coded errors) and
written.

>>> import tempfile, pathlib
>>> from spanqa.core.errors import Reporter
>>> p = pathlib.Path(tempfile.mkdtemp()) / "demo.conll"
>>> _ = p.write_text("Pt O\\ntook O\\naspirin B-Drug\\n81 B-Strength\\nmg I-Strength\\n")
>>> doc = read(p, reporter=Reporter()).documents[0]
>>> doc.id, doc.text, [(s.start, s.end, s.label) for s in doc.spans]
('demo-0', 'Pt took aspirin 81 mg', [(8, 15, 'Drug'), (16, 21, 'Strength')])
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, Reporter, fail
from spanqa.core.output import write_text
from spanqa.core.span import Span
from spanqa.corpus.bio import SCHEMES, Scheme, spans_to_tags, tags_to_spans, validate_tag
from spanqa.corpus.formats._text import read_utf8
from spanqa.corpus.formats._walk import add_document, corpus_files

NAME = "conll"

DocBreak = Literal["auto", "docstart", "sentence", "file"]
Range = tuple[int, int]

DOCSTART = "-DOCSTART-"
#: suffixes read from a folder without sniffing
SUFFIXES = frozenset({".conll", ".bio", ".iob", ".iob2", ".bioes", ".tsv", ".txt"})
_SPACES = re.compile(r"[ \t]+")
_TAG = re.compile(r"^(O|[BIES]-\S+)$")


# --------------------------------------------------------------------------- reading helpers

def read_text(path: Path, reporter: Reporter) -> str | None:
    """The file's text (UTF-8, BOM removed with ``W102``), or ``None`` after ``E103``."""
    decoded = read_utf8(path, reporter)
    if decoded is None:
        return None
    text, had_bom = decoded
    if had_bom:
        reporter.report("W102", "UTF-8 byte-order mark at the start of the file", path=str(path), line=1)
    return text


def _split(line: str, tabbed: bool) -> list[str]:
    return line.split("\t") if tabbed else _SPACES.split(line.strip(" \t"))


@dataclass
class _Token:
    text: str
    tag: str
    extra: tuple[str, ...]
    line: int


@dataclass
class _DocBuilder:
    line: int
    sentences: list[list[_Token]] = field(default_factory=list)
    markers: list[tuple[int, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.sentences and not self.markers


def _resolve_tag_column(tag_column: int, ncols: int) -> int | None:
    idx = tag_column if tag_column >= 0 else ncols + tag_column
    return idx if 1 <= idx < ncols else None


def _build(b: _DocBuilder, doc_id: str, path: Path, *, scheme: Scheme, tag_column: int, tabbed: bool,
           reporter: Reporter) -> Document:
    parts: list[str] = []
    tokens: list[Range] = []
    sentences: list[Range] = []
    spans: list[Span] = []
    columns: list[tuple[str, ...]] = []
    pos = 0
    for k, sent in enumerate(b.sentences):
        if k:
            parts.append("\n")
            pos += 1
        s_start = pos
        words: list[Range] = []
        for j, tok in enumerate(sent):
            if j:
                parts.append(" ")
                pos += 1
            parts.append(tok.text)
            words.append((pos, pos + len(tok.text)))
            pos += len(tok.text)
            columns.append(tok.extra)
        sentences.append((s_start, pos))
        tokens.extend(words)

        def repaired(i: int, tag: str, sent: list[_Token] = sent) -> None:
            label = tag[2:]
            nxt = sent[i + 1].tag if i + 1 < len(sent) else None
            if scheme == "BIOES" and tag[:2] in ("B-", "I-") and nxt not in (f"I-{label}", f"E-{label}"):
                why = f"{tag!r} is not closed by an E-{label} tag in BIOES; the entity ends at this word"
            else:
                why = f"{tag!r} cannot continue the previous tag in {scheme}; it starts a new entity"
            reporter.report("W104", why, path=str(path), line=sent[i].line, doc_id=doc_id, excerpt=sent[i].text)

        spans.extend(tags_to_spans(words, [t.tag for t in sent], doc_id=doc_id, scheme=scheme, on_repair=repaired))
    meta: dict[str, Any] = {"markers": tuple(b.markers), "sep": "\t" if tabbed else " ", "tag_column": tag_column}
    if any(columns):
        meta["columns"] = tuple(columns)
    return Document(id=doc_id, text="".join(parts), spans=tuple(spans), source=f"{path}:{b.line}",
                    tokens=tuple(tokens), sentences=tuple(sentences), meta={"conll": meta})


def _read_file(path: Path, reporter: Reporter, *, scheme: Scheme, tag_column: int,
               doc_break: DocBreak) -> list[Document]:
    text = read_text(path, reporter)
    if text is None:
        return []
    lines = text.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    tabbed = "\t" in first
    mode = doc_break
    if mode == "auto":
        mode = "docstart" if any(ln.startswith(DOCSTART) and _split(ln.rstrip("\r"), tabbed)[0] == DOCSTART
                                 for ln in lines) else "sentence"
    builders: list[_DocBuilder] = []
    cur = _DocBuilder(line=1)
    sent: list[_Token] = []
    pending: list[str] = []  # sentence mode: -DOCSTART- lines waiting for their sentence
    ncols: int | None = None
    tag_idx: int | None = None
    valid_tags: set[str] = set()

    def close_sentence() -> None:
        nonlocal sent, cur
        if not sent:
            return
        if mode == "sentence":
            doc = _DocBuilder(line=sent[0].line, sentences=[sent], markers=[(0, m) for m in pending])
            pending.clear()
            builders.append(doc)
        else:
            if cur.empty:
                cur.line = sent[0].line
            cur.sentences.append(sent)
        sent = []

    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip(" \t\r"):
            close_sentence()
            continue
        cols = _split(line, tabbed)
        if ncols is not None and (cols[0] == "" or (not tabbed and line[:1] in " \t" and len(cols) == ncols - 1)):
            reporter.report("W113", f"empty token (a line of only {len(cols) - (cols[0] == '')} tag column(s) after "
                            "leading whitespace); the line is skipped", path=str(path), line=lineno, excerpt=line)
            continue
        if cols[0] == DOCSTART:
            close_sentence()
            if mode == "docstart":
                if not cur.empty:
                    builders.append(cur)
                cur = _DocBuilder(line=lineno, markers=[(0, line)])
            elif mode == "sentence":
                pending.append(line)
            else:
                if cur.empty:
                    cur.line = lineno
                cur.markers.append((len(cur.sentences), line))
            continue
        if ncols is None:
            ncols = len(cols)
            tag_idx = _resolve_tag_column(tag_column, ncols)
            if tag_idx is None:
                reporter.report("E110", f"tag_column {tag_column} does not name a column after the token in a line "
                                f"of {ncols} column(s)", path=str(path), line=lineno, excerpt=line)
                return []
        idx = tag_idx
        if len(cols) != ncols:
            reporter.report("E110", f"{len(cols)} column(s) where the file's first token line has {ncols}",
                            path=str(path), line=lineno, excerpt=line)
            idx = _resolve_tag_column(tag_column, len(cols))
        if idx is None:
            tag, extra = "O", tuple(cols[1:])
        else:
            tag, extra = cols[idx], tuple(cols[1:idx] + cols[idx + 1:])
        if tag not in valid_tags:
            if validate_tag(tag, scheme):
                valid_tags.add(tag)
            else:
                reporter.report("E111", f"{tag!r} is not a valid {scheme} tag; read as 'O'", path=str(path),
                                line=lineno, excerpt=line)
                tag = "O"
        sent.append(_Token(cols[0], tag, extra, lineno))
    close_sentence()
    if mode == "sentence":
        if pending:
            if builders:
                last = builders[-1]
                last.markers.extend((len(last.sentences), m) for m in pending)
            else:
                builders.append(_DocBuilder(line=1, markers=[(0, m) for m in pending]))
    elif not cur.empty:
        builders.append(cur)
    return [_build(b, f"{path.stem}-{i}", path, scheme=scheme, tag_column=tag_column, tabbed=tabbed,
                   reporter=reporter) for i, b in enumerate(builders)]


def _files(path: Path, reporter: Reporter) -> list[Path]:
    if not path.is_dir():
        return [path]
    return corpus_files(path, reporter, suffixes=SUFFIXES - {".txt"}, recursive=False, accept=sniff)


def parse_scheme(scheme: str, path: Path) -> Scheme:
    """``scheme`` in the spelling :mod:`spanqa.corpus.bio` uses (case-insensitive); another value is ``E113``."""
    known = {s.lower(): s for s in SCHEMES}
    got = known.get(str(scheme).strip().lower())
    if got is None:
        raise fail("E113", f"unknown tag scheme {scheme!r}; use one of {', '.join(SCHEMES)}", path=str(path))
    return got  # type: ignore[return-value]


def read(path: Path, *, reporter: Reporter, scheme: Scheme = "IOB2", tag_column: int = -1,
         doc_break: DocBreak = "auto") -> Corpus:
    """Read a CoNLL file, or every CoNLL file of a folder (sorted by name), into a :class:`Corpus`.

    Options (keyword-only): ``scheme`` of the tags; ``tag_column`` index into the
    split columns (``-1`` = last; column 0 is always the token); ``doc_break``
    (see the module docstring).  Duplicate document ids (two files with the same
    stem) are ``E107``; a corpus without any document is ``E104``.
    """
    path = Path(path)
    scheme = parse_scheme(scheme, path)
    if doc_break not in ("auto", "docstart", "sentence", "file"):
        raise fail("E113", f"doc_break must be auto, docstart, sentence or file, not {doc_break!r}", path=str(path))
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for file in _files(path, reporter):
        for doc in _read_file(file, reporter, scheme=scheme, tag_column=tag_column, doc_break=doc_break):
            add_document(doc, docs, seen, reporter, path=file, hint=" (two files with the same stem?)")
    if not docs:
        reporter.report("E104", "no token line and no -DOCSTART- line found", path=str(path))
    return Corpus.from_docs(docs, format=NAME, source=str(path))


def sniff(path: Path) -> bool:
    """True when the first non-blank lines are whitespace-separated columns ending in a BIO tag."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = [ln.rstrip("\r\n") for _, ln in zip(range(200), fh)]
    except (UnicodeDecodeError, OSError):
        return False
    token_lines = [ln for ln in head if ln.strip()]
    if not token_lines:
        return False
    tabbed = "\t" in token_lines[0]
    checked = 0
    for ln in token_lines[:50]:
        cols = _split(ln, tabbed)
        if len(cols) < 2 or not _TAG.match(cols[-1]):
            return False
        checked += 1
    return checked > 0


# --------------------------------------------------------------------------- writing

def _loss(problems: list[Problem], reporter: Reporter | None, detail: str, **where: Any) -> None:
    problem = Problem("W107", Location(**where), detail)
    problems.append(problem)
    if reporter is not None:
        reporter.report("W107", detail, **where)


def _doc_lines(doc: Document, *, scheme: Scheme, sep: str, tag_column: int | None, width: int,
               path: Path, problems: list[Problem], reporter: Reporter | None) -> list[str]:
    from spanqa.corpus.tokenize import doc_words, sentence_ranges

    where = {"path": str(path), "doc_id": doc.id}
    meta = dict(doc.meta.get("conll", {}))
    spans = list(doc.spans or ())
    if doc.spans is None:
        _loss(problems, reporter, "document not annotated; CoNLL writes it as annotated with no entities", **where)
    for s in spans:
        if not s.label or any(c.isspace() for c in s.label):
            raise fail("E112", f"label {s.label!r} cannot be a CoNLL tag (empty or holds whitespace)",
                       start=s.start, end=s.end, excerpt=doc.text[s.start:s.end], **where)
        if s.is_discontinuous:
            _loss(problems, reporter, f"discontinuous {s.label} span written as its hull",
                  start=s.start, end=s.end, excerpt=doc.text[s.start:s.end], **where)
    words = doc_words(doc)
    ranges = list(words.ranges)
    for cut in words.forced_splits if doc.tokens is not None else ():  # the source's own tokens changed
        _loss(problems, reporter, f"token split at character {cut} where a span starts or ends",
              start=cut, excerpt=doc.text[max(0, cut - 10):cut + 10], **where)
    sents = sentence_ranges(doc, words) or [(0, len(doc.text))]
    # which sentence each word belongs to (by its start); spans are tagged sentence by sentence
    # (as the reader decodes them), which also keeps tagging linear in the document length
    starts = [a for a, _ in sents]
    sent_of = [min(len(sents) - 1, max(0, bisect.bisect_right(starts, a) - 1)) for a, _ in ranges]
    starts_w = [a for a, _ in ranges]
    ends_w = [b for _, b in ranges]
    rows_of: list[list[int]] = [[] for _ in range(len(sents))]
    for i, k in enumerate(sent_of):
        rows_of[k].append(i)
    bucket: list[list[Span]] = [[] for _ in range(len(sents))]
    dropped: set[int] = set()

    def drop(s: Span, why: str) -> None:
        if id(s) not in dropped:
            dropped.add(id(s))
            _loss(problems, reporter, f"{s.label} span {why}; dropped", start=s.start, end=s.end,
                  excerpt=doc.text[s.start:s.end], **where)

    for s in spans:
        lo, hi = bisect.bisect_right(ends_w, s.start), bisect.bisect_left(starts_w, s.end)
        inside = sorted(set(sent_of[lo:hi]))
        if not inside:
            drop(s, "covers no token")
        if len(inside) > 1:
            _loss(problems, reporter, f"{s.label} span crosses a sentence break; it is read back as "
                  f"{len(inside)} spans", start=s.start, end=s.end, excerpt=doc.text[s.start:s.end], **where)
        for k in inside:
            bucket[k].append(s)
    tags = ["O"] * len(ranges)
    for k, rows in enumerate(rows_of):
        if rows and bucket[k]:
            sent_tags = spans_to_tags([ranges[i] for i in rows], bucket[k], scheme=scheme,
                                      on_drop=lambda s: drop(s, "overlaps a longer one (flat format)"))
            for i, tag in zip(rows, sent_tags):
                tags[i] = tag
    # preserved columns, matched by token range
    tc = tag_column if tag_column is not None else int(meta.get("tag_column", -1))
    kept: dict[Range, tuple[str, ...]] = {}
    if "columns" in meta and doc.tokens is not None and len(meta["columns"]) == len(doc.tokens):
        kept = dict(zip(doc.tokens, meta["columns"]))
    markers = list(meta.get("markers", ())) if "conll" in doc.meta else \
        [(0, sep.join([DOCSTART] + ["-X-"] * width + ["O"]))]
    out: list[str] = []
    mi = 0
    for k in range(len(sents) + 1):
        while mi < len(markers) and (markers[mi][0] <= k or k == len(sents)):
            out += [markers[mi][1], ""]
            mi += 1
        if k == len(sents):
            break
        rows = rows_of[k]
        if not rows:
            continue
        for i in rows:
            a, b = ranges[i]
            token = doc.text[a:b]
            if not token or "\n" in token or "\r" in token or (sep == " " and (" " in token or "\t" in token)) \
                    or (sep == "\t" and "\t" in token):
                raise fail("E112", f"token {token!r} cannot be written in a {sep!r}-separated column file",
                           path=str(path), doc_id=doc.id, start=a, end=b)
            extra = list(kept.get((a, b), ()))
            extra += ["_"] * (width - len(extra))
            row = [token] + extra
            n = len(row) + 1
            idx = tc if tc >= 0 else n + tc
            idx = min(max(idx, 1), n - 1)
            row.insert(idx, tags[i])
            out.append(sep.join(row))
        out.append("")
    return out


def write(corpus: Corpus, path: Path, *, scheme: Scheme = "IOB2", tag_column: int | None = None,
          reporter: Reporter | None = None) -> list[Problem]:
    """Write ``corpus`` as one CoNLL file at ``path`` (or, when ``path`` is a folder, one file per source file).

    Tags are written in ``scheme`` at ``tag_column`` (default: the column each
    document was read from, else last).  Preserved columns and ``-DOCSTART-``
    lines from ``Document.meta["conll"]`` are written back; other documents get a
    generated ``-DOCSTART-`` line so that document breaks survive.  Returns the
    ``W107`` problems (what the flat format could not hold), also reported to
    ``reporter`` when given.
    """
    path = Path(path)
    problems: list[Problem] = []
    if path.is_dir():
        groups: dict[str, list[Document]] = {}
        for doc in corpus.documents:
            groups.setdefault(_source_name(doc), []).append(doc)
        for name, group in groups.items():
            problems += write(Corpus.from_docs(group, format=NAME), path / name, scheme=scheme,
                              tag_column=tag_column, reporter=reporter)
        return problems
    docs = corpus.documents
    metas = [d.meta.get("conll", {}) for d in docs]
    width = max((len(c) for m in metas for c in m.get("columns", ())), default=0)
    sep = next((m["sep"] for m in metas if "sep" in m), " ")
    lines: list[str] = []
    for doc in docs:
        lines += _doc_lines(doc, scheme=scheme, sep=sep, tag_column=tag_column, width=width, path=path,
                            problems=problems, reporter=reporter)
    content = "".join(ln + "\n" for ln in lines)
    if content.startswith("\ufeff"):  # a first token starting with U+FEFF would be read as a byte-order mark:
        content = "\ufeff" + content  # write a real one before it, which the reader removes (W102)
    write_text(path, content)
    return problems


def _source_name(doc: Document) -> str:
    """The file name a document was read from (``Document.source`` is ``path:line``), else ``{stem}.conll``."""
    if doc.source:
        file, _, line = doc.source.rpartition(":")
        return Path(file if line.isdigit() else doc.source).name
    return f"{doc.id.rsplit('-', 1)[0]}.conll"


__all__ = ["DOCSTART", "DocBreak", "NAME", "Range", "SUFFIXES", "parse_scheme", "read", "read_text", "sniff", "write"]
