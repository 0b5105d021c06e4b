"""Several annotators of the same notes -> one consensus corpus, each annotator's reliability, the disagreements.

The flow: :func:`~spanqa.compare.consensus.crowd.gather` puts every annotator's spans on one reference text per
document (who never saw a document casts no vote on it; texts that differ are aligned by characters) ->
an aggregation -> the consensus corpus, whose spans carry their posterior as ``score``.

Methods (``method=``):

- ``"word-ds"`` (default): votes per **word**: Dawid-Skene with one confusion matrix over BIO tags per
  annotator, shrunk toward the pooled crowd; edges come from the evidence (:mod:`spanqa.compare.consensus.words`).
  ``"hmm"``: a crowd HMM (a chain of true tags, annotators conditioned on their previous tag);
  ``"word-vote"``: a word majority vote. ``learn="contested"`` (word-ds, hmm) learns the confusions only on
  words someone marked and their neighbours - for automatic sources that mark the same look-alike words wrongly.
- ``"dawid-skene"`` / ``"vote"``: votes per **exact extent** (:mod:`spanqa.compare.consensus.extent`), as spanqa did
  before words; a worker whose edges differ by one word votes ``O`` there.

:func:`with_model` adds the out-of-fold tagger as one more annotator (:mod:`spanqa.compare.consensus.model`);
:mod:`spanqa.compare.consensus.reliability` scores the annotators against the consensus and streams the disagreements.

>>> from spanqa.core.document import Corpus, Document
>>> from spanqa.core.span import Span
>>> t = "Pt on aspirin 81mg."
>>> a = Corpus.from_docs([Document("d", t, (Span("d", 6, 13, "Drug"),))])
>>> b = Corpus.from_docs([Document("d", t, (Span("d", 6, 13, "Drug"), Span("d", 14, 18, "Dose")))])
>>> c = Corpus.from_docs([Document("d", t, (Span("d", 6, 18, "Drug"),))])
>>> [s.key for s in majority_vote([a, b, c]).corpus["d"].spans]
[(6, 13, 'Drug')]
"""

from __future__ import annotations

from spanqa.compare.consensus.aggregate import (
                                        DEFAULT,
                                        DIAG,
                                        LEARN,
                                        METHODS,
                                        PRIOR,
                                        TITLES,
                                        Consensus,
                                        consensus,
                                        dawid_skene,
                                        majority_vote,
)
from spanqa.compare.consensus.crowd import CharMap, Crowd, default_names, gather
from spanqa.compare.consensus.model import MODEL_NAME, model_annotation, with_model
from spanqa.compare.consensus.reliability import annotator_table, disagreements, sample_disagreement, wilson

__all__ = ["CharMap", "Consensus", "Crowd", "DEFAULT", "DIAG", "LEARN", "METHODS", "MODEL_NAME", "PRIOR", "TITLES",
           "annotator_table", "consensus", "dawid_skene", "default_names", "disagreements", "gather", "majority_vote",
           "model_annotation", "sample_disagreement", "wilson", "with_model"]
