"""The feature cache on disk: one corpus's word features in a ``.npy`` file, read a few rows at a time.

At MiniLM's last 4 layers a word's features are 3 KiB (float16), 0.9 GB for 300k words and 3.6 GB for 1.2M:
held in memory they were most of an audit's growth with the corpus.  Here they are written once, as the encoder
produces them (:class:`FeatureWriter`, rows put where they belong with ``pwrite``), and each document is then a
:class:`Rows` - a row range of the file that reads itself (``np.asarray(rows)``, ``pread``) only when a batch needs
it.  The heads (:mod:`spanqa.model.heads`) slice documents into segments and copy each batch into float32, so one
batch of rows is in memory at a time; the file itself stays in the operating system's page cache, which is given
back under memory pressure and is not the process's memory.

Files (``run_dir/features/``)::

    words_<key>.npy    (words, dim) array of the feature dtype, documents one after another in run order
    words_<key>.json   {"format", "key", "doc_ids", "offsets", "stats"}; written last: the cache exists once it does

>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> feats = [np.ones((2, 3), np.float16), np.zeros((1, 3), np.float16)]
>>> save_features(d / "words_x.npy", WordFeatures(["a", "b"], feats, 3, "x", {}))
>>> f = load_features(d / "words_x.npy", "x")
>>> [len(r) for r in f.features], np.asarray(f.features[0][1:]).tolist()
([2, 1], [[1.0, 1.0, 1.0]])
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spanqa.core.errors import Problem
from spanqa.core.output import atomic_open, os_error, set_aside

__all__ = ["FORMAT", "FeatureFile", "FeatureWriter", "Rows", "WordFeatures", "cache_files", "cache_path",
           "load_features", "save_features", "write_index"]

FORMAT = "spanqa.tagging.features.v2"


@dataclass
class WordFeatures:
    """Per-word encoder features of a corpus.

    Attributes:
        doc_ids: document ids, in the order given.
        features: per document, ``(n_words, dim)`` rows of ``dtype``: numpy arrays, or :class:`Rows` read from the
            cache file on demand (``np.asarray(rows)``).
        dim: feature width (``layers * hidden_size``).
        key: the cache key (hex SHA-256) the features were computed for.
        stats: ``{"encode_s", "windows", "words", "subtokens", "cached", ...}``.
    """

    doc_ids: list[str]
    features: list[Any]
    dim: int
    key: str
    stats: dict[str, Any]

    def by_id(self) -> dict[str, Any]:
        return dict(zip(self.doc_ids, self.features))


class FeatureFile:
    """A ``(words, dim)`` ``.npy`` array read a range of rows at a time (``pread``; never mapped, never loaded whole).

    Picklable: the open file is not part of its state."""

    def __init__(self, path: Path, offset: int, shape: tuple[int, int], dtype: np.dtype) -> None:
        self.path, self.offset, self.shape, self.dtype = Path(path), int(offset), shape, np.dtype(dtype)
        self.row_bytes = int(shape[1]) * self.dtype.itemsize
        self._fd: int | None = None

    @classmethod
    def open(cls, path: Path) -> "FeatureFile":
        """Read the ``.npy`` header of ``path``; ``ValueError`` when it is not a 2-D C-order array of its full size."""
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f".npy format version {version} (1.0 or 2.0 expected)")
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"a {len(shape)}-D {'Fortran-order ' if fortran else ''}{dtype} array, not word rows")
        size = Path(path).stat().st_size
        want = offset + int(shape[0]) * int(shape[1]) * dtype.itemsize
        if size != want:
            raise ValueError(f"{size:,} bytes where {shape[0]:,} x {shape[1]} rows of {dtype} need {want:,}")
        return cls(path, offset, (int(shape[0]), int(shape[1])), dtype)

    def read(self, start: int, end: int) -> np.ndarray:
        """Rows ``start:end`` as a new read-only array."""
        n = max(0, end - start) * self.row_bytes
        if n == 0:
            return np.zeros((0, self.shape[1]), self.dtype)
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        at, parts = self.offset + start * self.row_bytes, []
        while n:  # pread may return fewer bytes than asked (large reads, signals)
            chunk = os.pread(self._fd, n, at) if hasattr(os, "pread") else self._seek_read(n, at)
            if not chunk:
                raise OSError(f"{self.path}: the file ends before row {end}")
            parts.append(chunk)
            n, at = n - len(chunk), at + len(chunk)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        return np.frombuffer(data, self.dtype).reshape(-1, self.shape[1])

    def _seek_read(self, n: int, at: int) -> bytes:  # pragma: no cover - platforms without os.pread
        assert self._fd is not None
        os.lseek(self._fd, at, os.SEEK_SET)
        return os.read(self._fd, n)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__, _fd=None)


class Rows:
    """Rows ``start:end`` of a :class:`FeatureFile` - one document's features - read when converted to an array.

    Behaves as a read-only ``(n, dim)`` array where the heads use one: ``len``, ``shape``, ``dtype``, slicing rows
    (another :class:`Rows`, nothing read) and ``np.asarray`` (reads them).  ``patch`` replaces some rows (their
    indices in this range, and the new rows): the abbreviation sharing of :mod:`spanqa.model.abbreviations` without
    a copy of the document.
    """

    __slots__ = ("file", "start", "end", "patch")
    ndim = 2

    def __init__(self, file: FeatureFile, start: int, end: int,
                 patch: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.file, self.start, self.end, self.patch = file, int(start), int(end), patch

    def __len__(self) -> int:
        return self.end - self.start

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.file.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self.file.dtype

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice) and key.step in (None, 1):
            a, b, _ = key.indices(len(self))
            b = max(a, b)
            patch = None
            if self.patch is not None:
                idx, rows = self.patch
                keep = (idx >= a) & (idx < b)
                patch = (idx[keep] - a, rows[keep]) if keep.any() else None
            return Rows(self.file, self.start + a, self.start + b, patch)
        return np.asarray(self)[key]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self.file.read(self.start, self.end)
        if self.patch is not None:
            out = out.copy()
            out[self.patch[0]] = self.patch[1]
        return out if dtype is None else out.astype(dtype)

    def astype(self, dtype: Any) -> np.ndarray:
        """The rows read, as a new array of ``dtype``."""
        return np.asarray(self).astype(dtype)

    def replaced(self, idx: np.ndarray, rows: np.ndarray) -> "Rows":
        """These rows with rows ``idx`` (indices in this range) replaced by ``rows``; later replacements win."""
        idx = np.asarray(idx, dtype=np.int64)
        rows = np.asarray(rows, dtype=self.dtype).reshape(len(idx), self.shape[1])
        if self.patch is not None:
            idx, rows = np.concatenate([self.patch[0], idx]), np.concatenate([self.patch[1], rows])
        last = len(idx) - 1 - np.unique(idx[::-1], return_index=True)[1]  # the last replacement of each row
        return Rows(self.file, self.start, self.end, (idx[last], rows[last]))

    def __repr__(self) -> str:
        return f"Rows({self.file.path.name}[{self.start}:{self.end}], patched={0 if self.patch is None else len(self.patch[0])})"


class FeatureWriter:
    """Writes a corpus's ``(words, dim)`` feature file row group by row group, in any order (``pwrite``), so that
    the features never sit in memory; :meth:`finish` renames it into place.  Use as a context manager: on an
    exception the partial file is removed."""

    def __init__(self, path: Path, sizes: Sequence[int], dtype: Any) -> None:
        self.path, self.dtype = Path(path), np.dtype(dtype)
        self.offsets = np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.int64))]).astype(np.int64)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.fh: Any = None
        self.dim = 0
        self.data_at = 0

    def __enter__(self) -> "FeatureWriter":
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
        if kind is not None:
            self.tmp.unlink(missing_ok=True)

    def _create(self, dim: int) -> None:
        """The file with its header, its whole size reserved on the disk at once (a full disk is ``E409`` before the
        encoding, naming the bytes needed, not minutes into it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dim = int(dim)
        self.fh = open(self.tmp, "wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": (int(self.offsets[-1]), self.dim)}
        np.lib.format.write_array_header_2_0(self.fh, header)
        self.fh.flush()
        self.data_at = self.fh.tell()
        size = self.data_at + int(self.offsets[-1]) * self.dim * self.dtype.itemsize
        if hasattr(os, "posix_fallocate") and size > self.data_at:
            os.posix_fallocate(self.fh.fileno(), self.data_at, size - self.data_at)
        self.fh.truncate(size)

    def _coded(self, err: OSError) -> Exception:
        """``err`` as the coded error of writing this file (E409 disk full with the bytes needed, else E411)."""
        return os_error(err, self.path, int(self.offsets[-1]) * max(self.dim, 1) * self.dtype.itemsize)

    def put(self, doc: int, idx: np.ndarray, rows: np.ndarray) -> None:
        """Rows ``idx`` (ascending word indices) of document ``doc``."""
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        idx = np.asarray(idx, dtype=np.int64)
        try:
            if self.fh is None:
                self._create(rows.shape[1])
            if not len(idx):
                return
            cuts = np.nonzero(np.diff(idx) != 1)[0] + 1  # runs of consecutive words: one write each
            row_bytes = self.dim * self.dtype.itemsize
            for a, b in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(idx)]])):
                at = self.data_at + (int(self.offsets[doc]) + int(idx[a])) * row_bytes
                os.pwrite(self.fh.fileno(), rows[a:b].tobytes(), at)
        except OSError as err:
            raise self._coded(err) from None

    def finish(self, dim: int) -> None:
        """Close and rename the file into place (``dim``: the width when no row was ever put)."""
        try:
            if self.fh is None:
                self._create(dim)
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            self.fh = None
            os.replace(self.tmp, self.path)
        except OSError as err:
            raise self._coded(err) from None


