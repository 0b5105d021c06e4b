"""Rejections are remembered: a finding a reviewer rejected is not raised again on that corpus version.

``spanqa apply`` writes ``rejections.jsonl`` into the new version folder, beside ``VERSION.json``: one record per
rejected finding (document, kind, the labelled and the suggested spans with their text, the model's confidence in
the suggestion then, reviewer, time, reason), plus every rejection the parent version carried. When
``spanqa audit`` reads a corpus that sits in such a folder, a finding with the same document, kind, labelled spans
and suggested spans (and the same text under them) is **suppressed**: left out of ``findings.jsonl``, written to
``suppressed.jsonl`` with who rejected it and why, and counted in ``summary.json`` (``findings.suppressed``) -
unless its evidence changed: when the model's confidence in the suggestion rose by :data:`DELTA` or more since the
rejection, the finding is raised again with ``evidence.rejected_before`` saying so.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

FILE = "rejections.jsonl"
SUPPRESSED = "suppressed.jsonl"
DELTA = 0.15  # a rise of the model's confidence in the suggestion that makes a rejected finding new evidence


def _spans(spans: Iterable[Any], text: str) -> list[dict[str, Any]]:
    return [{"start": s.start, "end": s.end, "label": s.label, "text": text[s.start:s.end]} for s in spans]


def key(doc_id: str, kind: str, labels: Iterable[Mapping[str, Any]], suggestion: Iterable[Mapping[str, Any]]) -> str:
    """What makes two findings the same finding: document, kind, and the spans (offsets, label, text) on both sides."""
    side = lambda spans: sorted((s["start"], s["end"], s["label"], s.get("text")) for s in spans)  # noqa: E731
    return json.dumps([doc_id, kind, side(labels), side(suggestion)], ensure_ascii=False)


def confidence(evidence: Mapping[str, Any], score: float) -> float:
    return float(evidence.get("p_suggestion", evidence.get("p_entity", 1 - score)) or 0.0)


def record(f: Any, decision: Any, text: str, time: str) -> dict[str, Any]:
    """The rejection record of finding ``f`` (:class:`spanqa.run.reader.Finding`) rejected by ``decision``."""
    return {"finding_id": f.id, "doc_id": f.doc_id, "kind": f.kind, "action": f.action,
            "labels": _spans(f.labels, text), "suggestion": _spans(f.suggestion, text),
            "confidence": round(confidence(f.evidence, f.score), 6), "reviewer": decision.reviewer,
            "time": time, "reason": decision.reason, "decision_source": decision.source}


def version_folder(source: str | Path | None) -> Path | None:
    """The version folder a corpus path sits in (the folder holding ``VERSION.json``), if any."""
    if not source:
        return None
    p = Path(source)
    for folder in ([p.parent] if p.is_file() else [p.parent, p]):
        if (folder / "VERSION.json").is_file():
            return folder
    return None


def load(source: str | Path | None) -> list[dict[str, Any]]:
    """The rejections of the version a corpus path sits in (empty when it is not in a version folder)."""
    folder = version_folder(source)
    if folder is None or not (folder / FILE).is_file():
        return []
    out = []
    for line in (folder / FILE).read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a damaged line cannot suppress anything; the finding is raised (nothing hidden)
    return out


def merge(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The parent's rejections and the new ones, one per finding key (the newest wins)."""
    out: dict[str, dict[str, Any]] = {}
    for r in [*old, *new]:
        out[key(r["doc_id"], r["kind"], r.get("labels") or (), r.get("suggestion") or ())] = dict(r)
    return list(out.values())


