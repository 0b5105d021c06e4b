"""spanqa: find annotation errors in clinical named-entity corpora."""

from spanqa._version import __version__
from spanqa.api import AuditRun, audit, find_span_issues, span_quality_scores  # noqa: E402
from spanqa.document import Corpus, Document
from spanqa.errors import Location, Problem, Reporter, SpanqaError
from spanqa.span import Span

__all__ = ["AuditRun", "Corpus", "Document", "Location", "Problem", "Reporter", "Span", "SpanqaError", "__version__",
           "audit", "find_span_issues", "span_quality_scores"]
