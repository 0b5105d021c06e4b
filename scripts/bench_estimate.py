"""Does a stratified review sample measure the error rate? Simulated reviews where the corrections are known.

    python scripts/bench_estimate.py                    # Reiss dev, CleanCoNLL dev (design), NoiseBench x 6
    python scripts/bench_estimate.py --sims 200 --n 50 --sentences 20

For each set the audit's run folder from ``scripts/bench_detection.py`` (same config; run that first) gives every
labelled span's quality and the candidate missing entities; the correction set plays the reviewer (a span is wrong
when the correction does not keep it exactly; a sentence's missing entities are the corrected spans with no
labelled span there). ``--sims`` samples are drawn with seeds 0.. and estimated with
:func:`spanqa.review.estimate.estimate`: coverage of the true rate by the 95% interval, mean interval width, and
the same for plain random sampling (one stratum, the same numbers of spans and sentences, the same estimator).
Prints a Markdown table and writes JSON beside it. Needs ../shared/corpora.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_detection import CORRECTIONS, DEFAULT_DATA, NOISEBENCH_SETS, read_original, run_key  # noqa: E402

from spanqa.compare.comparison import Kind, compare_corpora  # noqa: E402
from spanqa.core.config import load_config  # noqa: E402
from spanqa.core.document import Corpus  # noqa: E402
from spanqa.corpus.formats import read_corpus  # noqa: E402
from spanqa.review.estimate import Verdict, design, estimate, population  # noqa: E402
from spanqa.run.reader import load_run  # noqa: E402


def truth(corpus: Corpus, corrected: Corpus) -> tuple[set, dict]:
    """Wrong labelled spans ``(doc, start, end, label)`` and missing entities per ``(doc, sentence start)``."""
    cmp = compare_corpora(corpus, corrected)
    wrong, missing_at = set(), []
    for c in cmp.components:
        if c.kind is Kind.EXACT:
            continue
        wrong.update((c.doc_id, s.start, s.end, s.label) for s in c.labels)
        if c.kind is Kind.MISSING:
            missing_at.extend((c.doc_id, s.start) for s in c.other)
    return wrong, missing_at


def simulate(spans, sentences, wrong, missing_at, *, sims: int, n: int, n_sentences: int, random_design: bool
             ) -> dict:
    by_sentence: dict[tuple[str, int], int] = {}
    starts: dict[str, list[tuple[int, int]]] = {}
    for doc, a, b, *_ in sentences:
        starts.setdefault(doc, []).append((a, b))
    for doc, x in missing_at:
        for a, b in starts.get(doc, ()):
            if a <= x < b:
                by_sentence[(doc, a)] = by_sentence.get((doc, a), 0) + 1
                break
    n_wrong = sum(1 for s in spans if s[:4] in wrong)
    n_missing = sum(by_sentence.values())
    true_rate = (n_wrong + n_missing) / (len(spans) + n_missing)
    true_span = n_wrong / len(spans)
    if random_design:  # one stratum each: quality 1.0 / no candidate for everybody
        spans = [(d, a, b, lab, 1.0) for d, a, b, lab, _ in spans]
        sentences = [(d, a, b, 0.0, 0.0) for d, a, b, _, _ in sentences]
    cover, cover_span, width, width_span, points = 0, 0, [], [], []
    for seed in range(sims):
        dz = design(spans, sentences, n=n, n_sentences=n_sentences, seed=seed)
        verdicts = [Verdict(u, wrong=(u.doc_id, u.start, u.end, u.label) in wrong) if u.kind == "span"
                    else Verdict(u, missing=by_sentence.get((u.doc_id, u.start), 0)) for u in dz.units]
        est = estimate(dz, verdicts, seed=seed, draws=4000)
        lo, hi = est["ci95"]
        slo, shi = est["span_ci95"]
        cover += lo <= true_rate <= hi
        cover_span += slo <= true_span <= shi
        width.append(hi - lo)
        width_span.append(shi - slo)
        points.append(est["error_rate"])
    return {"true_rate": round(true_rate, 4), "true_span_rate": round(true_span, 4), "coverage": cover / sims,
            "span_coverage": cover_span / sims, "mean_width": round(float(np.mean(width)), 4),
            "mean_span_width": round(float(np.mean(width_span)), 4), "mean_estimate": round(float(np.mean(points)), 4),
            "spans": len(spans), "wrong": n_wrong, "missing": n_missing}


def run_folder(bench: Path, name: str, key: str) -> Path | None:
    """The run with today's config key, else the newest run of that set (its key is reported)."""
    want = bench / "runs" / f"{name}-all-{key}"
    if want.is_dir():
        return want
    found = sorted((bench / "runs").glob(f"{name}-all-*"), key=lambda p: p.stat().st_mtime)
    found = [p for p in found if (p / "spans.jsonl").is_file()]
    return found[-1] if found else None


def sets(bench: Path, key: str) -> list[tuple[str, Path, Corpus, Corpus]]:
    from spanqa.measure.benchmark.noisebench import read_noisebench

    out = []
    whole = run_folder(bench, "all", key)
    if whole is not None:
        for name in ("reiss_dev", "cleanconll_dev"):
            stem, rel = CORRECTIONS[name]
            out.append((name, whole, read_original(stem, DEFAULT_DATA, None),
                        read_corpus(DEFAULT_DATA / rel, format="conll")))
    clean = read_noisebench("clean")
    for ls in NOISEBENCH_SETS:
        run = run_folder(bench, f"noisebench_{ls}", key)
        if run is not None:
            out.append((f"noisebench_{ls}", run, read_noisebench(ls), clean))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", type=Path, default=Path("runs/bench"), help="bench_detection's --out folder")
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--sentences", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("runs/bench_estimate.json"))
    args = ap.parse_args()
    key = run_key(load_config())
    results = {}
    for name, run_dir, corpus, corrected in sets(args.bench, key):
        t0 = time.perf_counter()
        ids = {d.id for d in corpus.documents}
        run = load_run(run_dir, corpus=Corpus.from_docs(list(corpus.documents)))
        run = type(run)(run.path, tuple(f for f in run.findings if f.doc_id in ids),
                        tuple(s for s in run.spans if s.doc_id in ids), run.summary).with_corpus(corpus)
        spans, sentences = population(run, corpus)
        wrong, missing_at = truth(corpus, corrected)
        r = {kind: simulate(spans, sentences, wrong, missing_at, sims=args.sims, n=args.n,
                            n_sentences=args.sentences, random_design=(kind == "random"))
             for kind in ("stratified", "random")}
        r["width_ratio"] = round(r["stratified"]["mean_width"] / r["random"]["mean_width"], 3)
        r["span_width_ratio"] = round(r["stratified"]["mean_span_width"] / r["random"]["mean_span_width"], 3)
        r["s"] = round(time.perf_counter() - t0, 1)
        r["run"] = run_dir.name
        results[name] = r
        print(name, json.dumps(r), file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"n": args.n, "sentences": args.sentences, "sims": args.sims, "sets": results},
                                   indent=1))
    print("| set | true rate | stratified: coverage / mean width | random: coverage / mean width | width ratio "
          "| spans only: coverage / width ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        s, q = r["stratified"], r["random"]
        print(f"| {name} | {s['true_rate']:.3f} | {s['coverage']:.2f} / {s['mean_width']:.3f} | "
              f"{q['coverage']:.2f} / {q['mean_width']:.3f} | {r['width_ratio']:.2f} | "
              f"{s['span_coverage']:.2f} / {r['span_width_ratio']:.2f} |")


if __name__ == "__main__":
    main()
