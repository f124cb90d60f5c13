"""MirroredLogarithmic: Cloud ML and Vertex AI's UNIT_REVERSE_LOG_SCALE, as their optimizer (Vizier) defines it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from modeltune.space.ranges import ContinuousRange, DiscreteRange, IntegerRange


def _vizier(x: float, low: float, high: float) -> float:
    """Vizier's reverse-log scaling: 1 - (log(low + high - x) - log(low)) / (log(high) - log(low))."""
    return 1.0 - (math.log(low + high - x) - math.log(low)) / (math.log(high) - math.log(low))


@pytest.mark.parametrize(("low", "high"), [(0.9, 0.9999), (1.0, 1000.0), (0.001, 0.5)])
def test_positions_are_vizier_reverse_log(low: float, high: float) -> None:
    r = ContinuousRange(min=low, max=high, scaling="MirroredLogarithmic")
    for x in np.linspace(low, high, 11):
        assert r.to_unit(x) == pytest.approx(_vizier(x, low, high), abs=1e-9)
        assert r.from_unit(r.to_unit(x)) == pytest.approx(x, rel=1e-9)


def test_uniform_positions_crowd_near_the_top() -> None:
    r = ContinuousRange(min=1.0, max=1000.0, scaling="MirroredLogarithmic")
    values = [r.from_unit(u) for u in np.linspace(0, 1, 101)]
    assert sum(v > 900 for v in values) > 60  # Logarithmic would put 98 of them below 900
    assert values[0] == pytest.approx(1.0) and values[-1] == pytest.approx(1000.0)


def test_integer_and_discrete_ranges_use_it_too() -> None:
    integers = IntegerRange(min=1, max=100, scaling="MirroredLogarithmic")
    assert [integers.from_unit(u) for u in (0.0, 1.0)] == [1, 100]
    assert integers.from_unit(0.5) > 80
    discrete = DiscreteRange(values=[1, 2, 4, 8], scaling="MirroredLogarithmic")
    assert discrete.to_unit(8) == 1.0 and discrete.to_unit(1) == 0.0


def test_it_needs_a_positive_min() -> None:
    with pytest.raises(ValidationError, match="MirroredLogarithmic scaling needs min > 0, got min 0"):
        ContinuousRange(min=0.0, max=1.0, scaling="MirroredLogarithmic")
