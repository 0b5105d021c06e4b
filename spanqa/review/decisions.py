"""Reviewer decisions on findings: read from CSV, JSONL or a Label Studio export.

One decision per finding::

    {finding_id, decision: "accept" | "reject", label?, start?, end?, spans?, reviewer?, reason?}

``label``/``start``/``end`` are an **override**: the accepted fix becomes *one* span
with these fields (missing ones are taken from the suggested span, or from the
labelled span when nothing is suggested) in place of the suggestion.  ``spans`` (JSON
only: ``[{"start", "end", "label"}, ...]``) is the general override: the reviewer's
final spans for the finding, any number (an edited split keeps two, an edit that
removes everything keeps none); they replace the finding's labelled spans.  Offsets
are half-open document character offsets.  A blank decision means "not decided yet"
and is skipped; so is ``unsure`` (the report's "unsure / guideline question", kept in the file for the team).

The CSV written by ``spanqa export --to csv`` is a decisions file once its
``decision`` column is filled.  A Label Studio export of the tasks written by
``spanqa export --to labelstudio`` is read back by comparing each task's final
annotation with every finding of its document: the suggested spans present and
the questioned ones gone = accept, the labelled spans unchanged = reject, one other
span in their place = accept with that span as override.

Why one module of ~550 lines: one job - reading decisions - from three sources (CSV, JSONL, a Label Studio export)
that share the validation and its coded errors.

>>> d = Decision.from_record({"finding_id": "F1", "decision": "Accept", "label": "Brand"}, where="x.csv:2")
>>> (d.decision, d.label, d.start)
('accept', 'Brand', None)
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from spanqa.core.errors import Location, Problem, fail
from spanqa.corpus.formats._text import JsonError, is_int, json_lines, loads_json
from spanqa.review.cells import read_cell
from spanqa.run.reader import Finding, Run, span_key

Verdict = Literal["accept", "reject"]

_ACCEPT = {"accept", "accepted", "a", "yes", "y"}
_REJECT = {"reject", "rejected", "r", "no", "n"}
#: the report's "unsure / guideline question": kept in the file for the team, not a decision (skipped like a blank)
_UNSURE = {"unsure", "question", "guideline question", "?"}
_ID_KEYS = ("finding_id", "id", "finding")
#: the name of the span question of the Argilla dataset `spanqa export --to argilla` writes (and reads back here)
ARGILLA_QUESTION = "spans"


@dataclass(frozen=True)
class Decision:
    """One reviewer decision (see the module docstring); ``source`` is ``file:line`` for messages."""

    finding_id: str
    decision: Verdict
    label: str | None = None
    start: int | None = None
    end: int | None = None
    reviewer: str | None = None
    reason: str | None = None
    source: str | None = None
    time: str | None = None
    spans: tuple[tuple[int, int, str], ...] | None = None

    @property
    def has_override(self) -> bool:
        return self.label is not None or self.start is not None or self.end is not None or self.spans is not None

    @property
    def edited(self) -> bool:
        """An accept whose spans the reviewer changed from the suggestion."""
        return self.decision == "accept" and self.has_override

    @classmethod
    def from_record(cls, rec: Mapping[str, Any], *, where: str) -> "Decision | None":
        """A decision from a CSV row or JSON object; ``None`` when the decision is blank (undecided)."""
        rec = {str(k).strip().lower(): v for k, v in rec.items() if k is not None}
        fid = next((str(rec[k]).strip() for k in _ID_KEYS if rec.get(k) not in (None, "")), None)
        raw = str(rec.get("decision") or "").strip().lower()
        if not raw or raw in _UNSURE:
            return None
        if fid is None:
            raise fail("E504", "row has a decision but no finding_id", path=where)
        if raw in _ACCEPT:
            verdict: Verdict = "accept"
        elif raw in _REJECT:
            verdict = "reject"
        else:
            raise fail("E504", f"decision {raw!r} for finding {fid} is neither accept nor reject", path=where)

        def num(key: str) -> int | None:
            v = rec.get(key)
            if v in (None, ""):
                return None
            text = str(v).strip()
            if isinstance(v, bool) or not re.fullmatch(r"-?[0-9]+", text):
                raise fail("E504", f"{key} {v!r} of finding {fid} is not an integer offset", path=where)
            return int(text)

        label = rec.get("label")
        label = str(label).strip() if label not in (None, "") else None
        start, end = num("start"), num("end")
        if start is not None and end is not None and not start < end:
            raise fail("E504", f"override start {start} >= end {end} for finding {fid}", path=where)
        opt = lambda k: (str(rec[k]).strip() or None) if rec.get(k) not in (None, "") else None  # noqa: E731
        spans = _override_spans(rec.get("spans"), fid, where) if rec.get("spans") is not None else None
        if spans is not None and (label is not None or start is not None or end is not None):
            raise fail("E504", f"finding {fid}: give either spans or label/start/end, not both", path=where)
        return cls(fid, verdict, label, start, end, opt("reviewer"), opt("reason"), where, opt("time"), spans)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None and k not in ("source", "spans")}
        if self.spans is not None:
            out["spans"] = [{"start": a, "end": b, "label": lab} for a, b, lab in self.spans]
        return out


def _override_spans(raw: Any, fid: str, where: str) -> tuple[tuple[int, int, str], ...]:
    """The ``spans`` override of a JSON decision, checked (``E504``)."""
    ok = isinstance(raw, list) and all(
        isinstance(s, dict) and is_int(s.get("start")) and is_int(s.get("end")) and s["start"] < s["end"]
        and isinstance(s.get("label"), str) and s["label"].strip() for s in raw)
    if not ok:
        raise fail("E504", f"finding {fid}: spans must be a list of {{start, end, label}} with integer "
                   f"start < end and a label, not {json.dumps(raw)[:80]}", path=where)
    return tuple(sorted((s["start"], s["end"], s["label"].strip()) for s in raw))


def read_decisions(path: str | Path, *, run: Run | None = None, reviewer: str | None = None,
                   users: str | Path | None = None) -> tuple[list[Decision], list[Problem]]:
    """Decisions from ``path``: ``.csv``/``.tsv``, ``.jsonl``, or ``.json`` (a Label Studio export).

    Reading a Label Studio export needs ``run`` (the findings and the corpus); ``reviewer``
    names its reviewers when the export carries only a user id; ``users`` (a saved ``GET /api/users``)
    maps those ids to e-mails.
    Raises ``E504`` for a malformed file; returns the problems met (``W506`` edits
    that no finding explains) alongside the decisions.
    """
    path = Path(path)
    if not path.is_file():
        raise fail("E504", f"{path} is not a file", path=str(path))
    suffix = path.suffix.lower()
    text = _decoded(path)
    if suffix in (".csv", ".tsv"):
        with io.StringIO(text, newline="") as fh:
            rows = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            if not rows.fieldnames or "decision" not in [f.strip().lower() for f in rows.fieldnames]:
                raise fail("E504", "the CSV has no 'decision' column", path=str(path), line=1)
            parsed = [Decision.from_record({k: read_cell(v) for k, v in r.items()}, where=f"{path}:{n}")
                      for n, r in enumerate(rows, 2)]
        return _some([d for d in parsed if d is not None], [], len(parsed), path, "CSV")
    if suffix == ".json" or text.lstrip().startswith("["):
        try:
            data = loads_json(text)
        except JsonError as err:
            raise fail("E504", f"not JSON ({err.msg})", path=str(path), line=err.lineno) from None
        if isinstance(data, list):
            kind = json_format(data, str(path))
            if kind in ("argilla", "labelstudio") and run is None:
                raise fail("E504", f"{'an Argilla' if kind == 'argilla' else 'a Label Studio'} export is read "
                           "against its run; pass the run", path=str(path))
            users_map = user_names(users) if users is not None else None
            if kind == "argilla":
                assert run is not None  # refused above
                got, problems = decisions_from_argilla(data, run, where=str(path), reviewer=reviewer, users=users_map)
            elif kind == "labelstudio":
                assert run is not None  # refused above
                got, problems = decisions_from_labelstudio(data, run, where=str(path), reviewer=reviewer,
                                                           users=users_map)
            else:
                got, problems = [], []
                for i, r in enumerate(data):
                    if not isinstance(r, dict):
                        problems.append(_misfit(f"{path}[{i}]", f"item {i} is {type(r).__name__}, not a decision "
                                                "object"))
                        continue
                    d = Decision.from_record(r, where=f"{path}[{i}]")
                    if d is not None:
                        got.append(d)
            return _some(got, problems, len(data), path,
                         {"plain": "JSON", "labelstudio": "Label Studio", "argilla": "Argilla"}[kind])
        raise fail("E504", "JSON decisions must be a list of decisions, of Label Studio tasks or of Argilla records",
                   path=str(path))
    out, n_rows = [], 0
    for n, rec in json_lines(text, code="E504", path=str(path)):
        n_rows += 1
        d = Decision.from_record(rec, where=f"{path}:{n}")
        if d is not None:
            out.append(d)
    return _some(out, [], n_rows, path, "JSONL")


#: keys that mark a JSON item as a Label Studio task, an Argilla record or a plain decision
_SIGNS = {"argilla": ("fields", "responses"), "labelstudio": ("data", "annotations"),
          "plain": ("decision", "finding_id")}


def json_format(items: list[Any], where: str) -> str:
    """What a JSON list of review items is: the format most of its items carry the keys of (:data:`_SIGNS`).
    An item of another shape does not change it: the reader reports that item (``W514``) and reads the rest.
    ``E504`` when no item carries any format's keys, or two formats are equally common."""
    votes: dict[str, int] = {}
    for item in items:
        if isinstance(item, dict):
            for kind, keys in _SIGNS.items():
                if any(k in item for k in keys):
                    votes[kind] = votes.get(kind, 0) + 1
                    break
    if not items:
        return "plain"
    if not votes:
        raise fail("E504", "no item of the JSON list is a decision, a Label Studio task or an Argilla record",
                   path=where)
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        raise fail("E504", f"the JSON list mixes {ranked[0][0]} and {ranked[1][0]} items equally "
                   f"({ranked[0][1]} each); keep one kind per file", path=where)
    return ranked[0][0]


