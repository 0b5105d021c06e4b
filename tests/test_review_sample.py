"""``spanqa sample``: stratified, seeded audit batches of labelled spans in the review formats."""

from __future__ import annotations

import csv
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from test_review_run import make_run

from spanqa.corpus.formats import read_corpus
from spanqa.review.sample import SAMPLE_COLUMNS, allocate, sample_items, write_sample
from spanqa.run.reader import load_run


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("ABCDEFG"), st.integers(0, 40), min_size=1), st.integers(0, 200),
       st.sampled_from(["proportional", "equal"]))
def test_review_sample_allocation_sums_and_bounds(counts, n, allocation):
    out = allocate(counts, n, allocation=allocation)
    nonzero = [k for k, c in counts.items() if c]
    assert sum(out.values()) == min(n, sum(counts.values()))
    assert all(0 <= out[k] <= counts[k] for k in out)
    if n >= len(nonzero):
        assert all(out[k] >= 1 for k in nonzero)


def test_review_sample_is_stratified_and_seeded(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    a = sample_items(run, 5, seed=1)
    assert [f.id for f in a] == ["S001", "S002", "S003", "S004", "S005"]
    labels = [f.labels[0].label for f in a]
    assert sorted(labels) == ["Disease", "Drug", "Drug", "Drug", "Test"]  # 6 Drug, 3 Disease, 1 Test
    assert [f.labels[0].key for f in a] == [f.labels[0].key for f in sample_items(run, 5, seed=1)]
    seen = {tuple(f.labels[0].key for f in sample_items(run, 5, seed=s)) for s in range(6)}
    assert len(seen) > 1
    assert all(f.kind == "sample" and f.action == "review" and not f.has_fix for f in a)
    assert len(sample_items(run, 100, seed=0)) == 10  # capped at the number of spans


def test_review_sample_writes_all_formats(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    counts = write_sample(run, 4, tmp_path / "s.csv", to="csv", seed=3)
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert tuple(rows[0]) == SAMPLE_COLUMNS and len(rows) == 4 == counts["sampled"]
    assert all(r["verdict"] == "" and "[[" in r["context"] for r in rows)
    write_sample(run, 4, tmp_path / "s.json", to="labelstudio", seed=3)
    tasks = json.loads((tmp_path / "s.json").read_text())
    noted = [r for t in tasks for r in t["annotations"][0]["result"] if "meta" in r]
    assert len(noted) == 4 and all(r["meta"]["text"][0].startswith("S00") for r in noted)
    assert all("predictions" not in t for t in tasks)
    write_sample(run, 4, tmp_path / "sb", to="brat", seed=3)
    back = read_corpus(tmp_path / "sb", "brat")
    assert sum(1 for d in back for s in d.spans if "note" in s.meta) == 4
