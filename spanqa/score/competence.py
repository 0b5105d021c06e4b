"""Where the out-of-fold model can be trusted, and what the audit therefore does not say.

A finding is a disagreement between the labels and a model, and on biomedical text the model
is often the one that is wrong.  Three rules keep its mistakes from reaching a reviewer as fixes:

1. **Splits and merges need support beyond the model's path, and a short form is judged as what it
   abbreviates**
   (:func:`spanqa.score.ranking.signals.structure_support`: a coordinator or separator between the
   pieces, the pieces labelled elsewhere, the pieces touching, the merged string labelled
   elsewhere).  :func:`withhold_unsupported` drops the split and merge findings without it, and the
   deletions of a defined short form whose long form the model reads as an entity, and counts them
   (``summary.json`` ``findings.withheld``); the spans keep their quality in ``spans.jsonl``.
2. **Labels the model cannot learn are named, and the corpus outvotes a model that contradicts
   it.**  Per label, the model's out-of-fold span F1 against the labels (``summary.json``
   ``model_agreement.per_label``).  A finding that involves a label below :data:`RELIABLE_F1` says
   so in its sentence and its evidence (:func:`qualify`); its ``p_error`` is weighed by that F1
   unless the corpus sides with the suggestion, and a change against the reading most other
   occurrences of the string share is weighed down (:func:`weights`).
3. **The error rate covers what can be judged** (:func:`assessable_labels`): labels below
   :data:`RELIABLE_F1` are listed as not assessable, and below :data:`MIN_AGREEMENT` overall the
   estimate is withheld (:mod:`spanqa.score.ranking.error_rate`).

>>> from spanqa.score.findings import Finding
>>> from spanqa.core.span import Span
>>> f = Finding("d", "type", "relabel", 0.2, (Span("d", 0, 3, "Modifier"),), (Span("d", 0, 3, "SpecificDisease"),),
...             {"p_suggestion": 0.8}, "The model is 80% confident 'FAP' is a SpecificDisease. Could we review it?")
>>> qualify([f], {"Modifier": 0.41, "SpecificDisease": 0.7})[0].message
"The model is 80% confident 'FAP' is a SpecificDisease. The model is unreliable on Modifier in this corpus (out-of-fold F1 0.41). Could we review it?"
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, Mapping, Sequence

from spanqa.score.messages import with_notes

#: a label on which the model's out-of-fold span F1 is below this is called unreliable (the same bar as
#: MIN_AGREEMENT: where spanqa would not estimate an error rate, it does not trust the model's disagreement either)
RELIABLE_F1 = 0.7
#: below this overall out-of-fold span F1 the corpus error rate is not estimated
MIN_AGREEMENT = 0.7
#: other occurrences of a string that make its corpus reading count (:func:`weights`)
MIN_OTHER = 3
#: other occurrences in the same context (followed by the same word) that make that reading count
MIN_CONTEXT = 2
#: finding kinds that change structure and need support beyond the model's path
STRUCTURE_KINDS = ("split", "merge")


def _signal(f: Any, name: str) -> float | None:
    v = ((f.evidence.get("ranking") or {}).get("signals") or {}).get(name)
    return None if v is None or v != v else float(v)


def withhold_unsupported(findings: Sequence[Any]) -> tuple[list[Any], dict[str, int]]:
    """The findings without (a) the splits and merges nothing but the model's path supports and (b) the deletions of
    a short form whose long form the model itself reads as an entity ("AS" after "Angelman syndrome (AS)": judged
    as what it abbreviates, the label stands); and how many of each were withheld."""
    kept: list[Any] = []
    withheld: Counter[str] = Counter()
    for f in findings:
        if f.kind in STRUCTURE_KINDS and _signal(f, "structure") == 0.0:
            withheld[f.kind] += 1
            continue
        abbr = f.evidence.get("abbreviation") or {}
        if f.action == "delete" and abbr.get("p_long_entity", 0.0) >= 0.5:
            withheld["delete_short_form_of_an_entity"] += 1
            continue
        kept.append(f)
    return kept, dict(sorted(withheld.items()))


def _readings(action: str, labels: Sequence[Any], suggestion: Sequence[Any]) -> tuple[str, str] | None:
    """``(labelled reading, suggested reading)`` of a change to what a string is, in the vocabulary of the corpus
    counts (a label, ``"O"`` for no entity, ``"entity"`` for any label); None for boundary changes."""
    if action == "delete" and labels:
        return "entity", "O"
    if action == "add" and suggestion:
        return "O", suggestion[0].label
    if action == "relabel" and labels and suggestion:
        return labels[0].label, suggestion[0].label
    return None


def _share(counts: Mapping[str, int], reading: str) -> int:
    if reading == "entity":
        return sum(v for k, v in counts.items() if k != "O")
    return int(counts.get(reading, 0))


def weights(kind: str, action: str, labels: Sequence[Any], suggestion: Sequence[Any], counts: Mapping[str, int],
            reliability: Mapping[str, float], *, context: Mapping[str, int] | None = None,
            threshold: float = RELIABLE_F1, min_other: int = MIN_OTHER) -> dict[str, float]:
    """The factors a candidate's ``p_error`` is multiplied by (empty: none):

    - ``corpus``: when at least ``min_other`` other occurrences of the string exist and most of them read it as the
      label does, the change goes against the corpus's own convention: the (Laplace-smoothed) share of the other
      occurrences that read it as the suggestion does, over one half - a string labelled all ten other times loses
      its "delete" almost entirely, a corpus split between the two readings costs nothing.  The occurrences followed
      by the same word (``context``: ``DM locus``, ``FAP patients``) speak first when there are at least
      :data:`MIN_CONTEXT` of them - a disease name read as a modifier before "gene" is a convention of its own;
    - ``reliability``: when the candidate is a disagreement (not a span the model reproduces) involving a label the
      model is unreliable on (out-of-fold F1 below ``threshold``) and the corpus does not side with the suggestion,
      that F1 - the model's say is worth what the model is worth on that label.

    >>> from spanqa.core.span import Span
    >>> was = (Span("d", 0, 3, "Modifier"),)
    >>> weights("spurious", "delete", was, (), {"Modifier": 4, "SpecificDisease": 6}, {})
    {'corpus': 0.1667}
    >>> weights("type", "relabel", (Span("d", 0, 3, "DiseaseClass"),), (Span("d", 0, 3, "SpecificDisease"),),
    ...         {}, {"DiseaseClass": 0.52})
    {'reliability': 0.52}
    """
    factors: dict[str, float] = {}
    if context and sum(int(v) for v in context.values()) >= MIN_CONTEXT:
        counts, min_other = context, MIN_CONTEXT
    n = sum(int(v) for v in counts.values())
    readings = _readings(action, labels, suggestion)
    corpus_sides = False
    if readings is not None and n >= min_other:
        lab, sug = readings
        s_lab, s_sug = _share(counts, lab), _share(counts, sug)
        corpus_sides = s_sug > s_lab
        if s_lab * 2 > n:
            factors["corpus"] = round(min(1.0, 2.0 * (s_sug + 1) / (n + 2)), 4)
    if kind != "exact" and not corpus_sides:
        weak = [reliability[x.label] for x in (*labels, *suggestion)
                if x.label in reliability and reliability[x.label] < threshold]
        if weak:
            factors["reliability"] = round(min(weak), 4)
    return {k: v for k, v in factors.items() if v < 1.0}


def qualify(findings: Sequence[Any], reliability: Mapping[str, float], *,
            threshold: float = RELIABLE_F1) -> list[Any]:
    """Findings that involve a label the model is unreliable on get ``evidence.reliability`` and a closing note in
    their sentence naming the label and its out-of-fold F1."""
    out = []
    for f in findings:
        labels = {s.label for s in (*f.labels, *f.suggestion)}
        weak = sorted(((reliability[lab], lab) for lab in labels if lab in reliability and reliability[lab] < threshold))
        if not weak:
            out.append(f)
            continue
        f1, lab = weak[0]
        note = f"The model is unreliable on {lab} in this corpus (out-of-fold F1 {f1:.2f})."
        ev = dict(f.evidence, reliability={"label": lab, "f1": round(f1, 4), "threshold": threshold})
        out.append(replace(f, evidence=ev, message=with_notes(f.message, note)))
    return out


def assessable_labels(agreement: Mapping[str, Any], *, threshold: float = RELIABLE_F1
                      ) -> tuple[list[str], dict[str, float]]:
    """The labels the model can judge (out-of-fold F1 >= ``threshold``) and the others with their F1."""
    per = {lab: float(row["f1"]) for lab, row in (agreement.get("per_label") or {}).items()}
    return sorted(lab for lab, f1 in per.items() if f1 >= threshold), \
        {lab: round(f1, 4) for lab, f1 in sorted(per.items()) if f1 < threshold}


__all__ = ["MIN_AGREEMENT", "MIN_OTHER", "RELIABLE_F1", "STRUCTURE_KINDS", "assessable_labels", "qualify", "weights",
           "withhold_unsupported"]
