"""``spanqa rerank``: reviewers' decisions re-rank the findings nobody has looked at yet, in the run folder.

Decisions (the report's file, the CSV sheet, a Label Studio or Argilla export: anything
:func:`spanqa.review.decisions.read_decisions` reads) mark findings as real errors (accept) or not (reject);
:class:`spanqa.score.ranking.feedback.Feedback` fits how each group of similar findings fared (kind, kind x label,
the same words) and moves every unreviewed finding of a group by it. ``findings.jsonl`` is rewritten in place:

- ``score`` = ``1 - p_error`` after the reviews (the file stays the run's one ranking: report, export and
  ``--top`` follow it);
- ``evidence.static_score`` = the audit's own score (kept on the first rerank; every rerank starts from it,
  so running it again with more decisions is not cumulative);
- ``evidence.reviews`` = how the reviews moved the finding's group ("findings like this (spurious MISC) were
  rejected 9 of 10 times in this corpus"), and the reviewed ones carry ``evidence.decision``.

The reviewed findings keep their static score (their order no longer matters; they are decided).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import numpy as np

from spanqa.core.document import Corpus
from spanqa.core.output import atomic_open
from spanqa.run.reader import Finding, Run
from spanqa.score.ranking.feedback import SIGMA, Feedback, group_keys

KIND_WORDS = {"missing": "a missing {label}", "spurious": "{label} that may be no entity",
              "type": "{label} that may be another type", "boundary": "{label} whose edges may differ",
              "boundary_type": "{label} whose edges and type may differ", "split": "{label} that may be two",
              "merge": "{label} pieces that may be one"}


def _label(f: Finding) -> str | None:
    spans = f.labels or f.suggestion
    return spans[0].label if spans else None


def finding_keys(findings: Sequence[Finding], corpus: Corpus) -> list[tuple[str, ...]]:
    """Each finding's groups, coarse to fine (:func:`spanqa.score.ranking.feedback.group_keys`)."""
    docs = corpus.by_id()
    out = []
    for f in findings:
        d = docs.get(f.doc_id)
        text = d.text[f.start:f.end] if d is not None and f.start is not None else None
        out.append(group_keys(f.kind, _label(f), text))
    return out


def signal_matrix(findings: Sequence[Finding]) -> np.ndarray:
    """Each finding's ranking signals (``evidence.ranking.signals``), standardised over the run; a finding without
    a signal (a note out of distribution, a pattern) sits at the mean."""
    rows = [(f.evidence.get("ranking") or {}).get("signals") or {} for f in findings]
    names = sorted({k for r in rows for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    x = np.asarray([[float(r[n]) if isinstance(r.get(n), (int, float)) else np.nan for n in names] for r in rows],
                   float).reshape(len(rows), len(names))
    mean = np.nanmean(x, axis=0) if len(rows) else np.zeros(len(names))
    sd = np.nanstd(x, axis=0) if len(rows) else np.ones(len(names))
    z = (x - np.nan_to_num(mean)) / np.where(np.nan_to_num(sd) > 0, np.nan_to_num(sd), 1.0)
    return np.nan_to_num(z)


def static_score(f: Finding) -> float:
    return float(f.evidence.get("static_score", f.score))


def rerank(run: Run, decisions: Mapping[str, Any], *, sigma: float = SIGMA) -> tuple[list[dict[str, Any]], dict]:
    """The run's finding records re-scored by ``decisions`` (finding id -> an object with ``.decision``), in file
    order, and a summary (how many decided, accepted, moved)."""
    findings = [f for f in run.findings]
    keys = finding_keys(findings, run.corpus())
    p_static = np.asarray([1 - static_score(f) for f in findings])
    decided = [i for i, f in enumerate(findings) if f.id in decisions and f.kind != "pattern"]
    accepted = np.asarray([decisions[findings[i].id].decision == "accept" for i in decided], bool)
    x = signal_matrix(findings)
    fb = Feedback.fit([keys[i] for i in decided], p_static[decided], accepted, signals=x[decided],
                      sigma=sigma) if decided else Feedback()
    p_new = fb.p_error(keys, p_static, x) if decided else p_static
    out, moved = [], 0
    done = set(decided)
    for i, f in enumerate(findings):
        rec: dict[str, Any] = json.loads(json.dumps(f.raw)) if f.raw else {"id": f.id}
        ev = rec.setdefault("evidence", {})
        ev["static_score"] = round(static_score(f), 6)
        ev.pop("reviews", None)
        ev.pop("decision", None)
        if i in done:
            ev["decision"] = decisions[f.id].decision
            rec["score"] = ev["static_score"]
        else:
            rec["score"] = round(float(1 - p_new[i]), 6)
            note = fb.note(keys[i], KIND_WORDS.get(f.kind, f.kind + " {label}").format(label=_label(f) or "span"))
            if note is not None:
                ev["reviews"] = note
                moved += abs(rec["score"] - ev["static_score"]) > 1e-6
        out.append(rec)
    known = {f.id for f in findings}
    return out, {"decided": len(decided), "accepted": int(accepted.sum()), "rejected": int((~accepted).sum()),
                 "moved": moved, "unreviewed": len(findings) - len(decided), "sigma": sigma,
                 "not_in_run": sorted(i for i in decisions if i not in known),
                 "patterns": sum(1 for f in findings if f.id in decisions and f.kind == "pattern")}


def write_findings(run: Run, records: Sequence[Mapping[str, Any]]) -> None:
    """Rewrite ``findings.jsonl`` of the run folder (atomically)."""
    with atomic_open(run.path / "findings.jsonl", root=run.path) as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


__all__ = ["finding_keys", "rerank", "signal_matrix", "static_score", "write_findings"]
