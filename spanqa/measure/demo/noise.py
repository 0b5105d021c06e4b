"""Inject annotation errors into clean demo notes, and say exactly what was injected.

:func:`inject_errors` returns a noisy copy of the documents and a *manifest*:
one dict per injected error, shaped ::

    {"id": "e0001", "doc_id": "p012_n2", "kind": "split", "detail": "joined",
     "systematic": False, "annotator": "ann_A",
     "clean": [{"start", "end", "label", "text"}, ...],   # the gold spans involved
     "noisy": [{"start", "end", "label", "text"}, ...],   # what the noisy side has instead
     "description": 'one Drug span "aspirin 81mg" covers Drug "aspirin" and Strength "81mg"'}

Kinds are named as :func:`spanqa.compare.comparison.compare_spans` names a component
when the *noisy* annotation is the one under audit (its spans are the labels,
the clean spans the reference):

============ ============================================================ ======================
kind         what the noisy side did                                      example
============ ============================================================ ======================
``split``    one span covers two adjacent entities (the fix splits it)    Drug "aspirin 81mg"
``merge``    one entity annotated as two pieces (the fix merges them)     "q6h" + "prn"
``boundary`` same label, edges moved: ``detail`` ``cut_short`` or         Problem "pneumonia" for
             ``over_extended``                                            "community-acquired pneumonia"
``type``     same edges, wrong label (plausible confusions only)          Strength "500 mg" as Value
``missing``  an entity left out                                           no span on "metformin"
``spurious`` a look-alike non-entity labelled                             Route on "PO" in "PO intake"
============ ============================================================ ======================

One annotator (``ann_B``) also has a *systematic* confusion: in every note they
annotated, every Frequency is labelled Route; each is a ``type`` entry with
``"systematic": true``.  Every noisy span carries its annotator in
``Span.annotator`` and every noisy document in ``Document.meta["annotator"]``.

Errors never touch each other: the spans of one error (clean and noisy) overlap
no span of another error and no untouched clean span, so each manifest entry is
exactly one non-exact component of the comparison, and removing the entry's
``noisy`` spans from the noisy document and adding its ``clean`` spans back
gives the clean document.  Every noisy span edge is a word edge of
:func:`spanqa.corpus.tokenize.tokenize`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from random import Random
from typing import Any, Literal, Sequence

from spanqa.core.document import Document
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.tokenize import tokenize
from spanqa.measure.demo import vocab as V

Kind = Literal["split", "merge", "boundary", "type", "missing", "spurious"]
KINDS: tuple[Kind, ...] = ("split", "merge", "boundary", "type", "missing", "spurious")

#: Share of the random (non-systematic) errors per kind.
KIND_SHARES: dict[str, float] = {"type": 0.22, "boundary": 0.26, "missing": 0.18, "spurious": 0.12,
                                 "split": 0.14, "merge": 0.08}

#: Plausible label confusions for ``type`` errors: clean label -> noisy labels.
TYPE_CONFUSIONS: dict[str, tuple[str, ...]] = {
    "Strength": ("Value",), "Value": ("Strength",),
    "Problem": ("Test",), "Test": ("Problem",),
    "Route": ("Form", "Frequency"), "Form": ("Route",),
    "Frequency": ("Route",), "Drug": ("Problem",),
}

#: Adjacent clean pairs that a careless annotator covers with one span: (left, right) -> noisy label.
SPLIT_PAIRS: dict[tuple[str, str], str] = {
    ("Drug", "Strength"): "Drug", ("Strength", "Form"): "Strength", ("Drug", "Form"): "Drug",
    ("Route", "Frequency"): "Frequency", ("Test", "Value"): "Test",
}

#: Annotators of the noisy copy; the second one has the systematic confusion.
ANNOTATORS: tuple[str, str, str] = ("ann_A", "ann_B", "ann_C")
SYSTEMATIC: tuple[str, str] = ("Frequency", "Route")
#: Share of annotated notes given to the systematic annotator.
SYSTEMATIC_SHARE = 0.08

_WORD = r"[A-Za-z][A-Za-z\-]*[A-Za-z]"
_LEFT_WORD = re.compile(rf"(?:^|(?<=\s))({_WORD}) $")
_RIGHT_WORD = re.compile(rf"^ ({_WORD})(?=[\s.,;:)]|$)")
_MERGE_SUFFIX = re.compile(r" (prn|PRN|as needed|exacerbation)$")
#: Words an over-extended span does not swallow (it would look like a tokenizer bug, not a human slip).
_NO_EXTEND = V.STOPWORDS | {"who", "up", "presenting", "presents", "reports", "admitted", "than", "per"}
_SIDE_PREFIX = re.compile(r"^(?:right|left|bilateral)(?: \w+)*(?= \w+$)")


@dataclass
class _State:
    """Error bookkeeping for one document."""

    doc: Document
    clean: tuple[Span, ...]
    annotator: str
    taken: set[int] = field(default_factory=set)  # indices of clean spans used by an error
    occupied: list[tuple[int, int]] = field(default_factory=list)  # char ranges of every span in an error
    added: list[Span] = field(default_factory=list)
    _edges: set[int] | None = None

    @property
    def edges(self) -> set[int]:
        if self._edges is None:
            self._edges = {x for r in tokenize(self.doc.text) for x in r}
        return self._edges

    def text(self, a: int, b: int) -> str:
        return self.doc.text[a:b]

    def free(self, clean_idx: Sequence[int], noisy: Sequence[tuple[int, int, str]]) -> bool:
        """True when an error using these clean spans and adding these noisy spans touches nothing else."""
        if any(i in self.taken for i in clean_idx):
            return False
        ranges = [(self.clean[i].start, self.clean[i].end) for i in clean_idx] + [(a, b) for a, b, _ in noisy]
        for a, b in ranges:
            if any(a < d and c < b for c, d in self.occupied):
                return False
        for a, b, _ in noisy:
            if a not in self.edges or b not in self.edges or a >= b:
                return False
            for j, s in enumerate(self.clean):
                if j not in clean_idx and a < s.end and s.start < b:
                    return False
        return True

    def apply(self, clean_idx: Sequence[int], noisy: Sequence[tuple[int, int, str]]) -> None:
        self.taken.update(clean_idx)
        self.occupied.extend((self.clean[i].start, self.clean[i].end) for i in clean_idx)
        self.occupied.extend((a, b) for a, b, _ in noisy)
        self.added.extend(Span(self.doc.id, a, b, label) for a, b, label in noisy)


Candidate = tuple[list[int], list[tuple[int, int, str]], str, str]  # clean idx, noisy, detail, description


def _q(text: str) -> str:
    return '"' + text.replace("\n", " ") + '"'


def _type_candidates(st: _State, rng: Random) -> list[Candidate]:
    out: list[Candidate] = []
    for i, s in enumerate(st.clean):
        if s.label in TYPE_CONFUSIONS:
            new = rng.choice(TYPE_CONFUSIONS[s.label])
            out.append(([i], [(s.start, s.end, new)], "confusion",
                        f"{s.label} {_q(st.text(s.start, s.end))} labelled {new}"))
    return out


def _missing_candidates(st: _State, rng: Random) -> list[Candidate]:
    return [([i], [], "omitted", f"{s.label} {_q(st.text(s.start, s.end))} not annotated")
            for i, s in enumerate(st.clean)]


def _cut_points(st: _State, s: Span) -> list[int]:
    """Offsets inside ``s`` where a cut-short span may end or start: spaces and number|unit joints."""
    t = st.doc.text
    pts = []
    for x in range(s.start + 1, s.end):
        if t[x] == " " or (t[x - 1].isdigit() and t[x].isalpha() and x in st.edges):
            pts.append(x)
    return pts


def _ok_piece(text: str) -> bool:
    words = text.split()
    return bool(words) and len(text) >= 2 and words[0].lower() not in V.STOPWORDS \
        and words[-1].lower() not in V.STOPWORDS and any(ch.isalnum() for ch in text)


def _boundary_candidates(st: _State, rng: Random) -> list[Candidate]:
    out: list[Candidate] = []
    t = st.doc.text
    for i, s in enumerate(st.clean):
        whole = t[s.start:s.end]
        for x in _cut_points(st, s):
            # at a space either side may remain; at a number|unit joint ("81|mg") only the number
            pieces = ((s.start, x), (x + 1, s.end)) if t[x] == " " else ((s.start, x),)
            for a, b in pieces:
                if _ok_piece(t[a:b]) and (s.label not in ("Strength", "Value") or any(c.isdigit() for c in t[a:b])):
                    out.append(([i], [(a, b, s.label)], "cut_short",
                                f"{s.label} {_q(t[a:b])} cut short: the entity is {_q(whole)}"))
        m = _LEFT_WORD.search(t, max(0, s.start - 40), s.start)
        if m and m.group(1).lower() not in _NO_EXTEND:
            a = m.start(1)
            out.append(([i], [(a, s.end, s.label)], "over_extended",
                        f"{s.label} {_q(t[a:s.end])} over-extended: the entity is {_q(whole)}"))
        m = _RIGHT_WORD.match(t[s.end:s.end + 40])
        if m and m.group(1).lower() not in _NO_EXTEND:
            b = s.end + m.end(1)
            out.append(([i], [(s.start, b, s.label)], "over_extended",
                        f"{s.label} {_q(t[s.start:b])} over-extended: the entity is {_q(whole)}"))
    return out


def _split_candidates(st: _State, rng: Random) -> list[Candidate]:
    out: list[Candidate] = []
    t = st.doc.text
    for i, (x, y) in enumerate(zip(st.clean, st.clean[1:])):
        label = SPLIT_PAIRS.get((x.label, y.label))
        if label and t[x.end:y.start] in ("", " "):
            out.append(([i, i + 1], [(x.start, y.end, label)], "joined",
                        f"one {label} span {_q(t[x.start:y.end])} covers {x.label} {_q(t[x.start:x.end])}"
                        f" and {y.label} {_q(t[y.start:y.end])}"))
    return out


def _merge_candidates(st: _State, rng: Random) -> list[Candidate]:
    """Entities an annotator plausibly marks in two pieces: "q6h" + "prn", "CHF" + "exacerbation"."""
    out: list[Candidate] = []
    t = st.doc.text
    for i, s in enumerate(st.clean):
        whole = t[s.start:s.end]
        cuts: list[tuple[int, int]] = []  # (end of left piece, start of right piece), absolute
        m = _MERGE_SUFFIX.search(whole)
        if m and s.label in ("Frequency", "Problem"):
            cuts.append((s.start + m.start(), s.start + m.start() + 1))
        m = _SIDE_PREFIX.match(whole)
        if m and s.label == "Problem":
            cuts.append((s.start + m.end(), s.start + m.end() + 1))
        if s.label == "Test" and " and " in whole:
            k = whole.index(" and ")
            cuts.append((s.start + k, s.start + k + 5))
        if s.label == "Drug" and whole.count(" ") == 1:
            k = whole.index(" ")
            cuts.append((s.start + k, s.start + k + 1))
        for a, b in cuts:
            left, right = (s.start, a, s.label), (b, s.end, s.label)
            out.append(([i], [left, right], "fragmented",
                        f"{s.label} {_q(whole)} annotated as two spans {_q(t[s.start:a])} + {_q(t[b:s.end])}"))
    return out


def _spurious_candidates(st: _State, rng: Random) -> list[Candidate]:
    out: list[Candidate] = []
    for a, b, label in st.doc.meta.get("distractors", ()):
        out.append(([], [(a, b, label)], "distractor", f"non-entity {_q(st.text(a, b))} labelled {label}"))
    return out


_FINDERS = {"type": _type_candidates, "missing": _missing_candidates, "boundary": _boundary_candidates,
            "split": _split_candidates, "merge": _merge_candidates, "spurious": _spurious_candidates}


def _kind_plan(n: int, rng: Random) -> list[str]:
    """``n`` kinds in proportion to :data:`KIND_SHARES` (largest remainder), shuffled."""
    raw = {k: n * w / sum(KIND_SHARES.values()) for k, w in KIND_SHARES.items()}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - counts[k]), k))[: n - sum(counts.values())]:
        counts[k] += 1
    plan = [k for k in KIND_SHARES for _ in range(counts[k])]
    rng.shuffle(plan)
    return plan


def _entry(st: _State, kind: str, clean_idx: Sequence[int], noisy: Sequence[tuple[int, int, str]],
           detail: str, description: str, *, systematic: bool = False) -> dict[str, Any]:
    t = st.doc.text
    return {
        "id": "",
        "doc_id": st.doc.id,
        "kind": kind,
        "detail": detail,
        "systematic": systematic,
        "annotator": st.annotator,
        "clean": [st.clean[i].to_dict(t) for i in sorted(clean_idx, key=lambda i: st.clean[i].key)],
        "noisy": [{"start": a, "end": b, "label": lab, "text": t[a:b]} for a, b, lab in sorted(noisy)],
        "description": description,
    }


def inject_errors(docs: Sequence[Document], *, rate: float = 0.10, seed: int = 0) -> tuple[list[Document], list[dict[str, Any]]]:
    """A noisy copy of ``docs`` and the manifest of the errors injected into it.

    Args:
        docs: annotated documents (``spans`` not None) with flat, non-overlapping
            spans, such as :func:`spanqa.measure.demo.generate_notes` gives.  Spurious
            errors are drawn from ``meta["distractors"]`` when present.
        rate: the number of errors as a fraction of the clean spans (0 <= rate <= 0.5);
            the systematic annotator's errors count towards it.  ``0`` gives an exact copy.
        seed: seed of the ``random.Random`` used; same inputs and seed give the same output.

    Returns:
        ``(noisy_docs, manifest)``: documents in the input order with the same ids
        and text, spans re-numbered ``T1..``, ``annotator`` set on every span and in
        ``meta``; manifest entries sorted by document order then offset, ids ``e0001..``.
    """
    if not 0.0 <= rate <= 0.5:
        raise ValueError(f"rate must be between 0 and 0.5, got {rate}")
    rng = Random(seed)
    annotated = [i for i, d in enumerate(docs) if d.spans is not None]
    n_b = max(1, round(SYSTEMATIC_SHARE * len(annotated))) if annotated and rate > 0 else 0
    b_docs = set(rng.sample(annotated, k=min(n_b, len(annotated))))
    states: list[_State | None] = []
    for i, d in enumerate(docs):
        who = ANNOTATORS[1] if i in b_docs else (ANNOTATORS[0] if rng.random() < 0.55 else ANNOTATORS[2])
        states.append(_State(d, sort_spans(d.spans), who) if d.spans is not None else None)
    entries: list[tuple[int, dict[str, Any]]] = []

    src, dst = SYSTEMATIC
    for i in sorted(b_docs):
        st = states[i]
        if st is None:
            continue
        for j, s in enumerate(st.clean):
            if s.label == src:
                noisy = [(s.start, s.end, dst)]
                st.apply([j], noisy)
                entries.append((i, _entry(st, "type", [j], noisy, "systematic_confusion",
                                          f"{st.annotator} labels every {src} as {dst}: {src} {_q(st.text(s.start, s.end))}"
                                          f" labelled {dst}", systematic=True)))

    n_clean = sum(len(st.clean) for st in states if st)
    target = round(rate * n_clean)
    live = [i for i in annotated if states[i] and states[i].clean]  # type: ignore[union-attr]
    weights = [len(states[i].clean) for i in live]  # type: ignore[union-attr]
    look_alike = sorted({d[2] for i in live for d in states[i].doc.meta.get("distractors", ())})  # type: ignore[union-attr]
    for kind in _kind_plan(max(0, target - len(entries)), rng):
        want_label = rng.choice(look_alike) if look_alike else None
        for _attempt in range(60):
            i = rng.choices(live, weights=weights, k=1)[0]
            st = states[i]
            if st is None:
                break
            cands = _FINDERS[kind](st, rng)
            rng.shuffle(cands)
            if kind == "boundary":  # cut-short and over-extended equally often where both exist
                want = "cut_short" if rng.random() < 0.5 else "over_extended"
                cands = [c for c in cands if c[2] == want] + [c for c in cands if c[2] != want]
            if kind == "spurious" and _attempt < 40:  # every look-alike label equally likely, not mostly ages
                cands = [c for c in cands if c[1][0][2] == want_label]
            if st.annotator == ANNOTATORS[1]:  # the systematic annotator never writes the confused label
                cands = [c for c in cands if all(label != src for _, _, label in c[1])]
            chosen = next((c for c in cands if st.free(c[0], c[1])), None)
            if chosen is not None:
                clean_idx, noisy, detail, description = chosen
                st.apply(clean_idx, noisy)
                entries.append((i, _entry(st, kind, clean_idx, noisy, detail, description)))
                break

    entries.sort(key=lambda e: (e[0], min([x["start"] for x in e[1]["clean"] + e[1]["noisy"]])))
    manifest = []
    for n, (_, e) in enumerate(entries, 1):
        e["id"] = f"e{n:04d}"
        manifest.append(e)

    noisy_docs: list[Document] = []
    for d, st in zip(docs, states):
        if st is None:
            noisy_docs.append(d.evolve(meta={k: v for k, v in d.meta.items() if k != "distractors"}))
            continue
        kept = [s for j, s in enumerate(st.clean) if j not in st.taken] + st.added
        spans = tuple(s.evolve(id=f"T{k + 1}", annotator=st.annotator, meta={})
                      for k, s in enumerate(sort_spans(kept)))
        meta = {k: v for k, v in d.meta.items() if k != "distractors"}
        meta["annotator"] = st.annotator
        noisy_docs.append(d.evolve(spans=spans, meta=meta))
    return noisy_docs, manifest


def apply_manifest_backwards(doc: Document, entries: Sequence[dict[str, Any]]) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, label)`` keys of ``doc`` with the entries' noisy spans replaced by their clean spans.

    Used by tests and by anyone checking a manifest: for a noisy demo document,
    the result equals the clean document's span keys.
    """
    keys = {s.key for s in doc.spans or ()}
    for e in entries:
        keys -= {(x["start"], x["end"], x["label"]) for x in e["noisy"]}
        keys |= {(x["start"], x["end"], x["label"]) for x in e["clean"]}
    return tuple(sorted(keys))


__all__ = ["ANNOTATORS", "Candidate", "KINDS", "KIND_SHARES", "Kind", "SPLIT_PAIRS", "SYSTEMATIC", "SYSTEMATIC_SHARE",
           "TYPE_CONFUSIONS", "apply_manifest_backwards", "inject_errors"]
