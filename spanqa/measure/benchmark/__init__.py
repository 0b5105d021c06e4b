"""Scoring label-error detectors against real corrections (``scripts/bench_detection.py``).

Numbers only; no model is trained here.  The flow is the benchmark's:

- :mod:`~spanqa.measure.benchmark.truth`: the real corrections as *changes* (one non-``exact``
  comparator component each, with a kind group);
- :mod:`~spanqa.measure.benchmark.adapters`: spanqa's outputs as *detections* (its findings - a cut
  list - and every candidate of its ranking - threshold-free);
- :mod:`~spanqa.measure.benchmark.baselines`: cleanlab (IOB2 and merged classes; every token and
  ``find_label_issues``), nessie-style retag and uncertainty, surface-form variation - all on the
  same out-of-fold marginals;
- :mod:`~spanqa.measure.benchmark.scoring`: the hit rule (strict and lenient), AP, R-precision, P@k and
  R@k, recall per kind group;
- :mod:`~spanqa.measure.benchmark.sentences`: sentence-level AUPRC (step-wise and cleanlab's trapezoid)
  and AUROC;
- :mod:`~spanqa.measure.benchmark.noisebench`: NoiseBench's seven label sets with their real text.

All offsets are half-open character offsets of the audited (original) document.
"""

from spanqa._moved import renamed
from spanqa.measure.benchmark.adapters import (
                                       ACTION_GROUP,
                                       ALTERNATIVE_GROUP,
                                       CANDIDATE_GROUP,
                                       FINDING_GROUP,
                                       SIGNAL_DIRECTION,
                                       candidate_detections,
                                       finding_detections,
                                       gold_path_scores,
                                       quality_detections,
                                       sentence_noisy_or,
)
from spanqa.measure.benchmark.baselines import (
                                       CleanlabOutput,
                                       cleanlab_baseline,
                                       cleanlab_inputs,
                                       nessie_retag,
                                       nessie_uncertainty,
                                       surface_form_detections,
)
from spanqa.measure.benchmark.scoring import (
                                       DEFAULT_KS,
                                       DROPPED,
                                       FALSE_POSITIVE,
                                       Detection,
                                       at_k,
                                       average_precision,
                                       claims,
                                       cut_weights,
                                       hits,
                                       match,
                                       r_precision,
                                       rank,
                                       span_metrics,
)
from spanqa.measure.benchmark.sentences import (
                                       Sentence,
                                       corpus_sentences,
                                       merge_tag,
                                       sentence_metrics,
                                       sentence_min_scores,
                                       sentence_truth,
                                       sentence_truth_from_tags,
                                       trapezoid_auprc,
)
from spanqa.measure.benchmark.truth import GROUPS, KIND_GROUP, Correction, changes_from_comparison, corrected_word_tags

__all__ = ["ACTION_GROUP", "ALTERNATIVE_GROUP", "CANDIDATE_GROUP", "Correction", "CleanlabOutput", "DEFAULT_KS",
           "DROPPED", "Detection", "FALSE_POSITIVE", "FINDING_GROUP", "GROUPS", "KIND_GROUP", "SIGNAL_DIRECTION",
           "Sentence", "at_k", "average_precision", "candidate_detections", "changes_from_comparison", "claims",
           "cleanlab_baseline", "cleanlab_inputs", "corpus_sentences", "corrected_word_tags", "cut_weights",
           "finding_detections", "gold_path_scores", "hits", "match", "merge_tag", "nessie_retag",
           "nessie_uncertainty", "quality_detections", "r_precision", "rank", "sentence_metrics",
           "sentence_min_scores", "sentence_noisy_or", "sentence_truth", "sentence_truth_from_tags", "span_metrics",
           "surface_form_detections", "trapezoid_auprc"]

__getattr__ = renamed(__name__, {"Change": "Correction"})  # old names, for one release
