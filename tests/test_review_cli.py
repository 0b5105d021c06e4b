"""The review commands end to end: report, export, apply, sample (through the typer app)."""

from __future__ import annotations

import csv
import json

import pytest
from test_review_run import make_run
from typer.testing import CliRunner

from spanqa.cli import app, main
from spanqa.compare.comparison import compare_corpora
from spanqa.corpus.formats import read_corpus

runner = CliRunner(env={"COLUMNS": "250"})  # rich wraps at the terminal width


def _ok(args: list[str]):
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return res


def test_review_cli_export_decide_apply_compare(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    _ok(["report", str(run_dir)])
    assert (run_dir / "report.html").stat().st_size > 5000
    res = _ok(["export", str(run_dir), "--to", "csv", "--out", str(tmp_path / "sheet.csv")])
    assert "rows 9" in res.output and "spanqa apply" in res.output
    rows = list(csv.DictReader((tmp_path / "sheet.csv").open()))
    for r in rows:
        r["decision"] = {"f_type": "accept", "f_missing": "accept", "f_shrink": "reject"}.get(r["finding_id"], "")
    with (tmp_path / "sheet.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "v2"
    res = _ok(["apply", str(run_dir), "--accept", str(tmp_path / "sheet.csv"), "--out", str(out),
               "--reviewer", "ana"])
    assert "applied 2" in " ".join(res.output.split())
    version = json.loads((out / "VERSION.json").read_text())
    new = read_corpus(out / version["corpus"]["path"])
    comp = compare_corpora(read_corpus(cpath), new)
    diffs = sorted((c.doc_id, c.kind.value) for c in comp.components if c.kind.value != "exact")
    assert diffs == [("n2", "type"), ("n3", "missing")]
    log = [json.loads(x) for x in (out / "changelog.jsonl").read_text().splitlines()]
    assert {r["reviewer"] for r in log} == {"ana"}
    # a second run writes the same version
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    _ok(["apply", str(run_dir), "--accept", str(tmp_path / "sheet.csv"), "--out", str(out), "--reviewer", "ana"])
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_review_cli_apply_to_brat_and_all_above(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    res = _ok(["apply", str(run_dir), "--all-above", "0.85", "--out", str(tmp_path / "v"), "--to", "brat"])
    assert "applied 2" in " ".join(res.output.split())
    new = read_corpus(tmp_path / "v" / "corpus", "brat")
    assert new["n2"].spans[0].label == "Brand" and new["n1"].spans[0].key == (11, 18, "Drug")


def test_review_cli_sample_and_brat_export(tmp_path):
    run_dir, _ = make_run(tmp_path)
    res = _ok(["sample", str(run_dir), "--n", "3", "--seed", "7", "--to", "labelstudio",
               "--out", str(tmp_path / "s.json")])
    assert "sampled 3" in " ".join(res.output.split())
    _ok(["export", str(run_dir), "--to", "brat", "--out", str(tmp_path / "b"), "--suggested", str(tmp_path / "bs")])
    assert (tmp_path / "b" / "n1.ann").exists() and (tmp_path / "bs" / "n3.ann").exists()


def test_review_cli_errors_exit_2_with_code(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", str(tmp_path)])
    assert e.value.code == 2 and "E501" in capsys.readouterr().err
    run_dir, _ = make_run(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["apply", str(run_dir), "--all-above", "0.5", "--out", str(tmp_path)])
    assert e.value.code == 2 and "E505" in capsys.readouterr().err
