"""The ask/tell Optimizer: results it did not suggest."""

from __future__ import annotations

import pytest

from modeltune import Optimizer

GRID = {"k": {"type": "Integer", "min": 1, "max": 4}, "kind": {"type": "Categorical", "values": ["a", "b"]}}


def test_observed_configurations_are_history_and_never_suggested_again():
    optimizer = Optimizer(ranges=GRID, objective_type="Minimize", strategy="Bayesian", random_seed=0)
    tried = [{"k": k, "kind": kind} for k in (1, 2, 3) for kind in ("a", "b")]
    for hp in tried:
        optimizer.observe(hp, float(hp["k"]))
    optimizer.observe({"k": 4, "kind": "a"}, None)
    assert optimizer.ask(2) == [{"k": 4, "kind": "b"}]  # the only configuration left
    assert [o.status for o in optimizer.history][-2:] == ["Failed", "InProgress"]
    assert [o.number for o in optimizer.history] == list(range(1, 9))


def test_observing_a_configuration_without_every_hyperparameter_names_the_missing_one():
    optimizer = Optimizer(ranges=GRID, objective_type="Minimize", random_seed=0)
    with pytest.raises(ValueError, match="missing: kind"):
        optimizer.observe({"k": 2}, 1.0)
