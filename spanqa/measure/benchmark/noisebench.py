"""NoiseBench (Merdjanovska et al., EMNLP 2024): seven label sets of one CoNLL-03 train subset, with real text.

NoiseBench ships annotation-only files: every token is masked as ``[TOK]``, one
``[TOK]\\tTAG`` line per token (IOB2), a blank line between sentence blocks.  Its
``index.txt`` gives, per block, ``docstart`` (a ``-DOCSTART-`` block) or the index of
the sentence in **CleanCoNLL's train file**, counted like NoiseBench's ``read_conll``:
every non-empty block between blank lines, ``-DOCSTART-`` blocks included, in file order.

CleanCoNLL's train tokens are rebuilt here as the token column (first column) of the
original CoNLL-03 ``train.txt`` with CleanCoNLL's ``train_tokens.patch`` applied - a
``diff`` normal-format patch over those lines, one line per line of ``train.txt``
(tokens, blank lines and ``-DOCSTART-`` lines alike).  Every removed line of the patch is
verified, and every NoiseBench block must have exactly as many tokens as its CleanCoNLL
sentence (NoiseBench's own generator asserts the same); both raise ``ValueError``.

Documents are built exactly as :mod:`spanqa.corpus.formats.conll` builds them in ``docstart``
mode: a ``docstart`` block starts a new document and contributes no text (it is kept as
the document's ``-DOCSTART-`` marker in ``meta["conll"]``); the tokens of a sentence are
joined by one space, sentences by ``"\\n"``; ``Document.tokens`` / ``Document.sentences``
are half-open character ranges and spans come from :func:`spanqa.corpus.bio.tags_to_spans`.
Document ids are ``noisebench-{i}`` (0-based) for every label set, so the seven corpora
have identical ids and texts and :func:`spanqa.compare.comparison.compare_corpora` pairs them by id.

Invalid IOB2 sequences (an ``I-`` that cannot continue the previous tag) are repaired as
the CoNLL reader repairs them (the ``I-`` starts a new entity); each repair is a ``W104``
problem in ``Corpus.problems`` and their number is ``Corpus.meta["W104"]``.

Data location: ``<corpora>/noisebench`` and ``<corpora>/conll2003``, where ``<corpora>``
is ``$SPANQA_CORPORA`` when that variable is set (read at import time), else
``shared/corpora`` next to the repository.  The data is third-party (NoiseBench: MIT;
CoNLL-03 text: Reuters, research use only) and is never copied into the repository.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any, Sequence

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Problem, Reporter
from spanqa.core.span import Span
from spanqa.corpus.bio import tags_to_spans, validate_tag

Range = tuple[int, int]

#: environment variable naming the folder that holds ``noisebench/`` and ``conll2003/``
ENV_VAR = "SPANQA_CORPORA"


def corpora_root() -> Path:
    """``$SPANQA_CORPORA`` when set (and not empty), else ``<repo>/../shared/corpora``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[4] / "shared" / "corpora"


#: the NoiseBench folder (holds ``annotations/``)
DEFAULT_ROOT: Path = corpora_root() / "noisebench"
#: the CoNLL-03 folder (holds ``original/`` and ``cleanconll/``)
DEFAULT_CONLL: Path = corpora_root() / "conll2003"

#: the seven label sets, in NoiseBench's table order ("clean" = CleanCoNLL, the ground truth)
LABEL_SETS: tuple[str, ...] = ("clean", "expert", "crowd", "crowdbest", "distant", "weak", "llm")
#: label set -> file name under ``annotations/``
LABEL_FILES: dict[str, str] = {name: ("clean.traindev" if name == "clean" else f"noise_{name}.traindev")
                               for name in LABEL_SETS}

DOCSTART = "-DOCSTART-"
MASK = "[TOK]"
_COMMAND = re.compile(r"^(\d+)(?:,(\d+))?([acd])(\d+)(?:,(\d+))?$")


# --------------------------------------------------------------------------- normal-format diffs
def _range(a: str, b: str | None) -> tuple[int, int]:
    """``"5"`` -> ``(5, 5)``, ``"5","7"`` -> ``(5, 7)`` (1-based, inclusive)."""
    lo = int(a)
    return lo, int(b) if b is not None else lo


def _payload(line: str, marker: str) -> str | None:
    """The text after ``"< "`` / ``"> "`` (``"<"`` alone = an empty line), else ``None``."""
    if line == marker:
        return ""
    if line.startswith(marker + " "):
        return line[2:]
    return None


