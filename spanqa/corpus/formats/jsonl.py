"""JSON lines in the spaCy / Prodigy shape: one document per line.

Record shape::

    {"id": "n1", "text": "Pt on aspirin 81mg.", "spans": [{"start": 6, "end": 13, "label": "Drug"}], ...}

- ``"spans"`` absent -> not annotated (``spans=None``); ``"spans": []`` -> annotated, no entities.
- Document id: ``"id"``, else ``"doc_id"``, else ``meta.id``, else ``"<file stem>-<line number>"``
  (an integer id becomes its decimal string).  Group: ``"group"``, else
  ``"patient_id"``, else ``meta.group`` / ``meta.patient_id``.
- A span needs integer ``start``/``end`` (half-open character offsets into
  ``text``) and a string ``label``.  ``"fragments": [[a, b], ...]`` marks a
  discontinuous span (spanqa's own extension, as in :meth:`Span.to_dict`;
  ``start``/``end`` must then be the hull).  A string ``id``/``annotator`` and a
  numeric ``score`` fill the :class:`Span` fields; every other key (``text``,
  ``token_start``, ``token_end``, a non-numeric ``score``, ...) goes to
  ``Span.meta``.  A recorded ``"text"`` must equal the text at the offsets
  (fragments joined by one space), else ``E202``.
- Every other record key (Prodigy's ``_input_hash``, ``meta``, ``tokens``, ...) is
  kept in ``Document.meta`` and written back.  A Prodigy ``"tokens"`` list with
  integer ``start``/``end`` also fills ``Document.tokens``.  Which key held the id or
  group, when not ``"id"``/``"group"``, is kept as ``meta["jsonl_id_key"]`` /
  ``meta["jsonl_group_key"]``.
- A label holding whitespace is read as it is and reported ``W209``: JSON can
  hold it, but brat and BIO formats cannot.
- Errors: bad JSON or a line that is not an object -> ``E108`` (file:line);
  missing or mistyped ``text``, ``spans``, ``start``/``end``/``label`` -> ``E109``;
  duplicate document id -> ``E107``; nothing to read -> ``E104``.  Blank lines are skipped.

>>> import tempfile, pathlib
>>> from spanqa.core.errors import Reporter
>>> p = pathlib.Path(tempfile.mkdtemp()) / "notes.jsonl"
>>> _ = p.write_text('{"text": "Pt on aspirin.", "spans": [{"start": 6, "end": 13, "label": "Drug", "token_start": 2}]}\\n')
>>> doc = read(p, reporter=Reporter()).documents[0]
>>> doc.id, doc.spans[0].key, dict(doc.spans[0].meta)
('notes-1', (6, 13, 'Drug'), {'token_start': 2})
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter, SpanqaError, fail
from spanqa.core.output import atomic_open
from spanqa.core.span import Span
from spanqa.corpus.formats._text import is_int, loads_json, read_utf8
from spanqa.corpus.formats._walk import corpus_files
from spanqa.corpus.validate import check_span

NAME = "jsonl"

#: span keys that fill Span fields rather than Span.meta
_SPAN_CORE = ("start", "end", "label", "fragments")
#: Document.meta keys that are bookkeeping of this module, never written as record keys
_BOOKKEEPING = ("jsonl_id_key", "jsonl_group_key")


def sniff(path: Path) -> bool:
    """True when the first non-blank line of ``path`` is a JSON object with a ``"text"`` key."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for line in f:
                if line.strip():
                    record = loads_json(line)
                    return isinstance(record, dict) and "text" in record
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return False


def read(path: Path, *, reporter: Reporter) -> Corpus:
    """Read a ``.jsonl`` file (or every ``*.jsonl`` in a folder, sorted) into a :class:`Corpus`."""
    path = Path(path)
    files = corpus_files(path, reporter, suffixes=(".jsonl",)) if path.is_dir() else [path]
    docs: list[Document] = []
    seen: dict[str, str] = {}
    records = 0
    undecodable: list[Path] = []
    for file in files:
        decoded = read_utf8(file, reporter)
        if decoded is None:
            undecodable.append(file)
            continue
        content, had_bom = decoded
        if had_bom:
            reporter.report("W102", "BOM removed (offsets inside JSON strings are not affected)", path=str(file))
        for number, line in enumerate(content.split("\n"), start=1):
            if not line.strip():
                continue
            records += 1
            doc = _read_record(line, file, number, reporter)
            if doc is None:
                continue
            if doc.id in seen:
                reporter.report("E107", f"document id {doc.id!r} already used at {seen[doc.id]}",
                                path=str(file), line=number, doc_id=doc.id)
                continue
            seen[doc.id] = f"{file}:{number}"
            docs.append(doc)
    if records == 0 and undecodable:      # the encoding is the problem, not an empty corpus
        first = next((p for p in reporter.problems if p.code == "E103"), None)
        raise SpanqaError(first) if first is not None else fail("E103", "no file could be decoded as UTF-8",
                                                                 path=str(undecodable[0]))
    if records == 0:
        raise fail("E104", f"no JSON records in {path}", path=str(path))
    return Corpus(documents=tuple(docs), format=NAME, source=str(path))


