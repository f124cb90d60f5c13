"""modeltune's own strategies, driven through the public ``modeltune.Optimizer``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.optimizers.adapters.base import Adapter
from modeltune import Optimizer


class ModeltuneAdapter(Adapter):
    """A ``modeltune.Optimizer`` with the given strategy, minimising; ``budget`` is its ``max_jobs``."""

    def __init__(self, ranges: Mapping[str, Any], seed: int, strategy: str, budget: int | None = None):
        super().__init__(ranges, seed)
        self._opt = Optimizer(ranges, objective_type="Minimize", strategy=strategy, random_seed=seed, max_jobs=budget)

    def ask(self, n: int) -> list[dict[str, Any]]:
        return self._opt.ask(n)

    def tell(self, config: Mapping[str, Any], value: float) -> None:
        self._opt.tell(config, value)

    def observe(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float]) -> None:
        for config, value in zip(configs, values, strict=True):
            self._opt.observe(config, value)
