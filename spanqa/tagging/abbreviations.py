"""Abbreviations defined in a document, found as Schwartz & Hearst (2003) find them.

Biomedical and clinical writing defines a short form once - "Angelman syndrome (AS)" - and then
uses it alone: "AS patients".  Judged alone, "AS" is two letters; judged as what it abbreviates,
it is a disease.  :func:`find_definitions` finds ``long form (SHORT FORM)`` pairs with the
Schwartz-Hearst rules:

- the short form is the parenthesised text: 2-10 characters, at most two words, a letter in
  it, starting with a letter or digit;
- the long form is searched among the at most ``min(len(SF) + 5, 2 * len(SF))`` words before the
  parenthesis, within its sentence: every character of the short form (letters and digits, case-insensitive) must
  match a character of the long form, right to left, and the short form's first character must
  start a word of the long form; the shortest such long form wins.

:func:`abbreviation_links` maps every whole-word occurrence of a defined short form (inside the
definition and after it) to its long form's word range, on the tagger's words.  Nothing here reads
a label: the links come from the text alone.

>>> text = "Angelman syndrome (AS) is rare. AS patients and non-AS controls."
>>> [(text[a:b], text[c:d]) for a, b, c, d in find_definitions(text)]
[('AS', 'Angelman syndrome')]
>>> find_definitions("the heart rate (HR) rose")[0][2:] == (4, 14)
True
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

Range = tuple[int, int]
_PAREN = re.compile(r"\(([^()]{1,12})\)")
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.;:!?]\s|\n")


def _short_form_ok(sf: str) -> bool:
    return (2 <= len(sf) <= 10 and len(sf.split()) <= 2 and any(c.isalpha() for c in sf)
            and sf[0].isalnum())


def _long_form_start(sf: str, lf: str) -> int | None:
    """Schwartz-Hearst ``findBestLongForm``: the start (in ``lf``) of the shortest long form ending at ``lf``'s end
    that the short form matches, or None."""
    s = len(sf) - 1
    l = len(lf) - 1
    while s >= 0:
        c = sf[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while l >= 0 and (lf[l].lower() != c or (s == 0 and l > 0 and lf[l - 1].isalnum())):
            l -= 1
        if l < 0:
            return None
        l -= 1
        s -= 1
    start = lf.rfind(" ", 0, l + 1) + 1
    return start


def find_definitions(text: str) -> list[tuple[int, int, int, int]]:
    """``(sf_start, sf_end, lf_start, lf_end)`` character ranges of every ``long form (SF)`` definition."""
    out = []
    for m in _PAREN.finditer(text):
        sf = m.group(1).strip()
        if not _short_form_ok(sf):
            continue
        sf_start = m.start(1) + m.group(1).index(sf)
        before = text[:m.start()].rstrip()
        cut = max((x.end() for x in _SENTENCE_END.finditer(before)), default=0)   # a long form stays in its sentence
        words = [w for w in _WORD.finditer(before) if w.start() >= cut]
        limit = min(len(sf) + 5, 2 * len(sf))
        window = words[-limit:] if words else []
        if not window:
            continue
        base = window[0].start()
        lf_text = before[base:]
        start = _long_form_start(sf, lf_text)
        if start is None:
            continue
        lf_start = base + start
        lf_end = len(before)
        while lf_end > lf_start and not text[lf_end - 1].isalnum():   # "syndrome," -> "syndrome"
            lf_end -= 1
        if lf_end - lf_start <= len(sf) or text[lf_start:lf_end].lower() == sf.lower():
            continue
        out.append((sf_start, sf_start + len(sf), lf_start, lf_end))
    return out


def abbreviation_links(text: str, words: Sequence[Range]) -> dict[int, Range]:
    """Word index of every whole-word occurrence of a defined short form -> its long form's word range ``[a, b)``.

    A short form occurrence must be exactly one word of ``words`` (case-sensitive); occurrences before the
    definition are linked too (titles often use the short form first).  Long forms must start and end on word
    edges.  When a short form is defined twice the first definition wins.
    """
    starts = {a: i for i, (a, _) in enumerate(words)}
    ends = {b: i + 1 for i, (_, b) in enumerate(words)}
    links: dict[int, Range] = {}
    defined: dict[str, Range] = {}
    for sf_a, sf_b, lf_a, lf_b in find_definitions(text):
        sf = text[sf_a:sf_b]
        if sf in defined:
            continue
        a, b = starts.get(lf_a), ends.get(lf_b)
        if a is None or b is None or a >= b:
            continue
        defined[sf] = (a, b)
    if not defined:
        return links
    for i, (a, b) in enumerate(words):
        lf = defined.get(text[a:b])
        if lf is not None and not lf[0] <= i < lf[1]:
            links[i] = lf
    return links


def share_long_form_features(features: np.ndarray, links: dict[int, Range]) -> np.ndarray:
    """Word features where each linked short form's row is the mean of its own row and its long form's mean row
    (a copy; ``features`` itself when there is no link).

    >>> share_long_form_features(np.array([[1.0, 1.0], [3.0, 5.0], [0.0, 0.0]]), {2: (0, 2)}).tolist()
    [[1.0, 1.0], [3.0, 5.0], [1.0, 1.5]]
    """
    if not links:
        return features
    out = np.array(features, copy=True)
    for i, (a, b) in links.items():
        lf = features[a:b].astype(np.float32).mean(axis=0)
        out[i] = (0.5 * (features[i].astype(np.float32) + lf)).astype(features.dtype)
    return out


__all__ = ["abbreviation_links", "find_definitions", "share_long_form_features"]
