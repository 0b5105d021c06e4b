"""Synthetic label errors injected into a copy of the user's own labels: the ranking's training data.

spanqa never sees the true errors of a corpus, so whatever combines its signals into one
ranking (:mod:`spanqa.score.ranking.combine`) and whatever turns scores into an error rate
(:mod:`spanqa.score.ranking.error_rate`) is fitted on errors *it made itself*, on the corpus under
audit: :func:`inject_errors` copies the annotated documents and changes a known share of
their spans, and records each change exactly.

**Why no retraining is needed.**  A document's out-of-fold marginals come from a model that
never saw the document's labels; its labels are only what the marginals are compared with.
Changing them therefore leaves the marginals valid: the copy is judged with the *same*
marginals, and every signal that reads only marginals and labels (span quality, the
comparator's disagreements, corpus consistency) is computed on the copy exactly as on the
real corpus.  (Signals recorded while a head trains on a document - training dynamics -
would need a new k-fold run on the copy and are not fitted this way.)

**What is injected** (word-aligned, on the marginals' words; errors never touch each other
nor a span they did not change, so each is exactly one comparator component).  Kinds are
named as the comparator names the component when the *noisy* copy is under audit, as in
:mod:`spanqa.measure.demo.noise`:

============ ============================================================================
``type``     a span relabelled (new label drawn by the corpus's label frequencies)
``boundary`` a span cut by its first or last word, or extended by one free word
``missing``  a span deleted
``spurious`` a free word run labelled: preferably a string the corpus labels elsewhere,
             else a word starting with a capital; label drawn by label frequencies
``merge``    one multi-word span cut into two (the fix merges them)
``split``    two spans at most one free word apart covered by one span (the fix splits it)
============ ============================================================================

Kind shares follow :data:`KIND_SHARES`; the number of errors is ``rate`` times the number of
word-aligned spans.  Everything is seeded.

>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.span import Span
>>> text = "John Smith met Mary in Paris today ."
>>> words = [(0, 4), (5, 10), (11, 14), (15, 19), (20, 22), (23, 28), (29, 34), (35, 36)]
>>> doc = Document("d", text, (Span("d", 0, 10, "PER"), Span("d", 15, 19, "PER"), Span("d", 23, 28, "LOC")))
>>> noisy, errors = inject_errors(Corpus.from_docs([doc]), {"d": words}, rate=0.7, seed=1)
>>> len(errors) >= 1 and all(e.doc_id == "d" and e.kind in KIND_SHARES for e in errors)
True
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from spanqa.core.config import RankingConfig
from spanqa.core.document import Corpus, Document
from spanqa.core.span import Span, sort_spans

Range = tuple[int, int]

#: share of injected errors per kind: the same six kinds as the demo generator (:mod:`spanqa.measure.demo.noise`) but not
#: its mix (there type 0.22, boundary 0.26, missing 0.18, spurious 0.12, split 0.14, merge 0.08); type errors lead
#: in real corrections. Because the kinds and their invariants are shared, the demo's detection numbers measure
#: how well spanqa recovers errors of its own generator - plumbing, not detection quality on real errors.
KIND_SHARES: dict[str, float] = {"type": 0.30, "boundary": 0.22, "missing": 0.16, "spurious": 0.12,
                                 "merge": 0.10, "split": 0.10}
#: default share of spans changed
DEFAULT_RATE = RankingConfig.inject_rate  # ranking.inject_rate
#: longest free word run labelled by a ``spurious`` error
MAX_SPURIOUS_WORDS = 3


@dataclass(frozen=True)
class InjectedError:
    """One injected change: the document, the comparator kind, and the spans before (``clean``) and after (``noisy``)."""

    doc_id: str
    kind: str
    clean: tuple[Span, ...]
    noisy: tuple[Span, ...]

    @property
    def start(self) -> int:
        return min(s.start for s in self.clean + self.noisy)

    @property
    def end(self) -> int:
        return max(s.end for s in self.clean + self.noisy)


def _label_sampler(corpus: Corpus, rng: np.random.Generator):
    counts = Counter(s.label for s in corpus.spans())
    labels = sorted(counts)

    def draw(exclude: str | None = None) -> str | None:
        pool = [lab for lab in labels if lab != exclude]
        if not pool:
            return None
        w = np.asarray([counts[lab] for lab in pool], dtype=np.float64)
        return pool[int(rng.choice(len(pool), p=w / w.sum()))]

    return draw


class _Doc:
    """Word view of one document's labels for the injector: which words are taken, which spans are aligned."""

    def __init__(self, doc: Document, words: Sequence[Range]) -> None:
        self.doc = doc
        self.words = list(words)
        start_at = {a: i for i, (a, _) in enumerate(self.words)}
        end_at = {b: i + 1 for i, (_, b) in enumerate(self.words)}
        self.busy = np.zeros(len(self.words) + 2, dtype=bool)      # words inside a span or an error (+ margins)
        self.aligned: list[tuple[Span, int, int]] = []
        for s in doc.spans or ():
            a, b = start_at.get(s.start), end_at.get(s.end)
            if s.is_discontinuous or a is None or b is None or a >= b:
                lo = int(np.searchsorted([w[1] for w in self.words], s.start, side="right"))
                hi = int(np.searchsorted([w[0] for w in self.words], s.end, side="left"))
                self.busy[lo:max(lo, hi)] = True
                continue
            self.aligned.append((s, a, b))
            self.busy[a:b] = True
        self.touched: set[int] = set()                            # indices into aligned used by an error
        self.locked = np.zeros(len(self.words) + 2, dtype=bool)    # words of an error (and a word around it)

    def span(self, a: int, b: int, label: str) -> Span:
        return Span(self.doc.id, self.words[a][0], self.words[b - 1][1], label)

    def free(self, a: int, b: int) -> bool:
        """Words ``a..b-1`` exist, lie in no span and no error."""
        return 0 <= a < b <= len(self.words) and not self.busy[a:b].any() and not self.locked[a:b].any()

    def lock(self, a: int, b: int) -> None:
        self.locked[max(0, a - 1):b + 1] = True


