"""Several annotators of the same notes -> one consensus corpus: majority vote and a Dawid-Skene model over spans.

Items are the **candidate spans** of a document: every distinct extent ``(start, end)`` any
annotator labelled.  Each annotator *votes* on each candidate: the label they gave that exact
extent, or ``O`` when they gave it none (a different boundary is a vote for ``O`` here and a
vote for its own extent there, so boundary disagreements compete as extents).  Documents one
annotator did not annotate (``spans=None``) get no votes from them.

- :func:`majority_vote` keeps a candidate when more than half of the annotators who voted
  gave it the same label;
- :func:`dawid_skene` fits, by EM (Dawid & Skene 1979), a class prior and one confusion matrix
  per annotator over ``labels + O`` - how often annotator *a* says *l* when the truth is *k* -
  initialised from the majority vote, and keeps a candidate when its posterior of some label
  beats ``O``.

Overlapping kept candidates are resolved most probable first (a flat consensus); each kept
span carries ``score`` = its posterior (majority vote: the share of votes).

:func:`with_model` adds **the out-of-fold model's evidence**, CROWDLAB-style (Goh et al. 2022)
but for spans: the audit's tagger is trained k-fold on the Dawid-Skene consensus, each
document's out-of-fold predicted spans become one more annotator (``model (out of fold)``),
and Dawid-Skene is fitted again with it - so the model's reliability per label is estimated
jointly with the annotators', it can break ties between disagreeing annotators, and the
extents it predicts become candidates too (kept only when the fitted reliabilities say so).
A document is never predicted by a model that trained on it.

:func:`disagreements` lists every candidate the annotators did not agree on, with who said
what, the consensus, and each dissenting annotator's error **kind** against the consensus
(``type``, ``boundary``, ``missing``, ``spurious``, as in the audit); :func:`annotator_table`
compares each annotator with the consensus through the span comparator: strict span F1, per
label, and their differences by kind (per 100 consensus spans) with examples.
:func:`sample_disagreement` measures the rule of thumb that two annotators disagreeing on more
than 15% of the spans of a 50-note sample means unclear guidelines, with a bootstrap interval.

>>> from spanqa.document import Corpus, Document
>>> from spanqa.span import Span
>>> t = "Pt on aspirin 81mg."
>>> a = Corpus.from_docs([Document("d", t, (Span("d", 6, 13, "Drug"),))])
>>> b = Corpus.from_docs([Document("d", t, (Span("d", 6, 13, "Drug"), Span("d", 14, 18, "Dose")))])
>>> c = Corpus.from_docs([Document("d", t, (Span("d", 6, 18, "Drug"),))])
>>> [s.key for s in majority_vote([a, b, c]).corpus["d"].spans]
[(6, 13, 'Drug')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from spanqa.document import Corpus, Document
from spanqa.errors import fail
from spanqa.span import Span, sort_spans

O = "O"


@dataclass
class Consensus:
    """The consensus ``corpus`` and, per annotator, the fitted reliability (``annotators``)."""

    corpus: Corpus
    annotators: list[dict[str, Any]] = field(default_factory=list)
    method: str = ""


def _documents(corpora: Sequence[Corpus]) -> list[Document]:
    """Every document any annotation holds, in order of first appearance (``E301`` when two texts differ)."""
    seen: dict[str, Document] = {}
    for c in corpora:
        for d in c.documents:
            first = seen.setdefault(d.id, d)
            if first.text != d.text:
                raise fail("E301", "the annotations differ in text", doc_id=d.id)
    return list(seen.values())


def _votes(corpora: Sequence[Corpus]) -> tuple[list[tuple[str, tuple[int, int]]], np.ndarray, list[str]]:
    """Candidates ``(doc_id, (start, end))``, the vote matrix ``(candidates, annotators)`` of class indices
    (-1 = no vote) and the classes ``[O, labels...]``."""
    if len(corpora) < 2:
        raise fail("E303", f"consensus needs two or more annotations, got {len(corpora)}")
    labels = sorted({s.label for c in corpora for s in c.spans()})
    classes = [O] + labels
    index = {lab: i for i, lab in enumerate(classes)}
    cands: list[tuple[str, tuple[int, int]]] = []
    rows: list[list[int]] = []
    maps = [c.by_id() for c in corpora]
    for doc in _documents(corpora):
        by_ann = []
        for m in maps:
            d = m.get(doc.id)
            by_ann.append(None if d is None or d.spans is None else {(s.start, s.end): s.label for s in d.spans})
        extents = sorted({e for v in by_ann if v is not None for e in v})
        for e in extents:
            cands.append((doc.id, e))
            rows.append([-1 if v is None else index[v.get(e, O)] for v in by_ann])
    return cands, np.asarray(rows, dtype=np.int64).reshape(len(rows), len(corpora)), classes


def _corpus(corpora: Sequence[Corpus], cands: list[tuple[str, tuple[int, int]]], post: np.ndarray,
            classes: list[str]) -> Corpus:
    """The flat consensus: per document, the kept candidates most probable first, overlaps dropped; a document no
    annotator annotated stays not annotated (``spans=None``)."""
    annotated = {d.id for c in corpora for d in c.documents if d.spans is not None}
    best = post.argmax(axis=1)
    by_doc: dict[str, list[tuple[float, int, int, str]]] = {}
    for (doc_id, (a, b)), k, p in zip(cands, best, post):
        if k != 0:
            by_doc.setdefault(doc_id, []).append((float(p[k]), a, b, classes[k]))
    docs = []
    for doc in _documents(corpora):
        kept: list[Span] = []
        for p, a, b, lab in sorted(by_doc.get(doc.id, ()), key=lambda x: (-x[0], x[1], x[2])):
            if all(b <= s.start or s.end <= a for s in kept):
                kept.append(Span(doc.id, a, b, lab, score=round(p, 6)))
        docs.append(Document(doc.id, doc.text, sort_spans(kept) if doc.id in annotated else None, tokens=doc.tokens,
                             sentences=doc.sentences))
    return Corpus.from_docs(docs, format=corpora[0].format)


def majority_vote(corpora: Sequence[Corpus]) -> Consensus:
    """Keep a candidate when more than half of the annotators who voted on it gave it the same label."""
    cands, votes, classes = _votes(corpora)
    post = np.zeros((len(cands), len(classes)))
    for i, row in enumerate(votes):
        given = row[row >= 0]
        counts = np.bincount(given, minlength=len(classes)).astype(float)
        k = int(counts[1:].argmax()) + 1 if len(classes) > 1 else 0
        if counts[k] * 2 > len(given):
            post[i, k] = counts[k] / len(given)
        else:
            post[i, 0] = 1.0
    return Consensus(_corpus(corpora, cands, post, classes), method="majority vote")


def dawid_skene(corpora: Sequence[Corpus], *, names: Sequence[str] | None = None, iterations: int = 50,
                smoothing: float = 0.01) -> Consensus:
    """The Dawid-Skene consensus (module docstring); ``annotators`` lists each one's accuracy per class."""
    cands, votes, classes = _votes(corpora)
    n, m, k = len(cands), len(corpora), len(classes)
    names = list(names or [f"annotator {i + 1}" for i in range(m)])
    post = np.full((n, k), smoothing)  # init: vote shares
    for j in range(m):
        ok = votes[:, j] >= 0
        post[np.where(ok)[0], votes[ok, j]] += 1.0
    post /= post.sum(axis=1, keepdims=True)
    conf = np.tile(np.eye(k), (m, 1, 1))  # no candidate at all (nobody labelled a span): nothing to fit
    for _ in range(iterations if n else 0):
        prior = post.mean(axis=0) + 1e-9
        conf = np.full((m, k, k), smoothing)
        for j in range(m):
            ok = votes[:, j] >= 0
            for l in range(k):
                conf[j][:, l] += post[ok][votes[ok, j] == l].sum(axis=0)
        conf /= conf.sum(axis=2, keepdims=True)
        log = np.tile(np.log(prior), (n, 1))
        for j in range(m):
            ok = votes[:, j] >= 0
            log[ok] += np.log(conf[j][:, votes[ok, j]].T)
        log -= log.max(axis=1, keepdims=True)
        new = np.exp(log)
        new /= new.sum(axis=1, keepdims=True)
        if np.abs(new - post).max() < 1e-6:
            post = new
            break
        post = new
    annotators = [{"name": names[j], "accuracy": {classes[c]: round(float(conf[j][c, c]), 4) for c in range(k)}}
                  for j in range(m)]
    return Consensus(_corpus(corpora, cands, post, classes), annotators, method="Dawid-Skene")


