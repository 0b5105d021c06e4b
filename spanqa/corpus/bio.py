"""The project's single BIO codec: spans <-> per-word tags, in IOB1, IOB2 and BIOES.

Words are half-open character ranges ``(start, end)`` in document order (see
:func:`spanqa.corpus.tokenize.doc_words`); spans are :class:`~spanqa.core.span.Span` with
character offsets.  Tags are strings ``"O"`` or ``"P-LABEL"``.

Schemes are data, not if-chains:

- ``IOB2``: every entity starts with ``B-``, continues with ``I-``.
- ``IOB1``: entities are ``I-``; ``B-`` only marks an entity that directly follows
  another entity of the same label.
- ``BIOES``: ``S-`` single-word entity, ``B-``/``I-``/``E-`` begin/inside/end.

Decoding is lenient and never silent: an ``I-`` (or ``E-``) that cannot continue
the previous entity starts a new one, and ``on_repair(word_index, tag)`` is called
so readers can report ``W104``.

>>> words = [(0, 7), (8, 10), (10, 12), (13, 15)]          # "aspirin 81mg PO" split 81|mg
>>> tags_to_spans(words, ["B-Drug", "B-Strength", "I-Strength", "O"], doc_id="d")
[Span(doc_id='d', start=0, end=7, label='Drug', fragments=None, id=None, annotator=None, score=None, meta={}), Span(doc_id='d', start=8, end=12, label='Strength', fragments=None, id=None, annotator=None, score=None, meta={})]
>>> convert_tags(["B-X", "I-X", "B-X", "O", "B-Y"], "IOB2", "BIOES")
['B-X', 'E-X', 'S-X', 'O', 'S-Y']
>>> convert_tags(["B-X", "I-X", "B-X", "O", "B-Y"], "IOB2", "IOB1")
['I-X', 'I-X', 'B-X', 'O', 'I-Y']
"""

from __future__ import annotations

from typing import Callable, Iterable, Literal, Sequence

from spanqa.core.span import Span

Scheme = Literal["IOB1", "IOB2", "BIOES"]
Range = tuple[int, int]

SCHEMES: tuple[str, ...] = ("IOB1", "IOB2", "BIOES")
#: prefixes each scheme allows
PREFIXES: dict[str, frozenset[str]] = {
    "IOB1": frozenset("BI"),
    "IOB2": frozenset("BI"),
    "BIOES": frozenset("BIES"),
}


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-Drug"`` -> ``("B", "Drug")``; ``"O"`` -> ``("O", None)``.  Labels may contain ``-``."""
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or not label:
        raise ValueError(f"malformed tag {tag!r}: expected 'O' or 'PREFIX-LABEL'")
    return prefix, label


def validate_tag(tag: str, scheme: Scheme = "IOB2") -> bool:
    """True when ``tag`` is ``"O"`` or ``P-LABEL`` with a prefix the scheme allows."""
    _check_scheme(scheme)
    if tag == "O":
        return True
    prefix, sep, label = tag.partition("-")
    return bool(sep) and bool(label) and prefix in PREFIXES[scheme]


def tag_inventory(labels: Iterable[str]) -> list[str]:
    """The IOB2 tag set used by the tagger: ``["O", "B-A", "I-A", "B-B", "I-B", ...]``, labels sorted."""
    tags = ["O"]
    for label in sorted(set(labels)):
        tags += [f"B-{label}", f"I-{label}"]
    return tags


def _check_scheme(scheme: str) -> None:
    if scheme not in PREFIXES:
        raise ValueError(f"unknown tagging scheme {scheme!r}; use one of {SCHEMES}")


def _covered(words: Sequence[Range], span: Span) -> list[int]:
    """Indices of the words a span covers: every word that overlaps its hull.

    When a span edge falls inside a word the word is included (the span is widened
    to word edges); :func:`spanqa.corpus.tokenize.doc_words` splits words at annotation
    edges first so that this does not happen for gold spans.
    """
    return [i for i, (a, b) in enumerate(words) if a < span.end and span.start < b]


