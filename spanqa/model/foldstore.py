"""The fold store on disk: a run folder's fingerprint marker and each finished fold's files.

``run_dir/fingerprint.json`` names the run (:mod:`spanqa.model.fingerprint`; another run's folder is ``E406``).
Each finished fold ``k`` writes ``folds/fold_{k}.npz`` (its marginals), ``folds/fold_{k}.dynamics.npz`` (the training
documents' margins, when recorded) and then ``folds/fold_{k}.done``; a fold that cannot be read is set aside
(``W406``) and trained again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from spanqa.core.errors import Problem, fail
from spanqa.core.output import atomic_open, set_aside, write_text
from spanqa.model.predictions import DocMarginals, OOFPredictions

__all__ = ["FOLD_FORMAT", "check_run_dir", "dynamics_path", "fold_paths", "load_fold", "make_run_dir", "save_fold"]

#: the fold files' format, part of every fingerprint: its value (named after the module it began in) must not change,
#: or no earlier run would resume
FOLD_FORMAT = "spanqa.tagging.kfold.v1"


def fold_paths(run_dir: Path, k: int) -> tuple[Path, Path]:
    """Fold ``k``'s marginals file and its ``.done`` marker in ``run_dir``."""
    return run_dir / "folds" / f"fold_{k}.npz", run_dir / "folds" / f"fold_{k}.done"


def dynamics_path(run_dir: Path, k: int) -> Path:
    """Fold ``k``'s training dynamics file in ``run_dir``."""
    return run_dir / "folds" / f"fold_{k}.dynamics.npz"


def save_fold(run_dir: Path, k: int, probs: dict[str, np.ndarray], words: dict[str, tuple], tags: list[str],
              stats: dict, fp: str, seed: int, margins: dict[tuple[str, bool], np.ndarray] | None = None) -> None:
    """Write fold ``k``'s marginals (and ``margins``, its training dynamics) into ``run_dir``, then its ``.done``."""
    path, done = fold_paths(run_dir, k)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = OOFPredictions(list(tags), {d: DocMarginals(d, words[d], p, fold=k, seed=seed) for d, p in probs.items()},
                          {"fold": k, "fingerprint": fp, "stats": stats})
    part.save(path)  # atomic
    if margins:  # the training documents' dynamics, beside the held-out marginals (written before .done)
        dyn = dynamics_path(run_dir, k)
        keys = list(margins)
        with atomic_open(dyn, "wb") as fh:
            np.savez_compressed(fh, fingerprint=np.asarray(fp), doc_ids=np.asarray([d for d, _ in keys], dtype=str),
                                probe=np.asarray([pr for _, pr in keys], dtype=bool),
                                offsets=np.cumsum([0] + [len(margins[x]) for x in keys]).astype(np.int64),
                                margins=np.concatenate([margins[x] for x in keys]).astype(np.float32))
    write_text(done, json.dumps({"fold": k, "fingerprint": fp, "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n",
               root=run_dir)


def load_fold(run_dir: Path, k: int, fp: str, problems: list[Problem] | None = None,
              ) -> tuple[dict[str, np.ndarray], dict, dict[tuple[str, bool], np.ndarray]] | None:
    """Fold ``k`` as saved in ``run_dir``; None when not finished, or damaged (set aside with ``W406``)."""
    path, done = fold_paths(run_dir, k)
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
    dyn = dynamics_path(run_dir, k)
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
        from spanqa.core.output import dangling_link

        why = dangling_link(run_dir) or err.strerror or err
        raise fail("E408", f"cannot create {run_dir}: {why}", path=str(run_dir)) from None
    return run_dir


def check_run_dir(run_dir: Path, fp: str, problems: list[Problem] | None = None) -> None:
    """Create ``run_dir`` if needed and mark it with fingerprint ``fp``; a folder of another run is ``E406``."""
    make_run_dir(run_dir)
    marker = run_dir / "fingerprint.json"
    if marker.is_file():
        try:
            old = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
        except (ValueError, AttributeError) as err:  # not JSON, or not an object: each fold file still
            set_aside(marker, f"not a spanqa fingerprint ({err}); rewritten (every fold file carries its "
                      "own fingerprint, so no fold of another run is used)", problems)
            old = fp
            write_text(marker, json.dumps({"fingerprint": fp, "format": FOLD_FORMAT}) + "\n")
        if old != fp:
            raise fail("E406", f"fingerprint {str(old)[:12]} in {marker} differs from this run's {fp[:12]}",
                       path=str(marker))
    else:  # atomic: fold jobs running at once may all create it
        write_text(marker, json.dumps({"fingerprint": fp, "format": FOLD_FORMAT}) + "\n")
