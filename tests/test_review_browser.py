"""The report as a reviewer uses it, in a real headless Chromium driven by Playwright.

Keyboard and mouse: accept 3, reject 2 (and undo a third), edit 1 by selecting a word in
the whole note; download the decisions; ``spanqa apply`` them; ``spanqa compare OLD NEW``
must show exactly those changes, and the changelog must name the reviewer.  A phone-sized
viewport must not scroll sideways.  Skipped when Playwright or Chromium is missing.
"""

from __future__ import annotations

import json
import shutil

import pytest
from test_review_run import make_run

from spanqa.cli import main
from spanqa.review.report import write_report
from spanqa.run.reader import load_run

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine")]


@pytest.fixture()
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _cli(args: list) -> None:
    try:
        main([str(a) for a in args])
    except SystemExit as ex:
        assert ex.code in (0, None), ex.code


def _focused(page) -> str:
    return page.get_attribute("#findings article.current", "data-id")


def test_review_browser_keyboard_and_mouse_decisions_round_trip_through_apply(browser, tmp_path):
    run_dir, corpus = make_run(tmp_path)
    report = write_report(load_run(run_dir), tmp_path / "report.html")
    page = browser.new_page(accept_downloads=True)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    page.goto(report.as_uri())

    page.fill("#reviewer", "ana@example.org")
    page.locator("body").click(position={"x": 5, "y": 5})  # leave the input so keys reach the page
    assert _focused(page) == "f_type"
    page.keyboard.press("a")                       # accept f_type (Drug -> Brand), focus moves on
    assert _focused(page) == "f_shrink"
    page.keyboard.press("a")                       # accept f_shrink (aspirin 81mg -> aspirin)
    page.keyboard.press("r")                       # reject f_conflict_a
    assert _focused(page) == "f_conflict_b"
    page.click('article[data-id="f_conflict_b"] button.accept')   # the mouse: accept heparin -> heparin drip
    page.keyboard.press("j")
    assert _focused(page) == "f_missing"
    page.keyboard.press("e")                       # edit: lisinopril, but as a Brand
    editor = page.locator('article[data-id="f_missing"] .editor')
    assert "no span" in editor.inner_text()        # the editor starts from the labelled spans: none here
    page.select_option("#edit-label", "Brand")
    word = editor.locator(".note mark.sug").filter(has_text="lisinopril").first
    word.dblclick()                                # select the word with the mouse
    editor.locator("button.add").click()
    row = editor.locator("li").first.inner_text()
    assert "lisinopril" in row and "40" not in row   # words, not character offsets
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Enter")                   # save = accept with the reviewer's spans
    assert page.get_attribute('article[data-id="f_missing"]', "data-decision") == "edit"
    page.keyboard.press("j")
    assert _focused(page) == "f_shrink2"
    page.keyboard.press("r")                       # reject f_shrink2
    page.keyboard.press("r")                       # reject f_spurious ...
    page.keyboard.press("u")                       # ... and undo it: f_spurious stays not reviewed
    assert page.get_attribute('article[data-id="f_spurious"]', "data-decision") == ""
    assert page.inner_text("#progress").startswith("reviewed 6 of 9 · accepted 4 (edited 1) · rejected 2")

    page.reload()                                  # kept in the browser (localStorage keyed by the run)
    assert page.get_attribute("#progress", "data-done") == "6"
    with page.expect_download() as dl:
        page.click("#download")
    decisions = tmp_path / "decisions.jsonl"
    dl.value.save_as(decisions)
    recs = [json.loads(line) for line in decisions.read_text().splitlines()]
    assert sorted((r["finding_id"], r["decision"]) for r in recs) == [
        ("f_conflict_a", "reject"), ("f_conflict_b", "accept"), ("f_missing", "accept"), ("f_shrink", "accept"),
        ("f_shrink2", "reject"), ("f_type", "accept")]
    assert next(r for r in recs if r["finding_id"] == "f_missing")["spans"] == [
        {"start": 40, "end": 50, "label": "Brand"}]
    assert {r["reviewer"] for r in recs} == {"ana@example.org"}
    assert console == []

    _cli(["apply", run_dir, "--accept", decisions, "--out", tmp_path / "v2"])
    _cli(["compare", corpus, tmp_path / "v2" / "corpus.jsonl", "--out", tmp_path / "diff.jsonl"])
    diff = [json.loads(line) for line in (tmp_path / "diff.jsonl").read_text().splitlines()]
    got = sorted((d["doc_id"], tuple((s["start"], s["end"], s["label"]) for s in d["labels"]),
                  tuple((s["start"], s["end"], s["label"]) for s in d["other"])) for d in diff)
    assert got == [("n1", ((11, 23, "Drug"),), ((11, 18, "Drug"),)),
                   ("n2", ((0, 8, "Drug"),), ((0, 8, "Brand"),)),
                   ("n3", (), ((40, 50, "Brand"),)),
                   ("n4", ((8, 15, "Drug"),), ((8, 20, "Drug"),))]
    log = [json.loads(line) for line in (tmp_path / "v2" / "changelog.jsonl").read_text().splitlines()]
    assert sorted(r["finding_id"] for r in log) == ["f_conflict_b", "f_missing", "f_shrink", "f_type"]
    assert {r["reviewer"] for r in log} == {"ana@example.org"}
    version = json.loads((tmp_path / "v2" / "VERSION.json").read_text())
    assert (version["counts"]["accepted"], version["counts"]["edited"], version["counts"]["rejected"],
            version["counts"]["not_reviewed"]) == (4, 1, 2, 3)
    assert version["reviewers"] == {"ana@example.org": 6}


