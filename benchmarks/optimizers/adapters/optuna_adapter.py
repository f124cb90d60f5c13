"""Optuna samplers (TPE default, TPE independent, GP) through ``study.ask`` / ``study.tell``.

Since Optuna 5.0 the default ``TPESampler()`` is the multivariate TPE for single-objective
studies; ``tpe-indep`` (``multivariate=False``) is the independent TPE that was the
default before.

Parallel asks call ``study.ask()`` several times before telling, which is how Optuna
runs parallel workers; its TPE (``constant_liar=True`` by default) and GP samplers take
the running trials into account.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from benchmarks.optimizers.adapters.base import Adapter, Pending

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _sampler(kind: str, seed: int) -> optuna.samplers.BaseSampler:
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "tpe-indep":
        return optuna.samplers.TPESampler(seed=seed, multivariate=False)
    if kind == "gp":
        import torch  # GPSampler needs it; one thread keeps two workers off each other's core

        torch.set_num_threads(1)
        return optuna.samplers.GPSampler(seed=seed)
    raise ValueError(f"unknown Optuna sampler {kind!r}")


class OptunaAdapter(Adapter):
    """An in-memory Optuna study with one of the samplers ``tpe``, ``tpe-indep``, ``gp``."""

    def __init__(self, ranges: Mapping[str, Any], seed: int, sampler: str):
        super().__init__(ranges, seed)
        self._study = optuna.create_study(direction="minimize", sampler=_sampler(sampler, seed))
        self._dists: dict[str, optuna.distributions.BaseDistribution] = {}
        for p in self.params:
            if p.kind == "cat":
                self._dists[p.name] = CategoricalDistribution(list(p.labels))
            elif p.kind == "int":
                self._dists[p.name] = IntDistribution(int(p.low), int(p.high), log=p.log)
            else:
                self._dists[p.name] = FloatDistribution(p.low, p.high, log=p.log)
        self._pending = Pending()

    def ask(self, n: int) -> list[dict[str, Any]]:
        configs = []
        for _ in range(n):
            trial = self._study.ask(self._dists)
            config = self.decode(trial.params)
            self._pending.add(config, trial)
            configs.append(config)
        return configs

    def tell(self, config: Mapping[str, Any], value: float) -> None:
        self._study.tell(self._pending.pop(config), value)

    def observe(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float]) -> None:
        trials = [
            optuna.trial.create_trial(
                params={p.name: p.encode(c[p.name]) for p in self.params}, distributions=self._dists, value=float(v)
            )
            for c, v in zip(configs, values)
        ]
        self._study.add_trials(trials)
