"""How hyperparameters are drawn: one axis each, spanning every compared job's range."""

from __future__ import annotations

from dataclasses import dataclass

from modeltune.errors import ModeltuneError
from modeltune.space import CategoricalRange, ContinuousRange, DiscreteRange, IntegerRange, Range
from modeltune.space.ranges import Scaling


@dataclass(frozen=True)
class Axis:
    """How one hyperparameter is drawn: its name, its range and whether the axis is logarithmic."""

    name: str
    range: Range

    @property
    def categorical(self) -> bool:
        """True for categorical ranges (drawn as strips)."""
        return isinstance(self.range, CategoricalRange)

    @property
    def log(self) -> bool:
        """True when the range searches on a log scale, so the axis is logarithmic too."""
        r = self.range
        if isinstance(r, DiscreteRange):
            r = ContinuousRange(min=r.values[0], max=r.values[-1], scaling=r.scaling)
        return getattr(r, "effective_scaling", "Linear") == "Logarithmic"


def union_range(name: str, first: Range, second: Range) -> Range:
    """A range holding both (jobs compared in one chart may have narrowed or widened a range).

    Categorical values are joined in order of appearance; numeric ranges span both, as
    Continuous when their types differ, keeping the first's scaling where it still applies.

    Raises:
        ModeltuneError: one range is categorical and the other numeric.
    """
    if isinstance(first, CategoricalRange) and isinstance(second, CategoricalRange):
        return CategoricalRange(values=[*first.values, *(v for v in second.values if v not in first.values)])
    if isinstance(first, CategoricalRange) or isinstance(second, CategoricalRange):
        raise ModeltuneError(
            f"hyperparameter {name!r} is {first.type} in one job and {second.type} in another; "
            "plot those jobs separately"
        )
    low, high = min(_low(first), _low(second)), max(_high(first), _high(second))
    scaling = _scaling(first.scaling, low, high)
    if isinstance(first, DiscreteRange) and isinstance(second, DiscreteRange):
        return DiscreteRange(values=sorted(set(first.values) | set(second.values)), scaling=scaling)
    if isinstance(first, IntegerRange) and isinstance(second, IntegerRange):
        return IntegerRange(min=int(low), max=int(high), scaling=scaling)
    return ContinuousRange(min=low, max=high, scaling=scaling)


def _low(r: Range) -> float:
    return float(r.values[0]) if isinstance(r, DiscreteRange) else float(r.min)  # type: ignore[union-attr]


def _high(r: Range) -> float:
    return float(r.values[-1]) if isinstance(r, DiscreteRange) else float(r.max)  # type: ignore[union-attr]


def _scaling(scaling: Scaling, low: float, high: float) -> Scaling:
    """``scaling`` unless the union's bounds rule it out (then Auto)."""
    if scaling in ("Logarithmic", "MirroredLogarithmic") and low <= 0:
        return "Auto"
    if scaling == "ReverseLogarithmic" and not (0 <= low and high < 1):
        return "Auto"
    return scaling