def _read_record(line: str, file: Path, number: int, reporter: Reporter) -> Document | None:
    where = {"path": str(file), "line": number}
    try:
        record = loads_json(line)
    except ValueError as err:
        col = getattr(err, "colno", None)
        reporter.report("E108", f"{err.msg if hasattr(err, 'msg') else err}" + (f" (column {col})" if col else ""),
                        excerpt=line[:60], **where)
        return None
    if not isinstance(record, dict):
        reporter.report("E108", f"expected a JSON object, got {type(record).__name__}", excerpt=line[:60], **where)
        return None
    text = record.get("text")
    if not isinstance(text, str):
        reporter.report("E109", '"text" is missing' if text is None else f'"text" must be a string, not {type(text).__name__}',
                        excerpt=line[:60], **where)
        return None
    extras = {k: v for k, v in record.items() if k not in ("text", "spans")}
    doc_id = _take_key(extras, ("id", "doc_id"), ("id",), "jsonl_id_key", reporter, where)
    if doc_id is False:
        return None
    group = _take_key(extras, ("group", "patient_id"), ("group", "patient_id"), "jsonl_group_key", reporter, where)
    if group is False:
        return None
    if doc_id is None:
        doc_id = f"{file.stem}-{number}"
    where["doc_id"] = doc_id
    spans: tuple[Span, ...] | None = None
    if "spans" in record:
        raw = record["spans"]
        if not isinstance(raw, list):
            reporter.report("E109", f'"spans" must be a list, not {type(raw).__name__}', **where)
            return None
        spans = tuple(s for k, item in enumerate(raw) if (s := _read_span(item, k, doc_id, text, reporter, where)))
    return Document(doc_id, text, spans, group=group, source=f"{file}:{number}",
                    tokens=_tokens(extras.get("tokens"), len(text)), meta=extras)


def _take_key(extras: dict, top: tuple[str, ...], inner: tuple[str, ...], book: str,
              reporter: Reporter, where: dict) -> str | None | Literal[False]:
    """Pop the first present key of ``top`` (or read ``meta.<inner>``) as a string; False on a bad type.

    Records in ``extras[book]`` which key it was when it is not ``top[0]``.
    """
    found: tuple[str, Any] | None = None
    if top[0] in extras and extras[top[0]] is None:
        del extras[top[0]]  # "id": null is the same as no id; the writer writes the id it gets
    for key in top:
        if extras.get(key) is not None:
            found = (key, extras.pop(key))
            break
    if found is None and isinstance(extras.get("meta"), dict):
        for key in inner:
            if extras["meta"].get(key) is not None:
                found = (f"meta.{key}", extras["meta"][key])
                break
    if found is None:
        return None
    key, value = found
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        reporter.report("E109", f'"{key}" must be a string or an integer, not {type(value).__name__}', **where)
        return False
    if key != top[0]:
        extras[book] = key
    return str(value)


def _tokens(raw: Any, length: int) -> tuple[tuple[int, int], ...] | None:
    """Prodigy ``tokens`` as half-open character ranges, or None when absent or not well formed."""
    if not isinstance(raw, list) or not raw:
        return None
    out = []
    for tok in raw:
        if not isinstance(tok, dict):
            return None
        a, b = tok.get("start"), tok.get("end")
        if not (is_int(a) and is_int(b) and 0 <= a <= b <= length):
            return None
        out.append((a, b))
    return tuple(out)



