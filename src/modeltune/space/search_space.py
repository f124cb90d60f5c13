"""A named collection of ranges: sampling, encoding to the unit cube, and grids."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from modeltune.space.ranges import CategoricalRange, Range

_RANGE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Range)


class SearchSpace:
    """The tuned hyperparameters of a tuning job, in a fixed order.

    Args:
        ranges: name -> range object, or name -> dict in the spec's shape
            (``{"type": "Integer", "min": 1, "max": 10}``).
    """

    def __init__(self, ranges: Mapping[str, Any]):
        if not ranges:
            raise ValueError("at least one hyperparameter range is needed")
        self.ranges: dict[str, Any] = {
            name: r if not isinstance(r, Mapping) else _RANGE_ADAPTER.validate_python(dict(r))
            for name, r in ranges.items()
        }
        self.names: list[str] = list(self.ranges)

    def __len__(self) -> int:
        return len(self.names)

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One configuration drawn uniformly in each range's scaling."""
        return {name: r.sample(rng) for name, r in self.ranges.items()}

    def encode(self, hyperparameters: Mapping[str, Any]) -> np.ndarray:
        """Unit-cube position of a configuration, shape ``(len(self),)``."""
        return np.array([self.ranges[n].to_unit(hyperparameters[n]) for n in self.names], dtype=float)

    def decode(self, point: np.ndarray) -> dict[str, Any]:
        """The configuration at a unit-cube position (integers rounded, categories picked)."""
        return {n: self.ranges[n].from_unit(float(u)) for n, u in zip(self.names, point)}

    def categorical_names(self) -> list[str]:
        """Names of the categorical ranges (unordered values)."""
        return [n for n, r in self.ranges.items() if isinstance(r, CategoricalRange)]

    @property
    def size(self) -> int | None:
        """Number of distinct configurations, or None when a range is continuous."""
        cards = [r.cardinality for r in self.ranges.values()]
        return None if any(c is None for c in cards) else math.prod(cards)

    def grid(self) -> Iterator[dict[str, Any]]:
        """Every combination of each range's grid values, in a fixed order."""
        axes = [self.ranges[n].grid_values() for n in self.names]
        for combo in itertools.product(*axes):
            yield dict(zip(self.names, combo))

    def grid_size(self) -> int:
        """Number of configurations ``grid()`` yields (counted without listing them)."""
        counts = [self.ranges[n].grid_count for n in self.names]
        if None in counts:
            raise ValueError("Grid search needs grid_points for a Continuous range, e.g. grid_points: 5")
        return math.prod(c or 0 for c in counts)

    def key(self, hyperparameters: Mapping[str, Any]) -> tuple[str, ...]:
        """A hashable identity of a configuration's tuned values (for duplicate checks)."""
        return tuple(repr(self.canonical(n, hyperparameters[n])) for n in self.names)

    def canonical(self, name: str, value: Any) -> Any:
        """``value`` as its range's own value (e.g. "3" -> 3 for an integer range)."""
        r = self.ranges[name]
        if isinstance(r, CategoricalRange):
            return r.values[r.index(value)]
        if r.type == "Integer":
            return int(round(float(value)))
        if r.type == "Discrete":
            return min(r.values, key=lambda v: abs(v - float(value)))
        return float(value)
