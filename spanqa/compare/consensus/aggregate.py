"""The consensus entry point: gather the crowd, aggregate by the chosen method, return the corpus and the fit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from spanqa.compare.consensus.crowd import Crowd, gather
from spanqa.compare.consensus.extent import extent_consensus
from spanqa.compare.consensus.words import LEARN, word_consensus, word_votes
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Problem
from spanqa.core.span import sort_spans

METHODS = ("word-ds", "hmm", "word-vote", "dawid-skene", "vote")
TITLES = {"hmm": "crowd HMM over words (annotators conditioned on their previous tag)", "word-ds": "Dawid-Skene over words", "word-vote": "majority vote over words",
          "dawid-skene": "Dawid-Skene over exact extents", "vote": "majority vote over exact extents"}
PRIOR = 3.0  # pseudo-items pulling each annotator's confusion rows toward the pooled crowd (crowd CoNLL val: flat
#              between 0 and 10, 0.712-0.714 exact-span F1)
DIAG = 5.0   # pseudo-items on saying the true class (crowd CoNLL val: 0.713 vs 0.708 without)
DEFAULT = "word-ds"  # best mean exact-span F1 over the design sets: crowd CoNLL val and NoiseBench (docs/compare.md)


@dataclass
class Consensus:
    """The consensus ``corpus``, per annotator the fitted reliability (``annotators``), the method's name, the
    gathered ``crowd`` (the annotators' spans on the reference texts) and the alignment ``problems``."""

    corpus: Corpus
    annotators: list[dict[str, Any]] = field(default_factory=list)
    method: str = ""
    crowd: Crowd | None = None
    problems: list[Problem] = field(default_factory=list)


def _fitted(post: np.ndarray | None, S_plain, names: Sequence[str], labels: Sequence[str], *, words: bool
            ) -> list[dict]:
    """Per annotator, from the fitted posteriors: P(says O | truth O) and, per label, P(marks a word (``words``:
    classes O, B-, I- per label) or an extent (classes O, one per label) with that label | it truly has it)."""
    if post is None:
        return []
    k = post.shape[1]
    counts = np.asarray(S_plain @ post).reshape(len(names), k, k)  # [j, said, truth]
    groups = [[0]] + [[1 + 2 * i, 2 + 2 * i] if words else [1 + i] for i in range(len(labels))]
    out = []
    for j, name in enumerate(names):
        acc = {}
        for lab, g in zip(["O"] + list(labels), groups):
            tot = counts[j][:, g].sum()
            acc[lab] = round(float(counts[j][np.ix_(g, g)].sum() / tot), 4) if tot > 0 else None
        out.append({"name": name, "accuracy": acc})
    return out


def consensus(corpora: Sequence[Corpus], names: Sequence[str] | None = None, *, method: str = DEFAULT,
              prior: float = PRIOR, diag: float = DIAG, iterations: int = 50, learn: str = "all") -> Consensus:
    """The consensus of ``corpora`` (one per annotator) by ``method`` (module docstring)."""
    if method not in METHODS:
        raise ValueError(f"unknown consensus method {method!r}; use one of {', '.join(METHODS)}")
    if learn != "all" and method not in ("word-ds", "hmm"):
        raise ValueError(f"learn={learn!r} applies to the fitted word-level methods (word-ds, hmm), not {method!r}")
    crowd = gather(corpora, names)
    if method in ("dawid-skene", "vote"):
        by_doc, f, S, classes = extent_consensus(crowd, method, prior=prior, diag=diag, iterations=iterations)
        fitted = _fitted(None if f is None else f.post, S, crowd.names, crowd.labels, words=False)
    else:
        votes = word_votes(crowd)
        by_doc, f = word_consensus(votes, method, prior=prior, diag=diag, iterations=iterations, learn=learn)
        fitted = _fitted(None if f is None else f.post, votes.matrix(), crowd.names, votes.labels, words=True)
    annotated = crowd.annotated()
    docs = [Document(d.id, d.text, sort_spans(by_doc.get(d.id, [])) if d.id in annotated else None,
                     tokens=d.tokens, sentences=d.sentences) for d in crowd.documents]
    return Consensus(Corpus.from_docs(docs, format=crowd.format), fitted, TITLES[method], crowd, crowd.problems)


def majority_vote(corpora: Sequence[Corpus], names: Sequence[str] | None = None) -> Consensus:
    """Exact extents kept by more than half of the annotators who saw the document (``method="vote"``)."""
    return consensus(corpora, names, method="vote")


def dawid_skene(corpora: Sequence[Corpus], *, names: Sequence[str] | None = None, iterations: int = 50,
                prior: float = PRIOR) -> Consensus:
    """Dawid-Skene over exact extents (``method="dawid-skene"``)."""
    return consensus(corpora, names, method="dawid-skene", prior=prior, iterations=iterations)


__all__ = ["Consensus", "DEFAULT", "DIAG", "LEARN", "METHODS", "PRIOR", "TITLES", "consensus", "dawid_skene", "majority_vote"]
