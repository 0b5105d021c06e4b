"""Consensus on a real sparse crowd (CoNLL-2003 documents labelled by Mechanical Turk workers, Rodrigues et al.
2014) and at scale (a synthetic sparse crowd).

    python scripts/bench_consensus_crowd.py                  # crowd CoNLL val and test, every method
    python scripts/bench_consensus_crowd.py --scale          # + 5,000 documents x 300 annotators, time / memory / sizes

Per split (``val`` designs, ``test`` reports) and method: exact-span P/R/F1 (strict: same edges, same label;
the published papers' metric is exact-match entity F1 too) and token F1 (a word's label, B/I ignored) against the
expert labels; "more documents must not hurt": each method fitted on the split alone vs on val + test, and on a
random half of the split vs all of it, scored on the same documents; whether the reliability table ranks workers
by their true quality (Spearman of F1 against the consensus vs true F1, beside the simple baseline: agreement
with a word majority vote). Workers' texts differ from the expert text (re-tokenised words, stray "/LOC"): the
consensus is mapped onto the expert text by characters (:class:`spanqa.compare.consensus.CharMap`) before scoring.
Needs ../shared/corpora/conll_crowd_mturk. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import resource
import sys
import time
from pathlib import Path

from spanqa.compare.comparison import compare_corpora
from spanqa.compare.consensus import METHODS, CharMap, annotator_table, consensus, disagreements
from spanqa.compare.metrics import span_metrics
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Reporter
from spanqa.core.span import Span
from spanqa.corpus.bio import spans_to_tags
from spanqa.corpus.formats import read_corpus

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "conll_crowd_mturk"
PUBLISHED = {  # exact-match entity F1 (P / R / F1, %) on the test half; Simpson & Gurevych (EMNLP 2019) Table 2
    "token majority vote": (79.9, 55.3, 65.4), "MACE": (74.4, 66.0, 70.0), "Dawid-Skene": (79.0, 70.4, 74.4),
    "HMM-Crowd (Nguyen et al. 2017)": (80.1, 69.2, 74.2), "BSC-seq (no text features)": (81.3, 71.9, 76.3),
    "BSC-seq (with text features)": (80.3, 74.8, 77.4)}


def load(split: str) -> tuple[Corpus, list[Corpus], list[str]]:
    base = ROOT / split
    quiet = Reporter(strict=False)
    truth = read_corpus(base / "ground_truth", format="conll", doc_break="file", reporter=quiet)
    workers = sorted(glob.glob(str(base / "mturk_train_data" / "*")))
    return (truth, [read_corpus(w, format="conll", doc_break="file", reporter=Reporter(strict=False)) for w in workers],
            [Path(w).name for w in workers])


def on_truth(corpus: Corpus, truth: Corpus) -> Corpus:
    """``corpus`` mapped onto the expert text by characters (documents the truth lacks are left out)."""
    t = truth.by_id()
    docs = []
    for d in corpus.documents:
        if d.id in t and d.spans is not None:
            g = t[d.id]
            cm = CharMap(g.text, d.text)
            docs.append(Document(d.id, g.text, tuple(m for m in (cm.map(s, d.id) for s in d.spans) if m is not None),
                                 tokens=g.tokens))
    return Corpus.from_docs(docs)


def scores(corpus: Corpus, truth: Corpus, ids: set[str] | None = None) -> dict:
    mapped = on_truth(corpus, truth)
    if ids is not None:
        mapped = Corpus.from_docs([d for d in mapped.documents if d.id in ids])
    m = span_metrics(compare_corpora(mapped, truth)).micro
    tp = fp = fn = 0
    t = truth.by_id()
    for d in mapped.documents:
        g = t[d.id]
        a, b = spans_to_tags(g.tokens, d.spans), spans_to_tags(g.tokens, g.spans)
        for x, y in zip(a, b):
            x, y = x[2:] if x != "O" else "O", y[2:] if y != "O" else "O"
            tp += x == y != "O"
            fp += x != "O" and x != y
            fn += y != "O" and x != y
    # compare_corpora(labels=consensus, other=truth): recall of the consensus = share of truth matched
    return {"p": round(m.matched / max(1, m.n_labels), 4), "r": round(m.matched / max(1, m.n_other), 4),
            "f1": round(m.f1, 4), "token_f1": round(2 * tp / max(1, 2 * tp + fp + fn), 4)}


def restrict(corpora: list[Corpus], ids: set[str]) -> list[Corpus]:
    return [Corpus.from_docs([d for d in c.documents if d.id in ids]) for c in corpora]


def crowd_conll(methods: list[str]) -> dict:
    from scipy.stats import spearmanr

    out: dict = {"published_test": PUBLISHED}
    data = {s: load(s) for s in ("val", "test")}
    for split in ("val", "test"):
        truth, workers, names = data[split]
        res: dict = {"documents": len(truth), "workers": len(workers)}
        o_truth, o_workers, o_names = data["test" if split == "val" else "val"]
        ids = [d.id for d in truth.documents]
        half = set(random.Random(0).sample(ids, len(ids) // 2))
        for m in methods:
            t0 = time.perf_counter()
            r = consensus(workers, names, method=m)
            row = scores(r.corpus, truth) | {"s": round(time.perf_counter() - t0, 1)}
            both = consensus(workers + o_workers, names + [f"{n} ({'test' if split == 'val' else 'val'})"
                                                           for n in o_names], method=m)
            row["fit_on_val_and_test"] = scores(both.corpus, truth)
            row["half_fit_on_half"] = scores(consensus(restrict(workers, half), names, method=m).corpus, truth, half)
            row["half_fit_on_all"] = scores(r.corpus, truth, half)
            res[m] = row
        # reliability: does F1 against the consensus rank workers by their true F1?
        true_f1 = {n: span_metrics(compare_corpora(on_truth(w, truth), truth)).micro.f1 for n, w in zip(names, workers)}
        wv = consensus(workers, names, method="word-vote")
        base = {r["name"]: r["f1_vs_consensus"] or 0.0 for r in annotator_table(wv.crowd, wv.corpus)}
        ds = consensus(workers, names)
        table = annotator_table(ds.crowd, ds.corpus)
        est = {r["name"]: r["f1_vs_consensus"] or 0.0 for r in table}
        rho = lambda e: round(float(spearmanr([e[n] for n in names], [true_f1[n] for n in names]).statistic), 4)
        res["reliability"] = {"spearman_f1_vs_consensus": rho(est), "spearman_agreement_with_word_vote": rho(base),
                              "flagged_few_documents": sum(r["few_documents"] for r in table),
                              "problems": {c: sum(p.code == c for p in ds.problems) for c in ("W306", "W307")},
                              "aligned": ds.crowd.aligned}
        out[split] = res
        print(json.dumps({split: res}), file=sys.stderr, flush=True)
    return out


def synthetic_crowd(n_docs: int, n_annotators: int, per_doc: int, seed: int = 0) -> list[Corpus]:
    """A sparse crowd: each document (~200 words, ~12 entities of 3 labels) seen by ``per_doc`` random annotators
    of varying quality (miss / swap / one-word boundary slips)."""
    rng = random.Random(seed)
    words = ["the", "patient", "was", "given", "daily", "for", "and", "with", "noted", "after"]
    ents = [("aspirin", "Drug"), ("chest pain", "Problem"), ("blood pressure", "Test"), ("warfarin", "Drug"),
            ("fever", "Problem")]
    quality = [(rng.uniform(0.05, 0.4), rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.15)) for _ in range(n_annotators)]
    held: list[list[Document]] = [[] for _ in range(n_annotators)]
    for i in range(n_docs):
        parts, spans, pos = [], [], 0
        for _ in range(12):
            for _ in range(rng.randint(8, 20)):
                w = rng.choice(words)
                parts.append(w)
                pos += len(w) + 1
            e, lab = rng.choice(ents)
            spans.append((pos, pos + len(e), lab))
            parts.append(e)
            pos += len(e) + 1
        text = " ".join(parts)
        for j in rng.sample(range(n_annotators), per_doc):
            miss, swap, slip = quality[j]
            mine = []
            for a, b, lab in spans:
                r = rng.random()
                if r < miss:
                    continue
                if r < miss + swap:
                    lab = rng.choice(["Drug", "Problem", "Test"])
                if rng.random() < slip:
                    b = text.find(" ", b + 1) if text.find(" ", b + 1) > 0 else b
                mine.append(Span(f"n{i}", a, b, lab))
            held[j].append(Document(f"n{i}", text, tuple(mine)))
    return [Corpus.from_docs(h) for h in held]


def scale(n_docs: int, n_annotators: int, per_doc: int, out: Path) -> dict:
    """The CLI's work (consensus, reliability table, disagreements streamed to a file) on a synthetic crowd."""
    from spanqa.core.output import atomic_open
    from spanqa.corpus.formats import write_corpus

    corpora = synthetic_crowd(n_docs, n_annotators, per_doc)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    r = consensus(corpora, [f"worker{j}" for j in range(n_annotators)])
    out.mkdir(parents=True, exist_ok=True)
    write_corpus(r.corpus, out / "consensus.jsonl", "jsonl")
    table = annotator_table(r.crowd, r.corpus)
    (out / "annotators.json").write_text(json.dumps(table))
    n = 0
    with atomic_open(out / "disagreements.jsonl", root=out) as fh:
        for row in disagreements(r.crowd, r.corpus):
            fh.write(json.dumps(row) + "\n")
            n += 1
    return {"documents": n_docs, "annotators": n_annotators, "per_document": per_doc,
            "words": int(sum(len(d.text.split()) for d in r.crowd.documents)),
            "wall_s": round(time.perf_counter() - t0, 1), "cpu_s": round(time.process_time() - c0, 1),
            "peak_rss_mb_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_rss_mb_before": round(rss0 / 1024), "disagreements": n,
            "disagreements_mb": round((out / "disagreements.jsonl").stat().st_size / 2**20, 1),
            "consensus_mb": round((out / "consensus.jsonl").stat().st_size / 2**20, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--scale", action="store_true", help="also the synthetic 5,000 x 300 size test")
    ap.add_argument("--scale-only", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("runs/bench_consensus"))
    args = ap.parse_args()
    result = {} if args.scale_only else crowd_conll(args.methods)
    if args.scale or args.scale_only:
        result["scale"] = scale(5000, 300, 6, args.out / "scale")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
