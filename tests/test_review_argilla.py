"""Argilla: export records the argilla SDK's own Record class takes, read reviewers' responses back as decisions."""

from __future__ import annotations

import json

import pytest
from test_review_run import make_run

from spanqa.cli import main

rg = pytest.importorskip("argilla")
U1, U2 = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"


def _cli(args, capsys) -> tuple[int, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as ex:
        code = int(ex.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


def test_review_argilla_export_validates_and_responses_come_back_as_decisions(tmp_path, capsys):
    run_dir, cpath = make_run(tmp_path)
    code, text = _cli(["export", run_dir, "--to", "argilla", "--out", tmp_path / "ar"], capsys)
    assert code == 0, text
    settings = json.loads((tmp_path / "ar" / "settings.json").read_text())
    assert settings["questions"][0]["type"] == "span" and "Brand" in settings["questions"][0]["labels"]
    records = json.loads((tmp_path / "ar" / "records.json").read_text())
    objs = [rg.Record.from_dict(r) for r in records]          # the SDK's own record class takes every record
    assert [o.id for o in objs] == ["n1", "n2", "n3", "n4"]
    n2 = objs[1]
    assert n2.suggestions["spans"].agent.startswith("spanqa-") and len(n2.suggestions["spans"].value) == len(
        n2.suggestions["spans"].score)
    assert {"start": 0, "end": 8, "label": "Brand"} in n2.suggestions["spans"].value   # f_type's fix applied

    # reviewers answer in Argilla: n2 accepted as suggested (user 1), n3 discarded, n4 two users disagree,
    # n1 left pending; the export is Record.to_dict() of what they submitted
    by_id = {r["id"]: r for r in records}
    answers = {
        "n2": [rg.Response("spans", by_id["n2"]["suggestions"]["spans"]["value"], user_id=U1, status="submitted")],
        "n3": [rg.Response("spans", [], user_id=U2, status="discarded")],
        "n4": [rg.Response("spans", [{"start": 8, "end": 20, "label": "Drug"}, {"start": 37, "end": 44, "label": "Drug"}],
                           user_id=U1, status="submitted"),
               rg.Response("spans", [{"start": 8, "end": 15, "label": "Brand"}, {"start": 37, "end": 44, "label": "Drug"}],
                           user_id=U2, status="submitted")],
    }
    exported = []
    for r in records:
        rec = rg.Record.from_dict(r)
        for resp in answers.get(r["id"], []):
            rec.responses.add(resp)
        d = rec.to_dict()
        d["status"] = "completed" if r["id"] in ("n2", "n4") else "pending"
        if r["id"] == "n3":  # to_dict drops a response's status; a discarded one is exported with it
            d["responses"]["spans"][0]["status"] = "discarded"
        exported.append(d)
    (tmp_path / "argilla_export.json").write_text(json.dumps(exported))
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"id": U1, "username": "ana"}, {"id": U2, "username": "ben"}]))
    code, text = _cli(["apply", run_dir, "--accept", tmp_path / "argilla_export.json", "--users", users,
                       "--out", tmp_path / "v2"], capsys)
    assert code == 1 and "W511" in text  # the disagreement is reported and the exit says so
    log = [json.loads(x) for x in (tmp_path / "v2" / "changelog.jsonl").read_text().splitlines()]
    assert [(r["finding_id"], r["reviewer"]) for r in log] == [("f_type", "ana")]
    version = json.loads((tmp_path / "v2" / "VERSION.json").read_text())
    c = version["counts"]
    assert (c["accepted"], c["rejected"], c["skipped_tasks"], c["disagreeing_tasks"]) == (1, 1, 1, 1)
    assert version["reviewers"] == {"ana": 2}  # f_type accepted, f_ood (review only, nothing changed) rejected

    # one odd record does not lose the others (issue: an unanswered record without a responses key made the
    # whole file fall back to the plain-decision reader, and every decision was lost without a word)
    odd = [dict(r) for r in exported]
    del odd[0]["responses"]                      # n1, unanswered, exported without the key
    odd.append("not a record")                   # an item of another shape: W514, the rest is read
    (tmp_path / "odd.json").write_text(json.dumps(odd))
    code, text = _cli(["apply", run_dir, "--accept", tmp_path / "odd.json", "--users", users,
                       "--out", tmp_path / "v3"], capsys)
    assert code == 1 and "W514" in text and "W511" in text
    log = [json.loads(x) for x in (tmp_path / "v3" / "changelog.jsonl").read_text().splitlines()]
    assert [(r["finding_id"], r["reviewer"]) for r in log] == [("f_type", "ana")]
    problems = [json.loads(x) for x in (tmp_path / "v3" / "problems.jsonl").read_text().splitlines()]
    assert [p["code"] for p in problems if p["code"] == "W514"] == ["W514"] and "odd.json[4]" in json.dumps(problems)
