"""Old import paths keep working for one release: same module object, a DeprecationWarning naming the new path."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

from spanqa._moved import MOVED, new_name


@pytest.mark.parametrize("old", sorted(MOVED))
def test_every_old_path_is_the_new_module(old):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        sys.modules.pop(old, None)
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert any(issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in seen)
    assert module.__spec__.name == MOVED[old]  # the alias did not overwrite the real module's spec


def test_a_submodule_under_a_moved_package_and_the_longest_prefix():
    assert new_name("spanqa.tagging.kfold") == "spanqa.model.kfold"
    assert new_name("spanqa.tagging.layers") == "spanqa.corpus.layers"  # moved on its own, not with tagging/
    assert new_name("spanqa.formats.brat") == "spanqa.corpus.formats.brat"
    assert new_name("spanqa.model.kfold") is None and new_name("spanqa") is None


def test_old_imports_in_a_users_script_warn_there_and_work(tmp_path):
    """In a fresh interpreter, as a user's script: the warning points at the script's own line (shown by Python's
    default filters in ``__main__``), the class is the same class, and a moved function still answers."""
    script = tmp_path / "old.py"
    script.write_text("from spanqa.pipeline import audit\nfrom spanqa.tagging.kfold import run_kfold\n"
                      "import spanqa.run.pipeline, spanqa.model.kfold\n"
                      "assert audit is spanqa.run.pipeline.audit and run_kfold is spanqa.model.kfold.run_kfold\n"
                      "from spanqa.pipeline import evaluate_demo\n"
                      "from spanqa.measure.demo.evaluate import evaluate_demo as new\nassert evaluate_demo is new\n"
                      "print('ok')\n", encoding="utf-8")
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
    assert f"{script}:1: DeprecationWarning: spanqa.pipeline moved to spanqa.run.pipeline" in res.stderr
    assert "spanqa.tagging.kfold moved to spanqa.model.kfold" in res.stderr
    assert "evaluate_demo moved to spanqa.measure.demo.evaluate.evaluate_demo" in res.stderr


@pytest.mark.parametrize("module, old, new", [
    ("spanqa.run.pipeline", "evaluate_demo", "spanqa.measure.demo.evaluate.evaluate_demo"),
    ("spanqa.run.pipeline", "error_rate", "spanqa.score.ranking.error_rate.upper_bound_rate"),
    ("spanqa.run.pipeline", "render_summary", "spanqa.cli.summary.render_summary"),
    ("spanqa.run.pipeline", "assessed_line", "spanqa.cli.summary.assessed_line"),
    ("spanqa.score.findings", "evaluate_findings", "spanqa.measure.demo.evaluate.evaluate_findings"),
    ("spanqa.review", "Change", "spanqa.review.apply.AppliedFix"),
    ("spanqa.review.apply", "Change", "spanqa.review.apply.AppliedFix"),
    ("spanqa.measure.benchmark", "Change", "spanqa.measure.benchmark.truth.Correction"),
    ("spanqa.review.report", "error_rate", "spanqa.review.report.summary_rate"),
    ("spanqa.review.report", "run_key", "spanqa.review.report.storage_key"),
])
def test_renamed_and_relocated_names_still_answer_with_a_warning(module, old, new):
    where, _, name = new.rpartition(".")
    with pytest.warns(DeprecationWarning, match=name):
        got = getattr(importlib.import_module(module), old)
    assert got is getattr(importlib.import_module(where), name)
    with pytest.raises(AttributeError):
        importlib.import_module(module).no_such_name  # noqa: B018
