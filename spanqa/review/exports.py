"""Review exports of findings for annotation tools: Label Studio tasks, a brat folder, a CSV sheet.

All three carry the finding ids, so decisions come back to ``spanqa apply``:

- **Label Studio** (:func:`labelstudio_tasks`): one task per document with findings::

      {"data": {"text", "doc_id", "findings": [{id, kind, action, score, confidence, message}]},
       "annotations": [{"result": [the labelled spans as regions]}],
       "predictions": [{"model_version": "spanqa-<version>", "score": ..., "result": [regions]}]}

  A region is ``{"id", "from_name": "label", "to_name": "text", "type": "labels",
  "value": {"start", "end", "text", "labels": [label]}}``; a flagged labelled region
  also has ``"meta": {"text": ["<finding id>: <message>"]}`` (Label Studio's region note).
  The prediction is the document **with every suggested fix applied** (conflicting
  fixes left out, as ``spanqa apply`` would): each region's ``score`` is the
  confidence of the finding that put it there (:attr:`Finding.confidence`) or, for an
  unchanged span, its quality from ``spans.jsonl``; the prediction's ``score`` is the
  highest confidence of a fix in the document (sort tasks by it, descending, to see the
  most certain fixes first).  ``labeling_config`` gives the matching labelling interface.
- **brat** (:func:`write_brat`): the documents with findings, their labelled spans, and
  one ``#N<TAB>AnnotatorNotes Tk<TAB><finding id>: <message>`` line on each flagged span
  (several findings on one span are joined with `` | ``); optionally a second folder with
  the suggestions applied and the notes on the suggested spans (where ``missing``
  findings show).  ``annotation.conf`` lists the labels so the brat UI opens the folder.
- **CSV** (:func:`write_csv`): one row per finding, most suspicious first, with the
  context, and blank ``decision,label,start,end,reviewer,reason`` columns to fill in
  (``accept``/``reject``; ``label``/``start``/``end`` optional overrides).  Cells a spreadsheet
  would run as a formula get a leading ``'`` (:mod:`spanqa.review.cells`), which the
  decisions reader removes again.

Offsets everywhere are half-open document character offsets.

Why one module of ~400 lines: three exports that share turning a finding into a record.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Mapping, Sequence

from spanqa.core.document import Corpus, Document
from spanqa.core.output import atomic_open, write_text
from spanqa.core.span import Span, sort_spans
from spanqa.review.cells import safe_row
from spanqa.review.decisions import ARGILLA_QUESTION, Decision
from spanqa.run.reader import Finding, Run, span_key

ExportFormat = Literal["labelstudio", "brat", "csv", "argilla"]
EXPORT_FORMATS: tuple[str, ...] = ("labelstudio", "brat", "csv", "argilla")
FROM_NAME, TO_NAME = "label", "text"
#: columns a reviewer fills in the CSV sheet
DECISION_COLUMNS: tuple[str, ...] = ("decision", "label", "start", "end", "reviewer", "reason")
CSV_COLUMNS: tuple[str, ...] = ("finding_id", "doc_id", "kind", "action", "score", "confidence", "labelled",
                                "suggested", "context", "message") + DECISION_COLUMNS


def model_version() -> str:
    from spanqa._version import __version__

    return f"spanqa-{__version__}"


def excerpt(text: str, start: int, end: int, *, width: int = 60) -> tuple[int, int]:
    """``(a, b)``: a window of ``text`` around ``[start, end)`` with ``width`` characters each side,
    widened to the nearest whitespace so words are not cut (at most 20 characters further)."""
    a, b = max(0, start - width), min(len(text), end + width)
    for _ in range(20):
        if a <= 0 or text[a - 1].isspace():
            break
        a -= 1
    for _ in range(20):
        if b >= len(text) or text[b].isspace():
            break
        b += 1
    return a, b


def describe(spans: Sequence[Span], text: str) -> str:
    """``11-23 Drug "aspirin 81mg"; ...`` (for sheets and messages)."""
    return "; ".join(f'{s.start}-{s.end} {s.label} "{" ".join(s.text_in(text).split())}"' for s in spans)


def proposed(corpus: Corpus, findings: Sequence[Finding]) -> tuple[Corpus, dict[tuple, Finding], set[str]]:
    """The corpus with every finding's fix applied (conflicts left out), the finding behind each new span
    (keyed ``(doc_id, pieces, label)``), and the ids of the findings that were applied."""
    from spanqa.review.apply import apply_decisions

    fix = [f for f in findings if f.has_fix]
    run = Run(Path("."), tuple(fix), (), {})
    res = apply_decisions(run, [Decision(f.id, "accept") for f in fix], corpus=corpus, time="-")
    by_id = {f.id: f for f in fix}
    origin = {(c.doc_id,) + span_key(s): by_id[c.finding_id] for c in res.changes for s in c.after}
    return res.corpus, origin, {c.finding_id for c in res.changes}


def _qualities(run_spans: Iterable[Span]) -> dict[tuple, float]:
    return {(s.doc_id,) + span_key(s): s.score for s in run_spans if s.score is not None}


# --------------------------------------------------------------------------- Label Studio
def _region(s: Span, text: str, rid: str, *, score: float | None = None, notes: Sequence[str] = ()) -> dict:
    r: dict[str, Any] = {"id": rid, "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
                         "value": {"start": s.start, "end": s.end, "text": text[s.start:s.end], "labels": [s.label]}}
    if score is not None:
        r["score"] = round(float(score), 6)
    if notes:
        r["meta"] = {"text": list(notes)}
    return r


def _notes(findings: Sequence[Finding], attr: str = "labels") -> dict[tuple, list[str]]:
    out: dict[tuple, list[str]] = {}
    for f in findings:
        for s in getattr(f, attr):
            out.setdefault(span_key(s), []).append(f"{f.id}: {f.message}".strip())
    return out


def review_documents(corpus: Corpus, findings: Sequence[Finding], qualities: Mapping[tuple, float], *,
                     all_documents: bool = False) -> Iterator[tuple[Document, list[Finding], list[tuple]]]:
    """Per document with findings (every document with ``all_documents``): the document, its findings most
    suspicious first, and the spans it would have with every fix applied (:func:`proposed`) as
    ``(span, finding that put it there or None, score)`` - the finding's confidence, else the span's quality."""
    new_corpus, origin, _ = proposed(corpus, findings)
    new_docs = new_corpus.by_id()
    by_doc: dict[str, list[Finding]] = {}
    for f in findings:
        by_doc.setdefault(f.doc_id, []).append(f)
    for doc in corpus.documents:
        fs = sorted(by_doc.get(doc.id, ()), key=lambda f: (f.score, f.start, f.id))
        if not fs and not all_documents:
            continue
        spans = []
        for s in sort_spans(new_docs[doc.id].spans or ()):
            found = origin.get((doc.id,) + span_key(s))
            spans.append((s, found, found.confidence if found is not None else qualities.get((doc.id,) + span_key(s))))
        yield doc, fs, spans


def labelstudio_tasks(corpus: Corpus, findings: Sequence[Finding], *, qualities: Mapping[tuple, float] | None = None,
                      version: str | None = None, all_documents: bool = False) -> list[dict]:
    """Label Studio tasks for the documents with findings (shape in the module docstring)."""
    version = version or model_version()
    tasks = []
    for doc, fs, proposal in review_documents(corpus, findings, qualities or {}, all_documents=all_documents):
        notes = _notes(fs)
        ids: dict[tuple, str] = {}
        ann = []
        for k, s in enumerate(sort_spans(doc.spans or ()), 1):
            rid = s.id or f"s{k}"
            ids[span_key(s)] = rid
            ann.append(_region(s, doc.text, rid, notes=notes.get(span_key(s), ())))
        task: dict[str, Any] = {
            "data": {"text": doc.text, "doc_id": doc.id,
                     "findings": [{"id": f.id, "kind": f.kind, "action": f.action, "score": f.score,
                                   "confidence": round(f.confidence, 6), "message": f.message} for f in fs],
                     "review": review_text(fs)},
            "annotations": [{"result": ann}] if doc.spans is not None else [],
        }
        pred, confs = [], []
        for k, (s, f, score) in enumerate(proposal, 1):
            if f is not None:
                confs.append(f.confidence)
                pred.append(_region(s, doc.text, f"{f.id}-{k}", score=score,
                                    notes=[f"{f.id}: suggested ({f.kind}, {f.action}) - {f.message}".strip()]))
            else:
                pred.append(_region(s, doc.text, ids.get(span_key(s), f"s{k}"), score=score))
        if confs:
            task["predictions"] = [{"model_version": version, "score": round(max(confs), 6), "result": pred}]
        tasks.append(task)
    return tasks


def review_text(findings: Sequence[Finding]) -> str:
    """What the reviewer reads above the note in Label Studio: one numbered line per finding, most
    suspicious first, with its confidence and the review sentence."""
    return "\n".join(f"{i}. [{f.kind}, {f.action}, confidence {f.confidence:.0%}] {f.message} ({f.id})"
                     for i, f in enumerate(findings, 1))


def labeling_config(labels: Iterable[str]) -> str:
    """The Label Studio labelling interface (XML) that matches the exported regions, with the task's
    findings (``data.review``) shown above the note."""
    from xml.sax.saxutils import quoteattr

    items = "\n".join(f"    <Label value={quoteattr(lab)}/>" for lab in sorted(set(labels)))
    return (f'<View>\n  <Header value="spanqa findings to review (accept: make the spans as suggested; '
            f'reject: leave them and click Update)"/>\n'
            f'  <Text name="review" value="$review" granularity="word"/>\n'
            f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n{items}\n  </Labels>\n'
            f'  <Text name="{TO_NAME}" value="$text"/>\n</View>\n')


def labelstudio_path(out: str | Path) -> Path:
    """Where the tasks go: ``out`` itself when it names a ``.json`` file, else ``out/export.json`` (a folder,
    or a name without a suffix, which Label Studio's importer would not take)."""
    out = Path(out)
    return out / "export.json" if out.is_dir() or out.suffix.lower() != ".json" else out


def write_labelstudio(corpus: Corpus, findings: Sequence[Finding], path: str | Path, **options: Any) -> dict[str, int]:
    """Write the tasks to ``path`` (JSON) and the labelling config beside it (``<stem>.config.xml``)."""
    path = Path(path)
    tasks = labelstudio_tasks(corpus, findings, **options)
    write_text(path, json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
    labels = set(corpus.labels) | {s.label for f in findings for s in f.suggestion}
    write_text(path.with_name(path.stem + ".config.xml"), labeling_config(labels))
    return {"tasks": len(tasks), "findings": sum(len(t["data"]["findings"]) for t in tasks)}


# --------------------------------------------------------------------------- Argilla
#: the Argilla question the reviewer answers: the spans of the note
def argilla_settings(labels: Iterable[str]) -> dict[str, Any]:
    """The dataset settings the records fit (``rg.Settings`` fields, questions, metadata), as plain JSON."""
    return {"guidelines": "spanqa findings: accept = leave the suggested spans, reject = restore the labelled ones "
                          "(listed in the 'labelled' field), edit = set the spans you mean; then submit.",
            "fields": [{"name": "text", "type": "text", "title": "note"},
                       {"name": "review", "type": "text", "title": "findings to review"},
                       {"name": "labelled", "type": "text", "title": "spans as labelled now"}],
            "questions": [{"name": ARGILLA_QUESTION, "type": "span", "field": "text", "labels": sorted(set(labels)),
                           "allow_overlapping": True, "required": True}],
            "metadata": [{"name": "doc_id", "type": "terms"}, {"name": "n_findings", "type": "integer"},
                         {"name": "min_score", "type": "float"}]}


def argilla_records(corpus: Corpus, findings: Sequence[Finding], *, qualities: Mapping[tuple, float] | None = None,
                    version: str | None = None) -> list[dict]:
    """One record per document with findings, in the shape of ``argilla.Record.to_dict()``: the note, the review
    text, the labelled spans, and as the suggestion of the span question the note with every fix applied (each
    span scored like the Label Studio prediction regions; agent = spanqa's model version)."""
    version = version or model_version()
    records = []
    for doc, fs, proposal in review_documents(corpus, findings, qualities or {}):
        spans = [s for s, _, _ in proposal]
        scores = [round(float(score if score is not None else 1.0), 6) for _, _, score in proposal]
        records.append({
            "id": doc.id,
            "fields": {"text": doc.text, "review": review_text(fs), "labelled": describe(sort_spans(doc.spans or ()),
                                                                                         doc.text) or "(none)"},
            "metadata": {"doc_id": doc.id, "n_findings": len(fs), "min_score": round(min(f.score for f in fs), 6)},
            "suggestions": {ARGILLA_QUESTION: {"value": [{"start": s.start, "end": s.end, "label": s.label}
                                                         for s in spans], "score": scores, "agent": version}},
            "responses": {}, "vectors": {}, "status": "pending"})
    return records


def write_argilla(corpus: Corpus, findings: Sequence[Finding], out: str | Path, **options: Any) -> dict[str, int]:
    """``out/records.json`` (records) and ``out/settings.json`` (the dataset settings they fit)."""
    out = Path(out)
    records = argilla_records(corpus, findings, **options)
    labels = set(corpus.labels) | {s.label for f in findings for s in f.suggestion}
    write_text(out / "settings.json", json.dumps(argilla_settings(labels), indent=1) + "\n", root=out)
    write_text(out / "records.json", json.dumps(records, ensure_ascii=False, indent=1) + "\n", root=out)
    return {"records": len(records), "findings": sum(r["metadata"]["n_findings"] for r in records)}


# --------------------------------------------------------------------------- brat
def _with_notes(doc: Document, notes: Mapping[tuple, list[str]]) -> tuple[Document, int]:
    """``doc`` with T ids on every span and one AnnotatorNotes line per noted span (joined with existing ones)."""
    import re

    tnum = re.compile(r"^T(\d+)$")
    other = [str(x) for x in (doc.meta or {}).get("brat_other_lines", ())]
    used = {int(m.group(1)) for s in doc.spans or () if s.id and (m := tnum.match(s.id))}
    used |= {int(m.group(1)) for line in other if (m := tnum.match(line.split("\t", 1)[0]))}
    nxt = max(used, default=0) + 1
    spans, seen = [], set()
    for s in doc.spans or ():
        if not (s.id and tnum.match(s.id)) or s.id in seen:
            s = s.evolve(id=f"T{nxt}")
            nxt += 1
        seen.add(s.id)
        spans.append(s.evolve(meta={k: v for k, v in s.meta.items() if k != "note"}) if "note" in s.meta else s)
    hash_nums = [int(line[1:].split("\t", 1)[0]) for line in other
                 if line.startswith("#") and line[1:].split("\t", 1)[0].isdigit()]
    nxt_hash = max(hash_nums, default=0) + 1
    existing: dict[str, int] = {}
    for i, line in enumerate(other):
        f = line.split("\t")
        if line.startswith("#") and len(f) >= 3 and f[1].startswith("AnnotatorNotes "):
            existing.setdefault(f[1].split(" ", 1)[1].strip(), i)
    n = 0
    for s in spans:
        ns = notes.get(span_key(s))
        if not ns:
            continue
        n += 1
        note = " | ".join(" ".join(x.split()) for x in ns)
        if s.id in existing:
            i = existing[s.id]
            other[i] = other[i] + " | " + note
        else:
            other.append(f"#{nxt_hash}\tAnnotatorNotes {s.id}\t{note}")
            nxt_hash += 1
    return doc.evolve(spans=tuple(spans), meta={**dict(doc.meta or {}), "brat_other_lines": tuple(other)}), n


def _annotation_conf(labels: Iterable[str], docs: Iterable[Document]) -> str:
    rels = sorted({line.split("\t")[1].split(" ")[0] for d in docs for line in (d.meta or {}).get("brat_other_lines", ())
                   if line.startswith("R") and line.count("\t") >= 1})
    return ("[entities]\n" + "".join(f"{lab}\n" for lab in sorted(set(labels))) + "\n[relations]\n"
            + "".join(f"{r}\tArg1:<ENTITY>, Arg2:<ENTITY>\n" for r in rels)
            + "<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>\n\n[events]\n\n[attributes]\n")


def write_brat(corpus: Corpus, findings: Sequence[Finding], out: str | Path, *,
               suggested_out: str | Path | None = None) -> dict[str, int]:
    """Write the documents with findings as brat (notes on flagged spans); see the module docstring.

    Returns counts: documents, notes written, findings without a labelled span (only
    visible in ``suggested_out``).
    """
    from spanqa.corpus.formats import write_corpus

    by_doc: dict[str, list[Finding]] = {}
    for f in findings:
        by_doc.setdefault(f.doc_id, []).append(f)
    docs = [d for d in corpus.documents if d.id in by_doc]
    labels = set(corpus.labels) | {s.label for f in findings for s in f.suggestion}
    out_docs, notes_n = [], 0
    for d in docs:
        nd, n = _with_notes(d.evolve(spans=d.spans or ()), _notes(by_doc[d.id]))
        out_docs.append(nd)
        notes_n += n
    write_corpus(corpus.evolve(documents=tuple(out_docs)), out, "brat")
    write_text(Path(out, "annotation.conf"), _annotation_conf(labels, out_docs), root=out)
    counts = {"documents": len(out_docs), "notes": notes_n,
              "without_labelled_span": sum(1 for f in findings if not f.labels)}
    if suggested_out is not None:
        new_corpus, origin, _ = proposed(corpus, findings)
        new_by = new_corpus.by_id()
        sug_docs = []
        for d in docs:
            fs = by_doc[d.id]
            notes = _notes(fs)
            for key, f in origin.items():
                if key[0] == d.id:
                    notes.setdefault(key[1:], []).append(f"{f.id}: suggested - {f.message}")
            nd, _ = _with_notes(new_by[d.id].evolve(spans=new_by[d.id].spans or ()), notes)
            sug_docs.append(nd)
        write_corpus(corpus.evolve(documents=tuple(sug_docs)), suggested_out, "brat")
        write_text(Path(suggested_out, "annotation.conf"), _annotation_conf(labels, sug_docs), root=suggested_out)
        counts["suggested_documents"] = len(sug_docs)
    return counts


# --------------------------------------------------------------------------- CSV
def context_string(text: str, start: int, end: int, *, width: int = 60) -> str:
    """The text around ``[start, end)`` on one line, the stretch itself in ``[[ ]]``."""
    a, b = excerpt(text, start, end, width=width)
    one = lambda s: " ".join(s.split())  # noqa: E731
    return (("..." if a > 0 else "") + one(text[a:start]) + " [[" + one(text[start:end]) + "]] "
            + one(text[end:b]) + ("..." if b < len(text) else "")).strip()


def write_csv(corpus: Corpus, findings: Sequence[Finding], path: str | Path, *, width: int = 60) -> dict[str, int]:
    """One row per finding, most suspicious first, with blank decision columns (:data:`CSV_COLUMNS`)."""
    path = Path(path)
    docs = corpus.by_id()
    rows = 0
    with atomic_open(path) as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for f in sorted(findings, key=lambda f: (f.score, f.doc_id, f.start, f.id)):
            text = docs[f.doc_id].text if f.doc_id in docs else ""
            end = f.end if (f.labels or f.suggestion) else min(len(text), 80)
            w.writerow(safe_row([f.id, f.doc_id, f.kind, f.action, f"{f.score:.6g}", f"{f.confidence:.6g}",
                                 describe(f.labels, text), describe(f.suggestion, text),
                                 context_string(text, f.start, end, width=width) if text else "", f.message]
                                + [""] * len(DECISION_COLUMNS)))
            rows += 1
    return {"rows": rows}


# --------------------------------------------------------------------------- one entry point
def selected(findings: Sequence[Finding], *, top: int | None = None, max_score: float | None = None) -> list[Finding]:
    """The findings an export carries: those with ``score <= max_score`` (score = P(the labels are right), so lower is
    more suspicious), then the first ``top`` of them in the run's order (the ranking's; a pattern counts once and
    its members follow it)."""
    out = [f for f in findings if max_score is None or f.score <= max_score]
    return out[:top] if top is not None else out


def export_run(run: Run, to: ExportFormat, out: str | Path, *, suggested_out: str | Path | None = None,
               top: int | None = None, max_score: float | None = None) -> dict[str, int]:
    """Export the run's findings (all, or :func:`selected` ones) in ``to`` format at ``out`` (a file, or a folder for
    brat)."""
    corpus = run.corpus()
    findings = selected(run.findings, top=top, max_score=max_score)
    if to == "labelstudio":
        counts = write_labelstudio(corpus, findings, labelstudio_path(out), qualities=_qualities(run.spans))
    elif to == "brat":
        counts = write_brat(corpus, findings, out, suggested_out=suggested_out)
    elif to == "csv":
        counts = write_csv(corpus, findings, out)
    elif to == "argilla":
        counts = write_argilla(corpus, findings, out, qualities=_qualities(run.spans))
    else:
        counts = None
    if counts is not None:
        return {**counts, "of_findings": len(run.findings)} if len(findings) < len(run.findings) else counts
    from spanqa.core.errors import fail

    raise fail("E507", f"unknown export format {to!r}; use one of {', '.join(EXPORT_FORMATS)}")


__all__ = ["CSV_COLUMNS", "DECISION_COLUMNS", "EXPORT_FORMATS", "ExportFormat", "argilla_records", "argilla_settings",
           "context_string", "describe", "excerpt", "export_run", "labeling_config", "labelstudio_path",
           "labelstudio_tasks", "model_version", "proposed", "review_documents", "review_text", "selected",
           "write_argilla", "write_brat", "write_csv", "write_labelstudio"]
