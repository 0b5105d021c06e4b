"""Detection benchmark on real corrections: spanqa and its baselines, like with like.

    python scripts/bench_detection.py --corpus all --noisebench-all --cleanlab-protocol --out runs/bench
    python scripts/bench_detection.py --corpus reiss_dev --corpus cleanconll_dev --out runs/design   # design sets
    python scripts/bench_detection.py --corpus conllpp_test --subset 20 \\
        --set model.init=random_tiny --set train.folds=2 --out /tmp/b                              # plumbing check

What it does
------------
1. **Audit** with :func:`spanqa.run.pipeline.audit` (defaults unless ``--set``): by default ONE
   out-of-fold run of CoNLL-2003 train+valid+test together (``--protocol corpus``, as a user audits
   a corpus; ``--protocol file`` audits each original file alone).  Run folders are kept in
   ``OUT/runs/`` and reused (finished folds resume).
2. **Every method on the same marginals** (:mod:`spanqa.measure.benchmark.evaluate`): spanqa's ranking
   (every candidate, threshold-free) and its findings (the cut list), the model alone, cleanlab
   every token and ``find_label_issues`` on IOB2 and on merged classes, nessie-style retag and
   uncertainty, surface-form variation.
3. **Ground truth** for each correction set = the non-``exact`` components of
   ``compare_corpora(original, corrected)``: CoNLL++ test, Reiss et al. 2020 train/dev/test,
   CleanCoNLL dev/test.  **Reiss dev and CleanCoNLL dev are the design sets** (ideas are chosen
   there); the others are reported, never tuned on.
4. **Scores** (:mod:`spanqa.measure.benchmark.scoring`, :mod:`spanqa.measure.benchmark.sentences`): span AP,
   R-precision, P@k / R@k (k = 50, 100, 200 and the length of the shorter cut list), recall per kind
   group among the first R detections, under the strict and the lenient hit rule; sentence AUPRC
   (step-wise and cleanlab's trapezoid) and AUROC.
5. ``--cleanlab-protocol``: cleanlab's own protocol - the tagger trained ONCE on CoNLL train (no
   k-fold), predictions on test, scored against CoNLL++ (and Reiss / CleanCoNLL test), a sentence
   positive when its merged token labels differ (cleanlab's definition).
6. ``--noisebench`` / ``--noisebench-all``: NoiseBench's original (expert) labels, or all six of its
   noisy label sets of the same 5,885 sentences (expert, crowd-best, crowd, distant, weak, LLM),
   each audited and scored against its clean (CleanCoNLL) labels, with the estimated error rate
   against the true one: a calibration line from ~5% to ~46% noise.

Outputs: ``OUT/results.json`` and ``OUT/results.md`` (command, hardware, load, wall time, one section
per set, the headline ratios, the error-rate and calibration tables, speed).
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
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from spanqa.compare.comparison import Kind, compare_corpora
from spanqa.core.config import AuditConfig, load_config
from spanqa.core.document import Corpus
from spanqa.corpus.formats import read_corpus
from spanqa.measure.benchmark import GROUPS, changes_from_comparison, corrected_word_tags, sentence_truth
from spanqa.measure.benchmark.evaluate import METHODS, Detected, detect, headline, list_lengths, score
from spanqa.measure.benchmark.sentences import sentence_truth_from_tags

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "conll2003"

#: correction set -> (original file stem, corrected file relative to the data folder)
CORRECTIONS: dict[str, tuple[str, str]] = {
    "conllpp_test": ("test", "conllpp/test.txt"),
    "reiss_train": ("train", "reiss2020/corrected/train.txt"),
    "reiss_dev": ("valid", "reiss2020/corrected/dev.txt"),
    "reiss_test": ("test", "reiss2020/corrected/test.txt"),
    "cleanconll_dev": ("valid", "cleanconll/reconstructed/cleanconll.dev"),
    "cleanconll_test": ("test", "cleanconll/reconstructed/cleanconll.test"),
}
#: where ideas are chosen; every other set is reported, never tuned on
DESIGN_SETS = ("reiss_dev", "cleanconll_dev")
ALL_STEMS: tuple[str, ...] = ("train", "valid", "test")
#: NoiseBench's noisy label sets, least noisy first
NOISEBENCH_SETS: tuple[str, ...] = ("expert", "crowdbest", "crowd", "distant", "weak", "llm")
SET_TITLES = {"conllpp_test": "CoNLL++ test", "reiss_test": "Reiss test", "cleanconll_test": "CleanCoNLL test",
              "reiss_dev": "Reiss dev", "cleanconll_dev": "CleanCoNLL dev", "reiss_train": "Reiss train",
              **{f"noisebench_{n}": f"NoiseBench {n}" for n in NOISEBENCH_SETS}}


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
def subset(corpus: Corpus, n: int | None) -> Corpus:
    """The first ``n`` documents (all when ``n`` is None)."""
    if n is None:
        return corpus
    return Corpus(tuple(corpus.documents[:n]), format=corpus.format, source=corpus.source, problems=corpus.problems,
                  meta=corpus.meta)


def read_original(stem: str, data: Path, n: int | None) -> Corpus:
    """One original CoNLL-2003 file (ids ``{stem}-{i}``), cut to its first ``n`` documents."""
    return subset(read_corpus(data / "original" / f"{stem}.txt", format="conll"), n)


def run_key(config: AuditConfig) -> str:
    """10 hex digits over the settings that change the out-of-fold model (the k-fold fingerprint's
    :func:`~spanqa.model.fingerprint.model_settings`, and the nested layers), naming a benchmark run folder."""
    from spanqa.model.fingerprint import model_settings
    from spanqa.model.plan import resolve

    config = resolve(config)[0]                  # train.mode = auto -> the mode this machine gets
    head = model_settings(config)
    if config.data.layers != "flat":  # nested labels audited layer by layer: another run folder
        head["layers"] = config.data.layers
    return hashlib.sha256(json.dumps(head, sort_keys=True).encode()).hexdigest()[:10]


def share_features(run_dir: Path, stem: str) -> None:
    """Hard-link the frozen-encoder feature caches of sibling runs of the same texts into ``run_dir/features``
    (a cache file is named and checked by its key, so only an exact match is ever used; NoiseBench's label sets
    share their texts)."""
    target = run_dir / "features"
    family = "noisebench_*" if stem.startswith("noisebench_") else stem
    for other in sorted(run_dir.parent.glob(f"{family}-*/features/words_*.npz")):
        dest = target / other.name
        if other.parent != target and not dest.exists():
            target.mkdir(parents=True, exist_ok=True)
            try:
                os.link(other, dest)
            except OSError:
                pass


# --------------------------------------------------------------------------- one audit
def _speed(corpus: Corpus, oof: Any, wall_s: float) -> dict[str, Any]:
    timing = oof.meta.get("timing") or {}
    stats = oof.meta.get("fold_stats") or []
    return {"mode": oof.meta.get("mode", "fast"), "docs": len(corpus.documents),
            "sentences": sum(len(d.sentences or ()) for d in corpus.documents),
            "words": int(sum(len(m.words) for m in oof.docs.values())), "wall_s": round(wall_s, 1),
            "kfold_wall_s": timing.get("wall_s"), "features_s": timing.get("features_s"),
            "train_s": round(sum(float(s.get("train_s", 0.0)) for s in stats), 1),
            "resumed_folds": oof.meta.get("resumed_folds", []), "peak_rss_mib": peak_rss_mib()}


def audit_corpus(name: str, corpus: Corpus, config: AuditConfig, out: Path, args: argparse.Namespace,
                 oof: Any = None) -> dict[str, Any]:
    """Audit ``corpus`` once (or score the given ``oof`` marginals); every method's detections."""
    from spanqa.run.pipeline import audit

    tag = "all" if args.subset is None else f"{args.subset}d"
    run_dir = out / "runs" / f"{name}-{tag}-{run_key(config)}"
    share_features(run_dir, name)
    print(f"[bench] auditing {name}: {len(corpus.documents)} docs -> {run_dir}", file=sys.stderr)
    t0 = time.perf_counter()
    result = audit(corpus, config, out=run_dir, progress=args.progress, oof=oof)
    wall = time.perf_counter() - t0
    timings: dict[str, float] = {}
    t1 = time.perf_counter()
    detected = detect(corpus, result, timings=timings)
    speed = _speed(corpus, result.oof, wall)
    speed.update(methods_s=round(time.perf_counter() - t1, 1), baselines_s=timings,
                 audit_timings=result.summary.get("timings", {}))
    agree = result.summary.get("model_agreement") or {}
    print(f"[bench] {name}: audit {wall:.0f} s, {len(result.findings)} findings, OOF F1 {agree.get('f1')}",
          file=sys.stderr)
    return {"name": name, "corpus": corpus, "result": result, "detected": detected, "speed": speed,
            "run_dir": str(run_dir)}


