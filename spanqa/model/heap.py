"""Keeping the C heap from growing with the corpus: glibc's allocator told to give memory back (a no-op elsewhere).

Most of an audit's memory growth is not Python objects but the C heap: the fast head's batches (8 segments x 256
words x 1,536 features, ~12 MB each) are freed and allocated again every step, and glibc's *dynamic* mmap threshold
rises to that size after the first one is freed, so later batches come from the heap, which fragments and is not
returned (docs/speed.md measured tracemalloc at ~0.44 GB of a 2.1 GB peak).  Two calls fix most of it:

- :func:`limit` fixes the threshold (``mallopt(M_MMAP_THRESHOLD)``, ``model.mmap_threshold_mib``): allocations
  above it are mapped and unmapped whole;
- :func:`trim` returns the heap's free top and free pages (``malloc_trim(0)``) after the encoding and each fold.

Measured on CoNLL-2003 at 70k words (2 cores): peak RSS 1.91 -> 1.49 GB, wall +7% (system time for the page faults
of fresh mappings), findings byte-identical.  The results never depend on it (not part of the run fingerprint).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any

__all__ = ["M_MMAP_THRESHOLD", "limit", "trim"]

#: glibc's mallopt parameter number of the mmap threshold (malloc.h)
M_MMAP_THRESHOLD = -3


@lru_cache(maxsize=1)
def _libc() -> Any:
    """glibc, when this process runs on it (its allocator has mallopt and malloc_trim); else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit(threshold_mib: int) -> bool:
    """Allocations of ``threshold_mib`` MiB and more are mapped (and unmapped when freed) instead of taken from the
    heap, for the rest of the process; 0 leaves glibc's dynamic threshold.  True when it was set."""
    libc = _libc()
    if libc is None or threshold_mib <= 0:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, int(threshold_mib) * 2**20))


def trim() -> bool:
    """Return the heap's free memory to the system (glibc ``malloc_trim(0)``); True when some was returned."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
