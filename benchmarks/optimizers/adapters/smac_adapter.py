"""SMAC3's hyperparameter-optimisation facade (random forest, log EI, Sobol start) through ask/tell.

Parallel asks call ``ask()`` several times before telling, as SMAC's own ask/tell
interface allows; the intensifier is told every result. The run's budget is the
scenario's ``n_trials``, since SMAC sizes its initial design from it (at most a quarter).
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ConfigSpace import Categorical, Configuration, ConfigurationSpace, Float, Integer
from smac import HyperparameterOptimizationFacade, Scenario
from smac.runhistory.dataclasses import TrialInfo, TrialValue

from benchmarks.optimizers.adapters.base import Adapter, Pending
from benchmarks.optimizers.adapters.params import Param

logging.getLogger("smac").setLevel(logging.ERROR)


def _hyperparameter(p: Param) -> Any:
    if p.kind == "cat":
        return Categorical(p.name, list(p.labels))
    if p.kind == "int":
        return Integer(p.name, (int(p.low), int(p.high)), log=p.log)
    return Float(p.name, (float(p.low), float(p.high)), log=p.log)


def _unused_target(config: Configuration, seed: int = 0) -> float:
    raise RuntimeError("the benchmark drives SMAC through ask/tell only")


class SmacAdapter(Adapter):
    """``HyperparameterOptimizationFacade`` with its defaults, deterministic target, ``n_trials`` = budget."""

    def __init__(self, ranges: Mapping[str, Any], seed: int, budget: int | None = None):
        super().__init__(ranges, seed)
        self._space = ConfigurationSpace(seed=seed)
        self._space.add([_hyperparameter(p) for p in self.params])
        self._dir = tempfile.TemporaryDirectory(prefix="smac-bench-")
        scenario = Scenario(
            self._space, deterministic=True, n_trials=budget or 100, seed=seed, output_directory=self._dir.name
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._smac = HyperparameterOptimizationFacade(
                scenario, _unused_target, overwrite=True, logging_level=logging.ERROR
            )
        self._pending = Pending()

    def ask(self, n: int) -> list[dict[str, Any]]:
        configs = []
        for _ in range(n):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                info = self._smac.ask()
            config = self.decode(dict(info.config))
            self._pending.add(config, info)
            configs.append(config)
        return configs

    def tell(self, config: Mapping[str, Any], value: float) -> None:
        info = self._pending.pop(config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._smac.tell(info, TrialValue(cost=float(value)), save=False)

    def observe(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float]) -> None:
        for c, v in zip(configs, values, strict=True):
            config = Configuration(self._space, values={p.name: p.encode(c[p.name]) for p in self.params})
            info = TrialInfo(config, seed=self.seed)
            self._smac.tell(info, TrialValue(cost=float(v)), save=False)
