"""Apply accepted fixes to a copy of the audited corpus: a new version with a change log.

A finding's fix replaces its ``labels`` spans by its ``suggestion`` spans (only the
difference is touched: :attr:`Finding.removed` go, :attr:`Finding.added` come in).
An accepted decision with a ``label``/``start``/``end`` override replaces the
suggestion by that one span.  For each document, in order:

1. **Check.**  Every span of the fix must match the corpus text (``W501``
   otherwise: the run is stale).  When the removed spans are all in the corpus the
   fix is *pending*; when none is and all added spans are, it is *already applied*
   (``W505``, nothing logged twice - so applying twice changes nothing).
2. **Conflicts.**  Two pending fixes conflict when their spans share a character
   or they remove the same span; every fix of such a group is left out with
   ``W502`` (never guessed).  Two findings with the very same fix are one change,
   logged under the first, the second reported ``W505``.
3. **Apply.**  Removed spans go, added spans come in.  A one-for-one change keeps the
   old span's id, annotator and metadata (so brat relations and notes still point at
   it); other new spans get a fresh brat ``T`` id when the document uses them.

``--all-above T`` accepts every finding that has a fix and whose
:attr:`~spanqa.run.reader.Finding.confidence` (``evidence.p_suggestion``, the
out-of-fold model's probability that the suggested spans are right; ``1 - score``
when absent) is **strictly greater** than ``T``.  An explicit decision on the same
finding wins over the threshold.

The new version (:func:`write_version`) is a folder::

    OUT/<name of the source>   the corpus, in the source format (or the one asked for)
    OUT/changelog.jsonl        one applied change a line: finding_id, doc_id, kind, action,
                               before, after (spans with text), reviewer, time, reason
    OUT/VERSION.json           parent (path, format, hash), hash, counts, time, run
    OUT/problems.jsonl         every problem met (W501 stale, W502 conflict, W505 already applied, ...)
    OUT/rejections.jsonl       every rejected finding (spans, reviewer, time, reason), with the parent version's:
                               auditing this version does not raise them again (spanqa.score.rejections)

Why one module of ~480 lines: the fix, its override forms, the new span ids and the change log must stay consistent
with each other.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from spanqa._moved import renamed
from spanqa.core.document import Corpus, Document, corpus_hash
from spanqa.core.errors import Location, Problem, SpanqaError, fail
from spanqa.core.output import contained, inside, write_text
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.formats._text import json_lines
from spanqa.review.decisions import Decision, resolve
from spanqa.run.reader import Finding, Run, span_key

_T_NUM = re.compile(r"^T(\d+)$")
REJECTIONS = "rejections.jsonl"
#: span metadata tied to the old offsets, dropped when a one-for-one change moves a span
OFFSET_META = frozenset({"text", "token_start", "token_end", "brat_tail"})


@dataclass(frozen=True)
class AppliedFix:
    """One applied fix: the spans before and after, who decided and why."""

    finding_id: str
    doc_id: str
    kind: str
    action: str
    before: tuple[Span, ...]
    after: tuple[Span, ...]
    reviewer: str | None = None
    reason: str | None = None
    time: str | None = None
    decision_source: str | None = None

    def to_dict(self, text: str) -> dict[str, Any]:
        return {"finding_id": self.finding_id, "doc_id": self.doc_id, "kind": self.kind, "action": self.action,
                "before": [s.to_dict(text) for s in self.before], "after": [s.to_dict(text) for s in self.after],
                "reviewer": self.reviewer, "time": self.time, "reason": self.reason,
                "decision_source": self.decision_source}


@dataclass(frozen=True)
class ApplyResult:
    """The new corpus, the changes made, the problems met, the counts and the reviewers for ``VERSION.json``.

    ``counts``: decisions read, accepted (of which ``edited``: the reviewer changed the
    suggested spans), rejected, ``not_reviewed`` (findings without a decision), applied and
    why the others were not; ``reviewers``: decisions per reviewer name.
    """

    corpus: Corpus
    changes: tuple[AppliedFix, ...]
    problems: tuple[Problem, ...]
    counts: Mapping[str, int] = field(default_factory=dict)
    reviewers: Mapping[str, int] = field(default_factory=dict)
    rejections: tuple[Mapping[str, Any], ...] = ()


def threshold_decisions(run: Run, threshold: float, *, reviewer: str | None = None) -> list[Decision]:
    """``accept`` for every finding with a fix whose confidence is strictly above ``threshold``."""
    return [Decision(f.id, "accept", reviewer=reviewer or "spanqa --all-above",
                     reason=f"confidence {f.confidence:.4f} > {threshold:g}", source="--all-above")
            for f in run.findings if f.has_fix and f.confidence > threshold]


def _fix(f: Finding, d: Decision) -> tuple[tuple[Span, ...], tuple[Span, ...]] | None:
    """``(removed, added)`` of an accepted finding, override applied; ``None`` when there is nothing to do."""
    if not d.has_override:
        return (f.removed, f.added) if f.has_fix else None
    if d.spans is not None:  # the reviewer's final spans for the finding replace its labelled ones
        final = [Span(f.doc_id, a, b, lab) for a, b, lab in d.spans]
        keys = {span_key(s) for s in final}
        have = {span_key(s) for s in f.labels}
        return (tuple(s for s in f.labels if span_key(s) not in keys),
                tuple(s for s in final if span_key(s) not in have))
    base = f.suggestion[0] if len(f.suggestion) == 1 else None
    ref = f.suggestion or f.labels
    if base is None and not ref:
        if d.label is None or d.start is None or d.end is None:
            return None
        base = Span(f.doc_id, d.start, d.end, d.label)
    elif base is None:
        base = Span(f.doc_id, min(s.start for s in ref), max(s.end for s in ref), ref[0].label)
    new = Span(f.doc_id, d.start if d.start is not None else base.start, d.end if d.end is not None else base.end,
               d.label or base.label)
    keys = {span_key(new)}
    return (tuple(s for s in f.labels if span_key(s) not in keys),
            (new,) if span_key(new) not in {span_key(s) for s in f.labels} else ())


def _footprint(spans: Iterable[Span]) -> list[tuple[int, int]]:
    return [p for s in spans for p in s.pieces]


def _touch(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(x < w and v < y for x, y in a for v, w in b)


def _fresh_ids(doc: Document, count: int) -> list[str | None]:
    ids = [s.id for s in doc.spans or ()]
    matches = [_T_NUM.match(i) if i else None for i in ids]
    if not ids or not all(matches):
        return [None] * count
    used = [int(m.group(1)) for m in matches if m]
    for line in doc.meta.get("brat_other_lines", ()) if doc.meta else ():
        m = _T_NUM.match(str(line).split("\t", 1)[0])
        if m:
            used.append(int(m.group(1)))
    top = max(used, default=0)
    return [f"T{top + k}" for k in range(1, count + 1)]


def _clean(s: Span) -> Span:
    """A suggested span as it goes into the corpus: no run bookkeeping in ``meta``."""
    return Span(s.doc_id, s.start, s.end, s.label, fragments=s.fragments)


def _matches_text(s: Span, text: str) -> bool:
    if not (0 <= s.start < s.end <= len(text)):
        return False
    rec = s.meta.get("text") if s.meta else None
    return rec is None or rec == s.text_in(text) or " ".join(rec.split()) == " ".join(s.text_in(text).split())


def expand_patterns(chosen: Mapping[str, Decision], known: Mapping[str, Finding],
                    problems: list[Problem]) -> tuple[dict[str, Decision], int]:
    """A decision on a ``pattern`` finding (:mod:`spanqa.score.patterns`) decides each of its members that has no decision
    of its own; a label override carries over, an offset override cannot (``W513``, the pattern's label alone is
    used).  Returns the decisions with the members' added and how many were added."""
    out = dict(chosen)
    added = 0
    for fid, d in chosen.items():
        f = known.get(fid)
        if f is None or f.kind != "pattern":
            continue
        if d.start is not None or d.end is not None or d.spans is not None:
            problems.append(Problem("W513", Location(path=d.source, doc_id=f.doc_id, start=f.start, end=f.end),
                                    f"pattern {fid}: offsets cannot apply to all {len(_members(f))} occurrences"))
        for member in _members(f):
            if member in out or member not in known:
                continue
            reason = f"pattern {fid}" + (f": {d.reason}" if d.reason else "")
            out[member] = Decision(member, d.decision, label=d.label, reviewer=d.reviewer, reason=reason,
                                   source=d.source, time=d.time)
            added += 1
    return out, added


