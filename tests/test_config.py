"""spanqa.core.config: defaults, the generated TOML files, overrides, and coded errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from spanqa.core.config import PACKAGED_TOML, AuditConfig, load_config, render_toml
from spanqa.core.errors import SpanqaError

REPO = Path(__file__).resolve().parents[1]


def _code(excinfo) -> str:
    return excinfo.value.code


@pytest.mark.parametrize("path", [REPO / "configs" / "audit.toml", PACKAGED_TOML], ids=["repo", "packaged"])
def test_config_toml_files_equal_the_dataclass_defaults(path):
    # Regenerate with: python -m spanqa.core.config > configs/audit.toml && cp configs/audit.toml spanqa/core/configs/
    assert path.read_text(encoding="utf-8") == render_toml()
    assert load_config(path) == AuditConfig()
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw == AuditConfig().to_dict()


def test_config_defaults():
    cfg = load_config()
    assert (cfg.train.folds, cfg.train.epochs, cfg.train.max_length, cfg.train.stride, cfg.train.seed) == (5, 3, 128, 32, 13)
    assert cfg.model.path == "" and cfg.model.init == "pretrained"
    assert cfg.findings.min_quality == 0.5 and cfg.findings.ood_quantile == 0.98
    assert cfg.data.format == "auto" and cfg.data.group_regex == ""


def test_config_overrides_parse_toml_values_and_bare_strings():
    cfg = load_config(overrides=["train.folds=3", "train.lr=1e-4", "model.path=/tmp/ckpt",
                                 "model.init=random_tiny", r"data.group_regex='^(p\d+)_'"])
    assert cfg.train.folds == 3 and cfg.train.lr == 1e-4
    assert cfg.model.path == "/tmp/ckpt" and cfg.model.init == "random_tiny"
    assert cfg.data.group_regex == r"^(p\d+)_"


def test_config_int_accepted_for_float_and_file_layered_under_overrides(tmp_path):
    f = tmp_path / "my.toml"
    f.write_text("[train]\nlr = 1\nfolds = 4\n[findings]\nmin_quality = 0\n")
    cfg = load_config(f, overrides=["train.folds=2"])
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.train.folds == 2 and cfg.findings.min_quality == 0.0
    assert cfg.train.epochs == 3  # untouched default


@pytest.mark.parametrize("override, key", [
    ("train.fold=3", "train.fold"),
    ("trainer.folds=3", "trainer"),
    ("model.path.x=1", "model.path.x"),
    ("train=3", "train"),
])
def test_config_unknown_key_is_E401_naming_the_key(override, key):
    with pytest.raises(SpanqaError) as exc:
        load_config(overrides=[override])
    assert _code(exc) == "E401"
    assert f"config {key}" in str(exc.value)


def test_config_unknown_key_in_file_names_file_and_key(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[findings]\nmin_qualty = 0.3\n")
    with pytest.raises(SpanqaError) as exc:
        load_config(f)
    assert _code(exc) == "E401"
    assert "config findings.min_qualty" in str(exc.value) and str(f) in str(exc.value)
    assert "min_quality" in str(exc.value)  # lists the known keys


@pytest.mark.parametrize("override, key", [
    ("train.folds='5'", "train.folds"),
    ("train.folds=2.5", "train.folds"),
    ("train.folds=true", "train.folds"),
    ("train.folds=1", "train.folds"),
    ("train.lr=0", "train.lr"),
    ("train.lr=fast", "train.lr"),
    ("model.init=huge", "model.init"),
    ("model.path=3", "model.path"),
    ("findings.ood_quantile=1.5", "findings.ood_quantile"),
    ("train.stride=64", "train.stride"),
    ("data.group_regex='(a)(b)'", "data.group_regex"),
    ("data.group_regex='('", "data.group_regex"),
    ("train.folds", "train.folds"),
])
def test_config_bad_value_is_E402_naming_the_key(override, key):
    with pytest.raises(SpanqaError) as exc:
        load_config(overrides=[override])
    assert _code(exc) == "E402"
    assert f"config {key}" in str(exc.value)


def test_config_to_dict_round_trips_and_replace_validates():
    cfg = load_config(overrides=["train.epochs=1"])
    d = cfg.to_dict()
    assert set(d) == {"data", "model", "train", "fast", "findings", "ranking"} and d["train"]["epochs"] == 1
    assert cfg.replace(**{"train.folds": 2}).train.folds == 2
    with pytest.raises(SpanqaError) as exc:
        cfg.replace(**{"train.folds": 0})
    assert _code(exc) == "E402"


def test_no_function_restates_a_config_default():
    """``core/config.py`` is the only source of defaults: a keyword default in a lower layer that equals the config
    default of the setting of the same name must be written as a reference to it (``FastConfig.hidden``), so
    changing the config changes it too. Neutral values (None, booleans, 0, 1, "") are not defaults of a setting."""
    import ast
    from pathlib import Path

    import spanqa
    from spanqa.core.config import AuditConfig

    settings: dict[str, list[tuple[str, object]]] = {}
    for section, keys in AuditConfig().to_dict().items():
        for key, value in keys.items():
            settings.setdefault(key, []).append((section, value))
    root = Path(spanqa.__file__).parent
    restated = []
    for path in sorted(root.rglob("*.py")):
        if "cli" in path.relative_to(root).parts or path.name == "config.py":
            continue
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            a = fn.args
            pairs = list(zip(a.args[len(a.args) - len(a.defaults):], a.defaults))
            pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            for arg, default in pairs:
                try:
                    value = ast.literal_eval(default)
                except ValueError:
                    continue  # a reference (FastConfig.hidden) or an expression
                if value in (None, True, False, 0, 1, "") or isinstance(value, bool):
                    continue
                restated += [f"{path.relative_to(root)}:{fn.lineno} {fn.name}({arg.arg}={value!r}) = {s}.{arg.arg}"
                             for s, v in settings.get(arg.arg, ()) if v == value and type(v) is type(value)]
    assert restated == [], "defaults restated instead of read from core/config.py: " + "; ".join(restated)
