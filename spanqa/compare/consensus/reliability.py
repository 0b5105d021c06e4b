"""What the crowd says about each annotator, and where they differ: reliability against the consensus,
the disagreement records, and the 50-note rule of thumb.

:func:`annotator_table` scores each annotator against the consensus **on the documents they saw**: span
precision and recall (strict: same edges, same label), micro and per label, each with a 95% Wilson interval
and the counts behind it, their differences by kind (type / boundary / missing / spurious, per 100 consensus
spans, with examples), and ``few_documents`` when fewer than ``min_documents`` documents stand behind it. The
headline is F1 against the consensus: unlike a fitted accuracy on ``O`` it says how often what they mark is
kept and how much of what is kept they mark.

:func:`disagreements` yields, document by document (a stream: nothing is held for the whole corpus), one record
per extent the annotators who saw the document did not all label alike, or where the consensus differs from
what they all said; ``votes`` lists only those annotators.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import numpy as np

from spanqa.compare.comparison import compare_spans
from spanqa.compare.consensus.crowd import Crowd
from spanqa.compare.metrics import span_metrics
from spanqa.core.document import Corpus

O = "O"  # noqa: E741 - the outside tag's own name


def wilson(k: int, n: int, z: float = 1.96) -> list[float] | None:
    """95% Wilson score interval of a proportion ``k / n`` (None when ``n == 0``)."""
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(max(0.0, c - h), 4), round(min(1.0, c + h), 4)]


def _prf(tp: int, n_mine: int, n_cons: int) -> dict[str, Any]:
    p = tp / n_mine if n_mine else float("nan")
    r = tp / n_cons if n_cons else float("nan")
    f = 2 * tp / (n_mine + n_cons) if n_mine + n_cons else float("nan")

    def rnd(x):
        return None if x != x else round(x, 4)

    return {"precision": rnd(p), "recall": rnd(r), "f1": rnd(f), "precision_ci95": wilson(tp, n_mine),
            "recall_ci95": wilson(tp, n_cons), "matched": tp, "spans": n_mine, "consensus_spans": n_cons}


def annotator_table(crowd: Crowd, result: Corpus, *, fitted: dict[str, Any] | None = None, examples: int = 3,
                    min_documents: int = 5) -> list[dict[str, Any]]:
    """Each annotator against the consensus on the documents they saw (module docstring)."""
    cons = result.by_id()
    text = {d.id: d.text for d in crowd.documents}
    rows = []
    for name, per in zip(crowd.names, crowd.spans):
        tp: dict[str, int] = {}
        mine: dict[str, int] = {}
        theirs: dict[str, int] = {}
        kinds: dict[str, dict[str, Any]] = {}
        for doc_id, spans in per.items():
            c = cons.get(doc_id)
            other = list(c.spans or ()) if c is not None else []
            keys = {(s.start, s.end, s.label) for s in other}
            for s in spans:
                mine[s.label] = mine.get(s.label, 0) + 1
                if (s.start, s.end, s.label) in keys:
                    tp[s.label] = tp.get(s.label, 0) + 1
            for s in other:
                theirs[s.label] = theirs.get(s.label, 0) + 1
            for comp in compare_spans(doc_id, list(spans), other):
                if str(comp.kind) == "exact":
                    continue
                k = kinds.setdefault(str(comp.kind), {"n": 0, "examples": []})
                k["n"] += 1
                if len(k["examples"]) < examples:
                    t = text[doc_id]
                    k["examples"].append({"doc_id": doc_id,
                                          "annotator": [(s.start, s.end, s.label, t[s.start:s.end]) for s in comp.labels],
                                          "consensus": [(s.start, s.end, s.label, t[s.start:s.end]) for s in comp.other]})
        labels = sorted(set(mine) | set(theirs))
        micro = _prf(sum(tp.values()), sum(mine.values()), sum(theirs.values()))
        n_cons = max(1, micro["consensus_spans"])
        for k in kinds.values():
            k["per_100_consensus_spans"] = round(100 * k["n"] / n_cons, 2)
        rows.append({"name": name, "documents": len(per), "few_documents": len(per) < min_documents,
                     "f1_vs_consensus": micro["f1"], **{k: micro[k] for k in ("precision", "recall",
                                                                               "precision_ci95", "recall_ci95",
                                                                               "matched", "spans",
                                                                               "consensus_spans")},
                     "per_label": {lab: _prf(tp.get(lab, 0), mine.get(lab, 0), theirs.get(lab, 0)) for lab in labels},
                     "per_label_f1": {lab: _prf(tp.get(lab, 0), mine.get(lab, 0), theirs.get(lab, 0))["f1"]
                                      for lab in labels},
                     "fitted": (fitted or {}).get(name),
                     "differences": dict(sorted(kinds.items(), key=lambda kv: -kv[1]["n"]))})
    return rows


def _kind(vote: str, final: str, overlaps: bool) -> str:
    """One annotator's vote on one extent against the consensus label there (``O``: no consensus span there)."""
    if vote == final:
        return "agree"
    if vote == O:
        return "boundary" if overlaps else "missing"
    if final == O:
        return "boundary" if overlaps else "spurious"
    return "type"


