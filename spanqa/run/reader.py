"""A run folder written by ``spanqa audit --out DIR``, loaded for review.

Layout (all offsets are half-open **document character offsets**)::

    DIR/spans.jsonl     one labelled span a line: {doc_id, start, end, label, text, quality, fold, ...}
    DIR/findings.jsonl  one finding a line: {id, doc_id, kind, action, score, labels: [span],
                        suggestion: [span], evidence: {...}, message}; span = {start, end, label, text}
    DIR/summary.json    counts, error_rate (+ interval), config (with the corpus path/format), versions

``score`` is in ``[0, 1]``, lower = more suspicious.  :func:`load_run` reads all
three files (``spans.jsonl`` is optional) and finds the audited corpus from the
summary unless one is passed in.  A finding read back is the audit's own record,
:class:`spanqa.score.findings.Finding` (:meth:`~spanqa.score.findings.Finding.from_dict`
keeps the stored id and the whole record); :mod:`spanqa.run.files` is the writing side.

>>> f = Finding.from_dict({"id": "F1", "doc_id": "d", "kind": "type", "action": "relabel", "score": 0.1,
...     "labels": [{"start": 0, "end": 7, "label": "Drug", "text": "aspirin"}],
...     "suggestion": [{"start": 0, "end": 7, "label": "Brand", "text": "aspirin"}]})
>>> (f.removed[0].label, f.added[0].label, round(f.confidence, 2))
('Drug', 'Brand', 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from spanqa.core.document import Corpus
from spanqa.core.errors import Location, Problem, fail
from spanqa.core.span import Span
from spanqa.corpus.formats._text import JsonError, json_lines, loads_json
from spanqa.score.findings import SUGGESTION_PROB_KEYS, Finding, span_from_record

#: every finding kind the audit writes (``low_quality`` and unknown kinds are accepted too)
KINDS: tuple[str, ...] = ("type", "boundary", "boundary_type", "split", "merge", "complex", "missing",
                          "spurious", "ambiguous", "low_confidence", "inconsistent", "out_of_distribution", "pattern")
#: every action; ``review`` carries no fix
ACTIONS: tuple[str, ...] = ("relabel", "extend", "shrink", "shift", "split", "merge", "add", "delete",
                            "replace", "review")
def _key(s: Span) -> tuple:
    return (s.pieces, s.label)


def span_key(s: Span) -> tuple:
    """Identity of a span for matching across corpus versions: its character pieces and label."""
    return _key(s)


@dataclass(frozen=True)
class Run:
    """A loaded run folder.

    Attributes:
        path: the run folder.
        findings: in file order.
        spans: the labelled spans of ``spans.jsonl`` (``score`` = quality, ``meta`` = the other fields).
        summary: ``summary.json`` as read.
        corpus_path / corpus_format: where the audited corpus lives, from the summary or the caller.
    """

    path: Path
    findings: tuple[Finding, ...]
    spans: tuple[Span, ...]
    summary: Mapping[str, Any]
    corpus_path: Path | None = None
    corpus_format: str | None = None
    _corpus: list = field(default_factory=list, compare=False, repr=False)

    def corpus(self) -> Corpus:
        """The audited corpus, read once (``E503`` when it cannot be found)."""
        if not self._corpus:
            from spanqa.corpus.formats import read_corpus

            if self.corpus_path is None:
                raise fail("E503", "summary.json names no corpus path", path=str(self.path / "summary.json"))
            if not self.corpus_path.exists():
                raise fail("E503", f"{self.corpus_path} does not exist", path=str(self.corpus_path))
            fmt = self.corpus_format if self.corpus_format not in (None, "", "auto") else None
            self._corpus.append(read_corpus(self.corpus_path, fmt))
        return self._corpus[0]

    def with_corpus(self, corpus: Corpus) -> "Run":
        """The same run with an in-memory corpus (tests, or a corpus already read)."""
        return Run(self.path, self.findings, self.spans, self.summary,
                   Path(corpus.source) if corpus.source else self.corpus_path,
                   corpus.format if corpus.format != "unknown" else self.corpus_format, [corpus])

    def changed_since_audit(self, corpus: Corpus | None = None) -> list[Problem]:
        """One ``W509`` when findings no longer match the corpus (a document gone, or a labelled span whose
        text differs from the text recorded at audit time), else ``[]``.  Excerpts of those findings would
        be shifted; ``spanqa apply`` refuses to apply them (``W501``/``E506``)."""
        corpus = corpus if corpus is not None else self.corpus()
        docs = corpus.by_id()
        stale: list[tuple[Finding, str]] = []
        for f in self.findings:
            doc = docs.get(f.doc_id)
            if doc is None:
                stale.append((f, "its document is not in the corpus"))
                continue
            for s in f.labels + f.suggestion:
                rec = s.meta.get("text") if s.meta else None
                now = doc.text[s.start:s.end]
                if not (0 <= s.start < s.end <= len(doc.text)) or (rec is not None and rec != now
                                                                   and rec.split() != now.split()):
                    stale.append((f, f"{s.label} span {s.start}-{s.end} was {rec!r}, the corpus has {now!r}"))
                    break
        if not stale:
            return []
        f, why = stale[0]
        from spanqa.core.document import corpus_hash

        audited = (self.summary.get("corpus") or {}).get("hash")
        if audited is not None and audited == corpus_hash(corpus):  # the corpus is unchanged: the findings are not
            return [Problem("W515", Location(path=str(self.path / "findings.jsonl")),
                            f"{len(stale)} of {len(self.findings)} findings do not match the audited corpus (first: "
                            f"finding {f.id}, doc {f.doc_id}: {why})")]
        return [Problem("W509", Location(path=str(corpus.source or self.corpus_path)),
                        f"{len(stale)} of {len(self.findings)} findings do not match the corpus (first: finding "
                        f"{f.id}, doc {f.doc_id}: {why})")]

    def has_corpus(self) -> bool:
        try:
            self.corpus()
        except Exception:  # noqa: BLE001 - any read failure means "no corpus" for optional uses
            return False
        return True

    def by_doc(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.doc_id, []).append(f)
        return out

    def finding(self, fid: str) -> Finding:
        for f in self.findings:
            if f.id == fid:
                return f
        raise KeyError(fid)

    def ranked(self) -> list[Finding]:
        """Findings most suspicious first (score ascending, then document order)."""
        return sorted(self.findings, key=lambda f: (f.score, f.doc_id, f.start, f.id))


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        content = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail("E502", f"not UTF-8 at byte offset {err.start}", path=str(path)) from None
    yield from json_lines(content, code="E502", path=str(path))


def warn_if_changed(run: Run) -> list[Problem]:
    """Print ``W509`` to stderr when the run's corpus changed since the audit (nothing when it cannot be read)."""
    import sys

    problems = run.changed_since_audit() if run.has_corpus() else []
    for p in problems:
        print(f"spanqa: warning {p}\n  fix: {p.remedy}", file=sys.stderr)
    return problems


