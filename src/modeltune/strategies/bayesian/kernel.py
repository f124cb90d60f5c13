"""The Matern 5/2 kernel with one length scale per feature (ARD), and its derivatives.

Inputs are feature matrices already divided by their length scales, so the kernel
itself only sees scaled squared distances ``r2``.
"""

from __future__ import annotations

import numpy as np

_SQRT5 = np.sqrt(5.0)


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances, shape ``(len(a), len(b))``, never negative."""
    r2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(r2, 0.0)


def matern52(r2: np.ndarray) -> np.ndarray:
    """Matern 5/2 correlation ``(1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)`` at squared distances ``r2``."""
    r = np.sqrt(r2)
    return (1.0 + _SQRT5 * r + (5.0 / 3.0) * r2) * np.exp(-_SQRT5 * r)


def matern52_with_grad(r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``matern52(r2)`` and its derivative with respect to ``r2`` (finite at zero)."""
    r = np.sqrt(r2)
    decay = np.exp(-_SQRT5 * r)
    linear = 1.0 + _SQRT5 * r
    return (linear + (5.0 / 3.0) * r2) * decay, -(5.0 / 6.0) * linear * decay


def weighted_column_distances(m: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``sum_ik m_ik (z_ij - z_kj)^2`` for every column ``j`` of ``z``, for symmetric ``m``.

    This is the contraction the length-scale gradient needs, computed in
    O(n^2 d) without building the ``(n, n, d)`` tensor of per-column distances.

    Args:
        m: symmetric matrix, shape ``(n, n)``.
        z: scaled features, shape ``(n, d)``.

    Returns:
        Shape ``(d,)``.
    """
    return 2.0 * ((z * z).T @ m.sum(1)) - 2.0 * (z * (m @ z)).sum(0)
