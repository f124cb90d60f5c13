"""Hyperparameter ranges, scaling, and the unit-cube encoding strategies work in."""

from modeltune.space.ranges import (
    CategoricalRange,
    ContinuousRange,
    DiscreteRange,
    IntegerRange,
    Range,
)
from modeltune.space.search_space import SearchSpace

__all__ = ["CategoricalRange", "ContinuousRange", "DiscreteRange", "IntegerRange", "Range", "SearchSpace"]
