"""``spanqa report``: the self-contained HTML page, its escaping, and a headless-Chromium check.

The browser tests need the Debian package ``chromium``.  When it is missing and the
tests run as root, the first browser test installs it once (``apt-get install -y
chromium``); otherwise they skip with the reason.  They use no Python browser library:
``--dump-dom`` of ``report.html#selftest`` (the page checks itself - render, filter,
page - and writes the result as JSON into ``<pre id="selftest">``), Chromium's
``--enable-logging=stderr`` for console messages, and ``--screenshot``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_review_run import make_run

from spanqa.review.report import build_report, categorize, confusion, guideline_hints, safe_json, write_report
from spanqa.run.reader import load_run

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars"]
_INSTALL_TRIED = Path("/tmp/spanqa-chromium-install-tried")


def _chromium() -> str:
    """Path of a Chromium binary; installs the Debian package once when root, else skips."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("chromium is not installed and the tests are not root (install the Debian package 'chromium')")
    if not _INSTALL_TRIED.exists():
        _INSTALL_TRIED.write_text("apt-get install -y chromium\n")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            try:
                subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=900)
            except (OSError, subprocess.SubprocessError) as err:
                pytest.skip(f"chromium is not installed and `{' '.join(cmd)}` failed: {err}")
    path = shutil.which("chromium")
    if not path:
        pytest.skip("chromium could not be installed (apt-get install -y chromium tried once)")
    return path


def _browse(page: Path, tmp: Path, *, fragment: str = "", screenshot: Path | None = None) -> tuple[str, str]:
    """``(dom, stderr)`` of ``page`` after its scripts ran (or the screenshot when asked)."""
    exe = _chromium()
    args = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chromium-profile'}", "--enable-logging=stderr",
            "--v=0", "--virtual-time-budget=5000"]
    if screenshot is not None:
        args += ["--window-size=1300,2600", f"--screenshot={screenshot}"]
    else:
        args += ["--dump-dom"]
    proc = subprocess.run(args + [page.resolve().as_uri() + fragment], capture_output=True, text=True, timeout=120)
    return proc.stdout, proc.stderr


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture()
def report(tmp_path) -> Path:
    run_dir, _ = make_run(tmp_path)
    return write_report(load_run(run_dir), tmp_path / "report.html")