def apply_normal_patch(lines: list[str], patch: str) -> list[str]:
    """Apply a ``diff`` normal-format patch (``NaM``, ``NcM``, ``NdM``, ranges ``N,M``) to ``lines``.

    ``lines`` are the old file's lines without line ends.  Every ``<`` line must equal the
    line it removes, the numbers of ``<`` / ``>`` lines must match the command's ranges and
    the commands must come in file order; otherwise ``ValueError`` names the patch line.
    ``\\ No newline at end of file`` lines are ignored.  ``lines`` is not changed.

    >>> apply_normal_patch(["a", "b", "c"], "0a1\\n> z\\n2c3,4\\n< b\\n---\\n> B\\n> b2\\n3d4\\n< c\\n")
    ['z', 'a', 'B', 'b2']
    """
    out: list[str] = []
    pos = 0  # old lines consumed (0-based index of the next old line)
    # (1-based patch line number, text), "\\ No newline at end of file" notes left out
    numbered = [(n, line) for n, line in enumerate(patch.split("\n"), 1) if not line.startswith("\\")]
    if numbered and numbered[-1][1] == "":
        numbered.pop()
    plines = [line for _, line in numbered]
    where = [n for n, _ in numbered] + [len(patch.split("\n"))]
    i = 0
    while i < len(plines):
        cmd = plines[i]
        m = _COMMAND.match(cmd)
        if m is None:
            raise ValueError(f"patch line {where[i]}: expected a diff command (NaM, NcM or NdM), got {cmd!r}")
        old_lo, old_hi = _range(m.group(1), m.group(2))
        op = m.group(3)
        new_lo, new_hi = _range(m.group(4), m.group(5))
        if old_hi < old_lo or new_hi < new_lo:
            raise ValueError(f"patch line {where[i]}: reversed range in {cmd!r}")
        # lines of the old file the command removes (a: none, inserted after old_lo)
        first_old = old_lo + 1 if op == "a" else old_lo
        n_remove = 0 if op == "a" else old_hi - old_lo + 1
        n_add = 0 if op == "d" else new_hi - new_lo + 1
        if op == "a" and m.group(2) is not None:
            raise ValueError(f"patch line {where[i]}: an 'a' command takes one old line number, got {cmd!r}")
        if op == "d" and m.group(5) is not None:
            raise ValueError(f"patch line {where[i]}: a 'd' command takes one new line number, got {cmd!r}")
        if first_old - 1 < pos:
            raise ValueError(f"patch line {where[i]}: command {cmd!r} is not after the previous one (old line {pos})")
        if first_old - 1 + n_remove > len(lines):
            raise ValueError(f"patch line {where[i]}: command {cmd!r} reaches past the end of the "
                             f"{len(lines)}-line input")
        out.extend(lines[pos:first_old - 1])
        pos = first_old - 1
        expected_new = len(out) if op == "d" else len(out) + 1  # d: the new line before the gap
        if new_lo != expected_new:
            raise ValueError(f"patch line {where[i]}: command {cmd!r} says new line {new_lo}, "
                             f"but the patched file is at line {expected_new}")
        i += 1
        for k in range(n_remove):
            if i >= len(plines):
                raise ValueError(f"patch line {where[i]}: {cmd!r} ends after {k} of {n_remove} removed lines")
            got = _payload(plines[i], "<")
            if got is None:
                raise ValueError(f"patch line {where[i]}: expected a '<' line for {cmd!r}, got {plines[i]!r}")
            if got != lines[pos]:
                raise ValueError(f"patch line {where[i]}: removes {got!r} but old line {pos + 1} is {lines[pos]!r}")
            pos += 1
            i += 1
        if op == "c":
            if i >= len(plines) or plines[i] != "---":
                raise ValueError(f"patch line {where[i]}: expected '---' in {cmd!r}")
            i += 1
        for k in range(n_add):
            got = _payload(plines[i], ">") if i < len(plines) else None
            if got is None:
                seen = plines[i] if i < len(plines) else "end of patch"
                raise ValueError(f"patch line {where[i]}: expected '>' line {k + 1} of {n_add} for {cmd!r}, got {seen!r}")
            out.append(got)
            i += 1
    out.extend(lines[pos:])
    return out