def _members(f: Finding) -> list[str]:
    return [str(m["id"]) for m in f.evidence.get("members") or () if isinstance(m, Mapping) and "id" in m]


def apply_decisions(run: Run, decisions: Iterable[Decision], *, reviewer: str | None = None,
                    corpus: Corpus | None = None, time: str | None = None) -> ApplyResult:
    """Apply the accepted decisions to ``corpus`` (default: the run's corpus) and return the new version.

    ``reviewer`` fills decisions that name none.  ``time`` (ISO 8601) stamps the
    changes (default: now, UTC).  The input corpus is never modified.
    """
    corpus = corpus if corpus is not None else run.corpus()
    time = time or datetime.now(timezone.utc).isoformat(timespec="seconds")
    chosen, problems = resolve(decisions)
    known = {f.id: f for f in run.findings}
    counts: Counter[str] = Counter(decisions=len(chosen))
    chosen, counts["pattern_members"] = expand_patterns(chosen, known, problems)
    for fid, d in chosen.items():
        if fid not in known:
            problems.append(Problem("W503", Location(path=d.source), f"finding {fid} is not in {run.path}"))
            counts["unknown"] += 1
    counts["accepted"] = sum(d.decision == "accept" for fid, d in chosen.items() if fid in known)
    counts["edited"] = sum(d.edited for fid, d in chosen.items() if fid in known)
    counts["rejected"] = sum(d.decision == "reject" for fid, d in chosen.items() if fid in known)
    counts["not_reviewed"] = sum(1 for f in run.findings if f.id not in chosen)
    reviewers = Counter(d.reviewer or reviewer or "(unnamed)" for fid, d in chosen.items() if fid in known)
    docs = corpus.by_id()
    pending: dict[str, list[tuple[Finding, Decision, tuple[Span, ...], tuple[Span, ...]]]] = {}
    order = {f.id: i for i, f in enumerate(run.ranked())}
    for fid in sorted((i for i, d in chosen.items() if i in known and d.decision == "accept"), key=order.__getitem__):
        f, d = known[fid], chosen[fid]
        if f.kind == "pattern":     # decided through its members (expand_patterns)
            continue
        where: dict[str, Any] = dict(path=d.source, doc_id=f.doc_id, start=f.start, end=f.end)
        doc = docs.get(f.doc_id)
        if doc is None or doc.spans is None:
            problems.append(Problem("W501", Location(**where), f"finding {fid}: document "
                                    f"{'is not in the corpus' if doc is None else 'is not annotated'}"))
            counts["stale"] += 1
            continue
        fix = _fix(f, d)
        if fix is None:
            problems.append(Problem("W504", Location(**where, excerpt=doc.text[f.start:f.end]),
                                    f"finding {fid} ({f.kind}, action {f.action}) suggests no spans"))
            counts["no_fix"] += 1
            continue
        removed, added = fix
        outside = [s for s in added if not 0 <= s.start < s.end <= len(doc.text)]
        if d.has_override and outside:
            s = outside[0]
            problems.append(Problem("W510", Location(**{**where, "start": s.start, "end": s.end}),
                                    f"finding {fid}: override {s.start}-{s.end} for a document of "
                                    f"{len(doc.text)} characters"))
            counts["bad_override"] += 1
            continue
        bad = [s for s in f.labels + added if not _matches_text(s, doc.text)]
        if bad:
            s = bad[0]
            problems.append(Problem("W501", Location(**{**where, "start": s.start, "end": s.end},
                                                     excerpt=doc.text[s.start:s.end]),
                                    f"finding {fid}: {s.label} span recorded as {s.meta.get('text')!r}"))
            counts["stale"] += 1
            continue
        have = {span_key(s) for s in doc.spans}
        if all(span_key(s) in have for s in removed) and not (removed == () and
                                                               all(span_key(s) in have for s in added)):
            pending.setdefault(f.doc_id, []).append((f, d, removed, added))
        elif all(span_key(s) in have for s in added) and not any(span_key(s) in have for s in removed):
            problems.append(Problem("W505", Location(**where, excerpt=doc.text[f.start:f.end]),
                                    f"finding {fid}: the corpus already holds the fix"))
            counts["already_applied"] += 1
        else:
            problems.append(Problem("W501", Location(**where, excerpt=doc.text[f.start:f.end]),
                                    f"finding {fid}: its labelled spans are not in the corpus"))
            counts["stale"] += 1
    changes: list[AppliedFix] = []
    new_docs: dict[str, Document] = {}
    for doc_id, items in pending.items():
        doc = docs[doc_id]
        # duplicates: the very same fix twice
        uniq: list[tuple[Finding, Decision, tuple[Span, ...], tuple[Span, ...]]] = []
        for it in items:
            sig = (frozenset(map(span_key, it[2])), frozenset(map(span_key, it[3])))
            dup = next((u for u in uniq if (frozenset(map(span_key, u[2])), frozenset(map(span_key, u[3]))) == sig),
                       None)
            if dup is not None:
                problems.append(Problem("W505", Location(path=it[1].source, doc_id=doc_id, start=it[0].start,
                                                         end=it[0].end),
                                        f"finding {it[0].id} has the same fix as {dup[0].id}, applied once"))
                counts["duplicate"] += 1
            else:
                uniq.append(it)
        # conflicts: connected groups of overlapping fixes
        feet = [_footprint(it[2] + it[3]) for it in uniq]
        rem = [set(map(span_key, it[2])) for it in uniq]
        clash = {i for i in range(len(uniq)) for j in range(len(uniq))
                 if i != j and (_touch(feet[i], feet[j]) or rem[i] & rem[j])}
        if clash:
            ids = [uniq[i][0].id for i in sorted(clash)]
            a = min(uniq[i][0].start for i in clash)
            b = max(uniq[i][0].end for i in clash)
            problems.append(Problem("W502", Location(doc_id=doc_id, start=a, end=b, excerpt=doc.text[a:b]),
                                    f"findings {', '.join(ids)} edit overlapping spans"))
            counts["conflicts"] += len(clash)
        spans = list(doc.spans or ())
        for i, (f, d, removed, added) in enumerate(uniq):
            if i in clash:
                continue
            gone = {span_key(s) for s in removed}
            old = [s for s in spans if span_key(s) in gone]
            spans = [s for s in spans if span_key(s) not in gone]
            new = [_clean(s) for s in added]
            if len(old) == 1 and len(new) == 1:
                o = old[0]
                meta = o.meta if o.pieces == new[0].pieces else {
                    k: v for k, v in o.meta.items() if k not in OFFSET_META}
                new = [new[0].evolve(id=o.id, annotator=o.annotator, meta=meta)]
            else:
                doc_now = doc.evolve(spans=tuple(spans))
                new = [s.evolve(id=i) for s, i in zip(new, _fresh_ids(doc_now, len(new)))]
            spans.extend(new)
            kept = {s.id for s in new if s.id}
            for o in old:
                refs = [line for line in (doc.meta or {}).get("brat_other_lines", ()) if o.id and o.id not in kept
                        and re.search(rf"(?<![\w#]){re.escape(o.id)}(?!\w)", str(line).split("\t", 1)[-1])]
                if refs:
                    problems.append(Problem("W508", Location(path=d.source, doc_id=doc_id, start=o.start, end=o.end,
                                                             excerpt=doc.text[o.start:o.end]),
                                            f"finding {f.id} removed {o.id}, still used by: {'; '.join(refs)[:120]}"))
            changes.append(AppliedFix(f.id, doc_id, f.kind, f.action, sort_spans(old), sort_spans(new),
                                  d.reviewer or reviewer, d.reason, d.time or time, d.source))
            counts["applied"] += 1
        new_docs[doc_id] = doc.evolve(spans=sort_spans(spans))
    new_corpus = corpus.evolve(documents=tuple(new_docs.get(d.id, d) for d in corpus.documents), problems=())
    counts["documents_changed"] = sum(1 for i, d in new_docs.items() if d.spans != docs[i].spans)
    counts["spans_before"] = sum(len(d.spans or ()) for d in corpus.documents)
    counts["spans_after"] = sum(len(d.spans or ()) for d in new_corpus.documents)
    keys = ("decisions", "pattern_members", "accepted", "edited", "rejected", "not_reviewed", "applied",
            "already_applied", "duplicate",
            "conflicts", "stale", "no_fix", "bad_override", "unknown", "documents_changed", "spans_before",
            "spans_after")
    from spanqa.score.rejections import record

    rejections = tuple(record(known[fid], replace(d, reviewer=d.reviewer or reviewer), docs[known[fid].doc_id].text,
                              d.time or time)
                       for fid, d in chosen.items() if d.decision == "reject" and fid in known
                       and known[fid].kind != "pattern" and known[fid].doc_id in docs)
    return ApplyResult(new_corpus, tuple(changes), tuple(problems), {k: int(counts.get(k, 0)) for k in keys},
                       dict(sorted(reviewers.items())), rejections)