def inject_errors(corpus: Corpus, words: Mapping[str, Sequence[Range]], *, rate: float = DEFAULT_RATE,
                  seed: int = RankingConfig.inject_seed, shares: Mapping[str, float] = KIND_SHARES,
                  systematic: float = 0.0) -> tuple[Corpus, list[InjectedError]]:
    """A copy of ``corpus`` with about ``rate`` x (word-aligned spans) injected errors, and the errors.

    Args:
        corpus: the corpus under audit; unannotated documents and documents without ``words`` are
            copied unchanged.
        words: per document, the word ranges the marginals use (``DocMarginals.words``).
        rate: errors per word-aligned labelled span.
        seed: the injection seed.
        shares: kind -> share of the errors (:data:`KIND_SHARES`).
        systematic: share of the errors made *systematically* (:func:`_systematic`): every labelled
            occurrence of one string relabelled the same way, or left unlabelled - the guideline
            errors a corpus repeats, which its other occurrences agree with.

    Returns the noisy copy (documents in the same order, spans sorted, other fields kept) and
    the errors in document order.
    """
    rng = np.random.default_rng(seed)
    draw_label = _label_sampler(corpus, rng)
    docs = {d.id: _Doc(d, words[d.id]) for d in corpus.documents if d.spans is not None and d.id in words}
    slots = [(d_id, i) for d_id, st in docs.items() for i in range(len(st.aligned))]
    n_errors = int(round(rate * len(slots)))
    errors: list[InjectedError] = _systematic(docs, int(round(systematic * n_errors)), rng, draw_label) \
        if systematic > 0 and n_errors else []
    n_errors -= len(errors)
    kinds = list(shares)
    p = np.asarray([shares[k] for k in kinds], dtype=np.float64)
    plan = Counter(kinds[int(i)] for i in rng.choice(len(kinds), size=n_errors, p=p / p.sum())) \
        if n_errors > 0 else {}
    surface = _labelled_strings(docs)
    order = rng.permutation(len(slots))
    for kind in kinds:
        want, made = plan.get(kind, 0), 0
        tries = 0
        for j in order if kind != "spurious" else rng.permutation(len(docs)):
            if made >= want or tries > 20 * max(want, 1) + 1000:
                break
            tries += 1
            if kind == "spurious":
                st = docs[list(docs)[int(j)]]
                err = _spurious(st, rng, draw_label, surface)
            else:
                d_id, i = slots[int(j)]
                err = _change(kind, docs[d_id], i, rng, draw_label)
            if err is not None:
                errors.append(err)
                made += 1
        order = rng.permutation(len(slots))
    return _apply(corpus, docs, errors), sorted(errors, key=lambda e: (e.doc_id, e.start, e.kind))


#: a string needs this many labelled occurrences to be changed systematically
MIN_SYSTEMATIC = 3


def _systematic(docs: Mapping[str, _Doc], want: int, rng: np.random.Generator, draw_label) -> list[InjectedError]:
    """About ``want`` errors in groups: pick a string with at least :data:`MIN_SYSTEMATIC` labelled occurrences
    (one label), and relabel every occurrence to one other label (kind ``type``, two groups in three) or leave every
    occurrence unlabelled (kind ``missing``)."""
    forms: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
    for d_id, st in docs.items():
        for i, (s, a, b) in enumerate(st.aligned):
            forms[(s.label,) + tuple(st.doc.text[x:y].lower() for x, y in st.words[a:b])].append((d_id, i))
    pool = sorted(k for k, v in forms.items() if len(v) >= MIN_SYSTEMATIC)
    out: list[InjectedError] = []
    for j in rng.permutation(len(pool)):
        if len(out) >= want:
            break
        key = pool[int(j)]
        kind = "type" if rng.random() < 2 / 3 else "missing"
        lab = draw_label(exclude=key[0]) if kind == "type" else None
        if kind == "type" and lab is None:
            continue
        for d_id, i in forms[key]:
            st = docs[d_id]
            s, a, b = st.aligned[i]
            if i in st.touched or st.locked[a:b].any():
                continue
            st.touched.add(i)
            st.lock(a, b)
            out.append(InjectedError(d_id, kind, (s,),
                                     (st.span(a, b, lab),) if kind == "type" and lab is not None else ()))
    return out


