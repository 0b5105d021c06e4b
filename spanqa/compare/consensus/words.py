"""Word-level consensus: annotators vote a BIO tag on every word, so edges come from the evidence, not one worker's.

Every annotator who saw a document tags each of its words (IOB2, flat: longest span first, as everywhere in
spanqa) on the reference document's own words (its tokens, or :func:`spanqa.corpus.tokenize.tokenize`); a span edge
inside a word widens the span to the word. Three aggregations, one decoder:

- ``"word-ds"`` (the default): Dawid-Skene over words - one confusion matrix over BIO tags per annotator, shrunk
  toward the pooled crowd (:mod:`spanqa.compare.consensus.em`);
- ``"hmm"``: a crowd HMM (Nguyen et al. 2017) - a fitted Markov chain of true tags per sentence - whose
  annotators' confusion also depends on the tag they gave the previous word (BSC-seq's annotator model,
  Simpson & Gurevych 2019);
- ``"word-vote"``: a word is in a label's span when more than half of the annotators who saw the document put it
  in a span of that label; a new span starts where most of those annotators start one (``B-``).

**What the confusions are learnt on** (``learn=``). By default on every word. Most words nobody marks, and on
those every annotator agrees trivially, so an annotator's fitted rate of marking a word that is truly ``O`` is
tiny, and two sources that mark the same wrong word outvote a careful one. Human crowds mostly *miss* (crowd
CoNLL: fitting on every word is best there, 0.712 vs 0.688). Automatic sources - rules, gazetteers, an LLM - mark
the same look-alike words wrongly again and again; for them ``learn="contested"`` learns the confusions only on
the words someone marked and the ``REACH`` words either side (NoiseBench: 0.934 vs 0.929 with the expert, 0.795
vs 0.785 without). Every word still gets its posterior and counts in the class prior.

Decoding is Viterbi over BIO-valid paths (no ``I-`` without its ``B-``, none at a sentence start), so every
span is well formed. A span's ``score`` is its **posterior**: the probability, under the fitted model, that
the words from its first to its last carry exactly that label with exactly those edges (the next word not
continuing it) - for the HMM computed exactly from the forward-backward quantities; for word Dawid-Skene the
product of the word posteriors; for the vote the mean share of votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from spanqa.compare.consensus.crowd import Crowd
from spanqa.compare.consensus.em import Chains, Fit, fit, viterbi, vote_counts, vote_matrix
from spanqa.core.document import Document
from spanqa.core.span import Span
from spanqa.corpus.tokenize import doc_words, sentence_ranges

METHODS = ("hmm", "word-ds", "word-vote")
LEARN = ("all", "contested")
REACH = 2  # words either side of a marked word that still teach (NoiseBench: 1, 2, 3 -> 0.935/0.934/-, 0.785/0.795/0.795)


def classes_for(labels: Sequence[str]) -> list[str]:
    """``["O", "B-L1", "I-L1", "B-L2", ...]``: ``B-`` of label ``l`` is ``1 + 2l``, its ``I-`` is ``2 + 2l``."""
    return ["O"] + [f"{p}-{lab}" for lab in labels for p in ("B", "I")]


@dataclass
class WordVotes:
    """Every word of every reference document (``starts``/``ends`` in characters, ``doc`` index), the sentences
    as runs of words (``chains``), the vote triples and the classes."""

    crowd: Crowd
    labels: list[str]
    classes: list[str]
    starts: np.ndarray
    ends: np.ndarray
    doc: np.ndarray
    chains: Chains
    items: np.ndarray
    annotators: np.ndarray
    said: np.ndarray
    voters: np.ndarray  # per word: how many annotators saw its document
    previous: np.ndarray  # per vote: what that annotator said on the previous word of the sentence (O at a start)

    def matrix(self, context: bool = False):
        """The sparse vote matrix; with ``context`` each vote is keyed by the annotator's previous tag too."""
        k = len(self.classes)
        return vote_matrix(self.items, self.annotators, self.said, len(self.starts), len(self.crowd.names), k,
                           context=self.previous if context else None, contexts=k if context else 1)


