"""Every method on one audit, scored like with like against one set of changes.

:func:`detect` turns a finished audit (its out-of-fold marginals and ranking) into every
method's detections and sentence scores - spanqa and each baseline on the **same marginals**.
:func:`score` compares them with the changes of one correction set under both matching rules
(:mod:`spanqa.measure.benchmark.scoring`) at the list lengths :func:`list_lengths` chooses, and
:func:`headline` reads the ratios a README may quote: spanqa's ranking against the *better* of
cleanlab's two class sets, on span AP (lenient and strict) and sentence AUPRC, and spanqa's cut
list against cleanlab's at equal length.

Each method is a **ranking** (threshold-free: everything it can score) or a **cut list** (what
it reports); :data:`METHODS` says which.  Rankings are compared with rankings, cut lists with
cut lists at the length of the shorter one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from spanqa.core.document import Corpus
from spanqa.measure.benchmark.adapters import (
    SIGNAL_DIRECTION,
    candidate_detections,
    finding_detections,
    gold_path_scores,
    sentence_noisy_or,
)
from spanqa.measure.benchmark.baselines import (
    cleanlab_baseline,
    nessie_retag,
    nessie_uncertainty,
    surface_form_detections,
)
from spanqa.measure.benchmark.scoring import DEFAULT_KS, Detection, span_metrics
from spanqa.measure.benchmark.sentences import Sentence, corpus_sentences, sentence_metrics, sentence_min_scores
from spanqa.measure.benchmark.truth import Correction


@dataclass(frozen=True)
class Method:
    """One row of the tables: its key, title, who made it and whether it is a ranking or a cut list."""

    key: str
    title: str
    family: str          # spanqa | cleanlab | nessie | corpus
    output: str          # ranking | cut


METHODS: tuple[Method, ...] = (
    Method("spanqa", "spanqa, every candidate by the ranking", "spanqa", "ranking"),
    Method("spanqa_model", "spanqa, the model alone (1 - P(labels right))", "spanqa", "ranking"),
    Method("cleanlab_iob2", "cleanlab, every token (IOB2 classes)", "cleanlab", "ranking"),
    Method("cleanlab_merged", "cleanlab, every token (merged classes)", "cleanlab", "ranking"),
    Method("uncertainty", "nessie-style classification uncertainty", "nessie", "ranking"),
    Method("surface", "surface-form variation (no model)", "corpus", "ranking"),
    Method("spanqa_findings", "spanqa findings (findings.jsonl)", "spanqa", "cut"),
    Method("cleanlab_iob2_issues", "cleanlab find_label_issues (IOB2)", "cleanlab", "cut"),
    Method("cleanlab_merged_issues", "cleanlab find_label_issues (merged)", "cleanlab", "cut"),
    Method("retag", "nessie-style retag", "nessie", "cut"),
)
BY_KEY = {m.key: m for m in METHODS}
#: sentence scores per method key (cut lists and the corpus methods: min over their detections)
SENTENCE_FROM = {"spanqa_findings": "spanqa_findings", "cleanlab_iob2_issues": "cleanlab_iob2",
                 "cleanlab_merged_issues": "cleanlab_merged"}


@dataclass
class Detected:
    """Every method's detections and sentence scores on one audited corpus (documents of the audit)."""

    sentences: list[Sentence]
    dets: dict[str, list[Detection]]
    sent: dict[str, np.ndarray]
    signals: dict[str, list[Detection]]

    def restrict(self, keep: set[str]) -> "Detected":
        """The same, on the documents ``keep`` only (one file of a whole-corpus audit)."""
        mask = np.asarray([s.doc_id in keep for s in self.sentences], dtype=bool)
        return Detected([s for s, m in zip(self.sentences, mask) if m],
                        {k: [d for d in v if d.doc_id in keep] for k, v in self.dets.items()},
                        {k: v[mask] for k, v in self.sent.items()},
                        {k: [d for d in v if d.doc_id in keep] for k, v in self.signals.items()})


def model_alone(corpus: Corpus, oof: Any, result: Any) -> Any:
    """The audit's candidates ranked by the out-of-fold model alone (``ranking.method = "model"``)."""
    from spanqa.score.quality import TagLattice
    from spanqa.score.ranking.ranker import rank_corpus

    ann = {d.id for d in corpus.documents if d.spans is not None}
    words = {d: m.words for d, m in oof.docs.items() if d in ann and len(m.words)}
    lattices = {d: TagLattice(oof.docs[d].probs, oof.tags) for d in words}
    return rank_corpus(corpus, words, lattices, result.predictions, method="model")