# --------------------------------------------------------------------------- writing a version
def _prepare_out(out: Path, source: Path | None) -> dict[str, Any] | None:
    """Check ``out`` is safe to write (``E505``); return an earlier ``VERSION.json`` found there."""
    if source is not None and (inside(out, source) or inside(source, out)):
        raise fail("E505", f"{out} and the source corpus {source} overlap; the source is never touched",
                   path=str(out))
    if out.exists() and not out.is_dir():
        raise fail("E505", f"{out} is a file", path=str(out))
    if out.exists() and any(out.iterdir()):
        vpath = out / "VERSION.json"
        if not vpath.exists():
            raise fail("E505", f"{out} is not empty and holds no VERSION.json from an earlier apply", path=str(out))
        try:
            return json.loads(vpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise fail("E505", f"{vpath} is not valid JSON", path=str(vpath)) from None
    return None


def write_version(result: ApplyResult, out: str | Path, *, parent: Corpus, run: Run | None = None,
                  format: str | None = None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``result`` as a new corpus version under ``out`` (layout in the module docstring).

    Re-running into a folder an earlier apply wrote replaces that version; entries of
    the change log that did not change keep their time, and ``created`` is kept when
    the content hash is the same, so the same decisions give byte-identical files.
    Returns the ``VERSION.json`` record.
    """
    from spanqa._version import __version__
    from spanqa.corpus.formats import write_corpus

    out = Path(out)
    source = Path(parent.source) if parent.source else None
    previous = _prepare_out(out, source)
    fmt = format or (parent.format if parent.format not in (None, "", "unknown") else "jsonl")
    name = source.resolve().name if source is not None else f"corpus.{fmt}"
    if fmt != parent.format and source is not None and source.suffix:
        name = source.stem + {"brat": "", "jsonl": ".jsonl", "labelstudio": ".json", "conll": ".conll",
                              "pubtator": ".pubtator"}.get(fmt, "." + fmt)
    target = out / name
    for path in (target, out / "changelog.jsonl", out / "problems.jsonl", out / "VERSION.json", out / REJECTIONS):
        contained(path, out)  # refuse (E410) before anything is removed or written, not half-way
    if previous is not None:
        old = out / str((previous.get("corpus") or {}).get("path", ""))
        if old != out and inside(old, out):
            shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    write_corpus(result.corpus, target, fmt)
    texts = {d.id: d.text for d in parent.documents}
    old_times: dict[str, Any] = {}  # the "time" of each old entry, as read
    log = out / "changelog.jsonl"
    if previous is not None and log.is_file() and inside(log, out):  # a link out of --out is not read (nor written)
        try:
            for _, rec in json_lines(log.read_bytes().decode("utf-8"), code="E502", path=str(log)):
                old_times[json.dumps({k: v for k, v in rec.items() if k != "time"}, sort_keys=True)] = rec.get("time")
        except (SpanqaError, UnicodeDecodeError):
            old_times = {}  # only keeps the times of unchanged entries: a damaged old log just loses them
    lines = []
    for ch in result.changes:
        rec = ch.to_dict(texts[ch.doc_id])
        sig = json.dumps({k: v for k, v in rec.items() if k != "time"}, sort_keys=True)
        rec["time"] = old_times.get(sig, rec["time"])
        lines.append(json.dumps(rec, ensure_ascii=False))
    write_text(log, "".join(line + "\n" for line in lines), root=out)
    write_text(out / "problems.jsonl", "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n"
                                               for p in result.problems), root=out)
    from spanqa.score.rejections import load as load_rejections
    from spanqa.score.rejections import merge

    carried = load_rejections(parent.source)
    rejections = merge(carried, result.rejections)
    if previous is not None:  # re-applying the same decisions keeps each rejection's first time (byte-identical)
        before = {json.dumps({k: v for k, v in r.items() if k != "time"}, sort_keys=True): r.get("time")
                  for r in load_rejections(out / "VERSION.json")}
        for r in rejections:
            r["time"] = before.get(json.dumps({k: v for k, v in r.items() if k != "time"}, sort_keys=True), r["time"])
    write_text(out / REJECTIONS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejections), root=out)
    new_hash = corpus_hash(result.corpus)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if previous is not None and previous.get("hash") == new_hash and previous.get("created"):
        created = previous["created"]
    version = {
        "spanqa_version": __version__,
        "created": created,
        "parent": {"path": str(source.resolve()) if source else None, "format": parent.format,
                   "hash": corpus_hash(parent)},
        "hash": new_hash,
        "corpus": {"path": name, "format": fmt},
        "run": str(run.path.resolve()) if run is not None else None,
        "counts": dict(result.counts),
        "reviewers": dict(result.reviewers),
        "rejections": {"total": len(rejections), "new": len(result.rejections), "carried": len(carried),
                       "reviewers": dict(sorted(Counter(str(r.get("reviewer") or "(unnamed)")
                                                        for r in rejections).items())),
                       "file": REJECTIONS},
        "problems": dict(sorted(Counter(p.code for p in result.problems).items())),
        **dict(extra or {}),
    }
    write_text(out / "VERSION.json", json.dumps(version, indent=2, ensure_ascii=False) + "\n", root=out)
    return version


def changed_spans(changes: Sequence[AppliedFix]) -> tuple[set[tuple], set[tuple]]:
    """``({(doc_id, pieces, label)} removed, {...} added)`` over all changes (for tests and summaries)."""
    rem = {(c.doc_id,) + span_key(s) for c in changes for s in c.before}
    add = {(c.doc_id,) + span_key(s) for c in changes for s in c.after}
    return rem, add


def apply_run(run: Run, out: str | Path, *, accept: str | Path | None = None, all_above: float | None = None,
              reviewer: str | None = None, format: str | None = None,
              users: str | Path | None = None) -> tuple[ApplyResult, dict[str, Any]]:
    """``spanqa apply``: read the decisions, add the ``--all-above`` ones, apply, write the version.

    Explicit decisions from ``accept`` win over the threshold.  Raises ``E504`` when
    neither is given and ``E506`` when every accepted fix is stale (another corpus).
    Returns the result and the ``VERSION.json`` record.
    """
    from spanqa.review.decisions import read_decisions

    if accept is None and all_above is None:
        raise fail("E504", "give --accept DECISIONS, --all-above SCORE, or both")
    decisions: list[Decision] = []
    problems: list[Problem] = []
    if accept is not None:
        decisions, problems = read_decisions(accept, run=run, reviewer=reviewer, users=users)
    if all_above is not None:
        explicit = {d.finding_id for d in decisions}
        decisions += [d for d in threshold_decisions(run, all_above, reviewer=reviewer) if d.finding_id not in explicit]
    parent = run.corpus()
    result = apply_decisions(run, decisions, reviewer=reviewer, corpus=parent)
    c = result.counts
    if c["accepted"] and c["stale"] == c["accepted"]:
        first = next(p for p in result.problems if p.code == "W501")
        raise fail("E506", f"none of the {c['accepted']} accepted findings matches the corpus "
                   f"(first: {first.detail})", path=parent.source)
    counts = dict(result.counts, skipped_tasks=sum(p.code == "W512" for p in problems),
                  disagreeing_tasks=sum(p.code == "W511" for p in problems))
    result = ApplyResult(result.corpus, result.changes, tuple(problems) + result.problems, counts, result.reviewers,
                         result.rejections)
    extra = {"decisions": str(Path(accept).resolve()) if accept is not None else None, "all_above": all_above}
    version = write_version(result, out, parent=parent, run=run, format=format, extra=extra)
    return result, version

__getattr__ = renamed(__name__, {"Change": "AppliedFix"})  # old names, for one release


__all__ = ["AppliedFix", "ApplyResult", "OFFSET_META", "REJECTIONS", "apply_decisions", "apply_run", "changed_spans",
           "expand_patterns", "threshold_decisions", "write_version"]