def spans_to_tags(words: Sequence[Range], spans: Iterable[Span], *, scheme: Scheme = "IOB2",
                  on_drop: Callable[[Span], None] | None = None) -> list[str]:
    """Tag each word for ``spans`` (flat: overlapping spans cannot all be tagged).

    Longest spans are placed first; a span that would share a word with an already
    placed one is dropped and passed to ``on_drop``.  A span covering no word
    (e.g. only whitespace) is dropped likewise.
    """
    _check_scheme(scheme)
    owner: list[int | None] = [None] * len(words)
    placed: list[tuple[list[int], str]] = []
    ordered = sorted(spans, key=lambda s: (-(s.end - s.start), s.start, s.label))
    for span in ordered:
        idx = _covered(words, span)
        if not idx or any(owner[i] is not None for i in idx):
            if on_drop is not None:
                on_drop(span)
            continue
        for i in idx:
            owner[i] = len(placed)
        placed.append((idx, span.label))
    tags = ["O"] * len(words)
    placed.sort(key=lambda p: p[0][0])
    prev_end, prev_label = -2, None
    for idx, label in placed:
        first, last = idx[0], idx[-1]
        if scheme == "IOB2":
            tags[first] = f"B-{label}"
            for i in idx[1:]:
                tags[i] = f"I-{label}"
        elif scheme == "IOB1":
            adjacent_same = prev_end == first - 1 and prev_label == label
            for i in idx:
                tags[i] = f"I-{label}"
            if adjacent_same:
                tags[first] = f"B-{label}"
        else:  # BIOES
            if first == last:
                tags[first] = f"S-{label}"
            else:
                tags[first] = f"B-{label}"
                for i in idx[1:-1]:
                    tags[i] = f"I-{label}"
                tags[last] = f"E-{label}"
        prev_end, prev_label = last, label
    return tags


def to_iob2(tags: Sequence[str], scheme: Scheme = "IOB2",
            on_repair: Callable[[int, str], None] | None = None) -> list[str]:
    """Rewrite ``tags`` from ``scheme`` to IOB2, repairing invalid continuations.

    A continuation (``I-``/``E-``) whose previous tag is not part of an entity of
    the same label starts a new entity; in IOB2 and BIOES that is a repair and
    ``on_repair(i, tag)`` is called; in IOB1 it is the normal encoding.  In BIOES a
    ``B-``/``I-`` entity that no ``E-`` closes ends at its last word, also a repair.
    """
    _check_scheme(scheme)
    if on_repair is not None:  # one call per word, even when it is both a bad start and unclosed
        calls: set[int] = set()
        user = on_repair

        def on_repair(i: int, tag: str) -> None:
            if i not in calls:
                calls.add(i)
                user(i, tag)
    out: list[str] = []
    prev_label: str | None = None
    prev_open = False  # can the entity of the previous word be continued?
    for i, tag in enumerate(tags):
        prefix, label = split_tag(tag)
        if scheme == "BIOES" and prev_open and on_repair is not None \
                and not (prefix in ("I", "E") and label == prev_label):
            on_repair(i - 1, tags[i - 1])  # a B-/I- entity that no E- closes ends at the previous word
        if prefix == "O":
            out.append("O")
            prev_label, prev_open = None, False
            continue
        if prefix not in PREFIXES[scheme]:
            raise ValueError(f"tag {tag!r} at word {i} is not valid in {scheme}")
        continues = prev_open and prev_label == label
        if prefix in ("B", "S"):
            out.append(f"B-{label}")
        elif continues:  # I or E continuing the open entity
            out.append(f"I-{label}")
        else:
            if scheme != "IOB1" and on_repair is not None:
                on_repair(i, tag)
            out.append(f"B-{label}")
        prev_label = label
        prev_open = prefix in ("B", "I")  # E- and S- close the entity
        if scheme != "BIOES":
            prev_open = True
    if scheme == "BIOES" and prev_open and on_repair is not None:
        on_repair(len(tags) - 1, tags[-1])
    return out


def tags_to_spans(words: Sequence[Range], tags: Sequence[str], *, doc_id: str, scheme: Scheme = "IOB2",
                  on_repair: Callable[[int, str], None] | None = None) -> list[Span]:
    """Decode per-word ``tags`` into character spans over ``words`` (same length)."""
    if len(words) != len(tags):
        raise ValueError(f"{len(words)} words but {len(tags)} tags in document {doc_id!r}")
    iob2 = to_iob2(tags, scheme, on_repair)
    spans: list[Span] = []
    start_i: int | None = None
    label: str | None = None

    def close(end_i: int) -> None:
        spans.append(Span(doc_id, words[start_i][0], words[end_i][1], label))  # type: ignore[index,arg-type]

    for i, tag in enumerate(iob2):
        prefix, lab = split_tag(tag)
        if prefix == "B" or prefix == "O":
            if start_i is not None:
                close(i - 1)
                start_i, label = None, None
            if prefix == "B":
                start_i, label = i, lab
    if start_i is not None:
        close(len(iob2) - 1)
    return spans


def convert_tags(tags: Sequence[str], src: Scheme, dst: Scheme) -> list[str]:
    """Re-encode a tag sequence from one scheme to another (entities unchanged)."""
    words = [(i, i + 1) for i in range(len(tags))]
    spans = tags_to_spans(words, tags, doc_id="", scheme=src)
    return spans_to_tags(words, spans, scheme=dst)


__all__ = ["PREFIXES", "Range", "SCHEMES", "Scheme", "convert_tags", "spans_to_tags", "split_tag", "tag_inventory",
           "tags_to_spans", "to_iob2", "validate_tag"]
