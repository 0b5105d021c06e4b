"""Group k-fold training that yields out-of-fold (OOF) word-level label marginals, resumable.

What it does
------------
1. **Words and gold tags.**  Each document's words come from
   :func:`spanqa.tokenize.doc_words`; annotated documents get IOB2 gold tags from
   :func:`spanqa.bio.spans_to_tags`.  Overlapping gold spans cannot all be tagged
   flat: the codec keeps the longest, each dropped span is recorded as ``W403``
   (and counted in ``meta["gold"]``); the scorer still sees them.
2. **Folds by group.**  Only annotated documents (``spans is not None``) are
   split and trained on.  A document's group is ``doc.group``, else the first
   capture group of ``data.group_regex`` on its id (``W402`` when it does not
   match), else its id.  scikit-learn's ``GroupKFold(shuffle=True,
   random_state=train.seed)`` assigns groups to folds, so one patient's notes
   never sit on both sides of a split.  Fewer groups than folds is ``E405``.
3. **Train and predict.**  For fold ``k`` a fresh model (seeded with
   ``train.seed``) is trained on the other folds' documents and predicts fold
   ``k``'s documents - each annotated document is predicted exactly once, by the
   one model that never saw it (``DocMarginals.fold = k``).  ``train.mode``
   chooses the model:

   - ``"fast"`` (default): every word of every document is encoded **once** by the
     frozen transformer (:mod:`spanqa.tagging.features`, cached in ``run_dir/features/``),
     and each fold trains a light head (:mod:`spanqa.tagging.heads`, ``[fast]``) on the
     training folds' word features.  The encoder never sees a label, so sharing its
     features across folds leaks nothing about the held-out annotation.
   - ``"finetune"``: the whole transformer is fine-tuned per fold on the training
     folds' windows (:mod:`spanqa.tagging.tagger`).
4. **Unannotated documents** (``spans is None``) are predicted by *every* fold
   model and get the mean of the k marginals, with ``fold = -1``: none of the
   models trained on them, so all k predictions are out of sample, and the mean is
   steadier than any single fold's.  ``meta["unannotated"]`` records this.
5. **Resume.**  With ``run_dir``, ``run_dir/fingerprint.json`` holds a hash of
   the corpus (ids, texts, spans, groups, segmentation), the tag set and every
   setting that changes the model (``data.group_regex``, ``[model]``, ``[train]``,
   and ``[fast]`` in fast mode; not ``[findings]``, so thresholds can change
   without retraining).  Each
   finished fold writes ``folds/fold_{k}.npz`` and then ``folds/fold_{k}.done``.
   A rerun loads finished folds instead of training them - training is
   deterministic, so the result is identical to an uninterrupted run - and a
   different fingerprint is ``E406``.  :func:`run_fold` trains one fold alone into
   ``run_dir`` (a job of :mod:`spanqa.tagging.distributed`); ``run_kfold`` then finds it finished.
   In fast mode :func:`encode_shard` encodes one slice of :func:`run_order` (a corpus
   shard, another job), labelled with the whole corpus's cache key (:func:`features_target`).
6. **Device.**  ``model.device`` (``auto`` = cuda when available) runs the
   transformer (bf16 autocast on cuda) and the heads there; it is recorded in
   ``meta["device"]`` and in each fold's stats, and is *not* part of the
   fingerprint (nor ``model.compile``), so folds run on different machines resume
   into one run.  CPU results do not depend on it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from spanqa._version import __version__
from spanqa.bio import spans_to_tags, tag_inventory
from spanqa.config import AuditConfig
from spanqa.document import Corpus, Document
from spanqa.errors import Location, Problem, fail
from spanqa.output import atomic_open, set_aside, write_text
from spanqa.span import Span
from spanqa.tagging.adapt import adapt_stats
from spanqa.tagging.align import DocEncoding, encode_words, sentence_word_starts, special_tokens
from spanqa.tagging.predictions import DocMarginals, OOFPredictions
from spanqa.tagging.tagger import (build_model, device_info, load_tokenizer, predict_windows, resolve_device,
                                   resolve_model_path, seeded, threads_for, to_device, torch_threads, train_model)

_FOLD_FORMAT = "spanqa.tagging.kfold.v1"
#: fold value of unannotated documents (mean of all fold models)
ENSEMBLE_FOLD = -1
#: ``[model]`` keys that choose where the models run, not what they compute: left out of the fingerprint
RUNTIME_KEYS = ("device", "compile", "threads")


@dataclass(frozen=True)
class PreparedDoc:
    """A document ready for the tagger: its encoding and, when annotated, one tag id per word."""

    doc: Document
    enc: DocEncoding
    labels: np.ndarray | None  # (n_words,) int64 tag ids, None when not annotated
    sentence_starts: tuple[int, ...] = ()  # word indices where sentences begin (after the first)
    ortho: np.ndarray | None = None  # (n_words, n_ids) hashed orthographic ids (fast.orthography), else None


# --------------------------------------------------------------------------- groups and folds
def doc_groups(docs: Sequence[Document], group_regex: str = "") -> tuple[list[str], list[Problem]]:
    """The k-fold group of each document and a ``W402`` for each id the regex does not match."""
    rx = re.compile(group_regex) if group_regex else None
    groups, problems = [], []
    for d in docs:
        if d.group is not None:
            groups.append(d.group)
            continue
        if rx is not None:
            m = rx.search(d.id)
            if m and m.group(1):
                groups.append(m.group(1))
                continue
            problems.append(Problem("W402", Location(doc_id=d.id, key="data.group_regex"),
                                    f"{group_regex!r} does not match {d.id!r}"))
        groups.append(d.id)
    return groups, problems


def assign_folds(groups: Sequence[str], n_folds: int, seed: int) -> np.ndarray:
    """``(n_docs,)`` fold index per document; a group never spans two folds (``E405`` if too few groups)."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups))
    if n_groups < n_folds:
        raise fail("E405", f"{n_groups} annotated document group(s) for {n_folds} folds", key="train.folds")
    folds = np.full(len(groups), -1, dtype=np.int64)
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(groups)), groups=np.asarray(groups))):
        folds[test] = k
    return folds


