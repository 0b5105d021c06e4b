"""Findings: what a reviewer should look at, with a suggested fix and one review sentence.

A finding comes from one of two places:

1. **Disagreements** between the labels and the out-of-fold predicted spans, grouped by
   the comparator (:func:`spanqa.compare.comparison.compare_spans`): every non-``exact``
   component is a finding of that kind (``type``, ``boundary``, ``boundary_type``,
   ``split``, ``merge``, ``complex``, ``missing``, ``spurious``) whose ``suggestion`` is the
   predicted spans of the component and whose ``action`` is the comparator's fix.
2. **Score flags** on spans the model *does* reproduce (``exact`` components), and on notes:

   - ``ambiguous``: the model agrees on the extent but splits its belief between labels -
     the two most probable labels of the extent (normalised over labels) differ by less
     than ``ambiguous_margin``.  Suggestion: the other of those two labels; action ``review``.
   - ``low_confidence``: not ambiguous, but the span's quality is below ``min_quality``.
     Suggestion: none (the model's best alternative is in the evidence); action ``review``.
   - ``out_of_distribution``: a note unlike the rest of the corpus (see :func:`ood_findings`).

**Score** (lower = more suspicious, comparable across kinds): the probability, under the
out-of-fold model (:class:`spanqa.score.quality.TagLattice`), that *the annotation as it stands
is right on the finding's words* - the tag path the labels give the words of the
component's hull (``O`` where no label is), ``B-X I-X ...`` for the spans.  For a finding
about one labelled span that is exactly its quality; for ``missing`` it is the probability
that there is no entity there.  The probability that the suggestion is right is kept in
``evidence.p_suggestion`` (the two are exclusive, so ``score <= 1 - p_suggestion``); the
review sentence quotes it.  For ``out_of_distribution`` the score is the note's mean
word confidence (mean of each word's highest marginal).

The review sentence (``message``) is written by :mod:`spanqa.score.messages`; how findings recover the demo's injected
errors is :mod:`spanqa.measure.demo.evaluate`.

Every finding has a stable ``id``: the first 12 hex digits of the SHA-1 of
``doc_id|kind|labels keys|suggestion keys``, so the same finding keeps its id across runs.

Why ~490 lines: :class:`Finding` is the one record of a finding - built here, written (``to_dict``) into
``findings.jsonl`` and read back (``from_dict``) by every review command - and the code that builds findings
sits beside the record it fills, so a field and its producers are read together.

>>> from spanqa.core.span import Span, sort_spans
>>> f = Finding("d", "type", "relabel", 0.03, (Span("d", 19, 23, "Drug"),), (Span("d", 19, 23, "Strength"),),
...             {"p_suggestion": 0.94}, "")
>>> render_message(f, "Pt started aspirin 81mg")
"The model is 94% confident '81mg' is a Strength, while the label calls it a Drug. Could we review it together?"
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np

from spanqa._moved import relocated
from spanqa.compare.comparison import Component, Kind, compare_spans
from spanqa.core.config import FindingsConfig
from spanqa.core.errors import fail
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.bio import spans_to_tags
from spanqa.score.messages import QUOTE_CHARS, TEMPLATES, abbreviation_note, corpus_note, render_message, with_notes
from spanqa.score.messages import pct as _pct  # noqa: F401 - the old private names, still imported elsewhere
from spanqa.score.messages import quote as _quote  # noqa: F401
from spanqa.score.quality import CandidateScore, NoteStats, SpanQuality, TagLattice, WordIndex

#: finding kinds beyond the comparator's: the score flags, the corpus's inconsistencies, odd notes
FLAG_KINDS: tuple[str, ...] = ("ambiguous", "low_confidence", "inconsistent", "out_of_distribution")
#: every finding kind, in table order
FINDING_KINDS: tuple[str, ...] = tuple(k.value for k in Kind if k is not Kind.EXACT) + FLAG_KINDS + ("pattern",)
#: a note is flagged out of distribution only if its novelty is also at least this many SDs above the mean
OOD_MIN_Z = 2.0


#: evidence keys that, when present, hold the model's probability that the suggestion is right
SUGGESTION_PROB_KEYS: tuple[str, ...] = ("p_suggestion", "suggestion_prob", "suggestion_confidence")


@dataclass(frozen=True)
class Finding:
    """One thing to review - the one record of a finding, built by the audit and read back from ``findings.jsonl``
    (:meth:`to_dict` writes it, :meth:`from_dict` reads it).  Spans are in document character offsets.

    Attributes:
        doc_id: the document.
        kind: one of :data:`FINDING_KINDS` (a run folder may hold others: ``sample``, unknown kinds are kept).
        action: the comparator's fix (``relabel``, ``extend``, ``shrink``, ``shift``, ``replace``,
            ``split``, ``merge``, ``add``, ``delete``) or ``review`` for score flags.
        score: in ``[0, 1]``, lower = more suspicious (module docstring).
        labels: the labelled spans concerned (empty for ``missing`` and notes); read back, ``meta["text"]`` holds
            their recorded text.
        suggestion: the spans that would replace them (empty for ``delete`` and ``review``
            except ``ambiguous``, which suggests the other label).
        evidence: probabilities of both explanations, fold, predicted tag path, ...
        message: one review sentence.
        stored_id: the id a record carried (read back, or a sample's ``S001``); ``None`` = derived from the content.
        raw: the whole record it was read from, for exports that want every field (empty when built).
    """

    doc_id: str
    kind: str
    action: str
    score: float
    labels: tuple[Span, ...] = ()
    suggestion: tuple[Span, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)
    message: str = ""
    stored_id: str | None = field(default=None, repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False, repr=False)

    @property
    def id(self) -> str:
        """12 hex digits of document, kind and the spans on both sides (or the stored id)."""
        if self.stored_id is not None:
            return self.stored_id
        keys = lambda spans: ",".join(f"{s.start}-{s.end}:{s.label}" for s in spans)  # noqa: E731
        raw = f"{self.doc_id}|{self.kind}|{keys(self.labels)}|{keys(self.suggestion)}"
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]

    @property
    def start(self) -> int:
        """Where the finding starts: its first span, else the record's ``start``, else 0 (a whole-note finding)."""
        spans = self.labels + self.suggestion
        return min(s.start for s in spans) if spans else int(self.raw.get("start", 0))

    @property
    def end(self) -> int:
        """Where it ends: its last span, else the record's ``end``, else 0."""
        spans = self.labels + self.suggestion
        return max(s.end for s in spans) if spans else int(self.raw.get("end", 0))

    @property
    def label(self) -> str:
        """The label the finding is counted under: the first labelled span's, else the first suggested one's."""
        spans = self.labels or self.suggestion
        return spans[0].label if spans else str(self.raw.get("label", ""))

    # -- the fix as set differences ------------------------------------------------------------------
    @property
    def removed(self) -> tuple[Span, ...]:
        """Labelled spans the fix takes away (in ``labels`` but not, with the same key, in ``suggestion``);
        none for a ``review`` flag without a suggestion."""
        if self.action == "review" and not self.suggestion:
            return ()  # a flag without a suggestion is not a deletion
        keep = {(s.pieces, s.label) for s in self.suggestion}
        return tuple(s for s in self.labels if (s.pieces, s.label) not in keep)

    @property
    def added(self) -> tuple[Span, ...]:
        """Spans the fix puts in (in ``suggestion`` but not in ``labels``)."""
        have = {(s.pieces, s.label) for s in self.labels}
        return tuple(s for s in self.suggestion if (s.pieces, s.label) not in have)

    @property
    def has_fix(self) -> bool:
        """True when accepting the finding changes spans.

        Findings with action ``review`` and no suggestion (``low_confidence``, notes) have
        none; an ``ambiguous`` finding's fix is its suggested other label.
        """
        return bool(self.removed or self.added)

    @property
    def confidence(self) -> float:
        """Confidence that the suggested fix is right, in ``[0, 1]`` (used by ``apply --all-above``).

        ``evidence.p_suggestion`` - the out-of-fold model's probability that the words of the
        finding carry exactly the suggested spans - when the evidence records it
        (:data:`SUGGESTION_PROB_KEYS`), else ``1 - score``: the probability that the
        labelled spans are wrong, since ``score`` is the probability that they are right.
        Since the two explanations are exclusive, ``p_suggestion <= 1 - score``.
        """
        for k in SUGGESTION_PROB_KEYS:
            v = self.evidence.get(k)
            if isinstance(v, (int, float)):
                return float(v)
        return max(0.0, min(1.0, 1.0 - self.score))

    # -- the record ------------------------------------------------------------------------------------
    def to_dict(self, text: str) -> dict[str, Any]:
        """``{id, doc_id, kind, action, score, labels, suggestion, evidence, message}`` (a ``findings.jsonl`` line)."""
        return {"id": self.id, "doc_id": self.doc_id, "kind": self.kind, "action": self.action,
                "score": round(float(self.score), 6),
                "labels": [s.to_dict(text) for s in self.labels],
                "suggestion": [s.to_dict(text) for s in self.suggestion],
                "evidence": dict(self.evidence), "message": self.message}

    @classmethod
    def from_dict(cls, rec: Mapping[str, Any], *, where: str = "findings.jsonl") -> "Finding":
        """A ``findings.jsonl`` line read back (its id kept), checked: ``E502`` names what is wrong and where."""
        try:
            doc_id = str(rec["doc_id"])
            fid = str(rec["id"])
        except KeyError as err:
            raise fail("E502", f"finding record lacks {err}", path=where) from None
        score = rec.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                                  or not 0.0 <= float(score) <= 1.0):
            raise fail("E502", f"finding {fid}: score {json.dumps(score)[:40]} is not a number in [0, 1]", path=where,
                       doc_id=doc_id, key="score")
        for key, kind in (("labels", list), ("suggestion", list), ("evidence", dict)):
            if rec.get(key) is not None and not isinstance(rec[key], kind):
                raise fail("E502", f"finding {fid}: {key} is {type(rec[key]).__name__}, not a "
                           f"{'list' if kind is list else 'JSON object'}", path=where, doc_id=doc_id, key=key)
        return cls(doc_id=doc_id, kind=str(rec.get("kind", "")), action=str(rec.get("action", "review")),
                   score=float(score) if score is not None else 1.0,
                   labels=sort_spans(span_from_record(doc_id, s, where=where) for s in rec.get("labels") or ()),
                   suggestion=sort_spans(span_from_record(doc_id, s, where=where)
                                         for s in rec.get("suggestion") or ()),
                   evidence=dict(rec.get("evidence") or {}), message=str(rec.get("message") or ""), stored_id=fid,
                   raw=dict(rec))


