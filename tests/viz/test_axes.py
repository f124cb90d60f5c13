"""One axis per hyperparameter spans every compared job's range."""

from __future__ import annotations

import pytest

from modeltune.errors import ModeltuneError
from modeltune.space import CategoricalRange, ContinuousRange, DiscreteRange, IntegerRange
from modeltune.viz.axes import union_range


def test_numeric_ranges_span_both_and_keep_the_scaling_where_it_still_applies() -> None:
    narrow = ContinuousRange(min=1e-3, max=1e-2, scaling="Logarithmic")

    assert union_range("lr", narrow, ContinuousRange(min=1e-4, max=1e-1)) == ContinuousRange(
        min=1e-4, max=1e-1, scaling="Logarithmic"
    )
    assert union_range("lr", narrow, ContinuousRange(min=0.0, max=1.0)).scaling == "Auto"
    assert union_range("k", IntegerRange(min=2, max=5), IntegerRange(min=1, max=3)) == IntegerRange(min=1, max=5)
    assert union_range("k", IntegerRange(min=2, max=5), ContinuousRange(min=0.5, max=3.0)) == ContinuousRange(
        min=0.5, max=5.0
    )
    assert union_range("b", DiscreteRange(values=[16, 64]), DiscreteRange(values=[32, 64, 128])).values == [
        16,
        32,
        64,
        128,
    ]


def test_categories_are_joined_in_order_and_a_change_of_kind_is_refused() -> None:
    joined = union_range("opt", CategoricalRange(values=["adam", "sgd"]), CategoricalRange(values=["sgd", "rmsprop"]))
    assert joined.values == ["adam", "sgd", "rmsprop"]

    with pytest.raises(ModeltuneError, match="'opt' is Categorical in one job and Integer in another"):
        union_range("opt", CategoricalRange(values=["adam"]), IntegerRange(min=1, max=2))