def restrict(audited: dict[str, Any], stem: str) -> tuple[Corpus, Detected]:
    """The documents of file ``stem`` (ids ``{stem}-N``) of a whole-corpus audit, and their detections."""
    corpus = audited["corpus"]
    if audited["name"] == stem:
        return corpus, audited["detected"]
    keep = {d.id for d in corpus.documents if d.id.startswith(f"{stem}-")}
    return Corpus(tuple(d for d in corpus.documents if d.id in keep), format="conll"), \
        audited["detected"].restrict(keep)


# --------------------------------------------------------------------------- scoring one set
def truth_rate(cmp: Any, n_spans: int) -> dict[str, Any]:
    """The true error rate in the estimator's terms: (labelled spans the correction does not confirm exactly +
    entities it adds with no labelled span there) / labelled spans; and changes per labelled span."""
    exact = sum(1 for c in cmp.components if c.kind is Kind.EXACT)
    missing = sum(1 for c in cmp.components if c.kind is Kind.MISSING)
    changes = sum(1 for c in cmp.components if c.kind is not Kind.EXACT)
    return {"span_error_rate": round((n_spans - exact + missing) / n_spans, 4) if n_spans else None,
            "changes_per_span": round(changes / n_spans, 4) if n_spans else None}


def error_rate(audited: dict[str, Any], docs: set[str], cmp: Any) -> dict[str, Any]:
    """The audit's confident-learning estimate read on ``docs`` (thresholds from the whole audit) beside the truth."""
    from spanqa.score.ranking.error_rate import confident_error_rate

    result = audited["result"]
    o = result.summary["error_rate"].get("thresholds", {}).get("O", 1.0)
    est = confident_error_rate(result.spans, result.candidates, o_threshold=o, docs=docs)
    n_spans = sum(len(d.spans or ()) for d in audited["corpus"].documents if d.id in docs)
    return {**truth_rate(cmp, n_spans), "n_spans": n_spans, "estimate": est["estimate"], "ci95": est["ci95"],
            "summary_first_line": result.summary["error_rate"].get("estimate")}


