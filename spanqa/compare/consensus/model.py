"""The out-of-fold tagger as one more annotator (CROWDLAB-style, Goh et al. 2022, but for spans).

The audit's tagger is trained k-fold on the annotators' consensus; each document's out-of-fold predicted spans
become one more annotator, ``model (out of fold)``, and the consensus is fitted again with it - so its
reliability is estimated jointly with the annotators', it can break ties, and with the word-level methods its
word tags vote like anyone's. A document is never predicted by a model that trained on it.
"""

from __future__ import annotations

from typing import Any, Sequence

from spanqa.compare.consensus.aggregate import DEFAULT, TITLES, Consensus, consensus
from spanqa.compare.consensus.crowd import default_names
from spanqa.core.document import Corpus, Document
from spanqa.core.span import sort_spans

MODEL_NAME = "model (out of fold)"


def model_annotation(consensus: Corpus, config: Any, *, seed: int | None = None) -> Corpus:
    """The out-of-fold predicted spans of the audit's tagger trained k-fold on ``consensus`` (one corpus)."""
    from spanqa.corpus.bio import tag_inventory
    from spanqa.model.trainer import Retrainer

    tagger = Retrainer(config, tag_inventory(consensus.labels))
    pred = tagger.kfold(consensus, seed=config.train.seed if seed is None else seed)
    docs = [Document(d.id, d.text, sort_spans(pred.get(d.id, ())) if d.spans is not None else None,
                     tokens=d.tokens, sentences=d.sentences) for d in consensus.documents]
    return Corpus.from_docs(docs, format=consensus.format)


def with_model(corpora: Sequence[Corpus], config: Any, *, names: Sequence[str] | None = None,
               model: Corpus | None = None, method: str | None = None, **options: Any):
    """The consensus (``method``) over the annotators plus the out-of-fold model trained on their consensus;
    returns ``(Consensus, the model's annotation)`` (pass ``model`` to reuse one)."""
    method = method or DEFAULT
    names = list(names or default_names(len(corpora)))
    if model is None:
        model = model_annotation(consensus(corpora, names, method=method, **options).corpus, config)
    result = consensus(list(corpora) + [model], names + [MODEL_NAME], method=method, **options)
    return Consensus(result.corpus, result.annotators, f"{TITLES[method]} + out-of-fold model", result.crowd,
                     result.problems), model


__all__ = ["MODEL_NAME", "model_annotation", "with_model"]
