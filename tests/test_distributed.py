"""spanqa.model.distributed: folds run as independent jobs assemble into the same OOF predictions.

Tiny random BERT (``model.init = "random_tiny"``), 2 folds, 1 epoch, on CPU.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from spanqa.core.config import load_config
from spanqa.core.document import Corpus, Document
from spanqa.core.errors import SpanqaError
from spanqa.core.span import Span
from spanqa.corpus.formats import write_corpus
from spanqa.model.distributed import (
    _config,
    _fold_files,
    _write_back,
    encode_shard_job,
    fold_resources,
    read_job_corpus,
    run_fold_job,
)
from spanqa.model.featurefile import cache_files
from spanqa.model.features import load_features, merge_features
from spanqa.model.kfold import features_target, run_kfold, run_order, shard_ranges

CFG = load_config(overrides=["model.init=random_tiny", "train.folds=2", "train.epochs=1", "train.batch_size=8",
                             "train.max_length=32", "train.stride=8", "fast.max_epochs=2", "fast.hidden=16",
                             r"data.group_regex='^(p\d+)_'"])


def _doc(doc_id: str, drug: str, *, annotated: bool = True) -> Document:
    text = f"Pt started {drug} 81mg PO daily. Stop {drug} if bleeding."
    a, b = text.index(drug), text.rindex(drug)
    spans = (Span(doc_id, a, a + len(drug), "Drug"), Span(doc_id, b, b + len(drug), "Drug"),
             Span(doc_id, text.index("81mg"), text.index("81mg") + 4, "Dose"))
    return Document(doc_id, text, spans if annotated else None)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    drugs = ["aspirin", "warfarin", "metoprolol", "lisinopril"]
    docs = [_doc(f"p{i // 2}_n{i}", drugs[i % 4]) for i in range(6)] + [_doc("p9_new", "heparin", annotated=False)]
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    write_corpus(Corpus.from_docs(docs), path, "jsonl")
    return path


def _same(a, b) -> None:
    assert a.tags == b.tags and a.docs.keys() == b.docs.keys()
    for d in a.docs:
        assert a.docs[d].fold == b.docs[d].fold
        assert a.docs[d].words == b.docs[d].words
        np.testing.assert_array_equal(a.docs[d].probs, b.docs[d].probs)


@pytest.mark.parametrize("mode", ["fast", "finetune"])
def test_distributed_fold_jobs_then_run_kfold_equal_plain_run(corpus_file, tmp_path, mode):
    cfg = CFG.replace(**{"train.mode": mode})
    corpus = read_job_corpus(corpus_file, "jsonl")
    plain = run_kfold(corpus, cfg, progress=False)
    run_dir = tmp_path / "run"
    for k in range(cfg.train.folds):  # each job gets only plain inputs: path, format, config dict, k, folder
        npz = run_fold_job(str(corpus_file), "jsonl", cfg.to_dict(), k, str(run_dir))
        assert npz == run_dir / "folds" / f"fold_{k}.npz" and npz.with_suffix(".done").is_file()
    assembled = run_kfold(corpus, cfg, run_dir=run_dir, progress=False)
    assert assembled.meta["resumed_folds"] == [0, 1]
    assert assembled.meta["fingerprint"] == plain.meta["fingerprint"]
    _same(plain, assembled)
    assert plain.meta["device"]["device"] == "cpu" and plain.meta["device"]["requested"] == "auto"
    assert assembled.meta["device"]["by_fold"] == ["cpu", "cpu"]
    # a second job for a finished fold leaves its file alone
    before = (run_dir / "folds" / "fold_0.npz").stat().st_mtime_ns
    run_fold_job(corpus_file, "jsonl", cfg, 0, run_dir)
    assert (run_dir / "folds" / "fold_0.npz").stat().st_mtime_ns == before


def test_distributed_device_keys_validated_and_outside_fingerprint(corpus_file, tmp_path):
    corpus = read_job_corpus(corpus_file, "jsonl")
    cfg = CFG.replace(**{"model.device": "cpu", "model.compile": True})  # compile is ignored on cpu
    assert _config(cfg.to_dict()) == cfg
    with pytest.raises(SpanqaError) as e:
        CFG.replace(**{"model.device": "tpu"})
    assert e.value.code == "E402"
    run_fold_job(corpus_file, "jsonl", cfg, 1, tmp_path)
    out = run_kfold(corpus, CFG, run_dir=tmp_path, progress=False)  # device=auto: same fingerprint, fold 1 resumed
    assert out.meta["resumed_folds"] == [1]
    with pytest.raises(SpanqaError) as e:
        run_fold_job(corpus_file, "jsonl", cfg, 2, tmp_path)
    assert e.value.code == "E402"


def test_distributed_cuda_without_gpu_is_E402(corpus_file, tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SpanqaError) as e:
        run_fold_job(corpus_file, "jsonl", CFG.replace(**{"model.device": "cuda"}), 0, tmp_path)
    assert e.value.code == "E402" and "model.device" in str(e.value)


def test_distributed_gpu_less_driver_accepts_cuda_config(corpus_file, tmp_path):
    from spanqa.model.distributed import _driver_config

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    cuda = CFG.replace(**{"model.device": "cuda"})
    assert _driver_config(cuda).model.device == "auto" and _driver_config(CFG) == CFG
    # the driver prepares the corpus and finds the features' cache file with it (same key as on a GPU worker)
    corpus = read_job_corpus(corpus_file, "jsonl")
    assert features_target(corpus, _driver_config(cuda), tmp_path / "a") == features_target(corpus, CFG, tmp_path / "a")


def test_distributed_fold_files_travel_back_when_run_dir_is_not_shared(corpus_file, tmp_path):
    # the worker cannot see the driver's run folder: it works in a local folder and returns the bytes
    files = {}
    for k in range(CFG.train.folds):
        files[k] = _fold_files(str(corpus_file), "jsonl", CFG.to_dict(), k, str(tmp_path / "absent" / "run"))
        assert sorted(files[k]) == [f"fold_{k}.done", f"fold_{k}.npz"]
        _write_back(tmp_path / "run", files[k])
    assert not (tmp_path / "absent").exists()
    out = run_kfold(read_job_corpus(corpus_file, "jsonl"), CFG, run_dir=tmp_path / "run", progress=False)
    assert out.meta["resumed_folds"] == [0, 1]
    assert fold_resources(CFG.replace(**{"model.device": "cuda"}))["num_gpus"] == 1
    assert fold_resources(CFG.replace(**{"model.device": "cpu"})) == {"num_cpus": 1, "num_gpus": 0}


def test_distributed_corpus_shards_merge_into_the_cache_a_plain_run_writes(corpus_file, tmp_path):
    corpus = read_job_corpus(corpus_file, "jsonl")
    order = run_order(corpus)
    assert [d.spans is None for d in order] == [False] * 6 + [True]  # annotated first, as run_kfold prepares them
    path, key = features_target(corpus, CFG, tmp_path / "shards")
    bounds = shard_ranges(len(order), 3)
    assert bounds == [(0, 3), (3, 5), (5, 7)]
    parts = [encode_shard_job(str(corpus_file), "jsonl", CFG.to_dict(), a, b, key) for a, b in bounds]
    assert [p.doc_ids for p in parts] == [[d.id for d in order[a:b]] for a, b in bounds]
    merged = merge_features(parts)
    assert merged.stats["words"] == sum(p.stats["words"] for p in parts) and len(merged.stats["shards"]) == 3

    run_kfold(corpus, CFG, run_dir=tmp_path / "plain", progress=False)
    plain_path, plain_key = features_target(corpus, CFG, tmp_path / "plain")
    assert plain_key == key and plain_path.name == path.name
    whole = load_features(plain_path, key)
    assert whole is not None and whole.doc_ids == merged.doc_ids
    for a, b in zip(whole.features, merged.features):
        # other batch-mates change the padding and so the last bits of a few values: one float16 step at most
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), rtol=0, atol=1e-3)
    with pytest.raises(ValueError, match="disagree"):
        merge_features([parts[0], type(parts[1])(parts[1].doc_ids, parts[1].features, parts[1].dim, "other", {})])


def test_distributed_fold_job_without_run_dir_uses_the_features_it_is_sent(corpus_file, tmp_path, monkeypatch):
    import spanqa.model.features

    corpus = read_job_corpus(corpus_file, "jsonl")
    plain = run_kfold(corpus, CFG, run_dir=tmp_path / "plain", progress=False)
    path, _ = features_target(corpus, CFG, tmp_path / "plain")

    def no_encoding(*a, **k):
        raise AssertionError("the fold job encoded the corpus again")

    monkeypatch.setattr(spanqa.model.features, "compute_features", no_encoding)
    for k in range(CFG.train.folds):
        files = _fold_files(str(corpus_file), "jsonl", CFG.to_dict(), k, str(tmp_path / "absent" / "run"),
                            [(p.name, p.read_bytes()) for p in cache_files(path)])
        _write_back(tmp_path / "run", files)
    _same(plain, run_kfold(corpus, CFG, run_dir=tmp_path / "run", progress=False))
    with pytest.raises(AssertionError, match="encoded the corpus again"):  # without them it would encode
        _fold_files(str(corpus_file), "jsonl", CFG.to_dict(), 0, str(tmp_path / "absent2" / "run"))


@pytest.mark.slow
def test_distributed_ray_local_cluster_equals_plain_run(corpus_file, tmp_path):
    ray = pytest.importorskip("ray")
    from spanqa.model.distributed import run_kfold_ray

    corpus = read_job_corpus(corpus_file, "jsonl")
    plain = run_kfold(corpus, CFG, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = run_kfold_ray(corpus_file, CFG.to_dict(), tmp_path / "run", format="jsonl")
    finally:
        ray.shutdown()
    assert out.meta["resumed_folds"] == [0, 1]
    assert out.meta["distributed"] == {"fold_tasks": 2, "encoding": {"shards": 2, "cached": False,
                                                                     "encode_s": out.meta["distributed"]["encoding"]["encode_s"]}}
    _same(plain, out)


def test_nested_fine_tuning_folds_as_jobs_land_where_the_audit_finds_them(tmp_path):
    """Fine-tuning a nested corpus: one flat run per layer on the corpus restricted to that layer, in
    run/layers/layerN - each fold a job (the Ray task body, called here without Ray); the audit then resumes them
    all and writes what a plain audit writes."""
    from spanqa.model.distributed import _fold_plan, _layer_fold_files
    from spanqa.run.pipeline import audit

    drugs = ["aspirin", "warfarin", "metoprolol", "lisinopril"]
    docs = []
    for i in range(6):
        d = _doc(f"p{i // 2}_n{i}", drugs[i % 4])
        dose = next(s for s in d.spans if s.label == "Dose")
        docs.append(d.evolve(spans=d.spans + (Span(d.id, d.spans[0].start, dose.end, "Medication"),)))
    corpus = Corpus.from_docs(docs)
    path = tmp_path / "nested.jsonl"
    write_corpus(corpus, path, "jsonl")
    cfg = CFG.replace(**{"train.mode": "finetune"})
    run = tmp_path / "run"
    plan = _fold_plan(corpus, cfg, "finetune", run)
    assert [(p.relative_to(run).as_posix(), layers, labels) for p, layers, labels in plan] == [
        ("layers/layer1", None, ["Drug", "Dose"]), ("layers/layer2", None, ["Medication"])]
    assert [p.relative_to(run).as_posix() for p, _, _ in _fold_plan(corpus, cfg, "fast", run)] == ["layers/kfold"]
    flat = cfg.replace(**{"data.layers": "flat"})
    assert _fold_plan(corpus, flat, "finetune", run) == [(run, None, None)]
    for fold_dir, _, labels in plan:
        for k in range(cfg.train.folds):
            _write_back(fold_dir, _layer_fold_files(str(path), "jsonl", flat.to_dict(), k, str(fold_dir), None,
                                                    None, labels))
    res = audit(corpus, cfg, out=run, progress=False)
    audit(corpus, cfg, out=tmp_path / "plain", progress=False)
    assert [lay["labels"] for lay in res.summary["layers"]] == [["Drug", "Dose"], ["Medication"]]
    for n in (1, 2):
        kfold = json.loads((run / "layers" / f"layer{n}" / "summary.json").read_text())["kfold"]
        assert kfold["resumed_folds"] == [0, 1]
    for name in ("findings.jsonl", "spans.jsonl", "predictions.jsonl"):
        assert (run / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name


def test_audit_ray_address_where_nothing_answers_is_E413_not_minutes_of_retries(corpus_file, tmp_path, capsys):
    pytest.importorskip("ray")
    from spanqa.cli import main
    from spanqa.model.distributed import reachable

    assert not reachable("127.0.0.1:1") and reachable("auto")
    with pytest.raises(SystemExit) as ex:
        main(["audit", str(corpus_file), "--out", str(tmp_path / "run"), "--ray", "127.0.0.1:1", "-q"])
    assert ex.value.code == 2 and "E413" in capsys.readouterr().err
