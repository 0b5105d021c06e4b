"""Measuring: what fixes are worth, how well findings catch real errors, and the demo with known errors.

- :mod:`~spanqa.measure.impact`: ``spanqa impact`` - a model retrained on the fixed corpus, with bootstrap intervals;
- :mod:`~spanqa.measure.benchmark`: detectors scored against real corrections (``scripts/bench_detection.py``);
- :mod:`~spanqa.measure.demo`: the synthetic demo corpus, its injected errors and their evaluation.
"""

__all__: list[str] = []
