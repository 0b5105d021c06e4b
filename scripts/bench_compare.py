"""Side by side: two ``bench_detection.py`` outputs (e.g. fast mode vs full fine-tuning).

    python scripts/bench_compare.py runs/bench_fast runs/bench_ft > docs/bench/conll2003_fast_vs_finetune.md

Reads ``results.json`` of each folder (written by ``scripts/bench_detection.py``) and prints
Markdown: per correction set, span AP / R-precision and sentence AUPRC / AUROC of spanqa's
findings, of spanqa's every-span ranking and of cleanlab on the same run's marginals, with
the relative AP difference; then, per audited CoNLL file, the k-fold time, training speed
and peak memory of each run.  Nothing is recomputed: every number comes from the two files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

METHODS = (("spanqa", "spanqa findings"), ("spanqa_spans", "spanqa, every span by quality"),
           ("cleanlab", "cleanlab on the same marginals"))


def _load(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def _mode(res: dict) -> str:
    return res["config"]["train"]["mode"]


def _cell(m: dict | None) -> str:
    if not m:
        return "-"
    s = m.get("sentence") or {}
    sent = f"; {s['auprc']:.3f} / {s['auroc']:.3f}" if s else ""
    return f"{m['span']['all']['ap']:.3f} / {m['span']['all']['r_precision']:.3f}{sent}"


def render(a: dict, b: dict) -> str:
    ma, mb = _mode(a), _mode(b)
    out = [f"# CoNLL-2003 correction benchmark: `{ma}` vs `{mb}`", "",
           f"- {ma}: `{a['command']}` ({a['wall_s']:.0f} s wall, peak RSS {a['peak_rss_mib']:.0f} MiB)",
           f"- {mb}: `{b['command']}` ({b['wall_s']:.0f} s wall, peak RSS {b['peak_rss_mib']:.0f} MiB)",
           f"- hardware: {a['hardware']['nproc']} CPU(s), {a['hardware']['cpu']}, torch {a['hardware']['torch']}", "",
           "Span AP / R-precision; sentence AUPRC / AUROC (definitions in `scripts/bench_detection.py`).", "",
           f"| correction set | changes | method | {ma} | {mb} | AP change {ma} vs {mb} |", "|---|---:|---|---|---|---:|"]
    for name in a["results"]:
        if name not in b["results"]:
            continue
        ra, rb = a["results"][name], b["results"][name]
        for key, label in METHODS:
            xa, xb = ra["methods"].get(key), rb["methods"].get(key)
            rel = "-"
            if xa and xb and xb["span"]["all"]["ap"]:
                rel = f"{100 * (xa['span']['all']['ap'] / xb['span']['all']['ap'] - 1):+.0f}%"
            out.append(f"| {name} | {ra['n_changes']} | {label} | {_cell(xa)} | {_cell(xb)} | {rel} |")
    out += ["", "Speed per audited file (k-fold = training and out-of-fold prediction of all folds):", "",
            "| file | sentences | mode | k-fold wall s | train sentence passes / s | encoder pass s | peak RSS MiB |",
            "|---|---:|---|---:|---:|---:|---:|"]
    for f in a["runs"]:
        for res in (a, b):
            r = res["runs"].get(f)
            if r is None:
                continue
            enc = "-" if r.get("features_s") is None else f"{r['features_s']:.0f}"
            kfold = f"{r['kfold_wall_s']:.0f}"
            if r.get("resumed_folds"):  # the folds' own train + predict times, from the run that trained them
                kfold = f"{r['train_s'] + r['predict_s'] + (r.get('features_s') or 0):.0f} (resumed: folds' own times)"
            out.append(f"| {f} | {r['sentences']} | {r['mode']} | {kfold} | "
                       f"{r['train_sent_per_s']} | {enc} | {r['peak_rss_mib']:.0f} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first", type=Path, help="a bench_detection.py --out folder")
    ap.add_argument("second", type=Path, help="another one, compared against")
    args = ap.parse_args(argv)
    print(render(_load(args.first), _load(args.second)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