def _misfit(src: str, detail: str) -> Problem:
    return Problem("W514", Location(path=src), detail + "; skipped, the other items are read")


def _some(decisions: list[Decision], problems: list[Problem], n_items: int, path: Path, kind: str
          ) -> tuple[list[Decision], list[Problem]]:
    """``decisions`` and ``problems``, or ``E504`` when the file gave no decision at all (empty, or nothing in it
    decided): a review file that silently applies nothing is never a success."""
    if decisions:
        return decisions, problems
    if n_items == 0:
        raise fail("E504", f"the {kind} file holds no item at all; nothing to apply", path=str(path))
    if problems:
        codes = ", ".join(f"{c} x{n}" for c, n in sorted(Counter(p.code for p in problems).items()))
        why = f"{codes} (first: {problems[0].where.path}: {problems[0].detail})"
    else:
        why = "no item carries a decision (nothing reviewed, or every decision blank)"
    raise fail("E504", f"no decision could be read from the {n_items} {kind} item(s): {why}", path=str(path))


def _decoded(path: Path) -> str:
    """The file's text (UTF-8, a leading BOM dropped); ``E504`` with the byte offset when it is not UTF-8."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail("E504", f"not UTF-8 at byte offset {err.start} ({data[err.start:err.end]!r}); save the file "
                   "as UTF-8", path=str(path), line=data.count(b"\n", 0, err.start) + 1) from None
    return text[1:] if text.startswith("\ufeff") else text


# --------------------------------------------------------------------------- Label Studio read-back
def _user_names(tasks: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Label Studio user id -> the name its export carries (``created_username`` is ``"email, id"``, or an
    expanded ``completed_by`` object), collected over the whole export."""
    names: dict[str, str] = {}
    for task in tasks:
        for ann in task.get("annotations") or ():
            if not isinstance(ann, dict):
                continue
            who = ann.get("completed_by")
            if isinstance(who, dict) and who.get("id") is not None:
                name = who.get("email") or who.get("username") or " ".join(
                    x for x in (who.get("first_name"), who.get("last_name")) if x)
                if name:
                    names[str(who["id"])] = str(name)
            created = ann.get("created_username")  # "<first> <last> <email>, <id>" (the annotations API)
            if isinstance(created, str) and "," in created:
                name, _, uid = created.rpartition(",")
                email = next((w for w in name.split() if "@" in w), name.strip())
                if email and uid.strip():
                    names.setdefault(uid.strip(), email)
    return names