def span_from_record(doc_id: str, rec: Mapping[str, Any], *, where: str) -> Span:
    """A span of a finding record (``{start, end, label[, text, fragments]}``; ``meta["text"]`` = the text)."""
    try:
        frags = rec.get("fragments")
        return Span(doc_id, int(rec["start"]), int(rec["end"]), str(rec["label"]),
                    fragments=tuple((int(a), int(b)) for a, b in frags) if frags and len(frags) > 1 else None,
                    meta={"text": rec["text"]} if "text" in rec else {})
    except (KeyError, TypeError, ValueError) as err:
        raise fail("E502", f"span record {rec!r} lacks start/end/label ({err})", path=where) from None


# --------------------------------------------------------------------------- building
def _path_evidence(lat: TagLattice, words: Sequence[tuple[int, int]], text: str, a: int, b: int,
                   label_path: Sequence[str], pred_path: Sequence[str]) -> list[dict]:
    """Per word of ``a..b-1``: its text, the predicted (decoded) tag and the labels' tag, each with its marginal."""
    out = []
    for i, lt, pt in zip(range(a, b), label_path, pred_path):
        out.append({"text": text[words[i][0]:words[i][1]], "pred": pt, "p_pred": round(lat.marginal(i, pt), 4),
                    "label": lt, "p_label": round(lat.marginal(i, lt), 4)})
    return out