def suppress(records: Sequence[dict[str, Any]], rejections: Sequence[Mapping[str, Any]]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Split finding records (``findings.jsonl`` lines) into kept and suppressed; a finding whose confidence rose
    by ``DELTA`` or more since its rejection is kept, marked ``evidence.rejected_before``. Returns
    ``(kept, suppressed, raised_again)``; a pattern is suppressed when every member is."""
    by_key = {key(r["doc_id"], r["kind"], r.get("labels") or (), r.get("suggestion") or ()): r for r in rejections}
    kept, gone, again = [], [], 0
    gone_ids: set[str] = set()
    for rec in records:
        if rec.get("kind") == "pattern":
            continue
        rej = by_key.get(key(rec["doc_id"], rec["kind"], rec.get("labels") or (), rec.get("suggestion") or ()))
        if rej is None:
            continue
        now = confidence(rec.get("evidence") or {}, float(rec.get("score", 0.0)))
        then = float(rej.get("confidence") or 0.0)
        who = {k: rej.get(k) for k in ("reviewer", "time", "reason")}
        if now - then >= DELTA:
            rec.setdefault("evidence", {})["rejected_before"] = {**who, "confidence_then": then,
                                                                 "confidence_now": round(now, 6)}
            again += 1
        else:
            gone_ids.add(rec["id"])
            gone.append({**rec, "suppressed": {**who, "rule": f"rejected before; confidence {now:.2f} now vs "
                                                             f"{then:.2f} then (raised again from +{DELTA:g})"}})
    for rec in records:
        if rec.get("kind") == "pattern":
            members = [str(m.get("id")) for m in (rec.get("evidence") or {}).get("members") or ()]
            if members and all(m in gone_ids for m in members):
                gone.append({**rec, "suppressed": {"rule": "every member was rejected before"}})
                continue
        if rec["id"] not in gone_ids:
            kept.append(rec)
    return kept, gone, again


def forget(records: Sequence[dict[str, Any]], summary: dict[str, Any], source: str | Path | None
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]] | None:
    """Suppress the rejected findings among finding ``records`` in memory (module docstring) and count them in
    ``summary`` (changed in place); returns ``(kept, suppressed, entry)``, or None when the corpus is not in a
    version folder with rejections."""
    rejections = load(source)
    if not rejections:
        return None
    kept, gone, again = suppress(records, rejections)
    entry = {"count": len(gone), "raised_again": again, "rejections": len(rejections), "file": SUPPRESSED,
             "by_reviewer": dict(Counter(str((r["suppressed"].get("reviewer") or "(unnamed)")) for r in gone
                                         if r.get("kind") != "pattern")),
             "rule": f"a finding rejected on this corpus version (rejections.jsonl beside VERSION.json) is not raised "
                     f"again unless the model's confidence in its fix rose by {DELTA:g} or more"}
    fs = summary.setdefault("findings", {})
    fs["total"] = len(kept)
    fs["by_kind"] = dict(Counter(r["kind"] for r in kept))
    fs["suppressed"] = entry
    return kept, gone, entry


def remember(run_dir: Path, source: str | Path | None) -> tuple[dict[str, Any], set[str]] | None:
    """:func:`forget` for a run folder already written: rewrites its ``findings.jsonl`` and ``summary.json`` and
    writes ``suppressed.jsonl``; returns the summary entry and the ids of the findings kept."""
    from spanqa.core.output import write_text

    if not load(source):
        return None
    fpath, spath = run_dir / "findings.jsonl", run_dir / "summary.json"
    records = [json.loads(x) for x in fpath.read_text(encoding="utf-8").splitlines() if x.strip()]
    summary = json.loads(spath.read_text(encoding="utf-8"))
    got = forget(records, summary, source)
    assert got is not None  # rejections were found above
    kept, gone, entry = got
    write_text(fpath, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), root=run_dir)
    write_text(run_dir / SUPPRESSED, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in gone), root=run_dir)
    write_text(spath, json.dumps(summary, indent=2, ensure_ascii=False) + "\n", root=run_dir)
    return entry, {r["id"] for r in kept}

__all__ = ["DELTA", "FILE", "SUPPRESSED", "forget", "key", "load", "merge", "record", "remember", "suppress", "version_folder"]
