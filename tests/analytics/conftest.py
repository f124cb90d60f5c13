"""Real tuning jobs of the toy script in their own SQLite store, run once for the analytics tests."""

from __future__ import annotations

import pytest

from modeltune.store import Store

from helpers import run_to_end, toy_spec


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """``tuned`` (5 completed, an extra metric ``first``) and ``mixed`` (2 failed, 2 completed)."""
    home = tmp_path_factory.mktemp("analytics-home")
    store = Store(f"sqlite:///{home / 'modeltune.db'}", home=home)
    tuned = toy_spec(name="tuned", limits={"max_jobs": 5, "max_parallel_jobs": 2})
    tuned["training"]["metric_definitions"].append({"name": "first", "regex": r"epoch 1 loss: (-?[0-9.eE+-]+)"})
    run_to_end(store, tuned)
    mixed = toy_spec(name="mixed", strategy="Grid", limits={"max_jobs": 4, "max_parallel_jobs": 1})
    del mixed["training"]["static_hyperparameters"]["mode"]
    mixed["ranges"] = {
        "mode": {"type": "Categorical", "values": ["crash", "ok"]},
        "k": {"type": "Integer", "min": 1, "max": 2},
    }
    run_to_end(store, mixed)
    return store
