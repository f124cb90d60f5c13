"""What a benchmark problem is: ranges, a function to minimise, and what is known about it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Problem:
    """A minimisation problem over ranges in the spec's dict shape.

    Attributes:
        name: short identifier used in results files.
        kind: ``"synthetic"`` or ``"sklearn"``.
        ranges: name -> range dict, as a tuning-job spec writes it.
        func: the noise-free objective of a configuration.
        optimum: the known global minimum, or None when unknown.
        noise_sd: standard deviation of the Gaussian noise added to observed values.
        description: one line for the summary.
        right: for problems whose continuous optimum moves with categorical choices, the
            categorical values of the global optimum (the summary counts the seeds that end there).
        decoy: the value of the easy region that is not the optimum; the summary counts a seed
            only when its best is also better than that.
    """

    name: str
    kind: str
    ranges: dict[str, dict[str, Any]]
    func: Callable[[Mapping[str, Any]], float] = field(repr=False)
    optimum: float | None
    noise_sd: float = 0.0
    description: str = ""
    right: Mapping[str, Any] = field(default_factory=dict)
    decoy: float = float("inf")

    def in_right_categories(self, config: Mapping[str, Any]) -> bool:
        """True when ``config`` has the categorical values of the global optimum."""
        return bool(self.right) and all(config[k] == v for k, v in self.right.items())

    def evaluate(self, config: Mapping[str, Any], rng: np.random.Generator) -> tuple[float, float]:
        """The observed (possibly noisy) value and the noise-free value of ``config``."""
        true = float(self.func(config))
        observed = true + float(rng.normal(0.0, self.noise_sd)) if self.noise_sd else true
        return observed, true

    @property
    def dims(self) -> int:
        """Number of tuned hyperparameters."""
        return len(self.ranges)


def box(names: list[str], lo: float, hi: float) -> dict[str, dict[str, Any]]:
    """Linear continuous ranges with the same bounds."""
    return {n: {"type": "Continuous", "min": lo, "max": hi, "scaling": "Linear"} for n in names}


def log_range(lo: float, hi: float) -> dict[str, Any]:
    """A continuous range searched on a log scale."""
    return {"type": "Continuous", "min": lo, "max": hi, "scaling": "Logarithmic"}


def categorical(values: tuple[str, ...]) -> dict[str, Any]:
    """A categorical range."""
    return {"type": "Categorical", "values": list(values)}


def vector(config: Mapping[str, Any], n: int) -> np.ndarray:
    """``x0 .. x{n-1}`` of a configuration as an array."""
    return np.array([float(config[f"x{i}"]) for i in range(n)])
