"""Real tuning jobs of the toy script, run once per module into their own SQLite store, for the chart tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from modeltune.store import Store

from helpers import run_to_end, toy_spec

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def viz_spec(name: str, strategy: str = "Random", max_jobs: int = 6, **overrides: Any) -> dict[str, Any]:
    """The toy spec plus a log-scaled ``lr`` range and a second metric, ``first`` (the epoch-1 loss)."""
    spec = toy_spec(name=name, strategy=strategy, limits={"max_jobs": max_jobs, "max_parallel_jobs": 2}, **overrides)
    spec["ranges"]["lr"] = {"type": "Continuous", "min": 1e-4, "max": 1.0}
    spec["training"]["metric_definitions"].append({"name": "first", "regex": r"epoch 1 loss: (-?[0-9.eE+-]+)"})
    return spec


@pytest.fixture(scope="package")
def jobs_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store holding ``rand`` and ``bayes`` (6 completed each), ``mixed`` (2 failed, 2 completed),
    ``allfail`` (every training job failed), ``stopped`` (one training job stopped with a value), ``child``
    (3, warm-started from ``rand`` with ``x`` narrowed to [0.2, 0.4]) and ``other`` (2, objective ``first``)."""
    home = tmp_path_factory.mktemp("viz-home")
    store = Store(f"sqlite:///{home / 'modeltune.db'}", home=home)
    run_to_end(store, viz_spec("rand"))
    run_to_end(store, viz_spec("bayes", strategy="Bayesian"))
    mixed = toy_spec(name="mixed", strategy="Grid", limits={"max_jobs": 4, "max_parallel_jobs": 2})
    del mixed["training"]["static_hyperparameters"]["mode"]
    mixed["ranges"] = {
        "mode": {"type": "Categorical", "values": ["crash", "ok"]},
        "k": {"type": "Integer", "min": 1, "max": 2},
    }
    run_to_end(store, mixed)
    run_to_end(store, toy_spec(name="allfail", mode="crash", limits={"max_jobs": 2, "max_parallel_jobs": 2}))
    stopped = toy_spec(
        name="stopped", mode="sleep", limits={"max_jobs": 1, "max_parallel_jobs": 1, "max_runtime_per_training_job": 1}
    )
    stopped["training"]["stop_grace_seconds"] = 1
    run_to_end(store, stopped)
    child = viz_spec("child", max_jobs=3, warm_start={"type": "IdenticalDataAndAlgorithm", "parents": ["rand"]})
    child["ranges"]["x"] = {"type": "Continuous", "min": 0.2, "max": 0.4}
    run_to_end(store, child)
    other = viz_spec("other", max_jobs=2)
    other["objective"] = {"metric": "first", "type": "Minimize"}
    run_to_end(store, other)
    return store


@pytest.fixture
def cli_env(jobs_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Point the real command line (subprocesses) at ``jobs_store``."""
    monkeypatch.setenv("MODELTUNE_STORE", jobs_store.url)
    monkeypatch.setenv("MODELTUNE_HOME", str(jobs_store.home))
    return jobs_store


@pytest.fixture(scope="package")
def browser() -> Any:
    """Headless Chromium (the Debian package) driven by Playwright."""
    if not CHROMIUM.exists():
        if os.environ.get("MODELTUNE_REQUIRE_CHROMIUM") == "1":
            pytest.fail("CI needs Chromium at /usr/bin/chromium: apt-get install -y chromium")
        pytest.skip("needs Chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
