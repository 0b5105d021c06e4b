"""train.mode = auto: the mode an audit uses and its expected cost, said before it starts (spanqa.model.plan)."""

from __future__ import annotations

import doctest

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.model import plan as plan_module
from spanqa.model.plan import expected_seconds, plan, resolve


def test_plan_doctests():
    assert doctest.testmod(plan_module).failed == 0


def test_plan_chooses_by_device_and_budget_and_keeps_an_explicit_mode():
    assert plan(10_000, device="cuda", threads=2, budget_minutes=0).mode == "finetune"
    assert plan(10_000, device="cpu", threads=2, budget_minutes=0).mode == "fast"
    small = expected_seconds(10_000, "finetune", threads=2) / 60
    assert plan(10_000, device="cpu", threads=2, budget_minutes=small + 1).mode == "finetune"
    assert plan(10_000, device="cpu", threads=2, budget_minutes=small - 1).mode == "fast"
    assert plan(10_000, device="cuda", threads=2, budget_minutes=0, requested="fast").mode == "fast"
    p = plan(48_000, device="cpu", threads=2, budget_minutes=0)
    assert p.seconds["finetune"] > 5 * p.seconds["fast"] and p.peak_bytes > 1e9
    assert p.sentence().startswith("Plan: 48,000 words, fast mode (frozen encoder + light heads) - about ")
    assert set(p.to_dict()["expected_minutes"]) == {"fast", "finetune"}


def test_resolve_replaces_auto_and_leaves_the_fingerprint_of_fast_runs_alone():
    from spanqa.model.kfold import fingerprint

    corpus = Corpus.from_docs([Document("d", "aspirin 81 mg daily", ())])
    auto = load_config(overrides=["model.device='cpu'"])
    fast = load_config(overrides=["model.device='cpu'", "train.mode='fast'"])
    resolved, p = resolve(auto, corpus)
    assert auto.train.mode == "auto" and resolved.train.mode == "fast" and p.words == 4
    assert fingerprint(corpus, ["O"], resolved) == fingerprint(corpus, ["O"], fast)
    budget = load_config(overrides=["model.device='cpu'", "train.mode='fast'", "train.budget_minutes=30"])
    assert fingerprint(corpus, ["O"], budget) == fingerprint(corpus, ["O"], fast)   # budget only chooses


def test_busy_note_only_when_threads_would_wait():
    from spanqa.model.plan import busy_note

    assert busy_note(2, load=10.0, cores=2).startswith("The machine is busy (load 10.0 on 2 cores)")
    assert busy_note(2, load=0.3, cores=2) is None
    assert busy_note(1, load=10.0, cores=2) is None   # one thread waits for nobody
