"""The judgement: from signals about every labelled span to one ranking, and to an error rate.

- :mod:`~spanqa.corpus.injection`: synthetic errors injected into a copy of the user's labels
  (the training data of the two below; the out-of-fold marginals stay valid for the copy);
- :mod:`~spanqa.score.ranking.consistency`: how the rest of the corpus labels the same string;
- :mod:`~spanqa.score.ranking.signals`: one feature row per candidate finding;
- :mod:`~spanqa.score.ranking.combine`: the ranking model fitted on injected errors;
- :mod:`~spanqa.score.ranking.error_rate`: the corpus error rate with the model's own mistakes taken out.
"""

__all__: list[str] = []