def user_names(path: str | Path) -> dict[str, str]:
    """Label Studio user id -> e-mail from a saved ``GET /api/users`` (``--users users.json``); ``E504`` when
    the file is not that list."""
    path = Path(path)
    try:
        users = loads_json(_decoded(path))
    except JsonError as err:
        raise fail("E504", f"not JSON ({err.msg})", path=str(path), line=err.lineno) from None
    if not (isinstance(users, list) and all(isinstance(u, dict) and u.get("id") is not None for u in users)):
        raise fail("E504", "a users file is the list GET /api/users returns: [{id, email, ...}, ...]", path=str(path))
    out = {}
    for u in users:
        name = u.get("email") or u.get("username") or " ".join(x for x in (u.get("first_name"), u.get("last_name")) if x)
        if name:
            out[str(u["id"])] = str(name)
    return out


def _user_id(who: Any) -> str | None:
    if isinstance(who, dict):
        who = who.get("id", who.get("email"))
    return None if who in (None, "") else str(who)


def _reviewer(ann: Mapping[str, Any], names: Mapping[str, str], fallback: str | None) -> str | None:
    """Who made the annotation what it is: ``updated_by`` (an in-place update) before ``completed_by``,
    as the name the export carries; ``fallback`` (``--reviewer``) when it carries only an id."""
    uid = _user_id(ann.get("updated_by")) or _user_id(ann.get("completed_by"))
    if uid is None:
        return fallback
    if uid in names:
        return names[uid]
    if isinstance(ann.get("completed_by"), dict) and not isinstance(ann.get("updated_by"), (int, str)):
        who = ann["completed_by"]
        return str(who.get("email") or who.get("username") or uid)
    return fallback or f"labelstudio user {uid}"