# --------------------------------------------------------------------------- the cache files
def cache_path(run_dir: Path, key: str) -> Path:
    """The feature file of cache key ``key`` in ``run_dir`` (its index is beside it, :func:`cache_files`)."""
    return Path(run_dir) / "features" / f"words_{key[:24]}.npy"


def cache_files(path: Path) -> list[Path]:
    """The two files of the cache at ``path``: the rows, then the index (written last)."""
    return [Path(path), Path(path).with_suffix(".json")]


def write_index(path: Path, *, key: str, doc_ids: Sequence[str], offsets: np.ndarray, stats: dict[str, Any]) -> None:
    """The index of the feature file ``path`` (written after it: the cache exists once the index does)."""
    index = {"format": FORMAT, "key": key, "doc_ids": list(doc_ids), "offsets": [int(x) for x in offsets],
             "stats": stats}
    with atomic_open(cache_files(path)[1], "w") as fh:
        json.dump(index, fh, sort_keys=True)


def save_features(path: Path, feats: WordFeatures) -> None:
    """Write ``feats`` (in-memory arrays or :class:`Rows`) as the cache at ``path``, document by document (never one
    concatenated copy: at 300k words that copy was 0.9 GB of peak memory)."""
    dtype = feats.features[0].dtype if feats.features else np.float16
    with FeatureWriter(path, [len(f) for f in feats.features], dtype) as w:
        for d, rows in enumerate(feats.features):
            if len(rows):
                w.put(d, np.arange(len(rows)), np.asarray(rows))
        w.finish(feats.dim)
    write_index(path, key=feats.key, doc_ids=feats.doc_ids, offsets=w.offsets, stats=feats.stats)