def test_review_browser_filters_from_hints_cells_hash_and_a_phone_screen(browser, tmp_path):
    run_dir, _ = make_run(tmp_path)
    report = write_report(load_run(run_dir), tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=False)
    page.click('.confusion td[data-cell="Drug|Brand"]')          # a confusion cell filters the list
    ids = page.eval_on_selector_all("#findings article", "els => els.map(e => e.dataset.id)")
    assert sorted(ids) == ["f_conflict_a", "f_type"]
    page.evaluate("location.hash = 'kind=boundary'")              # a changed hash is followed
    page.wait_for_function("document.querySelectorAll('#findings article').length === 3")
    page.evaluate("location.hash = 'kind=nonsense'")              # an unknown value is reported, not hidden
    page.wait_for_function("document.getElementById('filter-warn').textContent.includes('nonsense')")
    assert page.input_value("#f-kind") == "nonsense"
    assert page.inner_text("#count") == "no finding matches"
    page.evaluate("location.hash = 'q=aspirin'")                  # text search: the finding's own spans
    page.wait_for_function("document.getElementById('count').getAttribute('data-total') === '1'")
    page.evaluate("location.hash = 'sort=confidence'")
    page.wait_for_function("document.querySelector('#findings article').dataset.id === 'f_type'")
    chips = page.eval_on_selector_all(".chip", "els => els.length")
    assert chips == 0  # the fixture findings carry no word path; the demo run's do (tested in test_review_report)
    assert errors == []


