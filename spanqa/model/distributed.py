"""k-fold folds as independent jobs: one self-contained function per fold, and a Ray driver.

A fold job needs only plain, picklable inputs - the corpus path and format, the
configuration as a ``{section: {key: value}}`` dict, the fold index and the run
folder - and produces exactly the resume file that :func:`spanqa.model.kfold.run_kfold`
writes, ``run_dir/folds/fold_{k}.npz`` (and its ``.done`` marker), by calling
:func:`spanqa.model.kfold.run_fold`.  Once every fold is finished,
``run_kfold(..., run_dir=run_dir)`` loads them all and assembles the same
:class:`spanqa.model.predictions.OOFPredictions` as a single-process run (training is
deterministic for a given device; the fingerprint check ``E406`` still applies).

:func:`run_kfold_ray` submits one Ray task per fold (``pip install spanqa[ray]``),
with ``num_gpus=1`` per task when ``model.device`` resolves to cuda on the driver
or is set to cuda.  Each task sends its fold files back to the driver, which writes
them into ``run_dir`` unless they are already there, so ``run_dir`` need not be on a
filesystem shared with the workers; the corpus path must be readable on every worker.

**Corpus shards (fast mode).**  The frozen encoder's features are shared by all folds, so
:func:`run_kfold_ray` first encodes the corpus as ``shards`` independent tasks
(:func:`encode_shard_job`: consecutive slices of the documents, each labelled with the
whole corpus's cache key), merges them into the one cache file
``run_dir/features/words_<key>.npy`` (+ its ``.json`` index) that a single-process run would write, and only
then starts the fold tasks, which find the features instead of encoding the corpus
again.  Workers that cannot see ``run_dir`` get the file through Ray's object store
(put once; for corpora whose features do not fit in memory, share ``run_dir`` or use
``train.mode = "finetune"``; the features take ``layers * hidden * 2`` bytes per word,
3 KiB with MiniLM's last 4 layers).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.core.errors import SpanqaError
from spanqa.core.output import write_bytes
from spanqa.model.predictions import OOFPredictions


def _config(config: AuditConfig | Mapping[str, Mapping[str, Any]]) -> AuditConfig:
    """An :class:`AuditConfig` from itself or its ``to_dict()`` form (validated like a TOML file)."""
    if isinstance(config, AuditConfig):
        return config
    return AuditConfig().replace(**{f"{s}.{k}": v for s, keys in config.items() for k, v in keys.items()})


def read_job_corpus(corpus_path: str | Path, format: str | None = None) -> Corpus:
    """The corpus a job reads: ``format`` ``None``/``"auto"`` = detected, as ``spanqa audit`` does."""
    from spanqa.corpus.formats import read_corpus

    return read_corpus(corpus_path, format=None if format in (None, "", "auto") else format)


def run_fold_job(corpus_path: str | Path, format: str | None, config: AuditConfig | Mapping[str, Any], k: int,
                 run_dir: str | Path, layers: Sequence[Sequence[str]] | None = None) -> Path:
    """Run fold ``k`` as a self-contained job; returns ``run_dir/folds/fold_{k}.npz``.

    ``config`` may be an :class:`AuditConfig` or its ``to_dict()``.  With ``layers`` (nested labels, fast mode) the
    fold trains the shared layered head (:func:`spanqa.model.layered.run_layered_fold`).  A fold already
    finished in ``run_dir`` is not trained again.
    """
    corpus = read_job_corpus(corpus_path, format)
    if layers:
        from spanqa.model.layered import run_layered_fold

        return run_layered_fold(corpus, _config(config), layers, k, run_dir=Path(run_dir))
    from spanqa.model.kfold import run_fold

    return run_fold(corpus, _config(config), k, run_dir=Path(run_dir), progress=False)


def encode_shard_job(corpus_path: str | Path, format: str | None, config: AuditConfig | Mapping[str, Any],
                     start: int, end: int, key: str) -> Any:
    """Fast mode: the features of documents ``start:end`` (run order) as one job (:func:`spanqa.model.shards.encode_shard`)."""
    from spanqa.model.shards import encode_shard

    return encode_shard(read_job_corpus(corpus_path, format), _config(config), start, end, key=key)


def _fold_files(corpus_path: str, format: str | None, config: dict, k: int, run_dir: str,
                features: list[tuple[str, bytes]] | None = None, layers: list[list[str]] | None = None) -> dict[str, bytes]:
    """The Ray task body: run the fold job and return its files' bytes by name (``fold_k.npz``, ``fold_k.done``,
    ``fold_k.dynamics.npz``).

    When ``run_dir``'s parent does not exist on this worker (no shared filesystem),
    the job runs in a temporary folder that is removed afterwards; ``features``
    (``(file name, bytes)`` of the fast mode's feature cache files: rows and index) is put there first, so
    the fold does not encode the corpus again.
    """
    def read(npz: Path) -> dict[str, bytes]:  # fold_k.npz, fold_k.done and fold_k.dynamics.npz when recorded
        return {p.name: p.read_bytes() for p in sorted(npz.parent.glob(f"{npz.stem}.*")) if not p.name.endswith(".tmp")}

    if Path(run_dir).parent.is_dir():
        return read(run_fold_job(corpus_path, format, config, k, run_dir, layers))
    with tempfile.TemporaryDirectory(prefix="spanqa-fold-") as tmp:
        local = Path(tmp) / "run"
        if features is not None:
            (local / "features").mkdir(parents=True)
            for name, data in features:
                (local / "features" / name).write_bytes(data)
        return read(run_fold_job(corpus_path, format, config, k, local, layers))


def _write_back(run_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write a fold's files into ``run_dir/folds`` unless present (``.npz`` first: ``.done`` marks it finished)."""
    folds = run_dir / "folds"
    folds.mkdir(parents=True, exist_ok=True)
    for name in sorted(files, key=lambda n: n.endswith(".done")):
        path = folds / name
        if not path.exists():
            write_bytes(path, files[name])


def reachable(address: str, timeout: float = 5.0) -> bool:
    """Whether a ``HOST:PORT`` Ray address accepts a connection (other forms, e.g. ``auto``, are left to Ray)."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "//" in address:
        return True
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
        return True
    except OSError:
        return False


def fold_resources(config: AuditConfig) -> dict[str, float]:
    """Ray resources of one fold task: ``num_gpus=1`` when ``model.device`` is (or auto-resolves to) cuda."""
    from spanqa.model.tagger import resolve_device

    device: str = config.model.device
    if device == "auto":
        device = resolve_device("auto")
    return {"num_cpus": 1, "num_gpus": 1 if device == "cuda" else 0}


def _driver_config(cfg: AuditConfig) -> AuditConfig:
    """``cfg`` for the driver's own work (preparing, assembling): it trains nothing, so a GPU-less head node
    accepts ``model.device = cuda`` (the device is outside the fingerprint and the feature key)."""
    from spanqa.model.tagger import resolve_device

    try:
        resolve_device(cfg.model.device)
    except SpanqaError:
        return cfg.replace(**{"model.device": "auto"})
    return cfg


def encode_corpus_ray(corpus_path: str | Path, corpus: Corpus, cfg: AuditConfig, fmt: str | None, run_dir: Path,
                      shards: int, *, layered: bool = False) -> tuple[Path, dict[str, Any]]:
    """Fast mode: the corpus's feature cache in ``run_dir``, encoded as ``shards`` Ray tasks unless already there.

    Returns the cache file and ``{"shards", "cached", "encode_s"}`` (``encode_s``: wall
    time of the sharded encoding on the driver's clock).
    """
    import time

    import ray

    from spanqa.model.features import load_features, merge_features, save_features
    from spanqa.model.prepare import run_order
    from spanqa.model.shards import features_target, shard_ranges

    path, key = features_target(corpus, _driver_config(cfg), run_dir, check=not layered)
    if load_features(path, key) is not None:
        return path, {"shards": 0, "cached": True, "encode_s": 0.0}
    t0 = time.perf_counter()
    task = ray.remote(**fold_resources(cfg))(encode_shard_job)
    bounds = shard_ranges(len(run_order(corpus)), shards)
    parts = ray.get([task.remote(str(Path(corpus_path).resolve()), fmt, cfg.to_dict(), a, b, key) for a, b in bounds])
    save_features(path, merge_features(parts))
    return path, {"shards": len(bounds), "cached": False, "encode_s": round(time.perf_counter() - t0, 3)}


def _fold_plan(corpus: Corpus, cfg: AuditConfig, mode: str, run_dir: Path
               ) -> list[tuple[Path, list[list[str]] | None, list[str] | None]]:
    """Where the folds go, as the audit will look for them: ``(fold folder, layers, labels)`` per k-fold run.

    Flat labels: one run in ``run_dir``. Nested labels (``data.layers = "auto"`` and labels that overlap across
    types, :func:`spanqa.corpus.layers.label_layers`), fast mode: one run of the shared layered head in
    ``run_dir/layers/kfold`` (``layers``); fine-tuning: one flat run per layer in ``run_dir/layers/layerN`` on the
    corpus restricted to that layer's ``labels`` - the folders :func:`spanqa.run.nested.audit_layers` uses."""
    if cfg.data.layers == "auto":
        from spanqa.corpus.layers import label_layers

        layers = label_layers(corpus)
        if len(layers) > 1:
            if mode == "fast":
                return [(run_dir / "layers" / "kfold", layers, None)]
            return [(run_dir / "layers" / f"layer{i}", None, labels) for i, labels in enumerate(layers, 1)]
    return [(run_dir, None, None)]


def _restricted(corpus: Corpus, labels: Sequence[str] | None) -> Corpus:
    if labels is None:
        return corpus
    from spanqa.corpus.layers import restrict

    return restrict(corpus, labels)


def _layer_fold_files(corpus_path: str, format: str | None, config: dict, k: int, run_dir: str,
                      features: list[tuple[str, bytes]] | None, layers: list[list[str]] | None,
                      labels: list[str] | None) -> dict[str, bytes]:
    """:func:`_fold_files` for one layer's flat run (fine-tuning a nested corpus): the corpus restricted to
    ``labels`` is written beside the job and read from there."""
    if labels is None:
        return _fold_files(corpus_path, format, config, k, run_dir, features, layers)
    from spanqa.corpus.formats import write_corpus

    with tempfile.TemporaryDirectory(prefix="spanqa-layer-") as tmp:
        path = Path(tmp) / "layer.jsonl"
        write_corpus(_restricted(read_job_corpus(corpus_path, format), labels), path, "jsonl")
        return _fold_files(str(path), "jsonl", config, k, run_dir, features, None)


def run_kfold_ray(corpus_path: str | Path, config: AuditConfig | Mapping[str, Any], run_dir: str | Path, *,
                  address: str | None = None, format: str | None = None, shards: int | None = None,
                  progress: bool = False) -> OOFPredictions:
    """Corpus shards (fast mode) and then every fold as Ray tasks; :func:`spanqa.model.kfold.run_kfold` assembles them.

    ``address``: a Ray cluster (``"auto"`` = the one this machine joined with
    ``ray start``; ``None`` = connect to a running one if any, else start a local
    one).  ``format`` defaults to ``data.format``.  ``shards``: encoding tasks in fast
    mode (default: ``train.folds``).  Returns the same OOF predictions as
    ``run_kfold(corpus, config, run_dir=run_dir)``; ``meta["distributed"]`` records the
    shards and tasks.  A corpus with nested labels gets its folds where the audit looks for them
    (:func:`_fold_plan`: the layered head's folds, or each layer's); the first layer's predictions are returned.
    Each fold's files are written into the run folder as soon as that task finishes, so a rerun after a failure
    trains only the folds that were missing.
    """
    import ray

    from spanqa.model.adapt import adapted
    from spanqa.model.featurefile import cache_files
    from spanqa.model.kfold import run_kfold
    from spanqa.model.layered import run_kfold_layers
    from spanqa.model.plan import resolve

    cfg = _config(config)
    fmt = format if format is not None else cfg.data.format
    run_dir = Path(run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    corpus = read_job_corpus(corpus_path, fmt)
    flat, _ = resolve(cfg.replace(**{"data.layers": "flat"}), corpus)  # as spanqa.run.nested.audit_layers resolves
    plan = _fold_plan(corpus, cfg, flat.train.mode, run_dir)
    # every task gets the resolved mode; nested: the layers' runs are flat ones, as audit_layers runs them
    cfg = flat if plan[0][0] != run_dir else resolve(cfg, corpus if cfg.train.mode == "auto" else None)[0]
    if not ray.is_initialized():
        ray.init(address=address)
    info: dict[str, Any] = {"fold_tasks": cfg.train.folds * len(plan)}
    if len(plan) > 1 or plan[0][1]:
        info["layers"] = len(plan[0][1] or plan)
    task = ray.remote(**fold_resources(cfg))(_layer_fold_files)
    pending: dict[Any, Path] = {}
    configs = []
    for fold_dir, layers, labels in plan:
        part = _restricted(corpus, labels)
        fold_dir.mkdir(parents=True, exist_ok=True)
        job_cfg = adapted(cfg, part, fold_dir)  # adapted once, here: tasks load it from the run folder
        configs.append(job_cfg)
        features = None
        if job_cfg.train.mode == "fast":
            path, info["encoding"] = encode_corpus_ray(corpus_path, corpus, job_cfg, fmt, fold_dir,
                                                       shards or job_cfg.train.folds, layered=bool(layers))
            features = ray.put([(p.name, p.read_bytes()) for p in cache_files(path)])
        for k in range(job_cfg.train.folds):
            ref = task.remote(str(Path(corpus_path).resolve()), fmt, job_cfg.to_dict(), k, str(fold_dir), features,
                              layers, labels)
            pending[ref] = fold_dir
    while pending:  # each fold's files land as soon as its task ends
        done, _ = ray.wait(list(pending), num_returns=1)
        _write_back(pending.pop(done[0]), ray.get(done[0]))
    firsts = []
    for (fold_dir, layers, labels), job_cfg in zip(plan, configs):
        if layers:
            firsts.append(run_kfold_layers(corpus, _driver_config(job_cfg), layers, run_dir=fold_dir,
                                           progress=progress)[0])
        else:
            firsts.append(run_kfold(_restricted(corpus, labels), _driver_config(job_cfg), run_dir=fold_dir,
                                    progress=progress))
    oof = firsts[0]
    oof.meta["distributed"] = info
    return oof


__all__ = ["encode_corpus_ray", "encode_shard_job", "fold_resources", "reachable", "read_job_corpus", "run_fold_job",
           "run_kfold_ray"]
