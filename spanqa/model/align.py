"""Word <-> subword alignment and strided windows for the tagger.

Shapes and offsets
------------------
A document arrives as its *words*: half-open character ranges ``(start, end)``
into ``Document.text`` (:func:`spanqa.corpus.tokenize.doc_words`).  :func:`encode_words`
runs the **fast** tokenizer once over all words (``is_split_into_words=True``)
and derives from ``word_ids()``:

- ``word_subtokens[i]``: the subword ids of word ``i`` (at least one: a word the
  tokenizer drops entirely, such as a zero-width space, becomes ``[UNK]``);
- ``subword_chars``: ``(n_subtokens, 2)`` absolute character offsets of every
  subtoken (the tokenizer reports them relative to the word; we add the word start).

Only the **first** subtoken of a word carries its label; the others get ``-100``
(ignored by the loss) and are ignored at inference.

Windows
-------
A note with more subtokens than ``max_length`` (special tokens included) is
never truncated: it is cut into windows of whole words, neighbours sharing about
``stride`` subtokens (:func:`plan_windows`).  When sentence starts are given a
window prefers to end before a sentence and the next one to start at a sentence.
Each word is then *predicted exactly once*, from the window where it is farthest
from a window edge (:func:`assign_words`; document edges do not count as window
edges).  :class:`AlignmentError` is raised if that invariant ever breaks.

The only loss is a single word longer than a whole window (a pasted URL or
base64 blob): its trailing subtokens are cut (its label rides on the first one)
and a ``W401`` problem is recorded.

>>> plan = plan_windows([1] * 12, budget=6, stride=2)      # 12 one-subtoken words
>>> plan
[(0, 6), (4, 10), (8, 12)]
>>> assign_words(plan, [1] * 12).tolist()                  # shared words go to the window where they are central
[0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from spanqa.core.errors import Location, Problem, fail

Range = tuple[int, int]

#: label id that the loss ignores (non-first subtokens, special tokens, padding)
IGNORE = -100


class AlignmentError(RuntimeError):
    """Internal error: the window plan does not give every word exactly one prediction (a spanqa bug)."""


@dataclass(frozen=True)
class Window:
    """One model input: words ``[first_word, end_word)`` wrapped in special tokens.

    Attributes:
        input_ids: ``(L,)`` int64 subword ids, ``L <= max_length``.
        first_word, end_word: the half-open run of document word indices it holds.
        heads: ``(end_word - first_word,)`` int64 position in ``input_ids`` of each word's first subtoken.
    """

    input_ids: np.ndarray
    first_word: int
    end_word: int
    heads: np.ndarray

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    def labels(self, word_labels: np.ndarray) -> np.ndarray:
        """``(L,)`` int64 training labels: the word's label at its first subtoken, ``-100`` elsewhere.

        ``word_labels`` holds one label id per word of the whole document.
        """
        out = np.full(len(self), IGNORE, dtype=np.int64)
        out[self.heads] = word_labels[self.first_word:self.end_word]
        return out


@dataclass(frozen=True)
class DocEncoding:
    """A document's words as subwords, cut into windows, with one predicting window per word.

    Attributes:
        doc_id: the document's id.
        words: ``(n_words,)`` half-open character ranges.
        word_subtokens: per word, the subword ids used (capped to a window, never empty).
        subword_chars: ``(n_subtokens, 2)`` int64 absolute character offsets of the subtokens in
            ``word_subtokens`` order (an ``[UNK]`` stand-in spans its whole word).
        windows: the model inputs, in document order.
        owner: ``(n_words,)`` int64 index of the window whose prediction each word takes.
        problems: ``W401`` for words cut to fit a window.
    """

    doc_id: str
    words: tuple[Range, ...]
    word_subtokens: tuple[tuple[int, ...], ...]
    subword_chars: np.ndarray
    windows: tuple[Window, ...]
    owner: np.ndarray
    problems: tuple[Problem, ...] = ()

    @property
    def n_words(self) -> int:
        return len(self.words)

    def gather(self, window_probs: Sequence[np.ndarray]) -> np.ndarray:
        """Per-word rows from per-window, per-subtoken rows.

        ``window_probs[w]`` is ``(len(windows[w]), n_tags)``; the result is
        ``(n_words, n_tags)``: word ``i`` takes the row of its first subtoken in
        window ``owner[i]``.
        """
        if len(window_probs) != len(self.windows):
            raise AlignmentError(f"doc {self.doc_id}: {len(window_probs)} outputs for {len(self.windows)} windows")
        n_tags = window_probs[0].shape[1] if window_probs else 0
        out = np.empty((self.n_words, n_tags), dtype=np.float32)
        for w, (win, probs) in enumerate(zip(self.windows, window_probs)):
            idx = np.nonzero(self.owner == w)[0]
            out[idx] = probs[win.heads[idx - win.first_word]]
        return out


# --------------------------------------------------------------------------- tokenizer checks
def check_fast(tokenizer: Any) -> None:
    """Raise ``E404`` unless ``tokenizer`` is a fast (Rust-backed) tokenizer with word ids and offsets."""
    if not getattr(tokenizer, "is_fast", False):
        raise fail("E404", f"{type(tokenizer).__name__} cannot report word ids and character offsets")


def special_tokens(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ids the tokenizer puts before and after a single sequence (BERT: ``[CLS]`` / ``[SEP]``)."""
    enc = tokenizer(["a"], is_split_into_words=True, add_special_tokens=True)
    ids, wids = enc["input_ids"], enc.word_ids()
    content = [i for i, w in enumerate(wids) if w is not None]
    return tuple(ids[:content[0]]), tuple(ids[content[-1] + 1:])