def _overlaps(spans: Sequence[tuple[int, int]], a: int, b: int) -> bool:
    return any(x < b and a < y and (x, y) != (a, b) for x, y in spans)


def disagreements(crowd: Crowd, result: Corpus) -> Iterator[dict[str, Any]]:
    """Disagreement records, document by document (module docstring): who said what (only annotators who saw the
    document), the consensus label there (``O``: no consensus span with that extent), its posterior, and each
    annotator's kind of difference from the consensus (``kinds``; never empty)."""
    cons = result.by_id()
    for d in crowd.documents:
        saw = [j for j, per in enumerate(crowd.spans) if d.id in per]
        if not saw:
            continue
        c = cons.get(d.id)
        final = {(s.start, s.end): s for s in (c.spans or ()) if c is not None} if c is not None else {}
        given = {j: {(s.start, s.end): s.label for s in crowd.spans[j][d.id]} for j in saw}
        extents = sorted({e for g in given.values() for e in g} | set(final))
        cons_ext = list(final)
        for a, b in extents:
            kept = final.get((a, b))
            label = kept.label if kept is not None else O
            votes = {j: given[j].get((a, b), O) for j in saw}
            kinds = {}
            for j, v in votes.items():
                k = _kind(v, label, _overlaps(cons_ext, a, b) if v != O else _overlaps(list(given[j]), a, b))
                if k != "agree":
                    kinds[crowd.names[j]] = k
            if not kinds:
                continue
            yield {"doc_id": d.id, "start": a, "end": b, "text": d.text[a:b],
                   "votes": {crowd.names[j]: v for j, v in votes.items()}, "consensus": label,
                   "posterior": None if kept is None else kept.score, "kinds": kinds}


def sample_disagreement(a: Corpus, b: Corpus, *, notes: int = 50, seed: int = 0, resamples: int = 2000
                        ) -> dict[str, Any]:
    """Share of spans two annotators disagree on (1 - strict span F1 between them) on ``notes`` random documents
    annotated by both, with a 95% bootstrap interval over those documents, and the same share on all of them."""
    bm = b.by_id()
    both = [(d, bm[d.id]) for d in a.documents if d.id in bm and d.spans is not None and bm[d.id].spans is not None]
    counts = np.array([[m.matched, m.n_labels, m.n_other] for m in
                       (span_metrics(compare_spans(x.id, list(x.spans or ()), list(y.spans or ()))).micro
                        for x, y in both)],
                      dtype=float).reshape(len(both), 3)

    def share(c: np.ndarray) -> np.ndarray:
        tot = c[..., 1] + c[..., 2]
        return np.where(tot > 0, 1 - 2 * c[..., 0] / np.maximum(tot, 1), 0.0)

    rng = np.random.default_rng(seed)
    pick = rng.choice(len(both), size=min(notes, len(both)), replace=False)
    sample = counts[pick]
    boot = rng.integers(0, len(sample), size=(resamples, len(sample)))
    draws = share(sample[boot].sum(axis=1))
    return {"notes": int(len(sample)), "disagreement": round(float(share(sample.sum(axis=0))), 4),
            "ci95": [round(float(np.percentile(draws, 2.5)), 4), round(float(np.percentile(draws, 97.5)), 4)],
            "all_notes": {"notes": len(both), "disagreement": round(float(share(counts.sum(axis=0))), 4)},
            "above_15_percent": bool(share(sample.sum(axis=0)) > 0.15)}


__all__ = ["annotator_table", "disagreements", "sample_disagreement", "wilson"]
