"""The fingerprint of a k-fold run: a hash of everything that determines its fold models.

The corpus (ids, texts, spans, groups, segmentation), the tag set and every setting that changes the model
(``data.group_regex``, ``[model]`` but its runtime keys, ``[train]``, ``[fast]`` in fast mode, the probe settings
when probes are used; not ``[findings]``).  A run folder and each of its fold files carry it
(:mod:`spanqa.model.foldstore`), so a rerun resumes only folds of the same run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

from spanqa.core.config import AuditConfig
from spanqa.core.document import Corpus
from spanqa.model.foldstore import FOLD_FORMAT
from spanqa.model.probes import uses_probes

__all__ = ["LATER_FAST_KEYS", "LATER_MODEL_KEYS", "RESOLVED_TRAIN_KEYS", "RUNTIME_KEYS", "fast_settings",
           "fingerprint", "model_settings"]

#: ``[model]`` keys that choose where the models run, not what they compute: left out of the fingerprint
RUNTIME_KEYS = ("device", "compile", "threads", "mmap_threshold_mib")

#: ``[train]`` keys that only choose the mode (``auto`` is resolved before anything is fingerprinted)
RESOLVED_TRAIN_KEYS = ("budget_minutes",)
#: ``[fast]`` keys added after runs existed, with the value that keeps the older behaviour: counted only when set
#: to something else, so finished folds of older runs still resume
LATER_FAST_KEYS = {"memory": False, "abbreviations": False}
#: ``[model]`` keys added later, likewise (``adapt_epochs`` is 0 once :func:`spanqa.model.adapt.adapted` has run:
#: the adapted checkpoint's path identifies the model)
LATER_MODEL_KEYS = {"adapt_epochs": 0}


def fast_settings(config: AuditConfig) -> dict[str, Any]:
    """The ``[fast]`` settings that identify a fast-mode model (:data:`LATER_FAST_KEYS` only when they change it)."""
    return {k: v for k, v in config.to_dict()["fast"].items()
            if k not in LATER_FAST_KEYS or v != LATER_FAST_KEYS[k]}


def model_settings(config: AuditConfig) -> dict[str, Any]:
    """The settings that determine the fold models, JSON-native: ``data.group_regex``, ``[model]`` but its runtime
    keys, ``[train]``, ``[fast]`` in fast mode, the probe settings when probes are used (``train.mode`` resolved)."""
    cfg = config.to_dict()
    train = {k: v for k, v in cfg["train"].items() if k not in RESOLVED_TRAIN_KEYS}
    mode = train.pop("mode")
    model = {k: v for k, v in cfg["model"].items()
             if k not in RUNTIME_KEYS and (k not in LATER_MODEL_KEYS or v != LATER_MODEL_KEYS[k])}
    head: dict[str, Any] = {"group_regex": cfg["data"]["group_regex"], "model": model, "train": train}
    if mode != "finetune":  # finetune fingerprints stay what they were before train.mode existed
        head["mode"] = mode
        head["fast"] = fast_settings(config)
    if uses_probes(config):  # the probe documents' training labels come from the injected copy
        head["probes"] = {"rate": config.ranking.inject_rate, "seed": config.ranking.inject_seed}
        if config.ranking.inject_systematic:
            head["probes"]["systematic"] = config.ranking.inject_systematic
    return head


def fingerprint(corpus: Corpus, tags: Sequence[str], config: AuditConfig) -> str:
    """SHA-256 of what determines the fold models: corpus content, tags, and :func:`model_settings`."""
    h = hashlib.sha256()
    head = {"format": FOLD_FORMAT, "tags": list(tags), **model_settings(config)}
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
