"""Annotator agreement: span F1, word-level kappa, Krippendorff's alpha, disagreement share, CLI."""

from __future__ import annotations

import json
import re

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from spanqa.cli import app
from spanqa.compare.agreement import agreement, alpha, kappa, word_tags
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span

TEXT = "Pt took aspirin 81mg daily for pain"
#       0123456789012345678901234567890123


def tokens(text: str) -> tuple[tuple[int, int], ...]:
    """Whitespace tokens, so these tests need not load spaCy (doc_words uses doc.tokens when present)."""
    return tuple(m.span() for m in re.finditer(r"\S+", text))


def ann(*docs: tuple[str, tuple | None], text: str = TEXT, source: str | None = None) -> Corpus:
    return Corpus(tuple(Document(i, text, None if spans is None else tuple(Span(i, *s) for s in spans),
                                 tokens=tokens(text)) for i, spans in docs), source=source)


def test_agreement_identical_annotators_agree_fully():
    a = ann(("1", ((8, 15, "Drug"), (16, 20, "Dose"))), ("2", ()))
    ag = agreement([a, a, a], names=["x", "y", "z"])
    assert len(ag.pairs) == 3
    assert all(p.strict.f1 == 1.0 and p.kappa == 1.0 for p in ag.pairs)
    assert ag.alpha == 1.0 and ag.documents == 2 and ag.documents_disagreeing == 0 and not ag.flagged
    assert list(ag.records()) == []


def test_agreement_word_view_splits_at_both_annotators_edges():
    # annotator b marks only "81" inside the token "81mg": words must split at 18
    doc = Document("1", TEXT, (), tokens=tokens(TEXT))    # "81mg" is one token
    words, (ta, tb), _ = word_tags(doc, [[Span("1", 16, 20, "Dose")], [Span("1", 16, 18, "Dose")]])
    assert (16, 18) in words and (18, 20) in words
    i = words.index((18, 20))
    assert ta[i] == "I-Dose" and tb[i] == "O"


def test_agreement_kappa_and_alpha_equal_the_libraries():
    a = ann(("1", ((8, 15, "Drug"), (16, 20, "Dose"))), ("2", ((31, 35, "Problem"),)))
    b = ann(("1", ((8, 15, "Drug"), (16, 18, "Dose"))), ("2", ((31, 35, "Drug"),)))
    c = ann(("1", ((8, 20, "Drug"),)), ("2", ()))
    ag = agreement([a, b, c], names=["a", "b", "c"])
    rows = [[], [], []]
    pair_tags = {}
    for doc_a, doc_b, doc_c in zip(a, b, c):
        _, tags, _ = word_tags(doc_a, [doc_a.spans, doc_b.spans, doc_c.spans])
        for k in range(3):
            rows[k] += tags[k]
        _, (ta, tb), _ = word_tags(doc_a, [doc_a.spans, doc_b.spans])
        pair_tags.setdefault("ab", ([], []))
        pair_tags["ab"][0].extend(ta)
        pair_tags["ab"][1].extend(tb)
    assert ag.pairs[0].kappa == pytest.approx(cohen_kappa_score(*pair_tags["ab"]))
    domain = sorted({t for r in rows for t in r})
    data = np.array([[domain.index(t) for t in r] for r in rows], dtype=float)
    assert ag.alpha == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    # a-b: Drug exact, Dose boundary, Problem/Drug type -> 1 of 3 strict, 2 of 3 overlapping
    assert ag.pairs[0].strict.f1 == pytest.approx(1 / 3)
    assert ag.pairs[0].overlap.f1 == pytest.approx(2 / 3)
    assert ag.pairs[0].kinds["type"] == 1 and ag.pairs[0].kinds["boundary"] == 1
    assert ag.per_label["Drug"]["spans"] == 4
    assert ag.documents_disagreeing == 2 and ag.flagged
    assert "W305" in {p.code for p in ag.problems}
    recs = list(ag.records())
    assert recs and all(len(r["annotators"]) == 2 and "kind" in r and "labels" in r and "other" in r for r in recs)


def test_agreement_only_documents_everyone_annotated_are_scored():
    a = ann(("1", ((8, 15, "Drug"),)), ("2", ()), ("3", ()))
    b = ann(("1", ((8, 15, "Drug"),)), ("2", None), ("4", ()))
    ag = agreement([a, b], names=["a", "b"])
    assert ag.documents == 1
    assert sorted(p.code for p in ag.problems) == ["W301", "W301", "W302"]


def test_agreement_nested_spans_reported_w304():
    a = ann(("1", ((8, 20, "Drug"), (16, 20, "Dose"))))
    b = ann(("1", ((8, 20, "Drug"),)))
    ag = agreement([a, b], names=["a", "b"])
    assert ag.dropped_spans == 1 and [p.code for p in ag.problems if p.code == "W304"] == ["W304"]
    assert ag.pairs[0].kinds["spurious"] == 1      # span F1 still sees the nested span


def test_agreement_helpers_edge_cases():
    assert kappa(["O", "O"], ["O", "O"]) == 1.0
    assert alpha([["O", "O"], ["O", "O"]]) == 1.0
    assert kappa(["B-A", "O"], ["O", "B-A"]) == pytest.approx(-1.0)
    with pytest.raises(SpanqaError) as err:
        agreement([ann(("1", ()))])
    assert err.value.code == "E303"


def test_agreement_same_name_twice_kept_apart():
    a = ann(("1", ()), source="same")
    ag = agreement([a, a])
    assert ag.annotators == ("A:same", "B:same")


def _conll(path, rows):
    path.write_text("\n".join(" ".join(r) if r else "" for r in rows) + "\n", encoding="utf-8")
    return path


def test_agreement_cli_json_and_records(tmp_path):
    a = _conll(tmp_path / "a.conll", [("Pt", "O"), ("took", "O"), ("aspirin", "B-Drug"), ("daily", "O"), (),
                                      ("BP", "B-Test"), ("high", "O")])
    b = _conll(tmp_path / "b.conll", [("Pt", "O"), ("took", "O"), ("aspirin", "B-Drug"), ("daily", "B-Freq"), (),
                                      ("BP", "B-Test"), ("high", "O")])
    out = tmp_path / "dis.jsonl"
    res = CliRunner().invoke(app, ["agree", str(a), str(b), "--json", "--out", str(out), "--match", "order"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["documents"] == 2 and payload["documents_disagreeing"] == 1 and payload["flagged"] is True
    assert payload["pairs"][0]["kinds"]["missing"] == 1
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["kind"], r["other"][0]["text"]) for r in recs] == [("missing", "daily")]
    res = CliRunner().invoke(app, ["agree", str(a), str(b), "--match", "order"])
    assert res.exit_code == 0 and "FLAG" in res.output and "pairwise agreement" in res.output