# --------------------------------------------------------------------------- the page as text
def test_review_report_is_self_contained_and_escaped(report):
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    # no network: no external URL in src/href, a CSP that forbids fetching
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page
    # the note holds </script><script>alert(1)</script> and <!--<script>: never raw in the page
    assert "alert(1)" in page and "<script>alert(1)" not in page and "<!--<script>" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2
    block = re.search(r'<script type="application/json" id="spanqa-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and "</" not in block
    data = json.loads(block)
    assert len(data["findings"]) == 9 and data["findings"][0]["id"] == "f_type"  # most suspicious first
    assert "</script><script>alert(1)</script>" in data["docs"]["n2"] and data["findings"][0]["window"][0] == 0
    assert sorted(data["spans"]) == ["n1", "n2", "n3", "n4"] and data["spans"]["n2"][0] == [0, 8, "Drug"]
    # the OOD message's <b> is text, not markup, in the JSON; the overview escapes what it prints
    assert "<b>check</b>" in next(f["message"] for f in data["findings"] if f["kind"] == "out_of_distribution")
    assert "<b>check</b>" not in page
    # overview: error rate with interval, charts, confusion, hints
    assert "21.0%" in page and "95% CI 12.0% \u2013 33.0%" in page
    assert page.count("<svg") == 3 and "Label confusion" in page
    assert "strength/unit" in page


def test_review_report_error_rate_read_defensively():
    from spanqa.review.report import summary_rate

    assert summary_rate({"error_rate": {"estimate": 0.2, "ci95": [0.1, 0.3]}}) == (0.2, 0.1, 0.3, "95% CI")
    assert summary_rate({"error_rate": {"value": 0.2, "low": 0.1, "high": 0.3, "level": 0.9}}) == (0.2, 0.1, 0.3, "90% CI")
    assert summary_rate({"error_rate": 0.2, "error_rate_ci": [0.1, 0.3]})[:3] == (0.2, 0.1, 0.3)
    assert summary_rate({}) == (None, None, None, "95% CI")
    assert summary_rate({"error_rate": {"estimate": None, "ci95": [None, None]}})[:3] == (None, None, None)


def test_review_report_safe_json_round_trips():
    nasty = {"t": "</script><!--<script>&\u2028\u2029", "u": "ok"}
    s = safe_json(nasty)
    assert json.loads(s) == nasty and "<" not in s and ">" not in s and "&" not in s


def test_review_report_confusion_and_hints(tmp_path):
    run_dir, _ = make_run(tmp_path)
    run = load_run(run_dir)
    conf = confusion(run.findings)
    assert conf[("Drug", "Brand")] == 2 and conf[("Drug", "Drug")] == 3 and conf[("-", "Drug")] == 1
    assert conf[("Disease", "-")] == 1 and ("Drug", "-") not in conf  # review-only flag is no deletion
    hints = guideline_hints(run.findings, {d.id: d.text for d in run.corpus()})
    pats = [h.pattern for h in hints]
    assert pats[0].startswith("Drug -> Brand: 2 spans") and hints[0].finding_ids == ("f_type", "f_conflict_a")
    assert any("exclude strength/unit" in p and "81mg" in p for p in pats)
    assert any("include strength/unit" in p and "25 mg" in p for p in pats)
    assert categorize("81mg PO") == "strength/unit + route" and categorize("drip") == "route"
    assert categorize("of the") == '"of the"'


def test_review_report_without_corpus_still_renders(tmp_path):
    run_dir, cpath = make_run(tmp_path)
    cpath.unlink()
    page = build_report(load_run(run_dir))
    assert "could not be read" in page and "f_type" in page


# --------------------------------------------------------------------------- in the browser
@pytest.mark.slow
def test_review_report_runs_in_headless_chromium(report, tmp_path):
    dom, err = _browse(report, tmp_path, fragment="#selftest")
    assert _console(err) == [], _console(err)
    m = re.search(r'<pre id="selftest" data-ok="(\w+)">(.*?)</pre>', dom, re.S)
    assert m, dom[-2000:]
    result = json.loads(html.unescape(m.group(2)))
    assert m.group(1) == "true" and result["ok"], result
    assert result["rendered"] == 9 and result["errors"] == []
    assert result["filtered"] == result["filtered_rendered"] == result["filtered_expected"] < 9
    # the injected note text is shown as text: one article per finding, no script executed from it
    assert len(re.findall(r'<article class="finding[ "]', dom)) == 9
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    shot = tmp_path / "report.png"
    _browse(report, tmp_path, screenshot=shot)
    assert shot.exists() and shot.stat().st_size > 10_000
    print(f"\nreport screenshot: {shot}")


@pytest.mark.slow
def test_review_report_filter_from_url_hash_changes_what_is_shown(report, tmp_path):
    dom, err = _browse(report, tmp_path, fragment="#kind=boundary&label=Drug&max=0.1")
    assert _console(err) == []
    assert re.findall(r'<article class="finding[^"]*" data-kind="(\w+)" data-id="(\w+)"', dom) == [("boundary", "f_shrink")]
    assert 'data-total="1"' in dom and "(filtered from 9)" in dom


@pytest.mark.slow
def test_review_report_malformed_hash_escape_still_renders(report, tmp_path):
    dom, err = _browse(report, tmp_path, fragment="#q=%E0%A4%A&kind=boundary")  # a cut % escape: no URIError
    assert _console(err) == [], _console(err)
    assert 'data-total="0"' in dom or '<article class="finding"' in dom


@pytest.mark.slow
def test_review_report_pages_of_twenty(tmp_path):
    base = json.loads(json.dumps(__import__("test_review_run").fixture_findings()))
    many = []
    for i in range(45):
        f = dict(base[i % 2], id=f"f{i:02d}", score=round(0.01 * i, 3))
        many.append(f)
    run_dir, _ = make_run(tmp_path, findings=many)
    page = write_report(load_run(run_dir), tmp_path / "r.html")
    dom, err = _browse(page, tmp_path, fragment="#selftest")
    result = json.loads(html.unescape(re.search(r'<pre id="selftest"[^>]*>(.*?)</pre>', dom, re.S).group(1)))
    assert result["ok"] and result["rendered"] == 20 and result["page2_rendered"] == 20
    assert result["page2_first_rank"] == 21 and result["total"] == 45
