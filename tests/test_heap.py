"""The C heap is told to give memory back (glibc), without touching results or the run fingerprint."""

from __future__ import annotations

import platform

import pytest

from spanqa.core.config import load_config
from spanqa.model import heap


def test_limit_and_trim_on_glibc_and_harmless_elsewhere():
    assert heap.limit(0) is False  # 0 keeps glibc's dynamic threshold
    if heap._libc() is None:
        assert heap.limit(4) is False and heap.trim() is False
        pytest.skip(f"no glibc allocator on {platform.system()}")
    assert heap.limit(4) is True
    blocks = [bytearray(64 * 1024) for _ in range(2000)]  # ~130 MB of small blocks from the heap
    del blocks
    assert isinstance(heap.trim(), bool)


def test_the_threshold_is_a_runtime_setting_not_part_of_the_model():
    from spanqa.core.document import Corpus, Document
    from spanqa.core.span import Span
    from spanqa.model.fingerprint import fingerprint

    corpus = Corpus.from_docs([Document("d", "Pt on aspirin.", (Span("d", 6, 13, "Drug"),))])
    tags = ["O", "B-Drug", "I-Drug"]
    on, off = (load_config(overrides=[f"model.mmap_threshold_mib={m}"]) for m in (4, 0))
    assert on.model.mmap_threshold_mib == 4 and off.model.mmap_threshold_mib == 0
    assert fingerprint(corpus, tags, on) == fingerprint(corpus, tags, off)  # finished folds resume either way
