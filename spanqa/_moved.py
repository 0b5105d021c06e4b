"""Old import paths of modules that moved in 0.2 (folders that follow the data), kept working for one release.

``import spanqa.tagging.kfold`` still works: it warns (:class:`DeprecationWarning`, once per old name) and
returns **the same module object** as ``spanqa.model.kfold``, so classes, ``isinstance`` checks and
``monkeypatch`` targets agree whichever path a caller used.  A meta-path finder does this for every old name
below and everything under it, so no shim files are needed; it is installed when ``spanqa`` is imported (which
every ``spanqa.*`` import does first).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any, Callable, Mapping

__all__ = ["MOVED", "install", "new_name", "relocated", "renamed"]

#: old module path -> new module path; a package's whole subtree moves with it
MOVED: dict[str, str] = {
    "spanqa.span": "spanqa.core.span",
    "spanqa.document": "spanqa.core.document",
    "spanqa.errors": "spanqa.core.errors",
    "spanqa.config": "spanqa.core.config",
    "spanqa.output": "spanqa.core.output",
    "spanqa.formats": "spanqa.corpus.formats",
    "spanqa.tokenize": "spanqa.corpus.tokenize",
    "spanqa.bio": "spanqa.corpus.bio",
    "spanqa.validate": "spanqa.corpus.validate",
    "spanqa.check": "spanqa.corpus.check",
    "spanqa.tagging.layers": "spanqa.corpus.layers",
    "spanqa.ranking.injection": "spanqa.corpus.injection",
    "spanqa.tagging": "spanqa.model",
    "spanqa.comparison": "spanqa.compare.comparison",
    "spanqa.metrics": "spanqa.compare.metrics",
    "spanqa.agreement": "spanqa.compare.agreement",
    "spanqa.consensus": "spanqa.compare.consensus",
    "spanqa.lattice": "spanqa.score.lattice",
    "spanqa.quality": "spanqa.score.quality",
    "spanqa.competence": "spanqa.score.competence",
    "spanqa.findings": "spanqa.score.findings",
    "spanqa.messages": "spanqa.score.messages",
    "spanqa.patterns": "spanqa.score.patterns",
    "spanqa.review.rejections": "spanqa.score.rejections",
    "spanqa.ranking": "spanqa.score.ranking",
    "spanqa.pipeline": "spanqa.run.pipeline",
    "spanqa.nested": "spanqa.run.nested",
    "spanqa.runfiles": "spanqa.run.files",
    "spanqa.review.run": "spanqa.run.reader",
    "spanqa.api": "spanqa.run.api",
    "spanqa.impact.chart": "spanqa.review.chart",
    "spanqa.impact": "spanqa.measure.impact",
    "spanqa.benchmark": "spanqa.measure.benchmark",
    "spanqa.demo": "spanqa.measure.demo",
}


def new_name(old: str) -> str | None:
    """The module path ``old`` moved to (the longest moved prefix wins), or ``None`` when it did not move."""
    parts = old.split(".")
    for k in range(len(parts), 1, -1):
        head = ".".join(parts[:k])
        if head in MOVED:
            return ".".join([MOVED[head], *parts[k:]])
    return None


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and loads it as the module already imported under its new name."""

    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        new = new_name(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=False)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = new_name(spec.name)
        assert new is not None
        warnings.warn(f"{spec.name} moved to {new}; the old path works until spanqa 0.3", DeprecationWarning,
                      stacklevel=2)  # warnings skips importlib's frames: the importing line
        module = importlib.import_module(new)
        spec.loader_state = module.__spec__  # the import system overwrites __spec__; exec_module puts it back
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias = module.__spec__
        if alias is not None and alias.loader_state is not None:
            module.__spec__ = alias.loader_state


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once), ahead of the path finder."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias())


def renamed(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` that serves the old ``names`` of things renamed in ``module`` (old -> new) for
    one release, with a :class:`DeprecationWarning`::

        __getattr__ = renamed(__name__, {"Change": "AppliedFix"})
    """
    def __getattr__(name: str) -> Any:
        if name in names:
            warnings.warn(f"{module}.{name} is now {module}.{names[name]}; the old name works until spanqa 0.3",
                          DeprecationWarning, stacklevel=2)
            return getattr(sys.modules[module], names[name])
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def relocated(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` that serves names which moved to another module (old name -> the new
    ``"package.module.name"``) for one release, with a :class:`DeprecationWarning`; the new module is imported only
    when an old name is asked for, so the shim adds no import to the module that holds it."""
    def __getattr__(name: str) -> Any:
        if name in names:
            where, _, new = names[name].rpartition(".")
            warnings.warn(f"{module}.{name} moved to {names[name]}; the old name works until spanqa 0.3",
                          DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(where), new)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