def test_review_browser_an_hour_of_work_comments_unsure_bulk_import_and_apply(browser, tmp_path):
    """The states a lead needs for an hour: a reason on a reject, "unsure", a bulk reject under a filter (the
    confirm names the count), another reviewer's file imported (their new decisions taken, the disagreement
    shown), percentages instead of raw scores and tags; then download -> apply: unsure is kept out, reasons in."""
    run_dir, _ = make_run(tmp_path)
    report = write_report(load_run(run_dir), tmp_path / "report.html")
    page = browser.new_page(accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.goto(report.as_uri())
    page.fill("#reviewer", "ana")
    card = page.locator('article[data-id="f_type"]')
    assert "label right 4%" in card.inner_text() and "fix right 93%" in card.inner_text()
    assert "B-" not in page.inner_text("#findings") and "0.04" not in card.locator("h3").inner_text()
    page.click('article[data-id="f_spurious"] button.reject')
    page.fill('article[data-id="f_spurious"] input.comment', "Taking is a verb here, the label is wrong... no: keep")
    page.locator('article[data-id="f_spurious"] input.comment').press("Tab")   # saved on change
    page.click('article[data-id="f_low"] button.unsure')
    assert page.get_attribute('article[data-id="f_low"]', "data-decision") == "unsure"
    page.select_option("#f-kind", "boundary")                                 # three boundary findings shown
    page.click("#bulk-reject")
    assert dialogs and "3 undecided findings shown (kind boundary)" in dialogs[-1]
    assert page.get_attribute('article[data-id="f_shrink"]', "data-decision") == "reject"
    page.click("#reset")
    other = tmp_path / "ben.jsonl"
    other.write_text(json.dumps({"finding_id": "f_shrink", "decision": "accept", "reviewer": "ben"}) + "\n"
                     + json.dumps({"finding_id": "f_type", "decision": "accept", "reviewer": "ben"}) + "\n"
                     + json.dumps({"finding_id": "nope", "decision": "reject"}) + "\n")
    page.set_input_files("#import", str(other))
    page.wait_for_function("document.getElementById('import-note').textContent.length > 0")
    note = page.inner_text("#import-note")
    assert "1 new decisions taken" in note and "1 disagree with yours" in note and "1 not findings" in note
    page.select_option("#f-status", "disagree")
    assert page.locator("#findings article").count() == 1
    assert "disagreement: ben said accepted" in page.inner_text('article[data-id="f_shrink"]')
    with page.expect_download() as dl:
        page.click("#download")
    decisions = tmp_path / "decisions.jsonl"
    dl.value.save_as(decisions)
    recs = {r["finding_id"]: r for r in map(json.loads, decisions.read_text().splitlines())}
    assert recs["f_low"]["decision"] == "unsure" and recs["f_type"]["reviewer"] == "ben"
    assert recs["f_shrink"]["decision"] == "reject"                            # mine kept, theirs shown
    assert recs["f_spurious"]["reason"].startswith("Taking is a verb")
    _cli(["apply", run_dir, "--accept", decisions, "--out", tmp_path / "v2"])
    version = json.loads((tmp_path / "v2" / "VERSION.json").read_text())
    assert version["counts"]["accepted"] == 1 and version["counts"]["rejected"] == 4   # f_low (unsure) not decided
    rej = {r["finding_id"]: r for r in map(json.loads, (tmp_path / "v2" / "rejections.jsonl").read_text().splitlines())}
    assert rej["f_spurious"]["reason"].startswith("Taking is a verb") and rej["f_spurious"]["reviewer"] == "ana"
    assert errors == []


def test_review_browser_default_triage_view_states_its_cut_off(browser, tmp_path):
    """30 findings, 10 labelled spans at an estimated 21%: the page opens on the 20 most suspicious (the minimum),
    says why, and shows all 30 with one click; a filter shows everything it matches."""
    base = [f for f in __import__("test_review_run").fixture_findings() if f["id"] == "f_spurious"][0]
    findings = [dict(base, id=f"f{i:02d}", score=round(0.01 * (i + 1), 2)) for i in range(30)]
    run_dir, _ = make_run(tmp_path, findings=findings)
    report = write_report(load_run(run_dir), tmp_path / "report.html")
    page = browser.new_page()
    page.goto(report.as_uri())
    assert page.get_attribute("#count", "data-total") == "20"
    text = page.inner_text("#triage")
    assert "the 20 findings most likely to be real errors" in text and "10 more" in text and "21%" in text
    page.click("#triage button")
    assert page.get_attribute("#count", "data-total") == "30" and "all=1" in page.url
    page.click("#triage button")
    page.select_option("#f-kind", "spurious")
    assert page.get_attribute("#count", "data-total") == "30" and page.inner_text("#triage") == ""


def test_review_browser_editor_moves_edges_by_words(browser, tmp_path):
    """The editor starts from the labelled span 'aspirin 81mg'; one click moves its end a word earlier: 'aspirin'."""
    run_dir, _ = make_run(tmp_path)
    report = write_report(load_run(run_dir), tmp_path / "report.html")
    page = browser.new_page()
    page.goto(report.as_uri())
    page.click('article[data-id="f_shrink"] button.edit')
    editor = page.locator('article[data-id="f_shrink"] .editor')
    assert editor.locator("li q.span-text").inner_text() == "aspirin 81mg"
    editor.locator('li button[title="end one word earlier"]').click()
    assert editor.locator("li q.span-text").inner_text() == "aspirin"
    editor.locator('li button[title="start one word earlier"]').click()
    assert editor.locator("li q.span-text").inner_text() == "started aspirin"
    editor.locator('li button[title="start one word later"]').click()
    editor.locator("button.save").click()
    rec = page.evaluate("JSON.parse(window.spanqaReview.decisionsJsonl().trim())")
    assert rec["decision"] == "accept" and "spans" not in rec   # the edit equals the suggestion: a plain accept
