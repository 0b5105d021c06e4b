"""Out-of-fold word-level label marginals, their storage, and the one span decoder over them.

Shapes and offsets
------------------
:class:`DocMarginals` holds, for one document, its words as half-open character
ranges ``words[i] = (start, end)`` and ``probs``: ``(n_words, n_tags)`` float32,
each row a probability distribution over :attr:`OOFPredictions.tags` (the IOB2
inventory ``["O", "B-A", "I-A", ...]`` from :func:`spanqa.corpus.bio.tag_inventory`).
``fold`` is the fold whose model predicted the document (it never trained on
it); ``-1`` marks an unannotated document, whose marginals are the mean of all
fold models.  ``seed`` is the training seed.

:func:`decode` turns marginals into predicted spans with a constrained Viterbi
pass over ``log(probs)``: a path may not go ``O -> I-X`` or ``B-X/I-X -> I-Y``
(Y != X) nor start with ``I-X``.  Each predicted :class:`~spanqa.core.span.Span` is in
the document's character offsets, and its ``score`` is the mean marginal
probability of the tags on its path (``B-X`` on the first word, ``I-X`` on the
rest) - a confidence in [0, 1].

Why one module of ~420 lines: one data type - the marginals, their storage and the one decoder over them.

>>> words = ((0, 7), (8, 10), (10, 12))   # word 3 alone says I-Drug, which cannot follow O: Viterbi picks B I
>>> probs = np.array([[.1, .8, .1], [.6, .3, .1], [.2, .1, .7]], dtype=np.float32)
>>> [(s.start, s.end, s.label, round(s.score, 3)) for s in decode(DocMarginals("d", words, probs, fold=0, seed=13),
...                                                               ["O", "B-Drug", "I-Drug"])]
[(0, 7, 'Drug', 0.8), (8, 12, 'Drug', 0.5)]
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spanqa.core.output import atomic_open
from spanqa.core.span import Span
from spanqa.corpus.bio import split_tag, tags_to_spans

if TYPE_CHECKING:
    from spanqa.core.document import Corpus

Range = tuple[int, int]
_FORMAT = "spanqa.oof.v1"


@dataclass(eq=False)
class DocMarginals:
    """Word-level label marginals of one document (see module docstring for shapes)."""

    doc_id: str
    words: tuple[Range, ...]
    probs: np.ndarray
    fold: int
    seed: int
    #: ``(n_words,)`` float32 training dynamics: each word's mean margin (its label's logit minus the best
    #: other logit) while the heads of the OTHER folds trained on this document (``fast.dynamics``); NaN
    #: where no head trained on the word; None when not recorded
    margins: np.ndarray | None = None
    #: ``(n_words,)`` float32: the same for the labels of the injected copy (:mod:`spanqa.corpus.injection`),
    #: which one fold's heads trained on in place of this document's labels (probe samples); None when not recorded
    copy_margins: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.words = tuple((int(a), int(b)) for a, b in self.words)
        if self.probs.ndim != 2 or self.probs.shape[0] != len(self.words):
            raise ValueError(f"doc {self.doc_id}: probs shape {self.probs.shape} does not match {len(self.words)} words")
        for name in ("margins", "copy_margins"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != (len(self.words),):
                raise ValueError(f"doc {self.doc_id}: {name} shape {arr.shape} does not match {len(self.words)} words")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DocMarginals):
            return NotImplemented
        same_margins = all((getattr(self, n) is None) == (getattr(other, n) is None) and (
            getattr(self, n) is None or np.array_equal(getattr(self, n), getattr(other, n), equal_nan=True))
            for n in ("margins", "copy_margins"))
        return (self.doc_id, self.words, self.fold, self.seed) == (other.doc_id, other.words, other.fold, other.seed) \
            and self.probs.dtype == other.probs.dtype and np.array_equal(self.probs, other.probs) and same_margins


@dataclass(eq=False)
class OOFPredictions:
    """Out-of-fold marginals for a corpus: tag inventory, per-document marginals, run metadata.

    ``meta`` is JSON-native (dicts, lists, strings, numbers): the configuration,
    the model path, fold assignment, timings, dropped gold spans and problems.
    """

    tags: list[str]
    docs: dict[str, DocMarginals]
    meta: dict[str, Any] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OOFPredictions):
            return NotImplemented
        return self.tags == other.tags and self.docs == other.docs and self.meta == other.meta

    def save(self, path: str | Path) -> Path:
        """Write one ``.npz`` file (no pickles): concatenated probs plus an index; exact round trip."""
        path = Path(path)
        ids = list(self.docs)
        n_tags = len(self.tags)
        probs = [self.docs[d].probs.astype(np.float32, copy=False) for d in ids]
        words = [np.asarray(self.docs[d].words, dtype=np.int64).reshape(-1, 2) for d in ids]
        offsets = np.cumsum([0] + [len(w) for w in words]).astype(np.int64)
        extra: dict[str, np.ndarray] = {}
        for name in ("margins", "copy_margins"):
            has = [getattr(self.docs[d], name) is not None for d in ids]
            if any(has):  # NaN rows for documents without, a flag per document says which had none
                extra[name] = np.concatenate([getattr(self.docs[d], name).astype(np.float32) if h
                                              else np.full(len(w), np.nan, np.float32)
                                              for d, h, w in zip(ids, has, words)])
                extra[f"has_{name}"] = np.asarray(has, dtype=bool)
        with atomic_open(path, "wb") as fh:
            np.savez_compressed(
                fh, **extra,
                format=np.asarray(_FORMAT),
                tags=np.asarray(self.tags, dtype=str),
                doc_ids=np.asarray(ids, dtype=str),
                offsets=offsets,
                folds=np.asarray([self.docs[d].fold for d in ids], dtype=np.int64),
                seeds=np.asarray([self.docs[d].seed for d in ids], dtype=np.int64),
                probs=np.concatenate(probs) if probs else np.zeros((0, n_tags), np.float32),
                words=np.concatenate(words) if words else np.zeros((0, 2), np.int64),
                meta=np.asarray(json.dumps(self.meta, sort_keys=True)),
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> "OOFPredictions":
        """Read a file written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as z:
            if str(z["format"]) != _FORMAT:
                raise ValueError(f"{path}: not a spanqa OOF file ({z['format']})")
            tags = [str(t) for t in z["tags"]]
            ids = [str(d) for d in z["doc_ids"]]
            off, probs, words = z["offsets"], z["probs"], z["words"]
            dyn = {n: (z[n], z[f"has_{n}"]) for n in ("margins", "copy_margins") if n in z.files}
            docs = {}
            for k, d in enumerate(ids):
                a, b = int(off[k]), int(off[k + 1])
                extra = {n: (v[a:b].copy() if has[k] else None) for n, (v, has) in dyn.items()}
                docs[d] = DocMarginals(d, tuple(map(tuple, words[a:b].tolist())), probs[a:b].copy(),
                                       fold=int(z["folds"][k]), seed=int(z["seeds"][k]), **extra)
            meta = json.loads(str(z["meta"]))
        if probs.shape[1:] != (len(tags),):
            raise ValueError(f"{path}: probs have {probs.shape[1:]} columns for {len(tags)} tags")
        return cls(tags, docs, meta)