def _clamp_prob(lat: TagLattice, a: int, b: int, path: Sequence[str]) -> float:
    """P(the words ``a..b-1`` carry exactly ``path`` (tags of spans, O elsewhere))."""
    return lat.path_prob(a, b, path)


def _with_message(f: Finding, text: str) -> Finding:
    return replace(f, message=render_message(f, text))


def doc_findings(text: str, labels: Sequence[Span], preds: Sequence[Span], marginals: Any, tags: Sequence[str],
                 qualities: Sequence[SpanQuality], *, min_quality: float = FindingsConfig.min_quality,
                 ambiguous_margin: float = FindingsConfig.ambiguous_margin,
                 lattice: TagLattice | None = None,
                 components: Sequence[Component] | None = None) -> tuple[list[Finding], list[CandidateScore]]:
    """Findings of one annotated document and the scores of its candidate missing entities.

    Args:
        text: the document text.
        labels: its labelled spans; ``qualities`` are their scores (same order, from
            :func:`spanqa.score.quality.score_spans`).
        preds: the decoded out-of-fold predicted spans.
        marginals: its :class:`~spanqa.model.predictions.DocMarginals` (``words``, ``probs``, ``fold``).
        tags: the IOB2 inventory of the marginals' columns.
    """
    words = list(marginals.words)
    lat = lattice or TagLattice(marginals.probs, tags)
    doc_id = marginals.doc_id
    quality_of = {id(q.span): q for q in qualities}
    by_key: dict[tuple, SpanQuality] = {}
    for q in qualities:
        by_key.setdefault((q.span.start, q.span.end, q.span.label, q.span.pieces), q)
    comps = components if components is not None else compare_spans(doc_id, labels, preds)
    index = WordIndex(words)
    out: list[Finding] = []
    candidates: list[CandidateScore] = []
    for comp in comps:
        lq = [by_key.get((s.start, s.end, s.label, s.pieces)) for s in comp.labels]
        if comp.kind is Kind.EXACT:
            exact_q = lq[0] or quality_of.get(id(comp.labels[0]))
            flag = _score_flag(exact_q, text, min_quality=min_quality, ambiguous_margin=ambiguous_margin)
            if flag is not None:
                out.append(_with_message(flag, text))
            continue
        if comp.kind is Kind.SPURIOUS and lq and all(q is not None and q.reason == "overlap_dropped" for q in lq):
            # A span nested in another labelled span: the flat tagger was never trained or asked to predict it,
            # so "no prediction here" is no evidence against it.  It stays in spans.jsonl (alignable=false,
            # reason overlap_dropped) and in the summary's count of nested spans not assessed.
            continue
        rng = index.range(comp.start, comp.end)
        if rng is None:  # a label over whitespace only: nothing to compare against, still reported
            ev: dict[str, Any] = {"p_labels": 0.0, "p_suggestion": 1.0, "fold": marginals.fold, "predicted_path": []}
            out.append(_with_message(Finding(doc_id, comp.kind.value, comp.action, 0.0, comp.labels, comp.other, ev),
                                     text))
            continue
        a, b = rng
        label_path = spans_to_tags(words[a:b], comp.labels)
        pred_path = spans_to_tags(words[a:b], comp.other)
        p_labels = _clamp_prob(lat, a, b, label_path)
        p_sugg = _clamp_prob(lat, a, b, pred_path)
        ev = {"p_labels": round(p_labels, 6), "p_suggestion": round(p_sugg, 6),
              "fold": marginals.fold,
              "predicted_path": _path_evidence(lat, words, text, a, b, label_path, pred_path)}
        if comp.labels:
            ev["labels_quality"] = [None if q is None or q.quality is None else round(q.quality, 6) for q in lq]
            if any(q is not None and not q.alignable for q in lq):
                ev["labels_alignable"] = False
        if comp.kind is Kind.MISSING:
            cand = CandidateScore(comp.other[0], 1.0 - lat.none_prob(a, b), lat.span_prob(a, b, comp.other[0].label),
                                  marginals.fold, (a, b))
            candidates.append(cand)
            ev["p_entity"] = round(cand.p_entity, 6)
        out.append(_with_message(
            Finding(doc_id, comp.kind.value, comp.action, p_labels, comp.labels, comp.other, ev), text))
    return out, candidates


