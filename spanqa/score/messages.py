"""The review sentences: one polite template per finding kind, filled with what the model and the label say.

Display only - a finding's kind, score and suggestion are decided in :mod:`spanqa.score.findings`; this module turns
them into the sentence a reviewer reads (and the notes added to it: how the rest of the corpus labels the same
words, an abbreviation's long form).

>>> from spanqa.score.findings import Finding
>>> from spanqa.core.span import Span
>>> f = Finding("d", "type", "relabel", 0.03, (Span("d", 19, 23, "Drug"),), (Span("d", 19, 23, "Strength"),),
...             {"p_suggestion": 0.94}, "")
>>> render_message(f, "Pt started aspirin 81mg")
"The model is 94% confident '81mg' is a Strength, while the label calls it a Drug. Could we review it together?"
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from spanqa.core.span import Span

#: quoted span texts longer than this are shortened in messages
QUOTE_CHARS = 60


def quote(text: str) -> str:
    """``text`` in quotes for a sentence: whitespace collapsed, shortened past :data:`QUOTE_CHARS`."""
    text = " ".join(text.split())
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 3] + "..."
    return "'" + text.replace("'", "\u2019") + "'"


def pct(p: float) -> str:
    """A percentage for a sentence: never 0% or 100% (the model is never certain)."""
    return f"{int(min(99, max(1, round(100 * float(p)))))}%"


def _a(label: str) -> str:
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label


def _listing(spans: Sequence[Span], text: str) -> str:
    items = [f"{quote(s.text_in(text))} ({s.label})" for s in spans]
    if not items:
        return "no entity"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


#: one template per kind; fields are filled by :func:`render_message`
TEMPLATES: dict[str, str] = {
    "type": "The model is {p} confident {text} is {a_sug_label}, while the label calls it {a_label}. "
            "Could we review it together?",
    "boundary": "The model is {p} confident the {label} span is {sug_text}, while the label covers {text}. "
                "Could we check together where it should start and end?",
    "boundary_type": "The model is {p} confident {sug_text} is {a_sug_label}, while the label covers {text} "
                     "as one {label} span. Could we review it together?",
    "split": "The model is {p} confident {text} holds {n_sug} spans, {sug_list}, while the label covers it as "
             "one {label} span. Could we review it together?",
    "merge": "The model is {p} confident {sug_text} is one {sug_label} span, while the labels split it into "
             "{lab_list}. Could we review it together?",
    "complex": "The model reads {hull_text} differently ({p} confident): it predicts {sug_list}, while the "
               "labels have {lab_list}. Could we look at this passage together?",
    "missing": "The model is {p} confident {sug_text} is {a_sug_label}, but no label covers it. "
               "Could it be a missing annotation?",
    "spurious": "The model is {p} confident {text} is not an entity, while the label marks it as {a_label}. "
                "Could we check together whether it belongs?",
    "ambiguous": "The model agrees {text} is one entity but splits its belief between {top1} ({p1}) and "
                 "{top2} ({p2}), and the label says {label}. Could we check the guideline for this case together?",
    "low_confidence": "The model matches the {label} label on {text} but is only {q} confident it is exactly "
                      "right (its best alternative: {alt}). Could we have a second look together?",
    "inconsistent_relabel": "Elsewhere in the corpus {text} is labelled {sug_label} {k} of {n} times, while here "
                            "the label calls it {a_label} (the model is {p} confident it is {a_sug_label}). Could we check it "
                            "against the guideline together?",
    "inconsistent_delete": "Elsewhere in the corpus {text} is left unlabelled {k} of {n} times, while here the label "
                           "marks it as {a_label} (the model is {p} confident it is not an entity). Could we check together whether "
                           "it belongs?",
    "inconsistent_add": "Elsewhere in the corpus {sug_text} is labelled {sug_label} {k} of {n} times, but no label "
                        "covers it here (the model is {p} confident it is {a_sug_label}). Could it be a missing annotation?",
    "out_of_distribution": "Note {doc} looks unlike the rest of the corpus (the model's mean confidence there is "
                           "{conf} against a corpus median of {median}, and {oov} of its words appear in no other "
                           "note), so its labels deserve a closer look. Could we review it together?",
}


def corpus_note(text: str, surface: Mapping[str, int]) -> str:
    """How the rest of the corpus reads a string, as a sentence (empty without other occurrences).

    >>> corpus_note("'FAP'", {"SpecificDisease": 10, "Modifier": 4, "O": 4})
    "Elsewhere in the corpus 'FAP' is labelled SpecificDisease 10 times and Modifier 4 times, and left unlabelled 4 times."
    """
    labelled = sorted(((n, lab) for lab, n in surface.items() if lab != "O" and n), key=lambda x: (-x[0], x[1]))
    plain = int(surface.get("O", 0))
    if not labelled and not plain:
        return ""
    times = lambda n: "once" if n == 1 else f"{n} times"  # noqa: E731
    parts = [f"{lab} {times(n)}" for n, lab in labelled]
    said = ("is labelled " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])) \
        if parts else ""
    if plain:
        said += (", and " if said else "is ") + f"left unlabelled {times(plain)}"
    return f"Elsewhere in the corpus {text} {said}."


def abbreviation_note(abbreviation: Mapping[str, str]) -> str:
    """The long form of a short form, as a sentence."""
    return (f"{quote(abbreviation['short'])} abbreviates {quote(abbreviation['long'])} in this note, which is labelled "
            f"{abbreviation['label']}.")


def with_notes(message: str, *notes: str) -> str:
    """The review sentence with the evidence notes before its closing question."""
    notes = tuple(n for n in notes if n)
    if not notes:
        return message
    head, sep, question = message.rpartition(". ")
    if sep and question.endswith("?"):
        return f"{head}. {' '.join(notes)} {question}"
    return f"{message} {' '.join(notes)}"


def render_message(finding: Any, text: str) -> str:
    """The review sentence of ``finding`` (a :class:`spanqa.score.findings.Finding`; one template per kind,
    :data:`TEMPLATES`)."""
    ev = finding.evidence
    labels, sug = finding.labels, finding.suggestion
    first_l = labels[0] if labels else None
    first_s = sug[0] if sug else None
    spans = labels + sug
    hull = text[min(s.start for s in spans):max(s.end for s in spans)] if spans else ""
    fields: dict[str, Any] = {
        "p": pct(ev.get("p_suggestion", 0.0)),
        "text": quote(first_l.text_in(text)) if first_l else "",
        "label": first_l.label if first_l else "",
        "a_label": _a(first_l.label) if first_l else "",
        "sug_text": quote(first_s.text_in(text)) if first_s else "",
        "sug_label": first_s.label if first_s else "",
        "a_sug_label": _a(first_s.label) if first_s else "",
        "n_sug": len(sug),
        "sug_list": _listing(sug, text),
        "lab_list": _listing(labels, text),
        "hull_text": quote(hull),
        "doc": repr(finding.doc_id),
    }
    if finding.kind == "ambiguous":
        (l1, p1), (l2, p2) = ev["top_labels"][:2]
        fields.update(top1=l1, p1=pct(p1), top2=l2, p2=pct(p2))
    elif finding.kind == "low_confidence":
        alt = ev.get("alternative") or {}
        if alt.get("kind") == "none":
            alt_s = f"no entity, {pct(alt['p'])}"
        elif alt:
            alt_s = f"{quote(text[alt['start']:alt['end']])} as {_a(alt['label'])}, {pct(alt['p'])}"
        else:
            alt_s = "none"
        fields.update(q=pct(ev.get("p_labels", finding.score)), alt=alt_s)
    elif finding.kind == "inconsistent":
        fields.update(k=ev["majority_count"], n=ev["n_other"])
        return TEMPLATES[f"inconsistent_{finding.action}"].format(**fields)
    elif finding.kind == "out_of_distribution":
        fields.update(conf=pct(ev["mean_confidence"]), median=pct(ev["corpus_median_confidence"]),
                      oov=pct(ev["oov_rate"]) if ev["oov_rate"] > 0 else "none")
    return TEMPLATES[finding.kind].format(**fields)


__all__ = ["QUOTE_CHARS", "TEMPLATES", "abbreviation_note", "corpus_note", "pct", "quote", "render_message",
           "with_notes"]