def load_user_predictions(path: str | Path, corpus: "Corpus") -> OOFPredictions:
    """Out-of-sample word marginals a user made with their own model, checked against ``corpus`` (``E412``).

    ``path`` is spanqa's own layout (:meth:`OOFPredictions.save`: ``tags``, ``doc_ids``,
    ``offsets``, ``probs``, ``words`` as character ranges; the words need not be spanqa's
    tokenisation, only sorted non-overlapping ranges inside each document), cleanlab's token
    layout (an ``.npz`` with ``pred_probs`` and ``class_names``, :func:`_from_cleanlab_layout`),
    or predicted spans in any corpus format spanqa reads (:func:`marginals_from_spans`).  Documents of
    the corpus the file does not cover get no scores (``W405`` in the audit); documents
    the corpus does not have are an error.  The predictions must be **out-of-sample**: a
    model trained on these notes agrees with their errors.
    """
    from spanqa.core.errors import fail

    path = Path(path)
    if not path.exists():
        raise fail("E101", f"{path} does not exist", path=str(path))
    if path.is_dir() or path.suffix.lower() != ".npz":  # predicted spans, in any format spanqa reads
        from spanqa.corpus.formats import read_corpus

        return marginals_from_spans(corpus, read_corpus(path), source=str(path.resolve()))
    try:
        with np.load(path, allow_pickle=False) as z:
            cleanlab = "pred_probs" in z.files
    except Exception:
        cleanlab = False
    if cleanlab:
        oof = _from_cleanlab_layout(path, corpus)
    else:
        try:
            oof = OOFPredictions.load(path)
        except Exception as err:  # not an npz, or not ours
            raise fail("E412", f"{path} is not a marginals file in spanqa's layout ({type(err).__name__}: {err})",
                       path=str(path)) from None
    prefixes = {split_tag(t) for t in oof.tags}
    missing = [lab for lab in corpus.labels if ("B", lab) not in prefixes or ("I", lab) not in prefixes]
    if missing:
        raise fail("E412", f"the predictions have no B-/I- tags for {', '.join(missing)} (tags: "
                   f"{', '.join(oof.tags)})", path=str(path))
    docs = corpus.by_id()
    for doc_id, m in oof.docs.items():
        doc = docs.get(doc_id)
        if doc is None:
            raise fail("E412", f"document {doc_id!r} of the predictions is not in the corpus", path=str(path),
                       doc_id=doc_id)
        ends = [b for _, b in m.words]
        bad = next((i for i, (a, b) in enumerate(m.words)
                    if not (0 <= a < b <= len(doc.text)) or (i and a < ends[i - 1])), None)
        if bad is not None:
            raise fail("E412", f"word {bad} {m.words[bad]} is not a sorted range inside the text of "
                       f"{len(doc.text)} characters", path=str(path), doc_id=doc_id)
        rows = m.probs.sum(axis=1) if len(m.probs) else np.ones(0)
        if not np.all(np.isfinite(m.probs)) or (m.probs < 0).any() or not np.allclose(rows, 1.0, atol=1e-3):
            raise fail("E412", "probability rows must be finite, non-negative and sum to 1", path=str(path),
                       doc_id=doc_id)
    converted = oof.meta.pop("converted", None)
    oof.meta["predictions"] = {"source": "user-supplied word marginals" + (" (cleanlab layout)" if cleanlab else ""),
                               "path": str(path.resolve()), "docs": len(oof.docs),
                               "note": "must be out-of-sample; spanqa trained no model"}
    if converted:
        oof.meta["predictions"]["converted"] = converted
    return oof


