"""Measure the k-fold tagger's CPU speed on synthetic clinical notes (not a unit test).

    python scripts/bench_speed.py                       # 150 notes x ~100 words, 5 folds x 3 epochs, MiniLM
    python scripts/bench_speed.py --folds 3 --epochs 2 --notes 60
    python scripts/bench_speed.py --init random_tiny    # the tiny test model
    python scripts/bench_speed.py --mode fast           # frozen encoder + per-fold head (the default mode)

``--mode`` defaults to ``finetune`` here so that numbers stay comparable with earlier runs;
``scripts/bench_modes.py`` compares both modes on real corpora with detection quality.

Prints one JSON object: machine load (``os.getloadavg``), corpus size (notes,
words, windows), per-fold training and inference times, throughput (windows/s
and sentences/s; a synthetic sentence is ~7 words), and the wall and CPU time
of the whole ``run_kfold``.  On a shared machine compare ``cpu_s`` with
``wall_s`` to see how much the load slowed it.  The synthetic text is generated
here; no corpus text is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span
from spanqa.model.kfold import run_kfold

DRUGS = ["aspirin", "warfarin", "metoprolol", "lisinopril", "atorvastatin", "metformin", "furosemide", "heparin"]
DOSES = ["81mg", "5 mg", "25 mg", "10mg", "40 mg", "500 mg", "20mg", "5000 units"]
PROBLEMS = ["CHF", "atrial fibrillation", "hypertension", "type 2 diabetes", "chest pain", "AKI", "COPD"]
FILLER = ("Patient seen today in clinic , reports feeling well overall with no new complaints . Vitals stable , "
          "BP 132/84 , HR 78 , afebrile . Labs reviewed , HbA1c 7.9% , creatinine 1.1 . Plan discussed with "
          "patient and family , follow up in two weeks .").split()


def synthetic_note(rng: random.Random, doc_id: str, n_words: int) -> Document:
    """About ``n_words`` words of sentences with Drug / Dose / Problem spans (character offsets)."""
    text, spans = "", []

    def add(piece: str, label: str | None = None) -> None:
        nonlocal text
        if text:
            text += " "
        if label:
            spans.append(Span(doc_id, len(text), len(text) + len(piece), label))
        text += piece

    while len(text.split()) < n_words:
        kind = rng.random()
        if kind < 0.4:
            add("Started")
            add(rng.choice(DRUGS), "Drug")
            add(rng.choice(DOSES), "Dose")
            add("PO daily for")
            add(rng.choice(PROBLEMS), "Problem")
            add(".")
        elif kind < 0.6:
            add("History of")
            add(rng.choice(PROBLEMS), "Problem")
            add(", on")
            add(rng.choice(DRUGS), "Drug")
            add(".")
        else:
            k = rng.randrange(len(FILLER) - 12)
            add(" ".join(FILLER[k:k + rng.randrange(6, 12)]))
            add(".")
    return Document(doc_id, text, tuple(spans), group=f"pt{int(doc_id[1:]) // 3}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, default=150)
    ap.add_argument("--words", type=int, default=100)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--stride", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--init", default="pretrained", choices=["pretrained", "random_tiny"])
    ap.add_argument("--mode", default="finetune", choices=["finetune", "fast"])
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)

    rng = random.Random(0)
    corpus = Corpus.from_docs([synthetic_note(rng, f"n{i}", args.words) for i in range(args.notes)])
    cfg = load_config(overrides=[f"train.folds={args.folds}", f"train.epochs={args.epochs}",
                                 f"train.max_length={args.max_length}", f"train.stride={args.stride}",
                                 f"train.batch_size={args.batch_size}", f"model.init={args.init}",
                                 f"train.mode={args.mode}"])
    load_before = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    oof = run_kfold(corpus, cfg, progress=args.progress)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    import torch

    fs = oof.meta["fold_stats"]
    n_words = sum(len(m.words) for m in oof.docs.values())
    n_sents = sum(d.text.count(" .") for d in corpus)
    if args.mode == "fast":
        feats = oof.meta.get("features") or {}
        head_s = sum(s["train_s"] + s["predict_s"] for s in fs)
        print(json.dumps({
            "command": " ".join([os.path.basename(sys.argv[0])] + (argv or sys.argv[1:])),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count(),
            "notes": args.notes, "words": n_words, "sentences": n_sents, "windows": oof.meta["windows"]["total"],
            "folds": args.folds, "features_s": oof.meta["timing"].get("features_s"), "feature_dim": feats.get("dim"),
            "heads_s": round(head_s, 1), "head_params": oof.meta["model"]["params"],
            "encode_s": oof.meta["timing"]["encode_s"], "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "sentences_per_s": round(n_sents / wall, 2), "fold_stats": fs}, indent=1))
        return 0
    train_windows = sum(s["train_windows"] for s in fs) * args.epochs
    train_s = sum(s["train_s"] for s in fs)
    pred_windows = sum(s["predict_windows"] for s in fs)
    pred_s = sum(s["predict_s"] for s in fs)
    train_sent = n_sents * (args.folds - 1) / args.folds * args.folds * args.epochs
    out = {
        "command": " ".join([os.path.basename(sys.argv[0])] + (argv or sys.argv[1:])),
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "notes": args.notes, "words": n_words, "sentences": n_sents, "windows": oof.meta["windows"]["total"],
        "multi_window_docs": oof.meta["windows"]["multi_window_docs"], "params": oof.meta["model"]["params"],
        "folds": args.folds, "epochs": args.epochs, "max_length": args.max_length,
        "train_s": round(train_s, 1), "train_windows_per_s": round(train_windows / train_s, 2),
        "train_sentences_per_s": round(train_sent / train_s, 2),
        "predict_s": round(pred_s, 1), "predict_windows_per_s": round(pred_windows / pred_s, 2),
        "predict_sentences_per_s": round(n_sents / pred_s, 2),
        "encode_s": oof.meta["timing"]["encode_s"], "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),  # process CPU time (all threads): wall ~ cpu / threads on an idle machine
        "fold_stats": fs,
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
