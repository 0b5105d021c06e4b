"""Write the demo corpus to disk: clean and noisy brat folders, the manifest, a README.

Layout of ``out_dir`` (every file is rewritten byte-identically for the same
parameters)::

    clean/<doc_id>.txt, .ann   gold annotation (brat)
    noisy/<doc_id>.txt, .ann   the same notes with injected errors (brat)
    manifest.jsonl             one injected error a line (see spanqa.measure.demo.noise)
    documents.tsv              doc_id, patient, annotator, note_type, words, clean_spans, noisy_spans, errors
    README.md                  what the files are, parameters, counts

brat has no field for the patient or the annotator: the patient is the doc id
prefix (``p012_n2`` -> ``p012``, :func:`spanqa.measure.demo.group_of`), and both are
listed in ``documents.tsv``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from spanqa.core.document import Corpus, Document
from spanqa.core.output import atomic_open, write_text
from spanqa.core.span import Span, sort_spans
from spanqa.corpus.formats import write_corpus
from spanqa.measure.demo.generator import LABELS, generate_notes
from spanqa.measure.demo.noise import KINDS, inject_errors


@dataclass(frozen=True)
class DemoPaths:
    """Where :func:`write_demo` put each part of the demo corpus."""

    root: Path
    clean: Path
    noisy: Path
    manifest: Path
    documents: Path
    readme: Path


def _for_brat(docs: Sequence[Document]) -> Corpus:
    """Documents with the meta brat cannot hold removed (it is in documents.tsv instead)."""
    return Corpus.from_docs([d.evolve(meta={}) for d in docs], format="brat")


def _counts(docs: Sequence[Document]) -> Counter:
    return Counter(s.label for d in docs for s in d.spans or ())


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def _readme(clean: Sequence[Document], noisy: Sequence[Document], manifest: list[dict[str, Any]],
            *, n_notes: int, seed: int, rate: float) -> str:
    cc, nc = _counts(clean), _counts(noisy)
    kinds = Counter(e["kind"] for e in manifest)
    systematic = sum(1 for e in manifest if e["systematic"])
    details = Counter((e["kind"], e["detail"]) for e in manifest)
    touched = sum(len(e["clean"]) for e in manifest)
    n_spans = sum(cc.values())
    notes = Counter(d.meta.get("note_type", "?") for d in clean)
    annotators = Counter(d.meta.get("annotator", "?") for d in noisy)
    words = sum(len(d.text.split()) for d in clean)
    label_rows = [("label", "clean spans", "noisy spans")] + [
        (lab, str(cc[lab]), str(nc[lab])) for lab in (*LABELS, "Medication")] \
        + [("all", str(n_spans), str(sum(nc.values())))]
    kind_rows = [("kind", "detail", "errors")] + [
        (k, d, str(details[(k, d)])) for k in KINDS for d in sorted({d for kk, d in details if kk == k})
    ] + [("all", "", str(len(manifest)))]
    return f"""# spanqa demo corpus

Synthetic clinical notes written by spanqa's generator (`spanqa.measure.demo`), with a gold
annotation and a copy with known, injected annotation errors.  **No real patient data**:
every patient, value and sentence is invented from templates.

Regenerate with `python scripts/make_demo_corpus.py` (or `spanqa.measure.demo.write_demo(out_dir,
n_notes={n_notes}, seed={seed}, rate={rate})`); the files come out byte-identical.

Parameters: `n_notes={n_notes}`, `seed={seed}`, `rate={rate}`.

## Files

| path | what |
|---|---|
| `clean/<doc_id>.txt`, `.ann` | the notes and their gold spans (brat standoff, half-open character offsets) |
| `noisy/<doc_id>.txt`, `.ann` | the same texts, annotation with injected errors |
| `manifest.jsonl` | one injected error a line: `id`, `doc_id`, `kind`, `detail`, `systematic`, `annotator`, `clean` and `noisy` spans (`start`, `end`, `label`, `text`), `description` |
| `documents.tsv` | `doc_id`, `patient`, `annotator` (of the noisy copy), `note_type`, `words`, `clean_spans`, `noisy_spans`, `errors` |

Doc ids are `pNNN_nK`: patient `pNNN`, note `K` of that patient.  brat has no field for a
patient, so the prefix is the group (`spanqa.measure.demo.group_of`, or the audit option
`data.group_regex='^([^_]+)_'`); k-fold splits keep a patient's notes together.

## Corpus

{len(clean)} notes ({", ".join(f"{v} {_plural(k)}" for k, v in sorted(notes.items()))}) of
{len({d.group for d in clean})} patients, {words} words, {n_spans} gold spans.

{_table(label_rows)}

Annotation convention: `Drug` is the name only (`aspirin`); `Strength` the amount with
its unit (`81mg`, `500 mg`); `Form` (`tablet`), `Route` (`PO`, `by mouth`), `Frequency`
including prn (`q6h prn`, `every 6 hours as needed`); `Problem` diagnoses, symptoms and
findings, negated or not (`chest pain` in "denies chest pain"); `Test` labs, vitals,
imaging (`Na`, `BP`, `chest x-ray`); `Value` a measured result with its unit
(`134 mmol/L`, `180/110`, `38.5C`, `8.9%`).  Not annotated: ages, durations, dose amounts
("2 puffs"), diets, code status, oxygen flow.  Every span edge is a word edge of
`spanqa.corpus.tokenize.tokenize`.

