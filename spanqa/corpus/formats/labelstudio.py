"""Label Studio JSON exports (text NER projects): a list of tasks with annotations and predictions.

A task looks like::

    {"id": 7, "data": {"text": "Pt took aspirin"},
     "annotations": [{"id": 3, "completed_by": 1, "result": [
         {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
          "value": {"start": 8, "end": 15, "text": "aspirin", "labels": ["Drug"]}}]}],
     "predictions": [{"model_version": "v1", "score": 0.9, "result": [...]}]}

Reading (options keyword-only): ``source`` = ``"annotations"`` (default) or
``"predictions"``, ``index`` = which one of them (default 0; cancelled
annotations, ``was_cancelled``, are skipped with ``W105`` and not counted),
``text_key`` = the ``data`` field holding the text (default ``"text"``).
Each ``"labels"`` result becomes one :class:`~spanqa.core.span.Span` per label,
with offsets ``[value.start, value.end)`` (Python characters; ``value.text``
must equal the text there: ``E202``, ``E201`` when out of range), the region id
in ``Span.id``, a region ``score`` in ``Span.score`` and the annotation's
``completed_by`` (a prediction's ``model_version``) in ``Span.annotator``;
``from_name``/``to_name`` other than ``label``/``text`` and any other result or
value keys go to ``Span.meta``.  A task without the selected annotation or
prediction is **not annotated** (``spans is None``); one whose selected
annotation has no ``labels`` results is annotated with no entities.

Everything else - other annotations and predictions, other ``data`` fields,
results of other types (relations, choices, ...: ``W105`` once per type) - is
kept in ``Document.meta["labelstudio"]`` (the task without its text and
without the selected ``labels`` results) and written back.  Document ids are
``str(task["id"])``, or ``f"{file_stem}-{i}"`` for a task without an id.  A
file of one JSON task per line (JSONL) is read too.

:func:`write` produces the list of tasks Label Studio imports; regions
without a recorded ``from_name``/``to_name`` use ``"label"``/``"text"``.
Documents read from Label Studio get their spans back into the annotation
or prediction they came from; other documents get a new annotation (or
prediction, ``source="predictions"``) unless not annotated.  Discontinuous
spans are written as their hull with ``W107`` (returned, and reported to
``reporter`` when given).

Known limit: Label Studio versions before the 2021 fix counted offsets in
UTF-16 code units; texts with characters outside the BMP (emoji) then give
``E202``.

>>> import json, tempfile, pathlib
>>> from spanqa.core.errors import Reporter
>>> p = pathlib.Path(tempfile.mkdtemp()) / "export.json"
>>> task = {"id": 7, "data": {"text": "Pt took aspirin"}, "annotations": [{"completed_by": 1, "result": [
...     {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
...      "value": {"start": 8, "end": 15, "text": "aspirin", "labels": ["Drug"]}}]}]}
>>> _ = p.write_text(json.dumps([task]))
>>> span = read(p, reporter=Reporter()).documents[0].spans[0]
>>> span.doc_id, span.start, span.end, span.label, span.id, span.annotator
('7', 8, 15, 'Drug', 'r1', '1')
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any, Literal

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, Reporter
from spanqa.core.output import write_text
from spanqa.core.span import Span
from spanqa.corpus.formats._text import JsonError, is_int, loads_json
from spanqa.corpus.formats._walk import add_document, corpus_files
from spanqa.corpus.validate import check_span

NAME = "labelstudio"

Source = Literal["annotations", "predictions"]
FROM_NAME, TO_NAME = "label", "text"
_RESULT_KEYS = frozenset({"id", "from_name", "to_name", "type", "value", "score"})
_VALUE_KEYS = frozenset({"start", "end", "text", "labels"})


def _load_tasks(path: Path, reporter: Reporter) -> list[tuple[Any, int | None]] | None:
    """``(task, line)`` pairs (line only for JSONL), or ``None`` after an error."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        reporter.report("E103", f"byte {err.start}: {err.reason}", path=str(path),
                        line=data[: err.start].count(b"\n") + 1)
        return None
    if text.startswith("\ufeff"):
        reporter.report("W102", "UTF-8 byte-order mark at the start of the file", path=str(path), line=1)
        text = text[1:]
    if not text.strip():
        return []
    try:
        loaded = loads_json(text)
    except JsonError as err:
        lines = [(n, ln) for n, ln in enumerate(text.split("\n"), 1) if ln.strip()]
        try:  # JSON lines: one task per line
            tasks: list[tuple[Any, int | None]] = [(loads_json(ln), n) for n, ln in lines]
        except JsonError:
            reporter.report("E108", f"{err.msg} (column {err.colno})", path=str(path), line=err.lineno)
            return None
        if len(tasks) > 1 and all(isinstance(t, dict) and "data" in t for t, _ in tasks):
            return tasks
        reporter.report("E108", f"{err.msg} (column {err.colno})", path=str(path), line=err.lineno)
        return None
    if isinstance(loaded, dict):
        loaded = [loaded]
    if not isinstance(loaded, list):
        reporter.report("E109", "expected a list of tasks (Label Studio JSON export)", path=str(path))
        return None
    return [(t, None) for t in loaded]