def _bio_allowed(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    k = 1 + 2 * len(labels)
    allowed = np.ones((k, k), bool)
    first = np.ones(k, bool)
    for lab in range(len(labels)):
        inside = 2 + 2 * lab
        allowed[:, inside] = False
        allowed[1 + 2 * lab, inside] = allowed[inside, inside] = True
        first[inside] = False
    return allowed, first


def _tag(starts: np.ndarray, ends: np.ndarray, spans: Sequence[Span], index: dict[str, int]) -> np.ndarray:
    """Class per word for one annotator's spans (flat, longest first; a span on no word is skipped)."""
    tags = np.zeros(len(starts), np.int64)
    for s in sorted(spans, key=lambda s: (-(s.end - s.start), s.start, s.label)):
        i0 = int(np.searchsorted(ends, s.start, side="right"))
        i1 = int(np.searchsorted(starts, s.end, side="left"))
        if i1 <= i0 or tags[i0:i1].any():
            continue
        b = index[s.label]
        tags[i0], tags[i0 + 1:i1] = b, b + 1
    return tags


def word_votes(crowd: Crowd, labels: Sequence[str] | None = None) -> WordVotes:
    """Tag every word of every document for every annotator who saw it (module docstring)."""
    labels = list(labels if labels is not None else crowd.labels)
    classes = classes_for(labels)
    index = {lab: 1 + 2 * i for i, lab in enumerate(labels)}
    starts, ends, docs, s_start, s_len, items, anns, said, voters, prev = [], [], [], [], [], [], [], [], [], []
    base = 0
    for di, d in enumerate(crowd.documents):
        words = doc_words(Document(d.id, d.text, None, tokens=d.tokens))
        ws, we = words.starts, words.ends
        n = len(ws)
        starts.append(ws)
        ends.append(we)
        docs.append(np.full(n, di, np.int64))
        sent = sentence_ranges(Document(d.id, d.text, None, tokens=d.tokens, sentences=d.sentences), words)
        a = np.searchsorted(ws, [x for x, _ in sent], side="left")
        b = np.searchsorted(ws, [y for _, y in sent], side="left")
        keep = b > a
        s_start.append(base + a[keep])
        s_len.append((b - a)[keep])
        saw = [j for j, per in enumerate(crowd.spans) if d.id in per]
        voters.append(np.full(n, len(saw), np.int64))
        opens = np.zeros(n, bool)
        opens[a[keep]] = True
        for j in saw:
            tags = _tag(ws, we, crowd.spans[j][d.id], index).astype(np.int16)
            items.append(np.arange(base, base + n, dtype=np.int32))
            anns.append(np.full(n, j, np.int32))
            said.append(tags)
            before = np.concatenate([np.zeros(1, np.int16), tags[:-1]]) if n else tags
            prev.append(np.where(opens, 0, before).astype(np.int16))
        base += n

    def cat(xs: list, dtype=np.int64) -> np.ndarray:
        out = np.concatenate(xs).astype(dtype, copy=False) if xs else np.zeros(0, dtype)
        xs.clear()
        return out

    allowed, first = _bio_allowed(labels)
    return WordVotes(crowd, labels, classes, cat(starts), cat(ends), cat(docs),
                     Chains(cat(s_start), cat(s_len), allowed, first), cat(items, np.int32), cat(anns, np.int32),
                     cat(said, np.int16), cat(voters), cat(prev, np.int16))


def _spans_of(path: np.ndarray, chains: Chains, n: int) -> list[tuple[int, int, int]]:
    """``(first word, end word, label index)`` of the runs ``B- I-*`` in a BIO-valid path."""
    if not n:
        return []
    is_b = (path % 2 == 1)
    sent_start = np.zeros(n, bool)
    sent_start[chains.starts[chains.lengths > 0]] = True
    stops = np.flatnonzero((path % 2 == 1) | (path == 0) | sent_start)  # words that do not continue a span
    out = []
    for i in np.flatnonzero(is_b).tolist():
        k = int(np.searchsorted(stops, i, side="right"))
        end = int(stops[k]) if k < len(stops) else n
        out.append((i, end, (int(path[i]) - 1) // 2))
    return out


def _hmm_score(f: Fit, i: int, end: int, lab: int, last_of_sentence: bool) -> float:
    """P(words i..end-1 = B-lab I-lab..., word ``end`` not I-lab | all votes), from scaled forward-backward."""
    # a chain fit over at least one word keeps these (only such a fit has spans to score)
    assert f.alpha is not None and f.beta is not None and f.scale is not None and f.emit is not None
    assert f.trans is not None
    b, inside = 1 + 2 * lab, 2 + 2 * lab
    p = f.alpha[i, b]
    prev = b
    for t in range(i + 1, end):
        p *= f.trans[prev, inside] * f.emit[t, inside] / f.scale[t]
        prev = inside
    if last_of_sentence:
        p *= f.beta[end - 1, prev]
    else:
        nxt = np.ones(f.trans.shape[0], bool)
        nxt[inside] = False
        p *= float((f.trans[prev, nxt] * f.emit[end, nxt] * f.beta[end, nxt]).sum() / f.scale[end])
    return float(min(1.0, p))


def contested(votes: WordVotes, reach: int) -> np.ndarray:
    """Indices of the words somebody put in a span and of the ``reach`` words either side of one (module docstring)."""
    marked = np.zeros(len(votes.starts) + 2 * reach, bool)
    marked[votes.items[votes.said > 0].astype(np.int64) + reach] = True
    near = np.zeros(len(votes.starts), bool)
    for shift in range(2 * reach + 1):
        near |= marked[shift:shift + len(votes.starts)]
    return np.flatnonzero(near)


def word_consensus(votes: WordVotes, method: str, *, prior: float, diag: float, iterations: int = 50,
                   learn: str = "all") -> tuple[dict[str, list[Span]], Fit | None]:
    """The consensus spans per document id (module docstring) and the fit (None for the vote); ``learn="contested"``
    learns the confusions on the :func:`contested` words only (module docstring)."""
    context = method == "hmm"
    k, n = len(votes.classes), len(votes.starts)
    chains = votes.chains
    last = np.zeros(n, bool)
    ends = chains.starts + chains.lengths - 1
    last[ends[chains.lengths > 0]] = True
    with np.errstate(divide="ignore"):
        log_trans0 = np.log(chains.allowed.astype(float))
        log_first = np.log(chains.first.astype(float))
    S = votes.matrix(context=context)
    contexts = k if context else 1
    f: Fit | None = None
    if learn not in LEARN:
        raise ValueError(f"unknown learn={learn!r}; use one of {LEARN}")
    teach = None
    if learn == "contested":
        teach = np.zeros(n)
        teach[contested(votes, REACH)] = 1.0
    if method == "hmm":
        f = fit(S, k, chains=chains, contexts=contexts, prior=prior, diag=diag, iterations=iterations, teach=teach)
        with np.errstate(divide="ignore"):
            assert f.emit is not None and f.trans is not None and f.start is not None  # a fit with chains has them
            path = viterbi(np.log(f.emit + 1e-300), np.log(f.trans) + log_trans0,
                           np.log(f.start) + log_first, chains)
    elif method == "word-ds":
        f = fit(S, k, chains=None, contexts=contexts, prior=prior, diag=diag, iterations=iterations, teach=teach)
        path = viterbi(np.log(f.post + 1e-300), log_trans0, log_first, chains)
    elif method == "word-vote":
        counts = vote_counts(S, k)
        lab_votes = counts[:, 1::2] + counts[:, 2::2]  # per label: B or I
        best = lab_votes.argmax(axis=1) if votes.labels else np.zeros(n, np.int64)
        top = lab_votes[np.arange(n), best] if votes.labels else np.zeros(n)
        win = top * 2 > votes.voters
        starts_new = counts[np.arange(n), 1 + 2 * best] * 2 > top if votes.labels else win  # most start one here
        said = np.where(win, np.where(starts_new, 1 + 2 * best, 2 + 2 * best), 0)
        share = np.full((n, k), -50.0)
        share[np.arange(n), said] = 0.0
        path = viterbi(share, log_trans0, log_first, chains)  # repairs an I- after O into B-
        frac = np.where(votes.voters > 0, top / np.maximum(votes.voters, 1), 0.0)
    else:
        raise ValueError(f"unknown word-level method {method!r}; use one of {METHODS}")
    by_doc: dict[str, list[Span]] = {}
    for i, end, lab in _spans_of(path, chains, n):
        d = votes.crowd.documents[int(votes.doc[i])]
        if method == "hmm":
            assert f is not None  # fitted above
            score = _hmm_score(f, i, end, lab, bool(last[end - 1]))
        elif method == "word-ds":
            assert f is not None  # fitted above
            score = float(np.prod(f.post[np.arange(i, end), [1 + 2 * lab] + [2 + 2 * lab] * (end - i - 1)]))
            if not last[end - 1]:
                score *= 1.0 - float(f.post[end, 2 + 2 * lab])
        else:
            score = float(frac[i:end].mean())
        by_doc.setdefault(d.id, []).append(Span(d.id, int(votes.starts[i]), int(votes.ends[end - 1]),
                                                votes.labels[lab], score=round(score, 6)))
    return by_doc, f


__all__ = ["METHODS", "WordVotes", "classes_for", "word_consensus", "word_votes"]