def _regions(ann: Mapping[str, Any], where: str) -> set[tuple]:
    out = set()
    for r in ann.get("result") or ():
        v = r.get("value") if isinstance(r, dict) else None
        if not isinstance(v, dict) or "start" not in v or not v.get("labels"):
            continue
        start, end, labels = v.get("start"), v.get("end"), v["labels"]
        if not (is_int(start) and is_int(end) and isinstance(labels, list)):
            raise fail("E504", f"region {r.get('id')} of a reviewed task needs integer value.start and value.end "
                       f"and a list value.labels, not {json.dumps(v)[:80]}", path=where)
        for lab in labels:
            out.add((((start, end),), str(lab)))
    return out


def touched(ann: Mapping[str, Any], original: set[tuple], where: str) -> bool:
    """Did a reviewer act on this annotation?  Its spans differ from the imported labels, or Label Studio
    recorded a human action on it: time spent (``lead_time`` > 0), an update (``updated_by``), or a
    ``last_action`` other than the import.  An imported annotation nobody opened is none of these."""
    if _regions(ann, where) != original:
        return True
    lead = ann.get("lead_time")
    if isinstance(lead, (int, float)) and not isinstance(lead, bool) and lead > 0:
        return True
    if ann.get("updated_by") not in (None, ""):
        return True
    return ann.get("last_action") not in (None, "", "imported", "prediction")