#: the probability a word outside every predicted span keeps for the other tags when predictions are spans
SPAN_FLOOR = 0.01


def marginals_from_spans(corpus: "Corpus", predicted: "Corpus", *, floor: float = SPAN_FLOOR,
                         source: str = "spans") -> OOFPredictions:
    """Word marginals standing for a model that gave only spans (with an optional score each).

    A predicted span's words carry its score (1 - ``floor`` when it has none) on its B-/I- tag and the rest on O;
    every other word is O with probability 1 - ``floor``, the rest shared by the other tags.  This is not a
    model's uncertainty: span qualities and alternatives computed from it are only as graded as the scores,
    which ``summary.json`` says.  Predicted spans of documents the corpus lacks are an error (``E412``).
    """
    from spanqa.core.errors import fail
    from spanqa.corpus.bio import tag_inventory
    from spanqa.corpus.tokenize import doc_words

    docs = corpus.by_id()
    unknown = [d.id for d in predicted.documents if d.id not in docs]
    if unknown:
        raise fail("E412", f"predicted documents not in the corpus: {', '.join(unknown[:5])}", path=source)
    tags = tag_inventory(set(corpus.labels) | set(predicted.labels))
    index = {t: i for i, t in enumerate(tags)}
    out: dict[str, DocMarginals] = {}
    for pdoc in predicted.documents:
        doc = docs[pdoc.id]
        if pdoc.text != doc.text:
            raise fail("E412", "the predicted document's text differs from the corpus's", path=source, doc_id=doc.id)
        spans = list(doc.spans or ()) + list(pdoc.spans or ())
        words = doc_words(doc.evolve(spans=tuple(spans))).ranges
        probs = np.full((len(words), len(tags)), floor / max(1, len(tags) - 1), np.float32)
        probs[:, 0] = 1.0 - floor
        starts = [a for a, _ in words]
        for s in sorted(pdoc.spans or (), key=lambda s: s.start):
            p = float(s.score) if s.score is not None else 1.0 - floor
            if not 0.0 <= p <= 1.0:
                raise fail("E412", f"{s.label} span {s.start}-{s.end} has score {s.score}, not a probability in [0, 1]",
                           path=source, doc_id=doc.id, start=s.start, end=s.end)
            first = True
            for i in range(bisect.bisect_left(starts, s.start), len(words)):
                a, b = words[i]
                if a >= s.end:
                    break
                row = np.full(len(tags), 0.0, np.float32)
                row[index[f"{'B' if first else 'I'}-{s.label}"]] = p
                row[0] = 1.0 - p
                probs[i] = row
                first = False
        out[doc.id] = DocMarginals(doc.id, tuple(words), probs, fold=-1, seed=0)
    return OOFPredictions(tags, out, {"predictions": {
        "source": "user-supplied predicted spans", "path": source, "docs": len(out),
        "note": "must be out-of-sample; word marginals derived from the spans: a predicted span's words carry its "
                f"score (or {1 - floor:g}) on its tag and the rest on O, other words are O with {1 - floor:g}. "
                "There is no per-word uncertainty: span qualities, alternatives and the error rate are only as "
                "graded as the span scores."}})


