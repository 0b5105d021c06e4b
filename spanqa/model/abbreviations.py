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
>>> t = "in Cowden disease (CD; MIM 158350) and adult onset globoid cell leukodystrophy (Krabbe disease; AO-GLD)"
>>> [(t[a:b], t[c:d]) for a, b, c, d in find_definitions(t)]
[('CD', 'Cowden disease'), ('AO-GLD', 'adult onset globoid cell leukodystrophy')]
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

Range = tuple[int, int]
_PAREN = re.compile(r"\(([^()]{1,60})\)")
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.;:!?]\s|\n")


def _short_form_ok(sf: str) -> bool:
    return (2 <= len(sf) <= 10 and len(sf.split()) <= 2 and any(c.isalpha() for c in sf)
            and sf[0].isalnum())


def _long_form_start(sf: str, lf: str) -> int | None:
    """Schwartz-Hearst ``findBestLongForm``: the start (in ``lf``) of the shortest long form ending at ``lf``'s end
    that the short form matches, or None."""
    s = len(sf) - 1
    j = len(lf) - 1
    while s >= 0:
        c = sf[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while j >= 0 and (lf[j].lower() != c or (s == 0 and j > 0 and lf[j - 1].isalnum())):
            j -= 1
        if j < 0:
            return None
        j -= 1
        s -= 1
    start = lf.rfind(" ", 0, j + 1) + 1
    return start


def find_definitions(text: str) -> list[tuple[int, int, int, int]]:
    """``(sf_start, sf_end, lf_start, lf_end)`` character ranges of every ``long form (SF)`` definition."""
    out = []
    for m in _PAREN.finditer(text):
        before = text[:m.start()].rstrip()
        cut = max((x.end() for x in _SENTENCE_END.finditer(before)), default=0)   # a long form stays in its sentence
        words = [w for w in _WORD.finditer(before) if w.start() >= cut]
        offset = m.start(1)
        for part in re.split(r"([;,])", m.group(1)):      # "(CD; MIM 158350)", "(Krabbe disease; AO-GLD)"
            sf = part.strip()
            here = offset + (part.index(sf) if sf else 0)
            offset += len(part)
            if not _short_form_ok(sf):
                continue
            found = _definition(text, before, words, sf)
            if found is not None:
                out.append((here, here + len(sf), *found))
                break
    return out


def _definition(text: str, before: str, words: list, sf: str) -> tuple[int, int] | None:
    limit = min(len(sf) + 5, 2 * len(sf))
    window = words[-limit:]
    if not window:
        return None
    base = window[0].start()
    start = _long_form_start(sf, before[base:])
    if start is None:
        return None
    lf_start, lf_end = base + start, len(before)
    while lf_end > lf_start and not text[lf_end - 1].isalnum():   # "syndrome," -> "syndrome"
        lf_end -= 1
    if lf_end - lf_start <= len(sf) or text[lf_start:lf_end].lower() == sf.lower():
        return None
    return lf_start, lf_end


def abbreviation_links(text: str, words: Sequence[Range]) -> dict[Range, Range]:
    """Word range ``[a, b)`` of every whole-word occurrence of a defined short form -> its long form's word range.

    An occurrence must start and end on word edges (``A-T`` may be three words); it is found case-sensitively, not
    inside a longer alphanumeric run, also before the definition (titles often use the short form first), never
    inside its own long form.  Long forms must start and end on word edges.  When a short form is defined twice
    the first definition wins.
    """
    starts = {a: i for i, (a, _) in enumerate(words)}
    ends = {b: i + 1 for i, (_, b) in enumerate(words)}
    defined: dict[str, Range] = {}
    for sf_a, sf_b, lf_a, lf_b in find_definitions(text):
        sf = text[sf_a:sf_b]
        a, b = starts.get(lf_a), ends.get(lf_b)
        if sf in defined or a is None or b is None or a >= b:
            continue
        defined[sf] = (a, b)
    links: dict[Range, Range] = {}
    for sf, lf in defined.items():
        for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(sf)}(?![A-Za-z0-9])", text):
            a, b = starts.get(m.start()), ends.get(m.end())
            if a is not None and b is not None and not (lf[0] <= a < lf[1]):
                links[(a, b)] = lf
    return dict(sorted(links.items()))


def share_long_form_features(features: np.ndarray, links: dict[Range, Range]) -> np.ndarray:
    """Word features where each word of a linked short form reads the mean of its own row and its long form's mean
    row (a copy; ``features`` itself when there is no link; for rows of the feature file,
    :class:`spanqa.model.featurefile.Rows`, the same rows with the linked ones replaced, nothing else read).

    >>> share_long_form_features(np.array([[1.0, 1.0], [3.0, 5.0], [0.0, 0.0]]), {(2, 3): (0, 2)}).tolist()
    [[1.0, 1.0], [3.0, 5.0], [1.0, 1.5]]
    """
    if not links:
        return features
    if not isinstance(features, np.ndarray):  # rows read from the feature file: only the linked rows are kept
        idx, rows = [], []
        for (a, b), (lo, hi) in links.items():
            lf = np.asarray(features[lo:hi]).astype(np.float32).mean(axis=0)
            idx.append(np.arange(a, b))
            rows.append((0.5 * (np.asarray(features[a:b]).astype(np.float32) + lf)).astype(features.dtype))
        return features.replaced(np.concatenate(idx), np.concatenate(rows))
    out = np.array(features, copy=True)
    for (a, b), (lo, hi) in links.items():
        lf = features[lo:hi].astype(np.float32).mean(axis=0)
        out[a:b] = (0.5 * (features[a:b].astype(np.float32) + lf)).astype(features.dtype)
    return out


__all__ = ["abbreviation_links", "find_definitions", "share_long_form_features"]
