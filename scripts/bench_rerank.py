"""Do reviews teach the ranking? Simulated review where the corrections are known, re-ranked vs static.

    python scripts/bench_rerank.py                      # Reiss dev, CleanCoNLL dev (design), NoiseBench x 6
    python scripts/bench_rerank.py --sigma 0.5 1 2      # the prior's width, chosen on the design sets

The audit's run folders come from ``scripts/bench_detection.py`` (run it first). The correction set plays the
reviewer: a finding is accepted when it overlaps a change (the benchmark's lenient hit rule), else rejected.
Reviews come in batches of 20 (a weekly sync) from the top of the current list; after each batch the re-ranked
process refits :class:`spanqa.score.ranking.feedback.Feedback` on every decision so far and re-orders what is left, the
static process keeps the audit's order. Two readings, because a re-ranking that finds more errors while
reviewing leaves fewer for the next 100: (1) both lists after the *same* R reviews (the static top R), real errors
among the next 100 and the average precision of the rest; (2) real errors found in R + 100 reviews when every batch
re-ranks. Prints a Markdown table; JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_estimate import run_key, sets  # noqa: E402

from spanqa.compare.comparison import compare_corpora  # noqa: E402
from spanqa.core.config import load_config  # noqa: E402
from spanqa.measure.benchmark import changes_from_comparison  # noqa: E402
from spanqa.review.rerank import finding_keys, signal_matrix  # noqa: E402
from spanqa.run.reader import load_run  # noqa: E402
from spanqa.score.ranking.feedback import Feedback  # noqa: E402

STEPS = (0, 50, 100, 200)
NEXT = 100
BATCH = 20


def ap(hits: np.ndarray) -> float:
    if not hits.any():
        return 0.0
    ranks = np.flatnonzero(hits) + 1
    return float((np.arange(1, len(ranks) + 1) / ranks).mean())


def simulate(p_static: np.ndarray, keys: list, hit: np.ndarray, sigma: float, x: np.ndarray) -> dict:
    order_static = np.argsort(-p_static, kind="stable")
    out = {}
    for r in STEPS:
        reviewed: list[int] = []
        order = order_static.copy()
        while len(reviewed) < r:
            seen = set(reviewed)
            batch = [i for i in order if i not in seen][:min(BATCH, r - len(reviewed))]
            reviewed += batch
            rv = np.asarray(reviewed)
            fb = Feedback.fit([keys[i] for i in rv], p_static[rv], hit[rv], signals=x[rv], sigma=sigma)
            p_new = fb.p_error(keys, p_static, x)
            order = np.argsort(-p_new, kind="stable")
        done = set(reviewed)
        rest_new = [i for i in order if i not in done]
        first = set(order_static[:r].tolist())
        rest_static = [i for i in order_static if i not in first]
        same = order_static[:r]
        if r:
            fb = Feedback.fit([keys[i] for i in same], p_static[same], hit[same], signals=x[same], sigma=sigma)
            order_same = [i for i in np.argsort(-fb.p_error(keys, p_static, x), kind="stable") if i not in first]
        else:
            order_same = rest_static
        out[r] = {"same_reviewed_reranked_next100": int(hit[order_same[:NEXT]].sum()),
                  "same_reviewed_reranked_ap_rest": round(ap(hit[order_same]), 4),
                  "static_next100": int(hit[rest_static[:NEXT]].sum()), "reranked_next100": int(hit[rest_new[:NEXT]].sum()),
                  "static_ap_rest": round(ap(hit[rest_static]), 4), "reranked_ap_rest": round(ap(hit[rest_new]), 4),
                  "reviewed_hits_static": int(hit[order_static[:r]].sum()),
                  "reviewed_hits_reranked": int(hit[np.asarray(reviewed, int)].sum()) if reviewed else 0}
    return out


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap_.add_argument("--bench", type=Path, default=Path("runs/bench"))
    ap_.add_argument("--sigma", type=float, nargs="+", default=[1.0])
    ap_.add_argument("--sets", nargs="*", default=None, help="only these sets (default: all found)")
    ap_.add_argument("--out", type=Path, default=Path("runs/bench_rerank.json"))
    args = ap_.parse_args()
    results: dict = {}
    for name, run_dir, corpus, corrected in sets(args.bench, run_key(load_config())):
        if args.sets and name not in args.sets:
            continue
        t0 = time.perf_counter()
        ids = {d.id for d in corpus.documents}
        run = load_run(run_dir, corpus=corpus)
        findings = [f for f in run.ranked() if f.doc_id in ids and f.kind != "pattern"]
        changes = changes_from_comparison(compare_corpora(corpus, corrected))
        by_doc: dict[str, list[tuple[int, int]]] = {}
        for c in changes:
            by_doc.setdefault(c.doc_id, []).append((c.start, c.end))
        hit = np.asarray([f.start is not None and any(a < f.end and f.start < b for a, b in by_doc.get(f.doc_id, ()))
                          for f in findings], bool)
        p_static = np.asarray([1 - f.score for f in findings])
        keys = finding_keys(findings, corpus)
        results[name] = {"findings": len(findings), "hits": int(hit.sum()), "run": run_dir.name,
                         "sigma": {str(s): simulate(p_static, keys, hit, s, signal_matrix(findings)) for s in args.sigma}}
        results[name]["s"] = round(time.perf_counter() - t0, 1)
        print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    for s in args.sigma:
        print(f"\nsigma = {s}. Real errors among the next {NEXT} findings after the same R reviews (the static top R), "
              "static -> re-ranked; and real errors found in R + 100 reviews when every batch of 20 re-ranks the "
              "rest, static -> re-ranked\n")
        print("| set | " + " | ".join(f"next 100 after R = {r}" for r in STEPS[1:]) + " | "
              + " | ".join(f"found in {r} + 100" for r in STEPS[1:]) + " | AP of the rest after 100 |")
        print("|---|" + "---:|" * (2 * len(STEPS[1:]) + 1))
        for name, r in results.items():
            row = r["sigma"][str(s)]
            nxt = [f"{row[k]['static_next100']} -> {row[k]['same_reviewed_reranked_next100']}" for k in STEPS[1:]]
            cum = [f"{row[k]['reviewed_hits_static'] + row[k]['static_next100']} -> "
                   f"{row[k]['reviewed_hits_reranked'] + row[k]['reranked_next100']}" for k in STEPS[1:]]
            print(f"| {name} | " + " | ".join(nxt + cum) + f" | {row[100]['static_ap_rest']:.3f} -> "
                  f"{row[100]['same_reviewed_reranked_ap_rest']:.3f} |")

if __name__ == "__main__":
    main()
