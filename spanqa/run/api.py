"""spanqa as a library, in the shape of cleanlab's ``token_classification``: data positional, options keyword-only.

Three entry points, each a thin layer over :func:`spanqa.run.pipeline.audit`:

- :func:`audit` - the whole run; returns an :class:`AuditRun` with ``.findings`` and
  ``.spans`` as pandas DataFrames and ``.summary`` as a dict; with ``out=`` the run folder is written too
  (the report and exports read it), without it nothing is left on disk;
- :func:`find_span_issues` - the findings DataFrame only (one row per finding, most
  suspicious first), like ``cleanlab.token_classification.filter.find_label_issues``;
- :func:`span_quality_scores` - one row per labelled span with its quality in [0, 1]
  (lower = more suspicious), like ``rank.get_label_quality_scores``.

``labels`` is a :class:`~spanqa.core.document.Corpus` or a path spanqa reads.  ``predictions`` is
``None`` (spanqa trains its out-of-fold tagger), an :class:`~spanqa.model.predictions.OOFPredictions`,
or a path to word marginals in spanqa's ``marginals.npz`` layout made by your own model - they
must be **out-of-sample** (a model trained on these notes agrees with their errors: predict each
note with a model that did not see it, e.g. k-fold).

>>> import numpy as np
>>> from spanqa import Corpus, Document, Span
>>> from spanqa.model.predictions import DocMarginals, OOFPredictions
>>> from spanqa.corpus.tokenize import doc_words
>>> doc = Document("n1", "Pt on aspirin daily.", (Span("n1", 6, 13, "Problem"),))
>>> labels = Corpus.from_docs([doc], format="jsonl")
>>> words = doc_words(doc).ranges            # Pt | on | aspirin | daily | .
>>> tags = ["O", "B-Drug", "I-Drug", "B-Problem", "I-Problem"]
>>> probs = np.full((len(words), 5), 0.01, np.float32); probs[:, 0] = 0.96
>>> probs[2] = [0.01, 0.95, 0.01, 0.02, 0.01]  # "aspirin": the model says Drug
>>> mine = OOFPredictions(tags, {"n1": DocMarginals("n1", words, probs, fold=0, seed=0)})
>>> issues = find_span_issues(labels, mine)      # nothing written
>>> issues[["doc_id", "kind", "action", "labelled", "suggested"]].iloc[0].tolist()
['n1', 'type', 'relabel', [(6, 13, 'Problem')], [(6, 13, 'Drug')]]
>>> round(float(span_quality_scores(labels, mine)["quality"].iloc[0]), 2)
0.02
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from spanqa.core.config import AuditConfig, load_config
from spanqa.core.document import Corpus

if TYPE_CHECKING:
    import pandas as pd

    from spanqa.model.predictions import OOFPredictions

#: the columns of :attr:`AuditRun.findings`
FINDING_COLUMNS = ("id", "doc_id", "kind", "action", "score", "confidence", "labelled", "suggested",
                   "labelled_text", "suggested_text", "message")
#: the columns of :attr:`AuditRun.spans`
SPAN_COLUMNS = ("doc_id", "start", "end", "label", "text", "quality", "fold", "alignable", "reason")


@dataclass
class AuditRun:
    """A finished audit: ``findings`` and ``spans`` DataFrames, ``summary`` (``summary.json``), ``path`` (the run
    folder; ``None`` when none was written)."""

    path: Path | None
    findings: "pd.DataFrame"
    spans: "pd.DataFrame"
    summary: Mapping[str, Any] = field(default_factory=dict)


def tmp_run_dir() -> Path:
    """A fresh temporary run folder (for examples and notebooks; pass ``out=`` to keep the run)."""
    return Path(tempfile.mkdtemp(prefix="spanqa-run-"))


def audit(labels: Corpus | str | Path, predictions: "OOFPredictions | str | Path | None" = None, *,
          out: str | Path | None = None, config: AuditConfig | str | Path | None = None,
          overrides: Sequence[str] = (), progress: bool = False) -> AuditRun:
    """Audit ``labels`` against ``predictions`` (module docstring) and return the run as DataFrames.

    Args:
        labels: the annotated corpus, or a path in any format spanqa reads.
        predictions: out-of-sample word marginals (an object or a ``.npz`` path); ``None`` trains
            spanqa's own out-of-fold tagger (minutes on a CPU).
        out: the run folder the report and exports read; ``None`` (the default) writes none: with
            ``predictions`` nothing touches the disk, without them the tagger trains in a temporary folder
            that is removed afterwards.
        config: an :class:`AuditConfig` or a TOML path (default: spanqa's defaults).
        overrides: ``"section.key=value"`` strings, as ``--set`` on the command line.
        progress: show progress bars on stderr.
    """
    import json

    from spanqa.corpus.formats import read_corpus
    from spanqa.model.predictions import OOFPredictions, load_user_predictions
    from spanqa.run.pipeline import audit as run_audit

    corpus = labels if isinstance(labels, Corpus) else read_corpus(labels)
    cfg = config if isinstance(config, AuditConfig) else load_config(config, overrides=list(overrides))
    if isinstance(predictions, (str, Path)):
        predictions = load_user_predictions(predictions, corpus)
    elif predictions is not None and not isinstance(predictions, OOFPredictions):
        raise TypeError(f"predictions must be OOFPredictions, a path or None, not {type(predictions).__name__}")
    elif isinstance(predictions, OOFPredictions) and "predictions" not in predictions.meta:
        predictions.meta["predictions"] = {"source": "user-supplied word marginals (Python object)",
                                           "note": "must be out-of-sample; spanqa trained no model"}
    if out is not None or predictions is not None:
        result = run_audit(corpus, cfg, out=out, progress=progress, oof=predictions)
    else:  # the tagger's checkpoints need a folder; none is kept
        with tempfile.TemporaryDirectory(prefix="spanqa-run-") as tmp:
            result = run_audit(corpus, cfg, out=tmp, progress=progress)
        result = replace(result, out=None)
    texts = corpus.by_id()
    return AuditRun(result.out, findings_frame(result.findings, texts), spans_frame(result.spans, texts),
                    json.loads(json.dumps(result.summary)))


def find_span_issues(labels: Corpus | str | Path, predictions: "OOFPredictions | str | Path | None" = None, *,
                     out: str | Path | None = None, config: AuditConfig | str | Path | None = None,
                     overrides: Sequence[str] = ()) -> "pd.DataFrame":
    """The findings of :func:`audit`: one row per finding, most suspicious first (:data:`FINDING_COLUMNS`)."""
    return audit(labels, predictions, out=out, config=config, overrides=overrides).findings


def span_quality_scores(labels: Corpus | str | Path, predictions: "OOFPredictions | str | Path | None" = None, *,
                        out: str | Path | None = None, config: AuditConfig | str | Path | None = None,
                        overrides: Sequence[str] = ()) -> "pd.DataFrame":
    """One row per labelled span, in corpus order, with ``quality`` = the probability it is exactly right."""
    return audit(labels, predictions, out=out, config=config, overrides=overrides).spans


def findings_frame(findings: Sequence[Any], docs: Mapping[str, Any]) -> "pd.DataFrame":
    """Findings as a DataFrame; spans as ``(start, end, label)`` tuples, their texts beside them."""
    import pandas as pd

    rows = []
    for f in findings:
        text = docs[f.doc_id].text
        rows.append({"id": f.id, "doc_id": f.doc_id, "kind": f.kind, "action": f.action,
                     "score": float(f.score), "confidence": float(f.evidence.get("p_suggestion", 1.0 - f.score)),
                     "labelled": [(s.start, s.end, s.label) for s in f.labels],
                     "suggested": [(s.start, s.end, s.label) for s in f.suggestion],
                     "labelled_text": [s.text_in(text) for s in f.labels],
                     "suggested_text": [s.text_in(text) for s in f.suggestion], "message": f.message})
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS))


def spans_frame(qualities: Sequence[Any], docs: Mapping[str, Any]) -> "pd.DataFrame":
    """Span qualities as a DataFrame (:data:`SPAN_COLUMNS`)."""
    import pandas as pd

    rows = [{"doc_id": q.span.doc_id, "start": q.span.start, "end": q.span.end, "label": q.span.label,
             "text": q.span.text_in(docs[q.span.doc_id].text), "quality": q.quality, "fold": q.fold,
             "alignable": q.alignable, "reason": q.reason} for q in qualities]
    return pd.DataFrame(rows, columns=list(SPAN_COLUMNS))


__all__ = ["AuditRun", "FINDING_COLUMNS", "SPAN_COLUMNS", "audit", "find_span_issues", "findings_frame",
           "span_quality_scores", "spans_frame", "tmp_run_dir"]
