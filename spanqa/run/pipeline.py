"""``spanqa audit``: out-of-fold tagging -> predicted spans -> comparison -> scores -> findings -> run folder.

The run folder ``out/`` (all span offsets are half-open **document character offsets**)::

    fingerprint.json, folds/   k-fold checkpoints (spanqa.model.kfold): a killed run resumes from finished folds
    marginals.npz              the out-of-fold word marginals (OOFPredictions.save)
    predictions.jsonl          one predicted span a line: {doc_id, start, end, label, text, score, p_exact, fold, annotated}
    spans.jsonl                one labelled span a line (every one, exactly once): {doc_id, start, end, label, text,
                               quality, fold, alignable[, reason, span_id, alternative]}
    findings.jsonl             one finding a line, most suspicious first: {id, doc_id, kind, action, score, labels,
                               suggestion, evidence, message}
    problems.jsonl             every coded problem met on the way (reading, k-fold)
    summary.json               counts per kind and per label, the estimated corpus error rate with a 95% interval,
                               corpus path/format, config, package versions, timings per stage

**Estimated corpus error rate.**  ``quality`` is the probability that a labelled span is
exactly right, so ``1 - quality`` is its expected error; each candidate missing entity (a
predicted span no label overlaps) adds ``p_entity``.  The rate is::

    (sum over labelled spans of (1 - quality) + sum over candidates of p_entity) / number of labelled spans

(spans without marginals are left out of both sums).  Its 95% interval is the 2.5/97.5
percentile of :data:`~spanqa.score.ranking.error_rate.BOOTSTRAP_RESAMPLES` bootstrap resamples *of documents*
(seed :data:`~spanqa.score.ranking.error_rate.BOOTSTRAP_SEED`), so notes with many errors weigh as a unit.

Everything after k-fold is deterministic given the marginals, and k-fold is deterministic
and resumable, so a rerun into the same folder - after an interruption or not - writes
the same ``spans.jsonl``, ``findings.jsonl`` and ``predictions.jsonl``.

:func:`audit` = :func:`compute` (every record, nothing written) + :func:`~spanqa.run.files.write_run` (the run
folder), so ``audit(..., out=None, oof=...)`` writes nothing at all.

Why ~600 lines: the audit's one long function (:func:`compute`) reads top to bottom as the stages above; the
summary (:func:`build_summary`) sits beside it; its console rendering is the CLI's (:mod:`spanqa.cli.summary`).
"""

from __future__ import annotations

import json
import platform
import time
from collections import Counter
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from spanqa._moved import relocated
from spanqa._version import __version__
from spanqa.compare.comparison import compare_spans
from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus, Document, corpus_hash
from spanqa.core.errors import Location, Problem, fail
from spanqa.core.output import inside
from spanqa.core.span import Span
from spanqa.model.predictions import OOFPredictions, decode
from spanqa.run.files import FILES, NESTED, AuditResult, write_run
from spanqa.run.files import notify as _notify
from spanqa.run.nested import audit_layers
from spanqa.score.competence import qualify, withhold_unsupported
from spanqa.score.findings import FINDING_KINDS, Finding, doc_findings, ood_findings, rank_findings, sort_findings
from spanqa.score.patterns import find_patterns
from spanqa.score.quality import CandidateScore, SpanQuality, TagLattice, note_stats, score_spans
from spanqa.score.ranking.error_rate import confident_error_rate, o_threshold, upper_bound_rate
from spanqa.score.ranking.ranker import rank_corpus


def words_marginals(marginals: Mapping[str, Any], lattices: Mapping[str, TagLattice]) -> dict[str, Any]:
    """The marginals of the documents that were scored (those with a lattice)."""
    return {d: m for d, m in marginals.items() if d in lattices}


