"""What detectors are scored against: the real corrections of a corpus.

A **change** is one non-``exact`` component of ``compare_corpora(original, corrected)`` -
exactly the records of the corpus maintainers' ``diffs/*.jsonl``.  Its range is the hull of
the component's spans on both sides (the corrected side mapped into the original text), in
half-open character offsets of the **original** document.  Every change has a *kind group*:

==============  ===================================================
group           comparator kinds
==============  ===================================================
``type``        ``type``
``boundary``    ``boundary``, ``boundary_type``
``split_merge`` ``split``, ``merge``, ``complex``
``missing``     ``missing`` (an entity the original lacks)
``spurious``    ``spurious`` (an entity the original should not have)
==============  ===================================================

:func:`corrected_word_tags` gives, per original document, the corrected labels as one IOB2
tag per word: cleanlab's benchmark marks a sentence as erroneous when any of its token labels
differs between the original and the corrected file, and ``--protocol cleanlab`` reproduces that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from spanqa._moved import renamed
from spanqa.compare.comparison import Comparison, Kind
from spanqa.corpus.bio import spans_to_tags

#: the kind groups, in table order
GROUPS: tuple[str, ...] = ("type", "boundary", "split_merge", "missing", "spurious")
#: comparator kind -> kind group
KIND_GROUP: dict[str, str] = {"type": "type", "boundary": "boundary", "boundary_type": "boundary",
                              "split": "split_merge", "merge": "split_merge", "complex": "split_merge",
                              "missing": "missing", "spurious": "spurious"}
Range = tuple[int, int]


@dataclass(frozen=True)
class Correction:
    """One real correction: ``[start, end)`` in the original text, its kind group and comparator kind."""

    doc_id: str
    start: int
    end: int
    group: str
    kind: str = ""


def changes_from_comparison(cmp: Comparison) -> list[Correction]:
    """Every non-``exact`` component of ``compare_corpora(original, corrected)`` as a :class:`Correction`."""
    out = []
    for c in cmp.components:
        if c.kind is Kind.EXACT:
            continue
        spans = c.labels + c.other
        out.append(Correction(c.doc_id, min(s.start for s in spans), max(s.end for s in spans),
                          KIND_GROUP[c.kind.value], c.kind.value))
    return out


def corrected_word_tags(cmp: Comparison, words: Mapping[str, Sequence[Range]]) -> dict[str, list[str]]:
    """Per compared document with words: the corrected side's spans (mapped into the original text) as IOB2 tags
    over ``words[doc_id]``."""
    other: dict[str, list] = {d.doc_id: [] for d in cmp.docs}
    for c in cmp.components:
        other[c.doc_id].extend(c.other)
    return {d: spans_to_tags(words[d], spans) for d, spans in other.items() if d in words}


__all__ = ["Correction", "GROUPS", "KIND_GROUP", "changes_from_comparison", "corrected_word_tags"]

__getattr__ = renamed(__name__, {"Change": "Correction"})  # old names, for one release