def decisions_from_labelstudio(tasks: Iterable[Mapping[str, Any]], run: Run, *, where: str = "labelstudio export",
                               reviewer: str | None = None, users: Mapping[str, str] | None = None,
                               ) -> tuple[list[Decision], list[Problem]]:
    """Decisions read back from reviewed Label Studio tasks.

    Per task: cancelled annotations are skips; an annotation nobody touched (:func:`touched`)
    is *not reviewed* - its findings get no decision, never a rejection; two touched
    annotations with different spans are ``W511`` and none of them is applied; otherwise the
    latest touched annotation is compared with every finding of the document:

    - the suggested spans there and the questioned ones gone: **accept**;
    - other new spans near the finding (an edited split, merge, boundary or missing entity), or
      questioned spans removed with nothing suggested there: **accept with the reviewer's spans**
      (``Decision.spans``), applied as the reviewer left them;
    - nothing changed near the finding: **reject**.

    Each decision names its reviewer (:func:`_reviewer`; ``users`` maps the ids of an export that
    carries only ids, see :func:`user_names`); a skipped task is ``W512``.
    """
    tasks = list(tasks)
    corpus = run.corpus()
    by_doc = run.by_doc()
    docs = corpus.by_id()
    names = {**_user_names([t for t in tasks if isinstance(t, dict)]), **dict(users or {})}
    out: list[Decision] = []
    problems: list[Problem] = []
    for i, task in enumerate(tasks):
        src = f"{where}[{i}]"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            what = type(task).__name__ if not isinstance(task, dict) else "a task without a data object"
            problems.append(_misfit(src, f"item {i} is {what}, not a Label Studio task"))
            continue
        if not isinstance(task.get("annotations", []), list):
            problems.append(_misfit(src, f"task {task.get('id', i)}: annotations is "
                                         f"{type(task['annotations']).__name__}, not a list"))
            continue
        data = task["data"]
        doc_id = str(data.get("doc_id", data.get("id", "")))
        if doc_id not in docs:
            problems.append(Problem("W503", Location(path=src), f"task {task.get('id', i)} names document "
                                    f"{doc_id!r}, which is not in the corpus of this run; ignored"))
            continue
        anns = [a for a in task.get("annotations") or () if isinstance(a, dict)]
        original = {span_key(s) for s in docs[doc_id].spans or ()}
        live = [a for a in anns if not a.get("was_cancelled")]
        acted = [a for a in live if touched(a, original, where)]
        findings = by_doc.get(doc_id, ())
        if not acted:
            if len(live) < len(anns) and findings:
                problems.append(Problem("W512", Location(path=src, doc_id=doc_id),
                                        f"task {task.get('id', i)} was skipped in Label Studio; its "
                                        f"{len(findings)} findings stay not reviewed"))
            continue
        finals = {frozenset(_regions(a, where)) for a in acted}
        if len(finals) > 1:
            reviewers = ", ".join(sorted({str(_reviewer(a, names, reviewer)) for a in acted}))
            problems.append(Problem("W511", Location(path=src, doc_id=doc_id),
                                    f"task {task.get('id', i)} has {len(acted)} annotations with different spans "
                                    f"(by {reviewers}); none is applied, its {len(findings)} findings stay not "
                                    "reviewed"))
            continue
        ann = max(enumerate(acted), key=lambda ia: (str(ia[1].get("updated_at") or ""), ia[0]))[1]
        final = _regions(ann, where)
        who, when = _reviewer(ann, names, reviewer), ann.get("updated_at")
        decided, unexplained = compare_review(findings, final, original, who=who, when=when, source=src,
                                              tool="Label Studio")
        out += decided
        problems += unexplained_problems(unexplained, final, src, docs[doc_id])
    return out, problems


