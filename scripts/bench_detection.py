"""Detection benchmark on real corrected corpora: spanqa and baselines against CoNLL-2003 corrections.

    python scripts/bench_detection.py --corpus conllpp_test --out runs/bench          # CoNLL++ test
    python scripts/bench_detection.py --corpus all --out runs/bench_all               # every correction set
    python scripts/bench_detection.py --corpus conllpp_test --subset 20 \\
        --set model.init=random_tiny --set train.folds=2 --set train.epochs=1 --out /tmp/b   # plumbing check

What it does
------------
1. **Audit** each original CoNLL-2003 file that a chosen correction set needs (``test``,
   ``valid``, ``train``) with :func:`spanqa.pipeline.audit` - ONE out-of-fold run per file, kept
   in ``OUT/runs/<file>-<subset>-<config hash>/`` (k-fold checkpoints, marginals, findings),
   so a rerun with the same settings loads the finished folds instead of training.
2. **Ground truth** for each correction set = the non-``exact`` components of
   ``compare_corpora(original, corrected)`` (equal, record for record, to the maintainers'
   ``diffs/*.jsonl``): original test vs CoNLL++ test, Reiss et al. 2020 train/dev/test,
   CleanCoNLL dev/test.
3. **Methods**, all on the same out-of-fold word marginals: spanqa's findings (``findings.jsonl``,
   out-of-distribution notes left out); spanqa's ranking before thresholds (every labelled span
   by its quality, plus the ``missing`` findings); cleanlab
   ``token_classification`` (``rank.get_label_quality_scores`` + ``filter.find_label_issues``);
   nessie-style *retag* and *classification uncertainty*; a model-free *surface-form
   variation* detector (see :mod:`spanqa.benchmark` for each definition).
4. **Metrics** (:mod:`spanqa.benchmark`): span-level AP and R-precision overall and per kind
   group, sentence-level AUPRC / AUROC as in cleanlab's benchmark.

Hit definition (span level): a finding *hits* a change when both are in the same document
and their character ranges (in the original text; a change's range is the hull of its
original and corrected spans) share at least one character; for the per-kind columns the
finding's kind group must also equal the change's (type; boundary = boundary +
boundary_type; split/merge = split + merge + complex; missing; spurious).  Down the ranking
(lower score = more suspicious first) each finding claims the unclaimed change it hits with
the largest overlap; a finding that claims nothing is a false positive.  AP sums
precision x recall gain over distinct score thresholds with recall over ALL changes (so
changes never found cost AP); R-precision = claimed changes among the first R findings / R
(R = number of changes; tied scores at the cut count by their expected share).

Sentence level (cleanlab's benchmark): a sentence is positive when a change overlaps it;
``sklearn.metrics.average_precision_score`` / ``roc_auc_score`` of ``-score``.  Sentence
scores: cleanlab = worst token's self-confidence; spanqa = the probability, under the
out-of-fold IOB2 chain, that the sentence's labels are exactly right (never above the
score of a spanqa finding inside the sentence; the min-over-findings variant is in
``results.json`` as ``spanqa.sentence_findings_only``); other detectors = minimum score of
their findings in the sentence, 1.0 when none.

Outputs: ``OUT/results.json`` and ``OUT/results.md`` (command, hardware, load, wall time,
speed of each run, one table per correction set).  ``--phee`` also audits PHEE (no ground
truth: findings per kind and the estimated error rate only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from spanqa.benchmark import (GROUPS, KIND_GROUP, SIGNAL_DIRECTION, candidate_detections, sentence_noisy_or, changes_from_comparison, cleanlab_baseline, corpus_sentences, finding_detections,
                              gold_path_scores, nessie_retag, quality_detections, nessie_uncertainty, sentence_metrics,
                              sentence_min_scores, sentence_truth, span_metrics, surface_form_detections)
from spanqa.comparison import compare_corpora
from spanqa.config import AuditConfig, load_config
from spanqa.document import Corpus
from spanqa.formats import read_corpus

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "conll2003"
DEFAULT_PHEE = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "phee" / "v1_brat" / "test"

#: correction set -> (original file stem, corrected file relative to the data folder)
CORRECTIONS: dict[str, tuple[str, str]] = {
    "conllpp_test": ("test", "conllpp/test.txt"),
    "reiss_train": ("train", "reiss2020/corrected/train.txt"),
    "reiss_dev": ("valid", "reiss2020/corrected/dev.txt"),
    "reiss_test": ("test", "reiss2020/corrected/test.txt"),
    "cleanconll_dev": ("valid", "cleanconll/reconstructed/cleanconll.dev"),
    "cleanconll_test": ("test", "cleanconll/reconstructed/cleanconll.test"),
}
#: the original files, in the order a whole-corpus audit holds them
ALL_STEMS: tuple[str, ...] = ("train", "valid", "test")
# Share of spans the published correction sets change per original file (low = Reiss et al. 2020 /
# CoNLL++, high = CleanCoNLL; train high = CleanCoNLL's 7.0% of all labels changed): the range an
# error-rate estimate must land in.
PUBLISHED_RANGE: dict[str, tuple[float, float]] = {"test": (0.036, 0.108), "valid": (0.055, 0.091),
                                                   "train": (0.023, 0.070)}
#: table rows, spanqa first
METHODS: dict[str, str] = {
    "spanqa": "spanqa findings (the ranking)",
    "spanqa_all": "spanqa every candidate by the ranking (no threshold)",
    "spanqa_nodyn": "spanqa ranking without training dynamics",
    "spanqa_model": "spanqa, the model alone (P(labels right); before the ranking)",
    "cleanlab": "cleanlab token_classification",
    "retag": "nessie-style retag",
    "uncertainty": "nessie-style classification uncertainty",
    "surface": "surface-form variation (no model)",
    **{f"signal:{n}": f"signal alone: {n}" for n in SIGNAL_DIRECTION},
}
GROUP_TITLES = {"type": "type", "boundary": "boundary", "split_merge": "split/merge", "missing": "missing",
                "spurious": "spurious"}


# --------------------------------------------------------------------------- machine
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def hardware() -> dict[str, Any]:
    import torch

    return {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "cpu": _cpu_model(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cuda": bool(torch.cuda.is_available()), "python": platform.python_version()}


def peak_rss_mib() -> float:
    """Peak resident memory of this process (and waited-for children), MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


