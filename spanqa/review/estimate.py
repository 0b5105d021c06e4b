"""The corpus error rate from a review sample, with its interval: a stratified design and its estimator.

The model's own estimate (``summary.json``'s ``error_rate``) is only as good as the model. A reviewed sample
measures the rate directly; stratifying it by what the model believes makes the same 50 reviews worth more.

**Design** (:func:`design`). Two populations, each split into strata by the audit's evidence:

- *labelled spans*, by their quality (the out-of-fold probability that the span is exactly right):
  ``< 0.5``, ``0.5-0.9``, ``0.9-0.99``, ``>= 0.99`` - errors concentrate in the low strata;
- *sentences*, for entities the labels **miss** (no span sample can see those): sentences with a candidate
  missing entity of probability ``>= 0.5``, with a weaker candidate, and with none.

``n`` spans and ``sentences`` sentences are allocated over the strata in proportion to ``N_h * sd_h``
(Neyman allocation with the model's expected error as the guess of each stratum's spread: ``sd_h`` =
``sqrt(e(1-e))`` for spans with ``e`` the larger of the stratum's mean ``1 - quality`` and the corpus's - the
model is sure of spans that are wrong too, 3.8-6.8% of its surest spans on the CoNLL design sets, so no stratum
is treated as cleaner than the corpus looks -, ``sqrt(m)`` for sentences with ``m`` the stratum's mean expected
missing entities), at least two per non-empty stratum so each has a variance.

What it buys, measured (``scripts/bench_estimate.py``): on the CoNLL design sets the model's quality separates
errors only weakly (18-22% wrong in the lowest stratum, 4-7% in the highest), so even the ideal allocation with
the true rates narrows the interval by 3-5% against simple random sampling. The design's value is elsewhere:
every stratum is seen, the missing entities get their own sample, and the estimate does not rest on the model.
Units are drawn without replacement with a seeded generator; each carries its stratum and weight ``N_h / n_h``.

**Estimator** (:func:`estimate`). Stratified, with a Bayesian interval that stays honest when a stratum shows
no error at all (a plain ``p(1-p)/n`` variance would then claim certainty): per span stratum the error share has
the posterior ``Beta(x_h + 1/2 + w p0, n_h - x_h + 1/2 + w (1 - p0))`` - Jeffreys plus ``w`` = 1 pseudo-span at
``p0``, the stratified share of the whole sample, so a thinly sampled stratum leans on the corpus-wide share and
not on 50% -, per sentence stratum the missing entities per sentence ``Gamma(y_h + 1/2 + w m0, rate n_h + w)``
likewise, its variance widened by the sample's own variance-to-mean ratio (missing entities cluster). 20,000
draws give ``errors = sum_h N_h p_h`` and ``missing = sum_h S_h m_h``; the point estimate is the stratified one
(``sum_h N_h x_h / n_h``) and

    rate = (errors + missing) / (labelled spans + missing)

(the summary's definition: a missing entity is one more span the labels should have had). Its 95% interval joins
the two parts' 97.5% intervals (Bonferroni: both hold together at least 95% of the time, however they are
related); joint draws of the ratio covered the truth only 81-89% of the time on three of the simulated sets,
because a 20-sentence sample rarely sees a missing entity and its prior then pulls the whole ratio. Per label the
span strata are post-stratified by label (``N_hL`` is known), with the stratum's posterior where a cell has no
reviewed span; per kind (type / boundary / spurious / other, from the reviewer's ``error_kind``) a Dirichlet per
stratum.

**Planning** (:func:`plan`): to reach a target rate ``T``, review the top ``K`` findings; the errors the top
``K`` hold are the ranking's expected errors there scaled by the sample's own calibration (estimated errors /
the model's expected errors over all spans and candidates), so the answer moves with the sample, not with the
model's optimism.

Why one module of ~450 lines: the sampling design and its estimator belong together - the estimator weighs each unit
by the design that drew it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

SPAN_EDGES = (0.5, 0.9, 0.99)       # quality strata: [0, .5), [.5, .9), [.9, .99), [.99, 1]
SENTENCE_EDGES = (0.5,)             # candidate missing entity: none / p < .5 / p >= .5
DRAWS = 20_000
PRIOR_WEIGHT = 1.0  # pseudo-units of each stratum's prior, centred on the pooled sample
KINDS = ("type", "boundary", "spurious", "other")


@dataclass(frozen=True)
class Unit:
    """One sampled unit: a labelled span (``kind="span"``) or a sentence (``kind="sentence"``)."""

    id: str
    kind: str
    doc_id: str
    start: int
    end: int
    label: str | None
    stratum: int
    weight: float
    expected: float  # the model's expected errors in the unit (1 - quality; a sentence's candidate missing mass)


@dataclass
class Design:
    """Strata sizes and the drawn units; ``span_cells[h][label]`` = labelled spans of that label in stratum h."""

    seed: int
    span_sizes: list[int]
    span_expected: list[float]
    span_cells: list[dict[str, int]]
    sentence_sizes: list[int]
    sentence_expected: list[float]
    units: list[Unit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"design": "stratified", "seed": self.seed, "span_edges": list(SPAN_EDGES),
                "sentence_edges": list(SENTENCE_EDGES), "span_sizes": self.span_sizes,
                "span_expected": [round(x, 4) for x in self.span_expected], "span_cells": self.span_cells,
                "sentence_sizes": self.sentence_sizes,
                "sentence_expected": [round(x, 4) for x in self.sentence_expected]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Design":
        return cls(int(d.get("seed", 0)), list(d["span_sizes"]), list(d["span_expected"]),
                   [dict(c) for c in d["span_cells"]], list(d["sentence_sizes"]), list(d["sentence_expected"]))


def span_stratum(quality: float) -> int:
    return int(np.searchsorted(SPAN_EDGES, quality, side="right"))


def sentence_stratum(p_missing: float) -> int:
    """0: no candidate missing entity; 1: a weak one; 2: one of probability >= 0.5."""
    return 0 if p_missing <= 0 else 1 + int(np.searchsorted(SENTENCE_EDGES, p_missing, side="right"))


def allocate(sizes: Sequence[int], spreads: Sequence[float], n: int, *, minimum: int = 2) -> list[int]:
    """Neyman allocation of ``n`` over strata (``sizes`` x ``spreads``), at least ``minimum`` per non-empty
    stratum (fewer when it is smaller), never more than a stratum holds; sums to ``min(n, sum(sizes))``.

    >>> allocate([1000, 100, 10, 0], [0.05, 0.3, 0.5, 0.4], 20)
    [11, 7, 2, 0]
    """
    n = min(n, sum(sizes))
    out = [min(minimum, s) for s in sizes]
    if sum(out) >= n:  # too few to give every stratum its minimum: the largest strata first
        out = [0] * len(sizes)
        for h in sorted(range(len(sizes)), key=lambda h: -sizes[h] * max(spreads[h], 1e-6)):
            take = min(minimum, sizes[h], n - sum(out))
            out[h] = max(take, 0)
        return out
    weight = [s * max(sd, 1e-6) if s else 0.0 for s, sd in zip(sizes, spreads)]
    while sum(out) < n:
        room = [h for h in range(len(sizes)) if out[h] < sizes[h]]
        # the stratum furthest below its Neyman share gets the next unit
        total = sum(weight[h] for h in room) or 1.0
        h = max(room, key=lambda h: (weight[h] / total * n - out[h], -h))
        out[h] += 1
    return out


def design(spans: Sequence[tuple[str, int, int, str, float]], sentences: Sequence[tuple[str, int, int, float, float]],
           *, n: int = 50, n_sentences: int = 20, seed: int = 0) -> Design:
    """Draw the stratified sample. ``spans``: ``(doc_id, start, end, label, quality)`` of every labelled span;
    ``sentences``: ``(doc_id, start, end, best candidate probability, expected missing entities)``."""
    rng = random.Random(seed)
    hs = [span_stratum(q) for *_, q in spans]
    k = len(SPAN_EDGES) + 1
    members = [[i for i, h in enumerate(hs) if h == s] for s in range(k)]
    sizes = [len(m) for m in members]
    expected = [float(np.mean([1 - spans[i][4] for i in m])) if m else 0.0 for m in members]
    cells = [dict(sorted(Counter(spans[i][3] for i in m).items())) for m in members]
    overall = float(np.mean([1 - q for *_, q in spans])) if spans else 0.0
    guess = [max(e, overall) for e in expected]  # no stratum is trusted to be cleaner than the corpus looks
    take = allocate(sizes, [math.sqrt(e * (1 - e)) for e in guess], n)
    ks = len(SENTENCE_EDGES) + 2
    sh = [sentence_stratum(p) for _, _, _, p, _ in sentences]
    smembers = [[i for i, h in enumerate(sh) if h == s] for s in range(ks)]
    ssizes = [len(m) for m in smembers]
    sexp = [float(np.mean([sentences[i][4] for i in m])) if m else 0.0 for m in smembers]
    stake = allocate(ssizes, [math.sqrt(max(e, 1e-3)) for e in sexp], n_sentences)
    d = Design(seed, sizes, expected, cells, ssizes, sexp)
    units: list[Unit] = []
    for h, m in enumerate(members):
        for i in sorted(rng.sample(m, take[h])):
            doc, a, b, lab, q = spans[i]
            units.append(Unit("", "span", doc, a, b, lab, h, sizes[h] / take[h], 1 - q))
    for h, m in enumerate(smembers):
        for i in sorted(rng.sample(m, stake[h])):
            doc, a, b, _, e = sentences[i]
            units.append(Unit("", "sentence", doc, a, b, None, h, ssizes[h] / stake[h], e))
    width = max(3, len(str(len(units))))
    d.units = [replace(u, id=f"{'S' if u.kind == 'span' else 'M'}{i:0{width}d}") for i, u in enumerate(units, 1)]
    return d


@dataclass(frozen=True)
class Verdict:
    """A reviewer's answer on one unit: a span is ``wrong`` or not (and the ``error_kind``); a sentence's
    ``missing`` = the entities its labels lack."""

    unit: Unit
    wrong: bool = False
    error_kind: str | None = None
    missing: int = 0


def _interval(draws: np.ndarray) -> list[float]:
    return [round(float(np.percentile(draws, 2.5)), 4), round(float(np.percentile(draws, 97.5)), 4)]


def _joint(errors: np.ndarray, missing: np.ndarray, total: float) -> list[float]:
    """The rate's 95% interval from the two parts' 97.5% intervals (Bonferroni: both hold together at least 95%
    of the time, however the two are related; the rate grows with each part)."""
    e_lo, e_hi = np.percentile(errors, [1.25, 98.75])
    m_lo, m_hi = np.percentile(missing, [1.25, 98.75])
    return [round(float((e_lo + m_lo) / max(total + m_lo, 1)), 4), round(float((e_hi + m_hi) / max(total + m_hi, 1)), 4)]


def estimate(d: Design, verdicts: Sequence[Verdict], *, seed: int = 0, draws: int = DRAWS) -> dict[str, Any]:
    """The error rate with its 95% interval, per label and per kind (module docstring)."""
    rng = np.random.default_rng(seed)
    k = len(d.span_sizes)
    n_h = np.zeros(k)
    x_h = np.zeros(k)
    kinds_h = np.zeros((k, len(KINDS)))
    # per stratum: reviewed (cell_n) and wrong (cell_x) spans by label (a unit read from a design file may lack one)
    cell_n: list[dict[str | None, int]] = [{} for _ in range(k)]
    cell_x: list[dict[str | None, int]] = [{} for _ in range(k)]
    ks = len(d.sentence_sizes)
    sn = np.zeros(ks)
    sy = np.zeros(ks)
    seen_missing: list[int] = []
    for v in verdicts:
        u = v.unit
        if u.kind == "span":
            n_h[u.stratum] += 1
            cell_n[u.stratum][u.label] = cell_n[u.stratum].get(u.label, 0) + 1
            if v.wrong:
                x_h[u.stratum] += 1
                cell_x[u.stratum][u.label] = cell_x[u.stratum].get(u.label, 0) + 1
                kinds_h[u.stratum, KINDS.index(v.error_kind if v.error_kind in KINDS else "other")] += 1
        else:
            sn[u.stratum] += 1
            sy[u.stratum] += v.missing
            seen_missing.append(v.missing)
    N = np.asarray(d.span_sizes, float)
    S = np.asarray(d.sentence_sizes, float)
    N0 = np.asarray(d.span_sizes, float)
    pooled = float((N0 * (x_h + 0.5) / (n_h + 1.0)).sum() / max(N0.sum(), 1))  # the stratified share: each prior's mean
    a0, b0 = 0.5 + PRIOR_WEIGHT * pooled, 0.5 + PRIOR_WEIGHT * (1 - pooled)  # Jeffreys + the pooled share
    p = rng.beta(x_h[:, None] + a0, n_h[:, None] - x_h[:, None] + b0, size=(k, draws))
    p[N == 0] = 0.0
    errors = (N[:, None] * p).sum(axis=0)
    S0 = np.asarray(d.sentence_sizes, float)
    rate0 = float((S0 * (sy + 0.5) / (sn + 1.0)).sum() / max(S0.sum(), 1))  # the stratified rate: each prior's mean
    # missing entities cluster (a sentence with three): a Poisson posterior would be too sure, so its variance is
    # widened by the sample's own variance-to-mean ratio (>= 1), the mean unchanged
    y = np.asarray(seen_missing, float)
    phi = max(1.0, float(y.var(ddof=1) / y.mean())) if len(y) > 1 and y.mean() > 0 else 1.0
    m = rng.gamma((sy[:, None] + 0.5 + PRIOR_WEIGHT * rate0) / phi, phi / (sn[:, None] + PRIOR_WEIGHT),
                  size=(ks, draws))
    m[(S == 0) | (sn == 0)] = 0.0  # an unsampled sentence stratum adds nothing (said in `unsampled`)
    missing = (S[:, None] * m).sum(axis=0)
    total = N.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        pt_err = float(np.nansum(np.where(n_h > 0, N * x_h / np.maximum(n_h, 1), 0)))
        pt_miss = float(np.nansum(np.where(sn > 0, S * sy / np.maximum(sn, 1), 0)))
    point = (pt_err + pt_miss) / max(total + pt_miss, 1)
    labels = sorted({lab for c in d.span_cells for lab in c})
    per_label = {}
    for lab in labels:
        dl = np.zeros(draws)
        pe = 0.0
        n_lab = 0
        for h in range(k):
            nl = d.span_cells[h].get(lab, 0)
            n_lab += nl
            if not nl:
                continue
            rn, rx = cell_n[h].get(lab, 0), cell_x[h].get(lab, 0)
            ph = rng.beta(rx + a0, rn - rx + b0, size=draws) if rn else p[h]
            dl += nl * ph
            pe += nl * (rx / rn if rn else (x_h[h] / n_h[h] if n_h[h] else float(np.mean(p[h]))))
        per_label[lab] = {"spans": n_lab, "reviewed": sum(cell_n[h].get(lab, 0) for h in range(k)),
                          "error_rate": round(pe / n_lab, 4) if n_lab else None,
                          "ci95": _interval(dl / n_lab) if n_lab else None}
    per_kind = {}
    kd = np.zeros((len(KINDS) + 1, draws))
    for h in range(k):
        if not N[h]:
            continue
        alpha = np.concatenate([[n_h[h] - x_h[h]], kinds_h[h]]) + 0.5
        kd += N[h] * rng.dirichlet(alpha, size=draws).T
    for i, kind in enumerate(KINDS):
        pe = float(sum(N[h] * kinds_h[h, i] / n_h[h] for h in range(k) if n_h[h]))
        per_kind[kind] = {"errors": round(pe, 1), "per_100_spans": round(100 * pe / max(total, 1), 2),
                          "ci95_per_100_spans": [round(100 * x, 2) for x in _interval(kd[i + 1] / max(total, 1))]}
    per_kind["missing"] = {"errors": round(pt_miss, 1), "per_100_spans": round(100 * pt_miss / max(total, 1), 2),
                           "ci95_per_100_spans": [round(100 * x, 2) for x in _interval(missing / max(total, 1))]}
    return {"design": "stratified", "reviewed_spans": int(n_h.sum()), "reviewed_sentences": int(sn.sum()),
            "labelled_spans": int(total), "sentences": int(S.sum()),
            "error_rate": round(point, 4), "ci95": _joint(errors, missing, total),
            "span_error_rate": round(pt_err / max(total, 1), 4), "span_ci95": _interval(errors / max(total, 1)),
            "missing_entities": round(pt_miss, 1), "missing_ci95": _interval(missing),
            "errors": round(pt_err + pt_miss, 1), "errors_ci95": _interval(errors + missing),
            "unsampled_strata": {"spans": [h for h in range(k) if N[h] and not n_h[h]],
                                 "sentences": [h for h in range(ks) if S[h] and not sn[h]]},
            "per_label": per_label, "per_kind": per_kind,
            "_draws": {"errors": errors + missing, "total": total + missing}}


def plan(est: Mapping[str, Any], expected_top: Sequence[float], model_expected: float, *, target: float = 0.02
         ) -> dict[str, Any]:
    """Review the top ``K`` findings to reach ``target``: ``expected_top[i]`` = the ranking's expected errors of
    finding ``i`` (in rank order), ``model_expected`` = the model's expected errors over the whole corpus; the
    calibration is the sample's errors over the model's. Returns K and the expected remaining rate with interval
    (None for K when even the whole list does not reach the target)."""
    draws = est["_draws"]
    errs, total = np.asarray(draws["errors"]), np.asarray(draws["total"])
    calib = errs / max(model_expected, 1e-9)
    caught = np.cumsum(np.asarray(expected_top, float))
    point_errs = float(np.median(errs))
    point_cal = point_errs / max(model_expected, 1e-9)
    k_best = None
    for k in range(0, len(caught) + 1):
        got = caught[k - 1] if k else 0.0
        remaining = max(point_errs - min(point_errs, point_cal * got), 0.0) / float(np.median(total))
        if remaining <= target:
            k_best = k
            break
    k_eval = k_best if k_best is not None else len(caught)
    got = caught[k_eval - 1] if k_eval else 0.0
    rem = np.maximum(errs - np.minimum(errs, calib * got), 0) / total
    return {"target": target, "review_top": k_best, "findings": len(caught),
            "expected_remaining_rate": round(float(np.median(rem)), 4), "ci95": _interval(rem),
            "calibration": round(point_cal, 3)}


def population(run: Any, corpus: Any) -> tuple[list[tuple[str, int, int, str, float]],
                                               list[tuple[str, int, int, float, float]]]:
    """The design's two populations from a run folder: every labelled span with its quality (``spans.jsonl``;
    1.0 where the run has none) and every sentence with its strongest candidate missing entity and their summed
    probability (the ``missing`` findings)."""
    from spanqa.corpus.tokenize import sentence_ranges

    quality = {(s.doc_id, s.start, s.end, s.label): float(s.score) for s in run.spans if s.score is not None}
    spans = [(d.id, s.start, s.end, s.label, quality.get((d.id, s.start, s.end, s.label), 1.0))
             for d in corpus.documents for s in d.spans or ()]
    cands: dict[str, list[tuple[int, float]]] = {}
    for f in run.findings:
        if f.kind == "missing" and f.suggestion:
            p = f.evidence.get("p_entity", f.evidence.get("p_suggestion", 1 - f.score))
            cands.setdefault(f.doc_id, []).append((f.suggestion[0].start, float(p)))
    sentences = []
    for d in corpus.documents:
        if d.spans is None:
            continue
        for a, b in sentence_ranges(d):
            ps = [p for x, p in cands.get(d.id, ()) if a <= x < b]
            sentences.append((d.id, a, b, max(ps, default=0.0), float(sum(ps))))
    return spans, sentences


def expected_errors(run: Any) -> tuple[list[float], float]:
    """The ranking's expected errors per finding in rank order (a pattern is left out: its members are listed) and
    the model's
    expected errors over the whole corpus (``1 - quality`` summed, plus the candidate missing entities)."""
    top = [float(f.evidence.get("expected_errors", 1 - f.score)) for f in run.ranked() if f.kind != "pattern"]
    model = sum(1 - float(s.score) for s in run.spans if s.score is not None)
    model += sum(float(f.evidence.get("p_entity", 1 - f.score)) for f in run.findings if f.kind == "missing")
    return top, model


# --------------------------------------------------------------------------- the sheet a reviewer fills in
COLUMNS = ("unit_id", "unit", "doc_id", "start", "end", "label", "text", "model_quality", "stratum", "context",
           "verdict", "error_kind", "missing", "reviewer", "reason")
WRONG = {"incorrect", "wrong", "error", "no", "n", "reject", "rejected"}
RIGHT = {"correct", "right", "ok", "yes", "y", "accept", "accepted"}


def design_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".design.json")


def write_design(corpus: Any, d: Design, path: str | Path) -> dict[str, int]:
    """The sheet (CSV, one row per unit: span rows take ``verdict`` correct/incorrect and an optional
    ``error_kind``; sentence rows take ``missing``, the entities the labels lack there) and its design beside it."""
    import csv
    import json

    from spanqa.core.output import atomic_open, write_text
    from spanqa.review.cells import safe_row
    from spanqa.review.exports import context_string

    path = Path(path)
    docs = corpus.by_id()
    with atomic_open(path) as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for u in d.units:
            text = docs[u.doc_id].text
            q = "" if u.kind != "span" else f"{100 * (1 - u.expected):.0f}%"
            w.writerow(safe_row([u.id, u.kind, u.doc_id, u.start, u.end, u.label or "",
                                 " ".join(text[u.start:u.end].split()), q, u.stratum,
                                 context_string(text, u.start, u.end), "", "", "", "", ""]))
    rec = d.to_dict() | {"units": [vars(u) for u in d.units]}
    write_text(design_path(path), json.dumps(rec, indent=1) + "\n")
    return {"spans": sum(u.kind == "span" for u in d.units), "sentences": sum(u.kind == "sentence" for u in d.units)}


def read_verdicts(path: str | Path) -> tuple[Design, list[Verdict], int]:
    """The design and the reviewed units of a filled-in sheet; rows left blank are counted, not guessed
    (``E508`` names file and line for a value that is neither)."""
    import csv
    import json

    from spanqa.core.errors import fail

    path = Path(path)
    dpath = design_path(path)
    if not dpath.is_file():
        raise fail("E508", f"{dpath.name} is not beside the sheet; estimate needs the design it was drawn with",
                   path=str(path))
    try:
        rec = json.loads(dpath.read_bytes().decode("utf-8"))
        d = Design.from_dict(rec)
        units = {u["id"]: Unit(**u) for u in rec["units"]}
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        raise fail("E508", f"the design file cannot be read: {err}", path=str(dpath)) from None
    verdicts, blank = [], 0
    if not path.is_file():
        raise fail("E508", f"{path} is not a file", path=str(path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise fail("E508", f"the sheet is not UTF-8 (byte {err.start})", path=str(path)) from None
    import io

    with io.StringIO(text, newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), 2):
            u = units.get((row.get("unit_id") or "").strip())
            if u is None:
                raise fail("E508", f"unit {row.get('unit_id')!r} is not in the design", path=str(path), line=line)
            if u.kind == "span":
                v = (row.get("verdict") or "").strip().lower()
                if not v:
                    blank += 1
                    continue
                if v not in WRONG | RIGHT:
                    raise fail("E508", f"verdict {v!r}: use correct or incorrect", path=str(path), line=line)
                kind = (row.get("error_kind") or "").strip().lower() or None
                verdicts.append(Verdict(u, wrong=v in WRONG, error_kind=kind))
            else:
                m = (row.get("missing") or "").strip()
                if not m:
                    blank += 1
                    continue
                if not m.isdigit():
                    raise fail("E508", f"missing {m!r}: give the number of entities the labels lack in the sentence "
                                       "(0 when none)", path=str(path), line=line)
                verdicts.append(Verdict(u, missing=int(m)))
    return d, verdicts, blank


__all__ = ["COLUMNS", "Design", "Unit", "Verdict", "allocate", "design", "design_path", "estimate",
           "expected_errors", "plan", "population", "read_verdicts", "write_design"]