def load_features(path: Path, key: str, problems: list[Problem] | None = None) -> WordFeatures | None:
    """The cached features at ``path`` (as :class:`Rows`, nothing read yet) if they exist and were made for
    ``key``, else None.

    A cache that cannot be read (cut short, overwritten, an index that does not fit its rows) is set aside as
    ``*.damaged`` with ``W406`` in ``problems``, and the features are computed again.
    """
    rows_path, index_path = cache_files(path)
    if not index_path.is_file():
        return None
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        if index.get("format") != FORMAT or index.get("key") != key:
            return None
        file = FeatureFile.open(rows_path)
        off, ids = [int(x) for x in index["offsets"]], [str(d) for d in index["doc_ids"]]
        if len(off) != len(ids) + 1 or off[0] != 0 or off[-1] != file.shape[0] or np.any(np.diff(off) < 0):
            raise ValueError(f"index of {len(off)} offsets does not fit {len(ids)} documents and {file.shape[0]} rows")
    except Exception as err:  # a truncated or damaged cache: recompute
        for p in (rows_path, index_path):
            if p.exists():
                set_aside(p, f"feature cache cannot be read ({type(err).__name__}: {err}); the corpus is encoded "
                             "again", problems)
        return None
    feats = [Rows(file, off[i], off[i + 1]) for i in range(len(ids))]
    return WordFeatures(ids, feats, file.shape[1], key, dict(index["stats"], cached=True))