def _kind(vote: str, final: str, overlaps: bool) -> str:
    """One annotator's vote on one extent against the consensus label there (``O``: no consensus span there)."""
    if vote == final:
        return "agree"
    if vote == O:
        return "boundary" if overlaps else "missing"
    if final == O:
        return "boundary" if overlaps else "spurious"
    return "type"


def disagreements(corpora: Sequence[Corpus], names: Sequence[str], result: Consensus) -> list[dict[str, Any]]:
    """One record per candidate extent the annotators did not all give the same label: who said what, the
    consensus label there (``O`` when the consensus has no span with that extent) and, per annotator who differs
    from the consensus, the kind of the difference (``kinds``: type / boundary / missing / spurious; boundary when
    a consensus span or the annotator's own span overlaps the extent with other edges)."""
    cands, votes, classes = _votes(corpora)
    text = {d.id: d.text for d in _documents(corpora)}
    final = {(d.id, s.start, s.end): s for d in result.corpus.documents for s in d.spans or ()}
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for d in result.corpus.documents:
        by_doc[d.id] = [(s.start, s.end) for s in d.spans or ()]
    own = [{d.id: [(s.start, s.end) for s in d.spans or ()] for d in c.documents} for c in corpora]
    out = []
    for (doc_id, (a, b)), row in zip(cands, votes):
        given = row[row >= 0]
        if len(set(given.tolist())) <= 1 and len(given) == len(row):
            continue
        kept = final.get((doc_id, a, b))
        label = kept.label if kept is not None else O
        cons_overlap = any(x < b and a < y and (x, y) != (a, b) for x, y in by_doc.get(doc_id, ()))
        kinds = {}
        for j, v in enumerate(row.tolist()):
            if v < 0:
                continue
            mine = any(x < b and a < y and (x, y) != (a, b) for x, y in own[j].get(doc_id, ()))
            k = _kind(classes[v], label, cons_overlap if classes[v] != O else mine)
            if k != "agree":
                kinds[names[j]] = k
        out.append({"doc_id": doc_id, "start": a, "end": b, "text": text[doc_id][a:b],
                    "votes": {names[j]: (classes[v] if v >= 0 else None) for j, v in enumerate(row.tolist())},
                    "consensus": label, "posterior": None if kept is None else kept.score, "kinds": kinds})
    return out


