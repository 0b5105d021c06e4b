"""brat standoff: a folder of ``X.txt`` (the text) + ``X.ann`` (the annotations) pairs.

Shape of a text-bound (``T``) line, tab-separated::

    T3<TAB>Drug 12 24;30 35<TAB>aspirin 81mg

Offsets are half-open character offsets into the ``.txt`` file decoded as
UTF-8 *without* newline translation (``"\\r\\n"`` is two characters).  A
discontinuous span lists its fragments separated by ``;`` and records their
texts joined by one space, in the order the fragments are listed.

Reading (``read``):

- ``path`` is a folder (searched recursively; a document's id is the path of its
  files relative to the folder, without suffix, with ``/`` separators) or one
  ``.ann``/``.txt`` file (id = the file stem).
- ``T`` lines become :class:`~spanqa.core.span.Span` (``id="T3"``, fragments sorted,
  ``start``/``end`` = hull).  Offsets are checked with
  :func:`spanqa.corpus.validate.check_span` and the recorded text against the document
  text (``E202``).  A recorded text whose line breaks were replaced by spaces is
  accepted, because that is how :func:`write` stores a span that crosses a line.
- Every other line (``#`` notes, ``R``, ``E``, ``A``/``M``, ``N``, ``*`` and unknown
  kinds, the last also reported ``W101``) is kept verbatim, in file order, in
  ``Document.meta["brat_other_lines"]``; ``AnnotatorNotes`` on a ``T`` id are also
  exposed as ``span.meta["note"]`` (several notes joined by ``"\\n"``).  As in
  brat, the text field may go on after the span text with a tail that starts
  with whitespace; the tail is kept in ``span.meta["brat_tail"]`` and written back.
- ``.ann`` without ``.txt`` -> ``E106``; ``.txt`` without ``.ann`` -> ``W103`` and
  ``spans=None``; an empty ``.ann`` -> ``spans=()``; nothing to read -> ``E104``.

brat's own counting.  brat's server reads ``.txt`` files with universal newlines
(a CRLF counts as *one* character, nlplab/brat#853) and with the plain ``utf8``
codec (a BOM counts as character 0).  Files annotated in the brat UI therefore
only match the text one way.  With ``newlines="auto"`` / ``bom="auto"`` the reader
tries the exact counting first and brat's counting second, and keeps the one
under which the spans match the text (fewest mismatches; ties go to exact).
Offsets are converted to exact offsets; ``Document.meta["brat_newlines"] =
"universal"`` (reported ``W106``) and ``meta["brat_bom"] = "counted"`` record it so
that :func:`write` writes the file back the same way.  A removed BOM is always
reported ``W102`` and recorded as ``meta["brat_bom"]`` (``"skipped"`` or ``"counted"``).

Why one module of ~480 lines: one format, read (fragments, offsets against the text, coded errors) and written.

>>> import tempfile, pathlib
>>> from spanqa.core.errors import Reporter
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "n1.txt").write_text("Pt on aspirin 81mg.")
>>> _ = (d / "n1.ann").write_text("T1\\tDrug 6 13\\taspirin\\nR1\\tHas Arg1:T1 Arg2:T1\\n")
>>> doc = read(d, reporter=Reporter()).documents[0]
>>> doc.spans[0].key, doc.spans[0].id, doc.meta["brat_other_lines"]
((6, 13, 'Drug'), 'T1', ('R1\\tHas Arg1:T1 Arg2:T1',))
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any, Literal, Sequence

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter, fail
from spanqa.core.output import write_text
from spanqa.core.span import Span
from spanqa.corpus.formats._text import BOM, one_line, read_utf8
from spanqa.corpus.formats._walk import corpus_files
from spanqa.corpus.validate import check_span

NAME = "brat"

NewlinePolicy = Literal["auto", "exact", "universal"]
BomPolicy = Literal["auto", "skip", "count"]

#: ``LABEL START END[;START END]...`` - the middle field of a T line (trailing blanks allowed, as brat does)
_T_DATA = re.compile(r"(\S+) (-?\d+ -?\d+(?:;-?\d+ -?\d+)*)[ ]*", re.ASCII)  # 0-9 only: not ٦ or ６
_T_ID = re.compile(r"T\d+\S*", re.ASCII)
_T_NUM = re.compile(r"T(\d+)", re.ASCII)
#: first characters of the non-T line kinds brat defines
_KNOWN_KINDS = frozenset("#RAEMN*")

Piece = tuple[int, int]


@dataclass(frozen=True)
class _TLine:
    line: int
    id: str
    label: str
    pieces: tuple[Piece, ...]  # in file order, file coordinates
    recorded: str | None


@dataclass(frozen=True)
class _Counting:
    """How a ``.ann`` counts characters: whether the BOM is character 0, whether CRLF is one character."""

    bom_counted: bool = False
    universal: bool = False


# --------------------------------------------------------------------------- reading


def sniff(path: Path) -> bool:
    """True for a ``.ann`` file (or a folder holding one at its top level)."""
    path = Path(path)
    if path.is_dir():
        return any(p.suffix.lower() == ".ann" for p in path.iterdir())
    return path.suffix.lower() == ".ann"


def read(path: Path, *, reporter: Reporter, newlines: NewlinePolicy = "auto",
         bom: BomPolicy = "auto") -> Corpus:
    """Read a brat folder or one ``.ann``/``.txt`` file into a :class:`Corpus`.

    ``newlines``: ``"exact"`` = offsets count ``"\\r\\n"`` as two characters,
    ``"universal"`` = as one (brat's server), ``"auto"`` = whichever the spans match.
    ``bom``: ``"skip"`` = offsets start after a BOM, ``"count"`` = the BOM is
    character 0 (brat's server), ``"auto"`` = whichever the spans match.
    """
    if newlines not in ("auto", "exact", "universal") or bom not in ("auto", "skip", "count"):
        raise fail("E402", f"newlines={newlines!r}, bom={bom!r}: use newlines=auto|exact|universal, bom=auto|skip|count")
    path = Path(path)
    pairs = _pairs(path, reporter)
    if not pairs:
        raise fail("E104", f"no .ann or .txt files under {path}", path=str(path))
    docs = []
    for doc_id, (txt, ann) in sorted(pairs.items()):
        doc = _read_document(doc_id, txt, ann, reporter, newlines=newlines, bom=bom)
        if doc is not None:
            docs.append(doc)
    return Corpus(documents=tuple(docs), format=NAME, source=str(path))


def _pairs(path: Path, reporter: Reporter) -> dict[str, tuple[Path | None, Path | None]]:
    """doc id -> (txt path or None, ann path or None); suffixes in any case (``.TXT``/``.ANN``)."""
    if path.is_dir():
        found: dict[str, list[Path | None]] = {}
        for file in corpus_files(path, reporter, suffixes=(".txt", ".ann")):
            doc_id = file.relative_to(path).with_suffix("").as_posix()
            slot = found.setdefault(doc_id, [None, None])
            i = 0 if file.suffix.lower() == ".txt" else 1
            seen = slot[i]
            if seen is not None:
                reporter.report("E107", f"{seen.name} and {file.name} give the same document id {doc_id!r}; "
                                f"{file.name} is not read", path=str(file), doc_id=doc_id)
                continue
            slot[i] = file
        return {k: (v[0], v[1]) for k, v in found.items()}
    if path.suffix.lower() not in (".txt", ".ann"):
        raise fail("E102", f"brat reads a folder or a .ann/.txt file, not {path.name}", path=str(path))
    upper = path.suffix.isupper()
    txt, ann = (path.with_suffix(".TXT"), path.with_suffix(".ANN")) if upper else \
        (path.with_suffix(".txt"), path.with_suffix(".ann"))
    return {path.stem: (txt if txt.is_file() else None, ann if ann.is_file() else None)}


def _read_document(doc_id: str, txt: Path | None, ann: Path | None, reporter: Reporter, *,
                   newlines: NewlinePolicy, bom: BomPolicy) -> Document | None:
    if txt is None:
        assert ann is not None
        reporter.report("E106", f"{ann.name} has no {ann.with_suffix('.txt').name} beside it",
                        path=str(ann), doc_id=doc_id)
        return None
    decoded = read_utf8(txt, reporter)
    if decoded is None:
        return None
    text, had_bom = decoded
    meta: dict = {}
    if ann is None:
        if had_bom:
            meta["brat_bom"] = "skipped"
            reporter.report("W102", "BOM removed; no .ann to count offsets against", path=str(txt), doc_id=doc_id)
        reporter.report("W103", f"no {txt.with_suffix('.ann').name}; the document is not annotated",
                        path=str(txt), doc_id=doc_id)
        return Document(doc_id, text, None, source=str(txt), meta=meta)
    decoded_ann = read_utf8(ann, reporter)
    if decoded_ann is None:
        return None
    ann_text, ann_bom = decoded_ann
    if ann_bom:
        reporter.report("W102", "BOM removed from the annotation file", path=str(ann), doc_id=doc_id)
    t_lines, other_lines, notes = _parse_ann(ann_text, reporter, path=str(ann), doc_id=doc_id)

    counting = _choose_counting(text, had_bom, t_lines, newlines=newlines, bom=bom)
    if had_bom:
        meta["brat_bom"] = "counted" if counting.bom_counted else "skipped"
        reporter.report("W102", "BOM removed; offsets count it as character 0 (brat's own reading) and were shifted"
                        if counting.bom_counted else "BOM removed; offsets are counted after it",
                        path=str(txt), doc_id=doc_id)
    if counting.universal:
        meta["brat_newlines"] = "universal"
        reporter.report("W106", "offsets match the text only when CRLF counts as one character; converted",
                        path=str(ann), doc_id=doc_id)
    if other_lines:
        meta["brat_other_lines"] = tuple(other_lines)

    view = _view(text, counting)
    to_exact = _ToExact(text, counting)
    spans = []
    for t in t_lines:
        span = _make_span(t, doc_id, text, view, to_exact, notes, reporter, path=str(ann))
        if span is not None:
            spans.append(span)
    return Document(doc_id, text, tuple(spans), source=str(txt), meta=meta)


def _parse_ann(ann_text: str, reporter: Reporter, *, path: str, doc_id: str
               ) -> tuple[list[_TLine], list[str], dict[str, list[str]]]:
    """Split a ``.ann`` into T lines, other lines (verbatim) and AnnotatorNotes by target id.

    Lines are split on ``"\\n"`` only (a trailing ``"\\r"`` is dropped), so a
    U+2028 or form feed inside a recorded text does not break a line.  Blank lines are skipped.
    """
    t_lines: list[_TLine] = []
    other: list[str] = []
    notes: dict[str, list[str]] = {}
    seen_ids: dict[str, int] = {}
    for number, line in enumerate(ann_text.split("\n"), start=1):
        if line.endswith("\r"):
            line = line[:-1]
        if not line.strip():
            continue
        fields = line.split("\t", 2)
        first = fields[0]
        if first.startswith("T"):
            t = _parse_t_line(fields, number, reporter, path=path, doc_id=doc_id, line_text=line)
            if t is None:
                continue
            if t.id in seen_ids:
                reporter.report("E105", f"duplicate id {t.id} (first on line {seen_ids[t.id]}); ids must be unique",
                                path=path, line=number, doc_id=doc_id, excerpt=line)
                continue
            seen_ids[t.id] = number
            t_lines.append(t)
            continue
        other.append(line)
        if first[:1] not in _KNOWN_KINDS or len(fields) < 2:
            reporter.report("W101", f"line kind {first[:1]!r} is not one brat defines (T # R E A M N *)"
                            if len(fields) >= 2 else "line has no tab-separated fields",
                            path=path, line=number, doc_id=doc_id, excerpt=line)
        elif first.startswith("#") and len(fields) == 3:
            kind, _, target = fields[1].partition(" ")
            if kind == "AnnotatorNotes" and target.strip():
                notes.setdefault(target.strip(), []).append(fields[2])
    return t_lines, other, notes


def _parse_t_line(fields: list[str], number: int, reporter: Reporter, *, path: str, doc_id: str,
                  line_text: str) -> _TLine | None:
    match = _T_DATA.fullmatch(fields[1]) if len(fields) >= 2 else None
    if match is None or not _T_ID.fullmatch(fields[0]):
        hint = ""
        if len(fields) >= 2 and re.fullmatch(r"\S+( \S+)+ -?\d+ -?\d+(;.*)?", fields[1], re.ASCII):
            hint = " (the label seems to contain a space; brat labels cannot)"
        reporter.report("E105", "expected 'T<n><TAB>LABEL START END[;START END...]<TAB>TEXT'" + hint,
                        path=path, line=number, doc_id=doc_id, excerpt=line_text)
        return None
    label, offsets = match.groups()
    pieces = tuple(tuple(int(x) for x in frag.split(" ")) for frag in offsets.split(";"))
    return _TLine(number, fields[0], label, pieces, fields[2] if len(fields) == 3 else None)  # type: ignore[arg-type]


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _view(text: str, counting: _Counting) -> str:
    """The text as the ``.ann`` offsets see it under ``counting``."""
    view = _normalise_newlines(text) if counting.universal else text
    return BOM + view if counting.bom_counted else view


def _ref_text(view: str, pieces: Sequence[Piece]) -> str | None:
    """Fragments' text joined by one space (file order), or None when a piece is out of range."""
    if any(not 0 <= a <= b <= len(view) for a, b in pieces):
        return None
    return " ".join(view[a:b] for a, b in pieces)


def _tail(recorded: str | None, ref: str | None) -> str | None:
    """What follows the span text in the text field, or None when the recorded text does not match.

    As in brat, the field holds the span text (or its one-line form) followed by
    an optional tail that starts with whitespace (PHEE has a trailing tab).
    """
    if ref is None:
        return None
    if recorded is None:
        return ""
    head, tail = recorded[:len(ref)], recorded[len(ref):]
    if head not in (ref, one_line(ref)) or (tail and not tail[0].isspace()):
        return None
    return tail


def _matches(recorded: str | None, ref: str | None) -> bool:
    return _tail(recorded, ref) is not None


def _choose_counting(text: str, had_bom: bool, t_lines: Sequence[_TLine], *,
                     newlines: NewlinePolicy, bom: BomPolicy) -> _Counting:
    """The counting under which the fewest T lines mismatch the text (exact counting wins ties)."""
    has_cr = "\r" in text
    uni = {"auto": [False, True] if has_cr else [False], "exact": [False], "universal": [True]}[newlines]
    cnt = {"auto": [False, True] if had_bom else [False], "skip": [False], "count": [True] if had_bom else [False]}[bom]
    candidates = [_Counting(b, u) for b, u in product(cnt, uni)]
    if len(candidates) == 1:
        return candidates[0]
    best, best_bad = candidates[0], None
    for counting in candidates:
        view = _view(text, counting)
        bad = sum(not _matches(t.recorded, _ref_text(view, t.pieces)) for t in t_lines)
        if best_bad is None or bad < best_bad:
            best, best_bad = counting, bad
        if bad == 0:
            break
    return best


class _ToExact:
    """Maps offsets of the ``.ann`` (under a counting) to exact offsets into the text, and back."""

    def __init__(self, text: str, counting: _Counting) -> None:
        self.counting = counting
        # positions of the "\r" of every CRLF: each removes one character in the universal view
        self.cr = list(_find_all(text, "\r\n")) if counting.universal else []

    def to_exact(self, x: int) -> int:
        if self.counting.bom_counted:
            x -= 1
        if self.cr and x > 0:
            # smallest exact position p with p - (#CRs before p that were dropped) == x
            lo, hi = x, x + len(self.cr)
            while lo < hi:
                mid = (lo + hi) // 2
                if mid - bisect.bisect_left(self.cr, mid) < x:
                    lo = mid + 1
                else:
                    hi = mid
            x = lo
        return x

    def from_exact(self, p: int) -> int | None:
        """The ``.ann`` offset of exact position ``p``; None when ``p`` falls inside a CRLF."""
        if self.cr:
            k = bisect.bisect_left(self.cr, p)
            if k > 0 and self.cr[k - 1] == p - 1:
                return None
            p -= k
        return p + 1 if self.counting.bom_counted else p


def _find_all(text: str, needle: str):
    i = text.find(needle)
    while i != -1:
        yield i
        i = text.find(needle, i + len(needle))


def _make_span(t: _TLine, doc_id: str, text: str, view: str, to_exact: _ToExact,
               notes: dict[str, list[str]], reporter: Reporter, *, path: str) -> Span | None:
    where: dict[str, Any] = {"path": path, "line": t.line}
    ordered = sorted(t.pieces)
    for (a, b), (c, d) in zip(ordered, ordered[1:]):
        if c < b and a < b and c < d:
            reporter.report("E105", f"fragments [{a}, {b}) and [{c}, {d}) overlap; brat fragments must be disjoint",
                            doc_id=doc_id, start=a, end=d, **where)
            return None
    exact = tuple((to_exact.to_exact(a), to_exact.to_exact(b)) for a, b in ordered)
    meta: dict = {}
    span = Span(doc_id, exact[0][0], exact[-1][1], t.label, fragments=exact if len(exact) > 1 else None,
                id=t.id, meta=meta)
    if not check_span(span, text, reporter, **where):
        return None
    ref = _ref_text(view, t.pieces)
    tail = _tail(t.recorded, ref)
    if tail is None:
        reporter.report("E202", f"recorded {t.recorded!r} but the text at {_fmt(t.pieces)} is {ref!r}",
                        doc_id=doc_id, start=span.start, end=span.end, excerpt=ref, **where)
        return None
    if tail:
        meta["brat_tail"] = tail
    if t.id in notes:
        meta["note"] = "\n".join(notes[t.id])
    return span.evolve(meta=meta) if meta else span


def _fmt(pieces: Sequence[Piece]) -> str:
    return ";".join(f"{a} {b}" for a, b in pieces)


# --------------------------------------------------------------------------- writing


def write(corpus: Corpus, path: Path) -> None:
    """Write ``corpus`` as a brat folder at ``path``: ``<id>.txt`` (exact text) + ``<id>.ann``.

    Span ids are kept when they are brat ``T`` ids; other spans get fresh ids that
    collide with no id in the document.  ``meta["brat_other_lines"]`` is written
    back verbatim after the ``T`` lines; a ``span.meta["note"]`` with no
    ``AnnotatorNotes`` line yet gets one.  A recorded text that crosses a line
    break is written with each line-break character replaced by a space (brat
    cannot hold a newline inside a line); the reader accepts exactly that.
    Unannotated documents (``spans is None``) get no ``.ann``.  Discontinuous
    fragments are written in sorted order.

    Raises ``E112`` for what brat cannot hold: a label that is empty or holds
    whitespace, a document id that is not a safe relative path, an offset inside
    a CRLF of a document whose offsets count CRLF as one character.
    """
    root = Path(path)
    files: list[tuple[Path, str]] = []  # every file is built (and E112 raised) before the first is written
    for doc in corpus.documents:
        stem = _safe_stem(doc.id)
        counting = _Counting(bom_counted=doc.meta.get("brat_bom") == "counted",
                             universal=doc.meta.get("brat_newlines") == "universal")
        ann_lines = _ann_lines(doc, counting) if doc.spans is not None else None
        files.append((root / f"{stem}.txt", (BOM if "brat_bom" in doc.meta else "") + doc.text))
        if ann_lines is not None:
            files.append((root / f"{stem}.ann", "".join(line + "\n" for line in ann_lines)))
    root.mkdir(parents=True, exist_ok=True)
    for file, content in files:
        write_text(file, content, root=root)


def _safe_stem(doc_id: str) -> str:
    parts = doc_id.split("/")
    if (not doc_id or doc_id.startswith("/") or "\\" in doc_id or "\0" in doc_id
            or any(p in ("", ".", "..") or p.startswith(".") for p in parts)):
        raise fail("E112", f"document id {doc_id!r} cannot be a brat file name (need a relative path "
                   "without empty, '.', '..' or hidden parts)", doc_id=doc_id)
    return doc_id


def _ann_lines(doc: Document, counting: _Counting) -> list[str]:
    other = list(doc.meta.get("brat_other_lines", ()))
    used = {line.split("\t", 1)[0] for line in other}
    spans = doc.spans or ()
    taken = {s.id for s in spans if s.id and _T_ID.fullmatch(s.id)} | used
    next_num = 1 + max((int(m.group(1)) for i in taken if (m := _T_NUM.match(i))), default=0)
    to_exact = _ToExact(doc.text, counting)
    lines: list[str] = []
    written: set[str] = set()
    noted = {fields[1].partition(" ")[2].strip() for line in other
             if line.startswith("#") and len(fields := line.split("\t")) >= 2
             and fields[1].startswith("AnnotatorNotes ")}
    new_notes: list[tuple[str, str]] = []
    for span in spans:
        if not span.label or any(c.isspace() for c in span.label):
            raise fail("E112", f"label {span.label!r} is empty or holds whitespace, which brat cannot hold",
                       doc_id=doc.id, start=span.start, end=span.end)
        sid = span.id if span.id and _T_ID.fullmatch(span.id) and span.id not in written else None
        if sid is None or (sid in used):
            sid = f"T{next_num}"
            next_num += 1
        written.add(sid)
        pieces = []
        for a, b in span.pieces:
            fa, fb = to_exact.from_exact(a), to_exact.from_exact(b)
            if fa is None or fb is None:
                raise fail("E112", "an offset falls between the CR and LF of a CRLF, which this document's "
                           "brat counting (CRLF = one character) cannot express", doc_id=doc.id, start=a, end=b)
            pieces.append((fa, fb))
        view_text = " ".join(doc.text[a:b] for a, b in span.pieces)
        if counting.universal:
            view_text = _normalise_newlines(view_text)
        tail = span.meta.get("brat_tail", "") if span.meta else ""
        lines.append(f"{sid}\t{span.label} {_fmt(pieces)}\t{one_line(view_text)}{tail}")
        note = span.meta.get("note") if span.meta else None
        if note is not None and sid not in noted:
            new_notes.append((sid, str(note)))
    lines.extend(other)
    hash_ids = {line.split("\t", 1)[0] for line in other if line.startswith("#")}
    n = 1
    for sid, note in new_notes:
        while f"#{n}" in hash_ids:
            n += 1
        hash_ids.add(f"#{n}")
        lines.append(f"#{n}\tAnnotatorNotes {sid}\t{one_line(note)}")
    return lines


__all__ = ["BomPolicy", "NAME", "NewlinePolicy", "Piece", "read", "sniff", "write"]
