"""Which fold each annotated document is held out in: its group, and the group k-fold split of the groups.

A document's group is ``doc.group``, else the first capture group of ``data.group_regex`` on its id (``W402`` when
it does not match), else its id; scikit-learn's ``GroupKFold`` assigns groups to folds, so one group never sits on
both sides of a split (``E405`` when there are fewer groups than folds).
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from spanqa.core.document import Document
from spanqa.core.errors import Location, Problem, fail

__all__ = ["assign_folds", "doc_groups"]


def doc_groups(docs: Sequence[Document], group_regex: str = "") -> tuple[list[str], list[Problem]]:
    """The k-fold group of each document and a ``W402`` for each id the regex does not match."""
    rx = re.compile(group_regex) if group_regex else None
    groups, problems = [], []
    for d in docs:
        if d.group is not None:
            groups.append(d.group)
            continue
        if rx is not None:
            m = rx.search(d.id)
            if m and m.group(1):
                groups.append(m.group(1))
                continue
            problems.append(Problem("W402", Location(doc_id=d.id, key="data.group_regex"),
                                    f"{group_regex!r} does not match {d.id!r}"))
        groups.append(d.id)
    return groups, problems


def assign_folds(groups: Sequence[str], n_folds: int, seed: int) -> np.ndarray:
    """``(n_docs,)`` fold index per document; a group never spans two folds (``E405`` if too few groups)."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups))
    if n_groups < n_folds:
        raise fail("E405", f"{n_groups} annotated document group(s) for {n_folds} folds", key="train.folds")
    folds = np.full(len(groups), -1, dtype=np.int64)
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(groups)), groups=np.asarray(groups))):
        folds[test] = k
    return folds