def _read_span(item: Any, k: int, doc_id: str, text: str, reporter: Reporter, where: dict) -> Span | None:
    if not isinstance(item, dict):
        reporter.report("E109", f"span {k} must be an object, not {type(item).__name__}", **where)
        return None
    start, end, label = item.get("start"), item.get("end"), item.get("label")
    if not (is_int(start) and is_int(end)):
        reporter.report("E109", f'span {k} needs integer "start" and "end", got {start!r} and {end!r}', **where)
        return None
    if not isinstance(label, str):
        reporter.report("E109", f'span {k} needs a string "label", got {label!r}', start=start, end=end, **where)
        return None
    fragments = None
    if item.get("fragments") is not None:
        fragments = _fragments(item["fragments"], start, end, k, reporter, where)
        if fragments is False:
            return None
    meta = {key: v for key, v in item.items() if key not in _SPAN_CORE}
    sid = meta.pop("id") if isinstance(meta.get("id"), str) else None
    annotator = meta.pop("annotator") if isinstance(meta.get("annotator"), str) else None
    score = meta.get("score")
    if is_int(score) or isinstance(score, float):
        meta.pop("score")
        score = float(score)
    else:
        score = None
    recorded = meta.get("text") if isinstance(meta.get("text"), str) else None
    span = Span(doc_id, start, end, label, fragments=fragments, id=sid, annotator=annotator, score=score, meta=meta)
    if not check_span(span, text, reporter, recorded_text=recorded, **where):
        return None
    if any(c.isspace() for c in label):
        reporter.report("W209", f"label {label!r} holds whitespace; read as it is (brat and BIO formats "
                        "cannot hold it)", start=start, end=end, excerpt=span.text_in(text), **where)
    return span


def _fragments(raw: Any, start: int, end: int, k: int, reporter: Reporter, where: dict):
    ok = isinstance(raw, list) and raw and all(
        isinstance(f, list) and len(f) == 2 and is_int(f[0]) and is_int(f[1]) for f in raw)
    if not ok:
        reporter.report("E109", f'span {k}: "fragments" must be a non-empty list of [start, end] integer pairs',
                        start=start, end=end, **where)
        return False
    pieces = sorted((f[0], f[1]) for f in raw)
    if any(c < b for (_, b), (c, _) in zip(pieces, pieces[1:])):
        reporter.report("E105", f"span {k}: fragments {pieces} overlap", start=start, end=end, **where)
        return False
    if (pieces[0][0], pieces[-1][1]) != (start, end):
        reporter.report("E109", f"span {k}: start/end {start}-{end} must be the hull of its fragments {pieces}",
                        start=start, end=end, **where)
        return False
    return tuple(pieces) if len(pieces) > 1 else None


# --------------------------------------------------------------------------- writing


def write(corpus: Corpus, path: Path) -> None:
    """Write ``corpus`` to the file ``path``, one record per document, in the shape :func:`read` takes.

    ``Document.meta`` is written back as record keys; the id and group go under the
    key they came from.  A span's ``"text"`` (when it had one) is the current text at
    its offsets.  Unannotated documents get no ``"spans"`` key.  Raises ``E112`` when
    a meta value cannot be written as JSON.
    """
    path = Path(path)
    with atomic_open(path) as f:
        for doc in corpus.documents:
            record = _record(doc)
            try:
                line = json.dumps(record, ensure_ascii=False)
            except (TypeError, ValueError) as err:
                raise fail("E112", f"cannot write document meta as JSON: {err}", doc_id=doc.id) from err
            f.write(line + "\n")


def _record(doc: Document) -> dict[str, Any]:
    extras = {k: v for k, v in doc.meta.items() if k not in _BOOKKEEPING}
    record: dict[str, Any] = {}
    _put(record, extras, doc.meta.get("jsonl_id_key", "id"), doc.id)
    record["text"] = doc.text
    if doc.group is not None:
        _put(record, extras, doc.meta.get("jsonl_group_key", "group"), doc.group)
    for key, value in extras.items():
        record.setdefault(key, value)
    if "tokens" not in record and doc.tokens:
        record["tokens"] = [{"text": doc.text[a:b], "start": a, "end": b, "id": i} for i, (a, b) in enumerate(doc.tokens)]
    if doc.spans is not None:
        record["spans"] = [_span_dict(s, doc.text) for s in doc.spans]
    return record


def _put(record: dict, extras: dict, key: str, value: str) -> None:
    if key.startswith("meta.") and isinstance(extras.get("meta"), dict):
        inner = extras["meta"].get(key[5:])
        if inner is None or str(inner) != value:  # keep an integer id that reads back as this string
            extras["meta"] = {**extras["meta"], key[5:]: value}
    else:
        record[key.removeprefix("meta.")] = value


def _span_dict(span: Span, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"start": span.start, "end": span.end, "label": span.label}
    if span.is_discontinuous:
        out["fragments"] = [list(f) for f in span.pieces]
    for key, value in span.meta.items():
        if key not in out:
            out[key] = span.text_in(text) if key == "text" else value
    if span.id is not None:
        out["id"] = span.id
    if span.annotator is not None:
        out["annotator"] = span.annotator
    if span.score is not None:
        out["score"] = span.score
    return out


__all__ = ["NAME", "read", "sniff", "write"]
