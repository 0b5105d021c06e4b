"""Hugging Face datasets (tokens + ner_tags): saved Dataset/DatasetDict, parquet, JSON; round trips; coded errors."""

from __future__ import annotations

import json

import pytest

datasets = pytest.importorskip("datasets")

from spanqa.core.document import Corpus, Document  # noqa: E402
from spanqa.core.errors import SpanqaError  # noqa: E402
from spanqa.core.span import Span  # noqa: E402
from spanqa.corpus.formats import detect_format, read_corpus, write_corpus  # noqa: E402

NAMES = ["O", "B-Drug", "I-Drug", "B-Strength", "I-Strength"]


def _dataset():
    feats = datasets.Features({"id": datasets.Value("string"), "tokens": datasets.Sequence(datasets.Value("string")),
                               "ner_tags": datasets.Sequence(datasets.ClassLabel(names=NAMES)),
                               "pos_tags": datasets.Sequence(datasets.Value("string"))})
    rows = [{"id": "a", "tokens": ["Pt", "on", "aspirin", "81", "mg"], "ner_tags": [0, 0, 1, 3, 4],
             "pos_tags": ["NN", "IN", "NN", "CD", "NN"]},
            {"id": "b", "tokens": ["metoprolol", "succinate", "held"], "ner_tags": [1, 2, 0],
             "pos_tags": ["NN", "NN", "VBD"]}]
    return datasets.Dataset.from_list(rows, features=feats)


def _core(corpus):
    return [(d.id, d.text, None if d.spans is None else tuple(sorted(s.key for s in d.spans))) for d in corpus]


def test_hf_reads_a_saved_dataset_with_classlabel_names(tmp_path):
    _dataset().save_to_disk(str(tmp_path / "ds"))
    assert detect_format(tmp_path / "ds") == "hf"
    corpus = read_corpus(tmp_path / "ds")
    assert _core(corpus) == [("a", "Pt on aspirin 81 mg", ((6, 13, "Drug"), (14, 19, "Strength"))),
                             ("b", "metoprolol succinate held", ((0, 20, "Drug"),))]
    assert corpus["a"].meta["hf_columns"] == {"pos_tags": ["NN", "IN", "NN", "CD", "NN"]}


def test_hf_round_trip_dataset_dict_parquet_and_json(tmp_path):
    dd = datasets.DatasetDict({"train": _dataset(), "test": _dataset()})  # the same ids in two splits
    dd.save_to_disk(str(tmp_path / "dd"))
    first = read_corpus(tmp_path / "dd")
    assert sorted(d.id for d in first) == ["test/a", "test/b", "train/a", "train/b"]
    write_corpus(first, tmp_path / "out", "hf")
    again = read_corpus(tmp_path / "out")
    assert _core(again) == _core(first) and again["train/a"].meta == first["train/a"].meta
    _dataset().to_parquet(str(tmp_path / "d.parquet"))
    _dataset().save_to_disk(str(tmp_path / "ds_plain"))
    assert _core(read_corpus(tmp_path / "d.parquet")) == _core(read_corpus(tmp_path / "ds_plain"))
    (tmp_path / "d.jsonl").write_text("".join(json.dumps({"id": r["id"], "tokens": r["tokens"],
                                                          "ner_tags": [NAMES[t] for t in r["ner_tags"]]}) + "\n"
                                              for r in _dataset()), encoding="utf-8")
    assert _core(read_corpus(tmp_path / "d.jsonl", "hf")) == _core(read_corpus(tmp_path / "d.parquet"))


def test_hf_writes_other_corpora_and_says_what_it_changes(tmp_path):
    corpus = Corpus.from_docs([Document("n1", "Pt on aspirin\n81mg.", (Span("n1", 6, 13, "Drug"), Span("n1", 6, 18, "Drug"))),
                               Document("n2", "not annotated", None)], format="jsonl")
    problems = write_corpus(corpus, tmp_path / "ds", "hf")
    assert sorted(p.code for p in problems) == ["W107", "W107"]  # the newline, and the overlapping span
    back = read_corpus(tmp_path / "ds")
    assert back["n2"].spans is None and [s.label for s in back["n1"].spans] == ["Drug"]


def test_hf_coded_errors(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"tokens": ["a", "b"], "ner_tags": [3, 0]}\n', encoding="utf-8")
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "x.jsonl", "hf")  # integer tags in JSON: no ClassLabel names
    assert err.value.code == "E111"
    (tmp_path / "y.jsonl").write_text('{"tokens": ["a", "b"], "ner_tags": ["O"]}\n', encoding="utf-8")
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "y.jsonl", "hf")
    assert err.value.code == "E110"
    (tmp_path / "z.jsonl").write_text('{"words": ["a"]}\n', encoding="utf-8")
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "z.jsonl", "hf")
    assert err.value.code == "E109"
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "bad.parquet")
    assert err.value.code == "E105"
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "y.jsonl", "hf", scheme="BILOU")
    assert err.value.code == "E113"


def test_hf_split_names_are_data_checked_before_any_folder_is_opened_or_written(tmp_path):
    """A split named ``../../x`` in dataset_dict.json would read - and on write, create - a folder outside the
    dataset: E117 at read time, and the writer refuses such a name too."""
    outside = tmp_path / "x"
    dd = datasets.DatasetDict({"train": _dataset()})
    dd.save_to_disk(str(tmp_path / "a" / "b" / "dd"))
    meta = tmp_path / "a" / "b" / "dd" / "dataset_dict.json"
    meta.write_text(json.dumps({"splits": ["train", "../../../x"]}))
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "a" / "b" / "dd")
    assert err.value.code == "E117" and "dataset_dict.json" in str(err.value)
    meta.write_text(json.dumps({"splits": "train"}))
    with pytest.raises(SpanqaError) as err:
        read_corpus(tmp_path / "a" / "b" / "dd")
    assert err.value.code == "E105"
    doc = Document("n1", "aspirin", (Span("n1", 0, 7, "Drug"),), meta={"hf_split": "../../x"})
    with pytest.raises(SpanqaError) as err:
        write_corpus(Corpus.from_docs([doc, Document("n2", "b", (), meta={"hf_split": "train"})]),
                     tmp_path / "out" / "ds", "hf")
    assert err.value.code == "E117" and not outside.exists() and not (tmp_path / "out" / "ds").exists()


def test_hf_damaged_parquet_is_one_coded_error_and_no_library_log_line(tmp_path, capfd):
    from spanqa.cli import main

    (tmp_path / "bad.parquet").write_bytes(b"PAR1garbagePAR1")
    with pytest.raises(SystemExit) as ex:
        main(["check", str(tmp_path / "bad.parquet")])
    out, err = capfd.readouterr()
    assert ex.value.code == 2 and "E105" in err and "Failed to read schema" not in out + err
