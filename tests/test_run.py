"""The audit is compute + write_run: the same records whether written or not, and nothing on disk without ``out``."""

from __future__ import annotations

import json
import tempfile

import pytest
from test_audit import TINY, demo_run  # noqa: F401  (the module-scoped tiny demo audit)

from spanqa.core.config import load_config
from spanqa.corpus.formats import read_corpus
from spanqa.model.predictions import OOFPredictions
from spanqa.run.files import FILES, write_run
from spanqa.run.pipeline import audit, compute


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def _untimed(summary):
    """A summary without what the clock says (stage timings, the ranking's fit time)."""
    out = {k: v for k, v in summary.items() if k != "timings"}
    out["ranking"] = {k: v for k, v in (out.get("ranking") or {}).items() if k != "seconds"}
    return out


@pytest.fixture
def inputs(demo_run):  # noqa: F811
    out, _ = demo_run
    cfg = load_config(overrides=[*TINY, "data.layers=flat"])
    return read_corpus(out / "corpus" / "noisy"), cfg, OOFPredictions.load(out / "run" / "marginals.npz")


@pytest.fixture
def empty_tmp(tmp_path, monkeypatch):
    """Every temporary folder lands in one empty folder, so a test sees whether anything was left behind."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def test_the_audit_in_memory_holds_exactly_what_the_run_folder_holds(inputs, tmp_path, empty_tmp):
    corpus, cfg, oof = inputs
    written = audit(corpus, cfg, out=tmp_path / "run", progress=False, oof=oof)
    memory = audit(corpus, cfg, out=None, progress=False, oof=oof)
    assert written.out == tmp_path / "run" and memory.out is None
    assert list(empty_tmp.iterdir()) == []  # out=None: nothing written anywhere
    for key in ("spans", "findings", "predictions", "problems"):
        assert _lines(tmp_path / "run" / FILES[key]) == [json.dumps(r, ensure_ascii=False) for r in memory.rows[key]]
    assert len(memory.rows["findings"]) == len(memory.findings) > 0
    on_disk = json.loads((tmp_path / "run" / FILES["summary"]).read_text(encoding="utf-8"))
    assert _untimed(on_disk) == _untimed(json.loads(json.dumps(memory.summary)))
    assert on_disk["timings"]["write_s"] >= 0 and on_disk["timings"]["total_s"] >= on_disk["timings"]["score_s"]


def test_compute_then_write_run_is_the_audit(inputs, tmp_path):
    corpus, cfg, oof = inputs
    audit(corpus, cfg, out=tmp_path / "a", progress=False, oof=oof)
    result = compute(corpus, cfg, progress=False, oof=oof)
    assert result.out is None and not (tmp_path / "b").exists()
    (tmp_path / "b").mkdir()
    assert write_run(result, tmp_path / "b").out == tmp_path / "b"
    for key in ("spans", "findings", "predictions", "problems"):
        assert (tmp_path / "a" / FILES[key]).read_bytes() == (tmp_path / "b" / FILES[key]).read_bytes(), key
    assert OOFPredictions.load(tmp_path / "b" / FILES["marginals"]).tags == oof.tags


def test_training_needs_a_folder_and_says_so(inputs):
    corpus, cfg, _ = inputs
    with pytest.raises(ValueError, match="needs oof="):
        audit(corpus, cfg, out=None, progress=False)
    with pytest.raises(ValueError, match="needs work_dir"):
        compute(corpus, cfg, progress=False)


def test_the_library_audit_without_out_leaves_nothing_on_disk(demo_run, empty_tmp):  # noqa: F811
    import spanqa

    out, _ = demo_run
    noisy = read_corpus(out / "corpus" / "noisy")
    small = type(noisy).from_docs(noisy.documents[:4], format=noisy.format)
    with_predictions = spanqa.audit(noisy, out / "run" / "marginals.npz", overrides=TINY)
    trained = spanqa.audit(small, overrides=[*TINY, "data.layers=flat"])  # k-fold in a folder it removes
    assert with_predictions.path is None and trained.path is None
    assert list(empty_tmp.iterdir()) == []
    assert trained.summary["corpus"]["n_docs"] == 4 and len(trained.spans) == sum(len(d.spans) for d in small.documents)
    assert with_predictions.summary["findings"]["total"] == len(with_predictions.findings)


def test_the_api_examples_run():
    import doctest

    import spanqa.run.api

    assert doctest.testmod(spanqa.run.api).failed == 0
