"""``spanqa sample``: a random audit batch of labelled spans, stratified by label.

Findings show where the model disagrees; a random sample of *all* labelled spans
measures what the model cannot see (errors it agrees with).  The batch is drawn from
``spans.jsonl`` of the run (every labelled span, with its quality), or from the corpus
when the run has no spans file.

Allocation of ``n`` over labels (``allocation``):

- ``"proportional"`` (default): ``n * share of the label``, rounded by largest
  remainder, with **at least one span per label** when ``n`` is at least the number of
  labels (rare labels are checked too; the estimate per label must then be weighted
  back by the label shares);
- ``"equal"``: ``n / number of labels`` each.

A label with fewer spans than its share gives all of them and the rest is spread
over the other labels.  Within a label the spans are drawn with
``random.Random(seed).sample`` from the spans in corpus order, so the same run,
``n`` and ``seed`` give the same batch.  The batch is listed in corpus order, ids
``S001``, ``S002``, ...

Each sampled span is written as a review item (kind ``sample``, action ``review``)
through the same exporters as findings; the CSV has its own columns with a blank
``verdict`` (``correct``/``incorrect``) and ``label``/``start``/``end`` for the
corrected span.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path
from typing import Literal, Sequence

from spanqa.core.document import Corpus
from spanqa.core.output import atomic_open
from spanqa.core.span import Span
from spanqa.review.cells import safe_row
from spanqa.review.exports import context_string, write_brat, write_labelstudio
from spanqa.run.reader import Finding, Run

Allocation = Literal["proportional", "equal"]
SampleFormat = Literal["labelstudio", "csv", "brat"]
SAMPLE_COLUMNS: tuple[str, ...] = ("sample_id", "doc_id", "span_label", "span_start", "span_end", "text", "quality",
                                   "fold", "context", "verdict", "label", "start", "end", "reviewer", "reason")


def allocate(counts: dict[str, int], n: int, *, allocation: Allocation = "proportional") -> dict[str, int]:
    """How many spans to draw per label (see the module docstring); sums to ``min(n, total)``.

    >>> allocate({"Drug": 90, "Dose": 9, "Route": 1}, 10)
    {'Dose': 1, 'Drug': 8, 'Route': 1}
    >>> allocate({"Drug": 90, "Dose": 9, "Route": 1}, 10, allocation="equal")
    {'Dose': 4, 'Drug': 5, 'Route': 1}
    """
    labels = sorted(lab for lab, c in counts.items() if c > 0)
    n = min(n, sum(counts[lab] for lab in labels))
    if n <= 0 or not labels:
        return {lab: 0 for lab in labels}
    lo = {lab: 1 if n >= len(labels) else 0 for lab in labels}
    w = {lab: float(counts[lab]) if allocation == "proportional" else 1.0 for lab in labels}
    fixed: dict[str, int] = {}
    while True:  # water-filling: pin labels whose share falls outside [lo, count], share the rest again
        free = [lab for lab in labels if lab not in fixed]
        share: dict[str, float] = {}
        if not free:
            break
        budget = n - sum(fixed.values())
        wsum = sum(w[lab] for lab in free)
        share = {lab: budget * w[lab] / wsum for lab in free}
        pin = {lab: lo[lab] for lab in free if share[lab] < lo[lab]}
        pin |= {lab: counts[lab] for lab in free if share[lab] > counts[lab]}
        if not pin:
            break
        fixed |= pin
    out = dict(fixed) | {lab: int(share[lab]) for lab in free}
    rest = n - sum(out.values())
    for lab in sorted(labels, key=lambda x: (-(share.get(x, 0.0) % 1), -counts[x], x)):
        if rest <= 0:
            break
        if out[lab] < counts[lab]:
            out[lab] += 1
            rest -= 1
    return dict(sorted(out.items()))


def sample_spans(spans: Sequence[Span], n: int, *, seed: int = 0, allocation: Allocation = "proportional"
                 ) -> list[Span]:
    """A stratified random sample of ``spans`` (in their given order within the result)."""
    by_label: dict[str, list[int]] = {}
    for i, s in enumerate(spans):
        by_label.setdefault(s.label, []).append(i)
    quota = allocate({lab: len(ix) for lab, ix in by_label.items()}, n, allocation=allocation)
    rng = random.Random(seed)
    chosen: list[int] = []
    for lab in sorted(by_label):
        chosen += rng.sample(by_label[lab], quota[lab])
    return [spans[i] for i in sorted(chosen)]


def _pool(run: Run, corpus: Corpus) -> list[Span]:
    order = {d.id: i for i, d in enumerate(corpus.documents)}
    if run.spans:
        return sorted((s for s in run.spans if s.doc_id in order), key=lambda s: (order[s.doc_id], s.start, s.end,
                                                                                   s.label))
    return [s for d in corpus.documents for s in d.spans or ()]


def sample_items(run: Run, n: int, *, seed: int = 0, allocation: Allocation = "proportional") -> list[Finding]:
    """The sampled spans as review items (``Finding`` with kind ``sample``), ids ``S001``..."""
    corpus = run.corpus()
    picked = sample_spans(_pool(run, corpus), n, seed=seed, allocation=allocation)
    width = max(3, len(str(len(picked))))
    items = []
    for k, s in enumerate(picked, 1):
        sid = f"S{k:0{width}d}"
        meta = dict(s.meta or {})
        q = s.score
        ev = {"quality": q, "fold": meta.get("fold"), "stratum": s.label, "seed": seed}
        qtxt = f" (model quality {q:.2f})" if isinstance(q, (int, float)) else ""
        clean = Span(s.doc_id, s.start, s.end, s.label, fragments=s.fragments)
        items.append(Finding(s.doc_id, "sample", "review", float(q) if q is not None else 1.0, (clean,), (),
                             {k: v for k, v in ev.items() if v is not None},
                             f"Audit sample {sid}: is this {s.label} span right, extent and label?{qtxt}",
                             stored_id=sid))
    return items


def write_sample_csv(corpus: Corpus, items: Sequence[Finding], path: str | Path) -> dict[str, int]:
    path = Path(path)
    docs = corpus.by_id()
    with atomic_open(path) as fh:
        w = csv.writer(fh)
        w.writerow(SAMPLE_COLUMNS)
        for f in items:
            s, text = f.labels[0], docs[f.doc_id].text
            q = f.evidence.get("quality")
            w.writerow(safe_row([f.id, f.doc_id, s.label, s.start, s.end, " ".join(s.text_in(text).split()),
                                 "" if q is None else f"{q:.4g}", f.evidence.get("fold", ""),
                                 context_string(text, s.start, s.end), "", "", "", "", "", ""]))
    return {"rows": len(items)}


def write_sample(run: Run, n: int, out: str | Path, *, to: SampleFormat = "csv", seed: int = 0,
                 allocation: Allocation = "proportional") -> dict[str, int]:
    """Draw the batch and write it in ``to`` format; returns counts (``rows``/``tasks``, and per label)."""
    corpus = run.corpus()
    items = sample_items(run, n, seed=seed, allocation=allocation)
    if to == "csv":
        counts = write_sample_csv(corpus, items, out)
    elif to == "labelstudio":
        counts = write_labelstudio(corpus, items, out)
    elif to == "brat":
        counts = write_brat(corpus, items, out)
    else:
        from spanqa.core.errors import fail

        raise fail("E507", f"unknown sample format {to!r}; use one of labelstudio, csv, brat")
    return {"sampled": len(items), **counts,
            **{f"label:{lab}": k for lab, k in sorted(Counter(f.labels[0].label for f in items).items())}}


__all__ = ["Allocation", "SAMPLE_COLUMNS", "SampleFormat", "allocate", "sample_items", "sample_spans", "write_sample",
           "write_sample_csv"]
