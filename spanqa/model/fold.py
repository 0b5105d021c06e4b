"""One fold: train a fresh model on the training folds' documents and predict the held-out (and unannotated) ones.

:func:`heads_and_predict` is the fast mode (light heads on the frozen encoder's word features,
:mod:`spanqa.model.heads`), :func:`finetune_and_predict` the finetune mode (the whole transformer,
:mod:`spanqa.model.tagger`).  Neither reads or writes files: :mod:`spanqa.model.foldstore` keeps the results.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from spanqa.core.config import AuditConfig
from spanqa.model.prepare import PreparedDoc
from spanqa.model.tagger import build_model, predict_windows, seeded, to_device, train_model

__all__ = ["finetune_and_predict", "heads_and_predict"]


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
    (:mod:`spanqa.model.gazetteer`, leave-one-document-out on the training docs).

    Returns the marginals, the fold's stats and, with ``fast.dynamics``, each training document's
    word margins averaged over the heads that trained on it (NaN where none did: the held-back slice).

    ``blocks`` (nested labels, :mod:`spanqa.model.layered`): the tag list of each layer; ``tags`` is their
    concatenation and every document's ``labels`` is ``(n_words, n_layers)``.  One shared head is trained with one
    softmax per layer (``train_head(blocks=...)``), the phrase memory is built per layer, and each layer's block of
    the marginals sums to 1."""
    from spanqa.model.heads import predict_head, train_head

    t, f = config.train, config.fast
    ortho = f.orthography
    task = bar.add_task(f"fold {k + 1}/{t.folds} head", total=None) if bar else None
    train_extra = pred_extra = None
    sizes = [len(b) for b in blocks] if blocks else None
    if f.memory:
        from spanqa.model.gazetteer import corpus_table

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
        from spanqa.model.abbreviations import abbreviation_links, share_long_form_features

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
    from spanqa.model.heads import renormalise

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
