"""Per-span validation shared by every reader: offsets, emptiness, labels, recorded text.

>>> from spanqa.core.errors import Reporter
>>> r = Reporter(strict=False)
>>> check_span(Span("d", 3, 99, "Drug"), "aspirin", r, path="a.ann", line=1)
False
>>> r.problems[0].code
'E201'
"""

from __future__ import annotations

from typing import Any

from spanqa.core.errors import Reporter
from spanqa.core.span import Span


def _excerpt(text: str, start: int, end: int) -> str:
    start, end = max(0, start), max(0, min(len(text), end))
    return text[start:end] if end > start else text[max(0, start - 10):start + 10]


def check_span(span: Span, text: str, reporter: Reporter, *, recorded_text: str | None = None,
               joiner: str = " ", **where: Any) -> bool:
    """Validate ``span`` against ``text``; report problems; return False when it must be skipped.

    Reports ``E204`` (empty label), ``E201`` (offsets negative, past the end, or
    end before start - also for every fragment), ``E203`` (zero-length span) and
    ``E202`` (``recorded_text`` differs from the text at the offsets; fragments
    joined by ``joiner``).  ``where`` is passed to the reporter (path, line, ...);
    the document id and offsets are filled in here.
    """
    loc = {"doc_id": span.doc_id, "start": span.start, "end": span.end, **where}
    if not span.label or not span.label.strip():
        reporter.report("E204", "the span has no label", excerpt=_excerpt(text, span.start, span.end), **loc)
        return False
    for a, b in span.pieces:
        if a < 0 or b < 0 or b < a or b > len(text):
            reporter.report("E201", f"[{a}, {b}) is not inside the text of length {len(text)}", **loc)
            return False
        if a == b:
            reporter.report("E203", f"zero-length span [{a}, {b})", excerpt=_excerpt(text, a - 10, a + 10), **loc)
            return False
    if recorded_text is not None:
        actual = span.text_in(text, joiner)
        if actual != recorded_text:
            first = next((i for i, (x, y) in enumerate(zip(actual, recorded_text)) if x != y),
                         min(len(actual), len(recorded_text)))
            reporter.report("E202", f"recorded {recorded_text!r} but the text has {actual!r} "
                            f"(first difference at span character {first})", excerpt=actual, **loc)
            return False
    return True


__all__ = ["check_span"]
