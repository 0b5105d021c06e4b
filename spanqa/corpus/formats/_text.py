"""Reading corpus files as exact text: UTF-8, no newline translation, coded errors.

Shared by the file-based readers.  Text is decoded from the file's bytes
without universal-newline translation, so ``"\\r\\n"`` stays two characters
and character offsets count both.

>>> from spanqa.core.errors import Reporter, fail
>>> decode_utf8(b"\\xef\\xbb\\xbfab\\r\\n", Reporter(), path="a.txt")
('ab\\r\\n', True)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, TypeGuard

from spanqa.core.errors import Reporter, fail

BOM = "\ufeff"
#: byte-order marks of encodings that are not UTF-8 (UTF-32 first: its LE mark starts with UTF-16's)
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32-LE"), (b"\x00\x00\xfe\xff", "UTF-32-BE"),
               (b"\xff\xfe", "UTF-16-LE"), (b"\xfe\xff", "UTF-16-BE"))

#: characters :meth:`str.splitlines` breaks on; none may appear inside a one-line field
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_TO_SPACE = {ord(c): " " for c in LINE_BREAKS}


def is_int(x: object) -> TypeGuard[int]:
    """An integer that is not a boolean (JSON ``true`` is not an offset)."""
    return isinstance(x, int) and not isinstance(x, bool)


def one_line(text: str) -> str:
    """``text`` with every line-break character replaced by one space (length kept)."""
    return text.translate(_TO_SPACE)


def decode_utf8(data: bytes, reporter: Reporter, *, path: str) -> tuple[str, bool] | None:
    """Decode ``data`` as strict UTF-8 and remove a leading byte-order mark.

    Returns ``(text, had_bom)``; reports ``E103`` (file, line, byte offset) and
    returns ``None`` when the bytes are not UTF-8.  The caller reports ``W102``
    for a BOM, because what the offsets mean then depends on the format.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        bad = data[err.start:err.end]
        line_start = data.rfind(b"\n", 0, err.start) + 1
        context = data[max(line_start, err.start - 30):err.start].decode("utf-8", "replace")
        guess = next((f"; the file starts with the {name} byte-order mark, re-encode it as UTF-8"
                      for mark, name in _OTHER_BOMS if data.startswith(mark)), "")
        reporter.report("E103", f"byte offset {err.start}: {bad!r} ({err.reason}){guess}",
                        path=path, line=line, excerpt=context)
        return None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


def read_utf8(path: Path, reporter: Reporter) -> tuple[str, bool] | None:
    """Read and :func:`decode_utf8` the file at ``path``."""
    return decode_utf8(path.read_bytes(), reporter, path=str(path))


class JsonError(ValueError):
    """Why a JSON text was refused: ``msg``, 1-based ``lineno`` and ``colno`` (as :class:`json.JSONDecodeError`)."""

    def __init__(self, msg: str, lineno: int = 1, colno: int = 1) -> None:
        super().__init__(msg)
        self.msg, self.lineno, self.colno = msg, lineno, colno


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise JsonError(f"the key {dup!r} occurs twice in one object (JSON readers disagree on which one counts)")
    return out


def loads_json(text: str) -> object:
    """``json.loads`` that refuses what readers silently disagree on: a key twice in one object, and
    nesting too deep to read (``RecursionError``).  Every refusal is a :class:`JsonError`.

    >>> loads_json('{"text": "a", "text": "b"}')
    Traceback (most recent call last):
    ...
    spanqa.corpus.formats._text.JsonError: the key 'text' occurs twice in one object (JSON readers disagree on which one counts)
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as err:
        raise JsonError(err.msg, err.lineno, err.colno) from None
    except RecursionError:
        raise JsonError("nested too deeply to read (thousands of brackets inside each other)") from None


def json_lines(text: str, *, code: str, path: str) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of a JSON-lines ``text``; ``code`` for a bad line.

    Lines are split on ``"\\n"`` only (``str.splitlines`` would also split on a raw U+2028
    inside a JSON string, which JSON allows).
    """
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            rec = loads_json(line)
        except JsonError as err:
            raise fail(code, f"not JSON ({err.msg})", path=path, line=n) from None
        if not isinstance(rec, dict):
            raise fail(code, "each line must be a JSON object", path=path, line=n)
        yield n, rec


__all__ = ["BOM", "JsonError", "LINE_BREAKS", "decode_utf8", "is_int", "json_lines", "loads_json", "one_line",
           "read_utf8"]
