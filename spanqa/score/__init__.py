"""From out-of-fold marginals and a comparison to scores and findings.

- :mod:`~spanqa.score.lattice`: one note's marginals as a chain of IOB2-valid tag paths;
- :mod:`~spanqa.score.quality`: every labelled span's quality score (numbers only);
- :mod:`~spanqa.score.ranking`: the learnt ranking of candidates, the estimated error rate, review feedback;
- :mod:`~spanqa.score.competence`: where the model can be trusted;
- :mod:`~spanqa.score.findings`: what a reviewer should look at, with a suggested fix;
- :mod:`~spanqa.score.messages`: the review sentence of each finding (display only);
- :mod:`~spanqa.score.patterns`: one confident disagreement repeated over a string, as one finding;
- :mod:`~spanqa.score.rejections`: findings a reviewer rejected before, left out of the next audit.

Imports the layers below it (core, corpus, model, compare), never the run folder or the review.
"""

__all__: list[str] = []
