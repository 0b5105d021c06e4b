"""What an audit costs as the corpus grows: wall time, CPU time and peak memory at several sizes of a real corpus.

    python scripts/bench_scale.py                          # 0.25x, 0.5x, 1x of CoNLL-2003 (train+dev+test)
    python scripts/bench_scale.py --sizes 0.25 0.5 1 2 4   # 2x and 4x repeat documents under new ids (said so)

Each size is audited with the defaults (fast mode) by ``spanqa audit`` in a fresh process under ``/usr/bin/time
-v`` (peak RSS of the whole process, CPU = user + system), into its own run folder, one after the other. A size
below 1 takes the first documents of the corpus; above 1 the corpus is repeated with ids ``copyN/<id>``. A least-
squares line per measure gives the cost per word, so a user can read what a corpus of their size costs. Writes
``--out/scale.json``, ``--out/scale.md`` and ``--out/scale.svg``. Needs ../shared/corpora/conll2003.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_detection import ALL_STEMS, DEFAULT_DATA, read_original  # noqa: E402

from spanqa.core.document import Corpus  # noqa: E402
from spanqa.corpus.formats import write_corpus  # noqa: E402


def sized(corpus: Corpus, factor: float) -> Corpus:
    docs = list(corpus.documents)
    if factor <= 1:
        return Corpus.from_docs(docs[:max(1, int(round(len(docs) * factor)))])
    out = []
    for k in range(int(np.ceil(factor))):
        take = docs if k + 1 <= factor else docs[:int(round(len(docs) * (factor - k)))]
        out += [d.evolve(id=f"copy{k}/{d.id}") if k else d for d in take]
    return Corpus.from_docs(out)


def measure(corpus_path: Path, run_dir: Path, log: Path) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "spanqa", "audit", str(corpus_path), "--format", "jsonl",
           "--out", str(run_dir), "-q"]
    t0 = time.perf_counter()
    with log.open("w") as fh:
        rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    text = log.read_text()
    grab = lambda pat: float(re.search(pat, text).group(1))  # noqa: E731
    return {"rc": rc, "wall_s": round(wall, 1),
            "cpu_s": round(grab(r"User time \(seconds\): ([\d.]+)") + grab(r"System time \(seconds\): ([\d.]+)"), 1),
            "peak_rss_gb": round(grab(r"Maximum resident set size \(kbytes\): (\d+)") / 2 ** 20, 3)}


def fit(words: list[int], ys: list[float]) -> dict:
    a, b = np.polyfit(np.asarray(words, float), np.asarray(ys, float), 1)
    return {"per_word": float(a), "intercept": float(b)}


def svg(rows: list[dict], width: int = 640, height: int = 300) -> str:
    """Two panels, minutes and GB against words, points and the fitted lines (no plotting library needed)."""
    pad, mid = 50, width // 2
    xs = [r["words"] for r in rows]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="11"><rect width="100%" height="100%" fill="white"/>']
    for i, (key, scale, unit) in enumerate((("wall_s", 1 / 60, "minutes (wall)"), ("peak_rss_gb", 1, "peak GB"))):
        x0, x1, y0, y1 = i * mid + pad, (i + 1) * mid - 15, height - 40, 20
        ys = [r[key] * scale for r in rows]
        xmax, ymax = max(xs) * 1.05, max(ys) * 1.15 or 1
        px = lambda v: x0 + (x1 - x0) * v / xmax  # noqa: E731
        py = lambda v: y0 - (y0 - y1) * v / ymax  # noqa: E731
        parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>'
                     f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>'
                     f'<text x="{(x0 + x1) / 2}" y="{height - 8}" text-anchor="middle">words</text>'
                     f'<text x="{x0 - 40}" y="{y1 - 6}">{unit}</text>')
        for t in np.linspace(0, xmax, 4)[1:]:
            parts.append(f'<text x="{px(t):.0f}" y="{y0 + 14}" text-anchor="middle">{t / 1000:.0f}k</text>')
        for t in np.linspace(0, ymax, 4)[1:]:
            parts.append(f'<text x="{x0 - 6}" y="{py(t) + 4:.0f}" text-anchor="end">{t:.1f}</text>')
        f = fit(xs, ys)
        parts.append(f'<line x1="{px(0):.1f}" y1="{py(f["intercept"]):.1f}" x2="{px(xmax):.1f}" '
                     f'y2="{py(f["intercept"] + f["per_word"] * xmax):.1f}" stroke="#4e79a7" stroke-dasharray="4 3"/>')
        for x, y in zip(xs, ys):
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="#e15759"/>')
    parts.append("</svg>")
    return "".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    ap.add_argument("--out", type=Path, default=Path("runs/scale"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = Corpus.from_docs([d for stem in ALL_STEMS for d in read_original(stem, DEFAULT_DATA, None).documents])
    rows = []
    for factor in args.sizes:
        corpus = sized(base, factor)
        path = args.out / f"conll_{factor:g}x.jsonl"
        write_corpus(corpus, path, "jsonl")
        words = sum(len(d.tokens or ()) for d in corpus.documents)
        row = {"factor": factor, "documents": len(corpus), "words": words, "repeated": factor > 1,
               **measure(path, args.out / f"run_{factor:g}x", args.out / f"audit_{factor:g}x.log")}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    fits = {k: fit([r["words"] for r in rows], [r[k] for r in rows]) for k in ("wall_s", "cpu_s", "peak_rss_gb")}
    record = {"corpus": "CoNLL-2003 train+dev+test", "cores": os.cpu_count(), "rows": rows, "fits": fits}
    (args.out / "scale.json").write_text(json.dumps(record, indent=1))
    (args.out / "scale.svg").write_text(svg(rows))
    lines = ["| size | documents | words | wall | CPU | peak RSS |", "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['factor']:g}x{' (repeated)' if r['repeated'] else ''} | {r['documents']:,} | {r['words']:,} | "
              f"{r['wall_s'] / 60:.1f} min | {r['cpu_s'] / 60:.1f} min | {r['peak_rss_gb']:.2f} GB |" for r in rows]
    lines.append("")
    lines.append(f"Per 100k words: {fits['wall_s']['per_word'] * 1e5 / 60:.1f} min wall, "
                 f"{fits['cpu_s']['per_word'] * 1e5 / 60:.1f} min CPU, {fits['peak_rss_gb']['per_word'] * 1e5:.2f} GB "
                 f"of peak memory on top of {fits['peak_rss_gb']['intercept']:.2f} GB ({os.cpu_count()} cores).")
    (args.out / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