# --------------------------------------------------------------------------- preparation
def _words(doc: Document) -> tuple[tuple[tuple[int, int], ...], list[int]]:
    from spanqa.tokenize import doc_words, sentence_ranges

    words = doc_words(doc)
    # sentences of the text alone: the rule would otherwise avoid breaks inside gold spans,
    # and the windows of a held-out document must not depend on its gold annotation
    starts = sentence_word_starts(words.ranges, sentence_ranges(doc.evolve(spans=None), words))
    return tuple(words.ranges), starts


def prepare(docs: Sequence[Document], tags: Sequence[str], tokenizer: Any, config: AuditConfig
            ) -> tuple[list[PreparedDoc], list[Problem], dict[str, int]]:
    """Encode every document; returns prepared docs, problems (W401, W403) and dropped-span counts per doc."""
    tag_id = {t: i for i, t in enumerate(tags)}
    specials = special_tokens(tokenizer)
    out: list[PreparedDoc] = []
    problems: list[Problem] = []
    dropped: dict[str, int] = {}
    for doc in docs:
        words, starts = _words(doc)
        enc = encode_words(tokenizer, doc.text, words, doc_id=doc.id, max_length=config.train.max_length,
                           stride=config.train.stride, sentence_starts=starts, specials=specials)
        problems.extend(enc.problems)
        labels = None
        if doc.spans is not None:
            lost: list[Span] = []
            word_tags = spans_to_tags(words, doc.spans, scheme="IOB2", on_drop=lost.append)
            for s in lost:
                problems.append(Problem("W403", Location(doc_id=doc.id, start=s.start, end=s.end,
                                                         excerpt=doc.text[s.start:s.end]), f"{s.label} span"))
            if lost:
                dropped[doc.id] = len(lost)
            labels = np.asarray([tag_id[t] for t in word_tags], dtype=np.int64)
        ortho = None
        if config.train.mode == "fast" and config.fast.orthography:
            from spanqa.tagging.orthography import attribute_ids

            ortho = attribute_ids([doc.text[a:b] for a, b in words], buckets=config.fast.ortho_buckets,
                                  sentence_starts=[0, *starts])
        out.append(PreparedDoc(doc, enc, labels, tuple(starts), ortho))
    return out, problems, dropped


#: ``[train]`` keys that only choose the mode (``auto`` is resolved before anything is fingerprinted)
RESOLVED_TRAIN_KEYS = ("budget_minutes",)
#: ``[fast]`` keys added after runs existed, with the value that keeps the older behaviour: counted only when set
#: to something else, so finished folds of older runs still resume
LATER_FAST_KEYS = {"memory": False, "abbreviations": False}
#: ``[model]`` keys added later, likewise (``adapt_epochs`` is 0 once :func:`spanqa.tagging.adapt.adapted` has run:
#: the adapted checkpoint's path identifies the model)
LATER_MODEL_KEYS = {"adapt_epochs": 0}


def fast_settings(config: AuditConfig) -> dict[str, Any]:
    """The ``[fast]`` settings that identify a fast-mode model (:data:`LATER_FAST_KEYS` only when they change it)."""
    return {k: v for k, v in config.to_dict()["fast"].items()
            if k not in LATER_FAST_KEYS or v != LATER_FAST_KEYS[k]}


def fingerprint(corpus: Corpus, tags: Sequence[str], config: AuditConfig) -> str:
    """SHA-256 of what determines the fold models: corpus content, tags, and the model/train settings."""
    h = hashlib.sha256()
    cfg = config.to_dict()
    train = {k: v for k, v in cfg["train"].items() if k not in RESOLVED_TRAIN_KEYS}
    mode = train.pop("mode")
    model = {k: v for k, v in cfg["model"].items()
             if k not in RUNTIME_KEYS and (k not in LATER_MODEL_KEYS or v != LATER_MODEL_KEYS[k])}
    head = {"format": _FOLD_FORMAT, "tags": list(tags), "group_regex": cfg["data"]["group_regex"],
            "model": model, "train": train}
    if mode != "finetune":  # finetune fingerprints stay what they were before train.mode existed
        head["mode"] = mode
        head["fast"] = fast_settings(config)
    if uses_probes(config):  # the probe documents' training labels come from the injected copy
        head["probes"] = {"rate": config.ranking.inject_rate, "seed": config.ranking.inject_seed}
        if config.ranking.inject_systematic:
            head["probes"]["systematic"] = config.ranking.inject_systematic
    h.update(json.dumps(head, sort_keys=True).encode())
    for d in corpus.documents:
        rec = {"id": d.id, "group": d.group, "annotated": d.spans is not None,
               "spans": None if d.spans is None else sorted(
                   [s.start, s.end, s.label, [list(p) for p in s.pieces]] for s in d.spans),
               "tokens": None if d.tokens is None else [list(t) for t in d.tokens],
               "sentences": None if d.sentences is None else [list(t) for t in d.sentences]}
        h.update(json.dumps(rec, sort_keys=True).encode())
        h.update(hashlib.sha256(d.text.encode("utf-8")).digest())
    return h.hexdigest()