def detect(corpus: Corpus, result: Any, *, timings: dict[str, float] | None = None) -> Detected:
    """Every method of :data:`METHODS` on the audit ``result`` of ``corpus`` (:class:`spanqa.run.pipeline.AuditResult`)."""
    import time

    oof = result.oof
    timings = timings if timings is not None else {}

    def timed(name: str, fn):
        t = time.perf_counter()
        value = fn()
        timings[name] = round(time.perf_counter() - t, 2)
        return value

    words = {d: m.words for d, m in oof.docs.items()}
    sentences = corpus_sentences(corpus, words)
    dets: dict[str, list[Detection]] = {}
    sent: dict[str, np.ndarray] = {}
    dets["spanqa"] = candidate_detections(result.ranking)
    sent["spanqa"] = sentence_noisy_or(sentences, result.ranking)
    dets["spanqa_findings"] = finding_detections(result.findings)
    dets["spanqa_model"] = candidate_detections(timed("spanqa_model", lambda: model_alone(corpus, oof, result)))
    sent["spanqa_model"] = timed("spanqa_path", lambda: gold_path_scores(corpus, oof, sentences))
    for merged in (False, True):
        key = "cleanlab_merged" if merged else "cleanlab_iob2"
        out = timed(key, lambda merged=merged: cleanlab_baseline(corpus, oof, sentences, merged=merged))
        dets[key], dets[f"{key}_issues"], sent[key] = out.tokens, out.issues, out.sentence
    dets["retag"] = timed("retag", lambda: nessie_retag(corpus, oof, result.predictions))
    dets["uncertainty"] = timed("uncertainty", lambda: nessie_uncertainty(corpus, oof))
    dets["surface"] = timed("surface", lambda: surface_form_detections(corpus, words))
    for key in ("spanqa_findings", "retag", "uncertainty", "surface"):
        sent.setdefault(key, sentence_min_scores(sentences, dets[key]))
    signals = {name: candidate_detections(result.ranking, signal=name) for name in SIGNAL_DIRECTION}
    return Detected(sentences, dets, sent, signals)


def list_lengths(detected: Detected, changes: Sequence[Correction], ks: Sequence[int] = DEFAULT_KS
                 ) -> dict[str, dict[str, int]]:
    """Per matching rule, the list lengths P@k and R@k are read at: ``ks`` and, per cleanlab class set, the length
    of the shorter of spanqa's and cleanlab's cut lists *as the rule scores them* (the lenient rule drops repeat
    hits, so a list can be shorter there): ``short_iob2``, ``short_merged``."""
    from spanqa.measure.benchmark.scoring import DROPPED, claims, rank

    def kept(key: str, rule: str) -> int:
        dets = detected.dets[key]
        if rule == "strict":
            return len(dets)
        return int((claims(rank(dets), changes, lenient=True) != DROPPED).sum())

    out = {}
    for rule in ("lenient", "strict"):
        row = {f"k{k}": int(k) for k in ks}
        n = kept("spanqa_findings", rule)
        for cls in ("iob2", "merged"):
            row[f"short_{cls}"] = min(n, kept(f"cleanlab_{cls}_issues", rule))
        out[rule] = row
    return out


def score(detected: Detected, changes: Sequence[Correction], positive: np.ndarray, *,
          lengths: Mapping[str, Mapping[str, int]], with_signals: bool = False) -> dict[str, Any]:
    """Every method's span metrics (strict and lenient, at ``lengths[rule]``) and sentence metrics against
    ``changes`` and the sentence truth ``positive``."""
    out: dict[str, Any] = {}
    for m in METHODS:
        dets = detected.dets[m.key]
        out[m.key] = {rule: span_metrics(dets, changes, lenient=rule == "lenient",
                                         ks=sorted(set(lengths[rule].values())))
                      for rule in ("strict", "lenient")}
        out[m.key].update(sentence=sentence_metrics(positive, detected.sent[SENTENCE_FROM.get(m.key, m.key)]),
                          n_detections=len(dets), output=m.output)
    if with_signals:
        for name, dets in detected.signals.items():
            out[f"signal:{name}"] = {"lenient": span_metrics(dets, changes, lenient=True, ks=()),
                                     "n_detections": len(dets), "output": "ranking"}
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def headline(methods: Mapping[str, Any], lengths: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """spanqa against the better cleanlab (per metric, the better of IOB2 and merged classes)."""
    def best(metric) -> tuple[float | None, str]:
        vals = [(metric(methods[k]), k) for k in ("cleanlab_iob2", "cleanlab_merged")]
        vals = [(v, k) for v, k in vals if v is not None]
        return max(vals) if vals else (None, "-")

    out: dict[str, Any] = {}
    for rule in ("lenient", "strict"):
        cl, which = best(lambda m, rule=rule: m[rule]["ap"])
        sq = methods["spanqa"][rule]["ap"]
        out[f"span_ap_{rule}"] = {"spanqa": sq, "cleanlab": cl, "cleanlab_classes": which, "ratio": _ratio(sq, cl)}
    cl, which = best(lambda m: m["sentence"]["auprc"])
    sq = methods["spanqa"]["sentence"]["auprc"]
    out["sentence_auprc"] = {"spanqa": sq, "cleanlab": cl, "cleanlab_classes": which, "ratio": _ratio(sq, cl)}
    cuts = {}
    for cls in ("iob2", "merged"):
        k = lengths["lenient"][f"short_{cls}"]
        a = methods["spanqa_findings"]["lenient"]["at"].get(k, {}).get("precision")
        b = methods[f"cleanlab_{cls}_issues"]["lenient"]["at"].get(k, {}).get("precision")
        cuts[cls] = {"k": k, "spanqa_findings": a, "cleanlab_issues": b, "ratio": _ratio(a, b)}
    out["cut_lists_lenient_precision"] = cuts
    return out


__all__ = ["BY_KEY", "Detected", "METHODS", "Method", "detect", "headline", "list_lengths", "model_alone", "score"]
