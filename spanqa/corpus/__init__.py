"""The corpus: reading it, checking it and the word view every later stage shares.

- :mod:`~spanqa.corpus.formats`: one module per annotation format, read and written with exact offsets;
- :mod:`~spanqa.corpus.validate`: per-span validation shared by every reader;
- :mod:`~spanqa.corpus.check`: ``spanqa check`` - a corpus validated and summarised before training;
- :mod:`~spanqa.corpus.tokenize`: clinical word tokenisation with exact character offsets;
- :mod:`~spanqa.corpus.bio`: the BIO codec (spans <-> per-word tags);
- :mod:`~spanqa.corpus.layers`: nested labels split into flat layers;
- :mod:`~spanqa.corpus.injection`: a copy of a corpus with known errors injected (the ranking's probes).

Imports only :mod:`spanqa.core`.
"""

__all__: list[str] = []
