"""Which training mode an audit uses and what it will cost here, said before anything starts.

``train.mode = "auto"`` (the default) chooses between the frozen-encoder fast mode and full
fine-tuning from the corpus size, the device and the time the user allows
(``train.budget_minutes``):

- on a GPU: fine-tuning (it fixes boundaries the frozen encoder cannot; on a GPU it is cheap);
- on the CPU: the fast mode, unless fine-tuning's expected time fits ``train.budget_minutes``
  (0, the default, never lets it: on 2 cores fine-tuning costs about 9x the fast mode).

:func:`plan` returns the choice, why, and the expected wall time and peak memory of both modes, from
the per-word costs in :data:`COSTS` (measured with ``scripts/bench_model.py`` and
``scripts/bench_detection.py`` on a 2-core CPU; a rough guide, scaled by the thread count).

>>> p = plan(200_000, device="cpu", threads=2, budget_minutes=0)
>>> p.mode, p.reason.split(";")[0]
('fast', 'CPU')
>>> plan(20_000, device="cpu", threads=2, budget_minutes=60).mode
'finetune'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spanqa.core.config import AuditConfig
    from spanqa.core.document import Corpus

#: seconds of a whole audit per word on 2 CPU threads, and a fixed part (loading the encoder, the ranking):
#: fast ~2.1 ms/word (CoNLL-2003 whole, 301k words, 624 s); fine-tuning ~14 ms/word (NCBI dev+test, 48k words,
#: 14 min; CoNLL-2003 train 1,987 s for the k-fold alone)
COSTS = {"fast": (0.0021, 30.0), "finetune": (0.014, 60.0)}
#: how many times faster the k-fold run of each mode is on a GPU machine than on 2 CPU threads - measured on NCBI
#: disease dev+test (48k words): fast 119 s -> 32 s, finetune ~800 s -> 45 s on one H200 with 16 cores
#: (scripts/bench_model.py; docs/model.md).  The fast mode's small heads gain little from a GPU.
GPU_SPEEDUP = {"fast": 3.8, "finetune": 18.0}
#: peak memory of the fast mode, measured: (words, peak bytes) of whole CoNLL-2003 audits at 0.25x, 1x and 4x with the
#: features read from disk (docs/speed.md, 2 cores); :func:`peak_bytes` draws straight lines between them (and on
#: from the first and last two).  Memory grows less per word as the corpus grows (4.2 KB/word up to 300k words,
#: 1.4 KB/word above), so one line through all three would understate the middle.
MEMORY = ((70_379, 1.306e9), (301_418, 2.275e9), (1_205_672, 3.568e9))


def peak_bytes(words: int) -> float:
    """Expected peak memory of a fast-mode audit of ``words`` words (:data:`MEMORY`, piecewise linear).

    >>> round(peak_bytes(301_418) / 1e9, 2), round(peak_bytes(2_411_344) / 1e9, 2)
    (2.27, 5.29)
    """
    xs, ys = [w for w, _ in MEMORY], [b for _, b in MEMORY]
    i = 0 if words < xs[1] else len(xs) - 2 if words >= xs[-2] else next(k for k in range(len(xs) - 1)
                                                                         if xs[k] <= words < xs[k + 1])
    slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
    return max(0.0, ys[i] + slope * (words - xs[i]))


@dataclass(frozen=True)
class Plan:
    """The chosen ``mode``, ``reason``, and the expected seconds and peak bytes of each mode."""

    mode: str
    reason: str
    words: int
    seconds: dict[str, float]
    peak_bytes: float

    def to_dict(self) -> dict:
        return {"mode": self.mode, "reason": self.reason, "words": self.words,
                "expected_minutes": {k: round(v / 60, 1) for k, v in self.seconds.items()},
                "expected_peak_gb": round(self.peak_bytes / 1e9, 1),
                "note": "rough: per-word costs measured on a 2-core CPU, scaled by the thread count"}

    def sentence(self) -> str:
        other = "finetune" if self.mode == "fast" else "fast"
        how = {"fast": "frozen encoder + light heads", "finetune": "full fine-tuning"}
        return (f"Plan: {self.words:,} words, {self.mode} mode ({how[self.mode]}) - about "
                f"{_minutes(self.seconds[self.mode])}, peak memory about {self.peak_bytes / 1e9:.1f} GB; "
                f"{self.reason}. The {other} mode would take about {_minutes(self.seconds[other])}.")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def expected_seconds(words: int, mode: str, *, device: str = "cpu", threads: int = 2) -> float:
    per_word, fixed = COSTS[mode]
    t = fixed + words * per_word * 2.0 / max(1, threads)
    return t / GPU_SPEEDUP[mode] if device == "cuda" else t


def plan(words: int, *, device: str, threads: int, budget_minutes: float, requested: str = "auto") -> Plan:
    """The training mode for ``words`` words on ``device`` (module docstring); ``requested`` other than ``auto`` is
    kept as it is."""
    seconds = {m: expected_seconds(words, m, device=device, threads=threads) for m in COSTS}
    peak = peak_bytes(words)
    if requested != "auto":
        return Plan(requested, f"train.mode = {requested} was asked for", words, seconds, peak)
    if device == "cuda":
        return Plan("finetune", "a GPU is there, and fine-tuning places boundaries the frozen encoder cannot", words,
                    seconds, peak)
    if budget_minutes > 0 and seconds["finetune"] <= budget_minutes * 60:
        return Plan("finetune", f"CPU; fine-tuning fits train.budget_minutes = {budget_minutes:g}", words, seconds,
                    peak)
    why = ("CPU; fine-tuning would not fit train.budget_minutes = "
           f"{budget_minutes:g}" if budget_minutes > 0 else "CPU; set train.budget_minutes to let auto choose "
           "fine-tuning when it fits")
    return Plan("fast", why, words, seconds, peak)


def busy_note(threads: int, *, load: float | None = None, cores: int | None = None) -> str | None:
    """A sentence when the machine is already busy - its 1-minute load average at or above its core count before the
    run starts - and more than one thread would then slow it (OpenMP threads wait for each other: one thread was
    4.5x faster than the default on a 2-core machine with load 10); None otherwise or where load is unknown."""
    import os

    try:
        load = os.getloadavg()[0] if load is None else load
    except (OSError, AttributeError):
        return None
    cores = cores or os.cpu_count() or 1
    if threads > 1 and load >= cores:  # every core already busy before this run starts
        return (f"The machine is busy (load {load:.1f} on {cores} cores): {threads} threads will wait for each other; "
                "--set model.threads=1 can be several times faster here.")
    return None


def corpus_words(corpus: Corpus) -> int:
    """Words in the annotated and unannotated documents (spanqa's word view; the cost of an audit grows with it)."""
    from spanqa.corpus.tokenize import doc_words

    return int(sum(len(doc_words(d).ranges) for d in corpus.documents))


def resolve(config: AuditConfig, corpus: Corpus | None = None) -> tuple[AuditConfig, Plan | None]:
    """``config`` with ``train.mode = "auto"`` replaced by the mode :func:`plan` chooses for ``corpus`` on this machine,
    and the plan (None when the mode was given and no corpus was passed)."""
    from spanqa.model.tagger import resolve_device, threads_for

    t = config.train
    if t.mode != "auto" and corpus is None:
        return config, None
    import torch

    words = corpus_words(corpus) if corpus is not None else 0
    device = resolve_device(config.model.device)
    threads = threads_for(config.model) or torch.get_num_threads()
    p = plan(words, device=device, threads=threads, budget_minutes=t.budget_minutes, requested=t.mode)
    return (config.replace(**{"train.mode": p.mode}) if t.mode == "auto" else config), p


__all__ = ["COSTS", "GPU_SPEEDUP", "MEMORY", "Plan", "busy_note", "corpus_words", "expected_seconds", "peak_bytes", "plan",
           "resolve"]