# --------------------------------------------------------------------------- data
def subset(corpus: Corpus, n: int | None, unit: str) -> Corpus:
    """The first ``n`` documents (``unit="docs"``) or the first documents holding at least ``n`` sentences."""
    if n is None:
        return corpus
    docs = list(corpus.documents)
    if unit == "docs":
        keep = docs[:n]
    else:
        keep, total = [], 0
        for d in docs:
            if total >= n:
                break
            keep.append(d)
            total += len(d.sentences or ())
    return Corpus(tuple(keep), format=corpus.format, source=corpus.source, problems=corpus.problems, meta=corpus.meta)


def run_key(config: AuditConfig) -> str:
    """10 hex digits over the settings that change the out-of-fold model (not [findings]).

    Mirrors :func:`spanqa.tagging.kfold.fingerprint`: ``train.mode`` and ``[fast]`` count only in fast mode, so a
    finetune run folder made before ``train.mode`` existed keeps its name.
    """
    cfg = config.to_dict()
    train = dict(cfg["train"])
    head = {"model": cfg["model"], "train": train, "group_regex": cfg["data"]["group_regex"]}
    if train.pop("mode", "finetune") != "finetune":
        head["mode"] = cfg["train"]["mode"]
        head["fast"] = cfg.get("fast")
    from spanqa.tagging.kfold import uses_probes

    if uses_probes(config):  # probe documents train on the injected copy's labels
        head["probes"] = {"rate": config.ranking.inject_rate, "seed": config.ranking.inject_seed}
    raw = json.dumps(head, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


# --------------------------------------------------------------------------- one audited file
def _speed(corpus: Corpus, oof: Any, config: AuditConfig, wall_s: float) -> dict[str, Any]:
    """Training and inference throughput from the k-fold statistics (resumed folds keep their first timing)."""
    n_sent = {d.id: len(d.sentences or ()) for d in corpus.documents}
    total = sum(n_sent.values())
    by_doc = (oof.meta.get("folds") or {}).get("by_doc") or {}
    stats = oof.meta.get("fold_stats") or []
    train_s = sum(float(s.get("train_s", 0.0)) for s in stats)
    predict_s = sum(float(s.get("predict_s", 0.0)) for s in stats)
    passes = 0
    for k, s in enumerate(stats):
        held = sum(n for d, n in n_sent.items() if by_doc.get(d) == k)
        epochs = s.get("epochs_run") or len(s.get("epoch_loss") or []) or config.train.epochs
        passes += (total - held) * epochs
    timing = oof.meta.get("timing") or {}
    features_s = timing.get("features_s") or None
    out = {"mode": oof.meta.get("mode", "finetune"), "sentences": total, "docs": len(corpus.documents),
           "words": int(sum(len(m.words) for m in oof.docs.values())),
           "wall_s": round(wall_s, 1), "kfold_wall_s": timing.get("wall_s"),
           "encode_s": timing.get("encode_s"), "features_s": features_s,
           "encoder_sent_per_s": round(total / features_s, 1) if features_s else None,
           "train_s": round(train_s, 1), "predict_s": round(predict_s, 1),
           "train_sentence_passes": passes,
           "train_sent_per_s": round(passes / train_s, 1) if train_s else None,
           "infer_sent_per_s": round(total / predict_s, 1) if predict_s else None,
           "resumed_folds": oof.meta.get("resumed_folds", []),
           "peak_rss_mib": peak_rss_mib()}
    return out


def read_original(stem: str, data: Path, args: argparse.Namespace) -> Corpus:
    """One original CoNLL-2003 file (ids ``{stem}-{i}``), cut to ``--subset``."""
    return subset(read_corpus(data / "original" / f"{stem}.txt", format="conll"), args.subset, args.subset_unit)


def audit_file(stem: str, data: Path, config: AuditConfig, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``--protocol file``: audit one original file on its own."""
    return audit_corpus(stem, read_original(stem, data, args), config, out, args)


def audit_whole(stems: list[str], data: Path, config: AuditConfig, out: Path, args: argparse.Namespace
                ) -> dict[str, Any]:
    """``--protocol corpus``: ONE audit of train + valid + test together (as a user audits a corpus).

    Document ids keep their file (``train-0``, ``valid-0``, ``test-0``), folds are by document over
    the whole corpus, and every baseline runs on the whole corpus's marginals (cleanlab's
    per-class thresholds and the surface-form readings see every file); each correction set is
    then scored on its own file's documents (:func:`restrict`).
    """
    docs = [d for stem in ALL_STEMS for d in read_original(stem, data, args).documents]
    return audit_corpus("all", Corpus.from_docs(docs), config, out, args)


def restrict(audited: dict[str, Any], stem: str) -> dict[str, Any]:
    """The documents of file ``stem`` (ids ``{stem}-N``) of a whole-corpus audit, with their detections and
    sentence scores (an audit of that file alone is returned as it is)."""
    if audited["stem"] == stem:
        return audited
    keep = {d.id for d in audited["corpus"].documents if d.id.startswith(f"{stem}-")}
    corpus = Corpus(tuple(d for d in audited["corpus"].documents if d.id in keep), format="conll")
    mask = np.asarray([s.doc_id in keep for s in audited["sentences"]], dtype=bool)
    return {**audited, "stem": stem, "corpus": corpus,
            "sentences": [s for s, m in zip(audited["sentences"], mask) if m],
            "dets": {k: [d for d in v if d.doc_id in keep] for k, v in audited["dets"].items()},
            "sent": {k: v[mask] for k, v in audited["sent"].items()}}


def rerank(corpus: Corpus, oof: Any, result: Any, config: AuditConfig) -> dict[str, Any]:
    """The audit's ranking again without training dynamics (``nodyn``) and by the model alone (``model``)."""
    from spanqa.quality import TagLattice
    from spanqa.ranking.ranker import rank_corpus

    rk = config.ranking
    ann = {d.id for d in corpus.documents if d.spans is not None}
    words = {d: m.words for d, m in oof.docs.items() if d in ann and len(m.words)}
    lattices = {d: TagLattice(oof.docs[d].probs, oof.tags) for d in words}
    out = {}
    for name, method in (("nodyn", "injected"), ("model", "model")):
        out[name] = rank_corpus(corpus, words, lattices, result.predictions, method=method, rate=rk.inject_rate,
                                seed=rk.inject_seed)
    return out


def share_features(run_dir: Path, stem: str) -> None:
    """Hard-link the frozen-encoder feature caches of sibling runs of the same corpus into ``run_dir/features``.

    A cache file is named and checked by its key (encoder, layers, pooling, every window), so a run
    with other head settings reuses it only when it is exactly what it would compute; the others
    are ignored by :func:`spanqa.tagging.features.load_features`.
    """
    target = run_dir / "features"
    for other in sorted(run_dir.parent.glob(f"{stem}-*/features/words_*.npz")):
        dest = target / other.name
        if other.parent != target and not dest.exists():
            target.mkdir(parents=True, exist_ok=True)
            try:
                os.link(other, dest)
            except OSError:
                pass


def audit_corpus(stem: str, corpus: Corpus, config: AuditConfig, out: Path, args: argparse.Namespace
                 ) -> dict[str, Any]:
    """Audit ``corpus`` once; every method's detections and sentence scores from its marginals."""
    from spanqa.pipeline import audit

    tag = "all" if args.subset is None else f"{args.subset}{'d' if args.subset_unit == 'docs' else 's'}"
    run_dir = out / "runs" / f"{stem}-{tag}-{run_key(config)}"
    share_features(run_dir, stem)
    print(f"[bench] auditing {stem}: {len(corpus.documents)} docs, "
          f"{sum(len(d.sentences or ()) for d in corpus.documents)} sentences -> {run_dir}", file=sys.stderr)
    t0 = time.perf_counter()
    result = audit(corpus, config, out=run_dir, progress=args.progress)
    wall = time.perf_counter() - t0
    oof = result.oof
    t1 = time.perf_counter()
    words = {d: m.words for d, m in oof.docs.items()}
    sentences = corpus_sentences(corpus, words)
    dets: dict[str, list] = {}
    sent: dict[str, np.ndarray] = {}
    timing: dict[str, float] = {}

    def timed(name: str, fn):
        t = time.perf_counter()
        value = fn()
        timing[name] = round(time.perf_counter() - t, 2)
        return value

    dets["spanqa"] = finding_detections(result.findings)
    dets["spanqa_all"] = candidate_detections(result.ranking)
    sent["spanqa"] = sent["spanqa_all"] = sentence_noisy_or(sentences, result.ranking)
    sent["spanqa_findings_only"] = sentence_min_scores(sentences, dets["spanqa"])
    variants = timed("spanqa_variants", lambda: rerank(corpus, oof, result, config))
    dets["spanqa_nodyn"], sent["spanqa_nodyn"] = candidate_detections(variants["nodyn"]), \
        sentence_noisy_or(sentences, variants["nodyn"])
    dets["spanqa_model"] = candidate_detections(variants["model"])
    sent["spanqa_model"] = timed("spanqa_path", lambda: gold_path_scores(corpus, oof, sentences))
    for name in SIGNAL_DIRECTION:
        dets[f"signal:{name}"] = candidate_detections(result.ranking, signal=name)
        sent[f"signal:{name}"] = sentence_min_scores(sentences, dets[f"signal:{name}"])
    dets["cleanlab"], sent["cleanlab"] = timed("cleanlab", lambda: cleanlab_baseline(corpus, oof, sentences))
    dets["retag"] = timed("retag", lambda: nessie_retag(corpus, oof, result.predictions))
    dets["uncertainty"] = timed("uncertainty", lambda: nessie_uncertainty(corpus, oof))
    dets["surface"] = timed("surface", lambda: surface_form_detections(corpus, words))
    for name in ("retag", "uncertainty", "surface"):
        sent[name] = sentence_min_scores(sentences, dets[name])
    speed = _speed(corpus, oof, config, wall)
    speed["audit_timings"] = result.summary.get("timings", {})
    speed["baselines_s"] = timing
    speed["methods_s"] = round(time.perf_counter() - t1, 1)
    print(f"[bench] {stem}: audit {wall:.0f} s, {len(result.findings)} findings", file=sys.stderr)
    return {"stem": stem, "corpus": corpus, "run_dir": str(run_dir), "sentences": sentences, "dets": dets,
            "sent": sent, "speed": speed, "summary": result.summary, "doc_errors": doc_error_counts(result),
            "result": result}


def doc_error_counts(result: Any) -> dict[str, dict[str, float]]:
    """Per document: the estimated errors of each error-rate estimator in the summary, and its scored spans."""
    from spanqa.pipeline import NESTED

    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for q in result.spans:
        if q.quality is None or q.reason == NESTED:
            continue
        out[q.span.doc_id]["n"] += 1
        out[q.span.doc_id]["expected"] += 1.0 - q.quality
    for c in result.candidates:
        out[c.span.doc_id]["expected"] += c.p_entity
    return {d: dict(v) for d, v in out.items()}


def file_error_rate(audited: dict[str, Any], docs: set[str]) -> dict[str, Any]:
    """The audit's confident-learning error rate read on ``docs`` only (thresholds from the whole audit)."""
    from spanqa.ranking.error_rate import confident_error_rate

    result = audited["result"]
    o = audited["summary"]["error_rate"].get("thresholds", {}).get("O", 1.0)
    return confident_error_rate(result.spans, result.candidates, o_threshold=o, docs=docs)


def score_set(name: str, audited: dict[str, Any], data: Path, args: argparse.Namespace) -> dict[str, Any]:
    stem, rel = CORRECTIONS[name]
    other = read_corpus(data / rel, format="conll")
    n = len(audited["corpus"].documents)
    other = Corpus(tuple(other.documents[:n]), format=other.format, source=other.source, meta=other.meta) \
        if args.subset is not None else other
    return score_against(audited, other, stem, rel)


def score_against(audited: dict[str, Any], other: Corpus, stem: str, rel: str) -> dict[str, Any]:
    """Every method of ``audited`` against the changes from its corpus to the corrected ``other``."""
    corpus = audited["corpus"]
    cmp = compare_corpora(corpus, other)
    changes = changes_from_comparison(cmp)
    truth = sentence_truth(audited["sentences"], changes)
    methods: dict[str, Any] = {}
    for key in METHODS:
        methods[key] = {"span": span_metrics(audited["dets"][key], changes),
                        "sentence": sentence_metrics(truth, audited["sent"][key]),
                        "n_detections": len(audited["dets"][key])}
    methods["spanqa"]["sentence_findings_only"] = sentence_metrics(truth, audited["sent"]["spanqa_findings_only"])
    n_spans = sum(len(d.spans or ()) for d in corpus.documents)
    errs = [audited["doc_errors"].get(d.id, {}) for d in corpus.documents]
    n_scored = sum(e.get("n", 0) for e in errs)
    upper = round(sum(e.get("expected", 0.0) for e in errs) / n_scored, 4) if n_scored else None
    cl = file_error_rate(audited, {d.id for d in corpus.documents})
    rate = {"truth": round(len(changes) / n_spans, 4) if n_spans else None, "n_spans": n_spans,
            "estimate": cl["estimate"], "ci95": cl["ci95"], "upper_bound": upper,
            "labelled_errors": cl["labelled_errors"], "missing_entities": cl["missing_entities"]}
    return {"original": stem, "corrected": rel, "match": cmp.match, "n_changes": len(changes), "error_rate": rate,
            "changes_by_group": dict(Counter(c.group for c in changes)),
            "changes_by_kind": dict(Counter(c.kind for c in changes)),
            "comparison_problems": len(cmp.problems), "methods": methods}


def audit_phee(path: Path, config: AuditConfig, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from spanqa.pipeline import audit

    corpus = read_corpus(path, format="brat")
    if args.subset is not None:
        corpus = Corpus(tuple(corpus.documents[:args.subset]), format=corpus.format, source=corpus.source,
                        problems=corpus.problems, meta=corpus.meta)
    run_dir = out / "runs" / f"phee-{'all' if args.subset is None else args.subset}-{run_key(config)}"
    t0 = time.perf_counter()
    result = audit(corpus, config, out=run_dir, progress=args.progress)
    wall = time.perf_counter() - t0
    s = result.summary
    return {"path": str(path), "run_dir": str(run_dir), "docs": len(corpus.documents), "wall_s": round(wall, 1),
            "findings_by_kind": s["findings"]["by_kind"], "error_rate": s["error_rate"]["estimate"],
            "error_rate_ci95": s["error_rate"]["ci95"], "n_spans": s["corpus"]["n_spans"],
            "peak_rss_mib": peak_rss_mib()}


# --------------------------------------------------------------------------- report
def _f(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}"


def render_markdown(res: dict[str, Any]) -> str:
    lines = ["# spanqa detection benchmark (CoNLL-2003 real corrections)", "",
             f"Command: `{res['command']}`", "",
             f"Hardware: {res['hardware']['nproc']} CPU(s), {res['hardware']['cpu']}, torch {res['hardware']['torch']} "
             f"({res['hardware']['torch_threads']} threads). Load before: `{res['load']['before']}`; after: "
             f"`{res['load']['after']}`. Wall time: {res['wall_s']:.0f} s. Peak RSS: {res['peak_rss_mib']} MiB.", "",
             f"Config overrides: `{' '.join(res['overrides']) or '(defaults)'}`; subset: {res['subset']}.", "",
             "Span level: AP / R-precision of the ranked findings against the changes (a finding hits a change: "
             "same document, overlapping characters; per-kind columns: same kind group too; one finding claims "
             "at most one change). Sentence level: a sentence is positive when a change overlaps it; AUPRC / "
             "AUROC as in cleanlab's benchmark.", ""]
    for name, r in res["results"].items():
        g = r["changes_by_group"]
        lines += [f"## {name} (original {r['original']} vs `{r['corrected']}`): {r['n_changes']} changes "
                  f"({', '.join(f'{GROUP_TITLES[k]} {g.get(k, 0)}' for k in GROUPS)})", "",
                  "| method | findings | AP | R-prec | " + " | ".join(f"{GROUP_TITLES[k]} AP / R-prec" for k in GROUPS)
                  + " | sent AUPRC | sent AUROC |",
                  "|---|---:|---:|---:|" + "---:|" * len(GROUPS) + "---:|---:|"]
        for key, title in METHODS.items():
            m = r["methods"][key]
            sp = m["span"]
            cells = [title, str(m["n_detections"]), _f(sp["all"]["ap"]), _f(sp["all"]["r_precision"])]
            cells += [f"{_f(sp[k]['ap'])} / {_f(sp[k]['r_precision'])}" for k in GROUPS]
            cells += [_f(m["sentence"]["auprc"]), _f(m["sentence"]["auroc"])]
            lines.append("| " + " | ".join(cells) + " |")
        fo = r["methods"]["spanqa"]["sentence_findings_only"]
        pos = r["methods"]["spanqa"]["sentence"]
        lines += ["", f"{pos['n_positive']} of {pos['n_sentences']} sentences positive. spanqa sentence score with "
                      f"min over findings only (1.0 without a finding): AUPRC {_f(fo['auprc'])}, AUROC {_f(fo['auroc'])}.",
                  ""]
    lines += ["## Estimated error rate", "",
              "Confident learning over spans (`spanqa.ranking.error_rate`), thresholds learned from the whole audit, "
              "read on each set's documents; upper bound = the old sum of every doubt (1 - quality, plus every "
              "missing-entity probability).", "",
              "| set | changed share (this set) | published range (file) | estimate (95% CI) | in range | upper bound |",
              "|---|---:|---:|---:|---|---:|"]
    for name, r in res["results"].items():
        e = r["error_rate"]
        lo_hi = PUBLISHED_RANGE.get(r["original"])
        est = e.get("estimate")
        ok = "-" if lo_hi is None or est is None else ("yes" if lo_hi[0] <= est <= lo_hi[1] else "no")
        ci = e.get("ci95") or [None, None]
        lines.append(f"| {name} | {_f(e['truth'])} | {'-' if lo_hi is None else f'{lo_hi[0]:.3f}-{lo_hi[1]:.3f}'} | "
                     f"{_f(est)} ({_f(ci[0])}-{_f(ci[1])}) | {ok} | {_f(e.get('upper_bound'))} |")
    lines += [""]
    lines += ["## Speed", "", "| original file | mode | docs | sentences | audit wall s | k-fold wall s | "
              "encoder pass s (sent/s) | train s | train sent/s | predict s | infer sent/s | peak RSS MiB | "
              "resumed folds |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for stem, s in res["runs"].items():
        enc = "-" if not s.get("features_s") else f"{s['features_s']:.1f} ({s['encoder_sent_per_s']})"
        lines.append(f"| {stem} | {s.get('mode', 'finetune')} | {s['docs']} | {s['sentences']} | {s['wall_s']} | "
                     f"{s['kfold_wall_s']} | {enc} | {s['train_s']} | {s['train_sent_per_s']} | {s['predict_s']} | "
                     f"{s['infer_sent_per_s']} | {s['peak_rss_mib']} | {s['resumed_folds'] or '-'} |")
    lines += ["", "train sent/s = sentence passes (training sentences x epochs run, summed over folds) / training "
                  "seconds; infer sent/s = out-of-fold sentences / prediction seconds (fast mode: the head only; the "
                  "frozen encoder's single pass over every sentence is the encoder column). Resumed folds report "
                  "the timing of the run that trained them; peak RSS is this process's maximum so far.", ""]
    if res.get("phee"):
        p = res["phee"]
        lines += ["## PHEE (no ground truth)", "",
                  f"{p['docs']} docs, {p['n_spans']} spans, audit {p['wall_s']} s; estimated error rate "
                  f"{p['error_rate']} (95% CI {p['error_rate_ci95']}); findings by kind: "
                  f"{ {k: v for k, v in p['findings_by_kind'].items() if v} }.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", action="append", choices=[*CORRECTIONS, "all"],
                   help="correction set(s) to score (repeatable; default conllpp_test)")
    p.add_argument("--subset", type=int, default=None, help="keep only the first N documents (or sentences, "
                                                            "see --subset-unit) of each file")
    p.add_argument("--subset-unit", choices=["docs", "sentences"], default="docs",
                   help="docs: first N documents; sentences: the first documents holding >= N sentences")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="configuration override, e.g. --set train.folds=3 (repeatable)")
    p.add_argument("--config", type=Path, default=None, help="audit TOML file layered under --set")
    p.add_argument("--out", type=Path, required=True, help="output folder (runs are reused from here)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the conll2003 corpora folder")
    p.add_argument("--protocol", choices=["corpus", "file"], default="corpus",
                   help="corpus: ONE audit of train+valid+test, each correction set scored on its file's documents "
                        "(as a user audits; the default); file: each original file audited on its own")
    p.add_argument("--noisebench", action="store_true",
                   help="also audit NoiseBench's original (expert) labels of 5,885 CoNLL train sentences and score "
                        "them against its clean (CleanCoNLL) labels")
    p.add_argument("--phee", action="store_true", help="also audit PHEE (findings and error rate, no ground truth)")
    p.add_argument("--phee-path", type=Path, default=DEFAULT_PHEE, help="PHEE brat folder to audit")
    p.add_argument("--progress", action="store_true", help="show k-fold progress bars")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = parse_args(argv)
    t0 = time.perf_counter()
    load_before = _uptime()
    names = args.corpus or ["conllpp_test"]
    names = list(CORRECTIONS) if "all" in names else list(dict.fromkeys(names))
    config = load_config(args.config, overrides=args.overrides)
    args.out.mkdir(parents=True, exist_ok=True)
    stems = list(dict.fromkeys(CORRECTIONS[n][0] for n in names))
    results: dict[str, Any] = {}
    runs: dict[str, Any] = {}

    def score(audited: dict[str, Any], stem: str) -> None:
        for name in names:
            if CORRECTIONS[name][0] == stem:
                results[name] = score_set(name, restrict(audited, stem), args.data, args)
                print(f"[bench] {name}: {json.dumps({k: v['span']['all']['ap'] for k, v in results[name]['methods'].items()})}",
                      file=sys.stderr)

    def record(audited: dict[str, Any]) -> None:
        runs[audited["stem"]] = dict(audited["speed"], run_dir=audited["run_dir"],
                                     n_findings=audited["summary"]["findings"]["total"],
                                     estimated_error_rate=audited["summary"]["error_rate"]["estimate"])

    if args.protocol == "corpus" and names:
        audited = audit_whole(stems, args.data, config, args.out, args)
        record(audited)
        for stem in stems:
            score(audited, stem)
        del audited
    else:
        for stem in stems:
            audited = audit_file(stem, args.data, config, args.out, args)
            record(audited)
            score(audited, stem)
            del audited
    if args.noisebench:
        from spanqa.benchmark.noisebench import read_noisebench

        audited = audit_corpus("noisebench", read_noisebench("expert"), config, args.out, args)
        record(audited)
        results["noisebench"] = score_against(audited, read_noisebench("clean"), "noisebench expert",
                                              "noisebench clean (CleanCoNLL)")
        del audited
    phee = audit_phee(args.phee_path, config, args.out, args) if args.phee else None
    res = {"command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
           "hardware": hardware(), "load": {"before": load_before, "after": _uptime()},
           "wall_s": round(time.perf_counter() - t0, 1), "peak_rss_mib": peak_rss_mib(),
           "overrides": list(args.overrides), "subset": None if args.subset is None else f"{args.subset} {args.subset_unit}",
           "config": config.to_dict(), "runs": runs, "results": results, "phee": phee,
           "definitions": {"hit": "same document and overlapping character ranges (original text); per kind group "
                                  "also the same kind group; greedy one-to-one in rank order",
                           "groups": {g: [k for k, v in KIND_GROUP.items() if v == g] for g in GROUPS},
                           "sentence_positive": "a change overlaps the sentence"}}
    (args.out / "results.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(render_markdown(res), encoding="utf-8")
    print(render_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
