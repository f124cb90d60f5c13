"""Ranges: validation, scaling, unit-interval round trips and grid values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from modeltune.space import CategoricalRange, ContinuousRange, DiscreteRange, IntegerRange

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _error(exc_info: pytest.ExceptionInfo[ValidationError]) -> str:
    errors = exc_info.value.errors()
    assert len(errors) == 1
    return errors[0]["msg"].removeprefix("Value error, ")


# --- validation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [ContinuousRange, IntegerRange])
@pytest.mark.parametrize(("low", "high"), [(1, 1), (5, 2)])
def test_min_must_be_below_max(cls: type, low: int, high: int) -> None:
    with pytest.raises(ValidationError) as exc_info:
        cls(min=low, max=high)
    assert _error(exc_info).startswith("min (") and "must be less than max" in _error(exc_info)


@pytest.mark.parametrize("low", [0.0, -1.0])
def test_logarithmic_needs_positive_min(low: float) -> None:
    with pytest.raises(ValidationError) as exc_info:
        ContinuousRange(min=low, max=1.0, scaling="Logarithmic")
    assert _error(exc_info) == f"Logarithmic scaling needs min > 0, got min {low}; use Linear or raise min"


@pytest.mark.parametrize(("low", "high"), [(-0.1, 0.5), (0.0, 1.0), (0.5, 2.0)])
def test_reverse_logarithmic_needs_min_at_least_zero_and_max_below_one(low: float, high: float) -> None:
    with pytest.raises(ValidationError) as exc_info:
        ContinuousRange(min=low, max=high, scaling="ReverseLogarithmic")
    assert _error(exc_info) == (
        f"ReverseLogarithmic scaling needs 0 <= min and max < 1, got [{low}, {high}]; use Linear"
    )


def test_reverse_logarithmic_accepts_zero_min() -> None:
    r = ContinuousRange(min=0.0, max=0.999, scaling="ReverseLogarithmic")
    assert r.effective_scaling == "ReverseLogarithmic"


def test_categorical_values_must_not_be_empty() -> None:
    with pytest.raises(ValidationError) as exc_info:
        CategoricalRange(values=[])
    assert _error(exc_info) == "values must not be empty"


def test_categorical_values_must_be_unique() -> None:
    with pytest.raises(ValidationError) as exc_info:
        CategoricalRange(values=["adam", "sgd", "adam", 3, 3])
    assert _error(exc_info) == "values must be unique, repeated: 'adam', 3"


def test_categorical_values_of_different_types_are_distinct() -> None:
    # "1", 1 and True are passed to training code differently, so they are different choices.
    r = CategoricalRange(values=["1", 1, True])
    assert r.cardinality == 3


@pytest.mark.parametrize("values", [[1, 3, 2], [1, 1, 2], [3, 2]])
def test_discrete_values_must_strictly_increase(values: list[int]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        DiscreteRange(values=values)
    assert _error(exc_info) == "Discrete values must be strictly increasing"


@pytest.mark.parametrize("values", [[], [4]])
def test_discrete_needs_two_values(values: list[int]) -> None:
    with pytest.raises(ValidationError) as exc_info:
        DiscreteRange(values=values)
    assert _error(exc_info) == "a Discrete range needs at least two values"


def test_discrete_scaling_is_checked_against_its_values() -> None:
    with pytest.raises(ValidationError, match="Logarithmic scaling needs min > 0"):
        DiscreteRange(values=[0, 1, 10], scaling="Logarithmic")


def test_unknown_fields_and_scalings_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ContinuousRange(min=0, max=1, scaling="Exponential")
    with pytest.raises(ValidationError):
        IntegerRange(min=0, max=1, step=2)


def test_ranges_are_immutable() -> None:
    r = ContinuousRange(min=0, max=1)
    with pytest.raises(ValidationError):
        r.min = 0.5  # type: ignore[misc]


# --- scaling ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1e-4, 1e-1, "Logarithmic"),  # exactly three orders of magnitude
        (1.0, 999.0, "Linear"),
        (1e-3, 10.0, "Logarithmic"),
        (0.0, 1e6, "Linear"),  # not positive
        (-1.0, 1e6, "Linear"),
    ],
)
def test_auto_scaling_picks_log_for_wide_positive_ranges(low: float, high: float, expected: str) -> None:
    assert ContinuousRange(min=low, max=high).effective_scaling == expected


def test_auto_on_integer_range_uses_the_same_rule() -> None:
    assert IntegerRange(min=1, max=1000).effective_scaling == "Logarithmic"
    assert IntegerRange(min=1, max=999).effective_scaling == "Linear"


def test_linear_midpoint() -> None:
    r = ContinuousRange(min=-2.0, max=6.0, scaling="Linear")
    assert r.from_unit(0.5) == pytest.approx(2.0)
    assert r.to_unit(4.0) == pytest.approx(0.75)


def test_logarithmic_midpoint_is_the_geometric_mean() -> None:
    r = ContinuousRange(min=1e-4, max=1.0, scaling="Logarithmic")
    assert r.from_unit(0.5) == pytest.approx(1e-2)
    assert r.to_unit(1e-3) == pytest.approx(0.25)


def test_auto_log_range_behaves_like_logarithmic() -> None:
    auto = ContinuousRange(min=1e-5, max=1.0)
    log = ContinuousRange(min=1e-5, max=1.0, scaling="Logarithmic")
    for u in np.linspace(0, 1, 11):
        assert auto.from_unit(u) == pytest.approx(log.from_unit(u))


def test_reverse_logarithmic_spreads_values_near_one() -> None:
    r = ContinuousRange(min=0.9, max=0.9999, scaling="ReverseLogarithmic")
    # 1 - x is log-uniform: 0.1 -> 0.0001, so the middle is 1 - 0.01 ** 0.5 ... 1 - 10**-2.5
    assert r.from_unit(0.5) == pytest.approx(1 - 10**-2.5)
    assert r.to_unit(0.999) == pytest.approx(2 / 3)


def test_values_outside_the_range_clamp_to_the_unit_interval() -> None:
    r = ContinuousRange(min=1.0, max=2.0)
    assert r.to_unit(0.0) == 0.0
    assert r.to_unit(5.0) == 1.0
    assert r.from_unit(-0.5) == 1.0
    assert r.from_unit(1.5) == 2.0


# --- round trips ------------------------------------------------------------------------------------------------

CONTINUOUS = [
    ContinuousRange(min=-3.0, max=7.5, scaling="Linear"),
    ContinuousRange(min=1e-6, max=10.0, scaling="Logarithmic"),
    ContinuousRange(min=0.0, max=0.9999, scaling="ReverseLogarithmic"),
    ContinuousRange(min=1e-4, max=1.0),  # Auto -> Logarithmic
    ContinuousRange(min=-1.0, max=1.0),  # Auto -> Linear
]


@pytest.mark.parametrize("r", CONTINUOUS, ids=lambda r: f"{r.scaling}[{r.min},{r.max}]")
@given(u=unit)
def test_continuous_unit_round_trip(r: ContinuousRange, u: float) -> None:
    x = r.from_unit(u)
    assert type(x) is float
    assert r.min <= x <= r.max
    assert r.to_unit(x) == pytest.approx(u, abs=1e-9)


@pytest.mark.parametrize("r", CONTINUOUS, ids=lambda r: f"{r.scaling}[{r.min},{r.max}]")
def test_continuous_bounds_map_to_the_ends(r: ContinuousRange) -> None:
    assert r.from_unit(0.0) == pytest.approx(r.min)
    assert r.from_unit(1.0) == pytest.approx(r.max)
    assert r.to_unit(r.min) == pytest.approx(0.0)
    assert r.to_unit(r.max) == pytest.approx(1.0)


INTEGER = [
    IntegerRange(min=-5, max=5, scaling="Linear"),
    IntegerRange(min=1, max=4096, scaling="Logarithmic"),
    IntegerRange(min=1, max=10000),  # Auto -> Logarithmic
    IntegerRange(min=0, max=3),
]


@pytest.mark.parametrize("r", INTEGER, ids=lambda r: f"{r.scaling}[{r.min},{r.max}]")
@given(data=st.data())
def test_integer_value_round_trip(r: IntegerRange, data: st.DataObject) -> None:
    value = data.draw(st.integers(min_value=r.min, max_value=r.max))
    assert r.from_unit(r.to_unit(value)) == value


@pytest.mark.parametrize("r", INTEGER, ids=lambda r: f"{r.scaling}[{r.min},{r.max}]")
@given(u=unit)
def test_integer_decodes_to_int_within_bounds(r: IntegerRange, u: float) -> None:
    x = r.from_unit(u)
    assert type(x) is int
    assert r.min <= x <= r.max


def test_integer_positions_fall_in_equal_slices() -> None:
    r = IntegerRange(min=0, max=10, scaling="Linear")  # value v owns [v/11, (v+1)/11)
    assert r.from_unit(3.9 / 11) == 3
    assert r.from_unit(4.1 / 11) == 4
    assert r.from_unit(0.0) == 0
    assert r.from_unit(1.0) == 10
    assert r.cardinality == 11
    assert r.grid_values() == list(range(11))


def test_integer_values_get_equal_slices_of_the_unit_interval() -> None:
    r = IntegerRange(min=0, max=2, scaling="Linear")
    us = (np.arange(3000) + 0.5) / 3000
    counts = np.bincount([r.from_unit(float(u)) for u in us], minlength=3)
    assert counts.tolist() == pytest.approx([1000, 1000, 1000], abs=2)


@given(u=unit)
def test_categorical_slices(u: float) -> None:
    values = ["adam", "sgd", "rmsprop", "adagrad"]
    r = CategoricalRange(values=values)
    expected = values[min(3, int(u * 4))]
    assert r.from_unit(u) == expected


def test_categorical_positions_are_slice_centres_and_round_trip() -> None:
    r = CategoricalRange(values=["a", "b", "c", "d"])
    assert [r.to_unit(v) for v in r.values] == [0.125, 0.375, 0.625, 0.875]
    assert [r.from_unit(r.to_unit(v)) for v in r.values] == r.values
    assert r.from_unit(0.25) == "b"  # slices are [0, .25), [.25, .5), ...
    assert r.from_unit(1.0) == "d"
    assert r.from_unit(-0.1) == "a"


def test_categorical_keeps_python_types() -> None:
    r = CategoricalRange(values=["relu", 3, 0.5, True, False])
    decoded = [r.from_unit(r.to_unit(v)) for v in r.values]
    assert [type(v) for v in decoded] == [str, int, float, bool, bool]
    assert decoded == ["relu", 3, 0.5, True, False]


def test_categorical_index_matches_type_first_then_text() -> None:
    r = CategoricalRange(values=[1, True, "x"])
    assert r.index(True) == 1  # True == 1, but the bool value is the bool
    assert r.index(1) == 0
    assert r.index("True") == 1  # values read back from argv or JSON strings
    assert r.index("1") == 0
    with pytest.raises(ValueError, match="'y' is not one of"):
        r.index("y")


def test_discrete_decodes_to_nearest_listed_value_with_its_type() -> None:
    r = DiscreteRange(values=[1, 2, 4, 8.5], scaling="Linear")
    assert r.cardinality == 4
    assert [r.from_unit(r.to_unit(v)) for v in r.values] == [1, 2, 4, 8.5]
    assert type(r.from_unit(0.0)) is int
    assert type(r.from_unit(1.0)) is float
    # 3.1 is nearer 4 than 2 on the linear axis from 1 to 8.5
    assert r.from_unit(r.to_unit(3.1)) == 4


@given(u=unit)
def test_discrete_always_decodes_to_a_listed_value(u: float) -> None:
    r = DiscreteRange(values=[16, 32, 64, 128, 256])
    assert r.from_unit(u) in r.values


def test_discrete_auto_scaling_spaces_powers_of_ten_evenly() -> None:
    r = DiscreteRange(values=[1, 10, 100, 1000])
    assert [r.to_unit(v) for v in r.values] == pytest.approx([0, 1 / 3, 2 / 3, 1])


# --- grid values and sampling -----------------------------------------------------------------------------------


def test_continuous_grid_values_follow_the_scaling() -> None:
    assert ContinuousRange(min=0, max=1, scaling="Linear", grid_points=5).grid_values() == pytest.approx(
        [0, 0.25, 0.5, 0.75, 1]
    )
    assert ContinuousRange(min=1e-3, max=1e-1, scaling="Logarithmic", grid_points=3).grid_values() == pytest.approx(
        [1e-3, 1e-2, 1e-1]
    )


def test_continuous_grid_needs_grid_points() -> None:
    r = ContinuousRange(min=0, max=1)
    assert r.cardinality is None
    with pytest.raises(ValueError, match="Grid search needs grid_points for a Continuous range"):
        r.grid_values()


def test_grid_points_must_be_at_least_two() -> None:
    with pytest.raises(ValidationError):
        ContinuousRange(min=0, max=1, grid_points=1)


def test_categorical_and_discrete_grid_values_are_their_values_in_order() -> None:
    assert CategoricalRange(values=["b", "a", 3]).grid_values() == ["b", "a", 3]
    assert DiscreteRange(values=[0.1, 0.2, 0.5]).grid_values() == [0.1, 0.2, 0.5]


def test_sampling_is_reproducible_and_uniform_in_the_scaling() -> None:
    r = ContinuousRange(min=1e-4, max=1.0, scaling="Logarithmic")
    a = [r.sample(np.random.default_rng(7)) for _ in range(3)]
    b = [r.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a == b
    rng = np.random.default_rng(0)
    xs = np.array([r.sample(rng) for _ in range(4000)])
    # log-uniform: a quarter of the draws in each decade
    decades = np.histogram(np.log10(xs), bins=[-4, -3, -2, -1, 0])[0] / len(xs)
    assert decades == pytest.approx([0.25] * 4, abs=0.03)
    assert all(math.isfinite(x) and 1e-4 <= x <= 1.0 for x in xs)