def gold_word_tags(corpus: Corpus, marginals: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each scored document's labels as one IOB2 tag per marginal word."""
    from spanqa.corpus.bio import spans_to_tags

    by_id = corpus.by_id()
    return {d: spans_to_tags(m.words, by_id[d].spans or ()) for d, m in marginals.items()}


def _versions() -> dict[str, str]:
    """Versions of spanqa, Python and the model stack, read from package metadata (no import)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"spanqa": __version__, "python": platform.python_version()}
    for name in ("torch", "transformers", "tokenizers", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            out[name] = "absent"
    return out


def _span_problems(doc: Document, qualities: Sequence[SpanQuality], *, has_marginals: bool) -> list[Problem]:
    """W405 for an annotated note without marginals, W404 for each span scored on its hull.

    Spans dropped by flat tagging (``overlap_dropped``) are already reported by k-fold as W403.
    """
    if not has_marginals:
        return [Problem("W405", Location(doc_id=doc.id), f"{len(qualities)} span(s) without a quality")] \
            if qualities else []
    out = []
    for q in qualities:
        if not q.alignable and q.reason != "overlap_dropped":
            assert q.reason is not None  # score_spans gives every unalignable span its reason
            s = q.span
            out.append(Problem("W404", Location(doc_id=doc.id, start=s.start, end=s.end, excerpt=doc.text[s.start:s.end]),
                               f"{s.label} span: {q.reason.replace('_', ' ')}"))
    return out


def audit(corpus: Corpus, config: AuditConfig, *, out: str | Path | None, progress: bool = True,
          oof: OOFPredictions | None = None, on_fold_done: Callable[[int], None] | None = None,
          remember: bool = True) -> AuditResult:
    """Audit ``corpus``: :func:`compute`, then :func:`~spanqa.run.files.write_run` into the run folder ``out``
    (module docstring).

    With ``out=None`` nothing is written: the result holds every record (``result.rows``) and ``result.out`` is
    ``None``.  That needs ``oof`` - k-fold training keeps its checkpoints and caches in the run folder.  With
    ``remember`` (the default) the findings a reviewer rejected on this corpus version are left out
    (:mod:`spanqa.score.rejections`).

    Args:
        corpus: the corpus under audit; only annotated documents get scores and findings,
            unannotated ones get predictions.
        config: the audit configuration (``[findings]`` thresholds are read here).
        out: run folder; created if needed; a previous run of the same corpus and model
            settings there is resumed (``E406`` if it belongs to another).
        progress: show progress bars and stage messages on stderr.
        oof: marginals computed elsewhere (skips k-fold; for tests and re-scoring).
        on_fold_done: passed to :func:`spanqa.model.kfold.run_kfold` (tests simulate interruptions with it).
    """
    from spanqa.model.foldstore import make_run_dir

    if out is None:
        if oof is None:
            raise ValueError("audit(out=None) needs oof=: k-fold training keeps its checkpoints in a run folder")
        result = compute(corpus, config, progress=progress, oof=oof)
        return _forget_rejected(result, corpus.source, progress) if remember else result
    if corpus.source and Path(corpus.source).is_dir() and inside(Path(out), Path(corpus.source)):
        raise fail("E505", f"{out} lies inside the corpus folder {corpus.source}; the run's files would be read as "
                   "part of the corpus next time", path=str(out))
    out = make_run_dir(Path(out))
    if oof is None and config.data.layers == "auto":
        from spanqa.corpus.layers import label_layers

        layers = label_layers(corpus)
        if len(layers) > 1:  # nested labels: one flat audit per layer, merged (spanqa.run.nested)
            result = audit_layers(corpus, config, layers, out=out, progress=progress, on_fold_done=on_fold_done,
                                  audit_flat=partial(audit, remember=False), summarize=build_summary)
            return _remember_written(result, corpus.source, progress) if remember else result
    result = compute(corpus, config, work_dir=out, progress=progress, oof=oof, on_fold_done=on_fold_done)
    if remember:
        result = _forget_rejected(result, corpus.source, progress)
    return write_run(result, out)


def _forget_rejected(result: AuditResult, source: str | Path | None, progress: bool) -> AuditResult:
    """The computed ``result`` without the findings a reviewer rejected on this corpus version (in memory)."""
    from spanqa.score.rejections import forget

    got = forget(result.rows["findings"], result.summary, source)
    if got is None:
        return result
    kept, gone, entry = got
    _say_remembered(entry, progress)
    ids = {r["id"] for r in kept}
    return replace(result, findings=[f for f in result.findings if f.id in ids],
                   rows={**result.rows, "findings": kept, "suppressed": gone})


def _remember_written(result: AuditResult, source: str | Path | None, progress: bool) -> AuditResult:
    """As :func:`_forget_rejected`, for a run folder already written (the nested audit's merged folder)."""
    from spanqa.score.rejections import remember as suppress_rejected

    assert result.out is not None  # audit_layers writes its folder
    remembered = suppress_rejected(result.out, source)
    if remembered is None:
        return result
    entry, kept = remembered
    _say_remembered(entry, progress)
    lines = (result.out / FILES["findings"]).read_text(encoding="utf-8").splitlines()
    return replace(result, findings=[f for f in result.findings if f.id in kept],
                   summary=json.loads((result.out / FILES["summary"]).read_text(encoding="utf-8")),
                   rows={**result.rows, "findings": [json.loads(x) for x in lines if x.strip()]})


def _say_remembered(entry: Mapping[str, Any], progress: bool) -> None:
    _notify(progress)(f"{entry['count']} findings rejected before on this corpus version left out "
                      f"({entry['file']}); {entry['raised_again']} raised again on new evidence")


def compute(corpus: Corpus, config: AuditConfig, *, work_dir: Path | None = None, progress: bool = True,
            oof: OOFPredictions | None = None, on_fold_done: Callable[[int], None] | None = None) -> AuditResult:
    """Everything one flat audit computes, nothing written: the result holds the record of every run file
    (``result.rows``) and the summary; ``result.out`` is ``None``.  :func:`~spanqa.run.files.write_run` writes it.

    Without ``oof`` the out-of-fold tagger is trained and needs ``work_dir`` (the run folder: its checkpoints
    make a killed run resume).  Arguments as :func:`audit`; nested labels are :func:`audit`'s (one flat audit
    per layer).
    """
    if oof is None and work_dir is None:
        raise ValueError("compute(oof=None) trains the out-of-fold tagger and needs work_dir for its checkpoints")
    say = _notify(progress)
    chosen = None
    if oof is None:
        from spanqa.model.plan import resolve

        config, chosen = resolve(config, corpus)
        assert chosen is not None  # resolve plans whenever it is given a corpus
        say(chosen.sentence())
        from spanqa.model.plan import busy_note
        from spanqa.model.tagger import resolve_device, threads_for

        if config.model.init != "random_tiny" and resolve_device(config.model.device) == "cpu":
            import torch

            busy = busy_note(threads_for(config.model) or torch.get_num_threads())
            if busy:
                say(busy)
        if config.model.adapt_epochs:
            say(f"Adapting the encoder to the corpus's text first: {config.model.adapt_epochs} pass(es) of masked-"
                "language-model training, no label read (model.adapt_epochs; cached in the run folder).")
    timings: dict[str, float] = {}
    t_all = time.perf_counter()

    t0 = time.perf_counter()
    if oof is None:
        from spanqa.model.kfold import run_kfold

        if config.train.mode == "fast":
            say(f"k-fold ({config.train.mode}): {config.train.folds} folds, frozen encoder + {config.fast.head} head, "
                f"model {config.model.init}")
        else:
            say(f"k-fold ({config.train.mode}): {config.train.folds} folds x {config.train.epochs} epochs, "
                f"model {config.model.init}")
        assert work_dir is not None  # checked above
        oof = run_kfold(corpus, config, run_dir=work_dir, progress=progress, on_fold_done=on_fold_done)
    timings["kfold_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    predictions, seams = decode_corpus(corpus, oof)
    timings["decode_s"] = time.perf_counter() - t0

    say("scoring spans and building findings")
    t_score = t_find = 0.0
    f = config.findings
    qualities: list[SpanQuality] = []
    findings: list[Finding] = []
    candidates: list[CandidateScore] = []
    per_doc_err: list[float] = []
    per_doc_n: list[int] = []
    lattices: dict[str, TagLattice] = {}
    audit_problems: list[Problem] = []
    all_comps: list = []
    for doc in corpus.documents:
        if doc.spans is None:
            continue
        m = oof.docs.get(doc.id)
        t0 = time.perf_counter()
        lat = TagLattice(m.probs, oof.tags) if m is not None and len(m.words) else None
        if lat is not None:
            lattices[doc.id] = lat
        qs = score_spans(list(doc.spans), m if lat is not None else None, oof.tags, lattice=lat)
        t_score += time.perf_counter() - t0
        qualities.extend(qs)
        audit_problems.extend(_span_problems(doc, qs, has_marginals=lat is not None))
        t0 = time.perf_counter()
        cands: list[CandidateScore] = []
        if lat is not None:
            comps = compare_spans(doc.id, list(doc.spans), predictions[doc.id])
            all_comps.extend(comps)
            fs, cands = doc_findings(doc.text, list(doc.spans), predictions[doc.id], m, oof.tags, qs,
                                     min_quality=f.min_quality, ambiguous_margin=f.ambiguous_margin,
                                     lattice=lat, components=comps)
            findings.extend(fs)
            candidates.extend(cands)
        t_find += time.perf_counter() - t0
        # Nested spans a flat tagger never saw (overlap_dropped) cannot be judged: kept in spans.jsonl, left out here.
        scored = [q.quality for q in qs if q.quality is not None and q.reason != NESTED]
        per_doc_err.append(sum(1.0 - x for x in scored) + sum(c.p_entity for c in cands))
        per_doc_n.append(len(scored))
    t0 = time.perf_counter()
    texts = {d.id: d.text for d in corpus.documents}
    annotated_m = {d.id: oof.docs[d.id] for d in corpus.documents if d.spans is not None and d.id in oof.docs}
    stats = note_stats(annotated_m, texts)
    findings.extend(ood_findings(stats, quantile=f.ood_quantile))
    timings["score_s"] = t_score
    timings["findings_s"] = t_find + time.perf_counter() - t0

    t0 = time.perf_counter()
    say(f"ranking ({config.ranking.method})")
    rk = config.ranking
    words = {d: annotated_m[d].words for d in lattices if d in annotated_m}
    agreement = model_agreement(all_comps)
    reliability = {lab: row["f1"] for lab, row in agreement["per_label"].items()}
    ranking = rank_corpus(corpus, words, {d: lattices[d] for d in words}, predictions, method=rk.method,
                          rate=rk.inject_rate, seed=rk.inject_seed,
                          margins={d: annotated_m[d].margins for d in words},
                          copy_margins={d: annotated_m[d].copy_margins for d in words}, reliability=reliability,
                          systematic=rk.inject_systematic)
    findings = rank_findings(findings, ranking, qualities, lattices, texts, min_p_error=f.min_p_error)
    findings, withheld = withhold_unsupported(findings)
    findings = qualify(findings, reliability)
    patterns, findings = find_patterns(findings, texts)
    findings = sort_findings(patterns + findings)
    confident = honest_error_rate(qualities, candidates, agreement,
                                  o_threshold(words_marginals(annotated_m, lattices),
                                              gold_word_tags(corpus, annotated_m), oof.tags))
    timings["ranking_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    by_id = corpus.by_id()
    pred_recs = []
    for doc in corpus.documents:
        m = oof.docs.get(doc.id)
        if m is None:
            continue
        lat = lattices.get(doc.id) or (TagLattice(m.probs, oof.tags) if len(m.words) else None)
        word_at = {a: i for i, (a, _) in enumerate(m.words)}
        word_end = {b: i + 1 for i, (_, b) in enumerate(m.words)}
        for s in predictions[doc.id]:
            assert s.score is not None  # decode() scores every span
            p = lat.span_prob(word_at[s.start], word_end[s.end], s.label) if lat is not None else None
            pred_recs.append({"doc_id": doc.id, **s.to_dict(doc.text), "score": round(float(s.score), 6),
                              "p_exact": None if p is None else round(p, 6), "fold": m.fold,
                              "annotated": doc.spans is not None})
    problems = ([p.to_dict() for p in corpus.problems] + list(oof.meta.get("problems", []))
                + [p.to_dict() for p in audit_problems])
    rows = {"spans": [q.to_dict(by_id[q.span.doc_id].text) for q in qualities],
            "findings": [x.to_dict(by_id[x.doc_id].text) for x in findings],
            "predictions": pred_recs, "problems": problems}
    timings["write_s"] = time.perf_counter() - t0  # the records; write_run adds the writing
    timings["total_s"] = time.perf_counter() - t_all

    summary = build_summary(corpus, config, oof, qualities, findings, candidates, per_doc_err, per_doc_n,
                            problems=problems, timings=timings, n_predicted=len(pred_recs),
                            agreement=agreement, confident=confident, ranking=ranking)
    summary["span_edges"] = seams
    if chosen is not None:
        summary["plan"] = chosen.to_dict()
    summary["findings"]["withheld"] = {"split_or_merge_without_support": withheld,
                                       "rule": "a split or merge only the model's path supports is not offered as a "
                                               "fix (spanqa.score.competence)"}
    return AuditResult(None, oof, qualities, findings, predictions, candidates, summary, ranking, rows)


def honest_error_rate(qualities: Sequence[SpanQuality], candidates: Sequence[CandidateScore],
                      agreement: Mapping[str, Any], o_thr: float) -> dict[str, Any]:
    """The confident-learning error rate over the labels the model can judge (:mod:`spanqa.score.competence`), the others
    listed as not assessed, and no estimate at all when the model agrees with the labels too little; the estimate
    over every label stays beside it as ``all_labels``."""
    from spanqa.score.competence import MIN_AGREEMENT, RELIABLE_F1, assessable_labels

    assessed, weak = assessable_labels(agreement)
    rate = confident_error_rate(qualities, candidates, o_threshold=o_thr, labels=assessed)
    every = confident_error_rate(qualities, candidates, o_threshold=o_thr)
    n_by_label = Counter(q.span.label for q in qualities if q.quality is not None and q.reason != NESTED)
    rate["assessed_labels"] = assessed
    rate["not_assessed"] = {lab: {"f1": f1, "n_spans": n_by_label.get(lab, 0),
                                  "why": f"the out-of-fold model's span F1 on it is below {RELIABLE_F1}"}
                            for lab, f1 in weak.items()}
    rate["all_labels"] = {k: every[k] for k in ("estimate", "ci95", "n_spans")}
    f1 = float(agreement.get("f1") or 0.0)
    if f1 < MIN_AGREEMENT or not assessed:
        rate["withheld"] = (f"not estimated: the out-of-fold model agrees with the labels at span F1 {f1:.2f}, below "
                            f"{MIN_AGREEMENT}; most disagreements would be its own mistakes" if f1 < MIN_AGREEMENT else
                            f"not estimated: the model's out-of-fold F1 is below {RELIABLE_F1} on every label")
        rate["estimate"], rate["ci95"] = None, [None, None]
    return rate


def decode_corpus(corpus: Corpus, oof: OOFPredictions) -> tuple[dict[str, list[Span]], dict[str, Any]]:
    """Every document's decoded spans, with span edges kept out of words (:mod:`spanqa.model.edges`): at a
    hyphen or slash only when the corpus's own labels put edges there.  Returns the spans and the convention
    (for ``summary.json``)."""
    from spanqa.model.edges import joiner_edges_allowed, word_boundaries

    allowed, evidence = joiner_edges_allowed(d for d in corpus.documents if d.spans is not None)
    texts = {d.id: d.text for d in corpus.documents}
    out = {doc_id: decode(m, oof.tags, word_boundaries(texts[doc_id], m.words, joiner_edges=allowed))
           if doc_id in texts else decode(m, oof.tags) for doc_id, m in oof.docs.items()}
    return out, {"joiner_edges_allowed": allowed, **evidence,
                 "rule": "decoded spans never start or end inside a word (a letter on both sides) and never start or "
                         "end with a hyphen or slash; they end before or start after one only when at least "
                         f"{evidence['threshold']:.0%} of the labelled spans do"}


def model_agreement(components: Sequence[Any]) -> dict[str, Any]:
    """How well the out-of-fold model agrees with the labels: strict span P/R/F1, micro and per label.

    ``components`` are :func:`spanqa.compare.comparison.compare_spans` components with the labels
    on the ``labels`` side and the decoded predictions on the ``other`` side.  Every
    finding is a disagreement, so this is the yardstick for all of them: with a weak
    model (low F1) most findings and most of the estimated error rate are the model's own
    mistakes.
    """
    from spanqa.compare.metrics import span_metrics

    m = span_metrics(components)

    def row(prf: Any) -> dict[str, Any]:  # labels side = gold: its "precision" is the model's recall
        return {"f1": round(prf.f1, 4), "precision": round(prf.recall, 4), "recall": round(prf.precision, 4),
                "matched": prf.matched, "n_labels": prf.n_labels, "n_predicted": prf.n_other}

    return {**row(m.micro), "per_label": {k: row(v) for k, v in m.per_label.items()},
            "method": "strict span match (same start, end and label) of the decoded out-of-fold predictions "
                      "against the labels; precision over predicted spans, recall over labelled spans"}


def build_summary(corpus: Corpus, config: AuditConfig, oof: OOFPredictions, qualities: Sequence[SpanQuality],
                  findings: Sequence[Finding], candidates: Sequence[CandidateScore], per_doc_err: Sequence[float],
                  per_doc_n: Sequence[int], *, problems: Sequence[Mapping[str, Any]],
                  timings: Mapping[str, float], n_predicted: int | None = None,
                  agreement: Mapping[str, Any] | None = None, confident: Mapping[str, Any] | None = None,
                  ranking: Any = None) -> dict[str, Any]:
    """The content of ``summary.json`` (JSON-native)."""
    by_kind = Counter(x.kind for x in findings)
    labels = sorted({q.span.label for q in qualities} | {s.label for x in findings for s in x.suggestion})
    per_label: dict[str, dict[str, Any]] = {}
    for lab in labels:
        qs = [q.quality for q in qualities if q.span.label == lab and q.quality is not None]
        kinds = Counter(x.kind for x in findings if (x.labels or x.suggestion) and (x.labels or x.suggestion)[0].label == lab)
        per_label[lab] = {"n_spans": sum(1 for q in qualities if q.span.label == lab),
                          "mean_quality": round(float(np.mean(qs)), 6) if qs else None,
                          "n_findings": int(sum(kinds.values())),
                          "findings_by_kind": {k: kinds[k] for k in FINDING_KINDS if kinds[k]}}
    unalignable = Counter(q.reason for q in qualities if not q.alignable)
    upper = upper_bound_rate(per_doc_err, per_doc_n)
    rate: dict[str, Any] = dict(confident) if confident is not None else dict(upper)
    rate["upper_bound"] = {k: upper[k] for k in ("estimate", "ci95", "method")}
    rate["expected_errors_in_labels"] = round(float(sum(1.0 - q.quality for q in qualities
                                                        if q.quality is not None and q.reason != NESTED)), 4)
    rate["n_spans_not_assessed_nested"] = sum(1 for q in qualities if q.reason == NESTED)
    rate["expected_missing_entities"] = round(float(sum(c.p_entity for c in candidates)), 4)
    rate["n_spans_scored"] = int(sum(per_doc_n))
    n_ann = sum(1 for d in corpus.documents if d.spans is not None)
    return {
        "assessed": assessed_spans(qualities),
        "corpus": {"path": None if corpus.source is None else str(Path(corpus.source).resolve()),
                   "format": corpus.format, "n_docs": len(corpus), "n_annotated_docs": n_ann,
                   "n_unannotated_docs": len(corpus) - n_ann, "n_spans": len(qualities),
                   "n_unalignable_spans": dict(sorted(unalignable.items())),
                   "n_predicted_spans": n_predicted, "hash": corpus_hash(corpus)},
        "findings": {"total": len(findings), "by_kind": {k: by_kind[k] for k in FINDING_KINDS},
                     "candidate_missing_entities": len(candidates)},
        "labels": per_label,
        "error_rate": rate,
        "model_agreement": dict(agreement) if agreement is not None else None,
        "ranking": None if ranking is None else {
            **ranking.fit, "model": None if ranking.model is None else ranking.model.to_dict(),
            "n_candidates": len(ranking.candidates)},
        "problems": dict(sorted(Counter(p["code"] for p in problems).items())),
        "kfold": {k: oof.meta.get(k) for k in ("fingerprint", "model", "resumed_folds", "windows", "gold")
                  if k in oof.meta} | {"folds": {k: v for k, v in (oof.meta.get("folds") or {}).items()
                                                 if k in ("n", "seed", "n_groups", "test_docs")}},
        "predictions": dict(oof.meta.get("predictions") or {"source": "spanqa out-of-fold tagger (k-fold)"}),
        "config": config.to_dict(),
        "versions": _versions(),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


#: why a labelled span got no judgement, as the summary says it
NOT_ASSESSED_WHY = {
    NESTED: "inside or on another labelled span: the flat tagger holds one layer and kept the longer span",
    "no_marginals": "its note has no model marginals (not covered by --predictions)",
}


def assessed_spans(qualities: Sequence[SpanQuality]) -> dict[str, Any]:
    """How many labelled spans the audit judged, per label, and why the others were not (``summary.json``
    ``assessed``; the console's first line)."""
    rows: dict[str, dict[str, int]] = {}
    why: Counter = Counter()
    for q in qualities:
        row = rows.setdefault(q.span.label, {"spans": 0, "assessed": 0})
        row["spans"] += 1
        reason = "no_marginals" if q.quality is None else (NESTED if q.reason == NESTED else None)
        if reason is None:
            row["assessed"] += 1
        else:
            why[reason] += 1
            row[reason] = row.get(reason, 0) + 1
    n = len(qualities)
    done = sum(r["assessed"] for r in rows.values())
    return {"spans": n, "assessed": done, "share": round(done / n, 4) if n else None,
            "not_assessed": {k: {"spans": v, "why": NOT_ASSESSED_WHY[k]} for k, v in sorted(why.items())},
            "by_label": dict(sorted(rows.items()))}


__getattr__ = relocated(__name__, {  # old names, for one release
    "evaluate_demo": "spanqa.measure.demo.evaluate.evaluate_demo",  # the run layer does not import the demo
    "error_rate": "spanqa.score.ranking.error_rate.upper_bound_rate",
    "render_summary": "spanqa.cli.summary.render_summary", "assessed_line": "spanqa.cli.summary.assessed_line"})

__all__ = ["NOT_ASSESSED_WHY", "assessed_spans", "audit", "build_summary", "compute", "decode_corpus",
           "gold_word_tags", "honest_error_rate", "model_agreement", "words_marginals"]
