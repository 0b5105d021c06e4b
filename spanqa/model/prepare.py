"""Documents made ready for the tagger: words, gold tag ids, windows of subtokens, and the order a run takes them in.

:func:`prepare` encodes each document (:func:`spanqa.model.align.encode_words`) into a :class:`PreparedDoc`;
annotated documents get one IOB2 tag id per word, overlapping gold spans that cannot all be tagged flat are
dropped (``W403``) and counted.  :func:`run_order` is the order in which a run prepares and encodes the documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem
from spanqa.core.span import Span
from spanqa.corpus.bio import spans_to_tags
from spanqa.model.align import DocEncoding, encode_words, sentence_word_starts, special_tokens

__all__ = ["PreparedDoc", "prepare", "run_order"]


@dataclass(frozen=True)
class PreparedDoc:
    """A document ready for the tagger: its encoding and, when annotated, one tag id per word."""

    doc: Document
    enc: DocEncoding
    labels: np.ndarray | None  # (n_words,) int64 tag ids, None when not annotated
    sentence_starts: tuple[int, ...] = ()  # word indices where sentences begin (after the first)
    ortho: np.ndarray | None = None  # (n_words, n_ids) hashed orthographic ids (fast.orthography), else None


def _words(doc: Document) -> tuple[tuple[tuple[int, int], ...], list[int]]:
    from spanqa.corpus.tokenize import doc_words, sentence_ranges

    words = doc_words(doc)
    # sentences of the text alone: the rule would otherwise avoid breaks inside gold spans,
    # and the windows of a held-out document must not depend on its gold annotation
    starts = sentence_word_starts(words.ranges, sentence_ranges(doc.evolve(spans=None), words))
    return tuple(words.ranges), starts


def prepare(docs: Sequence[Document], tags: Sequence[str], tokenizer: Any, config: AuditConfig
            ) -> tuple[list[PreparedDoc], list[Problem], dict[str, int]]:
    """Encode every document; returns prepared docs, problems (W401, W403) and dropped-span counts per doc."""
    tag_id = {t: i for i, t in enumerate(tags)}
    specials = special_tokens(tokenizer)
    out: list[PreparedDoc] = []
    problems: list[Problem] = []
    dropped: dict[str, int] = {}
    for doc in docs:
        words, starts = _words(doc)
        enc = encode_words(tokenizer, doc.text, words, doc_id=doc.id, max_length=config.train.max_length,
                           stride=config.train.stride, sentence_starts=starts, specials=specials)
        problems.extend(enc.problems)
        labels = None
        if doc.spans is not None:
            lost: list[Span] = []
            word_tags = spans_to_tags(words, doc.spans, scheme="IOB2", on_drop=lost.append)
            for s in lost:
                problems.append(Problem("W403", Location(doc_id=doc.id, start=s.start, end=s.end,
                                                         excerpt=doc.text[s.start:s.end]), f"{s.label} span"))
            if lost:
                dropped[doc.id] = len(lost)
            labels = np.asarray([tag_id[t] for t in word_tags], dtype=np.int64)
        ortho = None
        if config.train.mode == "fast" and config.fast.orthography:
            from spanqa.model.orthography import attribute_ids

            ortho = attribute_ids([doc.text[a:b] for a, b in words], buckets=config.fast.ortho_buckets,
                                  sentence_starts=[0, *starts])
        out.append(PreparedDoc(doc, enc, labels, tuple(starts), ortho))
    return out, problems, dropped


def run_order(corpus: Corpus) -> list[Document]:
    """Documents in the order a run prepares and encodes them: the annotated ones, then the unannotated."""
    return [d for d in corpus.documents if d.spans is not None] + [d for d in corpus.documents if d.spans is None]
