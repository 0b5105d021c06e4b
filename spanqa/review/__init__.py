"""The review workflow: from an audit run folder to reviewed fixes and a new corpus version.

- :mod:`spanqa.run.reader`        load a run folder (findings.jsonl, spans.jsonl, summary.json)
- :mod:`spanqa.review.report`     one self-contained HTML page (``spanqa report``)
- :mod:`spanqa.review.exports`    Label Studio tasks, brat with AnnotatorNotes, CSV sheet (``spanqa export``)
- :mod:`spanqa.review.decisions`  reviewer decisions from CSV / JSONL / a Label Studio export
- :mod:`spanqa.review.apply`      accepted fixes -> new version + change log (``spanqa apply``)
- :mod:`spanqa.review.sample`     stratified random audit batches of labelled spans (``spanqa sample``)

Offsets are half-open document character offsets throughout.
"""

from spanqa._moved import renamed
from spanqa.review.apply import AppliedFix, ApplyResult, apply_decisions, apply_run, corpus_hash, write_version
from spanqa.review.decisions import Decision, read_decisions
from spanqa.review.exports import export_run, labelstudio_tasks, write_brat, write_csv, write_labelstudio
from spanqa.review.report import build_report, guideline_hints, write_report
from spanqa.review.sample import sample_items, write_sample
from spanqa.run.reader import Finding, Run, load_run

__all__ = ["ApplyResult", "AppliedFix", "Decision", "Finding", "Run", "apply_decisions", "apply_run", "build_report",
           "corpus_hash", "export_run", "guideline_hints", "labelstudio_tasks", "load_run", "read_decisions",
           "sample_items", "write_brat", "write_csv", "write_labelstudio", "write_report", "write_sample",
           "write_version"]

__getattr__ = renamed(__name__, {"Change": "AppliedFix"})  # old names, for one release