def annotator_table(corpora: Sequence[Corpus], names: Sequence[str], result: Consensus, *,
                    examples: int = 3) -> list[dict[str, Any]]:
    """Each annotator against the consensus: strict span F1, differences by kind, a few examples of each."""
    from spanqa.comparison import compare_corpora
    from spanqa.metrics import span_metrics

    fitted = {a["name"]: a.get("accuracy") for a in result.annotators}
    rows = []
    for name, corpus in zip(names, corpora):
        comp = compare_corpora(corpus, result.corpus)
        kinds: dict[str, dict[str, Any]] = {}
        texts = {d.id: d.text for d in corpus.documents}
        for c in comp.components:
            if str(c.kind) == "exact":
                continue
            k = kinds.setdefault(str(c.kind), {"n": 0, "examples": []})
            k["n"] += 1
            if len(k["examples"]) < examples:
                t = texts[c.doc_id]
                k["examples"].append({"doc_id": c.doc_id, "annotator": [(s.start, s.end, s.label, t[s.start:s.end])
                                                                         for s in c.labels],
                                      "consensus": [(s.start, s.end, s.label, t[s.start:s.end]) for s in c.other]})
        m = span_metrics(comp)
        n_cons = max(1, m.micro.n_other)
        for k in kinds.values():
            k["per_100_consensus_spans"] = round(100 * k["n"] / n_cons, 2)
        rows.append({"name": name, "f1_vs_consensus": round(float(m.micro.f1), 4), "fitted_accuracy": fitted.get(name),
                     "per_label_f1": {lab: round(float(v.f1), 4) for lab, v in m.per_label.items()},
                     "differences": dict(sorted(kinds.items(), key=lambda kv: -kv[1]["n"]))})
    return rows


