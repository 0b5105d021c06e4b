"""spanqa: find annotation errors in clinical named-entity corpora."""

from spanqa import _moved
from spanqa._version import __version__

_moved.install()  # old import paths (spanqa.tagging, spanqa.pipeline, ...) keep working for one release

from spanqa.run.api import AuditRun, audit, find_span_issues, span_quality_scores  # noqa: E402
from spanqa.core.document import Corpus, Document  # noqa: E402
from spanqa.core.errors import Location, Problem, Reporter, SpanqaError  # noqa: E402
from spanqa.core.span import Span  # noqa: E402

__all__ = ["AuditRun", "Corpus", "Document", "Location", "Problem", "Reporter", "Span", "SpanqaError", "__version__",
           "audit", "find_span_issues", "span_quality_scores"]
