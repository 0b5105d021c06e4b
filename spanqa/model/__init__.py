"""The out-of-fold tagger: everything between a corpus and its out-of-fold word marginals.

- :mod:`~spanqa.model.align`: words to subtokens, windows over long notes;
- :mod:`~spanqa.model.tagger`: the transformer token classifier (full fine-tuning);
- :mod:`~spanqa.model.features`: the frozen encoder's cached word features (fast mode);
- :mod:`~spanqa.model.orthography`: hashed casing/shape/affix ids an uncased encoder never sees;
- :mod:`~spanqa.model.heads`: the small heads trained on those features;
- :mod:`~spanqa.model.kfold`: group k-fold over documents, resumable (the driver), with
  :mod:`~spanqa.model.splits` (groups and folds), :mod:`~spanqa.model.prepare` (documents made ready),
  :mod:`~spanqa.model.fingerprint` (what identifies a run), :mod:`~spanqa.model.runsetup` (a run's shared state),
  :mod:`~spanqa.model.fold` (one fold trained and predicted), :mod:`~spanqa.model.foldstore` (fold files on disk),
  :mod:`~spanqa.model.shards` (fast mode's features, in corpus shards), :mod:`~spanqa.model.probes` (probe
  samples) and :mod:`~spanqa.model.progress` (console progress);
- :mod:`~spanqa.model.predictions`: the out-of-fold marginals and their ``.npz`` file;
- :mod:`~spanqa.model.distributed`: the same folds as Ray tasks.
"""

__all__: list[str] = []
