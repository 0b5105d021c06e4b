"""spanqa: find annotation errors in clinical named-entity corpora."""

from spanqa.document import Corpus, Document
from spanqa.errors import Location, Problem, Reporter, SpanqaError
from spanqa.span import Span

__version__ = "0.1.0"

__all__ = ["Corpus", "Document", "Location", "Problem", "Reporter", "Span", "SpanqaError", "__version__"]
