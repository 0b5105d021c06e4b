"""``spanqa report``: one self-contained HTML page for reviewing a run (no network, no CDN).

The page has three parts:

1. **Overview** (rendered here as inline SVG/HTML): corpus size, the estimated error
   rate with its interval, findings by kind and by label (bars), the score histogram,
   and the label confusion matrix (labelled label vs suggested label; ``-`` = no span;
   the diagonal holds boundary disagreements, off-diagonal cells type confusions).
   When the run folder holds ``impact.json`` (``spanqa impact RUN``), the overview is followed
   by *What the fixes are worth*: downstream F1 by fixes applied (:mod:`spanqa.review.chart`).
2. **Guideline hints**: the most frequent confusion patterns - a surface form labelled
   X that the model reads as Y, boundary patterns such as strength/unit words inside
   Drug spans - worded as candidate guideline questions (:func:`guideline_hints`).
3. **Findings**, most suspicious first (score ascending), 20 a page, rendered by a
   small script from data embedded as JSON: the note excerpt with the labelled and the
   suggested spans highlighted side by side, the model's evidence and the review
   sentence; filters by kind, label, maximum score and text.  Filters live in the URL
   hash (``report.html#kind=type&label=Drug&max=0.3&page=2``), so a view can be shared.
   ``report.html#selftest`` runs a check in the page (render, filter, page) and writes
   the result as JSON into ``<pre id="selftest">``; the tests read it from headless Chromium.

All note text reaches the page either through :func:`html.escape` or through
``textContent`` in the script, never as markup.  The embedded JSON escapes ``<``, ``>``,
``&`` (and U+2028/2029) as ``\\uXXXX``, so no note text can close or open a
``<script>`` element - stricter than the usual ``</`` -> ``<\\/``.

Why one module of ~570 lines: it renders one page (overview SVGs and the findings list); the page's own script and
style live in ``review/assets/``.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from spanqa._moved import renamed
from spanqa.core.document import Corpus
from spanqa.core.output import write_text
from spanqa.review.exports import excerpt
from spanqa.run.reader import Finding, Run

PAGE_SIZE = 20
#: characters of context on each side of a finding in the report
CONTEXT_CHARS = 80
#: at most this many evidence list items are embedded per finding
EVIDENCE_LIST_MAX = 40

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def safe_json(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>``, ``&``, U+2028/9 escaped.

    >>> safe_json({"t": "</script><!--"})
    '{"t": "\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    s = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --------------------------------------------------------------------------- numbers for the overview
def summary_rate(summary: Mapping[str, Any]) -> tuple[float | None, float | None, float | None, str]:
    """``(estimate, low, high, interval name)`` from a summary, read defensively.

    Accepts ``error_rate: {estimate, ci95: [lo, hi]}`` (what ``spanqa audit`` writes) and
    variants (``value``/``rate``, ``ci``/``interval``, ``low``/``high``, a bare number).
    """
    v = summary.get("error_rate")
    est = lo = hi = None
    name = "95% CI"
    if isinstance(v, (int, float)):
        est = float(v)
        ci = summary.get("error_rate_ci")
    elif isinstance(v, Mapping):
        est = next((float(v[k]) for k in ("estimate", "value", "rate", "mean", "point")
                    if isinstance(v.get(k), (int, float))), None)
        ci = next((v[k] for k in ("ci95", "ci", "interval", "ci90", "ci99") if isinstance(v.get(k), (list, tuple))), None)
        for k in ("ci90", "ci99"):
            if ci is v.get(k):
                name = f"{k[2:]}% CI"
        if ci is None:
            low = next((v[k] for k in ("low", "lower", "ci_low") if k in v), None)
            high = next((v[k] for k in ("high", "upper", "ci_high") if k in v), None)
            ci = [low, high]
        if isinstance(v.get("level"), (int, float)):
            name = f"{round(100 * v['level']) if v['level'] <= 1 else v['level']:g}% CI"
    else:
        ci = None
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        lo = float(ci[0]) if isinstance(ci[0], (int, float)) else None
        hi = float(ci[1]) if isinstance(ci[1], (int, float)) else None
    return est, lo, hi, name


def confusion(findings: Iterable[Finding]) -> Counter:
    """``{(labelled label, suggested label): n}`` over findings with a fix; ``"-"`` = no span on that side.

    Each labelled span is paired with every suggested span that overlaps it (or with
    ``"-"``); each suggested span that overlaps no labelled span is paired with ``"-"``.
    """
    out: Counter = Counter()
    for f in findings:
        out.update(confusion_cells(f))
    return out


def confusion_cells(f: Finding) -> list[tuple[str, str]]:
    """The ``(labelled label, suggested label)`` cells finding ``f`` counts in (see :func:`confusion`)."""
    if not f.has_fix:
        return []
    cells: list[tuple[str, str]] = []
    used = set()
    for s in f.labels:
        hits = [t for t in f.suggestion if s.overlaps(t)]
        for t in hits:
            cells.append((s.label, t.label))
            used.add(id(t))
        if not hits:
            cells.append((s.label, "-"))
    for t in f.suggestion:
        if id(t) not in used:
            cells.append(("-", t.label))
    return cells


_CATEGORIES: tuple[tuple[str, re.Pattern], ...] = (
    ("strength/unit", re.compile(r"^(\d+([.,/]\d+)*\s*(mg|mcg|ug|µg|g|kg|ml|l|units?|iu|u|meq|mmol|%|mg/kg|mg/dl|"
                                 r"tabs?|tablets?|caps?|capsules?|puffs?|drops?|sprays?)|mg|mcg|ug|µg|g|kg|ml|"
                                 r"units?|iu|meq|mmol|mg/kg|tabs?|tablets?|caps?|capsules?|puffs?)$", re.I)),
    ("number", re.compile(r"^\d+([.,/:-]\d+)*$")),
    ("route", re.compile(r"^(po|iv|im|sc|sq|subq|subcut|oral(ly)?|topical(ly)?|inh(aled)?|pr|sl|ivp|ivpb|"
                         r"intravenous(ly)?|intramuscular(ly)?|transdermal|nebuli[sz]ed|neb|drip|infusion|patch)$",
                         re.I)),
    ("frequency", re.compile(r"^(daily|bid|tid|qid|qd|qod|qhs|qam|qpm|prn|q\d+h?|q\d+-\d+h|weekly|nightly|once|"
                             r"twice|hourly|every|x\d+|stat)$", re.I)),
    ("determiner", re.compile(r"^(the|a|an|his|her|their|its|this|that|these|those|any|some|pt's|patient's)$", re.I)),
    ("negation", re.compile(r"^(no|not|denies|denied|without|negative|neg|absent)$", re.I)),
    ("laterality", re.compile(r"^(left|right|bilateral|l|r|lt|rt)$", re.I)),
    ("modifier", re.compile(r"^(mild|moderate|severe|acute|chronic|history|hx|recurrent|possible|probable|"
                            r"suspected|new|old|worsening|progressive)$", re.I)),
    ("punctuation", re.compile(r"^\W+$")),
)


def categorize(piece: str) -> str:
    """The word category of a boundary difference (``"81mg PO"`` -> ``"strength/unit + route"``)
    or the quoted lower-cased text when no category fits."""
    toks = re.findall(r"\d+(?:[.,/]\d+)*\s*[a-zA-Zµ%/]+|\w+(?:'\w+)?|[^\w\s]+", piece)
    cats: list[str] = []
    for t in toks:
        c = next((name for name, rx in _CATEGORIES if rx.match(t.strip())), None)
        if c is None:
            return '"' + " ".join(piece.lower().split())[:40] + '"'
        if c not in cats and not (c == "punctuation" and len(toks) > 1):
            cats.append(c)
    return " + ".join(cats) if cats else '"' + piece.strip().lower()[:40] + '"'


@dataclass(frozen=True)
class Hint:
    """One candidate guideline update: what happens, how often, examples, and the question to settle."""

    pattern: str
    count: int
    examples: tuple[str, ...]
    question: str
    finding_ids: tuple[str, ...]


def guideline_hints(findings: Sequence[Finding], texts: Mapping[str, str], *, top: int = 12,
                    min_count: int = 1) -> list[Hint]:
    """The most frequent confusion and boundary patterns among the findings with a fix.

    - *type*: the same surface form (lower-cased) labelled X where the model reads Y;
      also aggregated per label pair.
    - *boundary*: for a labelled and a suggested span of the same label that overlap,
      the words the suggestion adds or drops at each edge, by category
      (:func:`categorize`: strength/unit, route, frequency, determiner, ...).
    - *missing/spurious*: surface forms the model repeatedly adds or deletes.
    """
    type_pairs: dict[tuple, list[Finding]] = defaultdict(list)
    label_pairs: dict[tuple, list[tuple[str, Finding]]] = defaultdict(list)
    bounds: dict[tuple, list[tuple[str, Finding]]] = defaultdict(list)
    lexical: dict[tuple, list[Finding]] = defaultdict(list)
    for f in findings:
        if not f.has_fix:
            continue
        text = texts.get(f.doc_id, "")
        for s in f.labels:
            for t in f.suggestion:
                if not s.overlaps(t):
                    continue
                if s.pieces == t.pieces and s.label != t.label:
                    surface = " ".join(s.text_in(text).lower().split())
                    type_pairs[(surface, s.label, t.label)].append(f)
                    label_pairs[(s.label, t.label)].append((surface, f))
                elif s.label == t.label and s.pieces != t.pieces:
                    for _side, a, b, verb in (("start", t.start, s.start, "include"), ("start", s.start, t.start, "exclude"),
                                             ("end", s.end, t.end, "include"), ("end", t.end, s.end, "exclude")):
                        if a < b:
                            piece = text[a:b]
                            if piece.strip():
                                bounds[(s.label, verb, categorize(piece))].append((piece.strip(), f))
        if not f.labels:
            for t in f.suggestion:
                lexical[("missing", t.label, " ".join(t.text_in(text).lower().split()))].append(f)
        if not f.suggestion:
            for s in f.labels:
                lexical[("spurious", s.label, " ".join(s.text_in(text).lower().split()))].append(f)
    hints: list[Hint] = []

    def ids(fs: Iterable[Finding]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.id for f in fs))

    for (lab, verb, cat), items in bounds.items():
        where = "inside" if verb == "include" else "outside"
        ex = tuple(dict.fromkeys(p for p, _ in items))[:4]
        hints.append(Hint(f"{lab} spans: the model would {verb} {cat} words ({'e.g. ' + ', '.join(repr(e) for e in ex)})",
                          len(items), ex, f"Should {cat} words be {where} {lab} spans? State it in the guideline "
                          "with an example.", ids(f for _, f in items)))
    for (lab, other), items in label_pairs.items():
        forms = Counter(s for s, _ in items)
        ex = tuple(s for s, _ in forms.most_common(4))
        hints.append(Hint(f"{lab} -> {other}: {len(items)} spans labelled {lab} read as {other} "
                          f"({', '.join(repr(e) for e in ex)})", len(items), ex,
                          f"Where is the line between {lab} and {other}? Add the examples to the guideline.",
                          ids(f for _, f in items)))
    for (surface, lab, other), fs in type_pairs.items():
        if len(fs) >= 2:
            hints.append(Hint(f"'{surface}': labelled {lab}, read as {other} ({len(fs)} times)", len(fs), (surface,),
                              f"Is '{surface}' a {lab} or a {other}? Decide once and list it.", ids(fs)))
    for (what, lab, surface), fs in lexical.items():
        if len(fs) >= 2 and any(c.isalnum() for c in surface):  # a stray comma is noise, not a guideline question
            verb = "left unlabelled" if what == "missing" else "labelled but read as no entity"
            hints.append(Hint(f"'{surface}' {verb} ({lab}, {len(fs)} times)", len(fs), (surface,),
                              f"Is '{surface}' a {lab}? Say so in the guideline.", ids(fs)))
    hints.sort(key=lambda h: (-h.count, h.pattern))
    return [h for h in hints if h.count >= min_count][:top]


# --------------------------------------------------------------------------- SVG charts
def _color(labels: Sequence[str]) -> dict[str, str]:
    return {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(labels)}


def bar_chart(counts: Sequence[tuple[str, int]], *, title: str, color: str | Mapping[str, str] = "#4e79a7",
              width: int = 420) -> str:
    """Horizontal bars as inline SVG (names and numbers escaped)."""
    if not counts:
        return f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption><p class="muted">none</p></figure>'
    row, pad, name_w = 22, 4, 150
    top = max(n for _, n in counts) or 1
    h = row * len(counts) + pad
    bars = []
    for i, (name, n) in enumerate(counts):
        y = i * row + pad
        w = 0 if n == 0 else max(2, (width - name_w - 50) * n / top)
        c = color.get(name, "#4e79a7") if isinstance(color, Mapping) else color
        bars.append(f'<text x="{name_w - 6}" y="{y + 14}" text-anchor="end">{html.escape(_short(name, 22))}</text>'
                    f'<rect x="{name_w}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{c}">'
                    f'<title>{html.escape(name)}: {n}</title></rect>'
                    f'<text x="{name_w + w + 4:.1f}" y="{y + 14}">{n}</text>')
    return (f'<figure class="chart"><figcaption>{html.escape(title)}</figcaption>'
            f'<svg role="img" width="{width}" height="{h}" viewBox="0 0 {width} {h}">{"".join(bars)}</svg></figure>')


def histogram(scores: Sequence[float], *, bins: int = 20, width: int = 420, height: int = 160) -> str:
    """Score histogram over ``[0, 1]`` as inline SVG (scores outside are clamped to the edge bins)."""
    counts = [0] * bins
    for s in scores:
        if isinstance(s, (int, float)) and not math.isnan(s):
            counts[min(bins - 1, max(0, int(float(s) * bins)))] += 1
    top = max(counts) or 1
    left, bottom = 44, 20
    bw = (width - left - 10) / bins
    parts = []
    for i, n in enumerate(counts):
        h = (height - bottom - 10) * n / top
        x = left + i * bw
        parts.append(f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bw - 1:.1f}" height="{h:.1f}" '
                     f'fill="#e15759"><title>{i / bins:.2f}-{(i + 1) / bins:.2f}: {n}</title></rect>')
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + t * (width - left - 10)
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">{t:g}</text>')
    parts.append(f'<text x="{left - 4}" y="14" text-anchor="end">{top}</text>')
    parts.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#888"/>')
    return (f'<figure class="chart"><figcaption>Finding scores (lower = more suspicious)</figcaption>'
            f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg>'
            "</figure>")


def confusion_table(conf: Counter) -> str:
    if not conf:
        return '<p class="muted">No finding with a fix.</p>'
    rows = sorted({a for a, _ in conf}, key=lambda x: (x == "-", x))
    cols = sorted({b for _, b in conf}, key=lambda x: (x == "-", x))
    top = max(conf.values())
    out = ['<div class="scroll"><table class="confusion"><thead><tr><th>labelled \\ suggested</th>']
    out += [f"<th>{html.escape(c)}</th>" for c in cols]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append(f"<tr><th>{html.escape(r)}</th>")
        for c in cols:
            n = conf.get((r, c), 0)
            alpha = 0 if n == 0 else 0.15 + 0.85 * n / top
            cls = ' class="diag"' if r == c and r != "-" else ""
            cell = f' data-cell="{html.escape(r + "|" + c)}"' if n else ""
            out.append(f'<td{cls}{cell} style="background:rgba(225,87,89,{alpha:.2f})" title="{html.escape(r)} -> '
                       f'{html.escape(c)}: {n}{" (click: show these findings)" if n else ""}">{n or ""}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "\u2026"


# --------------------------------------------------------------------------- data for the script
def _compact(v: Any, depth: int = 0) -> Any:
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, Mapping):
        return {str(k): _compact(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        items = [_compact(x, depth + 1) for x in v[:EVIDENCE_LIST_MAX]]
        if len(v) > EVIDENCE_LIST_MAX:
            items.append(f"... {len(v) - EVIDENCE_LIST_MAX} more")
        return items
    return v


def _compact_evidence(ev: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in ev.items():
        if k == "predicted_path" and isinstance(v, list):  # [{text, pred, p_pred, label, p_label}] -> rows
            v = [[w.get("text"), w.get("pred"), w.get("p_pred"), w.get("label"), w.get("p_label")]
                 if isinstance(w, Mapping) else w for w in v]
        out[str(k)] = _compact(v)
    return out


def _triples(spans: Iterable) -> list[list]:
    return [[s.start, s.end, s.label] for s in spans]


def review_order(f: Finding) -> tuple:
    """The page's default order: most suspicious first, ties (e.g. many scores of 0) by the confidence
    of the suggestion, most confident first, then by document and offset."""
    return (f.score, -f.confidence, f.doc_id, f.start, f.id)


def page_data(findings: Sequence[Finding], corpus: Corpus | None, *, context: int = CONTEXT_CHARS) -> dict[str, Any]:
    """What the page script renders: ``findings`` (most suspicious first) and, once per document
    with findings, its text (``docs``) and spans (``spans``, ``[start, end, label]``).

    Each finding has ``window`` = ``[a, b)``, the excerpt of its document to show; without a
    corpus it has ``texts`` (the spans' recorded texts) instead.
    """
    docs = corpus.by_id() if corpus is not None else {}
    out: list[dict] = []
    texts: dict[str, str] = {}
    spans: dict[str, list] = {}
    for rank, f in enumerate(sorted(findings, key=review_order), 1):
        doc = docs.get(f.doc_id)
        rec: dict[str, Any] = {
            "rank": rank, "id": f.id, "doc_id": f.doc_id, "kind": f.kind, "action": f.action,
            "score": round(f.score, 4), "confidence": round(f.confidence, 4), "start": f.start,
            "has_fix": f.has_fix, "cells": [f"{a}|{b}" for a, b in confusion_cells(f)],
            "labels_all": sorted({s.label for s in f.labels + f.suggestion}),
            "message": f.message, "evidence": _compact_evidence(f.evidence),
            "labels": _triples(f.labels), "suggestion": _triples(f.suggestion)}
        if doc is not None:
            has_spans = bool(f.labels or f.suggestion)
            a, b = excerpt(doc.text, f.start if has_spans else 0, f.end if has_spans else min(len(doc.text), 200),
                           width=context)
            rec["window"] = [a, b]
            if doc.id not in texts:
                texts[doc.id] = doc.text
                spans[doc.id] = _triples(doc.spans or ())
        else:  # no corpus: show the spans' own recorded texts
            rec["texts"] = {"labels": [s.meta.get("text", "") for s in f.labels],
                            "suggestion": [s.meta.get("text", "") for s in f.suggestion]}
        out.append(rec)
    return {"findings": out, "docs": texts, "spans": spans}


# --------------------------------------------------------------------------- the page
TRIAGE_MIN = 20


def triage(rate: float | None, n_spans: Any, n_findings: int) -> dict[str, Any] | None:
    """The default view's cut-off: as many findings, most suspicious first, as the errors the audit estimates
    (at least :data:`TRIAGE_MIN`); None when that is every finding or there is no estimate."""
    if rate is None or not isinstance(n_spans, int) or not n_spans:
        return None
    errors = int(round(rate * n_spans))
    k = max(TRIAGE_MIN, errors)
    return None if k >= n_findings else {"k": k, "errors": errors, "rate": round(rate, 4)}


def build_report(run: Run, *, corpus: Corpus | None = None, title: str | None = None,
                 context: int = CONTEXT_CHARS) -> str:
    """The HTML page for ``run`` (a string); ``corpus`` defaults to the run's corpus when it can be read."""
    from spanqa._version import __version__

    if corpus is None and run.has_corpus():
        corpus = run.corpus()
    findings = list(run.findings)
    summary = run.summary
    labels_seen = sorted({s.label for s in run.spans} | {s.label for f in findings for s in f.labels + f.suggestion}
                         | (set(corpus.labels) if corpus is not None else set()))
    colors = _color(labels_seen)
    raw_corpus = summary.get("corpus")
    csum = raw_corpus if isinstance(raw_corpus, Mapping) else {}
    n_docs = len(corpus) if corpus is not None else csum.get("n_docs", summary.get("documents"))
    n_ann = (sum(1 for d in corpus if d.annotated) if corpus is not None else csum.get("n_annotated_docs"))
    n_spans = (sum(len(d.spans or ()) for d in corpus) if corpus is not None
               else csum.get("n_spans", len(run.spans) or summary.get("spans")))
    est, lo, hi, ci_name = summary_rate(summary)
    rate = "n/a" if est is None else f"{est:.1%}"
    ci = f"{ci_name} {lo:.1%} \u2013 {hi:.1%}" if lo is not None and hi is not None else ""
    raw_rate = summary.get("error_rate")
    er = raw_rate if isinstance(raw_rate, Mapping) else {}
    if er.get("withheld"):
        rate, ci = "not estimated", str(er["withheld"])
    elif er.get("not_assessed"):
        ci += f"; over {', '.join(map(str, er.get('assessed_labels') or []))} only (not assessable: " \
              f"{', '.join(map(str, er['not_assessed']))})"
    by_kind = Counter(f.kind for f in findings)
    by_label = Counter(f.label for f in findings if f.label)
    texts = {d.id: d.text for d in corpus} if corpus is not None else {}
    hints = guideline_hints(findings, texts) if corpus is not None else []
    conf = confusion(findings)
    agree = summary.get("model_agreement") if isinstance(summary.get("model_agreement"), Mapping) else None
    cards = [("documents", n_docs), ("annotated", n_ann), ("labelled spans", n_spans),
             ("findings", len(findings)), ("estimated error rate", rate)]
    if agree and agree.get("f1") is not None:  # the yardstick of every finding: a weak model disagrees often
        cards.append(("model vs labels, span F1", f"{agree['f1']:.2f}"))
    stat_html = "".join(f'<div class="stat"><div class="v">{html.escape(str(v if v is not None else "n/a"))}</div>'
                        f'<div class="k">{html.escape(k)}</div>'
                        + (f'<div class="ci">{html.escape(ci)}</div>' if k == "estimated error rate" and ci else "")
                        + "</div>" for k, v in cards)
    hint_html = "".join(
        f'<li><span class="n">{h.count}</span> <b>{html.escape(h.pattern)}</b><br>'
        f'<span class="q">{html.escape(h.question)}</span> <a href="#hint={i}" data-hint="{i}">show the '
        f'{len(h.finding_ids)} findings</a></li>'
        for i, h in enumerate(hints, 1)) or '<li class="muted">No recurring pattern (or the corpus text is not available).</li>'
    data = {**page_data(findings, corpus, context=context), "colors": colors,
            "kinds": sorted(by_kind), "labels": sorted({lab for f in findings for lab in
                                                          {s.label for s in f.labels + f.suggestion}}),
            "all_labels": labels_seen, "page_size": PAGE_SIZE,
            "hints": {str(i): list(h.finding_ids) for i, h in enumerate(hints, 1)},
            "run_key": storage_key(run), "triage": triage(est, n_spans, len(findings))}
    run_name = html.escape(str(run.path))
    page_title = html.escape(title or f"spanqa review - {run.path.name}")
    legend = "".join(f'<span class="lg"><i style="background:{c}"></i>{html.escape(lab)}</span>'
                     for lab, c in colors.items())
    return _TEMPLATE.format(
        title=page_title, run=run_name, version=html.escape(__version__), stats=stat_html,
        kind_chart=bar_chart(by_kind.most_common(), title="Findings by kind", color="#4e79a7"),
        label_chart=bar_chart(by_label.most_common(), title="Findings by label", color=colors),
        histogram=histogram([f.score for f in findings]), confusion=confusion_table(conf), hints=hint_html,
        legend=legend, data=safe_json(data), impact=_impact(run), css=_asset("report.css"), js=_asset("report.js"),
        corpus_note="".join(f'<p class="warn">{html.escape(p.code)} {html.escape(p.title)}: {html.escape(p.detail)}. '
                            f'{html.escape(p.remedy)}</p>' for p in run.changed_since_audit(corpus))
        if corpus is not None else
        '<p class="warn">The corpus could not be read; excerpts show the spans\' recorded text only.</p>')


def _impact(run: Run) -> str:
    """The "What the fixes are worth" block when the run folder holds ``impact.json`` (``spanqa impact RUN``)."""
    path = run.path / "impact.json"
    if not path.is_file():
        return ""
    from spanqa.review.chart import impact_section

    try:
        return impact_section(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return (f'<section id="impact"><h2>What the fixes are worth</h2><p class="warn">{html.escape(str(path))} '
                "could not be read; rerun <code>spanqa impact</code>.</p></section>")


def storage_key(run: Run) -> str:
    """Which run the page's decisions belong to (the browser keeps them under this key): the run folder and
    its finding ids."""
    import hashlib

    h = hashlib.sha256(str(run.path.resolve()).encode("utf-8"))
    for f in sorted(run.findings, key=lambda f: f.id):
        h.update(f.id.encode("utf-8"))
    return h.hexdigest()[:16]


def write_run_report(run_dir: str | Path, corpus: Corpus | None = None) -> Path:
    """``RUN_DIR/report.html`` for a finished audit (``spanqa audit`` and ``spanqa demo`` end with it)."""
    from spanqa.run.reader import load_run

    run = load_run(run_dir)
    if corpus is not None:
        run = run.with_corpus(corpus)
    return write_report(run, Path(run_dir) / "report.html")


def write_report(run: Run, out: str | Path, **options: Any) -> Path:
    """Write the page to ``out`` and return its path."""
    out = Path(out)
    write_text(out, build_report(run, **options))
    return out


def _asset(name: str) -> str:
    """The page's stylesheet or script, shipped beside this module (``spanqa/review/assets/``)."""
    from importlib.resources import files

    return files("spanqa.review").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title><style>{css}</style></head>
<body><header><h1>{title}</h1><p>run {run} &middot; spanqa {version}</p></header>
<main>
<section id="overview"><h2>Overview</h2>{corpus_note}<div class="stats">{stats}</div></section>
<section id="charts"><h2>Findings</h2><div class="charts">{kind_chart}{label_chart}{histogram}</div></section>
<section id="confusion"><h2>Label confusion (labelled vs suggested)</h2>{confusion}
<p class="muted">Rows: the label in the corpus; columns: the label the fix suggests; "-": no span on that side (missing / spurious). The dashed diagonal holds boundary disagreements.</p></section>
{impact}<section id="hints"><h2>Guideline hints</h2><p class="muted">The most frequent patterns among the suggested fixes - candidate questions for the annotation guideline.</p><ul class="hints">{hints}</ul></section>
<section id="review"><h2>Findings to review (most suspicious first)</h2>
<div class="legend-box"><b>score</b>: how likely the label is right, from the out-of-fold model (0 = almost surely an error; the list starts there). <b>confidence</b>: how likely the suggested fix is right. A finding with a low score and a high confidence is the safest fix to accept; <i>review</i> findings question a label without suggesting one.</div>
<div class="filters">
<label>kind<select id="f-kind"></select></label>
<label>label<select id="f-label"></select></label>
<label>max score<input id="f-max" type="number" min="0" max="1" step="0.05" placeholder="any"></label>
<label>min confidence<input id="f-minconf" type="number" min="0" max="1" step="0.05" placeholder="any"></label>
<label>text<input id="f-q" type="search" placeholder="search the spans"></label>
<label>search in<select id="f-scope"><option value="spans">the finding's spans</option><option value="all">spans, message and context</option></select></label>
<label>sort by<select id="f-sort"><option value="score">score (most suspicious first)</option><option value="confidence">confidence of the fix</option><option value="doc">document</option></select></label>
<label>status<select id="f-status"><option value="">all</option><option value="open">not reviewed</option><option value="decided">reviewed</option><option value="unsure">unsure / guideline question</option><option value="disagree">disagreement with an imported file</option></select></label>
<button id="reset" type="button">reset</button></div>
<div id="filter-warn"></div><div id="active" class="muted"></div>
<div class="legend">{legend}</div>
<div class="toolbar"><span id="progress" class="progress"></span>
<label class="muted">reviewer <input id="reviewer" type="text" placeholder="your name"></label>
<button id="download" type="button">download decisions (.jsonl)</button>
<button id="undo" type="button">undo (u)</button>
<button id="clear" type="button">forget decisions</button>
<button id="bulk-accept" type="button" title="accept every undecided finding shown under the filter (asks first)">accept all shown</button>
<button id="bulk-reject" type="button" title="reject every undecided finding shown under the filter (asks first)">reject all shown</button>
<label class="muted">import decisions <input id="import" type="file" accept=".jsonl,.json"></label>
<span id="import-note" class="muted"></span>
<span id="store-note" class="muted"></span></div>
<p id="keys"><kbd>j</kbd>/<kbd>&darr;</kbd> next &middot; <kbd>k</kbd>/<kbd>&uarr;</kbd> previous &middot; <kbd>a</kbd> accept &middot; <kbd>r</kbd> reject &middot; <kbd>q</kbd> unsure / guideline question &middot; <kbd>e</kbd> edit the spans (select words in the note) &middot; <kbd>w</kbd> whole note &middot; <kbd>u</kbd> undo. Then: <code>spanqa apply RUN --accept decisions.jsonl --out NEW</code>.</p>
<div class="pager"><button id="prev" type="button">&larr; prev</button><span id="page"></span><button id="next" type="button">next &rarr;</button> <span id="count" class="muted"></span></div>
<div id="triage" class="triage"></div>
<div id="findings"></div>
<noscript><p class="warn">The findings list needs JavaScript.</p></noscript>
<pre id="js-errors"></pre><pre id="selftest"></pre>
</section>
</main>
<script type="application/json" id="spanqa-data">{data}</script>
<script>{js}</script>
</body></html>
"""


__getattr__ = renamed(__name__, {"error_rate": "summary_rate", "run_key": "storage_key"})  # old names, one release


__all__ = ["CONTEXT_CHARS", "EVIDENCE_LIST_MAX", "Hint", "PAGE_SIZE", "PALETTE", "TRIAGE_MIN", "bar_chart",
           "build_report", "categorize", "confusion", "confusion_cells", "confusion_table", "guideline_hints",
           "histogram", "page_data", "review_order", "safe_json", "storage_key", "summary_rate", "triage",
           "write_report", "write_run_report"]
