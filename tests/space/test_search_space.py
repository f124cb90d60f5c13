"""SearchSpace: building from spec dicts, encode/decode, grids, size, key and canonical values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pydantic import ValidationError

from modeltune.space import CategoricalRange, ContinuousRange, IntegerRange, SearchSpace

SPACE_SPEC = {
    "lr": {"type": "Continuous", "min": 1e-5, "max": 1e-1},
    "layers": {"type": "Integer", "min": 1, "max": 8},
    "optimizer": {"type": "Categorical", "values": ["adam", "sgd", "rmsprop"]},
    "batch": {"type": "Discrete", "values": [16, 32, 64, 128]},
}


@pytest.fixture
def space() -> SearchSpace:
    return SearchSpace(SPACE_SPEC)


def test_builds_typed_ranges_from_spec_dicts_in_order(space: SearchSpace) -> None:
    assert space.names == ["lr", "layers", "optimizer", "batch"]
    assert len(space) == 4
    assert isinstance(space.ranges["lr"], ContinuousRange)
    assert space.ranges["lr"].effective_scaling == "Logarithmic"
    assert isinstance(space.ranges["layers"], IntegerRange)
    assert space.categorical_names() == ["optimizer"]


def test_accepts_range_objects() -> None:
    space = SearchSpace({"x": IntegerRange(min=0, max=3)})
    assert space.grid_size() == 4


def test_empty_space_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one hyperparameter range is needed"):
        SearchSpace({})


def test_bad_range_dict_is_rejected() -> None:
    with pytest.raises(ValidationError):
        SearchSpace({"x": {"type": "Continuous", "min": 2, "max": 1}})
    with pytest.raises(ValidationError):
        SearchSpace({"x": {"type": "Float", "min": 0, "max": 1}})


@given(point=arrays(np.float64, 4, elements=st.floats(0.0, 1.0)))
def test_decode_gives_python_values_in_range_and_reencodes_to_the_same_values(point: np.ndarray) -> None:
    space = SearchSpace(SPACE_SPEC)
    config = space.decode(point)
    assert type(config["lr"]) is float and 1e-5 <= config["lr"] <= 1e-1
    assert type(config["layers"]) is int and 1 <= config["layers"] <= 8
    assert config["optimizer"] in ("adam", "sgd", "rmsprop")
    assert config["batch"] in (16, 32, 64, 128) and type(config["batch"]) is int
    encoded = space.encode(config)
    assert encoded.shape == (4,)
    assert ((encoded >= 0) & (encoded <= 1)).all()
    assert encoded[0] == pytest.approx(point[0], abs=1e-9)  # continuous: exact position
    assert space.decode(encoded) == pytest.approx(config)  # the rest: same values back


def test_encode_of_spec_values(space: SearchSpace) -> None:
    encoded = space.encode({"lr": 1e-3, "layers": 8, "optimizer": "sgd", "batch": 16})
    # layers [1, 8]: each integer owns an eighth of [0, 1], and 8 sits in the middle of the last one.
    assert encoded.tolist() == pytest.approx([0.5, 15 / 16, 0.5, 0.0])


def test_sample_is_seeded(space: SearchSpace) -> None:
    a = space.sample(np.random.default_rng(3))
    b = space.sample(np.random.default_rng(3))
    assert a == b
    assert set(a) == set(SPACE_SPEC)


def test_size_counts_configurations_or_is_none_when_continuous(space: SearchSpace) -> None:
    assert space.size is None
    finite = SearchSpace({k: v for k, v in SPACE_SPEC.items() if k != "lr"})
    assert finite.size == 8 * 3 * 4


def test_grid_enumerates_every_combination_in_order() -> None:
    space = SearchSpace(
        {
            "a": {"type": "Integer", "min": 1, "max": 2},
            "b": {"type": "Categorical", "values": ["x", "y", "z"]},
            "c": {"type": "Continuous", "min": 0, "max": 1, "scaling": "Linear", "grid_points": 2},
        }
    )
    grid = list(space.grid())
    assert space.grid_size() == len(grid) == 12
    assert grid[0] == {"a": 1, "b": "x", "c": 0.0}
    assert grid[1] == {"a": 1, "b": "x", "c": 1.0}
    assert grid[-1] == {"a": 2, "b": "z", "c": 1.0}
    assert len({space.key(c) for c in grid}) == 12


def test_grid_needs_grid_points_for_continuous(space: SearchSpace) -> None:
    with pytest.raises(ValueError, match="grid_points"):
        space.grid_size()


def test_key_identifies_a_configuration_whatever_the_value_text(space: SearchSpace) -> None:
    config = {"lr": 0.01, "layers": 3, "optimizer": "adam", "batch": 32}
    same_as_text = {"lr": "0.01", "layers": "3", "optimizer": "adam", "batch": "32", "ignored": "static"}
    assert space.key(config) == space.key(same_as_text)
    assert space.key(config) != space.key({**config, "layers": 4})
    assert hash(space.key(config)) == hash(space.key(same_as_text))


def test_canonical_converts_to_each_range_type(space: SearchSpace) -> None:
    assert space.canonical("layers", "3") == 3 and type(space.canonical("layers", "3")) is int
    assert space.canonical("lr", "0.5") == 0.5 and type(space.canonical("lr", 1)) is float
    assert space.canonical("batch", "60") == 64
    assert space.canonical("optimizer", "sgd") == "sgd"


def test_canonical_categorical_uses_the_listed_value() -> None:
    space = SearchSpace({"flag": CategoricalRange(values=[True, False]), "n": CategoricalRange(values=[1, 2])})
    assert space.canonical("flag", "False") is False
    assert space.canonical("n", "2") == 2 and type(space.canonical("n", "2")) is int
    with pytest.raises(ValueError, match="is not one of"):
        space.canonical("n", 3)
