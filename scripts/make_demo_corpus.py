#!/usr/bin/env python
"""Regenerate the committed demo corpus under ``corpora/demo/`` (deterministic: same bytes every run).

Usage::

    python scripts/make_demo_corpus.py [--out corpora/demo] [--notes 150] [--seed 0] [--rate 0.10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spanqa.measure.demo import write_demo

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "corpora" / "demo", help="output folder")
    parser.add_argument("--notes", type=int, default=150, help="number of notes")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--rate", type=float, default=0.10, help="errors as a fraction of the gold spans")
    args = parser.parse_args(argv)
    paths = write_demo(args.out, n_notes=args.notes, seed=args.seed, rate=args.rate)
    print(f"wrote {paths.root}: clean/ noisy/ {paths.manifest.name} {paths.documents.name} {paths.readme.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