# --------------------------------------------------------------------------- CleanCoNLL train tokens
def split_blocks(lines: Sequence[str]) -> list[list[str]]:
    """Every non-empty run of non-blank lines, in order (NoiseBench's ``read_conll`` sentence count)."""
    blocks: list[list[str]] = []
    cur: list[str] = []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return blocks


def token_column(text: str) -> list[str]:
    """The first (space- or tab-separated) column of each line; blank lines stay ``""``."""
    return [line.split()[0] if line.strip() else "" for line in text.splitlines()]


@functools.lru_cache(maxsize=4)
def _train_blocks(conll_root: Path) -> tuple[tuple[str, ...], ...]:
    original = (conll_root / "original" / "train.txt").read_text(encoding="utf-8")
    patch = (conll_root / "cleanconll" / "source" / "train_tokens.patch").read_text(encoding="utf-8")
    lines = apply_normal_patch(token_column(original), patch)
    return tuple(tuple(b) for b in split_blocks(lines))


def cleanconll_train_blocks(conll_root: Path = DEFAULT_CONLL) -> list[list[str]]:
    """CleanCoNLL's train sentences as token lists, ``-DOCSTART-`` blocks included, in file order.

    ``conll_root`` holds ``original/train.txt`` and ``cleanconll/source/train_tokens.patch``.
    Cached per folder; the returned lists are fresh copies.
    """
    return [list(b) for b in _train_blocks(Path(conll_root).resolve())]


# --------------------------------------------------------------------------- NoiseBench files
def label_file(label_set: str, root: Path = DEFAULT_ROOT) -> Path:
    """The annotation file of a label set (one of :data:`LABEL_SETS`)."""
    if label_set not in LABEL_FILES:
        raise ValueError(f"unknown NoiseBench label set {label_set!r}; use one of {', '.join(LABEL_SETS)}")
    return Path(root) / "annotations" / LABEL_FILES[label_set]


def read_index(path: Path) -> list[int | None]:
    """``index.txt``: per block, ``None`` for ``docstart`` or the CleanCoNLL train sentence index."""
    lines = path.read_text(encoding="utf-8").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    out: list[int | None] = []
    for n, line in enumerate(lines, 1):
        value = line.strip()
        if value == "docstart":
            out.append(None)
        elif value.isdigit():
            out.append(int(value))
        else:
            raise ValueError(f"{path}:{n}: expected 'docstart' or a sentence index, got {line!r}")
    return out


def read_tag_blocks(path: Path) -> list[list[tuple[str, int]]]:
    """The blocks of a NoiseBench file as ``(tag, line number)`` lists; the token must be ``[TOK]``."""
    blocks: list[list[tuple[str, int]]] = []
    cur: list[tuple[str, int]] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            if cur:
                blocks.append(cur)
                cur = []
            continue
        cols = line.split("\t")
        if len(cols) != 2 or cols[0] != MASK:
            raise ValueError(f"{path}:{n}: expected '{MASK}<TAB>TAG', got {line!r}")
        if not validate_tag(cols[1], "IOB2"):
            raise ValueError(f"{path}:{n}: {cols[1]!r} is not an IOB2 tag")
        cur.append((cols[1], n))
    if cur:
        blocks.append(cur)
    return blocks


# --------------------------------------------------------------------------- documents
def _sentences(blocks: list[list[tuple[str, int]]], index: list[int | None],
               train: Sequence[Sequence[str]], path: Path) -> list[list[tuple[int, list[tuple[str, str, int]]]]]:
    """Group the blocks into documents: per document, ``(sentence index, [(token, tag, line)])`` per sentence.

    A document opens at each ``docstart`` block (and before the first block when that is
    not one); the ``docstart`` block itself must be a single ``O`` token.
    """
    if len(blocks) != len(index):
        raise ValueError(f"{path}: {len(blocks)} blocks but index.txt has {len(index)} entries")
    docs: list[list[tuple[int, list[tuple[str, str, int]]]]] = []
    for k, (block, idx) in enumerate(zip(blocks, index)):
        if idx is None:
            if len(block) != 1 or block[0][0] != "O":
                raise ValueError(f"{path}:{block[0][1]}: a docstart block must be one 'O' token, "
                                 f"got {len(block)} token(s)")
            docs.append([])
            continue
        if idx >= len(train):
            raise ValueError(f"{path}:{block[0][1]}: sentence index {idx} past the end of CleanCoNLL train "
                             f"({len(train)} blocks)")
        tokens = train[idx]
        if len(tokens) != len(block):
            raise ValueError(f"{path}:{block[0][1]}: block {k} has {len(block)} tokens but CleanCoNLL train "
                             f"sentence {idx} has {len(tokens)}")
        if tokens[0] == DOCSTART:
            raise ValueError(f"{path}:{block[0][1]}: block {k} points at a -DOCSTART- block of CleanCoNLL train")
        if not docs:
            docs.append([])
        docs[-1].append((idx, [(tok, tag, line) for tok, (tag, line) in zip(tokens, block)]))
    return docs


