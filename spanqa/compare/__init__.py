"""Comparing two annotations of the same texts: labels with a model, or annotators with each other.

- :mod:`~spanqa.compare.comparison`: the typed two-way span alignment (exact, boundary, type, missing, spurious);
- :mod:`~spanqa.compare.metrics`: span precision, recall and F1 over a comparison, the SemEval table;
- :mod:`~spanqa.compare.agreement`: annotator agreement (pairwise F1, Cohen's kappa, Krippendorff's alpha);
- :mod:`~spanqa.compare.consensus`: one annotation from many (crowd -> EM -> words/extent -> reliability).

Imports :mod:`spanqa.core`, :mod:`spanqa.corpus` and (for consensus with a model) :mod:`spanqa.model`.
"""

__all__: list[str] = []
