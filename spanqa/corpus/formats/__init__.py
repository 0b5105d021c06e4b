"""Corpus formats: one module per format, one registry, detection from the path.

Each format module defines::

    NAME: str
    def read(path: Path, *, reporter: Reporter, **options) -> Corpus
    def write(corpus: Corpus, path: Path, **options) -> None
    def sniff(path: Path) -> bool          # True if a *file* looks like this format

Readers are lossless: read -> write -> read gives equal documents.  Whatever a
format carries that spanqa does not model goes into ``Document.meta`` /
``Span.meta`` and is written back, or is reported as a ``W1xx`` problem.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Problem, Reporter, SpanqaError, fail
from spanqa.corpus.tokenize import gc_paused

#: format name -> module implementing it
FORMATS: dict[str, str] = {
    "brat": "spanqa.corpus.formats.brat",
    "conll": "spanqa.corpus.formats.conll",
    "jsonl": "spanqa.corpus.formats.jsonl",
    "labelstudio": "spanqa.corpus.formats.labelstudio",
    "pubtator": "spanqa.corpus.formats.pubtator",
    "spacy": "spanqa.corpus.formats.docbin",
    "bioc": "spanqa.corpus.formats.bioc",
    "xmi": "spanqa.corpus.formats.xmi",
    "hf": "spanqa.corpus.formats.hf",
}

_SUFFIXES = {
    ".ann": "brat",
    ".conll": "conll", ".bio": "conll", ".iob": "conll", ".iob2": "conll", ".bioes": "conll", ".tsv": "conll",
    ".jsonl": "jsonl",
    ".json": "labelstudio",
    ".pubtator": "pubtator",
    ".spacy": "spacy",
    ".xmi": "xmi",
    ".parquet": "hf",
}


def format_module(name: str) -> ModuleType:
    if name not in FORMATS:
        raise fail("E102", f"format {name!r} is not one of {sorted(FORMATS)}")
    return importlib.import_module(FORMATS[name])


def detect_format(path: str | Path) -> str:
    """Guess a corpus format from its path (and, for ambiguous files, its first lines).

    A folder holding ``.ann`` or ``.txt``+``.ann`` files is brat; a folder of other
    files takes the format of its files.  ``.txt`` files are PubTator when their
    first line looks like ``PMID|t|title``, else CoNLL.
    """
    path = Path(path)
    if not path.exists():
        raise fail("E101", f"{path} does not exist", path=str(path))
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if any(p.suffix.lower() == ".ann" for p in files) or any(p.suffix.lower() == ".ann" for p in path.rglob("*")):
            return "brat"
        if any(p.suffix.lower() == ".xmi" for p in files):
            return "xmi"  # an INCEpTION export: the .xmi files and their TypeSystem.xml
        if format_module("hf").sniff(path):
            return "hf"  # a Dataset / DatasetDict saved with save_to_disk
        guesses = set()
        for p in files:
            try:
                guesses.add(detect_format(p))
            except SpanqaError:
                continue  # files of no known shape (README, LICENSE) do not decide
        if len(guesses) == 1:
            return guesses.pop()
        raise fail("E102", f"cannot tell the format of folder {path} (files look like {sorted(guesses) or 'nothing known'})", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xml", ".json") and format_module("bioc").sniff(path):
        return "bioc"
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    for name in ("pubtator", "conll", "jsonl"):
        mod = format_module(name)
        if getattr(mod, "sniff", None) and mod.sniff(path):
            return name
    raise fail("E102", f"cannot tell the format of {path} from its name or first lines", path=str(path))


def read_corpus(path: str | Path, format: str | None = None, *, strict: bool = True,
                reporter: Reporter | None = None, **options: Any) -> Corpus:
    """Read a corpus from ``path`` (a file or folder), detecting the format unless given.

    ``strict=True`` raises the first error as a :class:`~spanqa.core.errors.SpanqaError`;
    ``strict=False`` records errors in ``corpus.problems`` and skips the bad items.
    """
    path = Path(path)
    if not path.exists():
        raise fail("E101", f"{path} does not exist", path=str(path))
    if not (path.is_file() or path.is_dir()):
        raise fail("E116", f"{path} is a pipe, socket or device", path=str(path))
    name = format or detect_format(path)
    reporter = reporter or Reporter(strict=strict)
    with gc_paused():  # readers build millions of small acyclic objects; the cyclic GC would rescan them all
        corpus = format_module(name).read(path, reporter=reporter, **options)
        kept = (_unicode_ok(d, reporter) for d in corpus.documents)
        corpus = corpus.evolve(documents=tuple(d for d in kept if d is not None))
    return corpus.evolve(format=name, source=str(path), problems=tuple(reporter.problems))


#: what no id, text or label may hold: NUL and the UTF-16 surrogates (only a lone one can reach a str)
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def _unicode_ok(doc: Document, reporter: Reporter) -> Document | None:
    """spanqa's one Unicode policy: a NUL or a lone surrogate in an id or a label is ``E115`` (the document is
    skipped: ids and labels are keys); in the text each is replaced by U+FFFD at the same offset and reported
    (``W112``), so one damaged note does not refuse the audit of the corpus."""
    where = {"path": doc.source or None, "doc_id": _BAD_CHARS.sub(lambda m: f"\\u{ord(m.group()):04x}", doc.id)}
    fields = [("document id", doc.id)] + [(f"label of the span at {s.start}-{s.end}", s.label) for s in doc.spans or ()]
    for name, value in fields:
        bad = _BAD_CHARS.search(value)
        if bad:
            char = bad.group()
            reporter.report("E115", f"the {name} holds {'NUL' if char == chr(0) else 'a lone surrogate'} "
                            f"U+{ord(char):04X} at character {bad.start()}", **where)
            return None
    found = list(_BAD_CHARS.finditer(doc.text))
    if not found:
        return doc
    first = found[0]
    reporter.report("W112", f"the text holds {len(found)} NUL or lone-surrogate character(s), the first U+"
                    f"{ord(first.group()):04X} at character {first.start()}; replaced by U+FFFD",
                    start=first.start(), **where)
    return doc.evolve(text=_BAD_CHARS.sub("\ufffd", doc.text))


def write_corpus(corpus: Corpus, path: str | Path, format: str, **options: Any) -> list[Problem]:
    """Write ``corpus`` to ``path`` in ``format``; return what the format could not hold (``W107``...).

    Writers of formats that cannot hold everything (flat CoNLL, PubTator) return the
    spans they changed or dropped as problems; callers must show them.
    """
    problems = format_module(format).write(corpus, Path(path), **options)
    return list(problems or [])


__all__ = ["FORMATS", "detect_format", "format_module", "read_corpus", "write_corpus"]
