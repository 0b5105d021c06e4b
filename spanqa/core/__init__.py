"""The core every layer stands on: the one span type, documents, coded problems, configuration, every write.

- :mod:`~spanqa.core.span`: the frozen :class:`~spanqa.core.span.Span` (half-open character offsets);
- :mod:`~spanqa.core.document`: :class:`~spanqa.core.document.Document` and :class:`~spanqa.core.document.Corpus`;
- :mod:`~spanqa.core.errors`: the catalogue of coded problems (``E``/``W`` + a location + a remedy);
- :mod:`~spanqa.core.config`: every setting of ``spanqa audit`` and its default (the only source of defaults);
- :mod:`~spanqa.core.output`: atomic writes inside an output folder, with disk-full and permission errors coded.

Nothing here imports from another spanqa package.
"""

__all__: list[str] = []
