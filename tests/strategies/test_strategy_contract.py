"""What every strategy promises, checked for each one in ``STRATEGIES`` (a new strategy gets these for free)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from modeltune.core import Observation, TrainingJobStatus
from modeltune.space import SearchSpace
from modeltune.strategies import STRATEGIES, Strategy, make_strategy

# Every range kind and scaling; continuous ranges carry grid_points so that Grid can run too.
MIXED = {
    "lr": {"type": "Continuous", "min": 1e-4, "max": 1e-1, "scaling": "Logarithmic", "grid_points": 3},
    "momentum": {"type": "Continuous", "min": 0.5, "max": 0.99, "scaling": "ReverseLogarithmic", "grid_points": 2},
    "layers": {"type": "Integer", "min": 1, "max": 4},
    "optimizer": {"type": "Categorical", "values": ["adam", "sgd", "rmsprop"]},
    "batch": {"type": "Discrete", "values": [16, 32, 64, 128], "scaling": "Logarithmic"},
}
FINITE = {
    "layers": {"type": "Integer", "min": 1, "max": 3},
    "optimizer": {"type": "Categorical", "values": ["adam", "sgd"]},
}
OPTIONS: dict[str, dict[str, Any]] = {"Hyperband": {"min_resource": 1, "max_resource": 9}}


def strategy(name: str, ranges: dict[str, Any], seed: int = 3, objective: str = "Minimize") -> Strategy:
    return make_strategy(name, SearchSpace(ranges), objective, seed, **OPTIONS.get(name, {}))


def loss(hp: dict[str, Any]) -> float:
    """A smooth function of every hyperparameter kind (of those the space has)."""
    category = {"adam": 0.0, "sgd": 0.3, "rmsprop": 0.6}[hp["optimizer"]]
    continuous = (math.log10(hp.get("lr", 1e-2)) + 2.5) ** 2 + (hp.get("momentum", 0.9) - 0.9) ** 2
    return continuous + 0.1 * hp["layers"] + category


def history_of(space: SearchSpace, configs: list[dict[str, Any]], running: int = 0) -> list[Observation]:
    """``configs`` as finished training jobs scored by ``loss`` (the last ``running`` still running),
    with one failure among them."""
    history = []
    for number, hp in enumerate(configs, start=1):
        if number > len(configs) - running:
            history.append(Observation(hp, TrainingJobStatus.IN_PROGRESS, number=number))
        elif number == 2:
            history.append(Observation(hp, TrainingJobStatus.FAILED, number=number))
        else:
            value = loss(hp)
            history.append(Observation(hp, TrainingJobStatus.COMPLETED, value, curve=((1.0, value),), number=number))
    return history


def grown_history(name: str, size: int, running: int = 0) -> list[Observation]:
    """A history built by the strategy's own suggestions, as a tuning job would build it."""
    configs: list[dict[str, Any]] = []
    while len(configs) < size:
        configs += strategy(name, MIXED).suggest(history_of(SearchSpace(MIXED), configs), 1)
    return history_of(SearchSpace(MIXED), configs, running)


@pytest.fixture(params=sorted(STRATEGIES))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_same_seed_and_history_give_the_same_suggestions(name: str) -> None:
    history = grown_history(name, 12, running=2)

    first = strategy(name, MIXED).suggest(history, 3)
    second = strategy(name, MIXED).suggest(list(history), 3)

    assert first == second and len(first) == 3


def test_suggestions_are_values_of_their_ranges(name: str) -> None:
    space = SearchSpace(MIXED)
    suggestions = strategy(name, MIXED).suggest(grown_history(name, 12, running=1), 4)

    assert len(suggestions) == 4
    for hp in suggestions:
        assert set(hp) == set(MIXED)
        assert 1e-4 <= hp["lr"] <= 1e-1 and 0.5 <= hp["momentum"] <= 0.99
        assert isinstance(hp["layers"], int) and 1 <= hp["layers"] <= 4
        assert hp["optimizer"] in ("adam", "sgd", "rmsprop") and hp["batch"] in (16, 32, 64, 128)
        assert space.decode(space.encode(hp)) == hp


def test_a_finite_space_is_covered_without_repeats_then_reported_exhausted(name: str) -> None:
    space = SearchSpace(FINITE)
    configs: list[dict[str, Any]] = []
    for _ in range(10):
        batch = strategy(name, FINITE).suggest(history_of(space, configs, running=1), 2)
        if not batch:
            break
        configs += batch

    keys = [space.key(hp) for hp in configs]
    assert len(keys) == len(set(keys)) == 6
    assert strategy(name, FINITE).suggest(history_of(space, configs), 1) == []


def test_a_parallel_batch_has_no_repeated_configuration(name: str) -> None:
    space = SearchSpace(MIXED)
    batch = strategy(name, MIXED).suggest(grown_history(name, 10, running=3), 5)

    assert len({space.key(hp) for hp in batch}) == 5


def test_parents_configurations_are_not_suggested_again_for_identical_data(name: str) -> None:
    space = SearchSpace(FINITE)
    parents = [
        Observation(hp, TrainingJobStatus.COMPLETED, float(i), source="parent")
        for i, hp in enumerate(list(space.grid())[:4])
    ]

    suggestions = strategy(name, FINITE).suggest(parents, 6)

    assert {space.key(hp) for hp in suggestions} == {space.key(hp) for hp in list(space.grid())[4:]}


def test_the_objective_direction_is_respected_by_model_based_strategies() -> None:
    # Maximizing -loss must give what minimizing loss gives: the direction enters only through loss().
    configs = [hp for o in grown_history("Bayesian", 12) for hp in [o.hyperparameters]]
    space = SearchSpace(MIXED)
    minimized = history_of(space, configs)
    maximized = [
        Observation(
            o.hyperparameters, o.status, None if o.objective is None else -o.objective, curve=o.curve, number=o.number
        )
        for o in minimized
    ]

    assert strategy("Bayesian", MIXED).suggest(minimized, 2) == strategy(
        "Bayesian", MIXED, objective="Maximize"
    ).suggest(maximized, 2)