def score_set(name: str, audited: dict[str, Any], corpus: Corpus, detected: Detected, corrected: Corpus, *,
              cleanlab_truth: bool = False, with_signals: bool = False) -> dict[str, Any]:
    """Every method against the changes from ``corpus`` to ``corrected`` (sentence truth: a change overlaps, or with
    ``cleanlab_truth`` cleanlab's merged token-label difference)."""
    cmp = compare_corpora(corpus, corrected)
    changes = changes_from_comparison(cmp)
    oof = audited["result"].oof
    if cleanlab_truth:
        words = {d: m.words for d, m in oof.docs.items()}
        by_id = corpus.by_id()
        from spanqa.corpus.bio import spans_to_tags

        given = {d: spans_to_tags(words[d], by_id[d].spans or ()) for d in words if d in by_id}
        positive = sentence_truth_from_tags(detected.sentences, given, corrected_word_tags(cmp, words), merged=True)
    else:
        positive = sentence_truth(detected.sentences, changes)
    lengths = list_lengths(detected, changes)
    methods = score(detected, changes, positive, lengths=lengths, with_signals=with_signals)
    return {"name": name, "title": SET_TITLES.get(name, name), "design": name in DESIGN_SETS,
            "match": cmp.match, "n_changes": len(changes), "changes_by_group": dict(Counter(c.group for c in changes)),
            "sentence_truth": "merged token labels differ (cleanlab)" if cleanlab_truth else "a change overlaps",
            "lengths": lengths, "methods": methods, "headline": headline(methods, lengths),
            "error_rate": error_rate(audited, {d.id for d in corpus.documents}, cmp),
            "model_agreement_f1": (audited["result"].summary.get("model_agreement") or {}).get("f1")}


