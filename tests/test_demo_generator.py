"""Tests of the synthetic demo corpus: notes, injected errors, manifest, files on disk."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from spanqa.compare.comparison import compare_spans
from spanqa.corpus.formats import read_corpus
from spanqa.corpus.tokenize import doc_words
from spanqa.measure.demo import (
    KINDS,
    LABELS,
    apply_manifest_backwards,
    generate_notes,
    group_of,
    inject_errors,
    parse_markup,
    write_demo,
)
from spanqa.measure.demo.generator import MAX_WORDS, MIN_WORDS

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "corpora" / "demo"


@pytest.fixture(scope="module")
def default_corpus():
    """The default demo corpus (150 notes, seed 0, rate 0.10): clean docs, noisy docs, manifest."""
    clean = generate_notes()
    noisy, manifest = inject_errors(clean)
    return clean, noisy, manifest


def _by_doc(manifest):
    out: dict[str, list[dict]] = {}
    for e in manifest:
        out.setdefault(e["doc_id"], []).append(e)
    return out


def _load_script():
    spec = importlib.util.spec_from_file_location("make_demo_corpus", REPO / "scripts" / "make_demo_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- notes


def test_demo_generator_parse_markup_offsets():
    text, spans, distractors = parse_markup(
        "d", "Pt on ⟦Drug|aspirin⟧ ⟦Strength|81mg⟧ ⟦Route|PO⟧ ⟦Frequency|daily⟧; ⟪Route|PO⟫ intake ok")
    assert text == "Pt on aspirin 81mg PO daily; PO intake ok"
    assert [(text[s.start:s.end], s.label) for s in spans] == [
        ("aspirin", "Drug"), ("81mg", "Strength"), ("PO", "Route"), ("daily", "Frequency")]
    assert [(text[a:b], lab) for a, b, lab in distractors] == [("PO", "Route")]
    with pytest.raises(ValueError):
        parse_markup("d", "bad ⟦Drug| aspirin⟧")


def test_demo_generator_is_deterministic():
    a = generate_notes(n_notes=20, seed=3)
    b = generate_notes(n_notes=20, seed=3)
    c = generate_notes(n_notes=20, seed=4)
    assert a == b
    assert [d.meta for d in a] == [d.meta for d in b]
    assert [d.text for d in a] != [d.text for d in c]


def test_demo_generator_leaves_global_random_alone():
    import random
    random.seed(123)
    expected = random.random()
    random.seed(123)
    generate_notes(n_notes=5, seed=0)
    assert random.random() == expected


def test_demo_generator_counts_ids_and_groups(default_corpus):
    clean, _, _ = default_corpus
    assert len(clean) == 150
    assert len({d.id for d in clean}) == 150
    for d in clean:
        assert re.fullmatch(r"p\d{3}_n[1-4]", d.id)
        assert d.group == group_of(d.id) == d.meta["patient"]
    per_patient = Counter(d.group for d in clean)
    assert max(per_patient.values()) >= 3 and sum(1 for v in per_patient.values() if v >= 2) >= 20
    assert set(d.meta["note_type"] for d in clean) == {"admission note", "progress note", "discharge summary"}
    assert generate_notes(n_notes=0) == []
    with pytest.raises(ValueError):
        generate_notes(n_notes=-1)


def test_demo_generator_word_counts_in_range(default_corpus):
    clean, _, _ = default_corpus
    words = [len(d.text.split()) for d in clean]
    assert MIN_WORDS <= min(words) and max(words) <= MAX_WORDS


def test_demo_generator_offsets_exact(default_corpus):
    clean, _, _ = default_corpus
    for d in clean:
        assert not any(ch in d.text for ch in "⟦⟧⟪⟫")
        prev_end = 0
        for s in d.spans:
            surface = d.text[s.start:s.end]
            assert surface and surface == surface.strip() and "\n" not in surface, (d.id, s)
            assert s.start >= prev_end, f"overlapping gold spans in {d.id}"  # flat gold
            prev_end = s.end
        for a, b, _label in d.meta["distractors"]:
            assert not any(a < s.end and s.start < b for s in d.spans), (d.id, d.text[a:b])


def test_demo_generator_convention_examples(default_corpus):
    clean, _, _ = default_corpus
    pairs = Counter((d.text[s.start:s.end], s.label) for d in clean for s in d.spans)
    surfaces_by_label: dict[str, set[str]] = {}
    for (text, label), _n in pairs.items():
        surfaces_by_label.setdefault(label, set()).add(text)
    assert {"aspirin", "metformin"} <= surfaces_by_label["Drug"]
    assert any(re.fullmatch(r"\d+mg", t) for t in surfaces_by_label["Strength"])  # glued "81mg"
    assert any(re.fullmatch(r"\d+ mg", t) for t in surfaces_by_label["Strength"])
    assert {"PO", "IV"} <= surfaces_by_label["Route"]
    assert any("prn" in t.lower() or "as needed" in t for t in surfaces_by_label["Frequency"])
    assert any(re.fullmatch(r"\d+/\d+( mmHg)?", t) for t in surfaces_by_label["Value"])
    assert any(t.endswith("%") for t in surfaces_by_label["Value"])
    assert "BP" in surfaces_by_label["Test"]
    # Drug spans never swallow a strength
    assert not any(re.search(r"\d", t) and " mg" in t for t in surfaces_by_label["Drug"])


def test_demo_generator_every_label_present(default_corpus):
    clean, _, _ = default_corpus
    counts = Counter(s.label for d in clean for s in d.spans)
    assert set(counts) == set(LABELS)
    assert min(counts.values()) >= 100


def test_demo_generator_spans_on_token_edges(default_corpus):
    clean, noisy, _ = default_corpus
    for d in list(clean) + list(noisy):
        assert doc_words(d).forced_splits == (), d.id


# --------------------------------------------------------------------------- injected errors


def test_demo_inject_rate_in_range(default_corpus):
    clean, _, manifest = default_corpus
    n_spans = sum(len(d.spans) for d in clean)
    assert 0.08 <= len(manifest) / n_spans <= 0.12
    touched = sum(len(e["clean"]) for e in manifest)
    assert 0.08 <= touched / n_spans <= 0.12


def test_demo_inject_every_kind_present(default_corpus):
    _, _, manifest = default_corpus
    kinds = Counter(e["kind"] for e in manifest)
    assert set(kinds) == set(KINDS) and min(kinds.values()) >= 20
    details = {(e["kind"], e["detail"]) for e in manifest}
    assert {("boundary", "cut_short"), ("boundary", "over_extended"), ("type", "systematic_confusion")} <= details
    assert [e["id"] for e in manifest] == [f"e{i:04d}" for i in range(1, len(manifest) + 1)]


def test_demo_inject_manifest_texts_and_shapes(default_corpus):
    clean, noisy, manifest = default_corpus
    texts = {d.id: d.text for d in clean}
    shapes = {"split": (1, 2), "merge": (2, 1), "boundary": (1, 1), "type": (1, 1), "missing": (0, 1), "spurious": (1, 0)}
    for e in manifest:
        assert set(e) == {"id", "doc_id", "kind", "detail", "systematic", "annotator", "clean", "noisy", "description"}
        assert (len(e["noisy"]), len(e["clean"])) == shapes[e["kind"]], e
        for x in e["clean"] + e["noisy"]:
            assert texts[e["doc_id"]][x["start"]:x["end"]] == x["text"]
        assert e["description"]
    for d, n in zip(clean, noisy):
        assert d.text == n.text and d.id == n.id and d.group == n.group


def test_demo_inject_manifest_reconstructs_clean(default_corpus):
    clean, noisy, manifest = default_corpus
    by_doc = _by_doc(manifest)
    for c, n in zip(clean, noisy):
        assert apply_manifest_backwards(n, by_doc.get(c.id, [])) == tuple(sorted(s.key for s in c.spans)), c.id


def test_demo_inject_errors_do_not_touch(default_corpus):
    _, _, manifest = default_corpus
    for doc_id, entries in _by_doc(manifest).items():
        hulls = sorted((min(x["start"] for x in e["clean"] + e["noisy"]), max(x["end"] for x in e["clean"] + e["noisy"]))
                       for e in entries)
        for (a, b), (c, d) in zip(hulls, hulls[1:]):
            assert b <= c, f"errors overlap in {doc_id}: {(a, b)} {(c, d)}"


def test_demo_inject_manifest_agrees_with_comparator(default_corpus):
    clean, noisy, manifest = default_corpus
    by_doc = _by_doc(manifest)
    for c, n in zip(clean, noisy):
        got = sorted((x.kind.value, tuple(s.key for s in x.labels), tuple(s.key for s in x.other))
                     for x in compare_spans(c.id, n.spans, c.spans) if x.kind.value != "exact")
        want = sorted((e["kind"], tuple((s["start"], s["end"], s["label"]) for s in e["noisy"]),
                       tuple((s["start"], s["end"], s["label"]) for s in e["clean"])) for e in by_doc.get(c.id, []))
        assert got == want, c.id


def test_demo_inject_systematic_annotator(default_corpus):
    clean, noisy, manifest = default_corpus
    b_docs = [n for n in noisy if n.meta["annotator"] == "ann_B"]
    assert 5 <= len(b_docs) <= 20
    systematic = [e for e in manifest if e["systematic"]]
    assert systematic and all(e["kind"] == "type" and e["annotator"] == "ann_B" for e in systematic)
    clean_by_id = {d.id: d for d in clean}
    for n in b_docs:
        freq = [s for s in clean_by_id[n.id].spans if s.label == "Frequency"]
        noisy_keys = {s.key for s in n.spans}
        assert all((s.start, s.end, "Route") in noisy_keys for s in freq)
        assert not any(s.label == "Frequency" for s in n.spans)
        assert len([e for e in systematic if e["doc_id"] == n.id]) == len(freq)
    for n in noisy:
        assert {s.annotator for s in n.spans} <= {n.meta["annotator"]}
        assert "distractors" not in n.meta


def test_demo_inject_is_deterministic_and_rate_zero_copies():
    docs = generate_notes(n_notes=12, seed=5)
    assert inject_errors(docs, rate=0.1, seed=2) == inject_errors(docs, rate=0.1, seed=2)
    noisy, manifest = inject_errors(docs, rate=0.0)
    assert manifest == []
    assert [tuple(s.key for s in d.spans) for d in noisy] == [tuple(s.key for s in d.spans) for d in docs]
    with pytest.raises(ValueError):
        inject_errors(docs, rate=0.9)


# --------------------------------------------------------------------------- files


def test_demo_write_demo_is_byte_identical_and_readable(tmp_path):
    a = write_demo(tmp_path / "a", n_notes=12, seed=1)
    b = write_demo(tmp_path / "b", n_notes=12, seed=1)
    assert _tree_bytes(a.root) == _tree_bytes(b.root)
    clean = read_corpus(a.clean, format="brat")
    noisy = read_corpus(a.noisy, format="brat")
    assert len(clean) == len(noisy) == 12
    expected = generate_notes(n_notes=12, seed=1)
    flat = [tuple(s.key for s in d.spans if s.label != "Medication") for d in clean]
    assert flat == [tuple(s.key for s in d.spans) for d in expected]
    # nested annotation: each Medication span holds a Drug and its attributes, the same in clean and noisy
    meds = [s for d in clean for s in d.spans if s.label == "Medication"]
    assert meds and all(any(t.label == "Drug" and t.start == m.start for t in d.spans)
                        for d in clean for m in d.spans if m.label == "Medication")
    assert [[s.key for s in d.spans if s.label == "Medication"] for d in clean] == \
        [[s.key for s in d.spans if s.label == "Medication"] for d in noisy]
    manifest = [json.loads(line) for line in a.manifest.read_text(encoding="utf-8").splitlines()]
    by_doc = _by_doc(manifest)
    for c, n in zip(clean, noisy):
        assert apply_manifest_backwards(n, by_doc.get(n.id, [])) == tuple(sorted(s.key for s in c.spans))
    rows = a.documents.read_text(encoding="utf-8").splitlines()
    assert rows[0].split("\t")[:3] == ["doc_id", "patient", "annotator"] and len(rows) == 13
    assert "seed=1" in a.readme.read_text(encoding="utf-8")


def test_demo_write_demo_removes_stale_notes(tmp_path):
    write_demo(tmp_path, n_notes=10, seed=0)
    write_demo(tmp_path, n_notes=6, seed=0)
    assert len(list((tmp_path / "clean").glob("*.ann"))) == 6


def test_demo_script_regenerates_identically(tmp_path):
    script = _load_script()
    assert script.main(["--out", str(tmp_path / "x"), "--notes", "8"]) == 0
    assert script.main(["--out", str(tmp_path / "y"), "--notes", "8"]) == 0
    assert _tree_bytes(tmp_path / "x") == _tree_bytes(tmp_path / "y")


def test_demo_committed_corpus_is_current(tmp_path):
    if not COMMITTED.is_dir():
        pytest.skip("corpora/demo not generated")
    fresh = write_demo(tmp_path / "demo")
    committed = _tree_bytes(COMMITTED)
    assert sum(len(v) for v in committed.values()) < 1_000_000
    assert committed == _tree_bytes(fresh.root), "run: python scripts/make_demo_corpus.py"
