"""Typed hyperparameter ranges and their mapping to and from the unit interval.

Every range maps a value to a position ``u`` in ``[0, 1]`` through its scaling
(``to_unit``) and back (``from_unit``); strategies work on those positions so
that "uniform in u" means "uniform in the range's scaling".
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

# ReverseLogarithmic is SageMaker's (dense near 1, inside [0, 1)); MirroredLogarithmic is Cloud ML's and
# Vertex AI's UNIT_REVERSE_LOG_SCALE: Logarithmic mirrored within [min, max], dense near max, min > 0.
Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic", "MirroredLogarithmic"]
CategoryValue = str | int | float | bool
# Numbers in specs: an integer field takes no true/false, 3.0 or "3"; a real one takes integers too.
WholeNumber = Annotated[int, Strict()]
RealNumber = Annotated[float, Strict()]
# Grid search tries at most this many combinations.
MAX_GRID = 1_000_000

# Auto picks logarithmic scaling when a positive range spans this many orders of magnitude.
AUTO_LOG_RATIO = 1000.0


class _RangeBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def to_unit(self, value: Any) -> float:
        """Position of ``value`` in [0, 1] under this range's scaling."""
        raise NotImplementedError

    def from_unit(self, u: float) -> Any:
        """The value at position ``u`` in [0, 1], of this range's Python type."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> Any:
        """A value drawn uniformly in this range's scaling."""
        return self.from_unit(float(rng.random()))

    @property
    def cardinality(self) -> int | None:
        """Number of distinct values, or None for a continuous range."""
        return None

    def grid_values(self) -> list[Any]:
        """The values Grid search tries, in order."""
        raise NotImplementedError

    @property
    def grid_count(self) -> int | None:
        """How many values Grid search tries (None: a continuous range without ``grid_points``)."""
        return self.cardinality


class _NumericRange(_RangeBase):
    min: RealNumber
    max: RealNumber
    scaling: Scaling = "Auto"

    @model_validator(mode="after")
    def _check_bounds(self) -> _NumericRange:
        if not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be less than max ({self.max})")
        if self.scaling == "Logarithmic" and self.min <= 0:
            raise ValueError(f"Logarithmic scaling needs min > 0, got min {self.min}; use Linear or raise min")
        if self.scaling == "MirroredLogarithmic" and self.min <= 0:
            raise ValueError(f"MirroredLogarithmic scaling needs min > 0, got min {self.min}; use Linear or raise min")
        if self.scaling == "ReverseLogarithmic" and not (0 <= self.min and self.max < 1):
            raise ValueError(
                f"ReverseLogarithmic scaling needs 0 <= min and max < 1, got [{self.min}, {self.max}]; use Linear"
            )
        return self

    @cached_property
    def effective_scaling(self) -> str:
        """The scaling in use: Auto resolves to Logarithmic for wide positive ranges, else Linear."""
        if self.scaling != "Auto":
            return self.scaling
        if self.min > 0 and self.max / self.min >= AUTO_LOG_RATIO:
            return "Logarithmic"
        return "Linear"

    def _warp(self, x: float) -> float:
        scaling = self.effective_scaling
        if scaling == "Logarithmic":
            return math.log(x)
        if scaling == "ReverseLogarithmic":
            return -math.log(1.0 - x)
        if scaling == "MirroredLogarithmic":
            return -math.log(self._mirror - x)
        return x

    def _unwarp(self, w: float) -> float:
        scaling = self.effective_scaling
        if scaling == "Logarithmic":
            return math.exp(w)
        if scaling == "ReverseLogarithmic":
            return 1.0 - math.exp(-w)
        if scaling == "MirroredLogarithmic":
            return self._mirror - math.exp(-w)
        return w

    @cached_property
    def _mirror(self) -> float:
        """The point MirroredLogarithmic reflects about (the span's min + max): its ends map to log(max), log(min)."""
        lo, hi = self._span()
        return lo + hi

    def _span(self) -> tuple[float, float]:
        """The interval, in this range's own units, that [0, 1] maps onto."""
        return float(self.min), float(self.max)

    @cached_property
    def _warped_span(self) -> tuple[float, float]:
        """``_span()`` under the scaling (computed once: encoding runs per training job and coordinate)."""
        lo, hi = self._span()
        return self._warp(lo), self._warp(hi)

    def _numeric_to_unit(self, x: float) -> float:
        lo, hi = self._warped_span
        return min(1.0, max(0.0, (self._warp(float(x)) - lo) / (hi - lo)))

    def _numeric_from_unit(self, u: float) -> float:
        lo, hi = self._warped_span
        x = self._unwarp(lo + min(1.0, max(0.0, u)) * (hi - lo))
        return min(self.max, max(self.min, x))