# --------------------------------------------------------------------------- protocols
def conll_corrections(names: list[str], config: AuditConfig, args: argparse.Namespace) -> tuple[dict, dict]:
    """The CoNLL correction sets under ``--protocol corpus`` or ``file``."""
    results, runs = {}, {}
    stems = list(dict.fromkeys(CORRECTIONS[n][0] for n in names))
    audits = []
    if args.protocol == "corpus":
        docs = [d for stem in ALL_STEMS for d in read_original(stem, args.data, args.subset).documents]
        audits.append((audit_corpus("all", Corpus.from_docs(docs), config, args.out, args), stems))
    else:
        audits = [(audit_corpus(stem, read_original(stem, args.data, args.subset), config, args.out, args), [stem])
                  for stem in stems]
    for audited, for_stems in audits:
        runs[audited["name"]] = dict(audited["speed"], run_dir=audited["run_dir"])
        for stem in for_stems:
            corpus, detected = restrict(audited, stem)
            for name in names:
                if CORRECTIONS[name][0] != stem:
                    continue
                corrected = subset(read_corpus(args.data / CORRECTIONS[name][1], format="conll"),
                                   args.subset if args.subset is None else len(corpus.documents))
                results[name] = score_set(name, audited, corpus, detected, corrected, with_signals=True)
                _log(results[name])
    return results, runs


def cleanlab_protocol(config: AuditConfig, args: argparse.Namespace) -> tuple[dict, dict]:
    """cleanlab's protocol: train once on CoNLL train, predict test, score test against its corrections."""
    from spanqa.corpus.bio import tag_inventory
    from spanqa.model.predictions import OOFPredictions
    from spanqa.model.trainer import Retrainer

    train = read_original("train", args.data, args.subset)
    test = read_original("test", args.data, args.subset)
    tags = tag_inventory(sorted(set(train.labels) | set(test.labels)))
    cache = args.out / "runs" / "cleanlab-protocol-cache"     # features are keyed by encoder and texts inside
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    trainer = Retrainer(config, tags, cache_dir=cache)
    marginals = trainer.fit_marginals(train, test.documents, seed=config.train.seed)
    oof = OOFPredictions(tags, {m.doc_id: m for m in marginals},
                         {"mode": config.train.mode, "protocol": "trained once on CoNLL train, predicts test",
                          "timing": {"wall_s": round(time.perf_counter() - t0, 3)},
                          "predictions": {"source": "spanqa tagger trained on CoNLL-2003 train (no k-fold)"}})
    audited = audit_corpus("cleanlab-protocol-test", test, config, args.out, args, oof=oof)
    audited["speed"]["train_predict_s"] = round(time.perf_counter() - t0, 1)
    results = {}
    for name in ("conllpp_test", "reiss_test", "cleanconll_test"):
        corrected = subset(read_corpus(args.data / CORRECTIONS[name][1], format="conll"),
                           None if args.subset is None else len(test.documents))
        results[name] = score_set(name, audited, test, audited["detected"], corrected, cleanlab_truth=True)
        results[name]["title"] += " (cleanlab protocol)"
        _log(results[name])
    return results, {"cleanlab-protocol": dict(audited["speed"], run_dir=audited["run_dir"],
                                               trainer=trainer.stats())}


