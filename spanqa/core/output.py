"""Every file spanqa writes: atomically, inside its output folder, with disk-full and permission errors coded.

A write goes to a temporary file in the target's own folder and is renamed over
the target only when it is complete, so a reader never sees half a file and a
failed write leaves the old file (or none) behind, never a fragment:

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> write_text(root / "a.txt", "complete\\n", root=root).read_text()
'complete\\n'
>>> sorted(p.name for p in root.iterdir())  # no temporary file left behind
['a.txt']

``root`` is the folder the command was told to write into (``--out``).  The
target is resolved (symlinks included) and refused with ``E410`` when it would
land outside ``root``, so a symlink left in a reused ``--out`` cannot make spanqa
overwrite a file elsewhere.  A full disk is ``E409`` with the bytes needed and
the bytes free; a read-only or permission-denied folder is ``E411``.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from spanqa.core.errors import Location, Problem, SpanqaError, fail

_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: the mode ``open(path, "w")`` gives a new file under this process's umask (0644 under the usual 022)
_FILE_MODE = 0o666 & ~_umask()


def inside(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` is ``b`` or lies inside it (symlinks resolved)."""
    a, b = Path(a).resolve(), Path(b).resolve()
    return a == b or b in a.parents


def contained(path: str | Path, root: str | Path | None) -> Path:
    """``path``, refused with ``E410`` when it (or a symlink on the way) resolves outside ``root``."""
    path = Path(path)
    if root is None:
        return path
    real_root = Path(root).resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        link = next((p for p in [path, *path.parents] if p.is_symlink()), None)
        why = f"{link} is a symlink to {os.readlink(link)}" if link else f"{path} resolves to {real}"
        raise fail("E410", f"{why}, outside the output folder {root}", path=str(path))
    return path


def disk_full(path: Path, needed: int | None) -> SpanqaError:
    """The ``E409`` error for a write of ``needed`` bytes (None: unknown) to ``path``."""
    try:
        free = shutil.disk_usage(path.parent if path.parent.exists() else Path.cwd()).free
        room = f"{free:,} bytes free"
    except OSError:
        room = "free space unknown"
    need = f"about {needed:,} bytes needed" if needed else "the size needed is unknown"
    return fail("E409", f"no space left on the disk while writing {path} ({need}, {room})", path=str(path))


def dangling_link(path: str | Path) -> str | None:
    """``"P is a symlink to T, which does not exist"`` for ``path`` or the first of its parents that is a dangling
    symlink (what makes ``mkdir`` say "File exists"); None when there is none."""
    for p in [Path(path), *Path(path).parents]:
        if p.is_symlink() and not p.exists():
            return f"{p} is a symlink to {os.readlink(p)}, which does not exist"
    return None


def os_error(err: OSError, path: Path, needed: int | None = None) -> SpanqaError:
    """The coded error for an :class:`OSError` met while writing ``path``."""
    if err.errno in _FULL:
        return disk_full(path, needed)
    where = err.filename or path
    link = dangling_link(where)
    if link:
        return fail("E411", f"cannot write {where}: {link}; remove the link or pass another --out", path=str(where))
    return fail("E411", f"cannot write {where}: {err.strerror or err}", path=str(where))


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, root: str | Path | None = None,
                encoding: str = "utf-8", newline: str | None = "") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; rename it over ``path`` when the block ends cleanly.

    ``mode`` is ``"w"`` (text, UTF-8, no newline translation by default) or ``"wb"``.
    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes, mode 'w' or 'wb', not {mode!r}")
    path = contained(path, root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        if hasattr(os, "fchmod"):  # POSIX: mkstemp makes 0600; give the file the mode open() would give it
            os.fchmod(fd, _FILE_MODE)
    except OSError as err:
        raise os_error(err, path) from None
    tmp = Path(tmp_name)
    fh: IO | None = None
    try:
        fh = os.fdopen(fd, mode) if mode == "wb" else os.fdopen(fd, mode, encoding=encoding, newline=newline)
        yield fh
        fh.flush()
        fh.close()
        os.replace(tmp, path)
    except BaseException as err:
        written = _tell(fh)
        if fh is not None and not fh.closed:
            try:
                fh.close()
            except OSError:
                pass
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(err, OSError) and not isinstance(err, SpanqaError):
            raise os_error(err, path, written) from None
        raise


def _tell(fh: IO | None) -> int | None:
    try:
        return fh.tell() if fh is not None and not fh.closed else None
    except (OSError, ValueError):
        return None


def write_text(path: str | Path, text: str, *, root: str | Path | None = None) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically; return ``path``."""
    data = text.encode("utf-8")
    return write_bytes(path, data, root=root)


def write_bytes(path: str | Path, data: bytes, *, root: str | Path | None = None) -> Path:
    """Write ``data`` to ``path`` atomically; a full disk names ``len(data)`` as the bytes needed."""
    path = Path(path)
    try:
        with atomic_open(path, "wb", root=root) as fh:
            fh.write(data)
    except SpanqaError as err:
        if err.code == "E409":
            raise disk_full(contained(path, root), len(data)) from None
        raise
    return path


def set_aside(path: Path, why: str, problems: list | None) -> None:
    """Rename a damaged run-folder file to ``*.damaged`` (kept for a post-mortem) and record ``W406`` in ``problems``."""
    try:
        path.replace(path.with_name(path.name + ".damaged"))
    except OSError:
        pass  # already gone, or a read-only folder: it is recomputed (or rewritten) all the same
    if problems is not None:
        problems.append(Problem("W406", Location(path=str(path)), why))


__all__ = ["atomic_open", "contained", "dangling_link", "disk_full", "inside", "os_error", "set_aside", "write_bytes",
           "write_text"]
