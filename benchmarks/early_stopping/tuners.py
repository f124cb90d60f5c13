"""The compared methods behind one ask/report/tell interface, as the simulator drives them."""

from __future__ import annotations

import functools
import logging
import warnings
from abc import ABC, abstractmethod
from typing import Any

from benchmarks.early_stopping.problems import Problem


class Tuner(ABC):
    """A tuning method driven by the simulator.

    Call order per trial: ``ask`` once, ``report`` after each step (1, 2, ...) until it
    returns True or the last step, then ``tell`` once. Several trials run at a time.
    """

    @abstractmethod
    def ask(self) -> tuple[Any, dict[str, Any]]:
        """A new trial: (handle, config)."""

    @abstractmethod
    def report(self, handle: Any, value: float, step: int, last: bool) -> bool:
        """Record the value at ``step``; True means stop the trial now (ignored when ``last``)."""

    @abstractmethod
    def tell(self, handle: Any, value: float, stopped: bool) -> None:
        """The trial ended with ``value`` (its last reported value); ``stopped`` if before max_resource."""


def memoize_brackets() -> None:
    """Cache ``successive_halving.bracket_of`` (a pure function of its arguments).

    It builds a NumPy generator per call and ``SuccessiveHalvingRule.should_stop`` calls
    it for every job of the history on every report, which made it most of a Hyperband
    run's time (0.7 ms a call here). Caching changes no decision, only the speed.
    """
    from modeltune.stopping import successive_halving

    if not hasattr(successive_halving.bracket_of, "cache_info"):
        successive_halving.bracket_of = functools.lru_cache(maxsize=None)(successive_halving.bracket_of)


class ModeltuneTuner(Tuner):
    """``modeltune.optimizer.Optimizer`` with a strategy and early stopping setting."""

    def __init__(self, problem: Problem, seed: int, **options: Any):
        from modeltune.optimizer import Optimizer

        memoize_brackets()

        self.optimizer = Optimizer(problem.ranges, problem.objective_type, random_seed=seed, **options)

    def ask(self) -> tuple[Any, dict[str, Any]]:
        config = self.optimizer.ask(1)[0]
        return config, config

    def report(self, handle: Any, value: float, step: int, last: bool) -> bool:
        return self.optimizer.report(handle, value, step) is not None

    def tell(self, handle: Any, value: float, stopped: bool) -> None:
        self.optimizer.tell(handle, value, stopped=stopped)


class OptunaTuner(Tuner):
    """An Optuna study (TPE sampler, default settings) with a pruner, in ask-and-tell mode."""

    def __init__(self, problem: Problem, seed: int, pruner: str):
        import optuna

        optuna.logging.set_verbosity(logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        pruners = {
            "none": optuna.pruners.NopPruner,
            "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0),
            "hyperband": lambda: optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=problem.max_resource, reduction_factor=3
            ),
        }
        self.study = optuna.create_study(
            study_name=f"{problem.name}-{seed}",
            direction=problem.objective_type.lower(),
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=pruners[pruner](),
        )
        self.distributions = {name: _distribution(r) for name, r in problem.ranges.items()}

    def ask(self) -> tuple[Any, dict[str, Any]]:
        trial = self.study.ask(self.distributions)
        return trial, dict(trial.params)

    def report(self, handle: Any, value: float, step: int, last: bool) -> bool:
        handle.report(value, step)
        return not last and handle.should_prune()

    def tell(self, handle: Any, value: float, stopped: bool) -> None:
        from optuna.trial import TrialState

        if stopped:
            self.study.tell(handle, state=TrialState.PRUNED)
        else:
            self.study.tell(handle, value)


def _distribution(spec: dict[str, Any]) -> Any:
    from optuna.distributions import FloatDistribution, IntDistribution

    log = spec.get("scaling") == "Logarithmic"
    if spec["type"] == "Integer":
        return IntDistribution(int(spec["min"]), int(spec["max"]), log=log)
    return FloatDistribution(float(spec["min"]), float(spec["max"]), log=log)


def hyperband_settings(problem: Problem, sampler: str) -> dict[str, Any]:
    """Hyperband's settings for ``problem``: rungs from 1 step to max_resource, eta 3."""
    return {"min_resource": 1, "max_resource": problem.max_resource, "reduction_factor": 3, "sampler": sampler}


METHODS = {
    "mt-bayes": lambda p, s: ModeltuneTuner(p, s, strategy="Bayesian"),
    "mt-bayes-auto": lambda p, s: ModeltuneTuner(p, s, strategy="Bayesian", early_stopping="Auto"),
    "mt-hyperband": lambda p, s: ModeltuneTuner(
        p, s, strategy="Hyperband", hyperband=hyperband_settings(p, "Bayesian")
    ),
    "mt-hyperband-random": lambda p, s: ModeltuneTuner(
        p, s, strategy="Hyperband", hyperband=hyperband_settings(p, "Random")
    ),
    "optuna-tpe": lambda p, s: OptunaTuner(p, s, "none"),
    "optuna-tpe-median": lambda p, s: OptunaTuner(p, s, "median"),
    "optuna-tpe-hyperband": lambda p, s: OptunaTuner(p, s, "hyperband"),
}
"""Method name -> ``(problem, seed) -> Tuner``. ``mt-bayes`` is the no-early-stopping baseline."""


def make_tuner(method: str, problem: Problem, seed: int) -> Tuner:
    """A fresh tuner of ``method`` (or of a variant in ``variants.py``) for one run."""
    if method in METHODS:
        return METHODS[method](problem, seed)
    from benchmarks.early_stopping.variants import VARIANTS

    return VARIANTS[method](problem, seed)