def noisebench(label_sets: tuple[str, ...], config: AuditConfig, args: argparse.Namespace) -> tuple[dict, dict]:
    """Each NoiseBench label set audited on its own and scored against the clean labels."""
    from spanqa.measure.benchmark.noisebench import read_noisebench

    clean = read_noisebench("clean")
    results, runs = {}, {}
    for label_set in label_sets:
        corpus = subset(read_noisebench(label_set), args.subset)
        audited = audit_corpus(f"noisebench_{label_set}", corpus, config, args.out, args)
        runs[audited["name"]] = dict(audited["speed"], run_dir=audited["run_dir"])
        name = f"noisebench_{label_set}"
        results[name] = score_set(name, audited, corpus, audited["detected"],
                                  subset(clean, None if args.subset is None else len(corpus.documents)))
        _log(results[name])
        del audited
    return results, runs


def _log(r: dict[str, Any]) -> None:
    h = r["headline"]
    print(f"[bench] {r['title']}: span AP lenient spanqa {h['span_ap_lenient']['spanqa']} vs cleanlab "
          f"{h['span_ap_lenient']['cleanlab']}; sentence AUPRC {h['sentence_auprc']['spanqa']} vs "
          f"{h['sentence_auprc']['cleanlab']}; error rate {r['error_rate']['estimate']} vs truth "
          f"{r['error_rate']['span_error_rate']}", file=sys.stderr)


