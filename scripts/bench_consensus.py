"""Consensus of NoiseBench's noisy label sets against its clean labels (CleanCoNLL): majority vote vs Dawid-Skene.

    python scripts/bench_consensus.py                      # expert, crowd, distant, weak, llm -> consensus
    python scripts/bench_consensus.py --sets crowd weak llm

Every label set annotates the same 5,885 CoNLL-03 train sentences (400 documents); the clean set is
the truth.  Prints one JSON object: strict span micro P/R/F1 against the clean labels of every set
alone, of the majority vote and of the Dawid-Skene consensus, and each annotator's fitted accuracy
per label.  Needs ../shared/corpora (NoiseBench and CoNLL-03); nothing is tuned on the clean labels.
"""

from __future__ import annotations

import argparse
import json
import time

from spanqa.benchmark.noisebench import read_noisebench
from spanqa.comparison import compare_corpora
from spanqa.consensus import dawid_skene, majority_vote
from spanqa.metrics import span_metrics


def prf(corpus, truth) -> dict:
    m = span_metrics(compare_corpora(corpus, truth)).micro
    return {"p": round(m.precision, 4), "r": round(m.recall, 4), "f1": round(m.f1, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="+", default=["expert", "crowd", "distant", "weak", "llm"])
    args = ap.parse_args()
    truth = read_noisebench("clean")
    sets = {name: read_noisebench(name) for name in args.sets}
    out: dict = {"annotators": list(sets), "alone": {n: prf(c, truth) for n, c in sets.items()}}
    t0 = time.perf_counter()
    mv = majority_vote(list(sets.values()))
    out["majority_vote"] = prf(mv.corpus, truth) | {"s": round(time.perf_counter() - t0, 2)}
    t0 = time.perf_counter()
    ds = dawid_skene(list(sets.values()), names=list(sets))
    out["dawid_skene"] = prf(ds.corpus, truth) | {"s": round(time.perf_counter() - t0, 2)}
    out["fitted_accuracy"] = {a["name"]: a["accuracy"] for a in ds.annotators}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