def _score_flag(q: SpanQuality | None, text: str, *, min_quality: float,
                ambiguous_margin: float) -> Finding | None:
    """``ambiguous`` or ``low_confidence`` for a span the model reproduces, else None."""
    if q is None or q.quality is None:
        return None
    span = q.span
    ev: dict[str, Any] = {"p_labels": round(q.quality, 6), "fold": q.fold, "alignable": q.alignable}
    if q.alternative is not None:
        ev["alternative"] = dict(q.alternative, p=round(q.alternative["p"], 6))
    total = sum(q.label_probs.values())
    if len(q.label_probs) >= 2 and total > 0:
        ranked = sorted(((lab, p / total) for lab, p in q.label_probs.items()), key=lambda x: (-x[1], x[0]))
        (l1, p1), (l2, p2) = ranked[:2]
        if p1 - p2 < ambiguous_margin:
            other = l2 if l1 == span.label else l1
            ev["top_labels"] = [[l1, round(p1, 6)], [l2, round(p2, 6)]]
            ev["p_suggestion"] = round(q.label_probs[other], 6)
            return Finding(span.doc_id, "ambiguous", "review", q.quality, (span,), (span.evolve(label=other),), ev)
    if q.quality < min_quality:
        ev["p_suggestion"] = round(q.alternative["p"], 6) if q.alternative else 0.0
        return Finding(span.doc_id, "low_confidence", "review", q.quality, (span,), (), ev)
    return None