# --------------------------------------------------------------------------- report
def _f(x: Any, nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _x(r: Any) -> str:
    return "-" if r is None else f"{r:.2f}×"


def render_set(r: dict[str, Any]) -> list[str]:
    g = r["changes_by_group"]
    role = "design set" if r["design"] else "reported set"
    lines = [f"## {r['title']} ({role}): {r['n_changes']} changes "
             f"({', '.join(f'{k} {g.get(k, 0)}' for k in GROUPS)}); out-of-fold span F1 {_f(r['model_agreement_f1'])}",
             "", f"Sentence positive: {r['sentence_truth']}.", "",
             "**Rankings** (threshold-free). Span AP and R-precision lenient / strict; P@100 lenient; recall per kind "
             "group among the first R detections (lenient); sentence AUPRC (step-wise / cleanlab's trapezoid) and "
             "AUROC:", "",
             "| method | detections | span AP | R-prec | P@100 | " + " | ".join(f"rec@R {k}" for k in GROUPS)
             + " | kind agr. | sent AUPRC | sent AUROC |",
             "|---|---:|---:|---:|---:|" + "---:|" * len(GROUPS) + "---:|---:|---:|"]
    ms = r["methods"]
    for m in METHODS:
        if m.output != "ranking":
            continue
        x = ms[m.key]
        le, st, se = x["lenient"], x["strict"], x["sentence"]
        lines.append("| " + " | ".join([m.title, str(le["n_detections"]), f"{_f(le['ap'])} / {_f(st['ap'])}",
                                         f"{_f(le['r_precision'])} / {_f(st['r_precision'])}",
                                         _f(le["at"].get(100, le["at"].get("100", {})).get("precision"))]
                                        + [_f(le["recall_at_r"][k]) for k in GROUPS]
                                        + [_f(le["kind_agreement"]),
                                           f"{_f(se['auprc'])} / {_f(se['auprc_trapezoid'])}", _f(se["auroc"])]) + " |")
    lengths = r["lengths"]["lenient"]
    ks = [lengths["k50"], lengths["k100"], lengths["k200"]]
    si, sm = lengths["short_iob2"], lengths["short_merged"]
    lines += ["", f"**Cut lists** at equal length (k = 50, 100, 200; {si} = the shorter of spanqa's findings and "
                  f"cleanlab IOB2's issues, {sm} = the same with merged classes). P@k / R@k lenient; AP lenient / "
                  "strict of the whole list:", "",
              "| method | length | AP | " + " | ".join(f"P@{k} / R@{k}" for k in [*ks, si, sm]) + " |",
              "|---|---:|---:|" + "---:|" * (len(ks) + 2)]
    for m in METHODS:
        if m.output != "cut":
            continue
        x = ms[m.key]
        le = x["lenient"]

        def at(k: int) -> str:
            a = le["at"].get(k) or le["at"].get(str(k)) or {}
            return f"{_f(a.get('precision'))} / {_f(a.get('recall'))}"

        lines.append("| " + " | ".join([m.title, str(le["n_detections"]), f"{_f(le['ap'])} / {_f(x['strict']['ap'])}"]
                                        + [at(k) for k in [*ks, si, sm]]) + " |")
    lines.append("")
    return lines


def render_markdown(res: dict[str, Any]) -> str:
    hw = res["hardware"]
    lines = ["# spanqa detection benchmark (real corrections)", "", f"Command: `{res['command']}`", "",
             f"Hardware: {hw['nproc']} CPU(s), {hw['cpu']}, torch {hw['torch']} ({hw['torch_threads']} threads). "
             f"Load before: `{res['load']['before']}`; after: `{res['load']['after']}`. Wall time: "
             f"{res['wall_s']:.0f} s. Peak RSS: {res['peak_rss_mib']} MiB.", "",
             f"Config overrides: `{' '.join(res['overrides']) or '(defaults)'}`; subset: {res['subset']}.", "",
             "**Hit rule.** A detection hits a change when both are in the same document and share a character; "
             "down the ranking each detection claims the unclaimed change it overlaps most. *Strict*: a detection "
             "that claims nothing is a false positive. *Lenient*: one that claims nothing but hits an already "
             "claimed change is dropped (applied to every method). Kinds never enter the hit rule; per kind group "
             "the table gives that group's recall among the first R detections (R = number of changes), and for "
             "methods that state kinds the share of hits whose kind is the change's (*kind agr.*; cleanlab and "
             "uncertainty state none).", ""]
    sets = res["results"]
    lines += ["## Headline: spanqa against the better cleanlab (IOB2 or merged classes)", "",
              "| set | role | span AP lenient: spanqa / cleanlab | ratio | strict ratio | sentence AUPRC: spanqa / "
              "cleanlab | ratio | cut lists, P@k lenient: findings / issues (k) |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for _key, r in sets.items():
        h = r["headline"]
        a, s = h["span_ap_lenient"], h["sentence_auprc"]
        cut = h["cut_lists_lenient_precision"]
        best = max(cut.values(), key=lambda c: c["cleanlab_issues"] or 0)
        lines.append(f"| {r['title']} | {'design' if r['design'] else 'reported'} | {_f(a['spanqa'])} / "
                     f"{_f(a['cleanlab'])} ({a['cleanlab_classes'].split('_')[-1]}) | {_x(a['ratio'])} | "
                     f"{_x(h['span_ap_strict']['ratio'])} | {_f(s['spanqa'])} / {_f(s['cleanlab'])} "
                     f"({s['cleanlab_classes'].split('_')[-1]}) | {_x(s['ratio'])} | {_f(best['spanqa_findings'])} / "
                     f"{_f(best['cleanlab_issues'])} ({best['k']}) |")
    lines.append("")
    for r in sets.values():
        lines += render_set(r)
    lines += ["## Estimated error rate against the truth", "",
              "Truth = (labelled spans the correction does not confirm exactly + entities it adds where nothing is "
              "labelled) / labelled spans - the quantity the estimate estimates. CoNLL sets share one estimate per "
              "file (thresholds from the whole audit).", "",
              "| set | truth | changes per span | estimate [95% CI] | estimate / truth |",
              "|---|---:|---:|---:|---:|"]
    for r in sets.values():
        e = r["error_rate"]
        ci = e.get("ci95") or [None, None]
        ratio = None if not e.get("span_error_rate") or e.get("estimate") is None else e["estimate"] / e["span_error_rate"]
        lines.append(f"| {r['title']} | {_pct(e['span_error_rate'])} | {_pct(e['changes_per_span'])} | "
                     f"{_pct(e['estimate'])} [{_pct(ci[0])}, {_pct(ci[1])}] | "
                     f"{_f(ratio, 2)} |")
    lines += ["", "## Speed", "", "| run | mode | docs | sentences | words | audit wall s | k-fold wall s | "
              "encoder s | heads train s | peak RSS MiB | resumed folds |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, s in res["runs"].items():
        lines.append(f"| {name} | {s['mode']} | {s['docs']} | {s['sentences']} | {s['words']} | {s['wall_s']} | "
                     f"{s['kfold_wall_s']} | {s['features_s']} | {s['train_s']} | {s['peak_rss_mib']} | "
                     f"{s['resumed_folds'] or '-'} |")
    lines.append("")
    return "\n".join(lines)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", action="append", choices=[*CORRECTIONS, "all", "none"],
                   help="CoNLL correction set(s) to score (repeatable; default all; none = only the other options)")
    p.add_argument("--protocol", choices=["corpus", "file"], default="corpus",
                   help="corpus: ONE audit of train+valid+test (the default); file: each original file on its own")
    p.add_argument("--cleanlab-protocol", action="store_true",
                   help="also cleanlab's own protocol: train once on CoNLL train, predict test, score against CoNLL++")
    p.add_argument("--noisebench", action="store_true", help="also NoiseBench's original (expert) labels")
    p.add_argument("--noisebench-all", action="store_true", help="also all six noisy NoiseBench label sets")
    p.add_argument("--subset", type=int, default=None, help="keep only the first N documents of each file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="configuration override, e.g. --set train.folds=3 (repeatable)")
    p.add_argument("--config", type=Path, default=None, help="audit TOML file layered under --set")
    p.add_argument("--out", type=Path, required=True, help="output folder (runs are reused from here)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the conll2003 corpora folder")
    p.add_argument("--progress", action="store_true", help="show k-fold progress bars")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = parse_args(argv)
    t0 = time.perf_counter()
    load_before = _uptime()
    names = args.corpus or ["all"]
    names = [] if "none" in names else (list(CORRECTIONS) if "all" in names else list(dict.fromkeys(names)))
    config = load_config(args.config, overrides=args.overrides)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    if names:
        r, s = conll_corrections(names, config, args)
        results.update(r)
        runs.update(s)
    if args.cleanlab_protocol:
        r, s = cleanlab_protocol(config, args)
        results.update({f"{k}@cleanlab": v for k, v in r.items()})
        runs.update(s)
    label_sets = NOISEBENCH_SETS if args.noisebench_all else (("expert",) if args.noisebench else ())
    if label_sets:
        r, s = noisebench(label_sets, config, args)
        results.update(r)
        runs.update(s)
    argv_used = argv if argv is not None else sys.argv[1:]
    res = {"command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *argv_used]),
           "hardware": hardware(), "load": {"before": load_before, "after": _uptime()},
           "wall_s": round(time.perf_counter() - t0, 1), "peak_rss_mib": peak_rss_mib(),
           "overrides": list(args.overrides), "subset": None if args.subset is None else f"{args.subset} docs",
           "config": config.to_dict(), "runs": runs, "results": results, "design_sets": list(DESIGN_SETS)}
    (args.out / "results.json").write_text(json.dumps(_jsonable(res), indent=1) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(render_markdown(res), encoding="utf-8")
    print(render_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
