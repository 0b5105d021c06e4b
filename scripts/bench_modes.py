"""Compare the k-fold tagger's modes (``train.mode = fast | finetune``): CPU speed and detection quality.

    python scripts/bench_modes.py --corpus demo --mode fast --mode finetune --out runs/modes
    python scripts/bench_modes.py --corpus conll1k --corpus conll5k --mode fast --out runs/modes
    python scripts/bench_modes.py --corpus demo --mode finetune --set train.epochs=1 --out runs/modes  # cheaper baseline
    python scripts/bench_modes.py --corpus demo --mode fast --set fast.head=bilstm --tag bilstm --out runs/modes

Corpora (all read with :func:`spanqa.corpus.formats.read_corpus`; no text is copied):

- ``demo``: ``corpora/demo/noisy`` (brat), grouped by patient (``^([^_]+)_``).  Quality is
  measured against ``corpora/demo/clean`` and ``corpora/demo/manifest.jsonl``.
- ``conll1k`` / ``conll5k``: the first documents of CoNLL-2003 ``original/train.txt`` (from
  ``/work/shared/corpora`` or ``$SPANQA_CORPORA``) until 1,000 / 5,000 sentences.  Quality:
  out-of-fold span F1 against the file's own annotation (no clean reference for train).
- ``conll_all``: all of CoNLL-2003 ``original/`` train + valid + test (1,393 documents, 20,744
  sentences) - the size of the issue's GPU target (5 folds in <= 60 s on one H200).

Each (corpus, mode) runs ``run_kfold`` in a **child process** (so its peak RSS is its own)
with its run folder ``OUT/<corpus>-<mode>[-<tag>]/`` (k-fold checkpoints, the fast mode's
feature cache, ``oof.npz`` and ``bench.json``).  A finished run is not repeated: its
``bench.json`` (timing measured when it ran) and ``oof.npz`` are read back - pass
``--rerun`` to measure again (into a fresh folder).  Recorded per run: wall and CPU
seconds, sentences/s and words/s (wall), peak RSS, ``os.getloadavg()`` before and after
(the machine may be shared: compare ``cpu_s`` with ``wall_s``).

Quality on ``demo`` (both modes on the same folds, since folds depend only on groups and
``train.seed``):

- ``span_f1_clean``: strict span P/R/F1 of the decoded OOF predictions against the CLEAN
  annotation (how well the tagger learned the task from noisy labels);
- ``ap_quality``: average precision of ranking the noisy spans by ``1 - quality``
  (:func:`spanqa.score.quality.score_spans`) where the positives are the manifest's noisy spans
  (the injected errors); ``ap_path_mean``: the same with the simple score
  ``1 - mean marginal of the span's gold IOB2 tag path``;
- ``findings``: :func:`spanqa.measure.demo.evaluate.evaluate_demo` over a full ``audit`` of the OOF
  marginals (recall of injected errors fixed / flagged, precision, all kinds).

Writes ``OUT/results.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "corpora" / "demo"
DEMO_GROUP_REGEX = r"^([^_]+)_"
CONLL_SIZES = {"conll1k": 1000, "conll5k": 5000}


def conll_path(split: str = "train") -> Path:
    root = Path(os.environ.get("SPANQA_CORPORA", "/work/shared/corpora"))
    return root / "conll2003" / "original" / f"{split}.txt"


def load_bench_corpus(name: str) -> Any:
    """The corpus ``name`` (``demo``, ``conll1k``, ``conll5k``, ``conll_all``)."""
    from spanqa.core.document import Corpus
    from spanqa.corpus.formats import read_corpus

    if name == "demo":
        return read_corpus(DEMO / "noisy", "brat")
    if name == "conll_all":  # document ids carry the split ("train-0", "valid-0"), so they stay unique
        return Corpus.from_docs([d for split in ("train", "valid", "test")
                                 for d in read_corpus(conll_path(split), "conll").documents])
    if name in CONLL_SIZES:
        full = read_corpus(conll_path("train"), "conll")
        docs, n = [], 0
        for d in full.documents:           # cut by document: never half a document
            if n >= CONLL_SIZES[name]:
                break
            docs.append(d)
            n += len(d.sentences or ())
        return full.evolve(documents=tuple(docs))
    raise SystemExit(f"unknown corpus {name!r}; choose demo, conll1k, conll5k or conll_all")


def n_sentences(corpus: Any) -> int:
    """Sentences: the source's own (CoNLL) or spanqa's rule-based splitter."""
    from spanqa.corpus.tokenize import doc_words, sentence_ranges

    total = 0
    for d in corpus.documents:
        total += len(d.sentences) if d.sentences is not None else len(sentence_ranges(d.evolve(spans=None), doc_words(d)))
    return total


def config_for(corpus_name: str, mode: str, sets: list[str]) -> Any:
    from spanqa.core.config import load_config

    base = [f"train.mode={mode}"]
    if corpus_name == "demo":
        base.append(f"data.group_regex='{DEMO_GROUP_REGEX}'")
    return load_config(overrides=base + list(sets))


# --------------------------------------------------------------------------- child: one timed run
def child(args: argparse.Namespace) -> int:
    from spanqa.model.kfold import run_kfold

    run_dir = Path(args.run_dir)
    load_before = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    corpus = load_bench_corpus(args.corpus[0])
    cfg = config_for(args.corpus[0], args.mode[0], args.set)
    read_s = time.perf_counter() - t0
    oof = run_kfold(corpus, cfg, run_dir=run_dir, progress=args.progress)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    oof.save(run_dir / "oof.npz")
    n_words = sum(len(m.words) for m in oof.docs.values())
    n_sent = n_sentences(corpus)
    rec = {
        "corpus": args.corpus[0], "mode": args.mode[0], "sets": args.set, "docs": len(corpus),
        "sentences": n_sent, "words": n_words, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "read_s": round(read_s, 1), "sentences_per_s": round(n_sent / wall, 2), "words_per_s": round(n_words / wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        "resumed_folds": oof.meta["resumed_folds"], "timing": oof.meta["timing"],
        "features": oof.meta.get("features"), "fold_stats": oof.meta["fold_stats"],
        "config": {k: v for k, v in cfg.to_dict().items() if k in ("train", "fast", "model")},
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (run_dir / "bench.json").write_text(json.dumps(rec, indent=1) + "\n")
    return 0


# --------------------------------------------------------------------------- quality
def demo_quality(oof: Any, corpus: Any, cfg: Any, out: Path) -> dict[str, Any]:
    import numpy as np
    from sklearn.metrics import average_precision_score

    from spanqa.corpus.formats import read_corpus
    from spanqa.measure.demo.evaluate import evaluate_demo
    from spanqa.model.predictions import decode
    from spanqa.run.pipeline import audit
    from spanqa.score.quality import score_spans, word_range

    clean = read_corpus(DEMO / "clean", "brat").by_id()
    manifest = [json.loads(x) for x in (DEMO / "manifest.jsonl").read_text().splitlines() if x.strip()]
    errors = {(e["doc_id"], s["start"], s["end"], s["label"]) for e in manifest for s in e["noisy"]}
    tp = fp = fn = 0
    y, s_quality, s_path = [], [], []
    tag_index = {t: i for i, t in enumerate(oof.tags)}
    for d in corpus.documents:
        m = oof.docs[d.id]
        pred = {(s.start, s.end, s.label) for s in decode(m, oof.tags)}
        gold = {(s.start, s.end, s.label) for s in clean[d.id].spans}
        tp, fp, fn = tp + len(pred & gold), fp + len(pred - gold), fn + len(gold - pred)
        for q in score_spans(list(d.spans), m, oof.tags):
            sp = q.span
            y.append((d.id, sp.start, sp.end, sp.label) in errors)
            s_quality.append(1.0 - q.quality)
            rng = word_range(m.words, sp.start, sp.end)
            if rng is None:
                s_path.append(1.0)
                continue
            a, b = rng
            path = [tag_index.get(f"B-{sp.label}")] + [tag_index.get(f"I-{sp.label}")] * (b - a - 1)
            s_path.append(1.0 - float(np.mean([m.probs[a + i, t] if t is not None else 0.0
                                               for i, t in enumerate(path)])))
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    result = audit(corpus, cfg, out=out / "audit", progress=False, oof=oof)
    ev = evaluate_demo(result, read_corpus(DEMO / "clean", "brat"), manifest)
    a = ev["demo_eval"]["all"]
    return {"span_p_clean": round(p, 4), "span_r_clean": round(r, 4), "span_f1_clean": round(2 * p * r / max(p + r, 1e-12), 4),
            "ap_quality": round(float(average_precision_score(y, s_quality)), 4),
            "ap_path_mean": round(float(average_precision_score(y, s_path)), 4),
            "n_spans": len(y), "n_error_spans": int(sum(y)),
            "findings": {"recall_fixed": a.get("recall"), "recall_flagged": a.get("recall_flagged"),
                         "precision": a.get("precision"), "n_findings": a.get("n_findings")},
            "ece": ev["calibration"]["ece"]}


def conll_quality(oof: Any, corpus: Any) -> dict[str, Any]:
    from spanqa.model.predictions import decode

    tp = fp = fn = 0
    for d in corpus.documents:
        pred = {(s.start, s.end, s.label) for s in decode(oof.docs[d.id], oof.tags)}
        gold = {(s.start, s.end, s.label) for s in d.spans}
        tp, fp, fn = tp + len(pred & gold), fp + len(pred - gold), fn + len(gold - pred)
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"oof_span_p": round(p, 4), "oof_span_r": round(r, 4), "oof_span_f1": round(2 * p * r / max(p + r, 1e-12), 4)}


# --------------------------------------------------------------------------- parent
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", action="append", choices=["demo", "conll1k", "conll5k", "conll_all"])
    ap.add_argument("--mode", action="append", choices=["fast", "finetune"])
    ap.add_argument("--set", action="append", default=[], help="config override for every run (repeatable)")
    ap.add_argument("--tag", default="", help="suffix of the run folders (to keep variants apart)")
    ap.add_argument("--out", default="runs/modes")
    ap.add_argument("--rerun", action="store_true", help="measure again even if a finished run exists")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--run-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.corpus = args.corpus or ["demo"]
    args.mode = args.mode or ["fast", "finetune"]
    if args.child:
        return child(args)

    from spanqa.model.predictions import OOFPredictions

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    for corpus_name in args.corpus:
        corpus = None
        for mode in args.mode:
            name = f"{corpus_name}-{mode}" + (f"-{args.tag}" if args.tag else "")
            run_dir = out / name
            bench = run_dir / "bench.json"
            if args.rerun and run_dir.exists():
                run_dir = out / f"{name}-{time.strftime('%H%M%S')}"
                bench = run_dir / "bench.json"
            if not bench.is_file():
                run_dir.mkdir(parents=True, exist_ok=True)
                cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--corpus", corpus_name,
                       "--mode", mode, "--run-dir", str(run_dir)] + [x for s in args.set for x in ("--set", s)]
                if args.progress:
                    cmd.append("--progress")
                print(f"[{time.strftime('%H:%M:%S')}] {name}: {shlex.join(cmd[1:])}", file=sys.stderr, flush=True)
                subprocess.run(cmd, check=True)
            rec = json.loads(bench.read_text())
            if not args.no_quality:
                corpus = corpus or load_bench_corpus(corpus_name)
                oof = OOFPredictions.load(run_dir / "oof.npz")
                cfg = config_for(corpus_name, mode, args.set)
                rec["quality"] = demo_quality(oof, corpus, cfg, run_dir) if corpus_name == "demo" else \
                    conll_quality(oof, corpus)
            results[name] = rec
            results_path.write_text(json.dumps(results, indent=1) + "\n")
    print(render(results))
    return 0


def render(results: dict[str, Any]) -> str:
    rows = ["| run | docs | sentences | words | wall s | CPU s | sent/s | words/s | peak RSS MB | load (1 min) "
            "before/after | quality |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        q = r.get("quality") or {}
        if "span_f1_clean" in q:
            qs = (f"F1 vs clean {q['span_f1_clean']:.3f}; AP(1-quality) {q['ap_quality']:.3f}; "
                  f"AP(1-path mean) {q['ap_path_mean']:.3f}; findings recall {q['findings']['recall_fixed']}, "
                  f"precision {q['findings']['precision']}")
        elif q:
            qs = f"OOF F1 {q['oof_span_f1']:.3f}"
        else:
            qs = "-"
        rows.append(f"| {name} | {r['docs']} | {r['sentences']} | {r['words']} | {r['wall_s']} | {r['cpu_s']} | "
                    f"{r['sentences_per_s']} | {r['words_per_s']} | {r['peak_rss_mb']} | "
                    f"{r['load_before'][0]} / {r['load_after'][0]} | {qs} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
