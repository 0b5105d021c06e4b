"""Shared test fixtures.  Tests never write into the working directory and never touch the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests explore the same examples on every run (CI must not turn red on a new random draw);
# HYPOTHESIS_PROFILE=explore draws fresh examples when hunting for bugs.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

#: ../shared/corpora beside the repository; tests that need it skip when it is absent.
SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def corpus_path(*parts: str) -> Path:
    """Path under ../shared/corpora, or skip the calling test when it is absent."""
    path = SHARED_CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus {path} not present")
    return path


@pytest.fixture(autouse=True)
def _isolated_hf_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.getbasetemp() / "hf_home"))


def run_cli(args, capsys) -> str:
    """Run ``spanqa ARGS`` through the console entry point; assert it exits 0 and return what it printed."""
    from spanqa.cli import main

    with pytest.raises(SystemExit) as ex:
        main([str(a) for a in args])
        raise SystemExit(0)
    out = capsys.readouterr()
    assert ex.value.code == 0, out.err
    return out.out
