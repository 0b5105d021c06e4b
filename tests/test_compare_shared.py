"""Real oracle: the comparator reproduces the published CoNLL-2003 correction diffs (skips without the corpora).

``/work/shared/corpora/conll2003/diffs`` holds, per correction set, one JSON record
per changed entity group, computed by the corpus maintainers on a whitespace-free
concatenation of each file's tokens; ``SUMMARY.json`` holds the counts.  Original
= ``labels`` (under audit), corrected = ``other``, so the diffs' ``added`` is our
``missing`` and ``removed`` our ``spurious``.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from conftest import corpus_path
from typer.testing import CliRunner

from spanqa.cli import app
from spanqa.compare.comparison import compare_corpora
from spanqa.corpus.formats import read_corpus

CATEGORY = {"type": "type", "boundary": "boundary", "boundary+type": "boundary_type", "added": "missing",
            "removed": "spurious", "split": "split", "merge": "merge", "complex": "complex"}

SLOW = pytest.mark.slow   # ~1-2 s each on 2 shared cores; conllpp_test (the headline check) always runs

PAIRS = [
    pytest.param("conllpp_test", "original/test.txt", "conllpp/test.txt", "id", id="conllpp_test"),
    pytest.param("reiss2020_train", "original/train.txt", "reiss2020/corrected/train.txt", "id",
                 id="reiss2020_train", marks=SLOW),
    pytest.param("reiss2020_dev", "original/valid.txt", "reiss2020/corrected/dev.txt", "order", id="reiss2020_dev",
                 marks=SLOW),
    pytest.param("reiss2020_test", "original/test.txt", "reiss2020/corrected/test.txt", "id", id="reiss2020_test",
                 marks=SLOW),
    pytest.param("cleanconll_dev", "original/valid.txt", "cleanconll/reconstructed/cleanconll.dev", "order",
                 id="cleanconll_dev", marks=SLOW),
    pytest.param("cleanconll_test", "original/test.txt", "cleanconll/reconstructed/cleanconll.test", "order",
                 id="cleanconll_test", marks=SLOW),
]


def _nows(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _key(doc: int, kind: str, labels, other) -> tuple:
    return (doc, kind, tuple(sorted(labels)), tuple(sorted(other)))


@pytest.mark.parametrize("name, original, corrected, how", PAIRS)
def test_compare_shared_reproduces_conll2003_diffs(name, original, corrected, how):
    base = corpus_path("conll2003")
    labels = read_corpus(base / original, format="conll")
    other = read_corpus(base / corrected, format="conll")
    cmp = compare_corpora(labels, other)
    assert cmp.match == how and cmp.problems == () and len(cmp.docs) == len(labels)

    summary = json.loads((base / "diffs" / "SUMMARY.json").read_text())[f"{name}.jsonl"]["by_category"]
    expected = {CATEGORY[k]: n for k, n in summary.items()}
    got = {k.value: n for k, n in cmp.counts.items() if k.value != "exact"}
    assert got == {k: expected.get(k, 0) for k in got}

    # component by component: document index, kind, labels and texts on both sides
    ours = Counter()
    for rec in cmp.records():
        ours[_key(int(rec["doc_id"].rsplit("-", 1)[1]), rec["kind"],
                  [(s["label"], _nows(s["text"])) for s in rec["labels"]],
                  [(s["label"], _nows(s["text"])) for s in rec["other"]])] += 1
    theirs = Counter()
    for line in (base / "diffs" / f"{name}.jsonl").read_text().splitlines():
        d = json.loads(line)
        orig = d.get("orig") or []
        new = d.get("new") or []
        orig, new = ([orig] if isinstance(orig, dict) else orig), ([new] if isinstance(new, dict) else new)
        theirs[_key((orig or new)[0]["doc"], CATEGORY[d["category"]],
                    [(s["type"], _nows(s["text"])) for s in orig], [(s["type"], _nows(s["text"])) for s in new])] += 1
    assert ours == theirs


def test_compare_shared_cli_conllpp_json(tmp_path):
    base = corpus_path("conll2003")
    out = tmp_path / "components.jsonl"
    res = CliRunner().invoke(app, ["compare", str(base / "original/test.txt"), str(base / "conllpp/test.txt"),
                                   "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["kinds"] == {"exact": 5506, "type": 80, "boundary": 21, "boundary_type": 15, "split": 1,
                                "merge": 8, "complex": 0, "missing": 70, "spurious": 9}
    assert payload["match"] == "id" and payload["problems"] == []
    assert len(out.read_text().splitlines()) == 204
