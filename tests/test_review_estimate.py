"""``spanqa sample --design stratified`` -> a reviewer's verdicts -> ``spanqa estimate``: the error rate from a
review sample, checked on the demo corpus, where the injected errors are known."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import run_cli
from test_audit import demo_run  # noqa: F401  (the module-scoped tiny demo audit)

from spanqa.cli import main
from spanqa.compare.comparison import Kind, compare_corpora
from spanqa.corpus.formats import read_corpus
from spanqa.review.estimate import Design, Unit, Verdict, allocate, design, estimate


def test_stratified_sample_to_estimate_holds_the_injected_rate(demo_run, tmp_path, capsys):  # noqa: F811
    out, _ = demo_run
    noisy = read_corpus(out / "corpus" / "noisy", format="brat")
    clean = read_corpus(out / "corpus" / "clean", format="brat")
    cmp = compare_corpora(noisy, clean)
    wrong = {(c.doc_id, s.start, s.end, s.label) for c in cmp.components if c.kind is not Kind.EXACT for s in c.labels}
    missing = [(c.doc_id, s.start) for c in cmp.components if c.kind is Kind.MISSING for s in c.other]
    n_spans = sum(len(d.spans) for d in noisy.documents)
    true_rate = (len(wrong) + len(missing)) / (n_spans + len(missing))
    sheet = tmp_path / "sample.csv"
    said = run_cli(["sample", out / "run", "--design", "stratified", "--n", "60", "--sentences", "30", "--out", sheet],
                capsys)
    assert "spanqa estimate" in said and (tmp_path / "sample.design.json").is_file()
    rows = list(csv.DictReader(sheet.open()))
    assert sum(r["unit"] == "span" for r in rows) == 60 and sum(r["unit"] == "sentence" for r in rows) == 30
    assert all(r["verdict"] == "" and "[[" in r["context"] for r in rows)
    assert all(r["model_quality"].endswith("%") for r in rows if r["unit"] == "span")  # no 4-decimal numbers
    for r in rows:  # the reviewer: the clean corpus
        a, b = int(r["start"]), int(r["end"])
        if r["unit"] == "span":
            r["verdict"] = "incorrect" if (r["doc_id"], a, b, r["label"]) in wrong else "correct"
        else:
            r["missing"] = str(sum(1 for d, x in missing if d == r["doc_id"] and a <= x < b))
    rows[0]["verdict"] = ""  # one row left blank: counted, not guessed
    with sheet.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    est = json.loads(run_cli(["estimate", out / "run", "--decisions", sheet, "--json"], capsys))
    assert est["reviewed_spans"] == 59 and est["reviewed_sentences"] == 30 and est["unreviewed_rows"] == 1
    lo, hi = est["ci95"]
    assert lo <= true_rate <= hi, (true_rate, est["ci95"])
    assert set(est["per_label"]) == {s.label for s in noisy.spans()}
    assert est["plan"]["target"] == 0.02 and "expected_remaining_rate" in est["plan"]
    text = run_cli(["estimate", out / "run", "--decisions", sheet], capsys)
    assert "error rate from the review sample" in text and "to reach 2.0%" in text


def test_a_bad_sheet_gets_a_coded_error_with_file_and_line(demo_run, tmp_path, capsys):  # noqa: F811
    out, _ = demo_run
    sheet = tmp_path / "s.csv"
    run_cli(["sample", out / "run", "--design", "stratified", "--n", "5", "--sentences", "2", "--out", sheet], capsys)
    rows = list(csv.DictReader(sheet.open()))
    rows[1]["verdict"] = "maybe"
    with sheet.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(SystemExit) as ex:
        main(["estimate", str(out / "run"), "--decisions", str(sheet)])
    err = capsys.readouterr().err
    assert ex.value.code == 2 and "E508" in err and "s.csv:3" in err and "Traceback" not in err


def test_allocation_gives_every_stratum_a_variance_and_sums():
    assert allocate([1000, 100, 10, 0], [0.05, 0.3, 0.5, 0.4], 20) == [11, 7, 2, 0]
    assert allocate([5, 1, 0], [0.5, 0.5, 0.5], 50) == [5, 1, 0]   # never more than a stratum holds
    assert sum(allocate([30, 30, 30], [0.1, 0.1, 0.1], 3)) == 3


def test_estimate_with_no_error_seen_is_not_certain():
    """A stratum whose reviewed spans were all right still leaves room for errors (no zero-width interval)."""
    spans = [("d", i, i + 1, "A", 0.999) for i in range(1000)]
    d = design(spans, [], n=20, n_sentences=0, seed=1)
    est = estimate(d, [Verdict(u) for u in d.units])
    assert est["error_rate"] == 0.0 and est["ci95"][0] == 0.0 < 0.01 < est["ci95"][1] < 0.2


def test_design_round_trips_and_strata_follow_quality():
    spans = [("d", i, i + 1, "A" if i % 2 else "B", q) for i, q in enumerate([0.1, 0.6, 0.95, 0.999] * 25)]
    d = design(spans, [("d", 0, 5, 0.8, 0.8), ("d", 5, 9, 0.0, 0.0)], n=12, n_sentences=2, seed=0)
    assert d.span_sizes == [25, 25, 25, 25] and d.sentence_sizes == [1, 0, 1]
    assert sum(u.kind == "span" for u in d.units) == 12 and {u.stratum for u in d.units if u.kind == "span"} == {0, 1, 2, 3}
    back = Design.from_dict(json.loads(json.dumps(d.to_dict())))
    assert back.span_cells == d.span_cells and back.span_sizes == d.span_sizes
    assert isinstance(d.units[0], Unit) and d.units[0].id == "S001"
