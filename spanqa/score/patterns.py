"""Patterns: one confident disagreement repeated over many occurrences of one string, as one finding.

"If everyone labels 'dyspnea' as 'shortness of breath', update the instructions": a string the
labels read one way and the model reads another way, again and again, is a guideline question,
and the most valuable thing an audit finds.  Judged one occurrence at a time it sinks - the other
occurrences agree with it, so the corpus-consistency signal says "fine" - and a reviewer would
decide the same question a dozen times.

:func:`find_patterns` groups the findings that make **the same change to the same string**: same
kind and action, same labelled text and labels, same suggested text and labels (text compared
lower-cased, whitespace collapsed).  A group becomes a ``pattern`` finding when it has at least
:data:`MIN_MEMBERS` members in at least two documents and the model is confident in each
(``evidence.p_suggestion >= MIN_CONFIDENCE``).  The pattern:

- stands for its first member (``doc_id``, ``labels``, ``suggestion``) and lists every member
  in ``evidence.members`` (finding ids, documents, the model's confidence);
- is scored by its total evidence: ``score = prod(1 - p_error)`` over the members, the
  probability that *none* of them is an error (a dozen occurrences at ``p_error`` 0.3 rank above
  any single one);
- carries one decision: accepting or rejecting the pattern decides every member that has no
  decision of its own (:func:`spanqa.review.apply.apply_decisions`);
- says how the rest of the corpus reads the string (``evidence.surface``) and what to do about
  the guideline.

Members stay in ``findings.jsonl`` as findings of their own, each with ``evidence.pattern``
(the pattern's id), so per-document exports and a reviewer who wants to decide them one by
one lose nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from typing import Any, Mapping, Sequence

from spanqa.score.findings import Finding
from spanqa.score.messages import pct as _pct
from spanqa.score.messages import quote as _quote

#: fewest occurrences that make a pattern
MIN_MEMBERS = 3
#: the model's confidence in the suggestion that each member needs
MIN_CONFIDENCE = 0.5
#: finding kinds that can form patterns (they change spans; review flags and whole notes do not)
PATTERN_KINDS = ("type", "boundary", "boundary_type", "split", "merge", "missing", "spurious", "inconsistent")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def pattern_key(f: Finding, text: str) -> tuple:
    """What a member shares with the others of its pattern."""
    side = lambda spans: tuple((_norm(s.text_in(text)), s.label) for s in spans)  # noqa: E731
    return f.kind, f.action, side(f.labels), side(f.suggestion)


def _confidence(f: Finding) -> float:
    return float(f.evidence.get("p_suggestion", 0.0) or 0.0)


def _p_error(f: Finding) -> float:
    ranking = f.evidence.get("ranking") or {}
    return float(ranking.get("p_error", 1.0 - f.score))


def _message(kind: str, action: str, labels_text: str, label: str, sug_text: str, sug_label: str, n: int,
             n_docs: int, p: str, surface: Mapping[str, int]) -> str:
    where = f"{n} times in {n_docs} notes"
    if action == "add":
        said = f"{sug_text} is left unlabelled {where}; the model reads it as {sug_label} each time ({p} on average)"
        fix = f"if it is {_a(sug_label)}, accepting adds all {n}"
    elif action == "delete":
        said = f"{labels_text} is labelled {label} {where}; the model reads it as no entity each time ({p} on average)"
        fix = f"if it is not an entity, accepting removes all {n}"
    elif action == "relabel":
        said = f"{labels_text} is labelled {label} {where}; the model reads {sug_label} each time ({p} on average)"
        fix = f"if {sug_label} is right, accepting fixes all {n}"
    else:
        said = (f"{labels_text} is labelled {label} {where}, and the model reads {sug_text} as {sug_label} each time "
                f"({p} on average)")
        fix = f"accepting applies the suggested {kind} fix to all {n}"
    others = {k: v for k, v in surface.items() if v}
    elsewhere = ""
    if others:
        elsewhere = " Elsewhere in the corpus it reads " + ", ".join(
            f"{'unlabelled' if k == 'O' else k} {v}" for k, v in sorted(others.items(), key=lambda kv: -kv[1])) + "."
    return (f"{said}.{elsewhere} One decision covers them all: {fix}; if the label is right, could the guideline say "
            f"so, so that the next annotator agrees?")


def _a(label: str) -> str:
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label


def find_patterns(findings: Sequence[Finding], texts: Mapping[str, str], *, min_members: int = MIN_MEMBERS,
                  min_confidence: float = MIN_CONFIDENCE) -> tuple[list[Finding], list[Finding]]:
    """The pattern findings of ``findings``, and the findings with ``evidence.pattern`` set on every member.

    Returns ``(patterns, findings)``; the second list has the same findings in the same order.
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, f in enumerate(findings):
        if f.kind not in PATTERN_KINDS or _confidence(f) < min_confidence and f.kind != "inconsistent":
            continue
        if f.evidence.get("abbreviation") or f.evidence.get("reliability"):
            continue      # judged without its long form, or on a label the model cannot learn: no pattern
        groups[pattern_key(f, texts[f.doc_id])].append(i)
    patterns: list[Finding] = []
    member_of: dict[int, str] = {}
    for key, idx in groups.items():
        members = [findings[i] for i in idx]
        docs = {f.doc_id for f in members}
        if len(members) < min_members or len(docs) < 2:
            continue
        members.sort(key=lambda f: (f.score, f.doc_id, f.start or 0))
        first = members[0]
        text = texts[first.doc_id]
        log_none = sum(math.log(max(1e-12, 1.0 - _p_error(f))) for f in members)
        conf = sum(_confidence(f) for f in members) / len(members)
        surface: dict[str, int] = {}
        for f in members:
            for k, v in ((f.evidence.get("ranking") or {}).get("surface") or {}).items():
                surface[k] = max(surface.get(k, 0), int(v))
        kind, action, lab_side, sug_side = key
        ev: dict[str, Any] = {
            "members": [{"id": f.id, "doc_id": f.doc_id, "p_suggestion": round(_confidence(f), 6),
                         "p_error": round(_p_error(f), 6)} for f in members],
            "n_members": len(members), "n_docs": len(docs), "member_kind": kind,
            "p_suggestion": round(conf, 6), "p_none_is_error": round(math.exp(log_none), 6),
            "expected_errors": round(sum(_p_error(f) for f in members), 4), "surface": surface,
        }
        pattern = Finding(first.doc_id, "pattern", action, math.exp(log_none), first.labels, first.suggestion, ev)
        msg = _message(kind, action, _quote(first.labels[0].text_in(text)) if first.labels else "",
                       first.labels[0].label if first.labels else "",
                       _quote(first.suggestion[0].text_in(text)) if first.suggestion else "",
                       first.suggestion[0].label if first.suggestion else "", len(members), len(docs), _pct(conf),
                       surface)
        pattern = replace(pattern, message=msg)
        patterns.append(pattern)
        for i in idx:
            member_of[i] = pattern.id
    marked = [replace(f, evidence=dict(f.evidence, pattern=member_of[i])) if i in member_of else f
              for i, f in enumerate(findings)]
    return patterns, marked


__all__ = ["MIN_CONFIDENCE", "MIN_MEMBERS", "PATTERN_KINDS", "find_patterns", "pattern_key"]