# --------------------------------------------------------------------------- windows
def plan_windows(counts: Sequence[int], *, budget: int, stride: int,
                 sentence_starts: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Cut words into runs ``[first, end)`` of at most ``budget`` subtokens, sharing about ``stride``.

    ``counts[i]`` is word ``i``'s subtoken count (each ``<= budget``).  Windows
    are cut at word edges; the next window starts as far back as keeps the shared
    part within ``stride`` subtokens, but always after the previous start and so
    that it still reaches past the previous end.  With
    ``sentence_starts`` (word indices) a window ends before the last sentence
    start that keeps it at least half full, and the next starts at the earliest
    sentence start inside the shared part.
    """
    n = len(counts)
    if n == 0:
        return []
    if max(counts) > budget:
        raise AlignmentError(f"a word has {max(counts)} subtokens, more than the window budget {budget}")
    cum = np.concatenate([[0], np.cumsum(counts)])
    starts = sorted(set(int(s) for s in sentence_starts if 0 < s < n))
    windows: list[tuple[int, int]] = []
    s = 0
    while True:
        e = int(np.searchsorted(cum, cum[s] + budget, side="right")) - 1  # largest e with cum[e]-cum[s] <= budget
        e = min(e, n)
        if e < n and starts:
            lo = bisect.bisect_left(starts, s + 1)
            hi = bisect.bisect_right(starts, e)
            cands = [b for b in starts[lo:hi] if cum[b] - cum[s] >= budget // 2]
            if cands:
                e = cands[-1]
        windows.append((s, e))
        if e >= n:
            return windows
        ns = e
        while ns - 1 > s and cum[e] - cum[ns - 1] <= stride and cum[e + 1] - cum[ns - 1] <= budget:
            ns -= 1
        if starts:
            lo = bisect.bisect_left(starts, ns)
            if lo < len(starts) and starts[lo] < e and starts[lo] > s:
                ns = starts[lo]
        s = ns


def assign_words(windows: Sequence[tuple[int, int]], counts: Sequence[int]) -> np.ndarray:
    """For each word, the window where it has the most context on its nearer side.

    A word's context in a window is ``min(subtokens before it, subtokens after
    it)`` within the window, where a side that reaches the document edge counts as
    unlimited.  Ties go to the earlier window.  Returns ``(n_words,)`` int64.
    """
    n = len(counts)
    cum = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    best = np.full(n, -1, dtype=np.int64)
    score = np.full(n, -1, dtype=np.int64)
    big = np.iinfo(np.int64).max
    for w, (s, e) in enumerate(windows):
        idx = np.arange(s, e)
        left = cum[idx] - cum[s] if s > 0 else np.full(e - s, big)
        right = cum[e] - cum[idx + 1] if e < n else np.full(e - s, big)
        ctx = np.minimum(left, right)
        better = ctx > score[idx]
        best[idx[better]] = w
        score[idx[better]] = ctx[better]
    _verify(windows, best, n)
    return best


def _verify(windows: Sequence[tuple[int, int]], owner: np.ndarray, n: int) -> None:
    if owner.shape != (n,) or (n and owner.min() < 0):
        missing = np.nonzero(owner < 0)[0].tolist()[:10]
        raise AlignmentError(f"internal error: words {missing} are in no window; please report this spanqa bug")
    prev_end = 0
    for s, e in windows:
        if not (s < e and s <= prev_end and e > prev_end):
            raise AlignmentError(f"internal error: window plan {windows} leaves a gap or does not advance")
        prev_end = e
    if windows and prev_end != n:
        raise AlignmentError(f"internal error: windows end at word {prev_end} of {n}")
    for i, w in enumerate(owner):
        s, e = windows[w]
        if not s <= i < e:
            raise AlignmentError(f"internal error: word {i} is predicted from window {w} = {s, e} that lacks it")


# --------------------------------------------------------------------------- encoding
def sentence_word_starts(words: Sequence[Range], sentences: Sequence[Range]) -> list[int]:
    """Index of the first word of each sentence (sentences as half-open character ranges)."""
    starts = [a for a, _ in words]
    out = {bisect.bisect_left(starts, a) for a, _ in sentences}
    return sorted(i for i in out if 0 < i < len(words))


def encode_words(tokenizer: Any, text: str, words: Sequence[Range], *, doc_id: str, max_length: int,
                 stride: int, sentence_starts: Sequence[int] = (),
                 specials: tuple[tuple[int, ...], tuple[int, ...]] | None = None) -> DocEncoding:
    """Encode one document's words into windows of at most ``max_length`` subtokens.

    ``words`` are half-open character ranges into ``text``; ``stride`` is the
    number of subtokens neighbouring windows share; ``sentence_starts`` are word
    indices where sentences begin (optional, improves window cuts).
    """
    check_fast(tokenizer)
    prefix, suffix = specials if specials is not None else special_tokens(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    if budget < 1:
        raise fail("E402", f"max_length {max_length} leaves no room next to {len(prefix) + len(suffix)} special tokens",
                   key="train.max_length")
    words = tuple((int(a), int(b)) for a, b in words)
    n = len(words)
    per_word: list[list[int]] = [[] for _ in range(n)]
    per_chars: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    if n:
        enc = tokenizer([text[a:b] for a, b in words], is_split_into_words=True, add_special_tokens=False,
                        return_offsets_mapping=True, truncation=False, verbose=False)
        for tok_id, wid, (ra, rb) in zip(enc["input_ids"], enc.word_ids(), enc["offset_mapping"]):
            if wid is None:
                continue
            a = words[wid][0]
            per_word[wid].append(int(tok_id))
            per_chars[wid].append((a + ra, a + rb))
    problems: list[Problem] = []
    unk = tokenizer.unk_token_id
    for i, (a, b) in enumerate(words):
        if not per_word[i]:
            if unk is None:
                raise fail("E404", f"the tokenizer has no unknown token for word {text[a:b]!r}",
                           doc_id=doc_id, start=a, end=b)
            per_word[i], per_chars[i] = [unk], [(a, b)]
        elif len(per_word[i]) > budget:
            problems.append(Problem("W401", Location(doc_id=doc_id, start=a, end=b, excerpt=text[a:b]),
                                    f"{len(per_word[i])} subtokens cut to the window's {budget}"))
            per_word[i], per_chars[i] = per_word[i][:budget], per_chars[i][:budget]
    counts = [len(p) for p in per_word]
    plan = plan_windows(counts, budget=budget, stride=stride, sentence_starts=sentence_starts)
    owner = assign_words(plan, counts)
    windows = []
    for s, e in plan:
        ids = list(prefix)
        heads = []
        for i in range(s, e):
            heads.append(len(ids))
            ids.extend(per_word[i])
        ids.extend(suffix)
        windows.append(Window(np.asarray(ids, dtype=np.int64), s, e, np.asarray(heads, dtype=np.int64)))
    chars = np.asarray([c for cs in per_chars for c in cs], dtype=np.int64).reshape(-1, 2)
    return DocEncoding(doc_id, words, tuple(tuple(p) for p in per_word), chars, tuple(windows), owner, tuple(problems))


__all__ = ["AlignmentError", "DocEncoding", "IGNORE", "Range", "Window", "assign_words", "check_fast", "encode_words",
           "plan_windows", "sentence_word_starts", "special_tokens"]