def decisions_from_argilla(records: Iterable[Mapping[str, Any]], run: Run, *, where: str = "argilla export",
                           reviewer: str | None = None, users: Mapping[str, str] | None = None,
                           ) -> tuple[list[Decision], list[Problem]]:
    """Decisions from Argilla records (``Record.to_dict()`` / ``dataset.records.to_json``) of the ``spans``
    question: a record with no submitted response is not reviewed (a discarded one is ``W512``), responses of
    several users that differ are ``W511``, otherwise the submitted spans are compared with the document's
    findings exactly as a Label Studio annotation is (:func:`compare_review`)."""
    docs = run.corpus().by_id()
    by_doc = run.by_doc()
    out: list[Decision] = []
    problems: list[Problem] = []
    for i, rec in enumerate(records):
        src = f"{where}[{i}]"
        if not isinstance(rec, dict):
            problems.append(_misfit(src, f"item {i} is {type(rec).__name__}, not an Argilla record"))
            continue
        raw_meta = rec.get("metadata")
        meta = raw_meta if isinstance(raw_meta, dict) else {}
        doc_id = str(meta.get("doc_id", rec.get("id", "")))
        if doc_id not in docs:
            problems.append(Problem("W503", Location(path=src), f"record {rec.get('id')} names document "
                                    f"{doc_id!r}, which is not in the corpus of this run; ignored"))
            continue
        if not isinstance(rec.get("responses") or {}, dict):
            problems.append(_misfit(src, f"record {rec.get('id')}: responses must be an object keyed by question"))
            continue
        default = "draft" if rec.get("status") == "pending" else "submitted"
        responses = (rec.get("responses") or {}).get(ARGILLA_QUESTION) or []
        if not isinstance(responses, list) or not all(isinstance(r, dict) for r in responses):
            problems.append(_misfit(src, f"record {rec.get('id')}: responses.{ARGILLA_QUESTION} must be a list of "
                                         "responses"))
            continue
        submitted = [r for r in responses if r.get("status", default) == "submitted"]
        findings = by_doc.get(doc_id, ())
        if not submitted:
            if any(r.get("status") == "discarded" for r in responses) and findings:
                problems.append(Problem("W512", Location(path=src, doc_id=doc_id),
                                        f"record {rec.get('id')} was discarded in Argilla; its {len(findings)} "
                                        "findings stay not reviewed"))
            continue
        finals = []
        for r in submitted:
            value = r.get("value") or []
            if not (isinstance(value, list) and all(isinstance(v, dict) and is_int(v.get("start"))
                                                    and is_int(v.get("end")) and isinstance(v.get("label"), str)
                                                    for v in value)):
                problems.append(_misfit(src, f"record {rec.get('id')}: a {ARGILLA_QUESTION} response needs "
                                             f"[{{start, end, label}}], not {json.dumps(value)[:80]}"))
                break
            finals.append(frozenset((((v["start"], v["end"]),), v["label"]) for v in value))
        if len(finals) < len(submitted):
            continue
        names = dict(users or {})
        who_all = sorted({names.get(str(r.get("user_id")), reviewer or f"argilla user {r.get('user_id')}")
                          for r in submitted})
        if len(set(finals)) > 1:
            problems.append(Problem("W511", Location(path=src, doc_id=doc_id),
                                    f"record {rec.get('id')} has {len(submitted)} submitted responses with different "
                                    f"spans (by {', '.join(who_all)}); none is applied"))
            continue
        original = {span_key(s) for s in docs[doc_id].spans or ()}
        decided, unexplained = compare_review(findings, set(finals[0]), original, who=", ".join(who_all), when=None,
                                              source=src, tool="Argilla")
        out += decided
        problems += unexplained_problems(unexplained, set(finals[0]), src, docs[doc_id])
    return out, problems