def _document(doc_id: str, sentences: list[tuple[int, list[tuple[str, str, int]]]], *, path: Path,
              line: int, reporter: Reporter) -> Document:
    """One document, built as :func:`spanqa.corpus.formats.conll._build` builds it (docstart mode)."""
    parts: list[str] = []
    tokens: list[Range] = []
    ranges: list[Range] = []
    spans: list[Span] = []
    pos = 0
    for k, (_, sent) in enumerate(sentences):
        if k:
            parts.append("\n")
            pos += 1
        start = pos
        words: list[Range] = []
        for j, (tok, _, _) in enumerate(sent):
            if j:
                parts.append(" ")
                pos += 1
            parts.append(tok)
            words.append((pos, pos + len(tok)))
            pos += len(tok)
        ranges.append((start, pos))
        tokens.extend(words)

        def repaired(i: int, tag: str, sent: list[tuple[str, str, int]] = sent) -> None:
            reporter.report("W104", f"{tag!r} cannot continue the previous tag in IOB2; it starts a new entity",
                            path=str(path), line=sent[i][2], doc_id=doc_id, excerpt=sent[i][0])

        spans.extend(tags_to_spans(words, [tag for _, tag, _ in sent], doc_id=doc_id, scheme="IOB2",
                                   on_repair=repaired))
    meta: dict[str, Any] = {
        "conll": {"markers": ((0, DOCSTART),), "sep": "\t", "tag_column": -1},
        "noisebench": {"sentence_index": tuple(idx for idx, _ in sentences)},
    }
    return Document(id=doc_id, text="".join(parts), spans=tuple(spans), source=f"{path}:{line}",
                    tokens=tuple(tokens), sentences=tuple(ranges), meta=meta)


def read_noisebench(label_set: str, *, root: Path = DEFAULT_ROOT, conll_root: Path = DEFAULT_CONLL) -> Corpus:
    """One label set of NoiseBench as a :class:`Corpus` with the real CleanCoNLL train tokens.

    400 documents (ids ``noisebench-0`` ...), 5,885 sentences; texts and ids are the same for
    every label set.  ``Corpus.format`` is ``"conll"``, ``Corpus.source`` the label file;
    ``Corpus.problems`` holds the ``W104`` repairs and ``Corpus.meta`` the label set,
    sentence count and ``W104`` count.  Raises ``ValueError`` when the files do not line up.
    """
    path = label_file(label_set, root)
    index = read_index(Path(root) / "annotations" / "index.txt")
    blocks = read_tag_blocks(path)
    train = _train_blocks(Path(conll_root).resolve())
    grouped = _sentences(blocks, index, train, path)
    # the line each document starts at (its docstart block, or its first token)
    starts = [b[0][1] for b, idx in zip(blocks, index) if idx is None]
    if index and index[0] is not None:
        starts.insert(0, blocks[0][0][1])
    reporter = Reporter(strict=False)
    docs = [_document(f"noisebench-{i}", sents, path=path, line=line, reporter=reporter)
            for i, (sents, line) in enumerate(zip(grouped, starts))]
    problems: tuple[Problem, ...] = tuple(reporter.problems)
    meta = {"label_set": label_set, "documents": len(docs), "sentences": sum(len(s) for s in grouped),
            "W104": sum(p.code == "W104" for p in problems)}
    return Corpus.from_docs(docs, format="conll", source=str(path), problems=problems, meta=meta)


__all__ = ["DEFAULT_CONLL", "DEFAULT_ROOT", "DOCSTART", "ENV_VAR", "LABEL_FILES", "LABEL_SETS", "MASK",
           "apply_normal_patch", "cleanconll_train_blocks", "corpora_root", "label_file", "read_index",
           "read_noisebench", "read_tag_blocks", "split_blocks", "token_column"]
