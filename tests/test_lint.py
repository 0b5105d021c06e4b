"""The code passes ``ruff check`` (``[tool.ruff]`` in pyproject.toml: pyflakes, pycodestyle's error classes,
bugbear and import order) and ``mypy`` (``[tool.mypy]``: the package, which ships ``py.typed``) - the runs a contributor's editor
does, so CI fails when either finds something."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    pytest.importorskip("ruff", reason="ruff is in the test extra: pip install -e '.[test]'")
    paths = [p for p in ("spanqa", "scripts", "tests") if (REPO / p).is_dir()]
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *paths], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_is_clean(tmp_path):
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    run = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_package_says_it_is_typed():
    """PEP 561: ``py.typed`` sits in the package (and pyproject's package-data ships it), so a user's mypy reads
    spanqa's annotations."""
    import spanqa

    assert (Path(spanqa.__file__).parent / "py.typed").is_file()
    assert '"py.typed"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")

