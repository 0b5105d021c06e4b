"""The out-of-fold tagger: everything between a corpus and its out-of-fold word marginals.

- :mod:`~spanqa.tagging.align`: words to subtokens, windows over long notes;
- :mod:`~spanqa.tagging.tagger`: the transformer token classifier (full fine-tuning);
- :mod:`~spanqa.tagging.features`: the frozen encoder's cached word features (fast mode);
- :mod:`~spanqa.tagging.orthography`: hashed casing/shape/affix ids an uncased encoder never sees;
- :mod:`~spanqa.tagging.heads`: the small heads trained on those features;
- :mod:`~spanqa.tagging.kfold`: group k-fold over documents, resumable;
- :mod:`~spanqa.tagging.predictions`: the out-of-fold marginals and their ``.npz`` file;
- :mod:`~spanqa.tagging.distributed`: the same folds as Ray tasks.
"""
