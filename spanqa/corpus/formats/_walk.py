"""Which files of a corpus folder a reader reads, and a ``W110`` for every entry it does not.

One walk for every reader, so no format skips something silently: suffixes match
in any case (``.TXT`` from Windows exports is read), symlinked sub-folders are
followed once (a loop is reported, not followed again), and hidden entries
(names starting with ``.``, e.g. ``.git``) and entries that are not regular files
(pipes, sockets, broken links) are skipped with one ``W110`` that lists them.
Files with other suffixes (``README.md``, ``annotation.conf``) are not corpus
files and are passed over without a word.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from spanqa.core.errors import Reporter

if TYPE_CHECKING:
    from spanqa.core.document import Document

#: names listed in one W110 detail; the rest are counted (the count is exact, nothing is dropped unsaid)
_LISTED = 20


def corpus_files(folder: Path, reporter: Reporter, *, suffixes: Iterable[str], recursive: bool = True,
                 accept: Callable[[Path], bool] | None = None) -> list[Path]:
    """The files under ``folder`` whose lower-cased suffix is in ``suffixes`` (or that ``accept``), sorted.

    ``recursive=False`` reads the top level only and reports sub-folders that hold
    matching files.  Skipped entries are reported in one ``W110``.
    """
    wanted = {s.lower() for s in suffixes}

    def matches(p: Path) -> bool:
        return p.suffix.lower() in wanted or (accept is not None and accept(p))

    found: list[Path] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for top, dirs, files in os.walk(folder, followlinks=True):
        here = Path(top)
        real = os.path.realpath(here)
        if real in seen:
            skipped.append(f"{here.relative_to(folder)}/ (symlink loop to {real})")
            dirs[:] = []
            continue
        seen.add(real)
        for d in sorted(dirs):
            if d.startswith("."):
                skipped.append(f"{(here / d).relative_to(folder)}/ (hidden)")
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if not recursive:
            for d in dirs:
                if any(matches(Path(r, f)) for r, _, fs in os.walk(here / d, followlinks=True) for f in fs):
                    skipped.append(f"{(here / d).relative_to(folder)}/ (sub-folder; this format reads the top "
                                   "level only)")
            dirs[:] = []
        for name in sorted(files):
            p = here / name
            if name.startswith("."):
                if p.suffix.lower() in wanted:
                    skipped.append(f"{p.relative_to(folder)} (hidden)")
            elif not p.is_file():
                skipped.append(f"{p.relative_to(folder)} ({'broken symlink' if p.is_symlink() else 'not a regular file'})")
            elif matches(p):
                found.append(p)
    if skipped:
        listed = ", ".join(skipped[:_LISTED]) + (f" and {len(skipped) - _LISTED} more" if len(skipped) > _LISTED else "")
        reporter.report("W110", f"{len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} not read: {listed}",
                        path=str(folder))
    return sorted(found)


def add_document(doc: "Document | None", docs: list, seen: dict[str, str], reporter: Reporter, *, path: Path,
                 line: int | None = None, what: str = "document id", hint: str = "") -> None:
    """Append ``doc`` to ``docs`` unless it is None or its id was already read (``E107``, naming where; ``what``
    names the id the format uses - PMID, task id - and ``hint`` the likely cause)."""
    if doc is None:
        return
    if doc.id in seen:
        reporter.report("E107", f"{what} {doc.id!r} already used in {seen[doc.id]}{hint}", path=str(path),
                        line=line, doc_id=doc.id)
        return
    seen[doc.id] = str(path)
    docs.append(doc)


__all__ = ["add_document", "corpus_files"]
