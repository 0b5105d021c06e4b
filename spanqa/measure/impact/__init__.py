"""What fixing the labels is worth: retrain the audit's tagger on each corpus version and score it.

- :mod:`~spanqa.measure.impact.measure`: corpus versions (before / after / the top N fixes), the retraining
  and the ``impact.json`` record (held-out evaluation, or k-fold consistency without one);
- :mod:`~spanqa.measure.impact.scores`: strict span counts per document and the document-and-seed bootstrap;
- :mod:`~spanqa.review.chart`: the learning-curve chart (inline SVG) for the report and ``impact.html``.

The command is ``spanqa impact`` (:mod:`spanqa.cli.impact`).
"""

from spanqa.measure.impact.measure import (
                                   FORMAT,
                                   Version,
                                   changes_against,
                                   fix_batches,
                                   measure_impact,
                                   summary_rows,
                                   versions_from_corpora,
                                   versions_from_run,
)

__all__ = ["FORMAT", "Version", "changes_against", "fix_batches", "measure_impact", "summary_rows",
           "versions_from_corpora", "versions_from_run"]