def _from_cleanlab_layout(path: Path, corpus: "Corpus") -> OOFPredictions:
    """cleanlab's token layout: ``pred_probs`` (all tokens of all documents, in corpus order, one row each),
    ``class_names`` (IOB2 tags) and optionally ``doc_ids`` + ``lengths``; the tokens are the corpus's own."""
    from spanqa.core.errors import fail
    from spanqa.corpus.tokenize import doc_words

    field = "pred_probs"
    try:
        with np.load(path, allow_pickle=False) as z:
            raw = z["pred_probs"]
            if raw.dtype.kind not in "fiu":
                raise TypeError(f"dtype {raw.dtype}")
            probs = raw.astype(np.float32)
            field = "class_names"
            names = [str(t) for t in z["class_names"]] if "class_names" in z.files else None
            field = "doc_ids"
            ids = [str(d) for d in z["doc_ids"]] if "doc_ids" in z.files else None
            field = "lengths"
            lengths = [int(n) for n in z["lengths"]] if "lengths" in z.files else None
    except (ValueError, TypeError) as err:  # object arrays (pickles refused), strings where numbers belong
        raise fail("E412", f"{field} cannot be read as a plain array ({err}); save numbers (pred_probs: float, "
                   "tokens x classes) and strings with numpy, without pickled objects", path=str(path)) from None
    if names is None or probs.ndim != 2 or probs.shape[1] != len(names):
        raise fail("E412", "a cleanlab-layout file needs pred_probs (tokens x classes) and class_names",
                   path=str(path))
    names, probs, converted = to_iob2_columns(names, probs, str(path))
    annotated = [d for d in corpus.documents if d.spans is not None]
    known = corpus.by_id()
    twice = sorted({i for i in ids or () if list(ids).count(i) > 1}) if ids is not None else []
    if twice:
        raise fail("E412", f"doc_ids names {', '.join(twice[:5])} more than once; each document's rows must come "
                   "once, in one block", path=str(path))
    unknown = [i for i in ids or () if i not in known]
    if unknown:
        raise fail("E412", f"doc_ids not in the corpus: {', '.join(unknown[:5])}", path=str(path))
    docs = [known[i] for i in ids] if ids is not None else annotated
    words_of = {d.id: (list(d.tokens) if d.tokens is not None else list(doc_words(d).ranges)) for d in docs}
    need = [len(words_of[d.id]) for d in docs]
    if lengths is not None and lengths != need:
        raise fail("E412", "lengths differ from the documents' token counts", path=str(path))
    if sum(need) != len(probs):
        raise fail("E412", f"pred_probs has {len(probs)} rows for {sum(need)} tokens of {len(docs)} documents",
                   path=str(path))
    out, k = {}, 0
    for d, n in zip(docs, need):
        out[d.id] = DocMarginals(d.id, tuple(words_of[d.id]), probs[k:k + n], fold=-1, seed=0)
        k += n
    return OOFPredictions(names, out, {"converted": converted} if converted else {})


#: how BIOES / BILOU prefixes map onto IOB2's (S/U open and close a one-word entity, E/L close one)
_TO_IOB2 = {"B": "B", "I": "I", "O": "O", "S": "B", "U": "B", "E": "I", "L": "I"}