def ood_findings(stats: Mapping[str, "NoteStats"], *, quantile: float = 0.98,
                 min_z: float = OOD_MIN_Z) -> list[Finding]:
    """Notes whose novelty is above the corpus ``quantile`` and at least ``min_z`` SDs above the mean.

    The novelty of a note (:class:`spanqa.score.quality.NoteStats`) is the mean of two z-scores
    against the corpus: the mean normalised entropy of its word marginals (the model is
    unsure there) and its OOV rate (share of its words, lower-cased, that occur in no other
    note).  With fewer than 10 notes nothing is flagged (a quantile of so few means little).
    """
    if len(stats) < 10:
        return []
    ids = list(stats)
    nov = np.array([stats[d].novelty for d in ids])
    cut = float(np.quantile(nov, quantile))
    median_conf = float(np.median([stats[d].mean_confidence for d in ids]))
    out = []
    for d, v in zip(ids, nov):
        if v > cut and v >= min_z:
            s = stats[d]
            ev = {"novelty": round(float(v), 4), "novelty_cutoff": round(cut, 4), "quantile": quantile,
                  "mean_confidence": round(s.mean_confidence, 4), "corpus_median_confidence": round(median_conf, 4),
                  "mean_entropy": round(s.mean_entropy, 4), "entropy_z": round(s.entropy_z, 4),
                  "oov_rate": round(s.oov_rate, 4), "oov_z": round(s.oov_z, 4), "n_words": s.n_words, "fold": s.fold}
            f = Finding(d, "out_of_distribution", "review", s.mean_confidence, (), (), ev)
            out.append(_with_message(f, ""))
    return out


