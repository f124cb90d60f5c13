"""Warm start in the Bayesian strategy: TransferLearning parents as a learned prior, identical parents as data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from modeltune import Optimizer
from modeltune.core import Observation
from modeltune.space import SearchSpace
from modeltune.strategies import make_strategy
from modeltune.strategies.bayesian.encoding import Encoding
from modeltune.strategies.bayesian.gp import GaussianProcess, Hyperparameters
from modeltune.strategies.bayesian.strategy import BayesianStrategy
from modeltune.strategies.bayesian.transfer import prior_weight

_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
RANGES = {f"x{i}": {"type": "Continuous", "min": 0.0, "max": 1.0} for i in range(3)}
Objective = Callable[[dict[str, Any]], float]


def hartmann3(hp: dict[str, Any], shift: float = 0.0) -> float:
    x = np.clip(np.array([hp[f"x{i}"] for i in range(3)]) + shift, 0.0, 1.0)
    return -float(np.array([1.0, 1.2, 3.0, 3.2]) @ np.exp(-(_A * (x - _P) ** 2).sum(1)))


def shifted(hp: dict[str, Any]) -> float:
    return hartmann3(hp, 0.1)


def negated(hp: dict[str, Any]) -> float:
    return -hartmann3(hp)


def tune(objective: Objective, seed: int, budget: int, parents: list[Observation] = (), transfer: bool = True):
    """The optimizer after ``budget`` sequential evaluations, warm-started from ``parents``."""
    optimizer = Optimizer(ranges=RANGES, objective_type="Minimize", random_seed=seed)
    for parent in parents:
        optimizer.add_parent(parent.hyperparameters, parent.objective, transfer=transfer)
    for _ in range(budget):
        (hp,) = optimizer.ask(1)
        optimizer.tell(hp, objective(hp))
    return optimizer


def own_best(optimizer: Optimizer, count: int) -> float:
    values = [o.objective for o in optimizer.history if not o.source][:count]
    return min(values)


@pytest.fixture(scope="module")
def parents() -> dict[str, list[Observation]]:
    """20-evaluation parent jobs on a shifted and on a negated Hartmann-3, per child seed."""
    return {
        kind: [tune(f, 100 + s, 20).history for s in range(4)]
        for kind, f in (("related", shifted), ("unrelated", negated))
    }


def test_related_parent_reaches_a_good_value_sooner(parents):
    cold = [own_best(tune(hartmann3, s, 8), 8) for s in range(4)]
    warm = [own_best(tune(hartmann3, s, 8, parents["related"][s]), 8) for s in range(4)]
    assert np.median(warm) < np.median(cold) - 0.3
    assert np.median(warm) < -3.0  # the optimum is -3.86; cold starts reach about -2.4 here


def test_unrelated_parent_costs_little(parents):
    cold = [own_best(tune(hartmann3, s, 14), 14) for s in range(4)]
    warm = [own_best(tune(hartmann3, s, 14, parents["unrelated"][s]), 14) for s in range(4)]
    assert np.median(warm) < np.median(cold) + 0.3


def test_an_unrelated_parent_gets_one_seed_and_a_related_one_gets_more(parents):
    def seeds_tried(history: list[Observation], objective: Objective) -> int:
        parent_keys = {SearchSpace(RANGES).key(o.hyperparameters) for o in history}
        child = tune(objective, 0, 6, history)
        own = [o for o in child.history if not o.source]
        return sum(SearchSpace(RANGES).key(o.hyperparameters) in parent_keys for o in own)

    assert seeds_tried(parents["unrelated"][0], hartmann3) == 1
    assert seeds_tried(parents["related"][0], hartmann3) >= 2


def test_first_suggestion_is_the_parents_best_even_though_the_parent_tried_it(parents):
    history = parents["related"][1]
    best = min(history, key=lambda o: o.objective)
    child = Optimizer(ranges=RANGES, objective_type="Minimize", random_seed=5)
    for parent in history:
        child.add_parent(parent.hyperparameters, parent.objective, transfer=True)
    assert child.ask(1) == [best.hyperparameters]


def test_identical_parents_skip_the_initial_design_and_transfer_parents_do_not(parents, monkeypatch):
    calls: list[int] = []
    original = BayesianStrategy._space_filling

    def spy(self, position, seen):
        calls.append(position)
        return original(self, position, seen)

    monkeypatch.setattr(BayesianStrategy, "_space_filling", spy)
    tune(hartmann3, 0, 3, parents["related"][0], transfer=False)
    assert calls == []
    tune(hartmann3, 0, 3, parents["related"][0], transfer=True)
    assert calls  # the child's own initial design still runs, seeded by the parents' best


def test_same_seed_and_parents_give_the_same_suggestions(parents):
    history = parents["unrelated"][2] + parents["related"][2]
    first, second = tune(hartmann3, 3, 7, history), tune(hartmann3, 3, 7, history)
    assert first.history == second.history
    restarted = make_strategy("Bayesian", SearchSpace(RANGES), "Minimize", 3)
    assert restarted.suggest(first.history, 2) == first.ask(2)


def test_prior_weight_follows_the_data_and_is_never_negative():
    encoding = Encoding(SearchSpace(RANGES))
    x = encoding.features(np.random.default_rng(0).random((12, 3)))
    m = np.sin(6 * x[:, 0]) + x[:, 1]
    gp = GaussianProcess(x, m, Hyperparameters(np.full(3, 0.3), 1.0, 1e-2), encoding.group_of_feature)
    assert prior_weight(gp, 2.0 * m, m) > 1.2
    assert prior_weight(gp, m, m) == pytest.approx(1.0, abs=0.2)
    assert prior_weight(gp, -m, m) == 0.0


def test_failed_or_lone_parent_jobs_are_handled():
    child = Optimizer(ranges=RANGES, objective_type="Minimize", random_seed=1)
    child.add_parent({"x0": 0.1, "x1": 0.1, "x2": 0.1}, None, transfer=True)
    child.add_parent({"x0": 0.4, "x1": 0.5, "x2": 0.6}, -1.0, transfer=True)
    assert child.ask(1) == [{"x0": 0.4, "x1": 0.5, "x2": 0.6}]
    for _ in range(7):  # into the model phase with a one-success parent
        for hp in child.ask(2):
            child.tell(hp, hartmann3(hp))
    assert len([o for o in child.history if not o.source]) == 15
