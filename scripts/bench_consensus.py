"""Consensus of NoiseBench's noisy label sets against its clean labels (CleanCoNLL): vote, Dawid-Skene, + model.

    python scripts/bench_consensus.py                      # expert, crowd, distant, weak, llm -> consensus
    python scripts/bench_consensus.py --sets crowd distant weak llm --model
    python scripts/bench_consensus.py --model --set model.init=random_tiny --set fast.max_epochs=2   # plumbing

Every label set annotates the same 5,885 CoNLL-03 train sentences (400 documents); the clean set is
the truth.  Prints one JSON object: strict span micro P/R/F1 against the clean labels of every set
alone, of every consensus method (word-level Dawid-Skene, crowd HMM, word vote, exact-extent Dawid-Skene and
vote; word-ds and hmm also with ``learn="contested"``) and (``--model``) of the default with the out-of-fold tagger as one more annotator (:func:`spanqa.compare.consensus.with_model`); each annotator's
fitted accuracy per label; the Spearman rank correlation between each annotator's estimated
reliability (span F1 against the consensus, which never sees the clean labels) and its true F1; and
the 50-note rule of thumb: for every pair of annotators the share of spans they disagree on, on a
seeded random 50-document sample, with a bootstrap interval (and on all 400).  Needs ../shared/corpora
(NoiseBench and CoNLL-03); nothing is tuned on the clean labels.
"""

from __future__ import annotations

import argparse
import json
import time

from spanqa.compare.comparison import compare_corpora
from spanqa.compare.consensus import METHODS, MODEL_NAME, annotator_table, consensus, sample_disagreement, with_model
from spanqa.compare.metrics import span_metrics
from spanqa.core.config import load_config
from spanqa.measure.benchmark.noisebench import read_noisebench


def prf(corpus, truth) -> dict:
    m = span_metrics(compare_corpora(corpus, truth)).micro
    return {"p": round(m.precision, 4), "r": round(m.recall, 4), "f1": round(m.f1, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="+", default=["expert", "crowd", "distant", "weak", "llm"])
    ap.add_argument("--model", action="store_true", help="also Dawid-Skene + the out-of-fold tagger (trains k-fold)")
    ap.add_argument("--learn", default="all", help="with --model: what word-ds learns its confusions on (all, contested)")
    ap.add_argument("--notes", type=int, default=50, help="sample size of the disagreement rule of thumb")
    ap.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    args = ap.parse_args()
    truth = read_noisebench("clean")
    sets = {name: read_noisebench(name) for name in args.sets}
    out: dict = {"annotators": list(sets), "alone": {n: prf(c, truth) for n, c in sets.items()}}
    corpora, names = list(sets.values()), list(sets)
    for method in METHODS:
        t0 = time.perf_counter()
        res = consensus(corpora, names, method=method)
        out[method] = prf(res.corpus, truth) | {"s": round(time.perf_counter() - t0, 2)}
        if method == "word-ds":
            ds = res
    for method in ("word-ds", "hmm"):
        t0 = time.perf_counter()
        res = consensus(corpora, names, method=method, learn="contested")
        out[f"{method} (learn contested)"] = prf(res.corpus, truth) | {"s": round(time.perf_counter() - t0, 2)}
    out["fitted_accuracy"] = {a["name"]: a["accuracy"] for a in ds.annotators}
    out["reliability_vs_true_f1"] = reliability(ds, out["alone"])
    if args.model:
        t0 = time.perf_counter()
        dm, model = with_model(corpora, load_config(None, args.overrides), names=names, learn=args.learn)
        out["word_ds_with_model"] = prf(dm.corpus, truth) | {"s": round(time.perf_counter() - t0, 1)}
        out["model_alone"] = prf(model, truth)
        out["fitted_accuracy_with_model"] = {a["name"]: a["accuracy"] for a in dm.annotators}
        out["reliability_vs_true_f1_with_model"] = reliability(dm, {**out["alone"], MODEL_NAME: out["model_alone"]})
    out["sample_disagreement"] = {f"{a} vs {b}": sample_disagreement(sets[a], sets[b], notes=args.notes, seed=0)
                                  for i, a in enumerate(names) for b in names[i + 1:]}
    print(json.dumps(out, indent=1))


def reliability(result, alone) -> dict:
    """Each annotator's estimated reliability (F1 against the consensus) vs its true F1, and their rank correlation."""
    from scipy.stats import spearmanr

    names = result.crowd.names
    table = annotator_table(result.crowd, result.corpus)
    est = {r["name"]: r["f1_vs_consensus"] for r in table}
    true = {n: alone[n]["f1"] for n in names}
    rho = spearmanr([est[n] for n in names], [true[n] for n in names]).statistic
    return {"estimated": est, "true": true, "spearman": round(float(rho), 4),
            "kinds_per_100_consensus_spans": {r["name"]: {k: v["per_100_consensus_spans"]
                                                          for k, v in r["differences"].items()} for r in table}}


if __name__ == "__main__":
    main()
