"""Measure the speed of the safety net, ``spanqa check``, on two large synthetic corpora (not a unit test).

    python scripts/bench_check.py                    # both corpora, 1M tokens and 30 MB, default sizes
    python scripts/bench_check.py --tokens 200000 --mb 5 --repeat 1

1. A CoNLL file of ``--tokens`` tokens (default 1,000,000) in ~15-token sentences,
   about 12% of tokens inside entities of four labels, a ``-DOCSTART-`` every 40
   sentences.
2. A JSONL corpus whose one document is a single-line note of ``--mb`` megabytes
   (default 30) with a labelled span every ~200 characters.

Each is checked with the console command (``spanqa check PATH --json``, a fresh
process, as a user runs it), ``--repeat`` times; the best and all wall times are
printed as one JSON object with the machine's CPU count and load.  The text is
generated here from a fixed vocabulary and seed; no corpus text is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("patient seen today in clinic reports feeling well with no new complaints vitals stable BP 132/84 HR 78 "
         "afebrile labs reviewed HbA1c 7.9% creatinine 1.1 plan discussed with family follow up in two weeks , . ; "
         "( ) - / denies chest pain shortness of breath").split()
ENTITIES = {"Drug": ["aspirin", "warfarin", "metoprolol succinate", "heparin"], "Strength": ["81 mg", "5 mg", "25mg"],
            "Problem": ["atrial fibrillation", "CHF", "type 2 diabetes mellitus"], "Test": ["INR", "CBC", "BMP"]}


def write_conll(path: Path, n_tokens: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    labels = sorted(ENTITIES)
    n, sent = 0, 0
    with path.open("w", encoding="utf-8") as fh:
        while n < n_tokens:
            if sent % 40 == 0:
                fh.write("-DOCSTART- O\n\n")
            for _ in range(rng.randint(8, 20)):
                if rng.random() < 0.06:
                    label = rng.choice(labels)
                    for i, tok in enumerate(rng.choice(ENTITIES[label]).split()):
                        fh.write(f"{tok} {'B' if i == 0 else 'I'}-{label}\n")
                        n += 1
                else:
                    fh.write(f"{rng.choice(WORDS)} O\n")
                    n += 1
            fh.write("\n")
            sent += 1
    return n


def write_long_note(path: Path, megabytes: float, seed: int = 0) -> int:
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    parts: list[str] = []
    spans = []
    pos = 0
    labels = sorted(ENTITIES)
    while pos < target:
        if rng.random() < 0.04:
            label = rng.choice(labels)
            word = rng.choice(ENTITIES[label])
            spans.append({"start": pos, "end": pos + len(word), "label": label})
        else:
            word = rng.choice(WORDS)
        parts.append(word)
        pos += len(word) + 1
    text = " ".join(parts)
    path.write_text(json.dumps({"id": "long-note", "text": text, "spans": spans}) + "\n", encoding="utf-8")
    return len(spans)


def time_check(path: Path, repeat: int) -> dict:
    walls = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "spanqa", "check", str(path), "--json"], capture_output=True,
                              text=True)
        walls.append(round(time.perf_counter() - t0, 2))
        if proc.returncode not in (0, 1):
            raise SystemExit(f"spanqa check failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    total = lambda v: v.get("total") if isinstance(v, dict) else v  # noqa: E731
    return {"best_s": min(walls), "wall_s": walls, "documents": total(report.get("documents")),
            "words": report.get("words"), "spans": total(report.get("spans")), "errors": report.get("errors"),
            "warnings": report.get("warnings")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=1_000_000)
    ap.add_argument("--mb", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", choices=["conll", "note"], default=None)
    args = ap.parse_args()
    out: dict = {"cpus": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="spanqa-bench-check-") as tmp:
        if args.only in (None, "conll"):
            path = Path(tmp) / "big.conll"
            n = write_conll(path, args.tokens)
            out["conll"] = {"tokens": n, "bytes": path.stat().st_size, **time_check(path, args.repeat)}
        if args.only in (None, "note"):
            path = Path(tmp) / "note.jsonl"
            n = write_long_note(path, args.mb)
            out["long_note"] = {"bytes": path.stat().st_size, "spans_written": n, **time_check(path, args.repeat)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