class ContinuousRange(_NumericRange):
    """A float range. ``grid_points`` sets how many values Grid search tries."""

    type: Literal["Continuous"] = "Continuous"
    grid_points: WholeNumber | None = Field(default=None, ge=2, le=MAX_GRID)

    def to_unit(self, value: Any) -> float:
        return self._numeric_to_unit(float(value))

    def from_unit(self, u: float) -> float:
        return float(self._numeric_from_unit(u))

    @property
    def grid_count(self) -> int | None:
        return self.grid_points

    def grid_values(self) -> list[float]:
        if self.grid_points is None:
            raise ValueError("Grid search needs grid_points for a Continuous range, e.g. grid_points: 5")
        return [self.from_unit(i / (self.grid_points - 1)) for i in range(self.grid_points)]


class IntegerRange(_NumericRange):
    """An integer range, bounds included.

    Each integer owns an equal slice of [0, 1] under the scaling: [0, 1] maps onto
    ``[min - 0.5, max + 0.5]``, so uniform positions give every value its fair share.
    """

    type: Literal["Integer"] = "Integer"
    min: WholeNumber
    max: WholeNumber

    def _span(self) -> tuple[float, float]:
        return self.min - 0.5, self.max + 0.5

    def to_unit(self, value: Any) -> float:
        return self._numeric_to_unit(float(value))

    def from_unit(self, u: float) -> int:
        return int(min(self.max, max(self.min, round(self._numeric_from_unit(u)))))

    @property
    def cardinality(self) -> int:
        return self.max - self.min + 1

    def grid_values(self) -> list[int]:
        return list(range(self.min, self.max + 1))


class CategoricalRange(_RangeBase):
    """An unordered set of values; position ``u`` picks one of ``k`` equal slices."""

    type: Literal["Categorical"] = "Categorical"
    values: list[CategoryValue] = Field(max_length=100_000)

    @model_validator(mode="after")
    def _check_values(self) -> CategoricalRange:
        if not self.values:
            raise ValueError("values must not be empty")
        seen = [repr(v) for v in self.values]
        duplicates = sorted({v for v in seen if seen.count(v) > 1})
        if duplicates:
            raise ValueError(f"values must be unique, repeated: {', '.join(duplicates)}")
        return self

    def index(self, value: Any) -> int:
        """Index of ``value`` among the values (matching by value, then by its text)."""
        for i, candidate in enumerate(self.values):
            if candidate == value and type(candidate) is type(value):
                return i
        texts = [str(v) for v in self.values]
        if str(value) in texts:
            return texts.index(str(value))
        raise ValueError(f"{value!r} is not one of {self.values}")

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.values)

    def from_unit(self, u: float) -> CategoryValue:
        return self.values[min(len(self.values) - 1, int(max(0.0, u) * len(self.values)))]

    @property
    def cardinality(self) -> int:
        return len(self.values)

    def grid_values(self) -> list[CategoryValue]:
        return list(self.values)


class DiscreteRange(_RangeBase):
    """An ordered set of numbers (Cloud ML's DISCRETE), placed by the range's scaling."""

    type: Literal["Discrete"] = "Discrete"
    values: list[WholeNumber | RealNumber] = Field(max_length=100_000)
    scaling: Scaling = "Auto"

    @model_validator(mode="after")
    def _check_values(self) -> DiscreteRange:
        if len(self.values) < 2:
            raise ValueError("a Discrete range needs at least two values")
        if any(b <= a for a, b in zip(self.values, self.values[1:])):
            raise ValueError("Discrete values must be strictly increasing")
        self._axis()  # validates the scaling against the values
        return self

    def _axis(self) -> _NumericRange:
        return _NumericRange(min=self.values[0], max=self.values[-1], scaling=self.scaling)

    def to_unit(self, value: Any) -> float:
        return self._axis()._numeric_to_unit(float(value))

    def from_unit(self, u: float) -> float | int:
        positions = [self.to_unit(v) for v in self.values]
        nearest = min(range(len(self.values)), key=lambda i: abs(positions[i] - u))
        return self.values[nearest]

    @property
    def cardinality(self) -> int:
        return len(self.values)

    def grid_values(self) -> list[float | int]:
        return list(self.values)


Range = Annotated[
    ContinuousRange | IntegerRange | CategoricalRange | DiscreteRange,
    Field(discriminator="type"),
]
