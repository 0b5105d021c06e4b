"""An audit run: the pipeline that produces the run folder, the folder's files, and reading them back.

- :mod:`~spanqa.run.pipeline`: ``spanqa audit`` - out-of-fold tagging -> comparison -> scores -> findings;
- :mod:`~spanqa.run.nested`: nested labels audited layer by layer, merged into one run folder;
- :mod:`~spanqa.run.files`: the run folder's file names and how its records are written;
- :mod:`~spanqa.run.reader`: a run folder read back (what every review command starts from);
- :mod:`~spanqa.run.api`: the library entry points (``spanqa.audit``, ``find_span_issues``, ``span_quality_scores``).
"""

__all__: list[str] = []
