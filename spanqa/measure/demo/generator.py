"""Synthetic clinical notes with gold spans: the clean half of spanqa's demo corpus.

:func:`generate_notes` writes admission notes, progress notes and discharge
summaries for invented patients (several notes per patient, ``Document.group``
= the patient id, doc ids ``p012_n2``).  Every note is built from templates in
a small markup - ``⟦Drug|aspirin⟧`` is an entity, ``⟪Route|PO⟫`` a non-entity
that looks like one - which :func:`parse_markup` turns into text plus spans with
exact half-open character offsets.  Nothing comes from a real record.

Annotation convention (the clean gold follows it everywhere):

- ``Drug``: the drug name only (generic or brand): ``aspirin``, ``insulin glargine``.
- ``Strength``: amount with its unit, glued or not: ``81mg``, ``500 mg``, ``20 units``.
- ``Form``: ``tablet``, ``ER capsule``, ``inhaler``, ``patch``.
- ``Route``: ``PO``, ``by mouth``, ``IV``, ``subcutaneously``, ``inhaled``.
- ``Frequency``: including prn: ``BID``, ``twice daily``, ``q6h prn``, ``every 6 hours as needed``.
- ``Problem``: diagnoses, symptoms and findings, negated or not: ``CHF``,
  ``community-acquired pneumonia``, ``chest pain`` in "denies chest pain".
- ``Test``: labs, vitals, imaging and procedures: ``Na``, ``BP``, ``chest x-ray``, ``troponin``.
- ``Value``: a measured result with its unit: ``134 mmol/L``, ``180/110``, ``38.5C``, ``8.9%``.

Not annotated: ages, durations ("for 7 days", "in 2 weeks"), dose amounts such
as "2 puffs", diets, code status, oxygen flow ("2L NC").  Those phrases are the
pool from which :func:`spanqa.measure.demo.noise.inject_errors` draws *spurious* errors;
their offsets are kept in ``Document.meta["distractors"]`` as ``[start, end, label]``.

Every span edge falls on a word edge of :func:`spanqa.corpus.tokenize.tokenize`
(``81mg`` is two words, ``81`` ``mg``, and the Strength covers both).

Why one module of ~600 lines: each note template writes its sentences and the gold spans they carry in the same
step; split apart, a sentence and its spans could drift.

>>> docs = generate_notes(n_notes=3, seed=1)
>>> len(docs), docs[0].id, docs[0].group
(3, 'p001_n1', 'p001')
>>> all(doc.text[s.start:s.end].strip() for doc in docs for s in doc.spans)
True

"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from random import Random
from typing import Literal, Sequence

from spanqa.core.document import Document
from spanqa.core.span import Span, sort_spans
from spanqa.measure.demo import vocab as V

NoteType = Literal["admission note", "progress note", "discharge summary"]

#: Labels of the demo corpus, in the order of the convention above.
LABELS: tuple[str, ...] = ("Drug", "Strength", "Form", "Route", "Frequency", "Problem", "Test", "Value")

#: Word-count range of one note (whitespace-separated words).
MIN_WORDS, MAX_WORDS = 80, 200

_MARK = re.compile(r"⟦([A-Za-z]+)\|([^⟦⟧⟪⟫]+)⟧|⟪([A-Za-z]+)\|([^⟦⟧⟪⟫]+)⟫")


def E(label: str, text: str) -> str:
    """Markup for an entity."""
    return f"⟦{label}|{text}⟧"


def X(label: str, text: str) -> str:
    """Markup for a look-alike non-entity (a spurious-error candidate)."""
    return f"⟪{label}|{text}⟫"


def parse_markup(doc_id: str, marked: str) -> tuple[str, tuple[Span, ...], tuple[tuple[int, int, str], ...]]:
    """Strip the markup: ``(text, spans, distractors)`` with half-open character offsets.

    >>> text, spans, distractors = parse_markup("d", "Took ⟦Drug|aspirin⟧ ⟦Strength|81mg⟧ ⟪Route|PO⟫ intake")
    >>> text, [(s.start, s.end, s.label) for s in spans], distractors
    ('Took aspirin 81mg PO intake', [(5, 12, 'Drug'), (13, 17, 'Strength')], ((18, 20, 'Route'),))
    """
    out: list[str] = []
    spans: list[Span] = []
    distractors: list[tuple[int, int, str]] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(marked):
        plain = marked[pos:m.start()]
        out.append(plain)
        length += len(plain)
        label, surface = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if surface != surface.strip():
            raise ValueError(f"markup {m.group(0)!r} in {doc_id} has surrounding whitespace")
        if m.group(1):
            spans.append(Span(doc_id, length, length + len(surface), label))
        else:
            distractors.append((length, length + len(surface), label))
        out.append(surface)
        length += len(surface)
        pos = m.end()
    out.append(marked[pos:])
    text = "".join(out)
    if any(ch in text for ch in "⟦⟧⟪⟫"):
        raise ValueError(f"unbalanced markup in {doc_id}: {text!r}")
    return text, sort_spans(spans), tuple(distractors)


def group_of(doc_id: str) -> str:
    """The patient id carried by a demo doc id: ``"p012_n2"`` -> ``"p012"``.

    brat has no field for a patient, so the demo corpus puts it in the file name.
    """
    return doc_id.split("_", 1)[0]


# --------------------------------------------------------------------------- patients


@dataclass
class _Med:
    spec: V.DrugSpec
    strength: tuple[str, str]
    freq: str | None
    form: str | None
    reason: str | None = None
    kind: str | None = None  # administration kind when it differs from the drug's usual one

    @property
    def route_kind(self) -> str:
        return self.kind or self.spec.kind


@dataclass
class _Patient:
    pid: str
    age: int
    sex: str
    chronic: list[str]
    home: list[_Med]
    admission: str
    inpatient: list[_Med]
    discharge: list[_Med]
    allergy: tuple[str, str] | None
    n_notes: int
    preferred: dict[str, str] = field(default_factory=dict)


def _weighted(rng: Random, items: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(list(items), weights=list(weights), k=1)[0]


def _same_class(a: str, b: str) -> bool:
    return a == b or any(a in c and b in c for c in V.DRUG_CLASSES)


def _pick_drugs(rng: Random, names: Sequence[str], k: int, *, taken: Sequence[str] = ()) -> list[str]:
    """Up to ``k`` drugs from ``names``, weighted by their Zipf-like weights, no two of one class
    (nor of a class in ``taken``): nobody is on two statins."""
    pool = [n for n in names if n in V.DRUGS and not any(_same_class(n, t) for t in taken)]
    chosen: list[str] = []
    while pool and len(chosen) < k:
        w = [max(V.DRUGS[n].weight, 0.2) for n in pool]
        name = _weighted(rng, pool, w)
        chosen.append(name)
        pool = [n for n in pool if not _same_class(n, name)]
    return chosen


def _make_med(rng: Random, name: str) -> _Med:
    spec = V.DRUGS[name]
    strength = rng.choice(spec.strengths)
    freq = rng.choice(spec.freqs) if spec.freqs else None
    forms = spec.forms if spec.forms is not None else V.FORMS[spec.kind]
    form = rng.choice(forms) if forms else None
    reason = rng.choice(spec.reasons) if spec.reasons and freq and "prn" in freq else None
    return _Med(spec, strength, freq, form, reason)


def _make_patient(rng: Random, pid: str, n_notes: int) -> _Patient:
    sex = rng.choice("MF")
    age = rng.randint(41, 93)
    keys = [k for k, c in V.CHRONIC.items() if c.sex in (None, sex)]
    weights = [V.CHRONIC[k].weight for k in keys]
    chronic: list[str] = []
    for _ in range(rng.choice((2, 3, 3, 4, 4, 5))):
        k = _weighted(rng, keys, weights)
        if k not in chronic:
            chronic.append(k)
    admission = _weighted(rng, list(V.ACUTE), [a.weight for a in V.ACUTE.values()])
    needed = V.ADMISSION_NEEDS.get(admission)
    if needed and needed not in chronic:
        chronic.insert(0, needed)
    home: list[_Med] = []
    seen: list[str] = []
    for k in chronic:
        for name in _pick_drugs(rng, V.CHRONIC[k].drugs, rng.choice((1, 1, 2)), taken=seen):
            seen.append(name)
            home.append(_make_med(rng, name))
    acute = V.ACUTE[admission]
    inpatient = [_make_med(rng, n) for n in _pick_drugs(rng, acute.inpatient, rng.choice((1, 2, 2)))]
    for m in inpatient:
        if m.spec.name in acute.given_iv:
            m.kind, m.form = "iv", None
    # a drug continued at discharge keeps its inpatient strength and frequency (unless IV)
    same = {m.spec.name: m for m in inpatient if m.route_kind != "iv"}
    discharge = [same.get(n) or _make_med(rng, n)
                 for n in _pick_drugs(rng, acute.discharge, rng.choice((0, 1, 1, 2)), taken=seen)]
    allergy = None
    if rng.random() < 0.45:
        drug, reactions = rng.choice(V.ALLERGENS)
        allergy = (drug, rng.choice(reactions))
    preferred = {k: rng.choice(V.CHRONIC[k].names) for k in chronic}
    return _Patient(pid, age, sex, chronic, home, admission, inpatient, discharge, allergy, n_notes, preferred)


# --------------------------------------------------------------------------- phrases


def _num(rng: Random, lo: float, hi: float, decimals: int) -> str:
    value = rng.uniform(lo, hi)
    return f"{value:.{decimals}f}" if decimals else str(int(round(value)))


def _strength(rng: Random, amount: str, unit: str) -> str:
    if unit in ("mg", "mcg", "g") and "/" not in amount and rng.random() < 0.18:
        return amount + unit
    return amount + unit if unit == "%" else f"{amount} {unit}"


def _drug_name(rng: Random, spec: V.DrugSpec) -> str:
    if spec.brands and rng.random() < 0.12:
        return rng.choice(spec.brands)
    return spec.name


def _med_phrase(rng: Random, med: _Med, *, style: Literal["list", "prose", "short"]) -> str:
    """One medication mention in markup: Drug, Strength and, by style, Form, Route, Frequency."""
    spec = med.spec
    name = E("Drug", _drug_name(rng, spec))
    amount, unit = med.strength
    strength = E("Strength", _strength(rng, amount, unit))
    route = E("Route", rng.choice(V.ROUTES[med.route_kind]))
    freq = E("Frequency", rng.choice(V.FREQUENCIES[med.freq])) if med.freq else ""
    if med.freq is None:  # IV fluid bolus
        return f"{name} {strength} {route} bolus"
    form = E("Form", med.form) if med.form else ""
    dose = rng.choice(spec.dosage) if spec.dosage else ""
    if dose:
        dose = X("Strength", dose)
    reason = ""
    if med.reason:
        reason = rng.choice((" for ", " for ", " ", " prn ")) if "prn" not in (freq.lower()) else rng.choice((" for ", " "))
        reason = f"{reason}{E('Problem', med.reason)}"
    if style == "short":
        parts = [name, strength, freq]
    elif spec.kind in ("inhaled",):
        parts = [name, strength, form, dose, route, freq] if rng.random() < 0.6 else [name, form, dose, freq]
    elif style == "list":
        r = rng.random()
        if r < 0.30 and form:
            parts = [name, strength, form, route, freq]
        elif r < 0.80:
            parts = [name, strength, route, freq]
        elif r < 0.9 and form:
            parts = [name, strength, form, f"- take 1 {form}", route, freq]
        else:
            parts = [name, strength, freq]
    else:
        parts = [name, strength, route, freq] if rng.random() < 0.7 else [name, strength, freq]
    return " ".join(p for p in parts if p) + reason


def _problem(rng: Random, key: str, preferred: dict[str, str] | None = None) -> str:
    """A chronic problem's surface; a patient's preferred name most of the time."""
    if preferred and key in preferred and rng.random() < 0.7:
        return E("Problem", preferred[key])
    return E("Problem", rng.choice(V.CHRONIC[key].names))


def _join(items: Sequence[str], rng: Random) -> str:
    if len(items) == 1:
        return items[0]
    last = " and " if len(items) == 2 else rng.choice((" and ", ", and ", ", "))
    return ", ".join(items[:-1]) + last + items[-1]


def _lab(rng: Random, key: str, state: str = "normal", *, with_unit: float = 0.55) -> str:
    lab = V.LABS[key]
    lo, hi = {"+": lab.high, "-": lab.low}.get(state, lab.normal)
    if (lo, hi) == (0.0, 0.0):
        lo, hi = lab.normal
    value = _num(rng, lo, hi, lab.decimals) + lab.suffix
    if lab.units and rng.random() < with_unit:
        value = f"{value} {rng.choice(lab.units)}"
    sep = rng.choice((" ", " ", " ", " of "))
    return f"{E('Test', rng.choice(lab.names))}{sep}{E('Value', value)}"


def _vitals(rng: Random, profile: str, *, items: int = 4) -> str:
    r = V.VITALS[profile]
    parts: list[str] = []
    t = rng.uniform(*r.temp_c)
    temp = rng.choice((f"{t:.1f}C", f"{t:.1f} C", f"{t:.1f}", f"{t * 9 / 5 + 32:.1f}F"))
    parts.append(f"{E('Test', rng.choice(V.VITAL_NAMES['temp']))} {E('Value', temp)}")
    bp = f"{rng.randint(*r.sbp)}/{rng.randint(*r.dbp)}"
    parts.append(f"{E('Test', rng.choice(V.VITAL_NAMES['bp']))} {E('Value', bp + rng.choice(('', '', ' mmHg')))}")
    parts.append(f"{E('Test', rng.choice(V.VITAL_NAMES['hr']))} {E('Value', str(rng.randint(*r.hr)) + rng.choice(('', '', ' bpm')))}")
    parts.append(f"{E('Test', rng.choice(V.VITAL_NAMES['rr']))} {E('Value', str(rng.randint(*r.rr)))}")
    spo2 = rng.randint(*r.spo2)
    support = rng.choice((" on room air", " on RA", f" on {X('Value', '2L')} NC", f" on {X('Value', '3L')} nasal cannula")) \
        if spo2 < 93 else rng.choice((" on room air", " on RA", ""))
    parts.append(f"{E('Test', rng.choice(V.VITAL_NAMES['spo2']))} {E('Value', f'{spo2}%')}{support}")
    keep = sorted(rng.sample(range(len(parts)), k=min(items, len(parts))))
    return ", ".join(parts[i] for i in keep)


def _finding(rng: Random, test: str, finding: str) -> str:
    body = re.sub(r"\[([^\]]+)\]", lambda m: E("Problem", m.group(1)), finding)
    verbs = ("showed", "showed", "revealed", "demonstrated")
    verb = rng.choice(verbs if finding.startswith("no ") else verbs + ("was notable for",))
    return f"{E('Test', test)} {verb} {body}"


def _age_sex(rng: Random, p: _Patient) -> str:
    age = X("Value", str(p.age))
    sex = rng.choice(V.SEX_WORDS[p.sex])
    if len(sex) == 1:
        return rng.choice((f"{age} y/o {sex}", f"{age} yo {sex}", f"{age} y/o {sex}"))
    return rng.choice((f"{age}-year-old {sex}", f"{age} year old {sex}", f"{age} y/o {sex}"))


def _sentence(s: str) -> str:
    """Capitalise the first character outside markup."""
    if s.startswith("⟦") or s.startswith("⟪"):
        bar = s.index("|")
        return s[:bar + 1] + s[bar + 1].upper() + s[bar + 2:]
    return s[0].upper() + s[1:]


# --------------------------------------------------------------------------- sections


def _pmh_section(rng: Random, p: _Patient, *, extra: Sequence[str] = ()) -> str:
    items = [_problem(rng, k, p.preferred) for k in p.chronic] + list(extra)
    head = rng.choice(("Past Medical History:", "Past Medical History:", "PMH:", "Past Medical Hx:"))
    if rng.random() < 0.5:
        return head + " " + ", ".join(items) + "."
    bullet = rng.choice(("- ", "* ", None))
    lines = [f"{bullet}{it}" if bullet else f"{i + 1}. {it}" for i, it in enumerate(items)]
    return head + "\n" + "\n".join(lines)


def _med_section(rng: Random, meds: Sequence[_Med], head: str) -> str:
    if not meds:
        return f"{head} none."
    numbered = rng.random() < 0.4
    lines = [(f"{i + 1}. " if numbered else "- ") + _med_phrase(rng, m, style="list") for i, m in enumerate(meds)]
    return head + "\n" + "\n".join(lines)


def _allergy_section(rng: Random, p: _Patient) -> str:
    if p.allergy is None:
        return "Allergies: " + rng.choice(("NKDA", "NKDA", "No known drug allergies", "none known")) + "."
    drug, reaction = p.allergy
    sep = rng.choice((" (", " - ", ": "))
    close = ")" if sep == " (" else ""
    return f"Allergies: {E('Drug', drug)}{sep}{E('Problem', reaction)}{close}."


def _labs_section(rng: Random, p: _Patient, *, day: int) -> str:
    acute = V.ACUTE[p.admission]
    keys = [k[:-1] for k in acute.labs]
    states = {k[:-1]: k[-1] for k in acute.labs}
    if day > 2:  # improving
        states = {k: (s if rng.random() < 0.4 else "normal") for k, s in states.items()}
    basics = [k for k in ("na", "k", "cr", "wbc", "hgb", "glucose") if k not in keys]
    chosen = keys[: rng.randint(1, len(keys))] + rng.sample(basics, k=rng.randint(1, 3))
    rng.shuffle(chosen)
    items = [_lab(rng, k, states.get(k, "normal")) for k in chosen]
    head = rng.choice(("Labs:", "Labs:", "Pertinent labs:", "Labs notable for"))
    tail = ""
    if "troponin" not in chosen and rng.random() < 0.3:
        tail = " " + E("Test", rng.choice(("Troponin", "Troponin", "Troponins"))) + " negative" + rng.choice((" x2", " x3", "")) + "."
    return f"{head} {', '.join(items)}.{tail}"


def _plan_reason(rng: Random, p: _Patient, meds: Sequence[_Med], name: str, *, stage: str) -> str:
    acute = V.ACUTE[p.admission]
    sents: list[str] = []
    if meds:
        verb = {"admit": rng.choice(("Start", "Started", "Begin", "Started on")),
                "progress": rng.choice(("Continue", "Continue", "On")),
                "discharge": rng.choice(("Treated with", "Received"))}[stage]
        sents.append(f"{verb} {_join([_med_phrase(rng, m, style='prose') for m in meds], rng)}")
        if stage == "discharge" and rng.random() < 0.6:
            sents[-1] += f" for {rng.choice(V.COURSE_DAYS) if rng.random() < 0.5 else X('Frequency', rng.choice(V.COURSE_DAYS))}"
    tests = rng.sample(acute.tests, k=min(len(acute.tests), rng.choice((1, 2))))
    t = _join([E("Test", x) for x in tests], rng)
    if stage == "admit":
        sents.append(rng.choice((f"Follow up {t}", f"Check {t}", f"{_sentence(t)} pending", f"Obtain {t}")))
    elif stage == "progress":
        sents.append(rng.choice((f"{_sentence(t)} pending", f"Follow up {t}", f"Repeat {t} in AM", f"{_sentence(t)} reviewed")))
    if acute.monitor and rng.random() < 0.5:
        sents.append(rng.choice(acute.monitor).rstrip("."))
    return f"# {name}: " + ". ".join(_sentence(s) for s in sents) + "."


def _plan_chronic(rng: Random, p: _Patient, key: str) -> str:
    cond = V.CHRONIC[key]
    name = _problem(rng, key, p.preferred)
    meds = [m for m in p.home if m.spec.name in cond.drugs]
    if not meds:
        phrase = rng.choice(cond.plan) if cond.plan else rng.choice(("stable", "at baseline", "monitor"))
        return f"# {name}: {phrase}."
    m = rng.choice(meds)
    acute_names = V.ACUTE[p.admission].names
    r = rng.random()
    if r < 0.55:
        return f"# {name}: {rng.choice(('continue home', 'continue', 'stable, continue'))} {_med_phrase(rng, m, style='short')}."
    if r < 0.75 and m.spec.name in V.HOLD_WHEN_ACUTE:
        return f"# {name}: hold {E('Drug', _drug_name(rng, m.spec))} in the setting of {E('Problem', rng.choice(acute_names))}."
    if r < 0.88:
        return f"# {name}: stable on {E('Drug', _drug_name(rng, m.spec))}."
    amount, unit = rng.choice(m.spec.strengths)
    return (f"# {name}: {rng.choice(('increase', 'increased', 'titrate'))} {E('Drug', _drug_name(rng, m.spec))}"
            f" to {E('Strength', _strength(rng, amount, unit))} {E('Frequency', rng.choice(V.FREQUENCIES[m.freq]))}."
            if m.freq else f"# {name}: stable on {E('Drug', m.spec.name)}.")


def _hpi(rng: Random, p: _Patient, *, brief: bool = False) -> str:
    acute = V.ACUTE[p.admission]
    pmh = _join([_problem(rng, k, p.preferred) for k in p.chronic[: rng.randint(1, min(3, len(p.chronic)))]], rng)
    sx = _join([E("Problem", s) for s in rng.sample(acute.symptoms, k=rng.randint(1, 3))], rng)
    dur = rng.choice(V.DURATIONS)
    first = rng.choice((
        f"{_age_sex(rng, p)} with a history of {pmh} who presents with {dur} of {sx}.",
        f"{_age_sex(rng, p)} with PMH of {pmh} presenting with {sx} for {dur}.",
        f"Pt is a {_age_sex(rng, p)} with hx of {pmh}, admitted with {sx} x {dur}.",
        f"{_age_sex(rng, p)} with {pmh} who reports {dur} of {sx}.",
    ))
    sents = [first]
    if not brief:
        sents.append(f"In the ED, {_vitals(rng, acute.vitals, items=rng.randint(2, 4))}.")
    if acute.findings[:acute.ed_findings] and rng.random() < 0.8:
        sents.append(_sentence(_finding(rng, *rng.choice(acute.findings[:acute.ed_findings]))) + ".")
    if rng.random() < 0.4:
        denied = [s for s in ("chest pain", "abdominal pain", "headache", "hemoptysis", "dysuria", "syncope", "fevers")
                  if not any(s in x or x in s for x in acute.symptoms)]
        sents.append(f"Denies {_join([E('Problem', s) for s in rng.sample(denied, k=2)], rng)}.")
    return rng.choice(("HPI:", "HPI:", "History of Present Illness:")) + " " + " ".join(sents)


def _admission_note(rng: Random, p: _Patient) -> str:
    acute = V.ACUTE[p.admission]
    reason = rng.choice(acute.names)
    home = rng.sample(p.home, k=min(len(p.home), rng.randint(2, 4)))
    parts = [
        rng.choice(("ADMISSION NOTE", "ADMISSION H&P", "History and Physical")),
        _hpi(rng, p, brief=True),
        _pmh_section(rng, p),
        _med_section(rng, home, rng.choice(("Medications:", "Home Medications:", "Medications on admission:"))),
        _allergy_section(rng, p),
        _labs_section(rng, p, day=1),
        "Assessment and Plan:\n" + f"{_age_sex(rng, p)} admitted with {E('Problem', reason)}.\n"
        + _plan_reason(rng, p, p.inpatient, E("Problem", rng.choice(acute.names)), stage="admit")
        + "".join("\n" + _plan_chronic(rng, p, k) for k in rng.sample(p.chronic, k=min(2, len(p.chronic)))),
    ]
    return "\n\n".join(parts)


def _progress_note(rng: Random, p: _Patient, day: int) -> str:
    acute = V.ACUTE[p.admission]
    better = rng.sample(acute.symptoms, k=min(2, len(acute.symptoms)))
    subj = rng.choice((
        f"Feels better today; {E('Problem', better[0])} improving.",
        f"No acute events overnight. Reports less {E('Problem', better[0])}.",
        f"Still with {E('Problem', better[0])}, but {E('Problem', better[1])} has resolved.",
        f"Overnight {E('Problem', better[0])} improved. Denies {E('Problem', 'chest pain')}."
        if not any("chest" in x for x in acute.symptoms) else f"{_sentence(E('Problem', better[0]))} is better today.",
    ))
    if rng.random() < 0.6:
        subj += " " + rng.choice(V.SPURIOUS_LINES)
    extra = ""
    if acute.findings and rng.random() < 0.5:
        extra = "\n" + _sentence(_finding(rng, *rng.choice(acute.findings))) + "."
    exam = _exam(rng, p, improving=day > 2)
    heads = rng.choice((("Subjective:", "Objective:"), ("S:", "O:"), ("Interval History:", "Objective:")))
    parts = [
        rng.choice((f"PROGRESS NOTE - Hospital Day {day}", f"Progress Note, HD#{day}", f"Daily Progress Note (HD {day})")),
        heads[0] + " " + subj,
        heads[1] + " Vitals: " + _vitals(rng, "normal" if day > 2 else acute.vitals) + "."
        + "\n" + exam + extra,
        _labs_section(rng, p, day=day),
        rng.choice(("Assessment and Plan:", "A/P:", "Assessment/Plan:")) + "\n"
        + _plan_reason(rng, p, p.inpatient, E("Problem", rng.choice(acute.names)), stage="progress")
        + "".join("\n" + _plan_chronic(rng, p, k) for k in rng.sample(p.chronic, k=min(rng.randint(2, 3), len(p.chronic)))),
    ]
    return "\n\n".join(parts)


def _exam(rng: Random, p: _Patient, *, improving: bool) -> str:
    """A short physical exam; findings and negated findings are Problems."""
    lines = [rng.choice(("Gen: NAD, alert and oriented.", "Gen: comfortable, in no distress.", "General: well appearing."))]
    lung = V.EXAM_LUNGS.get(p.admission, ())
    if lung and not improving:
        lines.append("Lungs: " + rng.choice(lung) + ".")
    else:
        lines.append("Lungs: clear to auscultation bilaterally, no " + E("Problem", rng.choice(("wheezes", "crackles"))) + ".")
    rhythm = "irregularly irregular" if p.admission == "afib_rvr" else "RRR"
    lines.append("CV: " + rng.choice(("RRR", "regular rate and rhythm", rhythm))
                 + ", no " + E("Problem", rng.choice(("murmurs", "murmur", "rubs"))) + ".")
    ext = V.EXAM_EXT.get(p.admission, ())
    if ext and rng.random() < 0.7:
        lines.append("Ext: " + rng.choice(ext) + ".")
    else:
        lines.append("Ext: no " + E("Problem", rng.choice(("edema", "lower extremity edema", "cyanosis"))) + ".")
    return "Exam: " + " ".join(lines)


def _discharge_summary(rng: Random, p: _Patient, *, days: int) -> str:
    acute = V.ACUTE[p.admission]
    reason = E("Problem", rng.choice(acute.names))
    course = [f"{_age_sex(rng, p)} admitted with {reason}."]
    if acute.findings and rng.random() < 0.7:
        course.append(_sentence(_finding(rng, *rng.choice(acute.findings))) + ".")
    if p.inpatient:
        course.append(_plan_reason(rng, p, p.inpatient[:1], "", stage="discharge")[4:])
    pronoun = "he" if p.sex == "M" else "she"
    course.append(rng.choice((f"Symptoms improved and {pronoun} was discharged on hospital day {days}.",
                              "Clinically improved and stable for discharge.",
                              f"Discharged home on day {days} in good condition.")))
    meds = rng.sample(p.home, k=min(len(p.home), rng.randint(1, 3))) + p.discharge
    parts = [
        rng.choice(("DISCHARGE SUMMARY", "Discharge Summary")),
        f"{rng.choice(('Admission Diagnosis:', 'Principal Diagnosis:', 'Discharge Diagnosis:'))} {reason}",
        rng.choice(("Secondary Diagnoses:", "Other problems:", "Chronic conditions:")) + " "
        + ", ".join(_problem(rng, k, p.preferred) for k in p.chronic) + ".",
        _hpi(rng, p, brief=True),
        "Hospital Course: " + " ".join(course),
        _med_section(rng, meds, rng.choice(("Discharge Medications:", "Medications at discharge:", "Discharge Meds:"))),
        _allergy_section(rng, p),
        *([_labs_section(rng, p, day=days).replace("Labs", "Discharge labs", 1)] if rng.random() < 0.5 else []),
        rng.choice(("Follow-up:", "Follow up:", "Instructions:")) + " " + rng.choice(V.FOLLOW_UP_LINES)
        + (" " + rng.choice((f"Repeat {E('Test', rng.choice(('BMP', 'CBC') + acute.tests[:2]))} at follow-up.",
                             f"Check {E('Test', rng.choice(('BMP', 'CBC', 'INR')))} in {X('Frequency', '1 week')}.",
                             rng.choice(V.SPURIOUS_LINES)))),
    ]
    return "\n\n".join(parts)


def _note(rng: Random, p: _Patient, index: int) -> tuple[NoteType, str]:
    """The ``index``-th (0-based) note of patient ``p``."""
    if p.n_notes == 1:
        kind: NoteType = "discharge summary" if rng.random() < 0.6 else "admission note"
    elif index == 0:
        kind = "admission note"
    elif index == p.n_notes - 1:
        kind = "discharge summary"
    else:
        kind = "progress note"
    if kind == "admission note":
        return kind, _admission_note(rng, p)
    if kind == "progress note":
        return kind, _progress_note(rng, p, day=index + 1)
    return kind, _discharge_summary(rng, p, days=max(index + 1, rng.randint(2, 5)))


def _words(marked: str) -> int:
    return len(_MARK.sub(lambda m: m.group(2) or m.group(4), marked).split())


def generate_notes(*, n_notes: int = 150, seed: int = 0) -> list[Document]:
    """``n_notes`` synthetic clinical notes with clean gold spans, deterministic for ``seed``.

    Returns documents ordered by patient then note number, ids ``pNNN_nK``
    (``NNN`` patient number, ``K`` note number from 1), ``group`` = ``pNNN``,
    ``meta = {"note_type", "patient", "distractors"}`` where ``distractors`` lists
    ``[start, end, label]`` of look-alike non-entities.  Every note has
    ``MIN_WORDS``..``MAX_WORDS`` whitespace-separated words.  Only
    ``random.Random(seed)`` is used; no global state is read or changed.
    """
    if n_notes < 0:
        raise ValueError(f"n_notes must be >= 0, got {n_notes}")
    rng = Random(seed)
    width = max(3, len(str(n_notes)))
    docs: list[Document] = []
    pnum = 0
    while len(docs) < n_notes:
        pnum += 1
        pid = f"p{pnum:0{width}d}"
        n = min(rng.choices((1, 2, 3, 4), weights=(0.2, 0.35, 0.3, 0.15))[0], n_notes - len(docs))
        patient = _make_patient(rng, pid, n)
        for i in range(n):
            doc_id = f"{pid}_n{i + 1}"
            for _attempt in range(200):
                kind, marked = _note(rng, patient, i)
                if MIN_WORDS <= _words(marked) <= MAX_WORDS:
                    break
            else:  # pragma: no cover - the templates keep notes in range
                raise RuntimeError(f"could not fit {doc_id} into {MIN_WORDS}-{MAX_WORDS} words")
            text, spans, distractors = parse_markup(doc_id, marked + "\n")
            docs.append(Document(
                id=doc_id, text=text,
                spans=tuple(s.evolve(id=f"T{j + 1}") for j, s in enumerate(spans)),
                group=pid,
                meta={"note_type": kind, "patient": pid, "distractors": [list(d) for d in distractors]},
            ))
    return docs


__all__ = ["E", "LABELS", "NoteType", "X", "generate_notes", "group_of", "parse_markup"]