def model_annotation(consensus: Corpus, config: Any, *, seed: int | None = None) -> Corpus:
    """The out-of-fold predicted spans of the audit's tagger trained k-fold on ``consensus`` (one corpus)."""
    from spanqa.bio import tag_inventory
    from spanqa.tagging.trainer import Retrainer

    tagger = Retrainer(config, tag_inventory(consensus.labels))
    pred = tagger.kfold(consensus, seed=config.train.seed if seed is None else seed)
    docs = [Document(d.id, d.text, sort_spans(pred.get(d.id, ())) if d.spans is not None else None,
                     tokens=d.tokens, sentences=d.sentences) for d in consensus.documents]
    return Corpus.from_docs(docs, format=consensus.format)


MODEL_NAME = "model (out of fold)"


def with_model(corpora: Sequence[Corpus], config: Any, *, names: Sequence[str] | None = None,
               model: Corpus | None = None) -> tuple[Consensus, Corpus]:
    """Dawid-Skene over the annotators plus the out-of-fold model trained on their Dawid-Skene consensus
    (module docstring); returns the consensus and the model's annotation (pass ``model`` to reuse one)."""
    names = list(names or [f"annotator {i + 1}" for i in range(len(corpora))])
    if model is None:
        model = model_annotation(dawid_skene(corpora, names=names).corpus, config)
    result = dawid_skene(list(corpora) + [model], names=names + [MODEL_NAME])
    return Consensus(result.corpus, result.annotators, method="Dawid-Skene + out-of-fold model"), model


def sample_disagreement(a: Corpus, b: Corpus, *, notes: int = 50, seed: int = 0, resamples: int = 2000
                        ) -> dict[str, Any]:
    """Share of spans two annotators disagree on (1 - strict span F1 between them) on ``notes`` random documents
    annotated by both, with a 95% bootstrap interval over those documents, and the same share on all of them."""
    from spanqa.comparison import compare_spans
    from spanqa.metrics import span_metrics

    bm = b.by_id()
    both = [(d, bm[d.id]) for d in a.documents if d.id in bm and d.spans is not None and bm[d.id].spans is not None]
    counts = np.array([[m.matched, m.n_labels, m.n_other] for m in
                       (span_metrics(compare_spans(x.id, list(x.spans), list(y.spans))).micro for x, y in both)],
                      dtype=float).reshape(len(both), 3)

    def share(c: np.ndarray) -> np.ndarray:
        tot = c[..., 1] + c[..., 2]
        return np.where(tot > 0, 1 - 2 * c[..., 0] / np.maximum(tot, 1), 0.0)

    rng = np.random.default_rng(seed)
    pick = rng.choice(len(both), size=min(notes, len(both)), replace=False)
    sample = counts[pick]
    boot = rng.integers(0, len(sample), size=(resamples, len(sample)))
    draws = share(sample[boot].sum(axis=1))
    return {"notes": int(len(sample)), "disagreement": round(float(share(sample.sum(axis=0))), 4),
            "ci95": [round(float(np.percentile(draws, 2.5)), 4), round(float(np.percentile(draws, 97.5)), 4)],
            "all_notes": {"notes": len(both), "disagreement": round(float(share(counts.sum(axis=0))), 4)},
            "above_15_percent": bool(share(sample.sum(axis=0)) > 0.15)}