def _change(kind: str, st: _Doc, i: int, rng: np.random.Generator, draw_label) -> InjectedError | None:
    if i in st.touched:
        return None
    s, a, b = st.aligned[i]
    if st.locked[a:b].any():
        return None
    noisy: tuple[Span, ...]
    clean: tuple[Span, ...] = (s,)
    used = [i]
    if kind == "type":
        lab = draw_label(exclude=s.label)
        if lab is None:
            return None
        noisy = (st.span(a, b, lab),)
        lo, hi = a, b
    elif kind == "missing":
        noisy, lo, hi = (), a, b
    elif kind == "boundary":
        options = []
        if b - a >= 2:
            options += [(a + 1, b), (a, b - 1)]
        if st.free(a - 1, a) and not st.locked[a - 1]:
            options.append((a - 1, b))
        if st.free(b, b + 1):
            options.append((a, b + 1))
        if not options:
            return None
        na, nb = options[int(rng.integers(len(options)))]
        noisy, lo, hi = (st.span(na, nb, s.label),), min(a, na), max(b, nb)
    elif kind == "merge":                     # the noisy copy cuts one span in two
        if b - a < 2:
            return None
        cut = int(rng.integers(a + 1, b))
        noisy, lo, hi = (st.span(a, cut, s.label), st.span(cut, b, s.label)), a, b
    elif kind == "split":                     # the noisy copy joins this span and the next one
        nxt = [k for k, (_, a2, _) in enumerate(st.aligned) if a2 >= b and a2 - b <= 1]
        if not nxt:
            return None
        k = nxt[0]
        t, a2, b2 = st.aligned[k]
        if k in st.touched or st.locked[a2:b2].any() or (a2 > b and not st.free(b, a2)):
            return None
        clean, used = (s, t), [i, k]
        noisy, lo, hi = (st.span(a, b2, s.label),), a, b2
    else:
        raise ValueError(f"unknown kind {kind!r}")
    st.touched.update(used)
    st.lock(lo, hi)
    return InjectedError(st.doc.id, kind, clean, noisy)


def _labelled_strings(docs: Mapping[str, _Doc]) -> dict[tuple[str, ...], Counter]:
    """Word tuples that some aligned span covers, with their label counts (for realistic spurious spans)."""
    out: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    for st in docs.values():
        text = st.doc.text
        for s, a, b in st.aligned:
            if b - a <= MAX_SPURIOUS_WORDS:
                out[tuple(text[x:y] for x, y in st.words[a:b])][s.label] += 1
    return out


def _spurious(st: _Doc, rng: np.random.Generator, draw_label, surface: Mapping[tuple[str, ...], Counter]
              ) -> InjectedError | None:
    """Label a free word run of ``st``: a string labelled elsewhere (with a label it never has here), else a
    capitalised word."""
    n = len(st.words)
    if n == 0:
        return None
    text = st.doc.text
    cands: list[tuple[int, int, str | None]] = []
    for a in range(n):
        for m in range(1, MAX_SPURIOUS_WORDS + 1):
            if st.free(a, a + m):
                form = tuple(text[x:y] for x, y in st.words[a:a + m])
                if form in surface:
                    cands.append((a, a + m, surface[form].most_common(1)[0][0]))
    if not cands:
        caps = [a for a in range(n) if st.free(a, a + 1) and text[st.words[a][0]:st.words[a][1]][:1].isupper()]
        cands = [(a, a + 1, None) for a in caps]
    if not cands:
        return None
    a, b, lab = cands[int(rng.integers(len(cands)))]
    lab = lab or draw_label()
    if lab is None:
        return None
    st.lock(a, b)
    return InjectedError(st.doc.id, "spurious", (), (st.span(a, b, lab),))


def _apply(corpus: Corpus, docs: Mapping[str, _Doc], errors: Sequence[InjectedError]) -> Corpus:
    by_doc: dict[str, list[InjectedError]] = defaultdict(list)
    for e in errors:
        by_doc[e.doc_id].append(e)
    out = []
    for d in corpus.documents:
        errs = by_doc.get(d.id)
        if not errs:
            out.append(d)
            continue
        drop = {id(s) for e in errs for s in e.clean}
        spans = [s for s in d.spans or () if id(s) not in drop] + [s for e in errs for s in e.noisy]
        out.append(d.evolve(spans=sort_spans(spans)))
    return corpus.evolve(documents=tuple(out))


__all__ = ["DEFAULT_RATE", "InjectedError", "KIND_SHARES", "inject_errors"]