def _annotator(item: dict, source: Source) -> str | None:
    who = item.get("model_version") if source == "predictions" else item.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return None if who is None else str(who)


def _task_doc(task: Any, i: int, line: int | None, path: Path, reporter: Reporter, seen_kinds: set[str], *,
              source: Source, index: int, text_key: str) -> Document | None:
    where: dict[str, Any] = {"path": str(path), "line": line}
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict) \
            or not isinstance(task["data"].get(text_key), str):
        reporter.report("E109", f"task {i} has no string data.{text_key}", **where)
        return None
    doc_id = str(task["id"]) if task.get("id") is not None else f"{path.stem}-{i}"
    where["doc_id"] = doc_id
    text: str = task["data"][text_key]
    kept = copy.deepcopy(task)
    del kept["data"][text_key]
    items = kept.get(source)
    if items is not None and not (isinstance(items, list) and all(isinstance(x, dict) for x in items)):
        reporter.report("E114", f"task {doc_id}: {source} must be a list of objects, not "
                        f"{json.dumps(items)[:40]}", **where)
        return None
    items = items or []
    candidates = []
    for j, item in enumerate(items):
        if isinstance(item, dict) and item.get("was_cancelled"):
            reporter.report("W105", f"cancelled {source[:-1]} {item.get('id', j)} kept verbatim, not read", **where)
        elif isinstance(item, dict):
            candidates.append(j)
    selected = candidates[index] if 0 <= index < len(candidates) else None
    spans: list[Span] | None = None
    if selected is not None:
        item = items[selected]
        annotator = _annotator(item, source)
        others: list[Any] = []
        spans = []
        results = item.get("result") or []
        if not isinstance(results, list):
            reporter.report("E114", f"{source[:-1]} {item.get('id', selected)}: result must be a list, not "
                            f"{type(results).__name__}", **where)
            return None
        for r in results:
            if not (isinstance(r, dict) and r.get("type") == "labels"):
                kind = r.get("type", "?") if isinstance(r, dict) else type(r).__name__
                if kind not in seen_kinds:
                    seen_kinds.add(kind)
                    reporter.report("W105", f"{kind!r} results are not spans; kept verbatim", **where)
                others.append(r)
                continue
            spans += _region_spans(r, doc_id, text, annotator, reporter, where)
        item["result"] = others
    meta = {"labelstudio": {"task": kept, "source": source, "item": selected, "text_key": text_key}}
    return Document(id=doc_id, text=text, spans=None if spans is None else tuple(spans),
                    source=f"{path}:{line}" if line else str(path), meta=meta)



def _region_spans(r: dict, doc_id: str, text: str, annotator: str | None, reporter: Reporter,
                  where: dict[str, Any]) -> list[Span]:
    value = r.get("value")
    if not isinstance(value, dict) or any(k not in value for k in ("start", "end", "labels")):
        reporter.report("E109", f"region {r.get('id')} needs value.start, value.end (integers) and value.labels",
                        excerpt=json.dumps(value)[:60], **where)
        return []
    wrong = [f"value.{k} is {json.dumps(value[k])[:20]}, not an integer" for k in ("start", "end")
             if not is_int(value[k])]
    labels, score = value["labels"], r.get("score")
    if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        wrong.append(f"value.labels is {json.dumps(labels)[:30]}, not a list of strings")
    if score is not None and not (isinstance(score, (int, float)) and not isinstance(score, bool)
                                  and math.isfinite(score)):
        wrong.append(f"score is {json.dumps(score)[:20]}, not a finite number")
    if wrong:
        reporter.report("E114", f"region {r.get('id')}: " + "; ".join(wrong), **where)
        return []
    meta: dict[str, Any] = {}
    for key, default in (("from_name", FROM_NAME), ("to_name", TO_NAME)):
        if r.get(key, default) != default:
            meta[key] = r.get(key)
    extra_r = {k: v for k, v in r.items() if k not in _RESULT_KEYS}
    extra_v = {k: v for k, v in value.items() if k not in _VALUE_KEYS}
    if extra_r:
        meta["result"] = extra_r
    if extra_v:
        meta["value"] = extra_v
    score = r.get("score")
    out = []
    for label in value["labels"] or [""]:
        span = Span(doc_id, value["start"], value["end"], str(label), id=None if r.get("id") is None else str(r["id"]),
                    annotator=annotator, score=None if score is None else float(score), meta=meta)
        recorded = value.get("text")
        if check_span(span, text, reporter, recorded_text=recorded if isinstance(recorded, str) else None,
                      **{k: v for k, v in where.items() if k != "doc_id"}):
            out.append(span)
    return out