def to_iob2_columns(names: list[str], probs: np.ndarray, where: str) -> tuple[list[str], np.ndarray, str | None]:
    """Marginals over BIOES (or BILOU) classes as IOB2 marginals: an ``S-X`` column is added to ``B-X``, ``E-X`` to
    ``I-X`` (the probability that a word begins, or continues, an X entity).  IOB2 names come back unchanged;
    a name of neither scheme is ``E412``.  Returns the names, the probabilities and what was converted (or None)."""
    from spanqa.core.errors import fail

    parsed: list[tuple[str, str | None]] = []
    for n in names:
        if n == "O":
            parsed.append(("O", None))
            continue
        prefix, _, label = n.partition("-")
        if prefix not in _TO_IOB2 or not label:
            raise fail("E412", f"class name {n!r} is not an IOB2, BIOES or BILOU tag (O, B-X, I-X, S-X, E-X, ...)",
                       path=where)
        parsed.append((prefix, label))
    if all(p in ("O", "B", "I") for p, _ in parsed):
        return names, probs, None
    out_names: list[str] = []
    col: dict[str, int] = {}
    for p, lab in parsed:
        t = "O" if p == "O" else f"{_TO_IOB2[p]}-{lab}"
        if t not in col:
            col[t] = len(out_names)
            out_names.append(t)
    for lab in sorted({lab for _, lab in parsed if lab}):  # every label gets both columns
        for t in (f"B-{lab}", f"I-{lab}"):
            if t not in col:
                col[t] = len(out_names)
                out_names.append(t)
    merged = np.zeros((len(probs), len(out_names)), np.float32)
    for j, (p, lab) in enumerate(parsed):
        merged[:, col["O" if p == "O" else f"{_TO_IOB2[p]}-{lab}"]] += probs[:, j]
    schemes = sorted({p for p, _ in parsed} - {"O", "B", "I"})
    return out_names, merged, f"class names {'/'.join(schemes)}- converted to IOB2 (S/U added to B, E/L to I)"


def _transitions(tags: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(allowed[prev, cur], allowed_start[cur])`` for IOB2."""
    parts = [split_tag(t) for t in tags]
    n = len(tags)
    allowed = np.ones((n, n), dtype=bool)
    start = np.ones(n, dtype=bool)
    for j, (pj, lj) in enumerate(parts):
        if pj == "I":
            start[j] = False
            for i, (pi, li) in enumerate(parts):
                allowed[i, j] = pi in ("B", "I") and li == lj
    return allowed, start


def viterbi(probs: np.ndarray, tags: list[str], seams: np.ndarray | None = None) -> list[int]:
    """The most probable IOB2-valid tag-index path under per-word marginals ``(n_words, n_tags)``.

    ``seams``: per word, the kind of seam before it (:func:`spanqa.model.edges.word_boundaries`); a path never
    puts a span edge where its seam forbids one."""
    n, k = probs.shape
    if n == 0:
        return []
    if k != len(tags):
        raise ValueError(f"probs have {k} columns for {len(tags)} tags")
    allowed, start = _transitions(tags)
    logp = np.log(np.clip(probs.astype(np.float64), 1e-12, 1.0))
    if seams is None:
        kinds = {0: np.where(allowed, 0.0, -np.inf)}
        seams = np.zeros(n, dtype=np.int8)
    else:
        from spanqa.model.edges import transition_masks

        kinds = {kind: np.where(mask, 0.0, -np.inf) for kind, mask in transition_masks(tags, allowed).items()}
    score = np.where(start, logp[0], -np.inf)
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + kinds[int(seams[t])]  # (prev, cur)
        back[t] = np.argmax(cand, axis=0)
        score = cand[back[t], np.arange(k)] + logp[t]
    path = [int(np.argmax(score))]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def decode(m: DocMarginals, tags: list[str], seams: np.ndarray | None = None) -> list[Span]:
    """Predicted spans of one document: constrained Viterbi over ``log(m.probs)``, IOB2.

    Spans are in the document's character offsets (first word's start to last
    word's end); ``Span.score`` is the mean marginal of the tags on the span's
    path.  Returned in document order.  ``seams`` (:func:`spanqa.model.edges.word_boundaries`)
    keeps span edges out of words.
    """
    path = viterbi(m.probs, tags, seams)
    first = {a: i for i, (a, _) in enumerate(m.words)}
    last = {b: i for i, (_, b) in enumerate(m.words)}
    spans = tags_to_spans(m.words, [tags[k] for k in path], doc_id=m.doc_id)  # the one BIO codec; path is valid
    return [s.evolve(score=float(np.mean([m.probs[t, path[t]] for t in range(first[s.start], last[s.end] + 1)])))
            for s in spans]


__all__ = ["DocMarginals", "OOFPredictions", "Range", "SPAN_FLOOR", "decode", "load_user_predictions",
           "marginals_from_spans", "to_iob2_columns", "viterbi"]