# --------------------------------------------------------------------------- the one ranking
def rank_findings(findings: Sequence[Finding], ranking: Any, qualities: Sequence[SpanQuality],
                  lattices: Mapping[str, TagLattice], texts: Mapping[str, str], *,
                  min_p_error: float = FindingsConfig.min_p_error) -> list[Finding]:
    """Give every finding the ranking's score and add the candidates the model alone did not flag.

    ``ranking`` is a :class:`spanqa.score.ranking.ranker.Ranking` of the same corpus.  A finding
    of the comparator's kinds, and an ``ambiguous`` / ``low_confidence`` flag (the candidate of
    its exact span), gets ``score = 1 - p_error`` and ``evidence["ranking"]`` = ``{p_error,
    signals, contributions}`` (each feature's push on the logit); its ``p_labels`` /
    ``p_suggestion`` evidence and its sentence are unchanged.  A candidate no finding covers
    becomes a finding when ``p_error >= min_p_error``:

    - an ``inconsistent`` one when most other occurrences of its string read it otherwise
      (``surface_agree < 0.5`` with at least :data:`spanqa.score.ranking.signals.MIN_SUPPORT` others):
      ``relabel`` to the majority label, ``delete`` when the majority leaves it unlabelled,
      ``add`` for an unlabelled occurrence the majority labels;
    - else a ``low_confidence`` review flag on the exact span.

    Findings without a candidate (out of distribution, labels over no word) keep their score.
    Without a fitted model (``ranking.method = "model"``, or too few spans to inject into)
    nothing is added: ``findings.min_quality`` alone flags the spans the model reproduces.
    """
    from spanqa.score.ranking.signals import MIN_SUPPORT, candidate_key

    index = ranking.by_key()
    used: set[int] = set()
    quality_of = {(q.span.doc_id, q.span.start, q.span.end, q.span.label): q for q in qualities}
    out: list[Finding] = []

    def ranked(i: int) -> dict[str, Any]:
        c = ranking.candidates[i]
        ev: dict[str, Any] = {"p_error": round(float(ranking.p_error[i]), 6),
                              "signals": {k: None if v != v else round(float(v), 6) for k, v in c.values.items()}}
        if ranking.model is not None:
            ev["contributions"] = ranking.model.contributions(ranking.features[i])
        if ranking.factors and ranking.factors[i]:
            ev["p_error_model"] = round(float(ranking.p_model[i]), 6)
            ev["weighed"] = dict(ranking.factors[i])
        if c.surface:
            ev["surface"] = dict(c.surface)
        if c.context:
            ev["context"] = dict(c.context)
        return ev

    for f in findings:
        if f.kind == "out_of_distribution":
            out.append(f)
            continue
        sug = () if f.kind in ("ambiguous", "low_confidence") else f.suggestion
        i = index.get(candidate_key(f.doc_id, f.labels, sug))
        if i is None:
            out.append(f)
            continue
        used.add(i)
        c = ranking.candidates[i]
        ev = dict(f.evidence, ranking=ranked(i))
        notes = []
        if c.surface and f.kind not in ("inconsistent",):
            quoted = _quote(texts[f.doc_id][c.start:c.end]) if not f.labels else \
                _quote(f.labels[0].text_in(texts[f.doc_id]))
            notes.append(corpus_note(quoted, c.surface))
        if c.abbreviation:
            ev["abbreviation"] = dict(c.abbreviation)
            notes.append(abbreviation_note(c.abbreviation))
        out.append(replace(f, score=1.0 - float(ranking.p_error[i]), evidence=ev,
                           message=with_notes(f.message, *notes)))
    for i, c in enumerate(ranking.candidates):
        p = float(ranking.p_error[i])
        if ranking.model is None:      # the model alone: its flags (min_quality) stay the only ones
            break
        if i in used or p < min_p_error or c.kind not in ("exact", "inconsistent"):
            continue
        lat, text = lattices[c.doc_id], texts[c.doc_id]
        a, b = c.words
        share, support = c.values.get("surface_agree", 0.5), c.values.get("surface_support", 0.0)
        n_other = int(round(np.expm1(support))) if support == support else 0
        base = {"p_labels": round(float(np.exp(c.values["log_p_labels"])), 6), "ranking": ranked(i)}
        if c.kind == "inconsistent" or (share == share and share < 0.5 and n_other >= MIN_SUPPORT and c.surface):
            reading, k = max(c.surface.items(), key=lambda kv: (kv[1], kv[0]))
            if c.kind == "inconsistent":
                labels, sugg, action = (), c.suggestion, "add"
                p_s = lat.span_prob(a, b, sugg[0].label)
            elif reading == "O":
                labels, sugg, action = c.labels, (), "delete"
                p_s = lat.none_prob(a, b)
            else:
                labels, sugg, action = c.labels, (c.labels[0].evolve(label=reading),), "relabel"
                p_s = lat.span_prob(a, b, reading)
            ev = dict(base, p_suggestion=round(float(p_s), 6), majority=reading, majority_count=int(k),
                      n_other=int(sum(c.surface.values())), surface=dict(c.surface), fold=None)
            f = Finding(c.doc_id, "inconsistent", action, 1.0 - p, labels, sugg, ev)
        else:
            q = quality_of.get((c.doc_id, c.labels[0].start, c.labels[0].end, c.labels[0].label))
            ev = dict(base, fold=q.fold if q else None)
            if q is not None and q.alternative is not None:
                ev["alternative"] = dict(q.alternative, p=round(q.alternative["p"], 6))
                ev["p_suggestion"] = round(q.alternative["p"], 6)
            f = Finding(c.doc_id, "low_confidence", "review", 1.0 - p, c.labels, (), ev)
        f = _with_message(f, text)
        notes = [corpus_note(_quote(c.labels[0].text_in(text)), c.surface)] \
            if f.kind == "low_confidence" and c.surface else []
        if c.abbreviation:
            f = replace(f, evidence=dict(f.evidence, abbreviation=dict(c.abbreviation)))
            notes.append(abbreviation_note(c.abbreviation))
        out.append(replace(f, message=with_notes(f.message, *notes)))
    return out


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Most suspicious first; ties by document and position (deterministic).  The members of a ``pattern``
    (``evidence.pattern``, :mod:`spanqa.score.patterns`) follow their pattern, most suspicious first: one decision covers
    them, and a reviewer sees the occurrences where the question is asked."""
    own = lambda f: (f.score, f.doc_id, f.start if f.labels or f.suggestion else -1, f.kind, f.id)  # noqa: E731
    patterns = {f.id: f for f in findings if f.kind == "pattern"}

    def key(f: Finding) -> tuple:
        head = patterns.get(f.evidence.get("pattern", ""))
        return (own(head), 1, own(f)) if head is not None else (own(f), 0, ())

    return sorted(findings, key=key)


__getattr__ = relocated(__name__, {  # the demo's evaluation moved to spanqa.measure.demo.evaluate (one release)
    "evaluate_findings": "spanqa.measure.demo.evaluate.evaluate_findings", "fixes": "spanqa.measure.demo.evaluate.fixes",
    "flags": "spanqa.measure.demo.evaluate.flags"})

__all__ = ["FINDING_KINDS", "FLAG_KINDS", "Finding", "SUGGESTION_PROB_KEYS", "span_from_record", "QUOTE_CHARS", "TEMPLATES", "abbreviation_note", "corpus_note",
           "doc_findings", "ood_findings", "rank_findings", "render_message", "sort_findings", "with_notes"]
