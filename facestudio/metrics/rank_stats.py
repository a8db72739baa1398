"""Rank statistics for checking one score against another: average ranks, Spearman, AUC.

Used where a meter is judged against people's labels or another measure (the face check's
held-out figures, `tests/bench/validate_realism.py`); numpy only, ties handled exactly.
"""

from __future__ import annotations

import numpy as np


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(x.size)
    r[order] = np.arange(x.size, dtype=np.float64)
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=r)
    return sums[inv] / counts[inv]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two equally long score arrays."""
    ra, rb = ranks(a), ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    return float((ra @ rb) / np.sqrt((ra @ ra) * (rb @ rb)))


def auc(good: np.ndarray, bad: np.ndarray) -> float:
    """P(score of a good face > score of a bad face), ties counted half."""
    r = ranks(np.concatenate([np.ravel(good), np.ravel(bad)]))
    n1, n2 = np.size(good), np.size(bad)
    return float((r[:n1].sum() + n1 - n1 * (n1 + 1) / 2) / (n1 * n2))
