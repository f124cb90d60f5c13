"""Optimizers behind one ask/tell interface: modeltune's strategies and the peers.

Peers are imported only when used, so a missing or broken peer is reported by
``unavailable()`` with its exact error instead of breaking the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from benchmarks.optimizers.adapters.base import Adapter

# (ranges, seed, budget) -> adapter; the budget is the run's number of evaluations (None: unknown).
Factory = Callable[[Mapping[str, Any], int, int | None], Adapter]


def _modeltune(strategy: str) -> Factory:
    def make(ranges: Mapping[str, Any], seed: int, budget: int | None) -> Adapter:
        from benchmarks.optimizers.adapters.modeltune_adapter import ModeltuneAdapter

        return ModeltuneAdapter(ranges, seed, strategy, budget)

    return make


def _optuna(sampler: str) -> Factory:
    def make(ranges: Mapping[str, Any], seed: int, budget: int | None) -> Adapter:
        from benchmarks.optimizers.adapters.optuna_adapter import OptunaAdapter

        return OptunaAdapter(ranges, seed, sampler)

    return make


def _hyperopt(ranges: Mapping[str, Any], seed: int, budget: int | None) -> Adapter:
    from benchmarks.optimizers.adapters.hyperopt_adapter import HyperoptAdapter

    return HyperoptAdapter(ranges, seed)


def _skopt(ranges: Mapping[str, Any], seed: int, budget: int | None) -> Adapter:
    from benchmarks.optimizers.adapters.skopt_adapter import SkoptAdapter

    return SkoptAdapter(ranges, seed)


def _smac(ranges: Mapping[str, Any], seed: int, budget: int | None) -> Adapter:
    from benchmarks.optimizers.adapters.smac_adapter import SmacAdapter

    return SmacAdapter(ranges, seed, budget)


# name -> (factory, True for modeltune's own strategies)
OPTIMIZERS: dict[str, tuple[Factory, bool]] = {
    "modeltune-bayesian": (_modeltune("Bayesian"), True),
    "modeltune-random": (_modeltune("Random"), True),
    "optuna-tpe": (_optuna("tpe"), False),
    "optuna-tpe-indep": (_optuna("tpe-indep"), False),
    "optuna-gp": (_optuna("gp"), False),
    "hyperopt-tpe": (_hyperopt, False),
    "skopt-gp": (_skopt, False),
    "smac-hpo": (_smac, False),
}

# A tiny space with every kind of range, to check an optimizer works before a long run.
_PROBE_RANGES = {
    "x": {"type": "Continuous", "min": 1e-3, "max": 1.0, "scaling": "Logarithmic"},
    "n": {"type": "Integer", "min": 1, "max": 5},
    "c": {"type": "Categorical", "values": ["a", "b"]},
}


def make_adapter(name: str, ranges: Mapping[str, Any], seed: int, budget: int | None = None) -> Adapter:
    """A fresh adapter for optimizer ``name``; ``budget``: the run's evaluations, for optimizers that use it."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name][0](ranges, seed, budget)


def is_modeltune(name: str) -> bool:
    """True for modeltune's own strategies, False for peers."""
    return OPTIMIZERS[name][1]


def unavailable(names: list[str]) -> dict[str, str]:
    """Optimizers that fail to import or to run one ask/tell, with the exact error."""
    failed = {}
    for name in names:
        try:
            adapter = make_adapter(name, _PROBE_RANGES, 0)
            for config in adapter.ask(2):
                adapter.tell(config, 1.0)
        except Exception as exc:  # noqa: BLE001 - any failure means "not available", recorded verbatim
            failed[name] = f"{type(exc).__name__}: {exc}"
    return failed


__all__ = ["OPTIMIZERS", "Adapter", "is_modeltune", "make_adapter", "unavailable"]
