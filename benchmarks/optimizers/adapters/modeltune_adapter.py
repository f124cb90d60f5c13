"""modeltune's own strategies, driven through the public ``modeltune.Optimizer``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.optimizers.adapters.base import Adapter
from modeltune import Optimizer
from modeltune.strategies import Observation


class ModeltuneAdapter(Adapter):
    """A ``modeltune.Optimizer`` with the given strategy, minimising."""

    def __init__(self, ranges: Mapping[str, Any], seed: int, strategy: str):
        super().__init__(ranges, seed)
        self._opt = Optimizer(ranges, objective_type="Minimize", strategy=strategy, random_seed=seed)

    def ask(self, n: int) -> list[dict[str, Any]]:
        return self._opt.ask(n)

    def tell(self, config: Mapping[str, Any], value: float) -> None:
        self._opt.tell(config, value)

    def observe(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float]) -> None:
        # Optimizer has no public way to add results it did not suggest; its history is a
        # plain list of Observations, which is what a warm-started tuning job would hold.
        self._opt._history.extend(Observation(dict(c), "Completed", float(v)) for c, v in zip(configs, values))
