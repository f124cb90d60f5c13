"""Recorded learning curves: real curves trained once on a log-spaced grid, cached on disk, and
interpolated multilinearly (in log coordinates) between grid points.

Interpolation keeps the response surface continuous while bounding the training cost to one
curve per grid point; between grid points a curve is a weighted mean of its 2^d neighbours'
recorded curves.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CACHE_DIR = Path(__file__).resolve().parent / ".cache"


class CurveTable:
    """The curves of one training function on a grid.

    Args:
        name: cache folder name.
        train: ``(config, steps) -> values at steps 1..steps``; deterministic.
        axes: hyperparameter -> increasing grid values (positive; spaced in log space).
        steps: curve length (the problem's max_resource).
    """

    def __init__(
        self,
        name: str,
        train: Callable[[dict[str, Any], int], np.ndarray],
        axes: dict[str, list[float]],
        steps: int,
    ):
        self.name = name
        self.train = train
        self.axes = axes
        self.steps = steps
        self._logs = [np.log(np.asarray(v, dtype=float)) for v in axes.values()]
        self._values: np.ndarray | None = None

    def grid(self) -> list[tuple[int, ...]]:
        """Every grid index."""
        return list(itertools.product(*(range(len(v)) for v in self.axes.values())))

    def config_at(self, index: tuple[int, ...]) -> dict[str, Any]:
        """The grid point's hyperparameters."""
        return {n: values[i] for (n, values), i in zip(self.axes.items(), index)}

    def path(self, index: tuple[int, ...]) -> Path:
        """Cache file of a grid point, named by its values."""
        name = ",".join(f"{n}={v:g}" for n, v in self.config_at(index).items())
        return CACHE_DIR / self.name / f"{name}.npy"

    def record(self, index: tuple[int, ...]) -> np.ndarray:
        """Load the cached curve of a grid point, or train it and cache it (atomic write)."""
        path = self.path(index)
        if path.exists():
            return np.load(path)
        values = np.asarray(self.train(self.config_at(index), self.steps), dtype=float)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            np.save(handle, values)
        tmp.replace(path)
        return values

    def missing(self) -> list[tuple[int, ...]]:
        """Grid indices not cached yet."""
        return [i for i in self.grid() if not self.path(i).exists()]

    @property
    def values(self) -> np.ndarray:
        """All grid curves, shape ``(*grid shape, steps)`` (recording any that are missing)."""
        if self._values is None:
            shape = tuple(len(v) for v in self.axes.values())
            self._values = np.array([self.record(i) for i in self.grid()]).reshape(*shape, self.steps)
        return self._values

    def curve(self, config: dict[str, Any]) -> np.ndarray:
        """The curve at ``config``: multilinear interpolation of the grid curves in log coordinates."""
        lows, weights = [], []
        for logs, name in zip(self._logs, self.axes):
            x = min(max(math.log(float(config[name])), logs[0]), logs[-1])
            i = min(int(np.searchsorted(logs, x, side="right")) - 1, len(logs) - 2)
            lows.append(i)
            weights.append((x - logs[i]) / (logs[i + 1] - logs[i]))
        values = self.values
        out = np.zeros(self.steps)
        for corner in itertools.product((0, 1), repeat=len(lows)):
            w = math.prod(wi if c else 1.0 - wi for c, wi in zip(corner, weights))
            if w > 0:
                out += w * values[tuple(i + c for i, c in zip(lows, corner))]
        return out


def log_grid(low: float, high: float, count: int, integer: bool = False) -> list[float]:
    """``count`` values spaced evenly in log space from ``low`` to ``high`` (rounded for integers)."""
    values = np.geomspace(low, high, count)
    if integer:
        return sorted({int(round(v)) for v in values})
    return [float(f"{v:.4g}") for v in values]
