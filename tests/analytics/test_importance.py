"""Hyperparameter importance from a random forest over the scored trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modeltune.analytics import hyperparameter_importance
from modeltune.analytics.importance import IMPORTANCE_COLUMNS, importance_from_trials
from modeltune.errors import ModeltuneError
from modeltune.space import CategoricalRange, ContinuousRange, IntegerRange
from modeltune.store import Store

pytest.importorskip("sklearn")

RANGES = {
    "lr": ContinuousRange(min=1e-5, max=1.0),  # Auto resolves to Logarithmic
    "depth": IntegerRange(min=1, max=10),
    "kind": CategoricalRange(values=["a", "b", "c"]),
}


def trials(objective) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "lr": 10 ** rng.uniform(-5, 0, 60),
            "depth": rng.integers(1, 11, 60),
            "kind": rng.choice(["a", "b", "c"], 60),
            "TrainingJobStatus": "Completed",
        }
    )
    frame["FinalObjectiveValue"] = objective(frame)
    return frame


@pytest.mark.parametrize("method", ["permutation", "impurity"])
def test_the_hyperparameter_that_drives_the_objective_ranks_first(method: str) -> None:
    frame = importance_from_trials(trials(lambda f: np.log10(f["lr"]) ** 2), RANGES, method=method)

    assert list(frame.columns) == IMPORTANCE_COLUMNS
    assert frame["hyperparameter"].tolist()[0] == "lr" and frame["importance"].iloc[0] > 0.7
    assert frame["importance"].sum() == pytest.approx(1.0) and (frame["importance"] >= 0).all()
    assert frame["importance"].is_monotonic_decreasing and set(frame["method"]) == {method}


def test_categories_count_through_their_ordinal_code() -> None:
    frame = importance_from_trials(trials(lambda f: f["kind"].map({"a": 0.0, "b": 1.0, "c": 0.2})), RANGES)

    assert frame["hyperparameter"].iloc[0] == "kind"


def test_failed_trials_are_left_out_and_too_few_give_an_empty_ranking() -> None:
    few = trials(lambda f: f["depth"] * 1.0).head(5)
    few.loc[few.index[:2], "TrainingJobStatus"] = "Failed"

    assert importance_from_trials(few, RANGES).empty
    flat = importance_from_trials(trials(lambda f: f["depth"] * 0.0 + 1.0), RANGES)
    assert flat["importance"].tolist() == [0.0, 0.0, 0.0]


def test_from_the_store_every_tuned_hyperparameter_is_ranked(store: Store) -> None:
    frame = hyperparameter_importance(store, "tuned")

    assert set(frame["hyperparameter"]) == {"x", "k", "kind"}
    assert frame["importance"].sum() == pytest.approx(1.0)
    with pytest.raises(ModeltuneError, match="importance method must be one of permutation, impurity, not 'shap'"):
        hyperparameter_importance(store, "tuned", method="shap")
