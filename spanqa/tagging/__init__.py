"""The out-of-fold tagger: everything between a corpus and its out-of-fold word marginals.

- :mod:`~spanqa.tagging.align`: words to subtokens, windows over long notes;
- :mod:`~spanqa.tagging.tagger`: the transformer token classifier (full fine-tuning);
- :mod:`~spanqa.tagging.features`: the frozen encoder's cached word features (fast mode);
- :mod:`~spanqa.tagging.orthography`: hashed casing/shape/affix ids an uncased encoder never sees;
- :mod:`~spanqa.tagging.heads`: the small heads trained on those features;
- :mod:`~spanqa.tagging.kfold`: group k-fold over documents, resumable (the driver), with
  :mod:`~spanqa.tagging.splits` (groups and folds), :mod:`~spanqa.tagging.prepare` (documents made ready),
  :mod:`~spanqa.tagging.fingerprint` (what identifies a run), :mod:`~spanqa.tagging.runsetup` (a run's shared state),
  :mod:`~spanqa.tagging.fold` (one fold trained and predicted), :mod:`~spanqa.tagging.foldstore` (fold files on disk),
  :mod:`~spanqa.tagging.shards` (fast mode's features, in corpus shards), :mod:`~spanqa.tagging.probes` (probe
  samples) and :mod:`~spanqa.tagging.progress` (console progress);
- :mod:`~spanqa.tagging.predictions`: the out-of-fold marginals and their ``.npz`` file;
- :mod:`~spanqa.tagging.distributed`: the same folds as Ray tasks.
"""