def read(path: Path, *, reporter: Reporter, source: Source = "annotations", index: int = 0,
         text_key: str = "text") -> Corpus:
    """Read a Label Studio JSON export (or JSONL of tasks) into a :class:`Corpus`."""
    path = Path(path)
    if source not in ("annotations", "predictions"):
        raise ValueError(f"source must be 'annotations' or 'predictions', not {source!r}")
    files = corpus_files(path, reporter, suffixes=(".json",), recursive=False) if path.is_dir() else [path]
    docs: list[Document] = []
    seen_ids: dict[str, str] = {}
    seen_kinds: set[str] = set()
    for file in files:
        tasks = _load_tasks(file, reporter)
        for i, (task, line) in enumerate(tasks or ()):
            doc = _task_doc(task, i, line, file, reporter, seen_kinds, source=source, index=index, text_key=text_key)
            add_document(doc, docs, seen_ids, reporter, path=file, line=line, what="task id")
    if not docs:
        reporter.report("E104", "no task with data.text found", path=str(path))
    return Corpus.from_docs(docs, format=NAME, source=str(path))


def sniff(path: Path) -> bool:
    """True when the file starts like a JSON list of tasks with ``data``."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(4096).lstrip("\ufeff \t\r\n")
    except (UnicodeDecodeError, OSError):
        return False
    return head.startswith("[") and '"data"' in head


# --------------------------------------------------------------------------- writing

def _regions(doc: Document, problems: list[Problem], reporter: Reporter | None, path: Path) -> list[dict]:
    out: list[dict] = []
    prev: Span | None = None
    for s in doc.spans or ():
        if s.is_discontinuous:
            detail = f"discontinuous {s.label} span written as its hull"
            problems.append(Problem("W107", Location(path=str(path), doc_id=doc.id, start=s.start, end=s.end), detail))
            if reporter is not None:
                reporter.report("W107", detail, path=str(path), doc_id=doc.id, start=s.start, end=s.end)
        if prev is not None and s.id is not None and s.id == prev.id and s.evolve(label=prev.label) == prev:
            out[-1]["value"]["labels"].append(s.label)  # one region, several labels
            prev = s.evolve(label=prev.label)
            continue
        value = {"start": s.start, "end": s.end, "text": doc.text[s.start:s.end], "labels": [s.label],
                 **s.meta.get("value", {})}
        region: dict[str, Any] = {}
        if s.id is not None:
            region["id"] = s.id
        region.update({"from_name": s.meta.get("from_name", FROM_NAME), "to_name": s.meta.get("to_name", TO_NAME),
                       "type": "labels", "value": value})
        if s.score is not None:
            region["score"] = s.score
        region.update(s.meta.get("result", {}))
        out.append(region)
        prev = s
    return out


def _task(doc: Document, *, source: Source | None, text_key: str, problems: list[Problem],
          reporter: Reporter | None, path: Path) -> dict:
    ls = doc.meta.get("labelstudio")
    if ls:
        task = copy.deepcopy(dict(ls["task"]))
        key = ls.get("text_key", text_key)
        src, selected = ls.get("source", "annotations"), ls.get("item")
    else:
        task = {"id": int(doc.id) if doc.id.isdigit() and str(int(doc.id)) == doc.id else doc.id, "data": {}}
        key, src, selected = text_key, source or "annotations", None
    task["data"] = {key: doc.text, **{k: v for k, v in task.get("data", {}).items() if k != key}}
    if doc.spans is None:
        return task
    results = _regions(doc, problems, reporter, path)
    items = task.setdefault(src, [])
    if selected is not None and selected < len(items):
        items[selected]["result"] = results + list(items[selected].get("result") or [])
    else:
        item: dict[str, Any] = {"result": results}
        who = {s.annotator for s in doc.spans}
        if src == "predictions" and len(who) == 1 and None not in who:
            item = {"model_version": who.pop(), **item}
        items.append(item)
    return task


def write(corpus: Corpus, path: Path, *, source: Source | None = None, text_key: str = "text",
          reporter: Reporter | None = None) -> list[Problem]:
    """Write ``corpus`` as a Label Studio JSON import/export file (a list of tasks).

    ``source`` chooses ``annotations`` or ``predictions`` for documents that were
    not read from Label Studio (default ``annotations``); documents read from it
    go back where they came from.  Returns the ``W107`` problems.
    """
    path = Path(path)
    problems: list[Problem] = []
    tasks = [_task(doc, source=source, text_key=text_key, problems=problems, reporter=reporter, path=path)
             for doc in corpus.documents]
    write_text(path, json.dumps(tasks, ensure_ascii=False, indent=2) + "\n")
    return problems


__all__ = ["NAME", "Source", "read", "sniff", "write"]
