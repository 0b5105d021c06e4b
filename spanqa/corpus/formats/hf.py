"""Hugging Face ``datasets`` for token classification (``tokens`` + ``ner_tags``), through the datasets library.

Install with ``pip install 'spanqa[hf]'``; without it reading or writing is ``E407``.  Read from a
``Dataset`` or ``DatasetDict`` saved with ``save_to_disk`` (a folder), a ``.parquet`` file, or
(``--format hf``) a JSON/JSON-lines file of such records.

- ``ner_tags`` holds tag names, or integers whose ``ClassLabel`` feature names them (a JSON file
  has no features: integers there need ``tag_names=[...]``); tags in ``scheme`` (default IOB2;
  invalid sequences are repaired and reported ``W104``, unknown tags ``E111``);
- the text is the tokens joined by single spaces (as the CoNLL reader does), ``Document.tokens``
  the tokens' ranges; a record without ``ner_tags`` (or with ``None``) is not annotated;
- id: the ``id`` column, else ``<split>-<row>``; a DatasetDict's split is ``Document.group``-free
  ``meta["hf_split"]`` and the id is prefixed ``<split>/`` when splits share ids; every other
  column (JSON-native values: ``pos_tags``, ``chunk_tags``, ...) is kept in ``meta["hf_columns"]``.

Writing (:func:`write`) gives a ``save_to_disk`` folder (a DatasetDict when the documents carry
splits) with ``ner_tags`` as a ``ClassLabel`` sequence.  Flat tags cannot hold overlapping spans
(the longest is kept, ``W107``) and tokens cannot hold the text's exact whitespace of documents not
read from tokens (``W107`` once per document).

>>> import tempfile, pathlib
>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.errors import Reporter
>>> from spanqa.core.span import Span
>>> out = pathlib.Path(tempfile.mkdtemp()) / "ds"
>>> _ = write(Corpus.from_docs([Document("0", "Pt on aspirin", (Span("0", 6, 13, "Drug"),), tokens=((0, 2), (3, 5), (6, 13)))]), out)
>>> doc = read(out, reporter=Reporter()).documents[0]
>>> doc.text, [s.key for s in doc.spans]
('Pt on aspirin', [(6, 13, 'Drug')])
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Sequence

from spanqa.core.document import Corpus, Document
from spanqa.core.errors import Location, Problem, Reporter, fail, require
from spanqa.corpus.bio import Scheme, spans_to_tags, tags_to_spans, validate_tag
from spanqa.corpus.formats._walk import add_document
from spanqa.corpus.formats.conll import parse_scheme

NAME = "hf"


def _datasets():
    ds = require("datasets", extra="hf", what="Hugging Face datasets")
    ds.disable_progress_bars()  # spanqa reports what it read; no bars or log lines from the library
    ds.logging.set_verbosity(ds.logging.CRITICAL)  # its error lines ("Failed to read schema ...") repeat our E105
    return ds


def sniff(path: Path) -> bool:
    path = Path(path)
    if path.is_dir():
        return any((path / f).is_file() for f in ("dataset_info.json", "dataset_dict.json", "state.json"))
    return path.suffix.lower() == ".parquet"


#: a split name ``datasets`` accepts (``datasets.splits.NamedSplit``); it becomes a folder name on disk
SPLIT_NAME = re.compile(r"\w+(\.\w+)*")


def check_split(name: str, path: Path) -> str:
    """``name`` when it is a plain split name, else ``E117``: split names are data, and one like ``../../x`` would
    read or write a folder outside the dataset."""
    if not SPLIT_NAME.fullmatch(name):
        raise fail("E117", f"split name {name!r} is not a plain name (letters, digits, underscores, dots between)",
                   path=str(path))
    return name


def _declared_splits(path: Path) -> None:
    """Check the split names ``dataset_dict.json`` declares before ``datasets`` opens any of their folders."""
    meta = path / "dataset_dict.json"
    if not meta.is_file():
        return
    try:
        splits = json.loads(meta.read_text(encoding="utf-8")).get("splits")
    except (ValueError, UnicodeDecodeError, AttributeError) as err:
        raise fail("E105", f"dataset_dict.json is not a JSON object ({err})", path=str(meta)) from None
    if not isinstance(splits, list) or not all(isinstance(x, str) for x in splits):
        raise fail("E105", "dataset_dict.json: splits must be a list of names", path=str(meta))
    for name in splits:
        check_split(name, meta)


def _load(path: Path, reporter: Reporter) -> dict[str, Any]:
    ds = _datasets()
    if path.is_dir():
        _declared_splits(path)
    try:
        if path.is_dir():
            loaded = ds.load_from_disk(str(path))
        elif path.suffix.lower() == ".parquet":
            loaded = ds.Dataset.from_parquet(str(path))
        else:
            loaded = ds.Dataset.from_json(str(path))
    except Exception as err:  # pyarrow, json and datasets errors
        raise fail("E105", f"not a Hugging Face dataset ({type(err).__name__}: {err})", path=str(path)) from None
    return dict(loaded) if isinstance(loaded, ds.DatasetDict) else {"": loaded}


def read(path: Path, *, reporter: Reporter, scheme: str = "IOB2", tag_names: Sequence[str] | None = None,
         tokens_column: str = "tokens", tags_column: str = "ner_tags") -> Corpus:
    """Read a saved Dataset/DatasetDict, a parquet file or a JSON file of token-classification records."""
    path = Path(path)
    sch = parse_scheme(scheme, path)
    splits = _load(path, reporter)
    docs: list[Document] = []
    seen: dict[str, str] = {}
    shared = len(splits) > 1 and _ids_shared(splits)
    for split, data in splits.items():
        if tokens_column not in data.column_names:
            raise fail("E109", f"no {tokens_column!r} column (columns: {', '.join(data.column_names)})",
                       path=str(path))
        names = _names(data, tags_column, tag_names)
        for i, row in enumerate(data):
            add_document(_document(row, i, split, shared, names, path, reporter, sch, tokens_column, tags_column),
                         docs, seen, reporter, path=path)
    if not docs:
        reporter.report("E104", f"no record in {path}", path=str(path))
    return Corpus(documents=tuple(docs), format=NAME, source=str(path))


def _ids_shared(splits: dict[str, Any]) -> bool:
    ids = [str(x) for d in splits.values() if "id" in d.column_names for x in d["id"]]
    return len(ids) != len(set(ids)) or not ids


def _names(data: Any, column: str, given: Sequence[str] | None) -> list[str] | None:
    if given is not None:
        return list(given)
    feature = data.features.get(column) if column in data.column_names else None
    inner: Any = getattr(feature, "feature", None)
    return list(inner.names) if hasattr(inner, "names") else None


def _document(row: dict, i: int, split: str, shared: bool, names: list[str] | None, path: Path, reporter: Reporter,
              scheme: Scheme, tokens_column: str, tags_column: str) -> Document | None:
    base = str(row["id"]) if row.get("id") is not None else f"{split or path.stem}-{i}"
    doc_id = f"{split}/{base}" if shared and split else base
    where = {"path": f"{path}[{split + ':' if split else ''}{i}]", "doc_id": doc_id}
    tokens = row.get(tokens_column)
    if not (isinstance(tokens, list) and all(isinstance(t, str) and t and not any(c.isspace() for c in t)
                                             for t in tokens)):
        reporter.report("E109", f"{tokens_column} must be a list of non-empty strings without whitespace", **where)
        return None
    words, pos = [], 0
    for t in tokens:
        words.append((pos, pos + len(t)))
        pos += len(t) + 1
    text = " ".join(tokens)
    raw = row.get(tags_column)
    spans = None
    if raw is not None:
        if not isinstance(raw, list) or len(raw) != len(tokens):
            reporter.report("E110", f"{tags_column} has {len(raw) if isinstance(raw, list) else '?'} tags for "
                            f"{len(tokens)} tokens", **where)
            return None
        tags = []
        for t in raw:
            if isinstance(t, int) and not isinstance(t, bool):
                if names is None or not 0 <= t < len(names):
                    reporter.report("E111", f"tag id {t} has no name (give tag_names=[...] or a ClassLabel)", **where)
                    return None
                t = names[t]
            if not isinstance(t, str) or not validate_tag(t, scheme):
                reporter.report("E111", f"tag {t!r} is not valid in {scheme}", **where)
                return None
            tags.append(t)

        def repaired(k: int, tag: str) -> None:
            reporter.report("W104", f"{tag!r} at token {k} is an invalid {scheme} sequence; repaired", **where)

        spans = tuple(tags_to_spans(words, tags, doc_id=doc_id, scheme=scheme, on_repair=repaired))
    other = {k: v for k, v in row.items() if k not in (tokens_column, tags_column, "id")}
    meta: dict[str, Any] = {"hf_split": split} if split else {}
    try:
        json.dumps(other)
        if other:
            meta["hf_columns"] = other
    except (TypeError, ValueError):
        reporter.report("W105", f"columns {sorted(other)} are not JSON values; not kept", **where)
    if row.get("id") is not None:
        meta["hf_id"] = str(row["id"])
    return Document(doc_id, text, spans, source=where["path"], tokens=tuple(words), meta=meta)


def write(corpus: Corpus, path: Path, *, scheme: str = "IOB2", reporter: Reporter | None = None) -> list[Problem]:
    """Write ``corpus`` as a ``save_to_disk`` folder at ``path``; returns the ``W107`` problems."""
    ds = _datasets()
    from spanqa.core.output import contained
    from spanqa.corpus.tokenize import doc_words

    path = Path(path)
    sch = parse_scheme(scheme, path)
    problems: list[Problem] = []
    labels = sorted({s.label for d in corpus.documents for s in d.spans or ()})
    names = ["O"] + [f"{p}-{lab}" for lab in labels for p in ("B", "I", "E", "S") if p in ("B", "I") or sch == "BIOES"]
    rows: dict[str, list[dict]] = {}
    extra_keys = sorted({k for d in corpus.documents for k in (d.meta.get("hf_columns") or {})})
    for doc in corpus.documents:
        words = list(doc_words(doc).ranges)  # the source's tokens (or spanqa's), split at span edges
        if " ".join(doc.text[a:b] for a, b in words) != doc.text:
            problems.append(Problem("W107", Location(path=str(path), doc_id=doc.id),
                                    "tokens cannot hold the text's exact whitespace; written as tokens"))

        def dropped(s, doc=doc) -> None:
            problems.append(Problem("W107", Location(path=str(path), doc_id=doc.id, start=s.start, end=s.end),
                                    f"overlapping {s.label} span left out of the flat tags"))
        tags = spans_to_tags(words, list(doc.spans), scheme=sch, on_drop=dropped) if doc.spans is not None else None
        row = {"id": doc.meta.get("hf_id", doc.id), "tokens": [doc.text[a:b] for a, b in words],
               "ner_tags": None if tags is None else [names.index(t) for t in tags]}
        cols = doc.meta.get("hf_columns") or {}
        row.update({k: cols.get(k) for k in extra_keys})
        rows.setdefault(doc.meta.get("hf_split", ""), []).append(row)
    features = None
    built = {}
    for split, recs in rows.items():
        data = ds.Dataset.from_list(recs)
        features = data.features.copy()
        features["ner_tags"] = ds.Sequence(ds.ClassLabel(names=names))
        built[split] = data.cast(features)
    for split in built:
        if split:
            check_split(split, path)
    out = built[""] if list(built) == [""] else ds.DatasetDict({k or "train": v for k, v in built.items()})
    contained(path, path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # a whole folder, then renamed: never half a dataset
    if tmp.exists():
        shutil.rmtree(tmp)
    out.save_to_disk(str(tmp))
    if path.exists():
        old = path.with_name(f".{path.name}.{os.getpid()}.old")
        path.replace(old)
        tmp.replace(path)
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    else:
        tmp.replace(path)
    if reporter is not None:
        for p in problems:
            reporter.report(p.code, p.detail, **p.where.to_dict())
    return problems


__all__ = ["NAME", "SPLIT_NAME", "check_split", "read", "sniff", "write"]