def compare_review(findings: Iterable[Finding], final: set[tuple], original: set[tuple], *, who: str | None,
                   when: str | None, source: str, tool: str) -> tuple[list[Decision], set[tuple]]:
    """The decisions a reviewer's ``final`` spans of one document make on its ``findings`` (rules in
    :func:`decisions_from_labelstudio`), and the changed spans no finding explains (span keys)."""
    findings = list(findings)
    out: list[Decision] = []
    fits = [f for f in findings if (f.added or f.removed) and {span_key(s) for s in f.added} <= final
            and not {span_key(s) for s in f.removed} & final]
    suggested = {span_key(s) for f in fits for s in f.added}
    # exact: the fix is there and no other new span near it (a delete whose span came back relabelled is an edit)
    exact = {f.id for f in fits if not _near(f, final - original - suggested)}
    explained = {span_key(s) for f in findings if f.id in exact for s in f.added + f.removed}
    by_exact = set(explained)  # spans an exactly accepted fix accounts for belong to that finding only
    for f in findings:
        labels = {span_key(s) for s in f.labels}
        new = _near(f, final - original - by_exact)
        if f.id in exact:
            out.append(Decision(f.id, "accept", reviewer=who, source=source, time=when))
        elif new or labels - final:
            keep = sorted((labels & final) | new)
            out.append(Decision(f.id, "accept", reviewer=who, source=source, time=when, reason=f"edited in {tool}",
                                spans=tuple((k[0][0][0], k[0][-1][1], k[1]) for k in keep)))
            explained |= new | labels
        else:
            out.append(Decision(f.id, "reject", reviewer=who, source=source, time=when))
    return out, (final ^ original) - explained


def unexplained_problems(keys: set[tuple], final: set[tuple], source: str, doc: Any) -> list[Problem]:
    """One ``W506`` per span (key) the review added or removed that no finding's fix explains."""
    out = []
    for key in sorted(keys):
        (a, b), lab = key[0][0], key[1]
        out.append(Problem("W506", Location(path=source, doc_id=doc.id, start=a, end=b, excerpt=doc.text[a:b]),
                           f"{lab} span {'added' if key in final else 'removed'} in the review matches no "
                           "finding's fix"))
    return out


def _near(f: Finding, keys: set[tuple]) -> set[tuple]:
    """The keys among ``keys`` whose characters overlap the finding's labelled or suggested spans."""
    a, b = f.start, f.end
    return {k for k in keys if any(x < b and a < y for x, y in k[0])}


def resolve(decisions: Iterable[Decision]) -> tuple[dict[str, Decision], list[Problem]]:
    """One decision per finding id; contradicting ones (``W507``) leave the finding undecided.

    Repeated identical decisions are kept once (the first).
    """
    seen: dict[str, Decision] = {}
    bad: set[str] = set()
    problems: list[Problem] = []
    for d in decisions:
        prev = seen.get(d.finding_id)
        if prev is None:
            seen[d.finding_id] = d
        elif (prev.decision, prev.label, prev.start, prev.end) != (d.decision, d.label, d.start, d.end):
            if d.finding_id not in bad:
                problems.append(Problem("W507", Location(path=d.source),
                                        f"finding {d.finding_id}: {prev.decision} at {prev.source} vs "
                                        f"{d.decision} at {d.source}"))
            bad.add(d.finding_id)
    return {k: v for k, v in seen.items() if k not in bad}, problems


__all__ = ["ARGILLA_QUESTION", "Decision", "Verdict", "compare_review", "decisions_from_argilla",
           "decisions_from_labelstudio", "json_format", "read_decisions", "resolve", "touched", "unexplained_problems",
           "user_names"]
