"""What fixing labels is worth downstream, on real corrections: retrain spanqa's tagger, score on clean test sets.

    python scripts/bench_impact.py --out runs/impact                       # all three parts, 3 seeds
    python scripts/bench_impact.py --part fixes --fixes-set crowd --out runs/impact_crowd
    python scripts/bench_impact.py --part noisebench --subset 40 --seeds 2 \\
        --set model.init=random_tiny --set fast.max_epochs=2 --out /tmp/i    # plumbing check

Parts (each writes ``OUT/<part>/impact.json``; ``OUT/results.json`` and ``OUT/results.md`` hold all):

- ``conll``: CoNLL-2003 train with its original labels vs Reiss et al. 2020's corrected train labels,
  evaluated on CleanCoNLL test and CoNLL++ test.
- ``noisebench``: the 5,885 NoiseBench train sentences with each of its label sets (clean = CleanCoNLL,
  expert = the original CoNLL labels, crowd, crowdbest, distant, weak, llm), evaluated on CleanCoNLL test.
- ``fixes``: spanqa's own fixes.  Audit one noisy NoiseBench label set (``--fixes-set``, default the
  original CoNLL labels) with the default configuration, accept ``--all-above T`` for each threshold
  (unreviewed), retrain, evaluate on CleanCoNLL test; plus the learning curve over the lowest threshold's
  accepted fixes in the ranking's order (``--batches``).  Every applied change is judged against NoiseBench's
  clean labels of the same sentences (``share_right``: every added span is clean and no removed one is).

Every model is the audit's own tagger (fast mode, MiniLM-L6 features, CNN head) trained on all of a version
with ``--seeds`` seeds; F1 is strict span micro F1 with a 95% interval from a bootstrap over test documents and
seeds (:mod:`spanqa.measure.impact.scores`).  Nothing here is tuned on the test sets or the clean labels: the thresholds
are round numbers chosen before the run.  Needs ``../shared/corpora``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from spanqa.core.config import load_config
from spanqa.core.document import Corpus
from spanqa.corpus.formats import read_corpus
from spanqa.measure.benchmark.noisebench import DEFAULT_CONLL, read_noisebench
from spanqa.measure.impact import Version, changes_against, measure_impact, versions_from_run

NOISE_SETS = ("clean", "expert", "crowd", "crowdbest", "distant", "weak", "llm")


def subset(corpus: Corpus, n: int | None) -> Corpus:
    return corpus if not n else corpus.evolve(documents=corpus.documents[:n])


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def conll(args: argparse.Namespace, config: Any, out: Path) -> dict[str, Any]:
    data = Path(DEFAULT_CONLL)
    before = subset(read_corpus(data / "original" / "train.txt", format="conll"), args.subset)
    after = subset(read_corpus(data / "reiss2020" / "corrected" / "train.txt", format="conll"), args.subset)
    evals = [("CleanCoNLL test", read_corpus(data / "cleanconll" / "reconstructed" / "cleanconll.test", format="conll")),
             ("CoNLL++ test", read_corpus(data / "conllpp" / "test.txt", format="conll"))]
    evals = [(n, subset(e, args.subset and max(5, args.subset // 4))) for n, e in evals]
    versions = [Version("original train", before, 0), Version("Reiss-corrected train", after, None)]
    return measure_impact(versions, config, evals=evals, seeds=args.seeds, cache_dir=out / "cache", notify=say)


def clean_test(args: argparse.Namespace) -> list[tuple[str, Corpus]]:
    test = read_corpus(Path(DEFAULT_CONLL) / "cleanconll" / "reconstructed" / "cleanconll.test", format="conll")
    return [("CleanCoNLL test", subset(test, args.subset and max(5, args.subset // 4)))]


def noisebench(args: argparse.Namespace, config: Any, out: Path) -> dict[str, Any]:
    versions = [Version(name, subset(read_noisebench(name), args.subset)) for name in args.sets]
    return measure_impact(versions, config, evals=clean_test(args), seeds=args.seeds, cache_dir=out / "cache",
                          notify=say)


def fixes(args: argparse.Namespace, config: Any, out: Path) -> dict[str, Any]:
    from spanqa.review.apply import apply_decisions, threshold_decisions
    from spanqa.run.pipeline import audit
    from spanqa.run.reader import load_run

    noisy = subset(read_noisebench(args.fixes_set), args.subset)
    clean = subset(read_noisebench("clean"), args.subset)
    t0 = time.perf_counter()
    say(f"auditing NoiseBench {args.fixes_set}")
    audit(noisy, config, out=out / "run", progress=False)
    audit_s = time.perf_counter() - t0
    run = load_run(out / "run").with_corpus(noisy)
    versions = [Version(f"{args.fixes_set} (audited)", noisy, 0)]
    judged = {}
    for t in sorted(args.thresholds, reverse=True):
        res = apply_decisions(run, threshold_decisions(run, t), corpus=noisy, time="1970-01-01T00:00:00+00:00")
        name = f"--all-above {t:g}"
        versions.append(Version(name, res.corpus, res.counts["applied"], note=f"{res.counts['accepted']} accepted"))
        judged[name] = {**changes_against(res.changes, clean), "accepted": res.counts["accepted"],
                        "conflicts": res.counts["conflicts"]}
        say(f"{name}: {res.counts['applied']} fixes applied, {judged[name]['share_right']} right")
    lowest = min(args.thresholds)
    curve, _ = versions_from_run(run, threshold_decisions(run, lowest), batches=args.batches)
    for v in curve[1:-1]:  # the end points are the audited corpus and --all-above lowest
        versions.append(Version(v.name, v.corpus, v.fixes, note=f"ranking order, --all-above {lowest:g}"))
    versions.append(Version(f"clean labels ({'NoiseBench clean'})", clean, None, note="the ceiling"))
    orders = precision_at(run, noisy, clean)
    rec = measure_impact(versions, config, evals=clean_test(args), seeds=args.seeds, cache_dir=out / "cache",
                         notify=say)
    rec["fixes"] = {"label_set": args.fixes_set, "audit_s": round(audit_s, 1), "judged": judged,
                    "noisy_vs_clean": _prf(noisy, clean), "share_right_at_k": orders}
    return rec


def precision_at(run: Any, noisy: Corpus, clean: Corpus, ks: tuple[int, ...] = (50, 100, 200, 400, 800)
                 ) -> dict[str, dict[int, float]]:
    """Share of exactly right changes among the first k fixes, every finding with a fix accepted, in two orders:
    the ranking's (score ascending) and the fix confidence's (descending)."""
    from spanqa.review.apply import apply_decisions
    from spanqa.review.decisions import Decision

    fixes = [f for f in run.findings if f.has_fix]
    res = apply_decisions(run, [Decision(f.id, "accept") for f in fixes], corpus=noisy,
                          time="1970-01-01T00:00:00+00:00")
    right = {c.finding_id: changes_against([c], clean)["right"] == 1 for c in res.changes}
    applied = [f for f in fixes if f.id in right]
    out = {}
    for name, key in (("ranking", lambda f: (f.score, f.doc_id, f.start, f.id)),
                      ("confidence", lambda f: (-f.confidence, f.doc_id, f.start, f.id))):
        order = sorted(applied, key=key)
        out[name] = {k: round(sum(right[f.id] for f in order[:k]) / min(k, len(order)), 4) for k in ks if order}
    out["applied"] = len(applied)
    return out


def _prf(corpus: Corpus, truth: Corpus) -> dict[str, float]:
    from spanqa.compare.comparison import compare_corpora
    from spanqa.compare.metrics import span_metrics

    m = span_metrics(compare_corpora(corpus, truth)).micro
    return {"p": round(m.precision, 4), "r": round(m.recall, 4), "f1": round(m.f1, 4)}


def render(results: dict[str, Any]) -> str:
    lines = [f"Command: `{results['command']}`", "", f"Machine: {results['machine']}", ""]
    for part, rec in results["parts"].items():
        lines += [f"### {part} ({rec['timing']['wall_s']:.0f} s, {rec['timing']['trainings']} trainings)", "",
                  "| evaluation | training labels | fixes | F1 (95% CI) | seed sd | change vs first (95% CI) | "
                  "P(not better) |", "|---|---|---|---|---|---|---|"]
        for ev, res in rec["evaluations"].items():
            for v in res["versions"]:
                d = v.get("delta")
                lines.append(f"| {ev} | {v['name']} | {'' if v['fixes'] is None else v['fixes']} | "
                             f"{v['f1']:.4f} ({v['ci95'][0]:.4f}-{v['ci95'][1]:.4f}) | {v['seed_sd']:.4f} | "
                             + (f"{d['f1']:+.4f} ({d['ci95'][0]:+.4f} to {d['ci95'][1]:+.4f}) | {d['p_not_better']:.3f} |"
                                if d else "- | - |"))
        if "fixes" in rec:
            lines += ["", "| threshold | accepted | applied changes judged | right | closer to clean |", "|---|---|---|---|---|"]
            for name, j in rec["fixes"]["judged"].items():
                lines.append(f"| {name} | {j['accepted']} | {j['changes']} | {j['share_right']} | {j['share_closer']} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", action="append", choices=("conll", "noisebench", "fixes"))
    ap.add_argument("--out", type=Path, default=Path("runs/impact"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sets", nargs="+", default=list(NOISE_SETS), help="NoiseBench label sets (part noisebench)")
    ap.add_argument("--fixes-set", default="expert", help="NoiseBench label set audited in part fixes")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.9, 0.7, 0.5])
    ap.add_argument("--batches", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--subset", type=int, default=None, help="first N documents of every corpus (plumbing)")
    ap.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    config = load_config(None, args.overrides)
    parts = args.part or ["fixes", "noisebench", "conll"]
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"parts": {}}
    results.update(command="python scripts/bench_impact.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
                   machine=f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores")
    for part in parts:
        t0 = time.perf_counter()
        rec = {"conll": conll, "noisebench": noisebench, "fixes": fixes}[part](args, config, args.out / part)
        rec["part_wall_s"] = round(time.perf_counter() - t0, 1)
        (args.out / part).mkdir(parents=True, exist_ok=True)
        (args.out / part / "impact.json").write_text(json.dumps(rec, indent=1) + "\n")
        results["parts"][part] = rec
        results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        results_path.write_text(json.dumps(results, indent=1) + "\n")
        (args.out / "results.md").write_text(render(results) + "\n")
        say(f"{part} done in {rec['part_wall_s']:.0f} s")
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
