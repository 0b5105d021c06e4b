"""How good is the out-of-fold model, per corpus: strict span F1 against the labels, time per word.

    python scripts/bench_model.py --corpus ncbi --corpus phee --out runs/model                 # defaults
    python scripts/bench_model.py --corpus ncbi --variant bilstm=fast.head=bilstm \\
        --variant heads3=fast.heads=3 --out runs/model                                          # ideas side by side

Every corpus (:mod:`spanqa.measure.benchmark.corpora`: ``ncbi``, ``bc5cdr``, ``phee``, ``ade``,
``maccrobat``; ``conll`` = CoNLL-2003 test, ``noisebench`` = NoiseBench's original labels) is
audited with :func:`spanqa.run.pipeline.audit` once per variant (``NAME=key=value;key=value``, on top
of ``--set``; ``defaults`` always runs first).  Run folders are kept in ``OUT/runs/`` and reused;
the frozen-encoder feature caches of one corpus are shared between its variants (a cache file is
only used when its key - encoder, layers, pooling, windows - is exactly what the variant needs).

Reported per corpus and variant: the decoded out-of-fold predictions' strict span F1 against
every label (*typed*), with labels ignored (*untyped*: start and end only), against the flat
layer the tagger can hold (*flat*: overlapping labels reduced to the longest, as the tagger is
trained), per label; the audit's estimated error rate; k-fold wall time and milliseconds per word
on this machine.  Nothing here is tuned on a label: the variants are settings a user can choose.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from spanqa.core.config import load_config
from spanqa.core.document import Corpus
from spanqa.corpus.bio import spans_to_tags, tags_to_spans

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_detection import _uptime, hardware, peak_rss_mib, run_key, share_features  # noqa: E402


def load(name: str) -> Corpus:
    if name == "conll":
        from spanqa.corpus.formats import read_corpus
        from spanqa.measure.benchmark.noisebench import DEFAULT_CONLL

        return read_corpus(DEFAULT_CONLL / "original" / "test.txt", format="conll")
    if name == "noisebench":
        from spanqa.measure.benchmark.noisebench import read_noisebench

        return read_noisebench("expert")
    from spanqa.measure.benchmark.corpora import load as load_shared

    return load_shared(name)


def _prf(gold: set, pred: set) -> dict[str, Any]:
    tp = len(gold & pred)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    return {"f1": round(2 * tp / (len(gold) + len(pred)), 4) if gold or pred else None, "precision": round(p, 4),
            "recall": round(r, 4), "n_gold": len(gold), "n_pred": len(pred)}


def model_f1(corpus: Corpus, result: Any) -> dict[str, Any]:
    """Strict span F1 of the decoded out-of-fold predictions: typed, untyped, flat layer, per label."""
    gold, flat, pred = set(), set(), set()
    for doc in corpus.documents:
        if doc.spans is None or doc.id not in result.oof.docs:
            continue
        words = result.oof.docs[doc.id].words
        gold |= {(doc.id, s.start, s.end, s.label) for s in doc.spans}
        tags = spans_to_tags(words, doc.spans)
        flat |= {(doc.id, s.start, s.end, s.label) for s in tags_to_spans(words, tags, doc_id=doc.id)}
        pred |= {(doc.id, s.start, s.end, s.label) for s in result.predictions.get(doc.id, ())}
    untyped = lambda xs: {x[:3] for x in xs}  # noqa: E731
    labels = sorted({x[3] for x in gold})
    return {"typed": _prf(gold, pred), "untyped": _prf(untyped(gold), untyped(pred)), "flat": _prf(flat, pred),
            "per_label": {lab: _prf({x for x in gold if x[3] == lab}, {x for x in pred if x[3] == lab})
                          for lab in labels}}


def run_one(name: str, corpus: Corpus, variant: str, overrides: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from spanqa.run.pipeline import audit

    config = load_config(args.config, overrides=[*args.overrides, *overrides])
    run_dir = args.out / "runs" / f"{name}-{run_key(config)}"
    share_features(run_dir, name)
    print(f"[model] {name} / {variant}: {len(corpus.documents)} docs -> {run_dir}", file=sys.stderr)
    t0 = time.perf_counter()
    result = audit(corpus, config, out=run_dir, progress=args.progress)
    wall = time.perf_counter() - t0
    meta = result.oof.meta
    words = int(sum(len(m.words) for m in result.oof.docs.values()))
    timing = meta.get("timing") or {}
    kfold_s = timing.get("wall_s")
    rate = result.summary["error_rate"]
    out = {"corpus": name, "variant": variant, "overrides": overrides, "run_dir": str(run_dir),
           "docs": len(corpus.documents), "words": words, "spans": sum(len(d.spans or ()) for d in corpus.documents),
           "f1": model_f1(corpus, result), "audit_wall_s": round(wall, 1), "kfold_wall_s": kfold_s,
           "features_s": timing.get("features_s"),
           "ms_per_word": round(1000 * wall / words, 3) if words else None,
           "resumed_folds": meta.get("resumed_folds", []),
           "error_rate": {"estimate": rate.get("estimate"), "ci95": rate.get("ci95")},
           "assessed": (result.summary.get("assessed") or {}).get("share"),
           "layers": len(result.summary.get("layers") or []) or 1,
           "n_findings": len(result.findings), "findings_by_kind": {k: v for k, v in
                                                                    result.summary["findings"]["by_kind"].items() if v},
           "peak_rss_mib": peak_rss_mib()}
    f = out["f1"]
    print(f"[model] {name} / {variant}: typed {f['typed']['f1']} untyped {f['untyped']['f1']} flat {f['flat']['f1']}; "
          f"{out['audit_wall_s']} s ({out['ms_per_word']} ms/word, resumed {out['resumed_folds']})", file=sys.stderr)
    return out


def render(res: dict[str, Any]) -> str:
    hw = res["hardware"]
    lines = ["# Out-of-fold model quality per corpus", "", f"Command: `{res['command']}`", "",
             f"Hardware: {hw['nproc']} CPU(s), {hw['cpu']}, torch {hw['torch']}. Load before: `{res['load']['before']}`; "
             f"after: `{res['load']['after']}`. Wall time {res['wall_s']:.0f} s.", "",
             "Strict span F1 of the decoded out-of-fold predictions against the labels: typed, untyped (extent only), "
             "flat (against the longest of overlapping labels, what a flat tagger is trained on). Time = the whole "
             "audit (k-fold, scores, ranking, findings) per word; a resumed run's k-fold time is the first run's.", "",
             "*assessed* = share of labelled spans the audit judged (a flat tagger cannot judge spans nested in or "
             "sharing words with a longer one; `data.layers=auto` audits nested labels in layers).", "",
             "| corpus | variant | docs | words | layers | assessed | typed F1 (P / R) | untyped F1 | flat F1 | "
             "error rate | audit s | ms/word |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["results"]:
        f = r["f1"]
        t = f["typed"]
        er = r["error_rate"]["estimate"]
        resumed = " (resumed)" if r["resumed_folds"] else ""
        share = r.get("assessed")
        lines.append(f"| {r['corpus']} | {r['variant']} | {r['docs']} | {r['words']} | {r.get('layers', 1)} | "
                     f"{'-' if share is None else f'{100 * share:.0f}%'} | {t['f1']:.3f} ({t['precision']:.2f} / "
                     f"{t['recall']:.2f}) | {f['untyped']['f1']:.3f} | {f['flat']['f1']:.3f} | "
                     f"{'-' if er is None else f'{100 * er:.1f}%'} | {r['audit_wall_s']}{resumed} | {r['ms_per_word']} |")
    lines += ["", "Per label (typed F1):", ""]
    for r in res["results"]:
        per = ", ".join(f"{k} {v['f1']:.2f} ({v['n_gold']})" for k, v in r["f1"]["per_label"].items()
                        if v["f1"] is not None)
        lines.append(f"- {r['corpus']} / {r['variant']}: {per}")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", action="append", required=True,
                   choices=["ncbi", "bc5cdr", "phee", "phee_test", "ade", "maccrobat", "conll", "noisebench"])
    p.add_argument("--variant", action="append", default=[], metavar="NAME=key=value;key=value",
                   help="a named set of overrides compared with the defaults (repeatable)")
    p.add_argument("--no-defaults", action="store_true", help="run only the --variant settings")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override for every variant (repeatable)")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--progress", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    load_before = _uptime()
    variants = [] if args.no_defaults else [("defaults", [])]
    for v in args.variant:
        name, _, rest = v.partition("=")
        variants.append((name, [x for x in rest.split(";") if x]))
    results = []
    for name in dict.fromkeys(args.corpus):
        corpus = load(name)
        for vname, overrides in variants:
            results.append(run_one(name, corpus, vname, overrides, args))
            res = {"command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]),
                   "hardware": hardware(), "load": {"before": load_before, "after": _uptime()},
                   "wall_s": round(time.perf_counter() - t0, 1), "results": results}
            (args.out / "results.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
            (args.out / "results.md").write_text(render(res), encoding="utf-8")
    print(render(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
