"""Unit-cube points, their snapping to feasible values, and the GP's input features.

A *point* is a row of ``SearchSpace.encode``: one position in [0, 1] per range.
Integer and Discrete positions are snapped to the positions of their actual values
and Categorical positions to the centre of their value's slice, so every snapped
point decodes to exactly one configuration and back. The GP sees *features*: the
numeric positions as they are and each categorical as a one-hot block scaled so
that two different categories are at squared distance 1 (a Hamming distance under
one shared length scale).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modeltune.space import CategoricalRange, ContinuousRange, SearchSpace

# Integer ranges with more values than this are optimised as continuous and snapped value by value.
_MAX_TABULATED = 20_000
# Finite spaces with at most this many configurations are scored exhaustively.
_MAX_ENUMERATED = 3000


@dataclass(frozen=True)
class _Axis:
    """How one range's position is snapped: ``kind`` is continuous, grid, fine or categorical."""

    kind: str
    positions: np.ndarray = field(default_factory=lambda: np.empty(0))  # grid: unit positions of the values
    cuts: np.ndarray = field(default_factory=lambda: np.empty(0))  # grid: thresholds between consecutive values
    size: int = 0  # categorical: number of values; grid: number of values


class Encoding:
    """Snapping and feature maps for one search space.

    Args:
        space: the tuned ranges.
    """

    def __init__(self, space: SearchSpace):
        self.space = space
        self.axes = [_make_axis(space.ranges[name]) for name in space.names]
        self.dim = len(self.axes)
        self.continuous = np.array([a.kind in ("continuous", "fine") for a in self.axes])
        # Feature columns of each range; a range's columns share one length scale.
        self.groups: list[np.ndarray] = []
        start = 0
        for axis in self.axes:
            width = axis.size if axis.kind == "categorical" else 1
            self.groups.append(np.arange(start, start + width))
            start += width
        self.n_features = start
        self.group_of_feature = np.concatenate([np.full(len(g), i) for i, g in enumerate(self.groups)])

    def snap(self, points: np.ndarray) -> np.ndarray:
        """Feasible points nearest (in decoding) to ``points``, shape ``(n, dim)``."""
        out = np.clip(np.asarray(points, dtype=float), 0.0, 1.0).copy()
        for j, axis in enumerate(self.axes):
            if axis.kind == "grid":
                out[:, j] = axis.positions[np.searchsorted(axis.cuts, out[:, j], side="right")]
            elif axis.kind == "categorical":
                index = np.minimum(axis.size - 1, np.floor(out[:, j] * axis.size))
                out[:, j] = (index + 0.5) / axis.size
            elif axis.kind == "fine":
                r = self.space.ranges[self.space.names[j]]
                out[:, j] = [r.to_unit(r.from_unit(u)) for u in out[:, j]]
        return out

    def features(self, points: np.ndarray) -> np.ndarray:
        """GP inputs of snapped points, shape ``(n, n_features)``."""
        points = np.atleast_2d(points)
        out = np.zeros((len(points), self.n_features))
        for j, (axis, cols) in enumerate(zip(self.axes, self.groups, strict=True)):
            if axis.kind == "categorical":
                index = np.minimum(axis.size - 1, np.floor(points[:, j] * axis.size)).astype(int)
                out[np.arange(len(points)), cols[index]] = math.sqrt(0.5)
            else:
                out[:, cols[0]] = points[:, j]
        return out

    def choices(self, j: int) -> np.ndarray:
        """Every feasible position of the non-continuous range ``j``."""
        axis = self.axes[j]
        if axis.kind == "categorical":
            return (np.arange(axis.size) + 0.5) / axis.size
        return axis.positions

    def enumerate(self) -> np.ndarray | None:
        """Every feasible point when the space is finite and small, else None."""
        size = self.space.size
        if size is None or size > _MAX_ENUMERATED or any(a.kind == "fine" for a in self.axes):
            return None
        return np.array(list(itertools.product(*(self.choices(j) for j in range(self.dim)))), dtype=float)


def _make_axis(r: Any) -> _Axis:
    if isinstance(r, ContinuousRange):
        return _Axis("continuous")
    if isinstance(r, CategoricalRange):
        return _Axis("categorical", size=len(r.values))
    if r.type == "Integer":
        if r.cardinality > _MAX_TABULATED:
            return _Axis("fine")
        values = np.arange(r.min, r.max + 1)
        positions = np.array([r.to_unit(v) for v in values])
        # from_unit rounds in value space, so the thresholds are the positions of the half-way values.
        cuts = np.array([r.to_unit(v + 0.5) for v in values[:-1]])
        return _Axis("grid", positions, cuts, len(values))
    positions = np.array([r.to_unit(v) for v in r.values])  # Discrete: from_unit picks the nearest position
    return _Axis("grid", positions, (positions[1:] + positions[:-1]) / 2, len(positions))