# --------------------------------------------------------------------------- one fold
def finetune_and_predict(k: int, train_docs: list[PreparedDoc], pred_docs: list[PreparedDoc], tags: list[str],
                         tokenizer: Any, config: AuditConfig, bar: Any, device: str = "cpu"
                         ) -> tuple[dict[str, np.ndarray], dict]:
    """Finetune mode, one fold (``k`` names it in the progress bar): fine-tune a fresh transformer (seed
    ``train.seed``) on ``train_docs`` and return the word marginals of ``pred_docs`` by doc id and the stats."""
    t = config.train
    inputs, labels = [], []
    for p in train_docs:
        for win in p.enc.windows:
            inputs.append(win.input_ids)
            labels.append(win.labels(p.labels))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with seeded(t.seed):
        net = to_device(build_model(config.model, tags, tokenizer=tokenizer, max_length=t.max_length), device,
                        compile=config.model.compile)
        steps = -(-len(inputs) // t.batch_size) * t.epochs
        task = bar.add_task(f"fold {k + 1}/{t.folds} train", total=steps) if bar else None
        stats = train_model(net, inputs, labels, t, pad_id=pad, seed=t.seed,
                            on_step=(lambda e, s, loss: bar.update(task, advance=1)) if bar else None, device=device)
        if bar:
            bar.remove_task(task)
    t0 = time.perf_counter()
    windows = [w.input_ids for p in pred_docs for w in p.enc.windows]
    task = bar.add_task(f"fold {k + 1}/{t.folds} predict", total=len(windows)) if bar else None
    flat = predict_windows(net, windows, pad_id=pad, on_batch=(lambda n: bar.update(task, advance=n)) if bar else None,
                           device=device)
    if bar:
        bar.remove_task(task)
    out, i = {}, 0
    for p in pred_docs:
        n = len(p.enc.windows)
        if n:
            probs = p.enc.gather(flat[i:i + n]).astype(np.float64)
            out[p.doc.id] = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
        else:
            out[p.doc.id] = np.zeros((0, len(tags)), np.float32)
        i += n
    stats = {"train_s": round(stats["seconds"], 3), "predict_s": round(time.perf_counter() - t0, 3),
             "steps": stats["steps"], "epoch_loss": [round(x, 6) for x in stats["epoch_loss"]],
             "train_windows": len(inputs), "predict_windows": len(windows),
             "train_docs": len(train_docs), "params": int(sum(p.numel() for p in net.parameters())), "device": device}
    return out, stats


def heads_and_predict(k: int, train_docs: list[PreparedDoc], pred_docs: list[PreparedDoc],
                      train_groups: list[str], train_feats: Sequence[np.ndarray], pred_feats: Sequence[np.ndarray],
                      tags: list[str], config: AuditConfig, bar: Any, device: str = "cpu",
                      blocks: Sequence[Sequence[str]] | None = None
                      ) -> tuple[dict[str, np.ndarray], dict, dict[str, np.ndarray]]:
    """Fast mode, one fold: train ``fast.heads`` heads on the training docs' word features ``train_feats``
    (seeds ``train.seed + h``), predict ``pred_docs`` (features ``pred_feats``) with the mean of their marginals.
    With ``fast.memory`` the heads also read the phrase memory of the training docs' labels
    (:mod:`spanqa.tagging.gazetteer`, leave-one-document-out on the training docs).

    Returns the marginals, the fold's stats and, with ``fast.dynamics``, each training document's
    word margins averaged over the heads that trained on it (NaN where none did: the held-back slice).

    ``blocks`` (nested labels, :mod:`spanqa.tagging.layered`): the tag list of each layer; ``tags`` is their
    concatenation and every document's ``labels`` is ``(n_words, n_layers)``.  One shared head is trained with one
    softmax per layer (``train_head(blocks=...)``), the phrase memory is built per layer, and each layer's block of
    the marginals sums to 1."""
    from spanqa.tagging.heads import predict_head, train_head

    t, f = config.train, config.fast
    ortho = f.orthography
    task = bar.add_task(f"fold {k + 1}/{t.folds} head", total=None) if bar else None
    train_extra = pred_extra = None
    sizes = [len(b) for b in blocks] if blocks else None
    if f.memory:
        from spanqa.tagging.gazetteer import corpus_table

        every = [*train_docs, *pred_docs]
        texts = [p.doc.text for p in every]
        views = [(every, tags)] if not blocks else [
            ([p if p.labels is None else replace(p, labels=p.labels[:, i]) for p in every], list(b))
            for i, b in enumerate(blocks)]
        parts = []
        for docs, layer_tags in views:  # one phrase memory per layer, side by side
            mem = corpus_table(docs, texts, layer_tags).memory(range(len(train_docs)))
            parts.append([mem.features(i, len(p.enc.words)) for i, p in enumerate(every)])
        both = [np.concatenate([part[i] for part in parts], axis=1) if len(parts) > 1 else parts[0][i]
                for i in range(len(every))]
        train_extra, pred_extra = both[:len(train_docs)], both[len(train_docs):]
    if f.abbreviations:
        from spanqa.tagging.abbreviations import abbreviation_links, share_long_form_features

        def mixed(docs: Sequence[PreparedDoc], feats: Sequence[np.ndarray]) -> list[np.ndarray]:
            return [share_long_form_features(x, abbreviation_links(p.doc.text, p.enc.words)) for p, x in zip(docs, feats)]

        train_feats, pred_feats = mixed(train_docs, train_feats), mixed(pred_docs, pred_feats)
    sums = [np.zeros((len(p.enc.words), len(tags)), np.float64) for p in pred_docs]
    m_sum = [np.zeros(len(p.enc.words), np.float64) for p in train_docs] if f.dynamics else None
    m_cnt = [np.zeros(len(p.enc.words), np.int64) for p in train_docs] if f.dynamics else None
    head_stats, train_s, predict_s = [], 0.0, 0.0
    for h in range(f.heads):
        seed = t.seed + h
        with seeded(seed):
            head = train_head(list(train_feats), [p.labels for p in train_docs], train_groups,
                              n_tags=len(tags), kind=f.head, hidden=f.hidden, dropout=f.dropout, lr=f.lr,
                              max_epochs=f.max_epochs, patience=f.patience, batch_size=f.batch_size,
                              seq_len=f.seq_len, dev_fraction=f.dev_fraction, seed=seed,
                              sentence_starts=[p.sentence_starts for p in train_docs], device=device,
                              ids=[p.ortho for p in train_docs] if ortho else None, buckets=f.ortho_buckets,
                              ortho_dim=f.ortho_dim, extra=train_extra, calibrate=f.calibrate,
                              record_margins=f.dynamics and not blocks, blocks=sizes)
        t0 = time.perf_counter()
        probs = predict_head(head, list(pred_feats), seq_len=f.seq_len,
                             sentence_starts=[p.sentence_starts for p in pred_docs], device=device,
                             ids=[p.ortho for p in pred_docs] if ortho else None, extra=pred_extra)
        predict_s += time.perf_counter() - t0
        train_s += head.stats["seconds"]
        for acc, pr in zip(sums, probs):
            acc += pr
        if m_sum is not None and m_cnt is not None:  # both or neither
            for i, m in enumerate(head.margins or ()):
                if m is not None:
                    m_sum[i] += m
                    m_cnt[i] += 1
        head_stats.append(head.stats)
    if bar:
        bar.remove_task(task)
    from spanqa.tagging.heads import renormalise

    out = {}
    for p, acc in zip(pred_docs, sums):
        mean = acc / f.heads
        out[p.doc.id] = (renormalise(mean, sizes) if sizes else
                         mean / np.maximum(mean.sum(axis=1, keepdims=True), 1e-300)).astype(np.float32) \
            if len(mean) else mean.astype(np.float32)
    margins: dict[str, np.ndarray] = {}
    if m_sum is not None and m_cnt is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            margins = {p.doc.id: np.where(c > 0, s / np.maximum(c, 1), np.nan).astype(np.float32)
                       for p, s, c in zip(train_docs, m_sum, m_cnt)}
    hs = head_stats[0]
    stats = {"train_s": round(train_s, 3), "predict_s": round(predict_s, 3), "head": hs["kind"],
             "heads": f.heads, "epochs_run": hs["epochs_run"], "best_epoch": hs["best_epoch"],
             "epoch_loss": hs["train_loss"], "dev_loss": hs["dev_loss"], "train_words": hs["train_words"],
             "dev_words": hs["dev_words"], "train_docs": len(train_docs), "dev_docs": hs["dev_docs"],
             "temperature": [x["temperature"] for x in head_stats],
             "predict_words": int(sum(len(p.enc.words) for p in pred_docs)), "params": hs["params"], "device": device}
    if f.heads > 1:
        stats["per_head"] = [{k: x[k] for k in ("epochs_run", "best_epoch", "seconds", "temperature")}
                             for x in head_stats]
    return out, stats, margins


def _fold_paths(run_dir: Path, k: int) -> tuple[Path, Path]:
    return run_dir / "folds" / f"fold_{k}.npz", run_dir / "folds" / f"fold_{k}.done"


def _dynamics_path(run_dir: Path, k: int) -> Path:
    return run_dir / "folds" / f"fold_{k}.dynamics.npz"


def _save_fold(run_dir: Path, k: int, probs: dict[str, np.ndarray], words: dict[str, tuple], tags: list[str],
               stats: dict, fp: str, seed: int, margins: dict[tuple[str, bool], np.ndarray] | None = None) -> None:
    path, done = _fold_paths(run_dir, k)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = OOFPredictions(list(tags), {d: DocMarginals(d, words[d], p, fold=k, seed=seed) for d, p in probs.items()},
                          {"fold": k, "fingerprint": fp, "stats": stats})
    part.save(path)  # atomic
    if margins:  # the training documents' dynamics, beside the held-out marginals (written before .done)
        dyn = _dynamics_path(run_dir, k)
        keys = list(margins)
        with atomic_open(dyn, "wb") as fh:
            np.savez_compressed(fh, fingerprint=np.asarray(fp), doc_ids=np.asarray([d for d, _ in keys], dtype=str),
                                probe=np.asarray([pr for _, pr in keys], dtype=bool),
                                offsets=np.cumsum([0] + [len(margins[x]) for x in keys]).astype(np.int64),
                                margins=np.concatenate([margins[x] for x in keys]).astype(np.float32))
    write_text(done, json.dumps({"fold": k, "fingerprint": fp, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n",
               root=run_dir)


def _load_fold(run_dir: Path, k: int, fp: str, problems: list[Problem] | None = None,
               ) -> tuple[dict[str, np.ndarray], dict, dict[tuple[str, bool], np.ndarray]] | None:
    """Fold ``k`` as saved in ``run_dir``; None when not finished, or damaged (set aside with ``W406``)."""
    path, done = _fold_paths(run_dir, k)
    if not (path.is_file() and done.is_file()):
        return None
    try:
        part = OOFPredictions.load(path)
    except Exception as err:  # cut short, overwritten, not ours: recompute the fold
        set_aside(path, f"fold {k} cannot be read ({type(err).__name__}: {err}); it is trained again", problems)
        done.unlink(missing_ok=True)
        return None
    if part.meta.get("fingerprint") != fp:
        raise fail("E406", f"{path} was made for another corpus or configuration", path=str(path))
    margins: dict[tuple[str, bool], np.ndarray] = {}  # (doc id, probe)
    dyn = _dynamics_path(run_dir, k)
    if dyn.is_file():
        try:
            with np.load(dyn, allow_pickle=False) as z:
                off, vals = z["offsets"], z["margins"]
                probe = z["probe"]
                margins = {(str(d), bool(probe[i])): vals[off[i]:off[i + 1]].copy()
                           for i, d in enumerate(z["doc_ids"])}
        except Exception as err:
            set_aside(dyn, f"fold {k}'s training dynamics cannot be read ({type(err).__name__}: {err}); "
                      "the fold is trained again", problems)
            done.unlink(missing_ok=True)
            return None
    return {d: m.probs for d, m in part.docs.items()}, part.meta["stats"], margins


def make_run_dir(run_dir: Path) -> Path:
    """Create ``run_dir`` (and its parents); a path that is a file, or a folder that cannot be created, is ``E408``."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise fail("E408", f"{run_dir} exists and is not a folder", path=str(run_dir))
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        from spanqa.output import dangling_link

        why = dangling_link(run_dir) or err.strerror or err
        raise fail("E408", f"cannot create {run_dir}: {why}", path=str(run_dir)) from None
    return run_dir


def _check_run_dir(run_dir: Path, fp: str, problems: list[Problem] | None = None) -> None:
    make_run_dir(run_dir)
    marker = run_dir / "fingerprint.json"
    if marker.is_file():
        try:
            old = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
        except (ValueError, AttributeError) as err:  # not JSON, or not an object: each fold file still
            set_aside(marker, f"not a spanqa fingerprint ({err}); rewritten (every fold file carries its "
                      "own fingerprint, so no fold of another run is used)", problems)
            old = fp
            write_text(marker, json.dumps({"fingerprint": fp, "format": _FOLD_FORMAT}) + "\n")
        if old != fp:
            raise fail("E406", f"fingerprint {str(old)[:12]} in {marker} differs from this run's {fp[:12]}",
                       path=str(marker))
    else:  # atomic: fold jobs running at once may all create it
        write_text(marker, json.dumps({"fingerprint": fp, "format": _FOLD_FORMAT}) + "\n")


def _log_lines(enabled: bool) -> Callable[[str], None] | None:
    """Plain progress lines on stderr when it is not a terminal (where the progress bars cannot show); else None."""
    if not enabled:
        return None
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_terminal:
        return None
    return lambda msg: console.print(f"{time.strftime('%H:%M:%S')} {msg}", soft_wrap=True, highlight=False,
                                     markup=False)


def _progress(enabled: bool):
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)


def _features(prepared: Sequence[PreparedDoc], tokenizer: Any, config: AuditConfig, run_dir: Path | None,
              bar: Any, device: str = "cpu", problems: list[Problem] | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Fast mode: every document's per-word features (cached in ``run_dir/features/``) and their stats."""
    from spanqa.tagging.features import word_features

    f, t = config.fast, config.train
    n_windows = sum(len(p.enc.windows) for p in prepared)
    task = bar.add_task("encode words (frozen encoder, once)", total=n_windows) if bar else None
    wf = word_features([p.enc for p in prepared], config.model, tokenizer=tokenizer, layers=f.layers,
                       pooling=f.pooling, dtype=f.feature_dtype, seed=t.seed, max_length=t.max_length,
                       run_dir=run_dir, on_batch=(lambda n: bar.update(task, advance=n)) if bar else None,
                       device=device, problems=problems)
    if bar:
        bar.remove_task(task)
    return wf.by_id(), dict(wf.stats, key=wf.key[:24])


def run_order(corpus: Corpus) -> list[Document]:
    """Documents in the order a run prepares and encodes them: the annotated ones, then the unannotated."""
    return [d for d in corpus.documents if d.spans is not None] + [d for d in corpus.documents if d.spans is None]


def shard_ranges(n_docs: int, n_shards: int) -> list[tuple[int, int]]:
    """``n_shards`` consecutive, nearly equal half-open ranges covering ``0..n_docs`` (empty ones dropped).

    >>> shard_ranges(10, 3)
    [(0, 4), (4, 7), (7, 10)]
    """
    if n_shards < 1:
        raise ValueError("n_shards must be >= 1")
    size, extra = divmod(n_docs, n_shards)  # the first `extra` shards take one document more
    out, a = [], 0
    for i in range(n_shards):
        b = a + size + (i < extra)
        if b > a:
            out.append((a, b))
        a = b
    return out


def features_target(corpus: Corpus, config: AuditConfig, run_dir: Path, *, check: bool = True) -> tuple[Path, str]:
    """Fast mode: the cache file in ``run_dir`` that ``run_kfold`` reads the corpus's features from, and its key;
    ``check`` refuses (``E406``) or marks ``run_dir`` as this flat run's folder (not for a layered run's folder,
    whose fingerprint is the layered one: :mod:`spanqa.tagging.layered`)."""
    config = _resolved(config, corpus, run_dir)
    from spanqa.tagging.features import cache_path, encoder_features_key

    r = _setup(corpus, config, run_dir if check else None)
    f = config.fast
    key = encoder_features_key([p.enc for p in r.prepared], config.model, layers=f.layers, pooling=f.pooling,
                               dtype=f.feature_dtype, seed=config.train.seed)
    return cache_path(run_dir, key), key


def encode_shard(corpus: Corpus, config: AuditConfig, start: int, end: int, *, key: str) -> Any:
    """Fast mode, one corpus shard: the frozen-encoder features of ``run_order(corpus)[start:end]``.

    ``key`` is the whole corpus's cache key (:func:`features_target`), so
    :func:`spanqa.tagging.features.merge_features` of consecutive shards is the file
    :func:`run_kfold` would have written.  A document's windows and words do not
    depend on the other documents, so a shard prepares only its own.
    """
    config = _resolved(config, corpus)  # the driver passes an already adapted config (model.adapt_epochs = 0)
    from spanqa.tagging.features import compute_features

    docs = run_order(corpus)[start:end]
    tokenizer = load_tokenizer(config.model)
    prepared, _, _ = prepare(docs, tag_inventory(corpus.labels), tokenizer, config)
    f, t = config.fast, config.train
    with torch_threads(threads_for(config.model)):
        return compute_features([p.enc for p in prepared], config.model, tokenizer=tokenizer, layers=f.layers,
                                key=key, pooling=f.pooling, dtype=f.feature_dtype, seed=t.seed,
                                max_length=t.max_length, device=resolve_device(config.model.device))


# --------------------------------------------------------------------------- the run
@dataclass
class _Run:
    """What every fold of one run shares: tags, groups and folds, the prepared documents, the device."""

    tags: list[str]
    groups: list[str]
    folds: np.ndarray
    fp: str
    tokenizer: Any
    prepared: list[PreparedDoc]
    n_annotated: int
    problems: list[Problem]
    dropped: dict[str, int]
    encode_s: float
    device: str
    feats: dict[str, np.ndarray] = field(default_factory=dict)
    feature_stats: dict[str, Any] = field(default_factory=dict)
    features_s: float = 0.0
    #: doc id -> tag ids of the injected copy's labels (probe samples, fast.dynamics), for changed documents
    probe: dict[str, np.ndarray] = field(default_factory=dict)
    probe_errors: int = 0

    @property
    def ann(self) -> list[PreparedDoc]:
        return self.prepared[:self.n_annotated]

    @property
    def unann(self) -> list[PreparedDoc]:
        return self.prepared[self.n_annotated:]

    @property
    def words(self) -> dict[str, tuple]:
        return {p.doc.id: p.enc.words for p in self.prepared}


def _resolved(config: AuditConfig, corpus: Corpus, run_dir: Path | None = None) -> AuditConfig:
    """``config`` with ``train.mode = "auto"`` resolved for ``corpus`` (:func:`spanqa.tagging.plan.resolve`) and the
    encoder adapted to its text when ``model.adapt_epochs`` asks (:func:`spanqa.tagging.adapt.adapted`)."""
    from spanqa.tagging.adapt import adapted

    if config.train.mode == "auto":
        from spanqa.tagging.plan import resolve

        config = resolve(config, corpus)[0]
    return adapted(config, corpus, run_dir)


def _setup(corpus: Corpus, config: AuditConfig, run_dir: Path | None) -> _Run:
    t = config.train
    if t.mode == "auto":
        raise ValueError("resolve train.mode = 'auto' first (spanqa.tagging.plan.resolve)")
    ordered = run_order(corpus)
    annotated = [d for d in ordered if d.spans is not None]
    if not annotated:
        raise fail("E405", "no annotated documents to train on", key="train.folds")
    tags = tag_inventory(corpus.labels)
    groups, problems = doc_groups(annotated, config.data.group_regex)
    folds = assign_folds(groups, t.folds, t.seed)
    fp = fingerprint(corpus, tags, config)
    if run_dir is not None:
        _check_run_dir(run_dir, fp, problems)
    device = resolve_device(config.model.device)
    t0 = time.perf_counter()
    tokenizer = load_tokenizer(config.model)
    prepared, more, dropped = prepare(ordered, tags, tokenizer, config)
    problems.extend(more)
    r = _Run(tags, groups, folds, fp, tokenizer, prepared, len(annotated), problems, dropped,
             time.perf_counter() - t0, device)
    if uses_probes(config):
        r.probe, r.probe_errors = probe_labels(r.ann, tags, config)
    return r


def uses_probes(config: AuditConfig) -> bool:
    """Training dynamics are recorded for the injected copy too (fast mode, ``fast.dynamics``, injected ranking,
    at least 3 folds: one training fold of a document sees its copy's labels, the others its own)."""
    return (config.train.mode == "fast" and config.fast.dynamics and config.ranking.method == "injected"
            and config.train.folds >= 3)


def probe_fold(fold: int, n_folds: int) -> int:
    """The one fold whose heads train on a document's injected-copy labels instead of its own (doc in ``fold``)."""
    return (fold - 1) % n_folds


def probe_labels(ann: Sequence[PreparedDoc], tags: Sequence[str], config: AuditConfig
                 ) -> tuple[dict[str, np.ndarray], int]:
    """Tag ids of the injected copy (:func:`spanqa.ranking.injection.inject_errors` with ``ranking.inject_rate``
    and ``ranking.inject_seed`` - the copy :func:`spanqa.ranking.ranker.rank_corpus` rebuilds) for the documents
    it changes, and the number of injected errors.

    **Probe samples** (the *threshold samples* of Pleiss et al. 2020): the heads of fold
    :func:`probe_fold` of a document train on these labels in place of the document's own, so
    the margins of injected errors *while trained on* are recorded (``DocMarginals.copy_margins``)
    and the ranking can learn what a trained-on error looks like.  The other ``folds - 2``
    training folds see the real labels (``DocMarginals.margins``); the held-out prediction of
    a document is never affected by its own labels.  Each head thus trains on about
    ``inject_rate / (folds - 1)`` extra noise.
    """
    from spanqa.ranking.injection import inject_errors

    corpus = Corpus.from_docs([p.doc for p in ann])
    noisy, errors = inject_errors(corpus, {p.doc.id: p.enc.words for p in ann}, rate=config.ranking.inject_rate,
                                  seed=config.ranking.inject_seed, systematic=config.ranking.inject_systematic)
    tag_id = {t: i for i, t in enumerate(tags)}
    changed = {e.doc_id for e in errors}
    out = {}
    for d, p in zip(noisy.documents, ann):
        if d.id in changed:
            out[d.id] = np.asarray([tag_id[t] for t in spans_to_tags(p.enc.words, d.spans or ())], dtype=np.int64)
    return out, len(errors)


def _train_fold(k: int, r: _Run, config: AuditConfig, run_dir: Path | None, bar: Any
                ) -> tuple[dict[str, np.ndarray], dict, dict[tuple[str, bool], np.ndarray]]:
    """Train fold ``k`` and predict its held-out and the unannotated documents; saved with ``run_dir``."""
    t = config.train
    train_docs = [p for p, f in zip(r.ann, r.folds) if f != k]
    test_docs = [p for p, f in zip(r.ann, r.folds) if f == k]
    if t.mode == "fast":
        if not r.feats:  # encode once, on the first fold that needs it
            t1 = time.perf_counter()
            with torch_threads(threads_for(config.model)):
                r.feats, r.feature_stats = _features(r.prepared, r.tokenizer, config, run_dir, bar, r.device,
                                                       r.problems)
                if config.fast.reduce:
                    from spanqa.tagging.features import reduce_features

                    r.feats, r.feature_stats["reduce"] = reduce_features(r.feats, config.fast.reduce, seed=t.seed,
                                                                         dtype=config.fast.feature_dtype)
            r.features_s = time.perf_counter() - t1
        train_groups = [g for g, f in zip(r.groups, r.folds) if f != k]
        probes: set[str] = set()
        if r.probe:
            probes = {p.doc.id for p, f in zip(r.ann, r.folds) if f != k and probe_fold(int(f), t.folds) == k
                      and p.doc.id in r.probe}
            train_docs = [replace(p, labels=r.probe[p.doc.id]) if p.doc.id in probes else p for p in train_docs]
        with torch_threads(threads_for(config.model)):
            pred_docs = test_docs + r.unann
            probs, stats, doc_margins = heads_and_predict(k, train_docs, pred_docs, train_groups,
                                                          [r.feats[p.doc.id] for p in train_docs],
                                                          [r.feats[p.doc.id] for p in pred_docs], r.tags, config, bar,
                                                          r.device)
        # (doc, trained on the copy's labels)
        margins: dict[tuple[str, bool], np.ndarray] = {(d, d in probes): m for d, m in doc_margins.items()}
        stats["probe_docs"] = len(probes)
    else:
        with torch_threads(threads_for(config.model)):
            probs, stats = finetune_and_predict(k, train_docs, test_docs + r.unann, r.tags, r.tokenizer, config,
                                              bar, r.device)
        margins = {}
    if run_dir is not None:
        _save_fold(run_dir, k, probs, r.words, r.tags, stats, r.fp, t.seed, margins)
    return probs, stats, margins


def _mean_margins(parts: Sequence[np.ndarray]) -> np.ndarray | None:
    """Word margins averaged over the folds that trained on a document (NaN where none did); None without any."""
    if not parts:
        return None
    stack = np.vstack(parts).astype(np.float64)
    ok = ~np.isnan(stack)
    with np.errstate(invalid="ignore"):
        out = np.where(ok.any(axis=0), np.nansum(stack, axis=0) / np.maximum(ok.sum(axis=0), 1), np.nan)
    return out.astype(np.float32)


def run_fold(corpus: Corpus, config: AuditConfig, k: int, *, run_dir: Path, progress: bool = False) -> Path:
    """Train fold ``k`` alone and write ``run_dir/folds/fold_{k}.npz`` (+ ``.done``) as :func:`run_kfold` does.

    A fold already finished in ``run_dir`` is left as it is.  Returns the ``.npz``
    path; :func:`run_kfold` with the same ``run_dir`` loads it instead of training.
    """
    config = _resolved(config, corpus, None if run_dir is None else Path(run_dir))
    if not 0 <= k < config.train.folds:
        raise fail("E402", f"fold {k} is not in 0..{config.train.folds - 1}", key="train.folds")
    run_dir = Path(run_dir)
    r = _setup(corpus, config, run_dir)
    if _load_fold(run_dir, k, r.fp, r.problems) is None:
        with _progress(progress) as bar:
            _train_fold(k, r, config, run_dir, bar)
    return _fold_paths(run_dir, k)[0]


def run_kfold(corpus: Corpus, config: AuditConfig, *, run_dir: Path | None = None, progress: bool = True,
              on_fold_done: Callable[[int], None] | None = None) -> OOFPredictions:
    """Out-of-fold marginals for every document of ``corpus`` (see the module docstring).

    ``on_fold_done(k)`` is called after fold ``k`` is finished (and saved, with
    ``run_dir``); tests use it to simulate an interruption.
    """
    t_start = time.perf_counter()
    config = _resolved(config, corpus, None if run_dir is None else Path(run_dir))
    t = config.train
    run_dir = None if run_dir is None else Path(run_dir)
    r = _setup(corpus, config, run_dir)
    tags, groups, folds, fp, problems, dropped = r.tags, r.groups, r.folds, r.fp, r.problems, r.dropped
    annotated = [p.doc for p in r.ann]
    unannotated = [p.doc for p in r.unann]
    prepared, ann, words = r.prepared, r.ann, r.words
    fast = t.mode == "fast"

    results: dict[int, dict[str, np.ndarray]] = {}
    stats: dict[int, dict] = {}
    dynamics: dict[int, dict[tuple[str, bool], np.ndarray]] = {}  # per fold: (doc id, probe) -> margins
    resumed: list[int] = []
    log = _log_lines(progress)
    with _progress(progress) as bar:
        task = bar.add_task("folds", total=t.folds) if bar else None
        t_folds, trained = time.perf_counter(), 0
        for k in range(t.folds):
            t_fold = time.perf_counter()
            loaded = _load_fold(run_dir, k, fp, problems) if run_dir is not None else None
            if loaded is not None:
                results[k], stats[k], dynamics[k] = loaded
                resumed.append(k)
            else:
                results[k], stats[k], dynamics[k] = _train_fold(k, r, config, run_dir, bar)
                trained += 1
            if bar:
                bar.update(task, advance=1)
            if log:
                spent = time.perf_counter() - t_folds
                left = t.folds - k - 1
                eta = f", about {spent / trained * left:.0f} s to go" if trained and left else ""
                log(f"fold {k + 1}/{t.folds} {'resumed' if loaded is not None else 'trained'} in "
                    f"{time.perf_counter() - t_fold:.0f} s (k-fold {spent:.0f} s so far{eta})")
            if on_fold_done is not None:
                on_fold_done(k)

    docs: dict[str, DocMarginals] = {}
    fold_of = {p.doc.id: int(f) for p, f in zip(ann, folds)}
    for d in corpus.documents:
        if d.spans is not None:
            k = fold_of[d.id]
            copy = [dynamics[j][(d.id, True)] for j in range(t.folds) if (d.id, True) in dynamics[j]]
            own = [dynamics[j][(d.id, False)] for j in range(t.folds) if (d.id, False) in dynamics[j]]
            if r.probe and fast and config.fast.dynamics and d.id not in r.probe:
                copy = own          # the copy leaves this document as it is: its own margins are the copy's
            docs[d.id] = DocMarginals(d.id, words[d.id], results[k][d.id], fold=k, seed=t.seed,
                                      margins=_mean_margins(own), copy_margins=_mean_margins(copy))
        else:
            mean = np.mean([results[k][d.id] for k in range(t.folds)], axis=0, dtype=np.float64)
            docs[d.id] = DocMarginals(d.id, words[d.id], mean.astype(np.float32), fold=ENSEMBLE_FOLD, seed=t.seed)

    import torch
    import transformers

    meta = {
        "format": "spanqa.oof.v1",
        "mode": t.mode,
        "config": config.to_dict(),
        "model": {"path": str(resolve_model_path(config.model)), "init": config.model.init,
                  "params": stats[0]["params"]},
        "fingerprint": fp,
        "adapted": adapt_stats(config),
        "folds": {"n": t.folds, "seed": t.seed, "by_doc": fold_of,
                  "groups": dict(zip((d.id for d in annotated), groups)), "n_groups": len(set(groups)),
                  "test_docs": [int((folds == k).sum()) for k in range(t.folds)]},
        "unannotated": {"policy": "mean of all fold models' marginals; fold = -1",
                        "doc_ids": [d.id for d in unannotated]},
        "gold": {"dropped_overlapping_spans": int(sum(dropped.values())), "by_doc": dropped},
        "windows": {"total": int(sum(len(p.enc.windows) for p in prepared)),
                    "multi_window_docs": int(sum(len(p.enc.windows) > 1 for p in prepared)),
                    "max_length": t.max_length, "stride": t.stride},
        "fold_stats": [stats[k] for k in range(t.folds)],
        "probes": {"injected_errors": r.probe_errors, "docs": len(r.probe),
                   "policy": "fold (f - 1) mod k trains on the injected copy's labels of a document in fold f"}
        if r.probe else None,
        "resumed_folds": resumed,
        "device": dict(device_info(r.device), requested=config.model.device, compile=config.model.compile,
                       by_fold=[stats[k].get("device") for k in range(t.folds)]),
        "timing": {"encode_s": round(r.encode_s, 3), "features_s": round(r.features_s, 3),
                   "wall_s": round(time.perf_counter() - t_start, 3)},
        "problems": [p.to_dict() for p in problems],
        "versions": {"spanqa": __version__, "torch": torch.__version__, "transformers": transformers.__version__},
    }
    if fast:
        meta["features"] = r.feature_stats or {"cached": None, "note": "every fold was resumed; no features needed"}
    return OOFPredictions(tags, docs, meta)