## Injected errors

{len(manifest)} errors touching {touched} of {n_spans} gold spans ({touched / max(n_spans, 1):.1%});
{systematic} of them are the systematic confusion of annotator `ann_B`, who labels every
Frequency as Route in the notes they annotated.  Kinds are named as
`spanqa.compare.comparison.compare_spans(doc_id, noisy_spans, clean_spans)` names them (the noisy
annotation is the one under audit), and each manifest entry is exactly one non-exact
component of that comparison.

{_table(kind_rows)}

- `split`: one noisy span covers two adjacent gold entities (Drug "aspirin 81mg").
- `merge`: one gold entity annotated in two pieces ("q6h" + "prn").
- `boundary`: `cut_short` (Problem "pneumonia" for "community-acquired pneumonia") or
  `over_extended` (Test "chest x-ray showed").
- `type`: same extent, plausible wrong label (Strength as Value, Problem as Test, ...).
- `missing`: a gold entity left out.  `spurious`: a look-alike non-entity labelled
  ("PO" in "tolerating PO intake" as Route, "2 weeks" in "follow up in 2 weeks" as Frequency).

Notes per annotator of the noisy copy: {", ".join(f"{k} {v}" for k, v in sorted(annotators.items()))}.
Kind counts: {", ".join(f"{k} {kinds[k]}" for k in KINDS)}.
"""


#: the attribute labels a ``Medication`` mention holds (nested annotation: the mention around its parts)
MEDICATION_PARTS = ("Strength", "Form", "Route", "Frequency")
_GAP = re.compile(r" {1,2}(?:- take 1 )?")


def with_medications(clean: Sequence[Document], noisy: Sequence[Document]) -> tuple[list[Document], list[Document]]:
    """Both corpora with a ``Medication`` span around every medication mention of the clean corpus - a Drug and the
    Strength, Form, Route and Frequency spans that follow it, separated by spaces only - the nested annotation of
    clinical schemas (a mention holding its attributes).  The same containers go into the noisy copy: the injected
    errors stay in the inner labels (the manifest is unchanged)."""
    out_c, out_n = [], []
    for c, n in zip(clean, noisy):
        spans = sorted(c.spans or (), key=lambda s: s.start)
        meds = []
        for i, s in enumerate(spans):
            if s.label != "Drug":
                continue
            end = s.end
            for t in spans[i + 1:]:
                if t.label not in MEDICATION_PARTS or not _GAP.fullmatch(c.text[end:t.start]):
                    break
                end = t.end
            if end > s.end:
                meds.append(Span(c.id, s.start, end, "Medication"))
        out_c.append(c.evolve(spans=sort_spans([*(c.spans or ()), *meds])))
        out_n.append(n.evolve(spans=sort_spans([*(n.spans or ()), *meds])))
    return out_c, out_n


def write_demo(out_dir: str | Path, *, n_notes: int = 150, seed: int = 0, rate: float = 0.10) -> DemoPaths:
    """Generate the demo corpus and write it under ``out_dir`` (created if needed).

    Existing ``clean/`` and ``noisy/`` ``.txt``/``.ann`` files that are not part of
    the new corpus are removed, so a regeneration with fewer notes leaves no strays.
    Returns the paths written.
    """
    root = Path(out_dir)
    clean = generate_notes(n_notes=n_notes, seed=seed)
    noisy, manifest = inject_errors(clean, rate=rate, seed=seed)
    clean, noisy = with_medications(clean, noisy)
    paths = DemoPaths(root, root / "clean", root / "noisy", root / "manifest.jsonl", root / "documents.tsv",
                      root / "README.md")
    keep = {d.id for d in clean}
    for folder in (paths.clean, paths.noisy):
        if folder.is_dir():
            for old in folder.iterdir():
                if old.suffix in (".txt", ".ann") and old.stem not in keep:
                    old.unlink()
    root.mkdir(parents=True, exist_ok=True)
    write_corpus(_for_brat(clean), paths.clean, "brat")
    write_corpus(_for_brat(noisy), paths.noisy, "brat")
    with atomic_open(paths.manifest, root=root) as f:
        for entry in manifest:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    errors = Counter(e["doc_id"] for e in manifest)
    rows = ["doc_id\tpatient\tannotator\tnote_type\twords\tclean_spans\tnoisy_spans\terrors"]
    for c, n in zip(clean, noisy):
        rows.append(f"{c.id}\t{c.group}\t{n.meta.get('annotator', '')}\t{c.meta.get('note_type', '')}\t"
                    f"{len(c.text.split())}\t{len(c.spans or ())}\t{len(n.spans or ())}\t{errors[c.id]}")
    write_text(paths.documents, "\n".join(rows) + "\n", root=root)
    write_text(paths.readme, _readme(clean, noisy, manifest, n_notes=n_notes, seed=seed, rate=rate), root=root)
    return paths


__all__ = ["DemoPaths", "MEDICATION_PARTS", "with_medications", "write_demo"]
