"""NoiseBench reader: the normal-patch applier, CleanCoNLL train tokens, seven label sets of one text.

The patch and synthetic-corpus tests always run; the real-data tests skip when
``shared/corpora/noisebench`` (or ``conll2003``) is absent.  No corpus text is stored here.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import pytest

from spanqa.compare.comparison import Kind, compare_corpora
from spanqa.core.errors import Reporter
from spanqa.corpus.formats import conll
from spanqa.measure.benchmark import noisebench as nb
from spanqa.measure.benchmark.noisebench import (
    DEFAULT_CONLL,
    DEFAULT_ROOT,
    LABEL_SETS,
    apply_normal_patch,
    cleanconll_train_blocks,
    read_noisebench,
)

# README of shared/corpora/noisebench: sentence blocks with >= 1 span difference vs clean,
# as a share of all 6,285 blocks of a file (5,885 sentences + 400 -DOCSTART- blocks), in %
README_SHARE = {"expert": 7.4, "crowd": 44.7, "crowdbest": 20.6, "distant": 40.3, "weak": 50.4, "llm": 61.8}
N_BLOCKS = 6285


# --------------------------------------------------------------------------- apply_normal_patch
def test_noisebench_patch_applies_add_change_delete():
    old = ["a", "b", "c", "", "d", "e"]
    patch = "0a1\n> top\n2c3,4\n< b\n---\n> b1\n> b2\n4,5d5\n< \n< d\n6a7\n> end\n"
    assert apply_normal_patch(old, patch) == ["top", "a", "b1", "b2", "c", "e", "end"]
    assert old == ["a", "b", "c", "", "d", "e"]  # input untouched


def test_noisebench_patch_change_ranges_both_sides():
    old = ["x", "y-z", "w"]
    assert apply_normal_patch(old, "2c2,4\n< y-z\n---\n> y\n> -\n> z\n") == ["x", "y", "-", "z", "w"]
    assert apply_normal_patch(["p", "q", "r", "s"], "2,3c2\n< q\n< r\n---\n> qr\n") == ["p", "qr", "s"]


def test_noisebench_patch_accepts_bare_marker_for_empty_line_and_no_newline_note():
    assert apply_normal_patch(["a", "", "b"], "2d1\n<\n") == ["a", "b"]
    assert apply_normal_patch(["a"], "1c1\n< a\n\\ No newline at end of file\n---\n> b\n") == ["b"]


def test_noisebench_patch_empty_patch_is_identity():
    assert apply_normal_patch(["a", "b"], "") == ["a", "b"]


def test_noisebench_patch_mismatch_names_patch_line():
    with pytest.raises(ValueError, match=r"patch line 4: removes 'q' but old line 3 is 'c'"):
        apply_normal_patch(["a", "b", "c"], "1d0\n< a\n3d1\n< q\n")


@pytest.mark.parametrize("patch, message", [
    ("1x1\n", r"patch line 1: expected a diff command"),
    ("1d0\n> a\n", r"patch line 2: expected a '<' line"),
    ("1c1\n< a\n> b\n", r"patch line 3: expected '---'"),
    ("1c1,2\n< a\n---\n> b\n", r"patch line 5: expected '>' line 2 of 2"),
    ("2d1\n< b\n1d0\n< a\n", r"patch line 3: .* not after the previous one"),
    ("5d4\n< e\n", r"patch line 1: .* past the end"),
    ("2d2\n< b\n", r"patch line 1: .* says new line 2, but the patched file is at line 1"),
])
def test_noisebench_patch_malformed_raises(patch, message):
    with pytest.raises(ValueError, match=message):
        apply_normal_patch(["a", "b", "c"], patch)


# --------------------------------------------------------------------------- synthetic corpus
TRAIN = "\n".join(["-DOCSTART- -X- -X- O", "", "Al NNP B-PER", "went VBD O", "to TO O", "New-York NNP B-LOC", "",
                   ". . O", "", "-DOCSTART- -X- -X- O", "", "Bo NNP B-PER", "saw VBD O", "Cy NNP B-PER", ""]) + "\n"
# CleanCoNLL-style fixes: split New-York, merge "." into the previous sentence (a blank line removed)
PATCH = "6c6,8\n< New-York\n---\n> New\n> -\n> York\n7d8\n< \n"
# blocks of the patched train file: 0 DOCSTART, 1 "Al went to New - York .", 2 DOCSTART, 3 "Bo saw Cy"


def _synthetic(tmp_path: Path, tags: str, index: str = "docstart\n1\ndocstart\n3\n") -> tuple[Path, Path]:
    conll_root, root = tmp_path / "conll2003", tmp_path / "noisebench"
    (conll_root / "original").mkdir(parents=True)
    (conll_root / "cleanconll" / "source").mkdir(parents=True)
    (conll_root / "original" / "train.txt").write_text(TRAIN, encoding="utf-8")
    (conll_root / "cleanconll" / "source" / "train_tokens.patch").write_text(PATCH, encoding="utf-8")
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "index.txt").write_text(index + "\n", encoding="utf-8")
    for name in nb.LABEL_FILES.values():
        (root / "annotations" / name).write_text(tags, encoding="utf-8")
    return root, conll_root


def _tags(*blocks: str) -> str:
    return "".join("".join(f"[TOK]\t{t}\n" for t in b.split()) + "\n" for b in blocks)


SYN_TAGS = _tags("O", "B-PER O O B-LOC I-LOC I-LOC O", "O", "B-PER O I-PER")


def test_noisebench_token_column_keeps_blank_and_docstart_lines():
    assert nb.token_column("-DOCSTART- -X- O\n\nAl NNP B-PER\n\n") == ["-DOCSTART-", "", "Al", ""]


def test_noisebench_synthetic_blocks_follow_patch(tmp_path):
    _, conll_root = _synthetic(tmp_path, SYN_TAGS)
    blocks = cleanconll_train_blocks(conll_root)
    assert blocks == [["-DOCSTART-"], ["Al", "went", "to", "New", "-", "York", "."], ["-DOCSTART-"], ["Bo", "saw", "Cy"]]
    blocks[0].append("mutated")  # callers get copies, the cache stays intact
    assert cleanconll_train_blocks(conll_root)[0] == ["-DOCSTART-"]


def test_noisebench_synthetic_documents_and_w104(tmp_path):
    root, conll_root = _synthetic(tmp_path, SYN_TAGS)
    corpus = read_noisebench("weak", root=root, conll_root=conll_root)
    assert corpus.format == "conll" and corpus.source == str(root / "annotations" / "noise_weak.traindev")
    assert [d.id for d in corpus] == ["noisebench-0", "noisebench-1"]
    d0, d1 = corpus.documents
    assert d0.text == "Al went to New - York ." and d1.text == "Bo saw Cy"
    assert d0.sentences == ((0, len(d0.text)),) and d0.tokens[3] == (11, 14)
    assert [(d0.text[s.start:s.end], s.label) for s in d0.spans] == [("Al", "PER"), ("New - York", "LOC")]
    # "I-PER" after "O" starts a new entity, reported as W104 and counted
    assert [(d1.text[s.start:s.end], s.label) for s in d1.spans] == [("Bo", "PER"), ("Cy", "PER")]
    assert corpus.meta["W104"] == 1 and corpus.meta["sentences"] == 2 and corpus.meta["documents"] == 2
    (w104,) = corpus.problems
    assert w104.code == "W104" and w104.where.doc_id == "noisebench-1" and w104.where.line == 15
    assert w104.where.excerpt == "Cy"
    assert d0.meta["noisebench"]["sentence_index"] == (1,)


def test_noisebench_synthetic_matches_conll_reader(tmp_path):
    root, conll_root = _synthetic(tmp_path, SYN_TAGS)
    ours = read_noisebench("clean", root=root, conll_root=conll_root)
    p = tmp_path / "same.conll"
    p.write_text("-DOCSTART-\tO\n\nAl\tB-PER\nwent\tO\nto\tO\nNew\tB-LOC\n-\tI-LOC\nYork\tI-LOC\n.\tO\n\n"
                 "-DOCSTART-\tO\n\nBo\tB-PER\nsaw\tO\nCy\tI-PER\n", encoding="utf-8")
    theirs = conll.read(p, reporter=Reporter())
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a.text, a.tokens, a.sentences) == (b.text, b.tokens, b.sentences)
        assert [s.key for s in a.spans] == [s.key for s in b.spans]


def test_noisebench_token_count_mismatch_raises(tmp_path):
    bad = _tags("O", "B-PER O O B-LOC I-LOC I-LOC", "O", "B-PER O O")  # block 1 one token short
    root, conll_root = _synthetic(tmp_path, bad)
    with pytest.raises(ValueError, match=r"block 1 has 6 tokens but CleanCoNLL train sentence 1 has 7"):
        read_noisebench("clean", root=root, conll_root=conll_root)


def test_noisebench_index_length_and_docstart_pointer_checked(tmp_path):
    root, conll_root = _synthetic(tmp_path, SYN_TAGS, index="docstart\n1\ndocstart\n")
    with pytest.raises(ValueError, match=r"4 blocks but index.txt has 3 entries"):
        read_noisebench("clean", root=root, conll_root=conll_root)
    root2, conll2 = _synthetic(tmp_path / "b", _tags("O", "O"), index="docstart\n2\n")
    with pytest.raises(ValueError, match=r"points at a -DOCSTART- block"):
        read_noisebench("clean", root=root2, conll_root=conll2)


def test_noisebench_unknown_label_set_and_bad_lines(tmp_path):
    with pytest.raises(ValueError, match=r"unknown NoiseBench label set 'noise_expert'"):
        read_noisebench("noise_expert")
    root, conll_root = _synthetic(tmp_path, "[TOK]\tO\n\nAl\tB-PER\n")
    with pytest.raises(ValueError, match=r"clean.traindev:3: expected"):
        read_noisebench("clean", root=root, conll_root=conll_root)


def test_noisebench_label_sets_and_env_root(monkeypatch, tmp_path):
    assert LABEL_SETS == ("clean", "expert", "crowd", "crowdbest", "distant", "weak", "llm")
    assert nb.LABEL_FILES["clean"] == "clean.traindev" and nb.LABEL_FILES["crowdbest"] == "noise_crowdbest.traindev"
    monkeypatch.setenv("SPANQA_CORPORA", str(tmp_path))
    assert nb.corpora_root() == tmp_path
    monkeypatch.delenv("SPANQA_CORPORA")
    assert nb.corpora_root() == Path(nb.__file__).resolve().parents[4] / "shared" / "corpora"


# --------------------------------------------------------------------------- real data
def _need_data() -> None:
    for p in (DEFAULT_ROOT / "annotations" / "index.txt", DEFAULT_CONLL / "original" / "train.txt"):
        if not p.exists():
            pytest.skip(f"NoiseBench / CoNLL-03 data not present ({p})")


@pytest.fixture(scope="module")
def corpora():
    _need_data()
    return {name: read_noisebench(name) for name in LABEL_SETS}


def test_noisebench_real_counts_every_label_set(corpora):
    for name, corpus in corpora.items():
        assert len(corpus) == 400, name
        assert sum(len(d.sentences) for d in corpus) == 5885, name
        assert corpus.meta["sentences"] == 5885 and corpus.meta["W104"] == 0, name
        assert corpus.format == "conll" and corpus.source.endswith(nb.LABEL_FILES[name])
    assert sum(len(d.spans) for d in corpora["clean"]) == 9685
    assert sum(len(d.spans) for d in corpora["expert"]) == 9644


def test_noisebench_real_identical_ids_and_texts(corpora):
    clean = corpora["clean"]
    for name, corpus in corpora.items():
        assert [d.id for d in corpus] == [f"noisebench-{i}" for i in range(400)]
        assert [d.text for d in corpus] == [d.text for d in clean], name
        assert [d.tokens for d in corpus] == [d.tokens for d in clean], name


def test_noisebench_real_first_sentence_matches_cleanconll_block(corpora):
    blocks = cleanconll_train_blocks(DEFAULT_CONLL)
    assert len(blocks) == 14903 and sum(b[0] == "-DOCSTART-" for b in blocks) == 946
    doc = corpora["clean"].documents[0]
    first = doc.meta["noisebench"]["sentence_index"][0]
    a, b = doc.sentences[0]
    assert doc.text[a:b].split(" ") == blocks[first]
    assert len([t for t in doc.tokens if a <= t[0] < b]) == len(blocks[first])


def test_noisebench_real_cleanconll_dev_rebuilt_by_patch():
    _need_data()
    if not (DEFAULT_CONLL / "cleanconll" / "reconstructed" / "cleanconll.dev").exists():
        pytest.skip("reconstructed CleanCoNLL dev not present")
    old = nb.token_column((DEFAULT_CONLL / "original" / "valid.txt").read_text(encoding="utf-8"))
    patch = (DEFAULT_CONLL / "cleanconll" / "source" / "dev_tokens.patch").read_text(encoding="utf-8")
    rebuilt = nb.token_column((DEFAULT_CONLL / "cleanconll" / "reconstructed" / "cleanconll.dev").read_text(encoding="utf-8"))
    assert apply_normal_patch(old, patch) == rebuilt


def _differing_sentences(labels, other) -> tuple[int, int, int]:
    """(non-exact components, clean spans, sentences of ``other`` touched by a non-exact component)."""
    cmp = compare_corpora(labels, other)
    assert not [p for p in cmp.problems if p.code.startswith("E")]
    by_id = other.by_id()
    touched = set()
    changed = [c for c in cmp.components if c.kind is not Kind.EXACT]
    for c in changed:
        starts = [a for a, _ in by_id[c.doc_id].sentences]
        for s in c.labels + c.other:
            touched.add((c.doc_id, bisect.bisect_right(starts, s.start) - 1))
    return len(changed), cmp.n_other, len(touched)


def test_noisebench_real_expert_vs_clean_differences(corpora):
    n_changed, n_clean, n_sent = _differing_sentences(corpora["expert"], corpora["clean"])
    # 549 non-exact components over 9,685 clean spans (5.7%) in 465 sentences
    assert n_clean == 9685
    assert 0.05 <= n_changed / n_clean <= 0.065
    # README's "expert 7.4%": sentences with >= 1 difference over all 6,285 blocks (7.9% of the 5,885 sentences)
    assert round(100 * n_sent / N_BLOCKS, 1) == pytest.approx(README_SHARE["expert"], abs=0.15)
    assert 0.075 <= n_sent / 5885 <= 0.085


def test_noisebench_real_sentence_shares_match_readme(corpora):
    clean_tags = nb.read_tag_blocks(nb.label_file("clean"))
    for name, share in README_SHARE.items():
        _, _, n_sent = _differing_sentences(corpora[name], corpora["clean"])
        # the same count straight from the tag columns
        other_tags = nb.read_tag_blocks(nb.label_file(name))
        n_blocks = sum([t for t, _ in a] != [t for t, _ in b] for a, b in zip(clean_tags, other_tags))
        assert n_sent == n_blocks, name
        assert 100 * n_sent / N_BLOCKS == pytest.approx(share, abs=0.15), name