def corpus_location(summary: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(path, format)`` of the audited corpus as recorded in a summary (read defensively).

    Looks at ``corpus: {path, format}`` (or ``corpus: "path"``), then ``config.data``
    / ``config.corpus`` and top-level ``corpus_path`` / ``format``.
    """
    path = fmt = None
    cands: list[Any] = [summary.get("corpus")]
    cfg = summary.get("config") or {}
    if isinstance(cfg, Mapping):
        cands += [cfg.get("corpus"), cfg.get("data")]
    cands.append(summary)
    for c in cands:
        if isinstance(c, str) and path is None:
            path = c
        elif isinstance(c, Mapping):
            for k in ("path", "corpus_path", "corpus"):
                if path is None and isinstance(c.get(k), str):
                    path = c[k]
            for k in ("format", "corpus_format"):
                if fmt is None and isinstance(c.get(k), str):
                    fmt = c[k]
    return path, fmt


def load_run(path: str | Path, *, corpus: Corpus | str | Path | None = None,
             corpus_format: str | None = None) -> Run:
    """Read a run folder; ``corpus`` (a path or a :class:`Corpus`) overrides the one in the summary.

    Raises ``E501`` when the folder lacks ``findings.jsonl`` or ``summary.json``, ``E502``
    for a malformed line.  A relative corpus path in the summary is tried as given and
    relative to the run folder.
    """
    path = Path(path)
    fpath, spath = path / "findings.jsonl", path / "summary.json"
    if not path.is_dir():
        raise fail("E501", f"{path} is not a folder", path=str(path))
    for need in (fpath, spath):
        if not need.exists():
            raise fail("E501", f"{need.name} is missing", path=str(path))
    try:
        raw = loads_json(spath.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise fail("E502", f"not UTF-8 at byte offset {err.start}", path=str(spath)) from None
    except JsonError as err:
        raise fail("E502", f"not JSON ({err.msg})", path=str(spath), line=err.lineno) from None
    if not isinstance(raw, dict):
        raise fail("E502", f"not a JSON object but a {type(raw).__name__}", path=str(spath))
    summary: Mapping[str, Any] = raw
    findings = tuple(Finding.from_dict(rec, where=f"{fpath}:{n}") for n, rec in _jsonl(fpath))
    spans: list[Span] = []
    sp = path / "spans.jsonl"
    if sp.exists():
        for n, rec in _jsonl(sp):
            s = span_from_record(str(rec.get("doc_id")), rec, where=f"{sp}:{n}")
            q = rec.get("quality")
            spans.append(s.evolve(score=float(q) if isinstance(q, (int, float)) else None,
                                  meta={k: v for k, v in rec.items() if k not in ("doc_id", "start", "end", "label")}))
    cpath, cfmt = corpus_location(summary)
    resolved: Path | None = None
    if cpath:
        resolved = Path(cpath)
        if not resolved.is_absolute() and not resolved.exists() and (path / cpath).exists():
            resolved = path / cpath
    run = Run(path, findings, tuple(spans), summary, resolved, corpus_format or cfmt)
    if isinstance(corpus, Corpus):
        return run.with_corpus(corpus)
    if corpus is not None:
        return Run(path, findings, tuple(spans), summary, Path(corpus), corpus_format)
    return run


__all__ = ["ACTIONS", "Finding", "KINDS", "Run", "SUGGESTION_PROB_KEYS", "corpus_location", "load_run", "span_key",
           "warn_if_changed"]
